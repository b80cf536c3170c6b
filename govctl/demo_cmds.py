"""`govctl demo`: the main job on a city, step by step, with progress shown.

validate → KPIs → IPv6 plan → device configs → tenants → simulations → capacity report →
plan (go/no-go) → city report. The steps are a table: each takes the shared `Context`
and returns a one-line summary; later steps read what earlier ones left in it. Every
artefact goes under `--out`; the committed IPv6 lock is copied, never modified.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from capacity import kpi as kpi_lib
from govctl.common import DEFAULT_CITY, CityDir, UserError, console, err, keeps, load, pct
from model import CityModel
from model.yamlio import write_atomic


@dataclass
class Context:
    model: CityModel
    city_dir: Path
    out: Path
    seed: int
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[Context], str]


def _json(path: Path, data) -> None:
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def _kpi(c: Context) -> str:
    data = kpi_lib.compute(c.model)
    _json(c.out / "kpi.json", data)
    return (
        f"上云率 {pct(data['cloud_adoption_rate'])}, 机房整合率 {pct(data['machine_room_consolidation_rate'])}, "
        f"专网迁移率 {pct(data['private_network_migration_rate'])} → kpi.json"
    )


def _ipv6(c: Context) -> str:
    from govctl.plan_cmds import resolve_lock
    from network import lock as lock_lib
    from network.plan import plan_city

    lock_path = c.out / "ipv6" / "ipam.lock.yaml"
    committed = resolve_lock(c.model, None)
    if committed is not None and not lock_path.exists():
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(committed, lock_path)
    with lock_lib.open_lock(lock_path, c.model, update=True) as opened:
        plan = plan_city(c.model, None, opened.lock)
        opened.write(plan.lock)
    _json(c.out / "ipv6" / "plan.json", plan.to_json())
    c.data["ipv6_plan"] = plan
    return (
        f"{len(plan.allocations):,} site prefixes, {len(plan.links):,} links, {len(plan.loopbacks):,} loopbacks, "
        f"{plan.new} new → ipv6/plan.json"
    )


def _configs(c: Context) -> str:
    from network.render import RenderCheckFailed, render_all

    try:
        n = render_all(c.model, c.data["ipv6_plan"], c.out / "configs")
    except RenderCheckFailed as exc:  # a refused line is the model's (an interface name …)
        first = "\n".join(str(f) for f in exc.findings[:20])
        raise UserError(f"configs refused by the vendor grammar, none written:\n{first}") from None
    return f"{n:,} device configs and rollbacks → configs/ (all pass net check)"


def _tenants(c: Context) -> str:
    """Render mode: the real Pulumi engine when `make tools` built it, the mocks otherwise."""
    from infra import engine
    from infra.render import render, write
    from infra.settings import StackSettings

    settings = StackSettings(model=str(c.city_dir.resolve()), wave=c.model.next_wave)
    if engine.available():
        rendered, how = engine.render(settings), "the real Pulumi engine, render mode"
    else:
        rendered, how = (
            render(c.model, settings),
            "the Pulumi program under mocks; `make tools` builds the engine",
        )
    n = write(rendered, c.out / "tenants")
    return f"{n:,} Kubernetes objects in {len(rendered.objects)} clusters ({how}) → tenants/"


def _simulations(c: Context) -> str:
    from simulate import backup, capacity, report, rollout
    from simulate.settings import Settings

    s = Settings()
    cap = capacity.run(c.model, s.capacity, c.seed)
    back = backup.run(c.model, s.backup, c.seed)
    roll = rollout.run(c.model, s.rollout, seed=c.seed, jobs=1)
    for data in (cap, back, roll):
        report.write(c.out / "simulate", data)
    peaks = ", ".join(f"{z} {pct(r['peak_utilisation'])}" for z, r in cap["zones"].items())
    return f"peaks {peaks}; {len(back['rpo_violations'])} RPO violations; rollout p95 {roll['total_h']['p95']:.1f} h → simulate/"


def _capacity(c: Context) -> str:
    from capacity import report as capacity_report

    data = capacity_report.from_history(c.model)
    _json(c.out / "capacity" / "capacity-report.json", data)
    capacity_report.write_chart(data, c.out / "capacity" / "capacity-report.png")
    c.data["compress"] = data
    return f"{len(data['compress'])} systems to compress, {data['totals']['city']['cpu_freed_cores']:.0f} cores freed → capacity/"


def _plan(c: Context) -> str:
    from gate import checks as gate

    run = gate.evaluate(c.model, None, None, c.seed, c.out / "ipv6" / "ipam.lock.yaml")
    summary = gate.summary(run)
    _json(c.out / "plan.json", summary)
    c.data["gate"] = (run, summary)
    return (
        f"{summary['decision'].upper()} for wave {summary['wave']} ({len(summary['reasons'])} reasons, "
        f"{len(summary['warnings'])} warnings) → plan.json"
    )


def _report(c: Context) -> str:
    from gate import report as cityreport

    run, summary = c.data["gate"]
    page = cityreport.build(
        summary,
        run.results.get("capacity"),
        run.results.get("backup"),
        c.data["compress"],
        c.out / "report",
    )
    c.data["page"] = page
    return f"→ {page}"


STEPS: list[Step] = [
    Step("kpi", _kpi),
    Step("ipv6 plan", _ipv6),
    Step("net render", _configs),
    Step("tenants", _tenants),
    Step("simulations", _simulations),
    Step("capacity report", _capacity),
    Step("plan", _plan),
    Step("report", _report),
]


def demo(
    city: CityDir = Path(DEFAULT_CITY),
    out: Annotated[Path, typer.Option(help="folder for every report and artefact")] = Path(
        "demo-out"
    ),
    seed: Annotated[int, typer.Option(help="seed of the simulations")] = 1,
) -> None:
    """Run the main job on a city: validate, KPIs, plans, configs, tenants, simulations, reports."""
    t0 = time.perf_counter()
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
