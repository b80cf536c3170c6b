"""`govctl demo`: the main job on a city, step by step, with progress shown.

The steps are a table: each takes the loaded model and the output folder and returns a
one-line summary. Later steps read what earlier ones wrote.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from capacity import kpi as kpi_lib
from govctl.common import DEFAULT_CITY, CityDir, console, err, load, pct
from model import CityModel
from model.yamlio import write_atomic


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[CityModel, Path], str]


def _kpi(m: CityModel, out: Path) -> str:
    data = kpi_lib.compute(m)
    write_atomic(out / "kpi.json", json.dumps(data, ensure_ascii=False, indent=2))
    return f"上云率 {pct(data['cloud_adoption_rate'])}, 机房整合率 {pct(data['machine_room_consolidation_rate'])} → kpi.json"


STEPS: list[Step] = [
    Step("kpi", _kpi),
]


def demo(
    city: CityDir = Path(DEFAULT_CITY),
    out: Annotated[Path, typer.Option(help="folder for every report and artefact")] = Path("demo-out"),
) -> None:
    """Run the main job on a city: validate, KPIs, plans, simulations, reports."""
    t0 = time.perf_counter()
    m = load(city)
    console.print(f"[green]✓[/] validate: {len(m.departments)} departments, {len(m.systems)} systems")
    out.mkdir(parents=True, exist_ok=True)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as progress:
        task = progress.add_task("demo", total=len(STEPS))
        for step in STEPS:
            progress.update(task, description=step.name)
            summary = step.run(m, out)
            console.print(f"[green]✓[/] {step.name}: {summary}")
            progress.advance(task)
    console.print(f"done in {time.perf_counter() - t0:.1f} s — outputs in {out}/")
