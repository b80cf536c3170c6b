"""`govctl lab k8s up|down|status`: local Kubernetes control planes for the city's clusters.

A thin shell over `lab.k8s`: one etcd + kube-apiserver + kube-controller-manager on
loopback per cluster the Pulumi program names (one per cloud zone, one for the same-city DR
site), and `.lab/kubeconfig` with one context per cluster, named as the program names them,
so `govctl tenants up CITY --kubeconfig .lab/kubeconfig` applies to them as they are.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from govctl.common import (
    DEFAULT_CITY,
    JsonFlag,
    UserError,
    console,
    err,
    keeps,
    load,
    print_json,
)
from infra import plan as planner
from lab import k8s

SCHEMA_VERSION = 1

k8s_app = typer.Typer(
    help="Local Kubernetes control planes (etcd + kube-apiserver + controller manager) "
    "for the city's clusters.",
    no_args_is_help=True,
)

LabDir = Annotated[
    Path,
    typer.Option(
        "--lab-dir", help="lab directory: state in <dir>/k8s, kubeconfig <dir>/kubeconfig"
    ),
]
City = Annotated[Path, typer.Option("--city", help="the city whose clusters to start")]


def cluster_names(city: Path) -> list[str]:
    """The clusters the Pulumi program deploys to for this city: its zones, then the DR site."""
    try:
        clusters, _dr = planner.clusters(load(city))
    except planner.PlacementError as exc:
        raise UserError(str(exc)) from None
    return list(clusters)


def _guard(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except k8s.LabError as exc:
        raise UserError(str(exc)) from None


@k8s_app.command("up")
def up(
    city: City = Path(DEFAULT_CITY),
    lab_dir: LabDir = k8s.DEFAULT_LAB_DIR,
    as_json: JsonFlag = False,
) -> None:
    """Start a control plane per cluster of the city (healthy ones are left alone) and write the kubeconfig."""
    names = cluster_names(city)
    _guard(k8s.find_binaries)
    quiet = contextlib.nullcontext()
    kept = (
        f"the processes started so far are recorded in {lab_dir / 'k8s' / k8s.STATE_FILE}: "
        "`govctl lab k8s up` finishes, `govctl lab k8s down` stops them"
    )
    with (
        keeps(kept),
        quiet
        if as_json
        else err.status(f"starting {len(names)} control planes ({', '.join(names)})…"),
    ):
        result = _guard(k8s.up, lab_dir / "k8s", names, kubeconfig=lab_dir / "kubeconfig")
    if as_json:
        print_json({"schema_version": SCHEMA_VERSION, **result})
        return
    for name, c in result["clusters"].items():
        how = f"started in {c['startup_seconds']} s" if c["started"] else "already running"
        console.print(f"[green]{name}[/]: {c['server']} ({how})")
    console.print(f"kubeconfig: {result['kubeconfig']} (contexts: {', '.join(result['clusters'])})")


@k8s_app.command("status")
def status(lab_dir: LabDir = k8s.DEFAULT_LAB_DIR, as_json: JsonFlag = False) -> None:
    """Each cluster's API server, health and processes."""
    report = k8s.status(lab_dir / "k8s")
    if as_json:
        print_json(
            {
                "schema_version": SCHEMA_VERSION,
                "kubeconfig": k8s.kubeconfig_of(lab_dir / "k8s"),
                "clusters": report,
            }
        )
        return
    if not report:
        console.print("no control planes: run `govctl lab k8s up`")
        return
    table = Table(title=f"Kubernetes lab — kubeconfig {k8s.kubeconfig_of(lab_dir / 'k8s')}")
    for col in ("cluster", "server", "healthy", *k8s.PROCESSES):
        table.add_column(col)
    for name, c in report.items():
        table.add_row(
            name,
            c["server"],
            "[green]yes[/]" if c["healthy"] else "[red]no[/]",
            *(f"{p['pid']}" if p["alive"] else "[red]down[/]" for p in c["processes"].values()),
        )
    console.print(table)


@k8s_app.command("down")
def down(lab_dir: LabDir = k8s.DEFAULT_LAB_DIR, as_json: JsonFlag = False) -> None:
    """Stop exactly the processes `up` started and remove their data and the kubeconfig."""
    removed = k8s.down(lab_dir / "k8s")
    if as_json:
        print_json({"schema_version": SCHEMA_VERSION, "removed": removed})
        return
    console.print(
        f"[green]removed[/] {len(removed)} control planes"
        + (f" ({', '.join(removed)})" if removed else "")
    )
