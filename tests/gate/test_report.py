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
