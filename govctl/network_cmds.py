"""`govctl ipv6 plan|show`, `govctl net render` and `govctl net check`: thin shells over `network/`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import JustifyMethod
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from govctl.common import DEFAULT_CITY, CityDir, JsonFlag, UserError, console, err, load, print_json
from model.outputs import check_outputs, dumps_json, write_all
from network import grammar
from network import lock as lock_lib
from network.plan import Plan, PlanError, plan_city
from network.render import RenderCheckFailed, RenderSettings, render_all
from network.settings import LEVELS, PlanSettings

ipv6_app = typer.Typer(
    help="The extranet's IPv6 address plan and its lock file.", no_args_is_help=True
)
net_app = typer.Typer(help="Device configurations of the extranet.", no_args_is_help=True)

DEFAULT_LOCK = lock_lib.DEFAULT_LOCK
LockOpt = Annotated[Path, typer.Option("--lock", help="the IPAM lock file (created when missing)")]


def _plan(
    model, lock: lock_lib.Lock | None, settings: PlanSettings | None = None, release=None
) -> Plan:
    try:
        return plan_city(model, settings, lock, release or [])
    except PlanError as exc:
        raise UserError(str(exc)) from None


def _settings(
    agg: str, county: int | None, township: int | None, village: int | None, reserve: list[str]
) -> PlanSettings | None:
    if county is None and township is None and village is None and not reserve:
        return None
    base = PlanSettings.for_aggregate(
        int(agg.split("/")[1]), county_len=county, township_len=township, village_len=village
    )
    fractions = dict(base.reserve)
    for item in reserve:
        level, _, value = item.partition("=")
        try:
            fractions[level.strip()] = float(value)
        except ValueError:
            raise UserError(
                f"--reserve {item!r}: expected LEVEL=FRACTION, e.g. village=0.125"
            ) from None
    return PlanSettings(base.county_len, base.township_len, base.village_len, fractions)


@ipv6_app.command("plan")
def plan(
    city: CityDir = Path(DEFAULT_CITY),
    lock: LockOpt = DEFAULT_LOCK,
    out: Annotated[Path | None, typer.Option(help="write the plan as JSON here")] = None,
    release: Annotated[
        list[str], typer.Option(help="give back a removed site's (or device's) space")
    ] = [],  # noqa: B006
    county_len: Annotated[
        int | None, typer.Option("--county-len", help="county block length (new lock only)")
    ] = None,
    township_len: Annotated[int | None, typer.Option("--township-len")] = None,
    village_len: Annotated[int | None, typer.Option("--village-len")] = None,
    reserve: Annotated[
        list[str], typer.Option(help="growth reserve LEVEL=FRACTION (new lock only)")
    ] = [],  # noqa: B006
    as_json: JsonFlag = False,
) -> None:
    """Plan (or re-plan) the extranet's IPv6 addresses; existing prefixes never move."""
    check_outputs(files=[out], inputs=[city, lock])  # before any work
    model = load(city)
    settings = _settings(model.city.ipv6_prefix, county_len, township_len, village_len, reserve)
    with lock_lib.open_lock(lock, model, update=True) as opened:
        old = opened.lock
        result = _plan(model, old, settings, release)
        text = opened.new_text(result.lock)
        changed = text is not None
        files: dict[Path, str] = {}
        if out is not None:
            files[out] = dumps_json(result.to_json(), separators=(",", ":"))
        if text is not None:
            files[opened.target] = text  # the lock last, together with the plan JSON
        write_all(files)
    if as_json:
        print_json(_summary(result) | {"lock": str(lock), "released": release})
        return
    _print_summary(
        result, lock, "created" if old is None else ("updated" if changed else "unchanged"), release
    )


def _summary(p: Plan) -> dict:
    return {
        "schema_version": 1,
        "aggregate": p.aggregate,
        "new_prefixes": p.new,
        "reserved_sites": len(p.reserved),
        "levels": [
            {
                "level": s.level,
                "prefix_len": s.prefix_len,
                "active": s.active,
                "reserved": s.reserved,
                "capacity": s.capacity,
                "utilisation": round(s.utilisation, 4),
                "tightest_parent": s.tightest_parent,
                "tightest_free": s.tightest_free,
            }
            for s in p.stats
        ],
        "loopbacks": len(p.loopbacks),
        "links": len(p.links),
    }


