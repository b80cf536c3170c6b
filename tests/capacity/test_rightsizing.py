"""Assessment and rightsizing: statistics, VPA/KRR-style recommendations, compression verdicts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity import kpi, report
from capacity.rightsizing import MIB, Settings, assess, assess_system, confidence_factor
from model.history import GIB, Series

CITY = str(Path(__file__).resolve().parents[2] / "examples/sample-city")


def _series(cpu, memory, step=3600.0):
    cpu = np.asarray(cpu, dtype=float)
    return Series(np.arange(len(cpu)) * step, cpu, np.asarray(memory, dtype=float))


def _system(city, **changes):
    s = next(s for s in city.systems if s.state.value == "on_cloud" and s.replicas == 1)
    return s.model_copy(update=changes)


def test_statistics_and_recommendation_follow_the_settings(city):
    system = _system(city, vcpu=8, memory_gib=16)
    hours = 30 * 24
    cpu = np.linspace(0.0, 1.0, hours)  # p95 = 0.95, max = 1.0
    mem = np.full(hours, 2 * GIB)
    mem[100] = 4 * GIB  # one peak
    a = assess_system(system, "shared", _series(cpu, mem), Settings())
    assert a.days == pytest.approx(30.0)
    assert a.cpu["p50"] == pytest.approx(0.5)
    assert a.cpu["p95"] == pytest.approx(0.95)
    assert a.cpu["max"] == pytest.approx(1.0)
    assert a.memory["max"] == 4 * GIB
    conf = 1 + 1 / 30
    assert a.cpu_recommended == pytest.approx(np.ceil(0.95 * 1.15 * conf * 1000) / 1000)
    assert a.memory_recommended_bytes == np.ceil(4 * GIB * 1.15 * conf / MIB) * MIB
    # p99 of usage is 0.99 cores, 12.4% of 8: stays below 20% for 30 days
    assert a.compress and "30.0 days" in a.reason
    assert a.cpu_freed == pytest.approx(8 - a.cpu_recommended)
    # the same usage with a 10% threshold is no longer a candidate
    b = assess_system(system, "shared", _series(cpu, mem), Settings(compress_threshold=0.10))
    assert not b.compress and b.cpu_freed == 0


def test_short_history_is_never_compressed_and_gets_more_margin(city):
    system = _system(city, vcpu=8, memory_gib=16)
    cpu, mem = np.full(24, 0.2), np.full(24, GIB)
    short = assess_system(system, "shared", _series(cpu, mem), Settings())
    assert not short.compress and "only 1.0 of 30 days" in short.reason
    long = assess_system(
        system, "shared", _series(np.full(720, 0.2), np.full(720, GIB)), Settings()
    )
    assert long.compress
    assert short.cpu_recommended > long.cpu_recommended
    assert short.memory_recommended_bytes > long.memory_recommended_bytes


def test_floors_apply_per_replica(city):
    system = _system(city, vcpu=2, memory_gib=4, replicas=3)
    a = assess_system(system, "shared", _series(np.zeros(720), np.zeros(720)), Settings())
    assert a.cpu_recommended == pytest.approx(3 * 0.025)
    assert a.memory_recommended_bytes == 3 * 250 * MIB
    assert a.cpu_request == 6 and a.memory_request_bytes == 12 * GIB


@settings(max_examples=60, deadline=None)
@given(
    level=st.floats(0.0, 4.0),
    noise=st.lists(st.floats(0.0, 2.0), min_size=48, max_size=48),
    days=st.integers(1, 40),
    margin=st.floats(0.0, 1.0),
    threshold=st.floats(0.05, 0.5),
)
def test_recommendation_properties(city, level, noise, days, margin, threshold):
    system = _system(city, vcpu=4, memory_gib=8)
    n = days * 24
    cpu = level * np.resize(np.asarray(noise), n)
    mem = GIB * (1 + np.resize(np.asarray(noise), n))
    opts = Settings(cpu_margin=margin, memory_margin=margin, compress_threshold=threshold)
    a = assess_system(system, "shared", _series(cpu, mem), opts)
    conf = confidence_factor(days, opts)
    # covers the percentile with its margin, never below the floor, rounded up at most one step
    assert a.cpu_recommended >= max(np.percentile(cpu, 95) * (1 + margin) * conf, 0.025) - 1e-9
    assert (
        a.cpu_recommended <= max(np.percentile(cpu, 95) * (1 + margin) * conf, 0.025) + 0.001 + 1e-9
    )
    assert a.memory_recommended_bytes >= mem.max() * (1 + margin) * conf - 1
    # compression iff the p99 stays under the threshold over a full 30 days
    assert a.compress == (days >= 30 * 0.98 and np.percentile(cpu, 99) < threshold * 4)
    assert 0 <= a.cpu_freed <= a.cpu_request
    # more margin never lowers the recommendation
    b = assess_system(
        system, "shared", _series(cpu, mem), opts.model_copy(update={"cpu_margin": margin + 0.5})
    )
    assert b.cpu_recommended >= a.cpu_recommended


def test_sample_city_candidates_are_truly_idle(city, history):
    a = assess(city, history)
    assert len(a.systems) == len(history)
    assert len(a.candidates) >= 10
    on_cloud_without_history = {s.id for s in city.on_cloud_systems()} - set(history)
    assert set(a.unmeasured) == on_cloud_without_history
    for c in a.candidates:
        s = city.systems_by_id[c.system]
        request = s.vcpu * s.replicas
        assert np.percentile(history[c.system].cpu, 99) < 0.2 * request
        assert c.cpu_recommended < request
    for s in a.systems:
        if not s.compress:
            assert np.percentile(history[s.system].cpu, 99) >= 0.2 * s.cpu_request


def test_totals_add_up_per_department_and_zone(city, history):
    a = assess(city, history)
    city_t = a.city_totals()
    for key in ("department", "zone"):
        groups = a.totals_by(key)
        assert sum(g["systems"] for g in groups.values()) == city_t["systems"]
        assert (
            sum(g["compress_candidates"] for g in groups.values()) == city_t["compress_candidates"]
        )
        assert sum(g["cpu_freed_cores"] for g in groups.values()) == pytest.approx(
            city_t["cpu_freed_cores"], abs=0.05
        )
        assert sum(g["memory_request_bytes"] for g in groups.values()) == pytest.approx(
            city_t["memory_request_bytes"], abs=len(groups)
        )
    zones = a.totals_by("zone")
    sensitive = [
        s for s in a.systems if city.systems_by_id[s.system].classification.value == "sensitive"
    ]
    assert all(s.zone == "isolated" for s in sensitive)
    assert set(zones) <= set(city.zones)
    expected_freed = sum(max(0.0, s.cpu_request - s.cpu_recommended) for s in a.candidates)
    assert city_t["cpu_freed_cores"] == pytest.approx(expected_freed, abs=0.01)


def test_report_json_shape(city, history):
    data = report.build(city, assess(city, history), "history")
    assert list(data) == ["schema_version", "compress", "totals"]
    assert data["schema_version"] == 1
    keys = {
        "system",
        "department",
        "cpu_request",
        "cpu_recommended",
        "memory_request_bytes",
        "memory_recommended_bytes",
        "reason",
    }
    assert data["compress"] and all(set(c) == keys for c in data["compress"])
    assert {c["department"] for c in data["compress"]} <= set(city.departments_by_code)
    assert data["totals"]["city"]["compress_candidates"] == len(data["compress"])
    assert data["totals"]["kpi"]["cloud_adoption_rate"] == kpi.compute(city)["cloud_adoption_rate"]
    assert data["totals"]["window_days"] == pytest.approx(30.0)


def test_chart_is_a_png(city, history, tmp_path):
    data = report.build(city, assess(city, history), "history")
    out = tmp_path / "chart.png"
    report.write_chart(data, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob("*.tmp*"))
