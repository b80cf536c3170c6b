"""Device configs from the plan: one Jinja2 template per platform, plain data in, text out.

`device_context(model, plan, hostname)` gathers everything one device needs (its interfaces
with names and addresses, routing, security baseline, management services) as plain data;
`render_device(model, plan, hostname)` renders the platform's template into the config and
its rollback. `render_all` writes `<hostname>.cfg` and `<hostname>.rollback.cfg` for every
device, all-or-nothing, rendering in a pool of forked worker processes.
"""

from __future__ import annotations

import ipaddress
import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jinja2

from model.yamlio import StagedDir, write_atomic
from network.plan import Link, Plan
from network.platforms import PlatformFacts, facts
from network.settings import parse_net

TEMPLATES = Path(__file__).with_name("templates")
BACKBONE = "0.0.0.0"
OSPF_PROCESS = 1
MGMT_ACL = {"name": "MGMT-V6", "number": 2001}
"""Named ACL (Cisco-style CLIs, FRR) / basic ACL6 number (Huawei, H3C) guarding the vty."""
SERVICES = {"ntp": (0x11, 0x12), "syslog": (0x21,), "snmp": (0x31,)}
"""Host numbers of the management services inside the city NOC /64."""
SNMP_USER = "govnms"
"""SNMPv3 user for traps; its keys are provisioned out of band (never in the repository)."""


@dataclass(frozen=True)
class RenderedConfig:
    hostname: str
    platform: str
    config: str
    rollback: str
    addresses: list[str] = field(default_factory=list)
    """Every IPv6 address/length the config assigns to the device."""


# --- context -------------------------------------------------------------------------


def _host(prefix: str, number: int) -> str:
    net, _ = parse_net(prefix)
    return str(ipaddress.IPv6Address(net + number))


def _area(plan: Plan, county: str | None, level: str) -> str:
    if county is None or level in ("city", "county"):
        return BACKBONE
    return str(ipaddress.IPv4Address(plan.county_slot(county)))


def _link(ln: Link, me: str, name: str, area: str | None, bandwidth: int | None = None) -> dict:
    peer = ln.a if ln.b == me else ln.b
    net, length = parse_net(ln.prefix)
    mine, theirs = (net + 1, net) if ln.b == me else (net, net + 1)
    return {"name": name, "peer": peer, "address": str(ipaddress.IPv6Address(mine)), "len": length,
            "peer_address": str(ipaddress.IPv6Address(theirs)), "prefix": ln.prefix, "area": area,
            "bandwidth_mbps": bandwidth, "role": "uplink" if ln.b == me else "downlink"}


def device_context(model, plan: Plan, hostname: str) -> dict:
    """Everything the templates need for one device, as plain data."""
    device, site = model.devices_by_hostname[hostname]
    f = facts(device.platform)
    by_host = model.devices_by_hostname
    routing = model.network.routing
    ospf = routing == "ospfv3"
    my_area = _area(plan, site.county, site.level)
    links = plan.links_of.get(hostname, [])
    up_by_peer = {ln.a: ln for ln in links if ln.b == hostname}
    uplinks = []
    for i, u in enumerate(device.uplinks):
        name = u.interface or f.uplink.format(n=f.first_port + i)
        managed = u.peer in by_host
        uplinks.append(_link(up_by_peer[u.peer], hostname, name, my_area if (ospf and managed) else None,
                             u.bandwidth_mbps))
    downlinks = []
    for j, ln in enumerate(x for x in links if x.a == hostname):
        _, child_site = by_host[ln.b]
        area = _area(plan, child_site.county, child_site.level) if ospf else None
        downlinks.append(_link(ln, hostname, f.downlink.format(n=f.first_port + j), area) |
                         {"child_prefix": plan.by_site[child_site.code].prefix})
    loopback = {"name": f.loopback, "address": plan.loopback_of[hostname], "len": 128, "area": my_area if ospf else None}
    lan = None
    if site.level in ("township", "village") and site.devices[0].hostname == hostname:
        prefix = plan.infra(site.code)["lan"]
        lan = {"name": f.lan, "prefix": prefix, "network": prefix.split("/")[0], "len": 64,
               "address": _host(prefix, 1), "ra": site.level == "village", "area": my_area if ospf else None}
    statics = []
    upstream_default = not ospf or site.level == "city"
    if upstream_default:
        statics += [{"prefix": "::/0", "network": "::", "len": 0, "next_hop": u["peer_address"], "interface": u["name"]}
                    for u in uplinks]
    if not ospf:
        for d in downlinks:
            net, length = d["child_prefix"].split("/")
            statics.append({"prefix": d["child_prefix"], "network": net, "len": int(length),
                            "next_hop": d["peer_address"], "interface": d["name"]})
    noc = plan.infra(model.network.city_core.code)["lan"]
    noc_net, noc_len = noc.split("/")
    addresses = [f"{loopback['address']}/128"] + [f"{x['address']}/{x['len']}" for x in uplinks + downlinks]
    if lan:
        addresses.append(f"{lan['address']}/64")
    return {
        "hostname": hostname, "platform": f.name, "role": device.role.value, "level": site.level,
        "site": {"code": site.code, "name": site.name, "prefix": plan.by_site[site.code].prefix},
        "f": f, "router_id": device.mgmt_ipv4, "routing": routing, "ospf_process": OSPF_PROCESS,
        "area": my_area, "loopback": loopback, "uplinks": uplinks, "downlinks": downlinks,
        "interfaces": uplinks + downlinks, "lan": lan,
        "ospf_areas": sorted({x["area"] for x in [loopback, lan or {}, *uplinks, *downlinks] if x.get("area")}),
        "originate_default": ospf and site.level == "city",
        "static_routes": statics,
        "host_ports": f.host_ports if (f.ra_guard and device.role.value == "access") else None,
        "mgmt": {**MGMT_ACL, "prefix": noc, "network": noc_net, "len": int(noc_len)},
        "ntp": [_host(noc, n) for n in SERVICES["ntp"]] if f.ntp else [],
        "syslog": [_host(noc, n) for n in SERVICES["syslog"]] if f.remote_syslog else [],
        "snmp": [_host(noc, n) for n in SERVICES["snmp"]] if f.snmp else [],
        "snmp_user": SNMP_USER,
        "addresses": addresses,
    }


