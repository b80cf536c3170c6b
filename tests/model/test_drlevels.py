"""The GB/T 20988 table (`model/drlevels.py`) and the model's check of `dr_level` against it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model import InvalidModel, drlevels, load_city
from tests.helpers import edit_yaml


def test_dr_level_table_is_complete_and_ordered():
    assert sorted(drlevels.LEVELS) == [1, 2, 3, 4, 5, 6]
    rpo = [drlevels.level(n).rpo_bound_s for n in range(1, 7)]
    assert rpo == sorted(rpo, reverse=True), "a higher level never allows more data loss"
    assert drlevels.rpo_ok(3, 86400) and not drlevels.rpo_ok(3, 86401)
    assert drlevels.rpo_ok(6, 0.0) and not drlevels.rpo_ok(6, 1.0)
    assert drlevels.rto_ok(6, 3600) is False and drlevels.rto_ok(6, 15 * 60)
    # every level has an RTO bound, never looser than the level below it allows
    rto = [drlevels.level(n).rto_bound_s for n in range(1, 7)]
    assert rto == sorted(rto, reverse=True)
    assert drlevels.rto_ok(1, 7 * 86400) and not drlevels.rto_ok(1, 7 * 86400 + 1)
    assert drlevels.rto_ok(2, 3 * 86400) and not drlevels.rto_ok(2, 3 * 86400 + 1)
    assert drlevels.rto_ok(3, 2 * 86400) and not drlevels.rto_ok(3, 2 * 86400 + 1)
    # levels 1–3: the standard's range is open-ended, so the bound is the city's policy, and it
    # is never below the standard's own lower end (2 days, 24 h, 12 h)
    for n, floor_h in ((1, 48), (2, 24), (3, 12)):
        lvl = drlevels.level(n)
        assert lvl.rto_source == drlevels.CITY_POLICY and lvl.rto_bound_s >= floor_h * 3600
    assert {drlevels.level(n).rto_source for n in (4, 5, 6)} == {drlevels.STANDARD}
    with pytest.raises(KeyError, match="levels 1–6"):
        drlevels.level(7)


def _line_of_dr_level(path, index: int) -> int:
    """1-based line of the `dr_level:` key of the `index`-th system in systems.yaml."""
    lines = path.read_text(encoding="utf-8").splitlines()
    hits = [i + 1 for i, ln in enumerate(lines) if ln.strip().startswith("dr_level:")]
    return hits[index]


@pytest.mark.parametrize("bad", [0, 7, -1, 20988])
def test_a_dr_level_outside_the_table_is_a_located_error(small_city, bad):
    edit_yaml(small_city, "systems.yaml", lambda d: d["systems"][1].update(dr_level=bad))
    with pytest.raises(InvalidModel) as info:
        load_city(small_city)
    (e,) = [e for e in info.value.errors if e.field.endswith("dr_level")]
    assert e.path.endswith("systems.yaml") and e.field == "systems[1].dr_level"
    assert e.line == _line_of_dr_level(small_city / "systems.yaml", 1)
    assert e.message == f"GB/T 20988 has levels 1–6, not {bad}"


@given(st.integers(min_value=-10, max_value=30))
def test_the_model_accepts_exactly_the_tables_levels(n):
    from pydantic import ValidationError

    from model.schema import System

    row = {
        "id": "sys-a",
        "department": "GAJ",
        "name": "系统",
        "classification": "non_classified",
        "state": "on_cloud",
        "target_zone": "shared",
        "vcpu": 1,
        "memory_gib": 1,
        "storage_gib": 1,
        "data_gib": 1,
        "daily_change_ratio": 0.1,
        "dr_level": n,
        "ipv6_ready": True,
        "network": "extranet",
    }
    try:
        System.model_validate(row)
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted == (n in drlevels.LEVELS)
