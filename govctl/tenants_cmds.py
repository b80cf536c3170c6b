"""`govctl tenants render`: the government cloud's Kubernetes objects, as YAML, per cluster.

A thin shell over `infra.render`: it runs the Pulumi program (`infra/`) under Pulumi's mocks
and writes what the program would create. `preview|up|destroy` through the real engine
come with the Pulumi CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
from infra.plan import PlacementError
from infra.settings import StackSettings

tenants_app = typer.Typer(help="Department tenants, migrated systems and DR on the government cloud.",
                          no_args_is_help=True)


@tenants_app.command("render")
def render_cmd(
    city: CityDir = Path(DEFAULT_CITY),
    out: Annotated[Path, typer.Option(help="directory to write <cluster>/<namespace>.yaml and outputs.json into")] = Path("tenants-out"),
    wave: Annotated[int | None, typer.Option(help="migration wave applied (legacy systems of waves ≤ N appear)", min=0)] = None,
    failover: Annotated[list[str] | None, typer.Option(help="system id whose DR replica runs (repeatable)")] = None,
    registry: Annotated[str, typer.Option(help="image registry")] = StackSettings.registry,
    as_json: JsonFlag = False,
) -> None:
    """Write every Kubernetes object the Pulumi program would create, one folder per cluster."""
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a directory")
    from infra.render import render, write  # Pulumi's SDK loads in seconds: only when needed

    m = load(city)
    settings = StackSettings(model=str(city), wave=wave, failover=frozenset(failover or ()), registry=registry)
    try:
        with err.status(f"running the Pulumi program under mocks for {len(m.departments)} departments…"):
            rendered = render(m, settings)
    except PlacementError as exc:
        raise UserError(str(exc)) from None
    n = write(rendered, out)
    o = rendered.outputs
    if as_json:
        print_json(o)
        return
    per = ", ".join(f"{c}: {v['workloads']} workloads in {v['tenants']} tenants" for c, v in o["clusters"].items())
    console.print(f"[green]wrote[/] {n:,} objects under {out}/ ({per})")
    console.print(f"cloud adoption after wave {wave}: {pct(o['adoption_rate'])} (target {pct(o['adoption_target'])}); "
                  f"{len(o['blocking_systems'])} systems not yet on the cloud; {len(o['dr_gaps'])} DR gaps")
