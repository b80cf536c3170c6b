"""`govctl compliance`: MLPS level-3 evidence per system (capacity/compliance.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from govctl.common import (
    DEFAULT_CITY,
    CityDir,
    JsonFlag,
    UserError,
    as_of_day,
    console,
    err,
    load,
    print_json,
)

_MARK = {"provided": "[green]✓[/]", "gap": "[red]✗[/]", "not_on_platform": "[dim]·[/]"}


def compliance(
    city: CityDir = Path(DEFAULT_CITY),
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="the day assessments are current on, YYYY-MM-DD")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """MLPS (等保) level-3 evidence per system: each control and the object that proves it."""
    from capacity.compliance import CONTROLS, evidence
    from infra.plan import PlacementError

    day = as_of_day(as_of)
    m = load(city)
    try:
        with err.status("rendering the tenants to collect the evidence…"):
            data = evidence(m, day)
    except PlacementError as exc:
        raise UserError(f"the tenants cannot be planned: {exc}") from None
    if as_json:
        print_json(data)
        return
    table = Table(title=f"{data['city']} — MLPS level-3 evidence on {data['as_of']}")
    table.add_column("system", no_wrap=True)
    table.add_column("dept")
    table.add_column("密码", justify="center")  # the GB/T 39786 level it is held to
    for c in CONTROLS:
        table.add_column(c.id.replace("_", " "), justify="center")
    for s in data["systems"]:
        marks = {r["id"]: _MARK.get(r["status"], "[dim]–[/]") for r in s["controls"]}
        table.add_row(
            s["system"], s["department"], str(s["crypto_level"]), *(marks[c.id] for c in CONTROLS)
        )
    console.print(table)
    gaps = {c: v["gap"] for c, v in data["summary"].items() if v["gap"]}
    console.print(
        f"{len(data['systems'])} systems graded level 3 or important; gaps: "
        + (", ".join(f"{c} {n}" for c, n in gaps.items()) or "none")
    )
