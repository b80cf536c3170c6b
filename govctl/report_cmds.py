"""`govctl report`: the city report — one HTML page with the KPIs, plans, simulations and decision."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from govctl.common import (
    DEFAULT_CITY,
    CityDir,
    GateLockOpt,
    GateSettingsOpt,
    SeedOpt,
    WaveOpt,
    console,
    err,
    load,
    spinner,
)


def report(
    city: CityDir = Path(DEFAULT_CITY),
    out: Annotated[Path, typer.Option(help="folder for index.html and its images")] = Path(
        "report"
    ),
    wave: WaveOpt = None,
    seed: SeedOpt = 1,
    settings: GateSettingsOpt = None,
    lock: GateLockOpt = None,
) -> None:
    """Write the city report (static HTML) a planner opens in a browser."""
    # the gate, the simulations and matplotlib load when the command runs, not for --help
    from capacity import report as capacity_report
    from gate import checks as gate
    from gate import report as cityreport
    from model.outputs import check_outputs
    from simulate.settings import load_settings

    check_outputs(dirs=[out], inputs=[city, settings, lock])  # before any work
    m = load(city)
    gate_settings = load_settings(settings)
    with spinner("plan") as step:
        run = gate.evaluate(m, wave, gate_settings, seed, gate.resolve_lock(m, lock), progress=step)
    with err.status("assessing utilisation…"):
        compress = capacity_report.from_history(m, kpis=run.kpi)
    page = cityreport.build(
        gate.summary(run), run.results.get("capacity"), run.results.get("backup"), compress, out
    )
    console.print(f"[green]wrote[/] {page} — decision: {'GO' if not run.reasons else 'NO-GO'}")
