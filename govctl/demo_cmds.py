"""`govctl demo`: the main job on a city, step by step, with progress shown.

validate → KPIs → plan (go/no-go) → IPv6 plan → device configs → tenants → simulations →
capacity report → city report. The plan runs first: the gate computes the IPv6 plan, the
tenants and the capacity and backup simulations once (`gate.checks.GateRun`), and the later
steps write out what it computed instead of computing it again. The steps are a table: each
takes the shared `Context` and returns a one-line summary. Every artefact goes under `--out`;
the committed IPv6 lock is read, never modified (the new lock is written under `ipv6/`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from govctl.common import DEFAULT_CITY, CityDir, SeedOpt, UserError, console, err, keeps, load, pct
from model import CityModel
from model.outputs import check_outputs, dumps_json, write_atomic

if TYPE_CHECKING:  # the gate (SimPy, NumPy) loads with the plan step, not with `--help`
    from gate import checks


@dataclass
class Context:
    model: CityModel
    city_dir: Path
    out: Path
    seed: int
    progress: Callable[[str], None] = lambda step: None
    run: checks.GateRun | None = None
    data: dict = field(default_factory=dict)

    @property
    def plan(self) -> checks.GateRun:
        assert self.run is not None, "the plan step runs first"
        return self.run


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[Context], str]


def _json(path: Path, data) -> None:
    write_atomic(path, dumps_json(data, indent=1))


def _tenant_renderer() -> tuple[checks.RenderTenants, str]:
    """The real Pulumi engine in render mode when `make tools` built it, the mocks otherwise."""
    from gate import checks
    from infra import engine

    if engine.available():
        return (lambda m, settings: engine.render(settings)), "the real Pulumi engine, render mode"
    return (
        checks.render_with_mocks,
        "the Pulumi program under mocks; `make tools` builds the engine",
    )


def _plan(c: Context) -> str:
    from gate import checks

    render_tenants, how = _tenant_renderer()
    c.data["tenants_how"] = how
    c.run = checks.evaluate(
        c.model,
        None,
        None,
        c.seed,
        checks.resolve_lock(c.model, None),
        progress=lambda check: c.progress(f"plan: {check}"),
        render_tenants=render_tenants,
        kpis=c.data["kpi"],
    )
    summary = c.data["summary"] = checks.summary(c.run)
    _json(c.out / "plan.json", summary)
    return (
        f"{summary['decision'].upper()} for wave {summary['wave']} ({len(summary['reasons'])} reasons, "
        f"{len(summary['warnings'])} warnings) → plan.json"
    )


def _not_computed(what: str) -> str:
    return f"[yellow]not written[/]: the plan could not compute {what} (see plan.json)"


def _kpi(c: Context) -> str:
    from capacity import kpi as kpi_lib

    data = c.data["kpi"] = kpi_lib.compute(c.model)
    _json(c.out / "kpi.json", data)
    return (
        f"上云率 {pct(data['cloud_adoption_rate'])}, 机房整合率 {pct(data['machine_room_consolidation_rate'])}, "
        f"专网迁移率 {pct(data['private_network_migration_rate'])} → kpi.json"
    )


def _ipv6(c: Context) -> str:
    from network import lock as lock_lib

    plan = c.plan.ipv6_plan
    if plan is None:
        return _not_computed("the IPv6 plan")
    lock_path = c.out / "ipv6" / "ipam.lock.yaml"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_lib.open_lock(lock_path, c.model, update=True) as opened:
        opened.write(plan.lock)
    _json(c.out / "ipv6" / "plan.json", plan.to_json())
    return (
        f"{len(plan.allocations):,} site prefixes, {len(plan.links):,} links, {len(plan.loopbacks):,} loopbacks, "
        f"{plan.new} new → ipv6/plan.json"
    )


def _configs(c: Context) -> str:
    from network.render import RenderCheckFailed, render_all

    if c.plan.ipv6_plan is None:
        return _not_computed("the IPv6 plan")
    try:
        n = render_all(c.model, c.plan.ipv6_plan, c.out / "configs")
    except RenderCheckFailed as exc:  # a refused line is the model's (an interface name …)
        first = "\n".join(str(f) for f in exc.findings[:20])
        raise UserError(f"configs refused by the vendor grammar, none written:\n{first}") from None
    return f"{n:,} device configs and rollbacks → configs/ (all pass net check)"


def _tenants(c: Context) -> str:
    from infra.render import write

    rendered = c.plan.tenants
    if rendered is None:
        return _not_computed("the tenants")
    n = write(rendered, c.out / "tenants")
    return f"{n:,} Kubernetes objects in {len(rendered.objects)} clusters ({c.data['tenants_how']}) → tenants/"


def _simulations(c: Context) -> str:
    """The plan's capacity and backup runs (its wave and horizon), and the rollout."""
    from simulate import report, rollout

    cap = c.plan.results.get("capacity")
    back = c.plan.results.get("backup")
    roll = rollout.run(c.model, c.plan.settings.rollout, seed=c.seed, jobs=1)
    for data in (cap, back, roll):
        if data is not None:
            report.write(c.out / "simulate", data)
    peaks = ", ".join(
        f"{z} {pct(r['peak_utilisation'])}" for z, r in (cap or {"zones": {}})["zones"].items()
    )
    rpo = "no backup run" if back is None else f"{len(back['rpo_violations'])} RPO violations"
    return f"wave {c.plan.wave}: peaks {peaks or '—'}; {rpo}; rollout p95 {roll['total_h']['p95']:.1f} h → simulate/"


