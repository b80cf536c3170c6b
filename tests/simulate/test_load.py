"""The load the capacity model draws: the history in local days, resampled by blocks of days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from model.history import GIB, write_history
from simulate import capacity, load
from simulate.settings import CapacitySettings
from tests.simulate.cities import system, with_, zone

START = datetime(2026, 10, 5, tzinfo=UTC)  # a Monday, 00:00 UTC = 08:00 in Shanghai


def _city_with_history(city, tmp_path, level_of_day, days=21, vcpu=10.0):
    """One system whose CPU use is `level_of_day(d)` cores all day long on local day d."""
    s = system(city, "one", vcpu=vcpu, memory_gib=10.0, target_zone="z")
    rows = []
    for h in range(days * 24):
        stamp = START + timedelta(hours=h)
        local_day = (stamp + timedelta(hours=8)).date()
        d = (local_day - (START + timedelta(hours=8)).date()).days
        rows.append((stamp.strftime("%Y-%m-%dT%H:%M:%SZ"), "one", level_of_day(d), 2 * GIB))
    write_history(tmp_path / "utilisation.csv.gz", rows)
    return with_(city, systems=[s], zones=[zone(nodes=2)], source=tmp_path)


def test_history_is_binned_in_local_time(city, tmp_path):
    # a spike at 02:00 UTC on the first Tuesday is 10:00 of that Tuesday in Shanghai
    s = system(city, "one", vcpu=4.0, memory_gib=4.0, target_zone="z")
    rows = []
    for h in range(14 * 24):
        stamp = START + timedelta(hours=h)
        cpu = 4.0 if h == 24 + 2 else 1.0
        rows.append((stamp.strftime("%Y-%m-%dT%H:%M:%SZ"), "one", cpu, GIB))
    write_history(tmp_path / "utilisation.csv.gz", rows)
    m = with_(city, systems=[s], zones=[zone()], source=tmp_path)
    t = load.table(m, "Asia/Shanghai")
    frac = t.frac[t.row("one"), 0]
    assert t.weekday[0] == 0 and t.days == 15  # the last UTC evening spills into day 15
    assert frac[1 * 24 + 10] == pytest.approx(1.0) and frac[1 * 24 + 2] == pytest.approx(0.25)
    assert t.frac[t.row("one"), 1, 30] == pytest.approx(1 / 4)  # memory: 1 GiB of 4
    utc = load.table(m, "UTC")
    assert utc.frac[utc.row("one"), 0][1 * 24 + 2] == pytest.approx(1.0)


def test_bootstrap_keeps_weekdays_and_blocks_of_consecutive_days():
    weekday = (np.arange(30) + 2) % 7  # the history starts on a Wednesday
    t = load.LoadTable({}, np.zeros((1, 2, 30 * 24)), weekday)
    src = load.bootstrap_days(t, 70, 7, np.random.default_rng(4))
    assert (weekday[src] == np.arange(70) % 7).all()
    for start in range(0, 70, 7):
        block = src[start : start + 7]
        steps = np.diff(block)
        assert all(d == 1 or (d < 0 and (d - 1) % 7 == 0) for d in steps.tolist())
    assert len(set(src[::7].tolist())) > 1  # blocks start on different history days


def test_zone_use_is_the_request_times_the_drawn_day(city, tmp_path):
    # the history's local day d runs at (d % 5 + 1) cores of 10 all day: on every simulated
    # day the zone uses exactly that day's level (one node-seconds up, no growth)
    m = _city_with_history(city, tmp_path, lambda d: float(d % 5 + 1))
    cfg = CapacitySettings(years=60 / 365, node_mtbf_days=1e9, growth_per_year=0.0)
    sim = capacity.simulate(m, cfg, seed=2)
    z = sim.zones["z"]
    a = z.table(sim.load.frac, sim.cols, 1.0)
    src = sim.cols[::24] // 24
    for day in range(1, 59):
        level = float(src[day] % 5 + 1)
        cpu = a["cpu"][day * 24 : day * 24 + 24]
        if 0 < src[day] < sim.load.days - 1:  # whole local days of the history
            assert cpu == pytest.approx(np.full(24, level))
    report = capacity.run(m, cfg, seed=2)["zones"]["z"]
    # peak use over 2 nodes of 64 vCPU: at most 5 cores in use
    assert report["peak_cpu_utilisation"] <= 5 / 128 + 1e-9
    assert report["peak_cpu_utilisation"] == pytest.approx(a["cpu"].max() / 128, abs=1e-6)
