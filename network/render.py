"""Device configs from the plan: one Jinja2 template per platform, plain data in, text out.

`device_context(model, plan, hostname)` gathers everything one device needs (its interfaces
with names and addresses, routing, security baseline, management services) as plain data;
`render_device(model, plan, hostname)` renders the platform's template into the config and
its rollback. `RenderSettings` holds what is a choice of the rollout rather than a fact of
the plan: OSPFv3 interface timers (vendor defaults unless set; the lab sets fast ones).
`render_all` writes `<hostname>.cfg` and `<hostname>.rollback.cfg` for every device,
all-or-nothing, rendering in a pool of forked worker processes and checking every file
against its platform's grammar (network/grammar/) before anything is written.
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

from model.outputs import StagedDir, quiet_worker, write_atomic
from network import grammar
from network.plan import Link, Plan, uplink_numbers
from network.platforms import PlatformFacts, facts, family_of
from network.settings import fmt_addr, parse_net

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
class RenderSettings:
    """Rendering choices that are not in the plan: the OSPFv3 timers (seconds) of every
    point-to-point link. None leaves the platform's default (hello 10, dead 40, retransmit 5),
    which is what real devices keep. Hello and dead must agree on both ends of a link, so set
    them for a whole rollout or not at all. The lab uses hello 1, dead 4, retransmit 1: a
    post-check then sees a new adjacency Full within a second or two instead of waiting for
    a 10 s hello (and for a 5 s retransmit of the first lost link-state request)."""

    ospf_hello: int | None = None
    ospf_dead: int | None = None
    ospf_retransmit: int | None = None

    def problems(self) -> list[str]:
        out = []
        hello, dead = self.ospf_hello, self.dead
        if hello is None and self.ospf_dead is not None:
            out.append("--ospf-dead needs --ospf-hello")
        elif hello is not None and not 1 <= hello <= 65535:
            out.append(f"OSPFv3 hello interval {hello} s: must be 1–65535")
        elif hello is not None and dead is not None and not hello < dead <= 65535:
            out.append(
                f"OSPFv3 dead interval {dead} s: must be longer than the hello interval "
                f"({hello} s) and at most 65535 (4 × hello is usual)"
            )
        if self.ospf_retransmit is not None and not 1 <= self.ospf_retransmit <= 3600:
            out.append(f"OSPFv3 retransmit interval {self.ospf_retransmit} s: must be 1–3600")
        return out

    @property
    def dead(self) -> int | None:
        """The dead interval: as set, else 4 × hello (what RFC 5340 routers assume)."""
        if self.ospf_hello is None:
            return None
        return self.ospf_dead if self.ospf_dead is not None else 4 * self.ospf_hello

    def ospf_timers(self) -> dict:
        """The timers a template sets: {"hello", "dead", "retransmit"}, None where the default stays."""
        return {"hello": self.ospf_hello, "dead": self.dead, "retransmit": self.ospf_retransmit}


DEFAULTS = RenderSettings()


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
    return fmt_addr(net + number)


def _area(plan: Plan, county: str | None, level: str) -> str:
    if county is None or level in ("city", "county"):
        return BACKBONE
    return str(ipaddress.IPv4Address(plan.county_slot(county)))


def _link(ln: Link, me: str, name: str, area: str | None, bandwidth: int | None = None) -> dict:
    peer = ln.a if ln.b == me else ln.b
    net, length = parse_net(ln.prefix)
    mine, theirs = (net + 1, net) if ln.b == me else (net, net + 1)
    return {
        "name": name,
        "peer": peer,
        "n": ln.n,
        "address": fmt_addr(mine),
        "len": length,
        "peer_address": fmt_addr(theirs),
        "prefix": ln.prefix,
        "area": area,
        "bandwidth_mbps": bandwidth,
        "role": "uplink" if ln.b == me else "downlink",
    }


def device_context(model, plan: Plan, hostname: str, settings: RenderSettings = DEFAULTS) -> dict:
    """Everything the templates need for one device, as plain data."""
    device, site = model.devices_by_hostname[hostname]
    fam = family_of(device)
    f = facts(fam.variant)
    by_host = model.devices_by_hostname
    routing = model.network.routing
    ospf = routing == "ospfv3"
    my_area = _area(plan, site.county, site.level)
    links = plan.links_of.get(hostname, [])
    up_by_peer = {(ln.a, ln.n): ln for ln in links if ln.b == hostname}
    uplinks = []
    numbers = uplink_numbers(u.peer for u in device.uplinks)
    for i, (u, n) in enumerate(zip(device.uplinks, numbers, strict=True)):
        name = u.interface or fam.uplink.format(n=fam.uplink_first + i)
        managed = u.peer in by_host
        uplinks.append(
            _link(
                up_by_peer[u.peer, n],
                hostname,
                name,
                my_area if (ospf and managed) else None,
                u.bandwidth_mbps,
            )
        )
    downlinks = []
    for j, ln in enumerate(x for x in links if x.a == hostname):
        _, child_site = by_host[ln.b]
        area = _area(plan, child_site.county, child_site.level) if ospf else None
        downlinks.append(
            _link(ln, hostname, fam.downlink.format(n=fam.downlink_first + j), area)
            | {"child_prefix": plan.by_site[child_site.code].prefix}
        )
    loopback = {
        "name": f.loopback,
        "address": plan.loopback_of[hostname],
        "len": 128,
        "area": my_area if ospf else None,
    }
    lan = None
    first_here = site.devices[0].hostname == hostname
    if site.level in ("township", "village") and first_here:
        prefix = plan.infra(site.code)["lan"]
        lan = {
            "name": fam.lan,
            "prefix": prefix,
            "network": prefix.split("/")[0],
            "len": 64,
            "address": _host(prefix, 1),
            "ra": site.level == "village",
            "area": my_area if ospf else None,
        }
    elif site.level == "city":  # the NOC /64 lives on the city core's LAN, one address per core
        prefix = plan.infra(site.code)["lan"]
        index = [d.hostname for d in site.devices].index(hostname)
        lan = {
            "name": fam.lan,
            "prefix": prefix,
            "network": prefix.split("/")[0],
            "len": 64,
            "address": _host(prefix, 1 + index),
            "ra": False,
            "area": my_area if ospf else None,
        }
    statics = []
    upstream_default = not ospf or site.level == "city"
    if upstream_default:
        statics += [
            {
                "prefix": "::/0",
                "network": "::",
                "len": 0,
                "next_hop": u["peer_address"],
                "interface": u["name"],
            }
            for u in uplinks
        ]
    if not ospf:
        for d in downlinks:
            net, length = d["child_prefix"].split("/")
            statics.append(
                {
                    "prefix": d["child_prefix"],
                    "network": net,
                    "len": int(length),
                    "next_hop": d["peer_address"],
                    "interface": d["name"],
                }
            )
    discards = []
    if site.level == "city":  # the city's aggregate: what no more specific route covers is dropped
        net, length = plan.aggregate.split("/")
        discards.append({"prefix": plan.aggregate, "network": net, "len": int(length)})
    summaries: dict[str, list[dict]] = {}
    if ospf and site.level == "county":  # the county's block, summarised into the backbone
        block = plan.by_site[site.code].prefix
        net, length = block.split("/")
        area = _area(plan, site.code, "township")
        summaries[area] = [{"prefix": block, "network": net, "len": int(length)}]
    noc = plan.infra(model.network.city_core.code)["lan"]
    noc_net, noc_len = noc.split("/")
    addresses = [f"{loopback['address']}/128"] + [
        f"{x['address']}/{x['len']}" for x in uplinks + downlinks
    ]
    if lan:
        addresses.append(f"{lan['address']}/64")
    return {
        "hostname": hostname,
        "platform": f.name,
        "family": fam.name,
        "fam": fam,
        "role": device.role.value,
        "level": site.level,
        "site": {"code": site.code, "name": site.name, "prefix": plan.by_site[site.code].prefix},
        "f": f,
        "router_id": device.mgmt_ipv4,
        "routing": routing,
        "ospf_process": OSPF_PROCESS,
        "area": my_area,
        "loopback": loopback,
        "uplinks": uplinks,
        "downlinks": downlinks,
        "interfaces": uplinks + downlinks,
        "lan": lan,
        "ospf_areas": sorted(
            {x["area"] for x in [loopback, lan or {}, *uplinks, *downlinks] if x.get("area")}
        ),
        "summaries": summaries,
        "originate_default": ospf and site.level == "city",
        "ospf_timers": (settings if ospf else DEFAULTS).ospf_timers(),
        "static_routes": statics,
        "discard_routes": discards,
        "host_ports": fam.host_ports if (fam.ra_guard and device.role.value == "access") else None,
        "urpf": fam.urpf,
        "mgmt": {**MGMT_ACL, "prefix": noc, "network": noc_net, "len": int(noc_len)},
        "ntp": [_host(noc, n) for n in SERVICES["ntp"]] if f.ntp else [],
        "syslog": [_host(noc, n) for n in SERVICES["syslog"]] if f.remote_syslog else [],
        "snmp": [_host(noc, n) for n in SERVICES["snmp"]] if f.snmp else [],
        "snmp_user": SNMP_USER,
        "addresses": addresses,
    }


# --- templates -----------------------------------------------------------------------


@jinja2.pass_context
def _undo(ctx, line: str, view: str) -> str:
    """`{{ line | undo('interface') }}`: the documented undo/no form, from the platform's grammar."""
    return grammar.load(ctx["f"].name).undo_form(line, view)


