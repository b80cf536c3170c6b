"""Backup and DR model on hand-checkable cities: one system or a few, links and DR clusters
sized so that every answer is computed here by arithmetic."""

from __future__ import annotations

import pytest

from model import drlevels
from model.schema import Arch, NodeGroup, SystemState, ZoneKind
from simulate import backup, failover
from simulate.backup import GIB, Copy
from simulate.settings import BackupSettings
from tests.simulate.cities import system, with_, zone

QUIET = {"link_outages": False, "data_growth_per_year": 0.0, "restore_failure_rate": 0.0}
BIG_DR = [NodeGroup(arch=Arch.amd64, nodes=10, node_vcpu=64, node_memory_gib=512)]


def _city(city, systems, offsite_mbps=1000, dr_mbps=1000, dr_paths=1, groups=BIG_DR, offsite=True):
    sites = []
    for site in city.city.sites:
        role = site.role.value
        if role == "backup_offsite" and not offsite:
            continue
        update = {
            "link_mbps": {"backup_offsite": offsite_mbps, "dr_same_city": dr_mbps}.get(
                role, site.link_mbps
            )
        }
        if role == "dr_same_city":
            update.update(link_paths=dr_paths, node_groups=groups)
        sites.append(site.model_copy(update=update))
    zones = [zone("z", nodes=4), zone("x", nodes=4, kind=ZoneKind.xinchuang)]
    return with_(city, systems=systems, sites=sites, zones=zones)


def _one(city, level=2, data_gib=500.0, change=0.05, zone_name="z", **kw):
    s = system(
        city,
        "one",
        dr_level=level,
        data_gib=data_gib,
        daily_change_ratio=change,
        target_zone=zone_name,
        department=city.departments[0].code,
        classification=next(
            x for x in city.systems if x.state == SystemState.on_cloud
        ).classification,
    )
    return _city(city, [s], **kw), s


def test_one_backup_transfer_matches_data_over_effective_throughput(city):
    m, _ = _one(city, data_gib=500.0, offsite_mbps=1000)
    cfg = BackupSettings(days=1, full_every_days=1, compression=0.5, dedup=0.8, **QUIET)
    r = backup.run(m, cfg, seed=1)
    expected_h = 500 * GIB * 0.5 * 0.8 / (1000e6 / 8) / 3600
    assert r["nights"][0]["window_h"] == pytest.approx(expected_h, abs=1e-6)
    assert r["links"]["backup_offsite"]["delivered_gib"] == pytest.approx(500 * 0.4, rel=1e-6)


def test_data_grows_over_the_year(city):
    m, _ = _one(city, data_gib=100.0, offsite_mbps=10_000)
    cfg = BackupSettings(days=3, full_every_days=1, compression=1, dedup=1, link_outages=False)
    r = backup.run(m, cfg.model_copy(update={"data_growth_per_year": 1.0}), seed=1)
    for n in r["nights"]:  # a full at window open (1 h) of night d: 100 × 2^(t / 1 year)
        t = n["night"] * 86400 + 3600
        assert n["gib"] == pytest.approx(100 * 2 ** (t / (365 * 86400)), abs=1e-3)


def test_fulls_are_staggered_by_size_and_jobs_go_by_level_then_size(city):
    sizes = [700, 600, 500, 400, 300, 200, 100]
    systems = [
        system(city, f"s{k}", data_gib=float(g), target_zone="z") for k, g in enumerate(sizes)
    ]
    nights = backup.full_nights(systems, 7)
    assert sorted(nights.values()) == list(range(7))  # one full a night
    assert backup.full_nights(systems, 3) == {
        "s0": 0,
        "s1": 1,
        "s2": 2,
        "s3": 2,
        "s4": 1,
        "s5": 0,
        "s6": 0,
    }
    # priority: with one stream the level-2 system goes first although smaller and later by id
    a = system(city, "a-big", data_gib=800.0, dr_level=1, target_zone="z")
    b = system(city, "b-small", data_gib=100.0, dr_level=2, target_zone="z")
    m = _city(city, [a, b], offsite_mbps=1000)
    cfg = BackupSettings(days=2, full_every_days=1, streams=1, compression=1, dedup=1, **QUIET)
    r = backup.run(m, cfg, seed=1)
    per_gib = GIB / (1000e6 / 8)
    assert r["nights"][0]["window_h"] == pytest.approx(900 * per_gib / 3600, abs=1e-6)
    rows = {x["id"]: x for x in r["systems"]}
    # the worst moment is just before the second night's copy lands: the small one goes
    # first (snapshot at 1 h, lands 100 GiB later); the big one's snapshot is taken when it
    # gets the stream, 100 GiB later, and lands 900 GiB after the window opens
    assert rows["b-small"]["rpo_s"] == pytest.approx(86400 + 100 * per_gib, abs=1e-3)
    assert rows["a-big"]["rpo_s"] == pytest.approx(86400 + 800 * per_gib, abs=1e-3)


