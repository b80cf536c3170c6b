"""The capacity report: the assessment as JSON, and a PNG chart per department.

JSON (`schema_version` 1):

    {"schema_version": 1,
     "compress": [{"system", "department", "cpu_request", "cpu_recommended",
                   "memory_request_bytes", "memory_recommended_bytes", "reason"}, …],
     "totals": {"source", "window_days", "settings", "unmeasured_systems",
                "city": {…}, "departments": {CODE: {…}}, "zones": {NAME: {…}}, "kpi": {…}}}

Each totals block holds `systems`, `compress_candidates` and the `cpu_*_cores` /
`memory_*_bytes` sums of request, current usage (the latest sample), recommendation and
resources freed by compressing the candidates. `kpi` is `capacity.kpi.compute` (the plans'
adoption figures; a caller that has them already passes them in as `kpis`).
"""

from __future__ import annotations

import io
from pathlib import Path

from capacity import kpi
from capacity.rightsizing import Assessment
from model.city import CityModel
from model.yamlio import write_atomic

SCHEMA_VERSION = 1


def build(model: CityModel, assessment: Assessment, source: str, kpis: dict | None = None) -> dict:
    candidates = sorted(assessment.candidates, key=lambda s: (-s.cpu_freed, s.system))
    return {
        "schema_version": SCHEMA_VERSION,
        "compress": [
            {
                "system": s.system,
                "department": s.department,
                "cpu_request": s.cpu_request,
                "cpu_recommended": s.cpu_recommended,
                "memory_request_bytes": int(s.memory_request_bytes),
                "memory_recommended_bytes": int(s.memory_recommended_bytes),
                "reason": s.reason,
            }
            for s in candidates
        ],
        "totals": {
            "source": source,
            "window_days": max((s.days for s in assessment.systems), default=0.0),
            "settings": assessment.settings.model_dump(),
            "unmeasured_systems": sorted(assessment.unmeasured),
            "city": assessment.city_totals(),
            "departments": assessment.totals_by("department"),
            "zones": assessment.totals_by("zone"),
            "kpi": {
                k: v
                for k, v in (kpi.compute(model) if kpis is None else kpis).items()
                if k != "schema_version"
            },
        },
    }


def from_history(model: CityModel, kpis: dict | None = None) -> dict:
    """The compression report from the history committed beside the city (the offline default);
    `kpis`: the city's `capacity.kpi.compute`, when the caller has it."""
    from capacity.rightsizing import assess
    from capacity.sources import HistorySource

    source = HistorySource()
    return build(model, assess(model, source.fetch(model)), source.describe(), kpis)


def write_chart(report: dict, path: Path, top: int = 25) -> None:
    """Horizontal bars per department (the `top` largest by request): CPU requested, used now,
    recommended, and freed by compression. Written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    depts = sorted(
        report["totals"]["departments"].items(), key=lambda kv: -kv[1]["cpu_request_cores"]
    )[:top]
    depts.reverse()
    names = [d for d, _ in depts]
    fig, ax = plt.subplots(figsize=(9, max(3.0, 0.32 * len(names) + 1.2)))
    y = range(len(names))
    h = 0.27
    series = (
        ("cpu_request_cores", "requested", "#9aa5b1", -h),
        ("cpu_recommended_cores", "recommended", "#3b82f6", 0.0),
        ("cpu_freed_cores", "freed by compression", "#22c55e", h),
    )
    for key, label, colour, off in series:
        ax.barh(
            [i + off for i in y], [t[key] for _, t in depts], height=h, label=label, color=colour
        )
    ax.set_yticks(list(y), names, fontsize=8)
    ax.set_xlabel("CPU cores")
    city = report["totals"]["city"]
    ax.set_title(
        f"CPU per department — {city['compress_candidates']} systems to compress, "
        f"{city['cpu_freed_cores']:.0f} cores freed"
    )
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    write_atomic(path, buf.getvalue())
