"""`govctl plan`: simulate before apply — go (exit 0) or no-go (exit 3), every reason named.

The gate (`gate/`, with SimPy and NumPy below it) loads when the command runs, so
`govctl plan --help` imports none of it; the help names the checks from `CHECKS`, which a
test holds equal to `gate.checks.CHECK_NAMES`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from govctl.common import (
    DEFAULT_CITY,
    CityDir,
    GateLockOpt,
    GateSettingsOpt,
    JsonFlag,
    NoGo,
    SeedOpt,
    UserError,
    WaveOpt,
    console,
    load,
    pct,
    print_json,
    spinner,
)

CHECKS = ("fit", "construction", "ipv6", "tenants", "capacity", "backup")  # gate.checks' order


def plan(
    city: CityDir = Path(DEFAULT_CITY),
    wave: WaveOpt = None,
    seed: SeedOpt = 1,
    settings: GateSettingsOpt = None,
    lock: GateLockOpt = None,
    skip: Annotated[list[str], typer.Option(help=f"skip a check ({', '.join(CHECKS)})")] = [],  # noqa: B006
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
    from gate import checks as gate
    from simulate.settings import load_settings

    m = load(city)
    gate_settings = load_settings(settings, {"gate.replications": replications})
    try:
        with spinner("plan") as step:
            run = gate.evaluate(
                m,
                wave,
                gate_settings,
                seed,
                gate.resolve_lock(m, lock),
                set(skip),
                progress=step,
                jobs=jobs,
                scheduler=scheduler,
            )
    except gate.UnknownCheck as exc:
        raise UserError(f"--skip: {exc}") from None
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