def test_an_incremental_counts_only_with_its_chain():
    # a full taken at 100 completes at 500; an incremental at 200 lands first, at 300: it is
    # restorable only from 500, and at 400 the newest restorable copy is the seed at 0
    chain = [Copy(0, 0, True, 10, 0), Copy(100, 100, True, 10, 500), Copy(200, 200, False, 1, 300)]
    assert backup.restore_point(chain, 400) == (0, 10)
    assert backup.restore_point(chain, 600) == (200, 11)
    assert backup.restorable_since(chain) == [(0, 0), (500, 100), (500, 200)]
    assert backup.worst_gap([chain], 600) == pytest.approx(500 - 0)
    # a chain whose full never completes restores nothing newer
    broken = [
        Copy(0, 0, True, 10, 0),
        Copy(100, 100, True, 10, None),
        Copy(200, 200, False, 1, 300),
    ]
    assert backup.restore_point(broken, 1000) == (0, 10)
    assert backup.worst_gap([broken], 1000) == 1000


def test_rpo_violation_when_the_link_cannot_carry_the_backup(city):
    m, s = _one(city, level=2, data_gib=2000.0, offsite_mbps=1)
    r = backup.run(m, BackupSettings(days=9, full_every_days=1, **QUIET), seed=1)
    assert r["systems"][0]["rpo_s"] > drlevels.level(2).rpo_bound_s
    assert r["rpo_violations"] == [s.id]
    assert r["window"]["nights_over"] == 9 and r["nights"][1]["skipped"] == 1


def test_a_replication_link_below_the_write_rate(city):
    # level 5: writes of 1000 GiB × 0.5 a day, compressed by half, into a 10 Mbit/s DR link
    # with no other site: the backlog grows at (W − c) and the lag at (1 − c/W) per second
    m, s = _one(city, level=5, data_gib=1000.0, change=0.5, dr_mbps=10, offsite=False)
    cfg = BackupSettings(days=2, compression=0.5, **QUIET)
    r = backup.run(m, cfg, seed=1)
    w = 1000 * GIB * 0.5 / 86400 * 0.5  # bytes/s: 24.9 Mbit/s
    c = 10e6 / 8
    link = r["links"]["dr_same_city"]
    assert link["replication_shortfall_mbps"] == pytest.approx((w - c) * 8 / 1e6, abs=1e-3)
    assert r["replication_violations"] == [
        {
            "link": "dr_same_city",
            "site": "dr-dc",
            "shortfall_mbps": link["replication_shortfall_mbps"],
        }
    ]
    lag = (1 - c / w) * 2 * 86400
    assert link["replication_max_lag_s"] == pytest.approx(lag, rel=1e-6)
    row = r["systems"][0]
    assert row["rpo_s"] == pytest.approx(lag, rel=1e-6) and not row["rpo_ok"]


def test_replication_lag_carries_through_an_outage_and_drains():
    # writes of 1 B/s on a 3 B/s link, down from t=10 to t=110: the backlog is 100 B at 110
    # (lag 100 s) and drains at 3 − 1 = 2 B/s, empty at t=160; a 100 B backup flow gets
    # the 2 B/s left (20 B by t=10), nothing while down or draining, then 2 B/s: done at 200
    import simpy

    from simulate.flows import Link

    env = simpy.Environment()
    link = Link(env, "dr", 3.0, write_rate=1.0)
    flow = link.transfer(100.0)

    def outage():
        yield env.timeout(10)
        link.set_up(False)
        yield env.timeout(100)
        link.set_up(True)

    env.process(outage())
    env.run(until=300)
    link._advance()
    assert link.max_lag_s == pytest.approx(100.0)
    assert link.lagging_s == pytest.approx(150.0)
    assert link.backlog == 0 and flow.finished == pytest.approx(200.0)


