"""Prometheus rules and the Grafana dashboard: promtool checks and unit tests, cross-references."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import generate_latest

from monitoring.exporter import ExporterState, registry_for

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "monitoring/rules/govcloud.rules.yml"
RULE_TESTS = sorted((ROOT / "monitoring").rglob("*test*.yml"))
DASHBOARD = ROOT / "monitoring/dashboards/govcloud.json"
needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool missing: apt-get install prometheus"
)


def _rules() -> list[dict]:
    return [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]


@needs_promtool
def test_promtool_check_rules():
    res = subprocess.run(
        ["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, res.stdout + res.stderr


@needs_promtool
@pytest.mark.parametrize("test_file", RULE_TESTS, ids=lambda p: p.name)
def test_promtool_test_rules(test_file):
    res = subprocess.run(
        ["promtool", "test", "rules", test_file.name],
        cwd=test_file.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_every_alert_and_recording_group_is_unit_tested():
    assert RULE_TESTS, "no promtool rule tests found in monitoring/"
    tested_alerts, tested_exprs = set(), ""
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for a in case.get("alert_rule_test", []):
                if a.get("exp_alerts"):
                    tested_alerts.add(a["alertname"])
            tested_exprs += " ".join(e["expr"] for e in case.get("promql_expr_test", []))
    alerts = {r["alert"] for r in _rules() if "alert" in r}
    assert alerts == {
        "GovcloudCloudAdoptionBelowTarget",
        "GovcloudZoneUtilisationHigh",
        "GovcloudLongTermLowUtilisation",
        "GovcloudBackupRpoBreach",
        "GovcloudCollectorDown",
        "GovcloudExporterDown",
        "GovcloudExporterAbsent",
        "GovcloudKpiAtRisk",
    }
    assert alerts <= tested_alerts, f"alerts never seen firing in a test: {alerts - tested_alerts}"
    ratios = {r["record"] for r in _rules() if r.get("record", "").endswith(":ratio")}
    untested = {r for r in ratios if r not in tested_exprs}
    assert not untested, f"ratio recordings without a unit test: {untested}"


def test_recording_rule_names_follow_level_metric_operations():
    for r in _rules():
        if "record" in r:
            assert re.fullmatch(r"[a-z_]+:govcloud_[a-z_]+:[a-z_0-9]+", r["record"]), r["record"]


def _exported_names() -> set[str]:
    state = ExporterState(ROOT / "examples/sample-city")
    state.refresh()
    text = generate_latest(registry_for(state)).decode()
    names = set(re.findall(r"^([a-z0-9_]+)[{ ]", text, re.M))
    return names | {
        "govcloud_backup_rpo_seconds",
        "govcloud_backup_rpo_target_seconds",
    }  # only with --backup-report


def test_rules_and_dashboard_only_use_names_that_exist():
    exported = _exported_names()
    recorded = {r["record"] for r in _rules() if "record" in r}
    known = exported | recorded
    exprs = [r["expr"] for r in _rules()]
    dashboard = json.loads(DASHBOARD.read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert panels and all(p["targets"] for p in panels)
    exprs += [t["expr"] for p in panels for t in p["targets"]]
    for expr in exprs:
        for name in re.findall(r"[a-z_]+:govcloud_[a-z0-9_]+:[a-z_0-9]+|govcloud_[a-z0-9_]+", expr):
            assert name in known, f"{name!r} in {expr!r} is neither exported nor recorded"
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert dashboard["uid"] and {v["name"] for v in dashboard["templating"]["list"]} >= {
        "datasource",
        "department",
    }


README = ROOT / "monitoring/README.md"
AGGREGATION = re.compile(
    r"\b(sum|max|min|avg|count)\s*(?:(by|without)\s*\(([^)]*)\))?\s*\((?=[^)])"
)


def _anchors(markdown: str) -> set[str]:
    """GitHub's anchors of the headings: lower case, punctuation dropped, spaces to dashes."""
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", markdown, re.M)
    return {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}


def test_every_alert_has_a_runbook_section_in_the_readme():
    anchors = _anchors(README.read_text(encoding="utf-8"))
    for rule in _rules():
        if "alert" in rule:
            url = rule["annotations"].get("runbook_url", "")
            assert url == f"monitoring/README.md#{rule['alert'].lower()}", rule["alert"]
            assert url.split("#")[1] in anchors, f"no README section for {rule['alert']}"


def _keeps_job(expr: str) -> list[str]:
    """The aggregations of expr that would merge jobs or count an exporter's replicas twice
    (`sum by (x)` without job, `sum(...)` over instances)."""
    bad = []
    for op, modifier, labels in AGGREGATION.findall(expr):
        names = {n.strip() for n in labels.split(",")}
        if modifier == "by" and "job" in names:
            continue
        if (
            modifier == "without"
            and "job" not in names
            and (op == "max" or "instance" not in names)
        ):
            continue
        bad.append(f"{op} {modifier} ({labels})".strip())
    return bad


def test_recordings_keep_job_and_count_replicas_once():
    for rule in _rules():
        if "record" in rule:
            assert not _keeps_job(rule["expr"]), (rule["record"], _keeps_job(rule["expr"]))
            assert "max without (instance)" in rule["expr"] or "/" in rule["expr"], rule["record"]


def test_every_dashboard_query_selects_and_keeps_job():
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] if p["type"] != "row" for t in p["targets"]]
    assert len(exprs) >= 20
    for expr in exprs:
        assert 'job=~"$job"' in expr, expr
        assert not _keeps_job(expr), (expr, _keeps_job(expr))


def test_the_job_check_catches_what_double_counts():
    assert _keeps_job("sum(govcloud_system_compress_candidate)")
    assert _keeps_job("sum by (department) (govcloud_tenant_cpu_request_cores)")
    assert _keeps_job("sum without (instance) (govcloud_tenant_cpu_request_cores)")
    assert not _keeps_job("sum by (job) (max without (instance) (govcloud_x))")