class _Environment(jinja2.Environment):
    """Looks `x.name` up as a key first when x is a plain dict (the contexts are dicts);
    Jinja's default tries the attribute first and pays for an AttributeError each time."""

    def getattr(self, obj, attribute):
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The Jinja2 environment, built once per process; templates compile once and are cached."""
    env = _Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        autoescape=False,
    )
    env.filters["undo"] = _undo
    return env


def _block(template: jinja2.Template, name: str, context) -> str:
    return "".join(template.blocks[name](context))


def render_context(ctx: dict, platform: PlatformFacts | None = None) -> RenderedConfig:
    f = platform or ctx["f"]
    template = environment().get_template(f.template)
    ctx = {**ctx, "f": f}
    context = template.new_context(ctx)  # the blocks only read it: one for both
    return RenderedConfig(
        ctx["hostname"],
        f.name,
        _block(template, "config", context),
        _block(template, "rollback", context),
        ctx["addresses"],
    )


def render_device(
    model, plan: Plan, hostname: str, settings: RenderSettings = DEFAULTS
) -> RenderedConfig:
    """The config and rollback text of ONE device (what the Ansible module and `net push` send)."""
    return render_context(device_context(model, plan, hostname, settings))


# --- all devices ---------------------------------------------------------------------

_JOB: dict = {}


class RenderCheckFailed(Exception):
    """Rendered configs the platform grammar refuses; nothing was written."""

    def __init__(self, findings: list[grammar.Finding]):
        self.findings = findings
        super().__init__(f"{len(findings)} finding(s) in the rendered configs")


def _render_chunk(args: tuple[list[str], str]) -> tuple[int, list]:
    hostnames, stage = args
    return _render_local(_JOB["model"], _JOB["plan"], hostnames, Path(stage), _JOB["settings"])


def _write(stage: Path, r: RenderedConfig) -> None:
    base = os.path.join(stage, r.hostname)  # plain strings: 40,000 files, pathlib shows
    with open(base + ".cfg", "w", encoding="utf-8") as fh:
        fh.write(r.config)
    with open(base + ".rollback.cfg", "w", encoding="utf-8") as fh:
        fh.write(r.rollback)


def check_rendered(r: RenderedConfig) -> list[grammar.Finding]:
    """`net check` of one device's config and rollback (file names as `net render` writes them)."""
    return grammar.check_config(r.config, r.platform, f"{r.hostname}.cfg") + grammar.check_config(
        r.rollback, r.platform, f"{r.hostname}.rollback.cfg"
    )


