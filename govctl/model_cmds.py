"""`govctl validate`, `govctl kpi` and `govctl model synth`: the city model's commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.table import Table

from capacity import kpi as kpi_lib
from govctl.common import (
    DEFAULT_CITY,
    CityDir,
    JsonFlag,
    UserError,
    as_of_day,
    console,
    err,
    load,
    pct,
    print_json,
)
from model.outputs import check_outputs
from model.synth import SNAPSHOT_DAY, SynthSpec, write

model_app = typer.Typer(help="Synthetic cities and other model tools.", no_args_is_help=True)


def validate(city: CityDir = Path(DEFAULT_CITY)) -> None:
    """Validate a city model: exit 0, or exit 2 with `file:line: field: message` lines."""
    m = load(city)
    kpi_lib.read_history(kpi_lib.history_path(m))
    sites = sum(1 for _ in m.sites())
    console.print(
        f"[green]ok[/] {city}: {len(m.departments)} departments, {len(m.systems)} systems, "
        f"{len(m.machine_rooms)} machine rooms, {sites} extranet sites"
    )


ByOpt = Annotated[
    str | None,
    typer.Option("--by", help="break every KPI down by county or department"),
]


def kpi(
    city: CityDir = Path(DEFAULT_CITY),
    year: Annotated[
        int | None,
        typer.Option(
            min=2000,
            max=2100,
            help="compare with this year's targets [default: this year's, else the plans' last]",
        ),
    ] = None,
    by: ByOpt = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="the day the figures describe, YYYY-MM-DD [default: today]"),
    ] = None,
    record: Annotated[
        bool, typer.Option("--record", help="append a dated snapshot to the city's KPI history")
    ] = False,
    period: Annotated[
        str | None,
        typer.Option(
            "--period", help="month or quarter: the last eight against the plan-year path"
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """The plans' KPIs against their year's targets, with trend; by county or department.

    With --period month|quarter: per period against the plan-year path."""
    if by is not None and by not in kpi_lib.BREAKDOWNS:
        raise UserError(f"--by wants one of {', '.join(kpi_lib.BREAKDOWNS)}, got {by!r}")
    if period is not None and period not in kpi_lib.PERIODS:
        raise UserError(f"--period wants one of {', '.join(kpi_lib.PERIODS)}, got {period!r}")
    day = as_of_day(as_of)
    m = load(city)
    if record:
        check_outputs(files=[kpi_lib.history_path(m)])  # before any work
    data = kpi_lib.report(
        m, as_of=day, year=year or kpi_lib.default_year(m, day), by=by, period=period
    )
    if record:
        row = kpi_lib.record(m, day)
        err.print(f"recorded the {row['date']} snapshot in {kpi_lib.history_path(m)}")
    if as_json:
        print_json(data)
        return
    _kpi_tables(data)


_STATUS = {
    "met": "[green]met[/]",
    "on_track": "[green]on track[/]",
    "at_risk": "[red]at risk[/]",
    "missed": "[red]missed[/]",
    "no_trend": "[yellow]below, no trend[/]",
    "no_target": "[dim]no target[/]",
    "no_data": "[dim]n/a[/]",
}


def _kpi_tables(data: dict) -> None:
    table = Table(
        title=f"{data['city']} — KPIs on {data['as_of']} against {data['year']}'s targets"
    )
    table.add_column("indicator", no_wrap=True)
    columns: tuple[tuple[str, Literal["left", "right"]], ...] = (
        ("actual", "right"),
        ("n / d", "right"),
        ("target", "right"),
        ("kind", "left"),
        ("pace/yr", "right"),
        (f"31 Dec {data['year']}", "right"),
        ("", "left"),
    )
    for col, just in columns:
        table.add_column(col, justify=just)
    for i in data["indicators"]:
        table.add_row(
            kpi_lib.SHORT[i["key"]],
            pct(i["value"]),
            f"{i['numerator']:g}/{i['denominator']:g}",
            pct(i["target"]),
            {"binding": "约束", "expected": "预期"}.get(i["kind"] or "", ""),
            "" if i["pace_per_year"] is None else f"{i['pace_per_year'] * 100:+.1f} pt",
            pct(i["projected"]),
            _STATUS[i["status"]],
        )
    console.print(table)
    notes = data["notes"]
    staying = ", ".join(f"{n} {why}" for why, n in notes["rooms_staying"].items() if n)
    if staying:
        console.print(f"machine rooms that stay (not in the consolidation rate): {staying}")
    if notes["private_networks_kept"]:
        console.print(
            f"private networks kept and interconnected (not in the migration rate): {notes['private_networks_kept']}"
        )
    if "periods" in data:
        _period_table(data)
    if "groups" not in data:
        return
    keys = [k for k in kpi_lib.BREAKDOWN_COLUMNS[data["by"]]]
    by = Table(title=f"by {data['by']}")
    by.add_column(data["by"])
    for k in keys:
        by.add_column(kpi_lib.SHORT[k], justify="right")
    for g in data["groups"]:
        by.add_row(
            f"{g['name']} ({g['group']})",
            *(_cell(g["indicators"].get(k)) for k in keys),
        )
    console.print(by)


_PATH = {"ahead": "green", "behind": "red"}


def _period_table(data: dict) -> None:
    """Rows: indicators; columns: the periods; a cell is the value and its distance from
    the plan-year path (red when behind)."""
    rows = data["periods"]
    table = Table(title=f"by {data['period']}, against the plan-year path")
    table.add_column("indicator", no_wrap=True)
    for c in rows[0]["periods"]:
        table.add_column(c["period"], justify="right")
    for r in rows:
        cells = []
        for c in r["periods"]:
            if c["value"] is None:
                cells.append("—")
                continue
            text = pct(c["value"])
            if c["expected"] is not None:
                text += f" ({(c['value'] - c['expected']) * 100:+.1f})"
            colour = _PATH.get(c["status"])
            cells.append(f"[{colour}]{text}[/]" if colour else text)
        table.add_row(kpi_lib.SHORT[r["key"]], *cells)
    console.print(table)


def _cell(r: dict | None) -> str:
    """Value (n/d); its own target when one is assigned; red when below its target."""
    if r is None or r["value"] is None:
        return "—"
    text = f"{pct(r['value'])} ({r['numerator']:g}/{r['denominator']:g})"
    if r.get("assigned"):
        text += f" → {pct(r['target'])}"
    return f"[red]{text}[/]" if r.get("status") == "below" else text


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
    check_outputs(dirs=[out])  # before any work
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
        if history:  # the bureau's trend: quarterly KPI snapshots up to the city's day
            m = load(out)
            rows = kpi_lib.synthetic_history(m, SNAPSHOT_DAY, 8, seed)
            kpi_lib.write_history(kpi_lib.history_path(m), rows)
            counts["kpi_snapshots"] = len(rows)
    console.print(
        f"[green]wrote[/] {out}: "
        + ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in counts.items())
    )