# --- templates -----------------------------------------------------------------------


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The Jinja2 environment, built once per process; templates compile once and are cached."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                              auto_reload=False, autoescape=False)


def _block(template: jinja2.Template, name: str, ctx: dict) -> str:
    return "".join(template.blocks[name](template.new_context(ctx)))


def render_context(ctx: dict, platform: PlatformFacts | None = None) -> RenderedConfig:
    f = platform or ctx["f"]
    template = environment().get_template(f.template)
    ctx = {**ctx, "f": f}
    return RenderedConfig(ctx["hostname"], f.name, _block(template, "config", ctx), _block(template, "rollback", ctx),
                          ctx["addresses"])


def render_device(model, plan: Plan, hostname: str) -> RenderedConfig:
    """The config and rollback text of ONE device (what the Ansible module and `net push` send)."""
    return render_context(device_context(model, plan, hostname))


# --- all devices ---------------------------------------------------------------------

_JOB: dict = {}


def _render_chunk(args: tuple[list[str], str]) -> int:
    hostnames, stage = args
    model, plan = _JOB["model"], _JOB["plan"]
    for h in hostnames:
        r = render_device(model, plan, h)
        _write(Path(stage), r)
    return len(hostnames)


def _write(stage: Path, r: RenderedConfig) -> None:
    (stage / f"{r.hostname}.cfg").write_text(r.config, encoding="utf-8")
    (stage / f"{r.hostname}.rollback.cfg").write_text(r.rollback, encoding="utf-8")


def render_all(model, plan: Plan, out: Path, workers: int | None = None,
               progress: Callable[[int], None] | None = None, chunk: int = 250) -> int:
    """Write every device's config and rollback into `out`, all-or-nothing. Returns the count.

    Files go to a staging folder (plain writes: the folder as a whole is what is atomic) and
    are moved in when every one was written. Workers are forked, so they share the model
    and the plan without pickling them."""
    hosts = list(model.devices_by_hostname)
    workers = workers or min(len(os.sched_getaffinity(0)), 8)
    chunks = [hosts[i:i + chunk] for i in range(0, len(hosts), chunk)]
    with StagedDir(Path(out)) as stage:
        if workers <= 1 or len(chunks) <= 1:
            for c in chunks:
                progress and progress(_render_local(model, plan, c, stage))
        else:
            _JOB.update(model=model, plan=plan)
            try:
                ctx = multiprocessing.get_context("fork")
                with ctx.Pool(workers) as pool:
                    for n in pool.imap_unordered(_render_chunk, [(c, str(stage)) for c in chunks]):
                        progress and progress(n)
            finally:
                _JOB.clear()
        write_atomic(stage / "README.txt", _README)
    return len(hosts)


def _render_local(model, plan: Plan, hostnames: list[str], stage: Path) -> int:
    for h in hostnames:
        _write(stage, render_device(model, plan, h))
    return len(hostnames)


_README = """Rendered by `govctl net render` from the city model and its IPv6 plan.
<hostname>.cfg           configuration-mode lines that add IPv6 (dual stack beside IPv4)
<hostname>.rollback.cfg  configuration-mode lines that remove exactly what .cfg added
Send either with the platform's config mode (see network/platforms.py); then save.
"""