def _print_summary(p: Plan, lock: Path, what: str, release: list[str]) -> None:
    table = Table(
        title=f"IPv6 plan of {p.aggregate}",
        caption="headroom: free slots of the fullest parent block",
    )
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("level", "left"),
        ("blocks", "right"),
        ("in use", "right"),
        ("reserved", "right"),
        ("capacity", "right"),
        ("used", "right"),
        ("headroom", "left"),
    )
    for col, just in columns:
        table.add_column(col, justify=just)
    for s in p.stats:
        head = (
            "—" if s.tightest_parent is None else f"{s.tightest_free} free in {s.tightest_parent}"
        )
        style = "red" if s.tightest_free == 0 else ("yellow" if s.utilisation > 0.8 else "")
        table.add_row(
            s.level,
            f"/{s.prefix_len}",
            f"{s.active:,}",
            f"{s.reserved:,}",
            f"{s.capacity:,}",
            f"[{style}]{s.utilisation * 100:.1f}%[/]" if style else f"{s.utilisation * 100:.1f}%",
            head,
        )
    console.print(table)
    console.print(
        f"{len(p.loopbacks):,} loopbacks (/128), {len(p.links):,} links (/127); "
        f"{p.new:,} new prefixes; lock {lock} {what}"
        + (f"; released {', '.join(release)}" if release else "")
    )


@ipv6_app.command("show")
def show(
    city: Annotated[Path, typer.Argument(help="city model directory")],
    code: Annotated[str, typer.Argument(help="site code (12 digits) or device hostname")],
    lock: LockOpt = DEFAULT_LOCK,
    as_json: JsonFlag = False,
) -> None:
    """Explain one site's (or device's) addresses: its block, infrastructure slot, devices, links."""
    model = load(city)
    with lock_lib.open_lock(lock, model) as opened:
        p = _plan(model, opened.lock)
    if code in model.devices_by_hostname:
        code = model.devices_by_hostname[code][1].code
    alloc = p.by_site.get(code)
    if alloc is None:
        gone = next((a for a in p.reserved if a.site == code), None)
        if gone is None:
            raise UserError(f"{code}: no such site code or hostname in {city}")
        data: dict[str, Any] = {
            "site": code,
            "level": gone.level,
            "prefix": gone.prefix,
            "parent": gone.parent,
            "state": "removed from the model; reserved until --release",
        }
    else:
        site = model.sites_by_code[code]
        children = [a for a in p.allocations if a.parent == code]
        devices = []
        for d in site.devices:
            links = [
                {
                    "peer": ln.b if ln.a == d.hostname else ln.a,
                    "prefix": ln.prefix,
                    "address": ln.address_of(d.hostname),
                }
                for ln in p.links_of.get(d.hostname, [])
            ]
            devices.append(
                {
                    "hostname": d.hostname,
                    "platform": d.platform.value,
                    "loopback": p.loopback_of[d.hostname] + "/128",
                    "links": links,
                }
            )
        data = {
            "site": code,
            "name": site.name,
            "level": alloc.level,
            "prefix": alloc.prefix,
            "parent": alloc.parent,
            "infrastructure": p.infra(code),
            "children": len(children),
            "devices": devices,
        }
    if as_json:
        print_json({"schema_version": 1} | data)
        return
    console.print(
        f"[bold]{data['site']}[/] {data.get('name', '')} — {data['level']} block [bold]{data['prefix']}[/]"
        f" (parent {data['parent'] or '—'})"
    )
    if "state" in data:
        console.print(data["state"])
        return
    infra = data["infrastructure"]
    console.print(
        f"slot 0 (infrastructure): loopbacks {infra['loopbacks']}"
        + (f", links {infra['links']}" if "links" in infra else "")
        + f", LAN {infra['lan']}"
    )
    if data["level"] != LEVELS[-1]:
        console.print(f"{data['children']} child blocks allocated")
    for dev in data["devices"]:
        console.print(f"  {dev['hostname']} ({dev['platform']}): loopback {dev['loopback']}")
        for ln in dev["links"]:
            console.print(f"    {ln['address']} on {ln['prefix']} to {ln['peer']}")


