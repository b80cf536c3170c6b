"""The city report: one static HTML page a planner opens (`govctl report`).

It puts together what the other parts compute — the KPIs against their plan year's targets
with their trend and their figures by county and department (`capacity.kpi.bureau_view`), the
IPv6 plan summary, the capacity and backup simulations with their plots, the systems to
compress, and the plan's go/no-go — from plain data, through one Jinja2 template. The
page and its images are written all-or-nothing.
"""

from __future__ import annotations

import io
from pathlib import Path

import jinja2
import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from capacity import report as capacity_report  # noqa: E402
from model.outputs import StagedDir, dumps_json, write_atomic  # noqa: E402
from simulate import report as sim_report  # noqa: E402

SCHEMA_VERSION = 1


def _pct(x) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


STATUS_LABELS = {
    "met": "met",
    "on_track": "on track",
    "at_risk": "at risk",
    "missed": "missed",
    "no_trend": "below, no trend yet",
    "no_target": "no target",
    "no_data": "no data",
}
TREND_KEYS = (
    "cloud_adoption_rate",
    "machine_room_consolidation_rate",
    "private_network_migration_rate",
    "ipv6_ready_systems_rate",
    "mlps_coverage_rate",
)


def bureau_rows(bureau: dict) -> list[dict]:
    """One row per indicator of `capacity.kpi.bureau_view`: actual, its plan-year target and
    status (met, on track, at risk at the current pace, missed)."""
    return [
        {
            "label": i["label"],
            "actual": i["value"],
            "fraction": f"{i['numerator']:g}/{i['denominator']:g}",
            "target": i["target"],
            "kind": i["kind"] or "",
            "projected": i["projected"],
            "status": i["status"],
            "status_label": STATUS_LABELS[i["status"]],
            "source": i["source"] or "",
        }
        for i in bureau["indicators"]
    ]


def trend_figure(bureau: dict) -> bytes:
    """The headline indicators' recorded history against their plan-year path."""
    from datetime import date

    fig = Figure(figsize=(9, 4.2))
    ax = fig.subplots()
    rows = {i["key"]: i for i in bureau["indicators"]}
    for n, key in enumerate(TREND_KEYS):
        i = rows[key]
        colour = f"C{n}"
        pts = [(date.fromisoformat(h["date"]), h["value"] * 100) for h in i["history"]]
        if pts:
            ax.plot(
                *zip(*pts, strict=True), marker="o", ms=3, color=colour, label=_latin(i["label"])
            )
        path = [(date(p["year"], 12, 31), p["target"] * 100) for p in i["path"]]
        if path:
            ax.plot(*zip(*path, strict=True), ls="--", marker="x", color=colour, alpha=0.7)
    ax.set_ylim(0, 105)
    ax.set_ylabel("%")
    ax.set_title("Trend (solid) against the plan-year targets (dashed)")
    ax.legend(loc="lower right", fontsize=7)
    fig.autofmt_xdate()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def _latin(label: str) -> str:
    """The English part of a bilingual label (plot fonts need not carry CJK glyphs)."""
    return " ".join(w for w in label.split() if all(ord(c) < 0x2E80 for c in w))


