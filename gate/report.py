"""The city report: one static HTML page a planner opens (`govctl report`).

It puts together what the other parts compute — the KPIs against the seeds' targets, the
IPv6 plan summary, the capacity and backup simulations with their plots, the systems to
compress, and the plan's go/no-go — from plain data, through one Jinja2 template. The
page and its images are written all-or-nothing.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import jinja2
import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from capacity import kpi as kpi_lib  # noqa: E402
from capacity import report as capacity_report  # noqa: E402
from model.yamlio import StagedDir, write_atomic  # noqa: E402
from simulate import report as sim_report  # noqa: E402

SCHEMA_VERSION = 1
LEVEL_LABELS = {
    "ipv6_rollout": "IPv6 双栈 dual stack",
    "extranet_coverage": "外网覆盖 extranet coverage",
}


def _pct(x) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def kpi_rows(k: dict) -> list[dict]:
    rows = [
        {"label": t.label, "actual": k[t.key], "target": t.target, "source": t.source}
        for t in kpi_lib.TARGETS
    ]
    for key, label in LEVEL_LABELS.items():
        for level, actual in k[key].items():
            rows.append(
                {
                    "label": f"{label} · {level}",
                    "actual": actual,
                    "target": kpi_lib.LEVEL_TARGETS[key],
                    "source": "Nanchang 2023, Jiujiang 2025, Xiangtan 14th FYP",
                }
            )
    return rows


def _latin(label: str) -> str:
    """The English part of a bilingual label (plot fonts need not carry CJK glyphs)."""
    return " ".join(w for w in label.split() if all(ord(c) < 0x2E80 for c in w))


def kpi_figure(rows: list[dict]) -> bytes:
    fig = Figure(figsize=(9, 0.34 * len(rows) + 1.2))
    ax = fig.subplots()
    labels = [_latin(r["label"]) for r in rows][::-1]
    actual = [(r["actual"] or 0) * 100 for r in rows][::-1]
    target = [r["target"] * 100 for r in rows][::-1]
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
    rows = kpi_rows(plan_summary["kpi"])
    images: dict[str, bytes] = {"kpi.png": kpi_figure(rows)}
    capacity_images = sim_report.capacity_figures(capacity) if capacity else {}
    backup_images = sim_report.backup_figures(backup) if backup else {}
    images.update(capacity_images)
    images.update(backup_images)
    html = _template().render(
        city=plan_summary["city"],
        plan=plan_summary,
        kpis=rows,
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
        write_atomic(stage / "report.json", json.dumps(data, ensure_ascii=False, indent=1) + "\n")
        write_atomic(stage / "index.html", html)
    return Path(out) / "index.html"
