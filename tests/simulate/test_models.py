"""Backup and rollout models on the sample city and on small cities made from it:
invariants, closed forms where they exist, determinism by seed."""

from __future__ import annotations

import dataclasses
import math

import pytest

from model.schema import SystemState
from simulate import backup, drlevels, rollout
from simulate.backup import GIB
from simulate.settings import BackupSettings, RolloutSettings


def _with(m, systems=None, sites=None, zones=None):
    city = m.city.model_copy(
        update={k: v for k, v in (("sites", sites), ("zones", zones)) if v is not None}
    )
    return dataclasses.replace(
        m, city=city, systems=systems if systems is not None else m.systems, _cache={}
    )


# --- backup --------------------------------------------------------------------------


def _one_system_city(city, level=2, data_gib=500.0, offsite_mbps=1000, dr_mbps=None, dr_paths=1):
    s = next(s for s in city.systems if s.state == SystemState.on_cloud)
    s = s.model_copy(update={"dr_level": level, "data_gib": data_gib, "daily_change_ratio": 0.05})
    sites = [
        site.model_copy(
            update={
                "link_mbps": {"backup_offsite": offsite_mbps, "dr_same_city": dr_mbps}.get(
                    site.role.value
                ),
                "link_paths": dr_paths if site.role.value == "dr_same_city" else 1,
            }
        )
        for site in city.city.sites
    ]
    return _with(city, systems=[s], sites=sites), s


def test_one_backup_transfer_matches_data_over_effective_throughput(city):
    m, s = _one_system_city(city, data_gib=500.0, offsite_mbps=1000)
    cfg = BackupSettings(days=1, full_every_days=1, compression=0.5, dedup=0.8, link_outages=False)
    r = backup.run(m, cfg, seed=1)
    expected_h = 500 * GIB * 0.5 * 0.8 / (1000e6 / 8) / 3600
    assert r["nights"][0]["window_h"] == pytest.approx(expected_h, abs=1e-6)
    assert r["links"]["backup_offsite"]["delivered_gib"] == pytest.approx(500 * 0.4, rel=1e-6)


def test_rpo_logic_worst_gap():
    # copies (snapshot, completed): the worst moment is just before the 2nd copy lands
    copies = [(3600.0, 7200.0), (90000.0, 100000.0)]
    assert backup._worst_gap(copies, end=120000.0) == pytest.approx(100000.0 - 3600.0)
    assert backup._worst_gap([], end=500.0) == 500.0
    # a later snapshot completing first does not make an older copy count as newer
    assert backup._worst_gap([(50.0, 300.0), (10.0, 200.0)], end=400.0) == pytest.approx(350.0)


def test_rpo_within_bound_when_nightly_backups_finish(city):
    m, s = _one_system_city(city, level=2, data_gib=100.0)
    r = backup.run(m, BackupSettings(days=5, link_outages=False), seed=1)
    row = r["systems"][0]
    # a nightly copy: the worst loss is just under a day plus one night's transfer
    assert 86400 < row["rpo_s"] < 86400 + 3600 and row["rpo_ok"]
    assert r["rpo_violations"] == []


def test_rpo_violation_when_the_link_cannot_carry_the_backup(city):
    m, s = _one_system_city(city, level=2, data_gib=2000.0, offsite_mbps=1)
    r = backup.run(m, BackupSettings(days=9, full_every_days=1, link_outages=False), seed=1)
    assert r["systems"][0]["rpo_s"] > drlevels.level(2).rpo_bound_s
    assert r["rpo_violations"] == [s.id]
    assert r["window"]["nights_over"] == 9 and r["nights"][1]["skipped"] == 1


def test_continuous_replication_loses_data_only_during_outages(city):
    m, s = _one_system_city(city, level=5, data_gib=1000.0, offsite_mbps=1000, dr_mbps=1000)
    calm = backup.run(m, BackupSettings(days=10, link_outages=False), seed=1)
    assert calm["systems"][0]["rpo_s"] == 0 and calm["systems"][0]["rpo_ok"]
    stormy = backup.run(m, BackupSettings(days=10, link_mtbf_days=1, outage_mean_h=2), seed=1)
    row = stormy["systems"][0]
    assert stormy["links"]["dr_same_city"]["outages"] > 0
    assert row["rpo_s"] > 0 and row["rpo_ok"] == (row["rpo_s"] <= 1800)


