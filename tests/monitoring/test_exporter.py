"""The exporter: metric names and values, failing collectors, HTTP serving, promtool lint."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from datetime import date
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from capacity import kpi
from capacity.rightsizing import assess
from capacity.sources import HistorySource, MetricsFileSource, PrometheusSource
from model import drlevels, load_city
from monitoring.exporter import ExporterState, registry_for, serve
from simulate import backup
from simulate.settings import BackupSettings

CITY = str(Path(__file__).resolve().parents[2] / "examples/sample-city")
REQUIRED = [
    "govcloud_cloud_adoption_ratio",
    "govcloud_machine_room_consolidation_ratio",
    "govcloud_private_network_migration_ratio",
    "govcloud_ipv6_rollout_ratio",
    "govcloud_tenant_cpu_request_cores",
    "govcloud_tenant_cpu_usage_cores",
    "govcloud_tenant_cpu_utilization_ratio",
    "govcloud_tenant_memory_request_bytes",
    "govcloud_tenant_memory_usage_bytes",
    "govcloud_tenant_memory_utilization_ratio",
    "govcloud_system_compress_candidate",
    "govcloud_collector_up",
]


def _samples(text: str) -> dict[str, list]:
    out: dict[str, list] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, []).append(s)
    return out


def _scrape(state) -> str:
    return generate_latest(registry_for(state)).decode()


def test_every_metric_is_there_with_the_model_values(city):
    state = ExporterState(CITY)
    state.refresh()
    samples = _samples(_scrape(state))
    assert all(name in samples for name in REQUIRED)
    k = kpi.compute(city)
    assert samples["govcloud_cloud_adoption_ratio"][0].value == pytest.approx(
        k["cloud_adoption_rate"]
    )
    assert {
        s.labels["level"]: s.value for s in samples["govcloud_ipv6_rollout_ratio"]
    } == pytest.approx(k["ipv6_rollout"])
    a = assess(city, HistorySource().fetch(city))
    flags = {s.labels["system"]: s.value for s in samples["govcloud_system_compress_candidate"]}
    assert flags == {s.system: float(s.compress) for s in a.systems}
    per_dept = a.totals_by("department")
    req: dict[str, float] = {}
    for s in samples["govcloud_tenant_cpu_request_cores"]:
        req[s.labels["department"]] = req.get(s.labels["department"], 0) + s.value
    assert req == pytest.approx({d: t["cpu_request_cores"] for d, t in per_dept.items()})
    for s in samples["govcloud_tenant_cpu_utilization_ratio"]:
        use = next(
            u.value for u in samples["govcloud_tenant_cpu_usage_cores"] if u.labels == s.labels
        )
        request = next(
            r.value for r in samples["govcloud_tenant_cpu_request_cores"] if r.labels == s.labels
        )
        assert s.value == pytest.approx(use / request)
    assert {s.labels["collector"]: s.value for s in samples["govcloud_collector_up"]} == {
        "model": 1.0,
        "utilisation": 1.0,
    }
    assert "govcloud_backup_rpo_seconds" not in samples


def test_failing_source_keeps_the_scrape_alive(tmp_path):
    state = ExporterState(CITY, source=PrometheusSource("http://127.0.0.1:9", timeout_s=1))
    state.refresh()
    samples = _samples(_scrape(state))
    assert {s.labels["collector"]: s.value for s in samples["govcloud_collector_up"]} == {
        "model": 1.0,
        "utilisation": 0.0,
    }
    assert "govcloud_cloud_adoption_ratio" in samples  # the model collector still reports
    assert "govcloud_tenant_cpu_usage_cores" not in samples
    assert "cannot query Prometheus" in state.snapshot.errors["utilisation"]
    broken = tmp_path / "city"
    shutil.copytree(CITY, broken)
    (broken / "systems.yaml").write_text("systems: [\n")
    state = ExporterState(broken)
    state.refresh()
    samples = _samples(_scrape(state))
    assert {s.labels["collector"]: s.value for s in samples["govcloud_collector_up"]} == {
        "model": 0.0,
        "utilisation": 0.0,
    }


def test_backup_report_gives_rpo_metrics(city, tmp_path):
    sim = backup.run(city, BackupSettings(days=2, link_outages=False), seed=1)
    report = tmp_path / "backup.json"
    report.write_text(json.dumps(sim))
    state = ExporterState(CITY, backup_report=report)
    state.refresh()
    samples = _samples(_scrape(state))
    rpo = {s.labels["system"]: s.value for s in samples["govcloud_backup_rpo_seconds"]}
    target = {s.labels["system"]: s.value for s in samples["govcloud_backup_rpo_target_seconds"]}
    assert rpo == {r["id"]: pytest.approx(r["rpo_s"]) for r in sim["systems"]}
    assert target == {r["id"]: r["rpo_bound_s"] for r in sim["systems"]}
    sid = sim["systems"][0]["id"]
    report.write_text(
        json.dumps(
            {
                "systems": [
                    {"id": sid, "rpo_s": 60},
                    {"id": "not-a-system", "rpo_s": 1},
                    {"id": "kjj-001"},
                ]
            }
        )
    )
    state.refresh()
    samples = _samples(_scrape(state))
    assert {s.labels["system"]: s.value for s in samples["govcloud_backup_rpo_seconds"]} == {
        sid: 60
    }
    bound = drlevels.level(city.systems_by_id[sid].dr_level).rpo_bound_s
    assert {s.labels["system"]: s.value for s in samples["govcloud_backup_rpo_target_seconds"]} == {
        sid: bound
    }
    report.write_text("{not json")
    state.refresh()
    samples = _samples(_scrape(state))
    assert {s.labels["collector"]: s.value for s in samples["govcloud_collector_up"]}[
        "backup"
    ] == 0.0
    assert "backup.json:1: not JSON" in state.snapshot.errors["backup"]


def test_refresh_picks_up_a_new_source_file(city, tmp_path):
    from capacity.metrics_file import write_metrics_file

    usage = HistorySource().fetch(city)
    path = tmp_path / "usage.om"
    write_metrics_file(path, {k: usage[k] for k in sorted(usage)[:3]})
    state = ExporterState(CITY, source=MetricsFileSource(path))
    state.refresh()
    assert len(_samples(_scrape(state))["govcloud_system_compress_candidate"]) == 3
    write_metrics_file(path, {k: usage[k] for k in sorted(usage)[:5]})
    state.refresh()
    assert len(_samples(_scrape(state))["govcloud_system_compress_candidate"]) == 5


def test_serves_over_http_on_loopback():
    state = ExporterState(CITY, interval=3600)
    server, thread = serve(state, "127.0.0.1", 0)
    try:
        port = server.server_address[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
            body = resp.read().decode()
        assert "govcloud_cloud_adoption_ratio" in body and "govcloud_collector_up" in body
    finally:
        server.shutdown()
        server.server_close()
        state.stop()


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool missing: apt-get install prometheus"
)
def test_promtool_accepts_the_output(tmp_path):
    report = tmp_path / "backup.json"
    report.write_text(json.dumps({"systems": [{"id": "fgw-001", "rpo_s": 7200}]}))
    state = ExporterState(CITY, backup_report=report)
    state.refresh()
    res = subprocess.run(
        ["promtool", "check", "metrics"],
        input=_scrape(state),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_refresh_thread_publishes_new_snapshots(tmp_path):
    calls = []

    def loader(path):
        calls.append(path)
        return load_city(path)

    state = ExporterState(CITY, interval=0.2, loader=loader)
    first = state.refresh()
    state.start()
    try:
        deadline = time.monotonic() + 30
        while state.snapshot is first and time.monotonic() < deadline:
            time.sleep(0.05)
        assert state.snapshot is not first and state.snapshot.up["model"]
        assert len(calls) >= 2
    finally:
        state.stop()
    assert not state._thread.is_alive()


def test_build_info_names_the_installed_version_and_python():
    import platform
    from importlib import metadata

    state = ExporterState(CITY)
    state.refresh()
    (info,) = _samples(_scrape(state))["govcloud_build_info"]
    assert info.value == 1.0
    assert info.labels == {
        "version": metadata.version("govcloud"),
        "python_version": platform.python_version(),
    }


def test_kpi_breakdowns_sum_to_the_city_and_stay_bounded(city):
    from monitoring.exporter import MAX_GROUPS, bounded

    state = ExporterState(CITY)
    state.refresh()
    samples = _samples(_scrape(state))
    year = state.snapshot.bureau["year"]
    city_num = {k: r.num for k, r in kpi.figures(city, date.today(), year).items()}
    for by in ("county", "department"):
        per: dict[str, float] = {}
        for s in samples[f"govcloud_kpi_{by}_numerator"]:
            per[s.labels["kpi"]] = per.get(s.labels["kpi"], 0.0) + s.value
        for k, total in per.items():
            assert total == pytest.approx(city_num[k]), (by, k)
        assert len({s.labels[by] for s in samples[f"govcloud_kpi_{by}_numerator"]}) <= MAX_GROUPS
    assert {s.labels["kpi"] for s in samples["govcloud_kpi_at_risk"]} == set(kpi.INDICATORS)
    for by in ("county", "department"):  # the sample city assigns targets to both
        want = {
            (k, g): t["target"]
            for g, row in kpi.group_targets(city, year, by).items()
            for k, t in row.items()
        }
        got = {
            (s.labels["kpi"], s.labels[by]): s.value
            for s in samples[f"govcloud_kpi_{by}_target_ratio"]
        }
        assert got == want and want, by
    many = {f"D{i:04d}": {"cloud_adoption_rate": kpi.Ratio(1.0, float(i + 1))} for i in range(250)}
    folded = bounded(many)
    assert len(folded) == MAX_GROUPS and "other" in folded
    assert sum(r["cloud_adoption_rate"].den for r in folded.values()) == sum(
        r["cloud_adoption_rate"].den for r in many.values()
    )