def render_all(
    model,
    plan: Plan,
    out: Path,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    chunk: int = 250,
    settings: RenderSettings = DEFAULTS,
) -> int:
    """Write every device's config and rollback into `out`, all-or-nothing. Returns the count.

    Every file is checked against its platform's grammar as it is rendered; if any line is
    refused, nothing is written and `RenderCheckFailed` carries the findings. Files go to a
    staging folder (plain writes: the folder as a whole is what is atomic) and are moved in
    when every one was written and checked. Workers are forked, so they share the model and
    the plan without pickling them."""
    hosts = list(model.devices_by_hostname)
    workers = workers or min(len(os.sched_getaffinity(0)), 8)
    chunks = [hosts[i : i + chunk] for i in range(0, len(hosts), chunk)]
    findings: list[grammar.Finding] = []
    with StagedDir(Path(out)) as stage:
        if workers <= 1 or len(chunks) <= 1:
            for c in chunks:
                n, found = _render_local(model, plan, c, stage, settings)
                findings += found
                progress and progress(n)
        else:
            _JOB.update(model=model, plan=plan, settings=settings)
            try:
                ctx = multiprocessing.get_context("fork")
                with ctx.Pool(workers, initializer=quiet_worker) as pool:
                    jobs = [(c, str(stage)) for c in chunks]
                    for n, found in pool.imap_unordered(_render_chunk, jobs):
                        findings += found
                        progress and progress(n)
            finally:
                _JOB.clear()
        if findings:
            raise RenderCheckFailed(sorted(findings, key=lambda f: (f.path, f.line)))
        write_atomic(stage / "README.txt", _README)
    return len(hosts)


def _render_local(
    model, plan: Plan, hostnames: list[str], stage: Path, settings: RenderSettings
) -> tuple[int, list]:
    found = []
    for h in hostnames:
        r = render_device(model, plan, h, settings)
        found += check_rendered(r)
        _write(stage, r)
    return len(hostnames), found


_README = """Rendered by `govctl net render` from the city model and its IPv6 plan.
<hostname>.cfg           configuration-mode lines that add IPv6 (dual stack beside IPv4)
<hostname>.rollback.cfg  configuration-mode lines that remove exactly what .cfg added
Every line was checked with the platform's grammar (`govctl net check DIR` checks again).
Send either with the platform's config mode (see network/platforms.py); then save.
"""