def test_a_dual_link_is_down_only_when_both_paths_are(city):
    cfg = BackupSettings(days=20, link_mtbf_days=1, outage_mean_h=3)
    single = backup.run(
        _one_system_city(city, level=5, data_gib=1000.0, dr_mbps=1000, dr_paths=1)[0], cfg, seed=2
    )
    dual = backup.run(
        _one_system_city(city, level=5, data_gib=1000.0, dr_mbps=1000, dr_paths=2)[0], cfg, seed=2
    )
    one, two = single["links"]["dr_same_city"], dual["links"]["dr_same_city"]
    assert one["paths"] == 1 and one["outages"] == one["path_outages"] > 0
    assert two["paths"] == 2 and two["path_outages"] > two["outages"]
    assert two["outage_h"] < one["outage_h"]
    assert dual["systems"][0]["rpo_s"] <= single["systems"][0]["rpo_s"]


def test_rto_is_restore_plus_takeover_or_takeover_with_standby(city):
    m, s = _one_system_city(city, level=3, data_gib=300.0, offsite_mbps=1000, dr_mbps=800)
    cfg = BackupSettings(days=1, link_outages=False)
    row = backup.run(m, cfg, seed=1)["systems"][0]
    restore = 300 * GIB * cfg.compression / (800e6 / 8)
    assert row["copy_site"] == "dr-dc"
    assert row["rto_s"] == pytest.approx(restore + drlevels.level(3).takeover_h * 3600, abs=1e-3)
    m4, _ = _one_system_city(city, level=4, data_gib=300.0, offsite_mbps=1000, dr_mbps=800)
    assert backup.run(m4, cfg, seed=1)["systems"][0]["rto_s"] == drlevels.level(4).takeover_h * 3600


def test_backup_of_the_sample_city_is_deterministic_and_complete(city):
    cfg = BackupSettings(days=6, link_mtbf_days=2)
    a = backup.run(city, cfg, seed=7)
    assert a == backup.run(city, cfg, seed=7)
    assert len(a["systems"]) == len(city.on_cloud_systems())
    assert sum(b["systems"] for b in a["by_level"].values()) == len(a["systems"])
    for r in a["systems"]:
        assert r["rpo_ok"] == drlevels.rpo_ok(r["dr_level"], r["rpo_s"])
    # conservation of work: what the off-site link moved is what the nightly jobs sent
    sent = sum(n["gib"] for n in a["nights"])
    assert (
        a["links"]["backup_offsite"]["delivered_gib"] == pytest.approx(sent, rel=1e-6)
        or a["window"]["nights_over"]
    )


def test_backup_without_any_dr_link_is_a_clear_error(city):
    sites = [site.model_copy(update={"link_mbps": None}) for site in city.city.sites]
    with pytest.raises(backup.NoDrLinks, match="link_mbps"):
        backup.run(_with(city, sites=sites), BackupSettings(days=1), seed=1)


# --- rollout -------------------------------------------------------------------------


def test_rollout_without_randomness_matches_the_closed_form(city):
    cfg = RolloutSettings(
        forks=7, push_sigma=0, failure_rate=0, replications=2, push_median_s=40, connect_s=5
    )
    r = rollout.run(city, cfg, seed=1, jobs=1)
    expected = sum(math.ceil(n / 7) * 45.0 for n in r["devices"].values()) / 3600
    assert r["total_h"]["min"] == pytest.approx(expected, abs=1e-4) and r["total_h"][
        "max"
    ] == pytest.approx(expected, abs=1e-4)
    assert r["devices"] == {"city": 2, "county": 18, "township": 108, "village": 1437}


def test_rollout_failures_add_retries_and_time(city):
    base = RolloutSettings(forks=50, replications=6)
    calm = rollout.run(city, base.model_copy(update={"failure_rate": 0.0}), seed=2, jobs=1)
    rough = rollout.run(city, base.model_copy(update={"failure_rate": 0.3}), seed=2, jobs=1)
    assert (
        calm["attempts_mean"] == sum(calm["devices"].values()) and calm["failed_devices_mean"] == 0
    )
    assert (
        rough["attempts_mean"] > calm["attempts_mean"]
        and rough["total_h"]["mean"] > calm["total_h"]["mean"]
    )
    assert rough == rollout.run(city, base.model_copy(update={"failure_rate": 0.3}), seed=2, jobs=1)
