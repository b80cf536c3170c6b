"""`govctl lab up|down|status`: the extranet's namespace lab (see `lab/README.md`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from govctl.common import DEFAULT_CITY, JsonFlag, UserError, console, keeps, load, print_json
from lab import extranet, topology

lab_app = typer.Typer(
    help="The namespace lab: FRR + sshd per extranet device, in network namespaces.",
    no_args_is_help=True,
)

LabDir = Annotated[
    Path,
    typer.Option("--lab-dir", help="where the lab keeps its state, keys, configs and inventory"),
]
City = Annotated[Path, typer.Option("--city", help="the city the lab's topology is cut from")]
Spec = Annotated[
    str,
    typer.Option(
        "--topology", help="COUNTIESxTOWNSHIPSxVILLAGES taken from the city (2x2x2: 15 nodes)"
    ),
]


Platforms = Annotated[
    str,
    typer.Option(
        "--platforms",
        help="frr: every node FRR; mixed: each node's platform from the city, as a vendor twin",
    ),
]


def _topology(city: Path, spec: str, lab_dir: Path, platforms: str = "") -> topology.Topology:
    state = extranet.State(lab_dir) if (lab_dir / extranet.STATE_FILE).exists() else None
    if state and not spec:
        spec, city = state.data["spec"], Path(state.data["city"])
    if state and not platforms:
        platforms = state.data.get("platforms") or ""
    try:
        return topology.build(load(city), spec or topology.DEFAULT_SPEC, platforms or "frr")
    except topology.TopologyError as exc:
        raise UserError(str(exc)) from None


def _guard(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except extranet.LabError as exc:
        raise UserError(str(exc)) from None


@lab_app.command("up")
def up(
    city: City = Path(DEFAULT_CITY),
    spec: Spec = "",
    lab_dir: LabDir = extranet.DEFAULT_LAB_DIR,
    platforms: Platforms = "",
    as_json: JsonFlag = False,
) -> None:
    """Build the lab (or repair it: re-running creates what is missing, restarts stopped daemons)."""
    _guard(extranet._require)
    topo = _topology(city, spec, lab_dir, platforms)
    kept = (
        f"what was built so far is recorded in {lab_dir / extranet.STATE_FILE}: "
        "`govctl lab up` finishes it, `govctl lab down` removes it"
    )
    with keeps(kept), Progress(console=console, transient=True, disable=as_json) as bar:
        task = bar.add_task("starting nodes", total=len(topo.nodes))
        status = _guard(
            extranet.up,
            topo,
            lab_dir,
            spec or ("" if (lab_dir / extranet.STATE_FILE).exists() else topology.DEFAULT_SPEC),
            str(city),
            progress=lambda name: bar.update(task, advance=1, description=name),
        )
    made = _guard(extranet.prepare, topo, lab_dir)
    if as_json:
        print_json({**status, **made})
        return
    console.print(
        f"[green]lab up[/]: {len(topo.nodes)} nodes, {len(topo.links)} links; inventory {made['inventory']}"
    )


@lab_app.command("down")
def down(lab_dir: LabDir = extranet.DEFAULT_LAB_DIR, as_json: JsonFlag = False) -> None:
    """Remove exactly what `up` made: namespaces, links, daemons, the login user, lab files."""
    result = _guard(extranet.down, lab_dir)
    if as_json:
        print_json({"schema_version": extranet.SCHEMA_VERSION, **result})
        return
    console.print(f"[green]lab down[/]: removed {len(result['removed']['netns'])} namespaces")


@lab_app.command("status")
def status(lab_dir: LabDir = extranet.DEFAULT_LAB_DIR, as_json: JsonFlag = False) -> None:
    """Each node's namespace, level, management address and daemons."""
    data: dict[str, Any]
    if not (lab_dir / extranet.STATE_FILE).exists():
        data = {
            "schema_version": extranet.SCHEMA_VERSION,
            "up": False,
            "topology": None,
            "nodes": [],
        }
    else:
        data = extranet.status(_topology(Path(DEFAULT_CITY), "", lab_dir), lab_dir)
    if as_json:
        print_json(data)
        return
    if not data["nodes"]:
        console.print("no lab: run `govctl lab up`")
        return
    table = Table(title=f"lab ({data['topology']}) — {'up' if data['up'] else 'degraded'}")
    for col in ("name", "netns", "level", "mgmt", "zebra", "ospf6d", "sshd"):
        table.add_column(col)
    for n in data["nodes"]:
        table.add_row(
            n["name"],
            n["netns"],
            n["level"],
            n["mgmt"],
            *(
                "[green]up[/]" if n["daemons"][d] else "[red]down[/]"
                for d in ("zebra", "ospf6d", "sshd")
            ),
        )
    console.print(table)