@net_app.command("render")
def render(
    city: CityDir = Path(DEFAULT_CITY),
    out: Annotated[
        Path, typer.Option(help="directory for <hostname>.cfg and <hostname>.rollback.cfg")
    ] = Path("out/configs"),
    lock: LockOpt = DEFAULT_LOCK,
    workers: Annotated[int, typer.Option(min=0, help="worker processes (0: one per CPU)")] = 0,
    ospf_hello: Annotated[
        int | None,
        typer.Option(
            "--ospf-hello",
            help="OSPFv3 hello interval (s) on every link; default: the vendor's (10 s)",
        ),
    ] = None,
    ospf_dead: Annotated[
        int | None,
        typer.Option("--ospf-dead", help="OSPFv3 dead interval (s); default: 4 × --ospf-hello"),
    ] = None,
    ospf_retransmit: Annotated[
        int | None,
        typer.Option(
            "--ospf-retransmit",
            help="OSPFv3 LSA retransmit interval (s); default: the vendor's (5 s)",
        ),
    ] = None,
) -> None:
    """Render every device's IPv6 config (and its rollback) from the plan in the lock."""
    settings = RenderSettings(ospf_hello, ospf_dead, ospf_retransmit)
    if settings.problems():
        raise UserError("; ".join(settings.problems()))
    check_outputs(dirs=[out], inputs=[city, lock])  # before any work
    model = load(city)
    with lock_lib.open_lock(lock, model) as opened:
        if opened.lock is None:
            raise UserError(
                f"{lock}: no IPAM lock yet — run `govctl ipv6 plan {city} --lock {lock}` first"
            )
        p = _plan(model, opened.lock)
    if p.new:
        raise UserError(
            f"the lock {lock} lacks {p.new} allocations for sites or devices added since it was written; "
            f"run `govctl ipv6 plan {city} --lock {lock}` first"
        )
    total = len(model.devices_by_hostname)
    columns = (TextColumn("rendering"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=err, transient=False) as bar:
            task = bar.add_task("render", total=total)
            n = render_all(
                model,
                p,
                out,
                workers=workers or None,
                progress=lambda k: bar.advance(task, k),
                settings=settings,
            )
    except RenderCheckFailed as exc:
        _print_findings(exc.findings)
        err.print(
            f"[red]nothing written[/]: {len(exc.findings)} line(s) the platform grammar refuses"
        )
        raise typer.Exit(2) from None
    console.print(
        f"[green]wrote[/] {n:,} configs and {n:,} rollbacks to {out} (all passed net check)"
    )


def _print_findings(findings: list[grammar.Finding], limit: int = 200) -> None:
    for f in findings[:limit]:
        err.print(str(f), markup=False, highlight=False)
    if len(findings) > limit:
        err.print(f"… and {len(findings) - limit} more", markup=False)


@net_app.command("check")
def check(
    paths: Annotated[
        list[Path], typer.Argument(help="config files, or folders whose *.cfg files to check")
    ],
    platform: Annotated[
        str | None,
        typer.Option(
            help=f"grammar to check with ({', '.join(grammar.PLATFORMS)}); default: the file's header"
        ),
    ] = None,
    workers: Annotated[int, typer.Option(min=0, help="worker processes (0: one per CPU)")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Check every line of rendered configs and rollbacks against the vendor grammar.

    Prints `file:line: platform: message` for each unknown command, wrong view, bad argument,
    undo form that does not exist, or block left open; exit 2 on any finding, 0 when clean."""
    if platform is not None and platform not in grammar.PLATFORMS:
        raise UserError(f"--platform {platform}: one of {', '.join(grammar.PLATFORMS)}")
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UserError(f"no such file or folder: {', '.join(missing)}")
    files = grammar.config_files(paths)
    findings = grammar.check_files(files, platform, workers or None)
    if as_json:
        print_json(
            {
                "schema_version": 1,
                "files": len(files),
                "findings": [f.to_json() for f in findings],
            }
        )
    else:
        _print_findings(findings, limit=len(findings))
        bad = len({f.path for f in findings})
        colour = "red" if findings else "green"
        err.print(
            f"[{colour}]{len(files):,} files checked[/], {len(findings)} finding(s) in {bad} file(s)"
        )
    if findings:
        raise typer.Exit(2)