def kpi_figure(rows: list[dict]) -> bytes:
    fig = Figure(figsize=(9, 0.34 * len(rows) + 1.2))
    ax = fig.subplots()
    labels = [_latin(r["label"]) for r in rows][::-1]
    actual = [(r["actual"] or 0) * 100 for r in rows][::-1]
    target = [(r["target"] or 0) * 100 for r in rows][::-1]
    colours = ["#15803d" if a >= t else "#b91c1c" for a, t in zip(actual, target, strict=True)]
    ax.barh(range(len(rows)), actual, color=colours)
    ax.scatter(target, range(len(rows)), marker="|", s=300, color="black", label="target")
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.set_xlim(0, 105)
    ax.set_xlabel("%")
    ax.set_title("KPIs against the plans' targets")
    ax.legend(loc="lower right", fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


SIMULATED = ("capacity", "backup")
MAX_FINDINGS = 12  # per check in the decision plot; the rest are in report.json


def decision_rows(plan_summary: dict) -> list[dict]:
    """Per simulated check: how often its replications had a no-go finding, with the interval
    and the threshold it is decided against (the table beside the decision plot)."""
    reps = plan_summary.get("replications") or {}
    return [
        {
            "check": name,
            "replications": reps[name]["replications"],
            "p": reps[name]["p_any_nogo_finding"]["p"],
            "ci95": reps[name]["p_any_nogo_finding"]["ci95"],
            "threshold": reps[name]["threshold"],
            "findings": len(reps[name]["findings"]),
            "nogo": sum(1 for f in reps[name]["findings"] if f["decision"] == "no-go"),
        }
        for name in SIMULATED
        if name in reps
    ]


def decision_figure(plan_summary: dict) -> bytes | None:
    """For each simulated check, how often its replications would say no-go: the share with
    any no-go finding and each finding's probability, with their 95% intervals, against the
    threshold the gate decides on. None when no simulated check ran."""
    reps = plan_summary.get("replications") or {}
    parts = [(name, reps[name]) for name in SIMULATED if name in reps]
    if not parts:
        return None
    rows_of = []
    for name, r in parts:
        top = sorted(r["findings"], key=lambda f: (-f["p"], f["check"], f["subject"]))
        rows = [
            {
                "label": "any no-go finding",
                "p": r["p_any_nogo_finding"]["p"],
                "ci95": r["p_any_nogo_finding"]["ci95"],
                "colour": "#1e3a8a",
            }
        ]
        rows += [
            {
                "label": f"{f['check']}: {f['subject']}",
                "p": f["p"],
                "ci95": f["ci95"],
                "colour": "#b91c1c" if f["decision"] == "no-go" else "#b45309",
            }
            for f in top[:MAX_FINDINGS]
        ]
        if len(top) > MAX_FINDINGS:
            rows.append(
                {
                    "label": f"… {len(top) - MAX_FINDINGS} more",
                    "p": 0.0,
                    "ci95": None,
                    "colour": "white",
                }
            )
        rows_of.append((name, r, rows))
    heights = [len(rows) + 1.5 for _, _, rows in rows_of]
    fig = Figure(figsize=(9, 0.32 * sum(heights) + 0.8))
    axes = fig.subplots(len(rows_of), 1, squeeze=False, gridspec_kw={"height_ratios": heights})
    for ax, (name, r, rows) in zip(axes[:, 0], rows_of, strict=True):
        y = list(range(len(rows)))[::-1]
        ax.barh(y, [row["p"] for row in rows], color=[row["colour"] for row in rows], height=0.6)
        for yy, row in zip(y, rows, strict=True):
            if row["ci95"] is not None:
                lo, hi = row["ci95"]
                ax.plot([lo, hi], [yy, yy], color="black", lw=1)
                ax.plot([lo, lo], [yy - 0.15, yy + 0.15], color="black", lw=1)
                ax.plot([hi, hi], [yy - 0.15, yy + 0.15], color="black", lw=1)
        ax.axvline(r["threshold"], color="black", ls="--", lw=1)
        ax.set_yticks(y, [_latin(row["label"]) or row["label"] for row in rows], fontsize=7)
        ax.set_xlim(0, 1)
        ax.set_title(
            f"{name}: share of {r['replications']} replications with each finding "
            f"(bars; 95% interval; dashed: threshold {r['threshold']:.0%})",
            fontsize=9,
        )
    axes[-1, 0].set_xlabel("probability (no-go above the threshold: red; warning: amber)")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("gate", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    env.globals["pct"] = _pct
    return env.get_template("report.html.j2")


def build(
    plan_summary: dict, capacity: dict | None, backup: dict | None, compress: dict, out: Path
) -> Path:
    """Write `out/index.html`, its images and `out/report.json`; return the page's path.

    `plan_summary` is `gate.checks.summary(...)`; `capacity`/`backup` the full simulation
    results (for the plots); `compress` is `capacity.report.build(...)`."""
    bureau = plan_summary["bureau"]
    rows = bureau_rows(bureau)
    images: dict[str, bytes] = {"kpi.png": kpi_figure(rows), "kpi-trend.png": trend_figure(bureau)}
    decisions = decision_figure(plan_summary)
    if decisions is not None:
        images["decisions.png"] = decisions
    capacity_images = sim_report.capacity_figures(capacity) if capacity else {}
    backup_images = sim_report.backup_figures(backup) if backup else {}
    images.update(capacity_images)
    images.update(backup_images)
    html = _template().render(
        city=plan_summary["city"],
        plan=plan_summary,
        decisions=decision_rows(plan_summary),
        decision_image="decisions.png" if decisions is not None else None,
        kpis=rows,
        bureau=bureau,
        ipv6=plan_summary.get("ipv6"),
        capacity_images=sorted(capacity_images),
        backup_images=sorted(backup_images),
        compress=compress["compress"],
        totals=compress["totals"]["city"],
        source=compress["totals"]["source"],
    )
    data = {"schema_version": SCHEMA_VERSION, "plan": plan_summary, "compress": compress}
    with StagedDir(Path(out)) as stage:
        for name, content in images.items():
            write_atomic(stage / name, content)
        capacity_report.write_chart(compress, stage / "capacity-report.png")
        write_atomic(stage / "report.json", dumps_json(data, indent=1))
        write_atomic(stage / "index.html", html)
    return Path(out) / "index.html"