def test_a_restore_too_big_for_its_bound(city):
    # level 3 keeps its copy at the DR site: the restore reads data × compression from the
    # DR storage into the DR cluster, then takes over; 10 TB at 100 Mbit/s is days
    cfg = BackupSettings(days=1, dr_restore_mbps=100, compression=0.5, **QUIET)
    m, s = _one(city, level=3, data_gib=10_000.0, dr_mbps=1000)
    r = backup.run(m, cfg, seed=1)
    row = r["systems"][0]
    restore = 10_000 * GIB * 0.5 / (100e6 / 8)
    assert row["restore_from"] == "dr-dc"
    # the newest DR copy: the seed plus the batches' changes since (5% a day, 6-hourly)
    assert row["restore_s"] == pytest.approx(restore * row["restore_gib"] / 5000, rel=1e-6)
    assert row["restore_gib"] == pytest.approx(5000 * (1 + 0.05 * 19 / 24), rel=1e-6)
    assert row["rto_s"] == pytest.approx(row["restore_s"] + drlevels.level(3).takeover_h * 3600)
    # about 5 days against level 3's bound of 2 days: a violation, and the gate's no-go
    assert row["rto_s"] > 4.5 * 86400 and drlevels.level(3).rto_bound_s == 2 * 86400
    assert row["rto_ok"] is False and r["rto_violations"] == [s.id]
    # the same data at 1 Gbit/s restores in half a day: within the bound
    fast = backup.run(m, cfg.model_copy(update={"dr_restore_mbps": 1000}), seed=1)
    assert fast["systems"][0]["rto_ok"] is True and fast["rto_violations"] == []


def test_a_restore_that_fails_its_verification_is_read_again_then_given_up(city):
    # level 3, 1000 GiB × 0.5 from the DR storage at 1000 Mbit/s: one read is
    # 500 GiB / 125 MB/s; every attempt fails (rate 1): three reads, then no recovery at all
    cfg = BackupSettings(days=1, dr_restore_mbps=1000, compression=0.5, **QUIET)
    m, s = _one(city, level=3, data_gib=1000.0, dr_mbps=1000)
    good = backup.run(m, cfg, seed=1)
    row = good["systems"][0]
    read = row["restore_gib"] * GIB / (1000e6 / 8)
    assert row["restore_s"] == pytest.approx(read, rel=1e-6) and row["restore_attempts"] == 1
    assert row["rto_ok"] is True and good["restore_failures"] == {}
    bad = backup.run(
        m, cfg.model_copy(update={"restore_failure_rate": 1.0, "restore_attempts": 3}), seed=1
    )
    row = bad["systems"][0]
    assert row["restore_attempts"] == 3 and row["restore_s"] == pytest.approx(3 * read, rel=1e-6)
    assert row["rto_s"] is None and row["rto_ok"] is False and bad["rto_violations"] == [s.id]
    assert "failed 3 time(s)" in bad["restore_failures"][s.id]
    assert bad["dr_host_problems"] == {}  # it had a place to run; its data was the problem


def test_a_restore_path_outage_delays_the_restore(city):
    # level 2 restores from the off-site copy over the wide-area path; with outages on (a
    # path failure every 2 h on average, 1 h repairs) a restore is never faster than without
    # and, over a few seeds, slower: the time its path was down while it waited
    cfg = BackupSettings(days=1, compression=1, **QUIET)
    m, s = _one(city, level=2, data_gib=2000.0, offsite_mbps=500)
    needs = [failover.Need(s, 2000 * GIB, "offsite")]
    base = failover.recover(m, cfg, needs, 1)[s.id].restore_s
    assert base == pytest.approx(2000 * GIB / (500e6 / 8), rel=1e-9)
    flaky = cfg.model_copy(
        update={"link_outages": True, "link_mtbf_days": 2 / 24, "outage_mean_h": 1.0}
    )
    times = [failover.recover(m, flaky, needs, seed)[s.id].restore_s for seed in range(5)]
    assert all(t >= base - 1e-6 for t in times) and max(times) > base + 3600


