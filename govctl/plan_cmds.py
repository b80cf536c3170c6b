"""`govctl plan`: simulate before apply — go (exit 0) or no-go (exit 3), every reason named."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from gate import checks as gate
from govctl.common import (
    DEFAULT_CITY,
    CityDir,
    JsonFlag,
    NoGo,
    UserError,
    console,
    err,
    load,
    pct,
    print_json,
)
from model import CityModel
from network.lock import default_lock
from simulate.settings import load_settings

CHECK_NAMES = [name for name, _ in gate.CHECKS]


def resolve_lock(m: CityModel, lock: Path | None) -> Path | None:
    """An explicit --lock must belong to the city; the default lock is used only if it does."""
    return lock if lock is not None else default_lock(m)


def run_gate(
    m: CityModel,
    wave: int | None,
    settings_file: Path | None,
    seed: int,
    lock: Path | None,
    skip: list[str],
    replications: int | None = None,
    jobs: int | None = None,
    scheduler: str | None = None,
) -> gate.GateRun:
    unknown = set(skip) - set(CHECK_NAMES)
    if unknown:
        raise UserError(
            f"--skip {', '.join(sorted(unknown))}: known checks are {', '.join(CHECK_NAMES)}"
        )
    settings = load_settings(settings_file)
    if replications is not None:
        settings = settings.model_copy(
            update={"gate": settings.gate.model_copy(update={"replications": replications})}
        )
    with Progress(
        SpinnerColumn(),
        TextColumn("plan: {task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("start", total=None)
        return gate.evaluate(
            m,
            wave,
            settings,
            seed,
            resolve_lock(m, lock),
            set(skip),
            progress=lambda name: progress.update(task, description=name),
            jobs=jobs,
            scheduler=scheduler,
        )


def plan(
    city: CityDir = Path(DEFAULT_CITY),
    wave: Annotated[
        int | None, typer.Option(help="migration wave to add (default: the next planned wave)")
    ] = None,
    seed: Annotated[int, typer.Option(help="seed of the simulations")] = 1,
    settings: Annotated[
        Path | None, typer.Option("--settings", help="YAML with gate:/capacity:/backup: sections")
    ] = None,
    lock: Annotated[
        Path | None,
        typer.Option(help="IPv6 lock file (default network/ipam.lock.yaml when it is this city's)"),
    ] = None,
    skip: Annotated[list[str], typer.Option(help=f"skip a check ({', '.join(CHECK_NAMES)})")] = [],  # noqa: B006
    replications: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=10_000,
            help="replications of each simulated check (default gate.replications: 20)",
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", min=1, help="worker processes for the replications (default: CPU count)"
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler", help="dask.distributed scheduler address: run the replications there"
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Check a change against capacity, DR, IPv6 and policy before it is applied: go or no-go."""
    m = load(city)
    try:
        run = run_gate(m, wave, settings, seed, lock, skip, replications, jobs, scheduler)
    except RuntimeError as exc:
        if "dask" in str(exc):
            raise UserError(str(exc)) from None
        raise
    data = gate.summary(run)
    if as_json:
        print_json(data)
    else:
        show(data)
    if data["decision"] != "go":
        raise NoGo(
            f"no-go: {len(data['reasons'])} reason(s) — the plan does not fit; nothing should be applied"
        )


def show(data: dict) -> None:
    table = Table(title=f"plan for {data['city']}, wave {data['wave']}")
    table.add_column("check")
    table.add_column("result")
    table.add_column("seconds", justify="right")
    for name, c in data["checks"].items():
        mark = {"pass": "[green]pass[/]", "fail": "[red]fail[/]", "skipped": "[dim]skipped[/]"}[
            c["status"]
        ]
        table.add_row(name, mark, f"{c['seconds']:.1f}")
    console.print(table)
    console.print(
        f"cloud adoption after wave {data['wave']}: {pct(data['adoption_after_wave'])} (target 80.0%)"
    )
    for r in data["reasons"]:
        console.print(f"[red]✗[/] {r['check']}: {r['message']}")
    for w in data["warnings"]:
        console.print(f"[yellow]![/] {w['check']}: {w['message']}")
    verdict = "[green]GO[/]" if data["decision"] == "go" else "[red]NO-GO[/]"
    console.print(f"decision: {verdict}")
