"""`govctl validate`, `govctl kpi` and `govctl model synth`: the city model's commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from capacity import kpi as kpi_lib
from govctl.common import (
    DEFAULT_CITY,
    CityDir,
    JsonFlag,
    UserError,
    console,
    err,
    load,
    pct,
    print_json,
)
from model.synth import SynthSpec, write

model_app = typer.Typer(help="Synthetic cities and other model tools.", no_args_is_help=True)


def validate(city: CityDir = Path(DEFAULT_CITY)) -> None:
    """Validate a city model: exit 0, or exit 2 with `file:line: field: message` lines."""
    m = load(city)
    sites = sum(1 for _ in m.sites())
    console.print(
        f"[green]ok[/] {city}: {len(m.departments)} departments, {len(m.systems)} systems, "
        f"{len(m.machine_rooms)} machine rooms, {sites} extranet sites"
    )


def kpi(city: CityDir = Path(DEFAULT_CITY), as_json: JsonFlag = False) -> None:
    """The plans' KPIs (上云率, 机房整合率, 专网迁移率, IPv6, coverage) against their targets."""
    data = kpi_lib.compute(load(city))
    if as_json:
        print_json(data)
        return
    table = Table(title=f"{data['city']} — key figures", show_lines=False)
    table.add_column("indicator")
    table.add_column("actual", justify="right")
    table.add_column("target", justify="right")
    table.add_column("", justify="center")
    for t in kpi_lib.TARGETS:
        actual = data[t.key]
        table.add_row(t.label, pct(actual), pct(t.target), _mark(actual, t.target))
    for key, label in (
        ("ipv6_rollout", "IPv6 dual stack"),
        ("extranet_coverage", "extranet coverage"),
    ):
        for level, actual in data[key].items():
            target = kpi_lib.LEVEL_TARGETS[key]
            table.add_row(f"{label} · {level}", pct(actual), pct(target), _mark(actual, target))
    console.print(table)


def _mark(actual: float | None, target: float) -> str:
    if actual is None:
        return "[dim]n/a[/]"
    return "[green]✓[/]" if actual >= target else "[red]✗[/]"


@model_app.command("synth")
def synth(
    out: Annotated[Path, typer.Option(help="directory to write the city into")],
    seed: Annotated[int, typer.Option(help="random seed: same seed, same city")] = 1,
    counties: Annotated[int, typer.Option(min=1, max=990)] = 9,
    townships_per: Annotated[int, typer.Option("--townships-per", min=0, max=999)] = 12,
    villages_per: Annotated[int, typer.Option("--villages-per", min=0, max=999)] = 14,
    departments: Annotated[int, typer.Option(min=1, max=5000)] = 45,
    systems: Annotated[int, typer.Option(min=1, max=200_000)] = 400,
    machine_rooms: Annotated[int, typer.Option("--machine-rooms", min=0, max=10_000)] = 30,
    history: Annotated[bool, typer.Option(help="also write a 30-day utilisation history")] = True,
) -> None:
    """Write a valid synthetic city (Chinese names, realistic vendor and system mixes)."""
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a directory")
    spec = SynthSpec(
        seed=seed,
        counties=counties,
        townships_per=townships_per,
        villages_per=villages_per,
        departments=departments,
        systems=systems,
        machine_rooms=machine_rooms,
    )
    with err.status(f"generating a city of {counties * townships_per * villages_per:,} villages…"):
        counts = write(spec, out, history=history)
    console.print(
        f"[green]wrote[/] {out}: "
        + ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in counts.items())
    )