def _capacity(c: Context) -> str:
    from capacity import report as capacity_report

    data = capacity_report.from_history(c.model, kpis=c.plan.kpi)
    _json(c.out / "capacity" / "capacity-report.json", data)
    capacity_report.write_chart(data, c.out / "capacity" / "capacity-report.png")
    c.data["compress"] = data
    return f"{len(data['compress'])} systems to compress, {data['totals']['city']['cpu_freed_cores']:.0f} cores freed → capacity/"


def _report(c: Context) -> str:
    from gate import report as cityreport

    page = cityreport.build(
        c.data["summary"],
        c.plan.results.get("capacity"),
        c.plan.results.get("backup"),
        c.data["compress"],
        c.out / "report",
    )
    c.data["page"] = page
    return f"→ {page}"


FILES = (
    "kpi.json",
    "plan.json",
    "ipv6/ipam.lock.yaml",
    "ipv6/plan.json",
    "capacity/capacity-report.json",
    "capacity/capacity-report.png",
)
FOLDERS = ("", "ipv6", "configs", "tenants", "simulate", "capacity", "report")
"""What the steps write under --out, checked before the first step runs."""

STEPS: list[Step] = [
    Step("kpi", _kpi),
    Step("plan", _plan),
    Step("ipv6 plan", _ipv6),
    Step("net render", _configs),
    Step("tenants", _tenants),
    Step("simulations", _simulations),
    Step("capacity report", _capacity),
    Step("report", _report),
]


def demo(
    city: CityDir = Path(DEFAULT_CITY),
    out: Annotated[Path, typer.Option(help="folder for every report and artefact")] = Path(
        "demo-out"
    ),
    seed: SeedOpt = 1,
) -> None:
    """Run the main job on a city: validate, KPIs, plans, configs, tenants, simulations, reports."""
    from network.lock import DEFAULT_LOCK

    t0 = time.perf_counter()
    check_outputs(  # before any work
        files=[out / f for f in FILES],
        dirs=[out / d for d in FOLDERS],
        inputs=[city, DEFAULT_LOCK],
    )
    m = load(city)
    console.print(
        f"[green]✓[/] validate: {len(m.departments)} departments, {len(m.systems)} systems"
    )
    out.mkdir(parents=True, exist_ok=True)
    ctx = Context(m, city, out, seed)
    done: list[str] = []

    def kept() -> str | None:  # what Ctrl-C leaves: the steps already finished
        return f"the finished steps' files are kept in {out}/ ({', '.join(done)})" if done else None

    with (
        keeps(kept),
        Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("demo", total=len(STEPS))
        ctx.progress = lambda what: progress.update(task, description=what)
        for step in STEPS:
            progress.update(task, description=step.name)
            s0 = time.perf_counter()
            summary = step.run(ctx)
            console.print(f"[green]✓[/] {step.name} ({time.perf_counter() - s0:.1f} s): {summary}")
            done.append(step.name)
            progress.advance(task)
    console.print(
        f"done in {time.perf_counter() - t0:.0f} s. The city report: [bold]{ctx.data['page']}[/]"
    )
