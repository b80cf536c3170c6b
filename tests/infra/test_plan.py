"""infra/plan.py: placement, wave gating, DR mapping and backup cadence — no Pulumi needed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra import plan as planner
from model.drlevels import LEVELS
from model.schema import Classification, SystemState


@pytest.fixture(scope="module")
def full(city):
    """The sample city after its last wave, with one warm replica failed over."""
    last = max(s.wave for s in city.systems if s.wave is not None)
    failover = next(
        s.id
        for s in city.on_cloud_systems(last)
        if s.dr_level >= 5
        and s.classification == Classification.non_classified
        and s.department not in city.sensitive_departments
    )
    return planner.plan(city, last, {failover}), failover


def test_sensitive_systems_and_their_departments_only_on_isolated_clusters(city, full):
    p, _ = full
    sensitive = city.sensitive_departments
    assert sensitive, "the sample city has departments owning sensitive systems"
    for cluster, s, _ in p.workloads:
        if s.classification == Classification.sensitive or s.department in sensitive:
            assert p.clusters[cluster].kind == "isolated", (s.id, cluster)
    for cluster, d in p.tenants:
        if d.code in sensitive:
            assert p.clusters[cluster].kind == "isolated", (d.code, cluster)


def _sensitive_system(city):
    return next(
        s
        for s in city.systems
        if s.classification == Classification.sensitive and s.state == SystemState.on_cloud
    )


def _colleague_of_sensitive(city):
    depts = city.sensitive_departments
    return next(
        s
        for s in city.on_cloud_systems()
        if s.department in depts and s.classification != Classification.sensitive
    )


@pytest.mark.parametrize(
    "pick", [_sensitive_system, _colleague_of_sensitive], ids=["sensitive", "same-department"]
)
def test_a_move_out_of_the_isolated_zone_is_refused(city, pick):
    bad = pick(city)
    shared = next(z.name for z in city.city.zones if z.kind.value == "shared")
    systems = [
        s.model_copy(update={"target_zone": shared}) if s.id == bad.id else s for s in city.systems
    ]
    m = type(city)(
        city.source, city.city, city.departments, systems, city.machine_rooms, city.network
    )
    with pytest.raises(planner.PlacementError, match=bad.id):
        planner.plan(m)


def test_unknown_failover_system_is_refused(city):
    with pytest.raises(planner.PlacementError, match="no-such-system"):
        planner.plan(city, None, {"no-such-system"})


def test_legacy_systems_appear_only_from_their_wave(city):
    legacy = [
        s
        for s in city.systems
        if s.state == SystemState.legacy and s.wave is not None and s.target_zone
    ]
    for wave in (None, 1, 2, 3):
        placed = {s.id for _, s, _ in planner.plan(city, wave).workloads}
        for s in legacy:
            assert (s.id in placed) == (wave is not None and s.wave <= wave), (s.id, s.wave, wave)
    never = {
        s.id
        for s in city.systems
        if s.classification == Classification.classified or s.state == SystemState.retired
    }
    assert never and not never & {s.id for _, s, _ in planner.plan(city, 99).workloads}


def test_dr_follows_the_level_table(city, full):
    p, failover = full
    sensitive = city.sensitive_departments
    rpo = {b.system: b for b in p.backups if b.system}
    for cluster, s, replicas in p.workloads:
        if cluster != p.dr_cluster:
            continue
        assert LEVELS[s.dr_level].mode == "continuous" and s.department not in sensitive
        assert replicas == (s.replicas if s.id == failover else 0)
    for _, s, _ in p.workloads:
        lvl = LEVELS[s.dr_level]
        isolated_only = s.department in sensitive
        if lvl.mode == "continuous" and not isolated_only:
            assert p.dr_cluster in p.placed(s.id)
        if lvl.mode == "batch" and not isolated_only:
            assert rpo[s.id].location == planner.dr_location(p.dr_site, p.placed(s.id)[0])
        if isolated_only and lvl.copy_site == "dr_same_city":
            assert s.id in p.dr_gaps and rpo[s.id].location == p.isolated_backup_site


def test_every_migrated_system_is_covered_by_a_daily_backup(full):
    p, _ = full
    daily = {(b.cluster, b.namespace) for b in p.backups if b.system is None}
    for cluster, s, _ in p.workloads:
        if cluster != p.dr_cluster:
            assert (cluster, next(d.slug for c, d in p.tenants if d.code == s.department)) in daily
    for b in p.backups:
        if b.system is None:
            local = b.department in p.sensitive_departments
            assert b.location == (p.isolated_backup_site if local else p.offsite_site)
            assert b.cron.count(" ") == 4


def test_sensitive_backups_never_leave_the_city(city, full):
    p, _ = full
    cities = {s.name: s.city for s in city.city.sites}
    home = city.site("primary").city
    sensitive = [b for b in p.backups if b.department in p.sensitive_departments]
    assert sensitive and all(cities[b.location] == home for b in sensitive)
    assert all(b.location != p.offsite_site for b in sensitive)


def test_a_city_with_sensitive_data_and_no_isolated_backup_site_is_refused(city):
    import dataclasses

    sites = [s for s in city.city.sites if s.role.value != "backup_isolated"]
    bare = dataclasses.replace(city, city=city.city.model_copy(update={"sites": sites}))
    with pytest.raises(planner.PlacementError, match="backup_isolated"):
        planner.plan(bare)


def _xinchuang_continuous(city):
    return [
        s
        for s in city.on_cloud_systems()
        if city.zones[s.target_zone].kind.value == "xinchuang"
        and LEVELS[s.dr_level].mode == "continuous"
    ]


def test_xinchuang_replicas_keep_their_arch_or_the_plan_names_the_gap(city):
    import dataclasses

    xin = _xinchuang_continuous(city)
    assert xin, "the sample city has xinchuang systems with a warm replica"
    p = planner.plan(city)
    for s in xin:
        assert p.dr_cluster in p.placed(s.id) and p.arches[s.id] == "arm64"

    def amd64_only(site):
        groups = [g for g in site.node_groups if g.arch.value == "amd64"]
        return site.model_copy(update={"node_groups": groups})

    sites = [amd64_only(s) if s.role.value == "dr_same_city" else s for s in city.city.sites]
    amd_only = dataclasses.replace(city, city=city.city.model_copy(update={"sites": sites}))
    p = planner.plan(amd_only)
    for s in xin:
        assert p.dr_cluster not in p.placed(s.id)
        assert "arm64" in p.dr_gaps[s.id] and "amd64" in p.dr_gaps[s.id]


def test_rpo_schedules_meet_the_level_bound():
    for lvl in LEVELS.values():
        if lvl.mode == "batch":
            step = planner.backup_interval(lvl.rpo_bound_s)
            assert 2 * step <= lvl.rpo_bound_s


@given(st.floats(min_value=600, max_value=30 * 86400, allow_nan=False))
def test_backup_interval_is_the_longest_step_within_half_the_rpo(rpo):
    step = planner.backup_interval(rpo)
    assert 2 * step <= rpo
    longer = [s for s in planner._STEPS if s > step]
    assert not longer or 2 * longer[0] > rpo


@given(st.sampled_from(planner._STEPS), st.text(min_size=1, max_size=20))
def test_cron_lines_are_valid_and_repeat_at_the_interval(step, key):
    fields = planner.cron(step, key).split()
    assert len(fields) == 5
    minute, hour = fields[0], fields[1]
    if step < 3600:
        assert minute == f"*/{step // 60}" and hour == "*"
    elif step < 86400:
        assert 0 <= int(minute) < 60 and hour == f"*/{step // 3600}" and 24 % (step // 3600) == 0
    else:
        assert 0 <= int(minute) < 60 and 0 <= int(hour) < 5
    assert fields[2:] == ["*", "*", "*"]
    assert planner.cron(step, key) == planner.cron(step, key)


def test_quotas_fit_their_zone(city):
    for zone in city.city.zones:
        depts = [d for d in city.departments if d.zone == zone.name]
        assert sum(d.quota.cpu for d in depts) <= zone.vcpu_capacity
        assert sum(d.quota.memory_gib for d in depts) <= zone.memory_capacity_gib
