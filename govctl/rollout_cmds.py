"""`govctl net push`: the direct path of the IPv6 rollout, a thread pool over Netmiko.

For emergencies and for speed; it runs the same `network.driver` code as the Ansible module,
level by level like `playbooks/ipv6_rollout.yml`, from the same inventory file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from govctl.common import JsonFlag, UserError, console, keeps, print_json
from lab.extranet import DEFAULT_LAB_DIR
from model.schema import LEVELS

SCHEMA_VERSION = 1


def push(
    inventory: Annotated[
        Path,
        typer.Option(
            "--inventory", "-i", help="inventory file (static, or a plugin: govcloud_extranet file)"
        ),
    ] = DEFAULT_LAB_DIR / "inventory.yml",
    configs: Annotated[
        Path | None,
        typer.Option(help="rendered configs (<hostname>.cfg); default: the inventory's config_dir"),
    ] = None,
    backup_dir: Annotated[
        Path | None,
        typer.Option(
            "--backup-dir", help="where pre-change configs go; default: the inventory's backup_dir"
        ),
    ] = None,
    limit: Annotated[
        str,
        typer.Option(help="comma-separated hostnames or levels (city, county, township, village)"),
    ] = "",
    workers: Annotated[
        int, typer.Option(min=1, max=256, help="devices pushed at once within a level")
    ] = 15,
    max_fail: Annotated[
        float,
        typer.Option(
            "--max-fail",
            min=0,
            max=100,
            help="stop when a level's failed share exceeds this percentage",
        ),
    ] = 30.0,
    check: Annotated[
        bool, typer.Option("--check", help="show the lines each device would get; touch nothing")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Push the rendered configs directly (backup, push, post-check, rollback on failure)."""
    from network import driver
    from playbooks import inventory as inv

    if not inventory.is_file():
        raise UserError(
            f"{inventory}: no inventory (run `govctl lab up`, or point --inventory at one)"
        )
    try:
        hosts = inv.hosts(inv.load(inventory))
    except (ValueError, KeyError) as exc:
        raise UserError(str(exc)) from None
    wanted = {x.strip() for x in limit.split(",") if x.strip()}
    unknown = wanted - {h["name"] for h in hosts} - set(LEVELS)
    if unknown:
        raise UserError(f"--limit: no such host or level: {', '.join(sorted(unknown))}")
    levels: list[list[dict]] = []
    for level in LEVELS:
        items = []
        for h in hosts:
            if h["level"] != level or (wanted and not wanted & {h["name"], level}):
                continue
            cfg = Path(configs or h["config_dir"]) / f"{h['name']}.cfg"
            if not cfg.is_file():
                raise UserError(
                    f"{cfg}: no rendered config for {h['name']} (run `govctl net render` first)"
                )
            target = driver.Target(
                hostname=h["name"],
                host=h["ansible_host"],
                platform=h.get("platform_variant") or h["platform"],
                username=h.get("net_username") or os.environ.get("GOVCLOUD_NET_USERNAME", ""),
                password=os.environ.get("GOVCLOUD_NET_PASSWORD"),
                key_file=h.get("net_key_file"),
                known_hosts=h.get("net_known_hosts"),
            )
            items.append(
                {
                    "target": target,
                    "candidate": cfg.read_text(),
                    "backup_dir": Path(backup_dir or h["backup_dir"]),
                    "uplinks": h.get("uplinks") or [],
                    "parent_loopback": h.get("parent_loopback"),
                }
            )
        levels.append(items)
    total = sum(map(len, levels))
    done: list[str] = []

    def kept() -> str | None:  # Ctrl-C: what stays changed on the devices
        if check:
            return None
        return (
            f"devices pushed before the interrupt keep their new configs ({len(done)} done; the "
            "level under way finishes, each device with its post-check and rollback); the "
            "levels after it were not touched"
        )

    with keeps(kept), Progress(console=console, transient=True, disable=as_json) as bar:
        task = bar.add_task("pushing", total=total)

        def finished(r: dict) -> None:
            done.append(r["hostname"])
            bar.update(task, advance=1, description=r["hostname"])

        out = driver.rollout(levels, workers, max_fail / 100, check_mode=check, on_done=finished)
    data = {"schema_version": SCHEMA_VERSION, "check": check, **out}
    if as_json:
        print_json(data)
    else:
        _table(data)
    if any(r["status"] != "ok" for r in out["results"]) or out["stopped_at_level"] is not None:
        raise typer.Exit(1)


def _table(data: dict) -> None:
    table = Table(title="govctl net push" + (" --check" if data["check"] else ""))
    for col in ("device", "status", "changed", "lines", "seconds", "message"):
        table.add_column(col)
    for r in data["results"]:
        colour = "green" if r["status"] == "ok" else "red"
        table.add_row(
            r["hostname"],
            f"[{colour}]{r['status']}[/]",
            "yes" if r["changed"] else "no",
            str(len(r["commands"])),
            f"{r['seconds']:.1f}",
            r["message"],
        )
    console.print(table)
    if data["check"]:
        for r in data["results"]:
            if r["commands"]:
                console.print(f"[bold]{r['hostname']}[/]")
                console.print(
                    "\n".join(f"+{line}" for line in r["commands"]), markup=False, highlight=False
                )
    if data["stopped_at_level"] is not None:
        console.print(
            f"[red]stopped:[/] too many failures at the {LEVELS[data['stopped_at_level']]} level"
        )
