"""Real Prometheus: scrape the exporter and a cluster stand-in, evaluate the rules, then report.

Starts Debian's `prometheus` on a free loopback port with a temporary config and data
directory, the govcloud exporter, and tests/capacity_workloads.py (cAdvisor and
kube-state-metrics series). Every process is killed in a `finally`.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from capacity import kpi
from capacity.metrics_file import read_metrics_file
from model import load_city
from model.history import load_history

pytestmark = [
    pytest.mark.prometheus,
    pytest.mark.skipif(
        shutil.which("prometheus") is None or shutil.which("promtool") is None,
        reason="Debian's prometheus package is not installed (apt-get install -y prometheus)",
    ),
]
ROOT = Path(__file__).resolve().parents[2]
CITY = ROOT / "examples/sample-city"
RULES = ROOT / "monitoring/rules/govcloud.rules.yml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _query(base: str, promql: str) -> list[dict]:
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=10) as resp:
        body = json.loads(resp.read())
    assert body["status"] == "success", body
    return body["data"]["result"]


def _wait_for(what: str, check, procs: list[subprocess.Popen], timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                raise AssertionError(
                    f"{p.args[0]} exited early ({p.returncode}): {p.stderr.read().decode()[-2000:]}"
                )
        try:
            last = check()
            if last:
                return last
        except OSError as exc:
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}: last {last!r}")


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)


def test_prometheus_scrapes_the_exporter_and_the_report_reads_it(tmp_path, capsys):
    exporter_port, workloads_port, prom_port = _free_port(), _free_port(), _free_port()
    backup = tmp_path / "backup.json"
    backup.write_text(
        json.dumps({"schema_version": 1, "systems": [{"id": "fgw-001", "rpo_s": 9e6}]})
    )
    config = tmp_path / "prometheus.yml"
    config.write_text(
        json.dumps(
            {  # JSON is YAML
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(RULES)],
                "scrape_configs": [
                    {
                        "job_name": "govcloud",
                        "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"]}],
                    },
                    {
                        "job_name": "kubernetes",
                        "static_configs": [{"targets": [f"127.0.0.1:{workloads_port}"]}],
                    },
                ],
            }
        )
    )
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    procs: list[subprocess.Popen] = []
    try:
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "govctl",
                    "exporter",
                    str(CITY),
                    "--port",
                    str(exporter_port),
                    "--host",
                    "127.0.0.1",
                    "--backup-report",
                    str(backup),
                    "--refresh-interval",
                    "5",
                ],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "tests/capacity_workloads.py"),
                    str(CITY),
                    "--port",
                    str(workloads_port),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    "prometheus",
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'data'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                ],
                cwd=tmp_path,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        )
        base = f"http://127.0.0.1:{prom_port}"

        # the KPIs arrive through a scrape of the exporter
        model = load_city(CITY)
        expected = kpi.compute(model)
        adoption = _wait_for(
            "a scrape of the exporter", lambda: _query(base, "govcloud_cloud_adoption_ratio"), procs
        )
        assert float(adoption[0]["value"][1]) == pytest.approx(expected["cloud_adoption_rate"])
        assert adoption[0]["metric"]["job"] == "govcloud"
        levels = {
            r["metric"]["level"]: float(r["value"][1])
            for r in _query(base, "govcloud_ipv6_rollout_ratio")
        }
        assert levels == pytest.approx(expected["ipv6_rollout"])
        up = {
            r["metric"]["collector"]: r["value"][1] for r in _query(base, "govcloud_collector_up")
        }
        assert up == {"model": "1", "utilisation": "1", "backup": "1"}

        # the recording rules evaluate
        zones = _wait_for(
            "the zone recording rule",
            lambda: _query(base, "zone:govcloud_cpu_usage_per_capacity:ratio"),
            procs,
        )
        assert {r["metric"]["zone"] for r in zones} == set(model.zones)
        assert all(0 < float(r["value"][1]) < 1 for r in zones)
        depts = _query(base, "department:govcloud_system_compress_candidate:sum")
        assert sum(float(r["value"][1]) for r in depts) > 0

        # alerts whose condition holds are pending (their `for` has not elapsed yet)
        def pending():
            with urllib.request.urlopen(f"{base}/api/v1/alerts", timeout=10) as resp:
                alerts = json.loads(resp.read())["data"]["alerts"]
            return {a["labels"]["alertname"] for a in alerts} >= {
                "GovcloudBackupRpoBreach",
                "GovcloudCloudAdoptionBelowTarget",
            } and alerts

        alerts = _wait_for("pending alerts", pending, procs)
        breach = [a for a in alerts if a["labels"]["alertname"] == "GovcloudBackupRpoBreach"]
        assert [a["labels"]["system"] for a in breach] == ["fgw-001"]

        # the cluster stand-in's series have a rate: the capacity report reads them back
        # (rate() averages over its whole range: wait until 10 s of samples cover it)
        _wait_for(
            "10 s of container samples",
            lambda: _query(
                base,
                'min(count_over_time(container_cpu_usage_seconds_total{container="app"}[12s])) >= 10',
            ),
            procs,
        )
        from govctl.app import main

        capsys.readouterr()
        assert (
            main(
                [
                    "capacity",
                    "report",
                    str(CITY),
                    "--prometheus",
                    base,
                    "--window",
                    "1m",
                    "--step",
                    "1s",
                    "--rate",
                    "10s",
                    "--json",
                ]
            )
            == 0
        )
        report = json.loads(capsys.readouterr().out)
        history = load_history(model.history_path)
        totals = report["totals"]
        assert totals["city"]["systems"] == len(history)
        assert report["compress"] == []  # a minute of history is never enough to compress
        for dept, t in totals["departments"].items():
            ids = [k for k in history if model.systems_by_id[k].department == dept]
            assert t["memory_usage_bytes"] == pytest.approx(
                sum(history[k].memory[-1] for k in ids), rel=1e-6
            )
            assert t["cpu_usage_cores"] == pytest.approx(
                sum(history[k].cpu[-1] for k in ids), rel=0.05, abs=0.01
            )

        # …and exports them as a metrics file that promtool can backfill
        out = tmp_path / "usage.om"
        assert (
            main(
                [
                    "capacity",
                    "export",
                    str(CITY),
                    "--prometheus",
                    base,
                    "--window",
                    "20s",
                    "--step",
                    "5s",
                    "--rate",
                    "10s",
                    "--out",
                    str(out),
                ]
            )
            == 0
        )
        assert set(read_metrics_file(out)) == set(history)
        res = subprocess.run(
            [
                "promtool",
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                str(out),
                str(tmp_path / "blocks"),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert res.returncode == 0, res.stdout + res.stderr
    finally:
        _stop(procs)
