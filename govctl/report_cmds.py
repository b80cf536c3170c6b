"""`govctl report`: the city report — one HTML page with the KPIs, plans, simulations and decision."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from capacity import report as capacity_report
from gate import checks as gate
from gate import report as cityreport
from govctl.common import DEFAULT_CITY, CityDir, console, err, load
from govctl.plan_cmds import run_gate


def report(
    city: CityDir = Path(DEFAULT_CITY),
    out: Annotated[Path, typer.Option(help="folder for index.html and its images")] = Path(
        "report"
    ),
    wave: Annotated[
        int | None, typer.Option(help="migration wave the plan adds (default: the next one)")
    ] = None,
    seed: Annotated[int, typer.Option(help="seed of the simulations")] = 1,
    settings: Annotated[
        Path | None, typer.Option("--settings", help="YAML with gate:/capacity:/backup: sections")
    ] = None,
    lock: Annotated[
        Path | None,
        typer.Option(help="IPv6 lock file (default network/ipam.lock.yaml when it is this city's)"),
    ] = None,
) -> None:
    """Write the city report (static HTML) a planner opens in a browser."""
    m = load(city)
    run = run_gate(m, wave, settings, seed, lock, [])
    with err.status("assessing utilisation…"):
        compress = capacity_report.from_history(m)
    page = cityreport.build(
        gate.summary(run), run.results.get("capacity"), run.results.get("backup"), compress, out
    )
    console.print(f"[green]wrote[/] {page} — decision: {'GO' if not run.reasons else 'NO-GO'}")