def test_restores_share_their_paths_and_standby_only_takes_over(city):
    # two level-2 systems restore from the off-site copies at once over the path off-site →
    # DR site (the smaller link, 500 Mbit/s): each at half of it; a level-4 standby only
    # takes over
    def mk(sid, lvl, g):
        return system(city, sid, dr_level=lvl, data_gib=g, target_zone="z")

    m = _city(
        city,
        [mk("a", 2, 100.0), mk("b", 2, 100.0), mk("c", 4, 5000.0)],
        offsite_mbps=500,
        dr_mbps=2000,
    )
    rows = {
        r["id"]: r
        for r in backup.run(m, BackupSettings(days=1, compression=1, **QUIET), seed=1)["systems"]
    }
    for sid in "ab":
        gib = rows[sid][
            "restore_gib"
        ]  # the newest off-site copy: the seed full plus one incremental
        assert rows[sid]["restore_from"] == "offsite-backup"
        assert rows[sid]["restore_s"] == pytest.approx(2 * gib * GIB / (500e6 / 8), rel=1e-5)
    assert (
        rows["c"]["rto_s"] == drlevels.level(4).takeover_h * 3600 and rows["c"]["restore_gib"] == 0
    )


def test_a_dr_cluster_too_small_for_a_city_wide_failover(city):
    # the DR cluster has two 64-vCPU nodes: three systems of 48 vCPU fit only two; the
    # level-5 one goes first, then the larger level-2 one; the third finds no room, and the
    # 信创 system finds no arm64 node at all
    def mk(sid, lvl, cpu, z="z"):
        return system(
            city, sid, dr_level=lvl, vcpu=cpu, memory_gib=8.0, data_gib=10.0, target_zone=z
        )

    systems = [mk("p", 2, 48.0), mk("q", 5, 48.0), mk("r", 2, 40.0), mk("x", 2, 4.0, "x")]
    small = [NodeGroup(arch=Arch.amd64, nodes=2, node_vcpu=64, node_memory_gib=512)]
    m = _city(city, systems, groups=small)
    r = backup.run(m, BackupSettings(days=1, **QUIET), seed=1)
    assert set(r["dr_host_problems"]) == {"r", "x"}
    assert (
        "no arm64 nodes" in r["dr_host_problems"]["x"] and "no room" in r["dr_host_problems"]["r"]
    )
    rows = {x["id"]: x for x in r["systems"]}
    assert rows["r"]["rto_s"] is None and rows["r"]["rto_ok"] is False
    assert rows["p"]["rto_s"] is not None and set(r["rto_violations"]) >= {"r", "x"}
    arm = [*small, NodeGroup(arch=Arch.arm64, nodes=1, node_vcpu=8, node_memory_gib=64)]
    assert failover.place(_city(city, systems, groups=arm), systems)["x"] is None


def test_a_dual_link_is_down_only_when_both_paths_are(city):
    cfg = BackupSettings(days=30, link_mtbf_days=1, outage_mean_h=6, data_growth_per_year=0)
    single = backup.run(
        _one(city, level=5, data_gib=1000.0, dr_mbps=1000, dr_paths=1)[0], cfg, seed=2
    )
    dual = backup.run(
        _one(city, level=5, data_gib=1000.0, dr_mbps=1000, dr_paths=2)[0], cfg, seed=2
    )
    one, two = single["links"]["dr_same_city"], dual["links"]["dr_same_city"]
    # the MTBF is the link's: about 30 path failures in 30 days, however many paths
    assert one["paths"] == 1 and one["outages"] == one["path_outages"] > 10
    assert (
        two["paths"] == 2 and 10 < two["path_outages"] < 60 and two["outages"] < two["path_outages"]
    )
    assert two["outage_h"] < one["outage_h"]


def test_backup_of_the_sample_city_is_deterministic_and_complete(city):
    cfg = BackupSettings(days=4, link_mtbf_days=2)
    a = backup.run(city, cfg, seed=7)
    assert a == backup.run(city, cfg, seed=7)
    assert a["schema_version"] == 2
    assert len(a["systems"]) == len(city.on_cloud_systems(max(s.wave or 0 for s in city.systems)))
    assert sum(b["systems"] for b in a["by_level"].values()) == len(a["systems"])
    for r in a["systems"]:
        assert r["rpo_ok"] == drlevels.rpo_ok(r["dr_level"], r["rpo_s"])
    assert a["dr_host_problems"] == {} and a["replication_violations"] == []


def test_backup_without_any_dr_link_is_a_clear_error(city):
    sites = [site.model_copy(update={"link_mbps": None}) for site in city.city.sites]
    with pytest.raises(backup.NoDrLinks, match="link_mbps"):
        backup.run(with_(city, sites=sites), BackupSettings(days=1), seed=1)
