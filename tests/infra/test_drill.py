"""The DR drill's plain half (infra/drill.py): who has a warm replica, and the failover list."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra import drill
from infra import plan as planner


def test_every_warm_replica_of_the_plan_is_a_standby_and_nothing_else_is(city):
    p = planner.plan(city)
    warm = {s.id: (s, r) for c, s, r in p.workloads if c == p.dr_cluster}
    assert warm, "the sample city has warm replicas"
    for s in city.systems:
        if s.id in warm:
            got = drill.standby(city, s.id)
            assert (got.cluster, got.namespace, got.replicas) == (
                p.dr_cluster,
                city.departments_by_code[s.department].slug,
                s.replicas,
            )
            assert got.kind == ("StatefulSet" if s.data_gib > 0 else "Deployment")
            assert s.dr_level >= 5
        else:
            with pytest.raises(drill.DrillError):
                drill.standby(city, s.id)


def test_a_system_below_level_5_is_refused_with_how_it_recovers(city):
    s = next(s for s in city.on_cloud_systems() if s.dr_level < 5)
    with pytest.raises(
        drill.DrillError,
        match=rf"{s.id} has DR level {s.dr_level} .*only levels 5–6 .*Velero restore",
    ):
        drill.standby(city, s.id)


def test_a_dr_gap_is_refused_with_the_gap(city):
    gap, why = next(iter(planner.plan(city).dr_gaps.items()))
    with pytest.raises(drill.DrillError, match="isolated zone") as caught:
        drill.standby(city, gap)
    assert why in str(caught.value)


def test_an_unknown_system_is_refused(city):
    with pytest.raises(drill.DrillError, match="unknown system 'nope-001'"):
        drill.standby(city, "nope-001")


@given(
    st.lists(st.sampled_from(["a-001", "b-002", "c-003", "d-004"])),
    st.sampled_from(["a-001", "e-005"]),
    st.booleans(),
)
def test_failover_list_adds_or_removes_exactly_one_id(current, system_id, active):
    new = drill.failover_list(current, system_id, active)
    assert new == sorted(set(new))
    assert set(new) - {system_id} == set(current) - {system_id}
    assert (system_id in new) is active
