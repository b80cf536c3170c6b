"""The city report's KPI section (gate/report.py): the bureau's view — targets of the plan
year with status, the trend against the plan-year path, and tables by county and department."""

from __future__ import annotations

import json

from capacity import report as capacity_report
from gate import checks, report
from model import load_city


def test_report_shows_the_bureau_view(small_city, tmp_path):
    m = load_city(small_city)
    run = checks.evaluate(m, skip={"tenants", "capacity", "backup", "ipv6"})
    summary = checks.summary(run)
    page = report.build(summary, None, None, capacity_report.from_history(m), tmp_path / "r")
    html = page.read_text(encoding="utf-8")
    bureau = summary["bureau"]
    assert (
        f"against {bureau['year']}&#39;s targets" in html
        or f"against {bureau['year']}'s targets" in html
    )
    assert "By county" in html and "By department" in html
    assert "By quarter, against the plan-year path" in html
    quarters = [c["period"] for c in bureau["periods"][0]["periods"]]
    assert len(quarters) == 8 and all(q in html for q in quarters)
    for c in m.network.counties:
        assert c.name in html
    for d in m.departments:
        assert d.name in html
    statuses = {i["status"] for i in bureau["indicators"]}
    for s in statuses:
        assert report.STATUS_LABELS[s] in html
    assert (tmp_path / "r" / "kpi-trend.png").stat().st_size > 1000
    data = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert data["plan"]["bureau"]["by_county"][0]["group"] == "city"


def test_report_plots_how_often_each_simulated_check_says_no_go(small_city, tmp_path):
    # every restore fails: the backup check's replications all have a no-go finding (p = 1,
    # above the threshold); the capacity check's none (p = 0, its interval still reaching
    # above 5% with 3 replications)
    from simulate.settings import Settings

    m = load_city(small_city)
    settings = Settings.model_validate(
        {
            "gate": {"replications": 3, "backup_days": 2, "capacity_years": 0.2},
            "backup": {"restore_failure_rate": 1.0},
        }
    )
    run = checks.evaluate(m, None, settings, 3, None, {"tenants", "ipv6"}, jobs=1)
    summary = checks.summary(run)
    rows = {r["check"]: r for r in report.decision_rows(summary)}
    assert rows["backup"]["p"] == 1.0 and rows["backup"]["nogo"] >= 1
    assert rows["capacity"]["p"] == 0.0 and rows["capacity"]["ci95"][1] > 0.05
    failed = [
        f for f in summary["replications"]["backup"]["findings"] if f["check"] == "restore_failed"
    ]
    assert failed and all((f["k"], f["n"], f["decision"]) == (3, 3, "no-go") for f in failed)
    page = report.build(
        summary,
        run.results["capacity"],
        run.results["backup"],
        capacity_report.from_history(m),
        tmp_path / "r",
    )
    html = page.read_text(encoding="utf-8")
    assert 'src="decisions.png"' in html and "Simulated checks across their replications" in html
    assert "100.0%" in html
    for name in ("decisions.png", "backup-bounds.png"):
        assert (tmp_path / "r" / name).stat().st_size > 1000
    # without simulated checks there is nothing to plot, and the page says nothing of it
    bare = checks.summary(checks.evaluate(m, skip={"tenants", "capacity", "backup", "ipv6"}))
    assert report.decision_figure(bare) is None and report.decision_rows(bare) == []
