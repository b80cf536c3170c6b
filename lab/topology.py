"""The lab's topology: a small, CityModel-shaped slice of a real city for the namespace lab.

The lab must exercise the same code as a real deployment: the IPv6 plan and the renderer
read a `CityModel`. So the lab takes a city (the sample city by default), keeps its core,
the first C counties, T townships per county and V villages per township, one device per
site (2x2x2: the 15 nodes of the issue), and turns every device into a `linux_frr` box whose
uplinks name real interfaces (`up0`, `up1`, …). A county's dual uplink (to core-01 and
core-02 in the city) becomes two parallel links to the lab's one core node (`LEVEL_LINKS`):
the same two adjacencies and the same failover, without a 16th node; the IPv6 plan gives
each parallel link its own /127. Townships and villages keep one link to their parent. The
core's uplinks to the provincial network are dropped: nothing leaves the lab. Management
addresses are renumbered into the lab's own management network.

Everything here is plain data; `lab.extranet` builds namespaces from it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace

from model import CityModel
from model.schema import (
    CityCore,
    County,
    Device,
    DeviceFamily,
    NetworkFile,
    Platform,
    Township,
    Uplink,
    Village,
)
from network.platforms import DEFAULT_FAMILY, FAMILIES, device_platform

NETNS_PREFIX = "gc-"
# The lab's own slices of 198.18.0.0/15 (RFC 2544 benchmarking space): management, link
# and loopback IPv4 for the IPv4-only starting point. Never routed anywhere.
MGMT_NET = ipaddress.IPv4Network("198.19.252.0/22")
LINK_NET = ipaddress.IPv4Network("198.19.0.0/18")
LOOPBACK_NET = ipaddress.IPv4Network("198.19.64.0/20")
LEVEL_LINKS = {"county": 2, "township": 1, "village": 1}  # links to the parent node (county: dual)
MAX_NODES = 500
SPEC = re.compile(r"^(\d+)x(\d+)x(\d+)$")
DEFAULT_SPEC = "2x2x2"


class TopologyError(ValueError):
    """A --topology the source city cannot provide."""


@dataclass(frozen=True)
class Link:
    """One veth pair: the child's uplink interface and the parent's downlink interface."""

    child: str
    child_if: str
    parent: str
    parent_if: str  # "" until `wire` names it
    ipv4: str  # the /31 of the IPv4-only starting point (child gets the upper address)
    n: int = 1  # the link's number between these two nodes (2 for the second of parallel links)
    child_vif: str = ""  # the vendor's names of the two ends (GigabitEthernet0/0/1); "" on FRR
    parent_vif: str = ""


@dataclass(frozen=True)
class Node:
    name: str  # the device's hostname, also its short name
    level: str
    site: str
    parent: str | None
    mgmt: str
    loopback_ipv4: str
    platform: str = "linux_frr"
    """What the node speaks: linux_frr (vtysh over sshd) or a vendor twin's platform
    (huawei_vrp, huawei_vrpv8, h3c_comware, ruijie_os, cisco_ios)."""
    family: str = "linux"
    """Its device family (network.platforms.FAMILIES): port names, switch or router ports."""

    @property
    def netns(self) -> str:
        return NETNS_PREFIX + self.name

    @property
    def twin(self) -> bool:
        return self.platform != "linux_frr"


@dataclass
class Topology:
    model: CityModel
    nodes: list[Node] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def links_of(self, name: str) -> list[Link]:
        return [lk for lk in self.links if name in (lk.child, lk.parent)]


def parse_spec(spec: str) -> tuple[int, int, int]:
    m = SPEC.match(spec.strip())
    if not m:
        raise TopologyError(
            f"--topology {spec!r}: expected COUNTIESxTOWNSHIPSxVILLAGES, e.g. {DEFAULT_SPEC}"
        )
    counties, townships, villages = (int(g) for g in m.groups())  # SPEC has three groups
    if counties < 1:
        raise TopologyError("--topology needs at least one county")
    return counties, townships, villages


def wire(topo: Topology, downlinks: dict[str, dict[tuple[str, int], str]]) -> None:
    """Name the parent ends of the links as the renderer names them: `downlinks[parent][child, n]`.

    The model records only the child's interface; the parent's comes from the platform facts
    (`dn0`, `dn1`, … in the plan's order), so the lab asks the renderer instead of guessing.
    A twin's end keeps the vendor's name (`GigabitEthernet0/1/1`) for its CLI and gets the
    kernel name `dn<k>` (k: its place in the renderer's order), since a Linux interface name
    can hold neither a slash nor 20 characters.
    """
    out = []
    for lk in topo.links:
        name = downlinks[lk.parent][lk.child, lk.n]
        if topo.node(lk.parent).twin:
            k = list(downlinks[lk.parent]).index((lk.child, lk.n))
            out.append(replace(lk, parent_if=f"dn{k}", parent_vif=name))
        else:
            out.append(replace(lk, parent_if=name))
    topo.links = out


PLATFORM_MIXES = ("frr", "mixed")
ALL_PLATFORMS = ("huawei_vrp", "huawei_vrpv8", "h3c_comware", "ruijie_os", "cisco_ios", "linux_frr")
"""What `--platforms mixed` guarantees: every platform and the VRP V8 variant appear."""


V8_FAMILY = "ne"
"""The family a node made VRP V8 by `mix` gets: NE routers."""


def mix(platforms: list[str]) -> list[str]:
    """The sample's platforms per node (in node order), with every platform of ALL_PLATFORMS
    made present: a missing one replaces, from the last node backwards (villages first), a
    platform that appears more than once. The first county (the second node) becomes VRP
    V8 — NE routers, dual-linked to the core — when V8 is missing."""
    out = list(platforms)
    if "huawei_vrpv8" not in out and len(out) > 1 and out[1] == "huawei_vrp":
        out[1] = "huawei_vrpv8"
    for want in ALL_PLATFORMS:
        if want in out:
            continue
        for i in range(len(out) - 1, 0, -1):
            if out.count(out[i]) > 1:
                out[i] = want
                break
    return out


def model_platform(platform: str) -> Platform:
    """The model's platform of a lab platform (VRP V8 is a variant of huawei_vrp)."""
    return Platform("huawei_vrp" if platform == "huawei_vrpv8" else platform)


def lab_family(source: Device, platform: str) -> str:
    """The family of a lab node: its source device's when the node keeps its platform, else
    the new platform's default for the device's role (VRP V8: NE)."""
    if platform == "huawei_vrpv8":
        return source.family.value if source.family in ("ne", "ce") else V8_FAMILY
    if platform == device_platform(source) and source.family:
        return source.family.value
    return DEFAULT_FAMILY[model_platform(platform).value, source.role.value]


def build(source: CityModel, spec: str = DEFAULT_SPEC, platforms: str = "frr") -> Topology:
    """The lab slice of `source`, as a CityModel (for the planner and renderer) plus nodes and links.

    `platforms`: "frr" — every node is a linux_frr box; "mixed" — each node keeps its
    device's platform from the city (`mix` makes sure all platforms appear) and is a vendor
    twin over the same kernel and FRR.
    """
    if platforms not in PLATFORM_MIXES:
        raise TopologyError(
            f"--platforms {platforms!r}: expected one of {', '.join(PLATFORM_MIXES)}"
        )
    n_counties, n_townships, n_villages = parse_spec(spec)
    total = 1 + n_counties * (1 + n_townships * (1 + n_villages))
    if total > MAX_NODES:
        raise TopologyError(
            f"--topology {spec} makes {total} nodes; the lab holds at most {MAX_NODES}"
        )
    net = source.network
    picked = _pick(net, n_counties, n_townships, n_villages)
    hosts = iter(MGMT_NET.hosts())
    next(hosts)  # .1 is the host's end of the management bridge
    loopbacks = iter(LOOPBACK_NET.hosts())
    links31 = LINK_NET.subnets(new_prefix=31)
    nodes: list[Node] = []
    links: list[Link] = []

    wanted = mix(_platforms_in_order(picked)) if platforms == "mixed" else None
    order = iter(range(total))

    def device(site, level: str, parent: Device | None) -> Device:
        first = site.devices[0]
        mgmt = str(next(hosts))
        platform = wanted[next(order)] if wanted else "linux_frr"
        family = lab_family(first, platform)
        f = FAMILIES[model_platform(platform).value, family]
        uplinks = []
        if parent is not None:
            for i in range(LEVEL_LINKS[level]):
                subnet = next(links31)
                vif = "" if platform == "linux_frr" else f.uplink.format(n=f.uplink_first + i)
                links.append(
                    Link(
                        first.hostname,
                        f"up{i}",
                        parent.hostname,
                        "",
                        str(subnet),
                        n=i + 1,
                        child_vif=vif,
                    )
                )
                uplinks.append(
                    Uplink(
                        peer=parent.hostname,
                        bandwidth_mbps=first.uplinks[0].bandwidth_mbps if first.uplinks else 1000,
                        interface=vif or f"up{i}",
                    )
                )
        dev = Device(
            hostname=first.hostname,
            platform=model_platform(platform),
            family=DeviceFamily(family),
            role=first.role,
            mgmt_ipv4=mgmt,
            uplinks=uplinks,
        )
        nodes.append(
            Node(
                first.hostname,
                level,
                site.code,
                parent.hostname if parent else None,
                mgmt,
                str(next(loopbacks)),
                platform,
                family,
            )
        )
        return dev

    core_src = picked["core"]
    core_dev = device(core_src, "city", None)
    counties = []
    for c, townships in picked["counties"]:
        c_dev = device(c, "county", core_dev)
        ts = []
        for t, villages in townships:
            t_dev = device(t, "township", c_dev)
            vs = [
                Village(
                    code=v.code, name=v.name, ipv6=v.ipv6, devices=[device(v, "village", t_dev)]
                )
                for v in villages
            ]
            ts.append(Township(code=t.code, name=t.name, ipv6=t.ipv6, devices=[t_dev], villages=vs))
        counties.append(
            County(code=c.code, name=c.name, ipv6=c.ipv6, devices=[c_dev], townships=ts)
        )
    network = NetworkFile(
        routing=net.routing,
        upstream=[],
        city_core=CityCore(
            code=core_src.code, name=core_src.name, ipv6=core_src.ipv6, devices=[core_dev]
        ),
        counties=counties,
    )
    model = CityModel(
        source=source.source,
        city=source.city,
        departments=[],
        systems=[],
        machine_rooms=[],
        network=network,
    )
    return Topology(model=model, nodes=nodes, links=links)


def _platforms_in_order(picked: dict) -> list[str]:
    """The source devices' platforms in the order `build` creates the nodes."""
    out = [device_platform(picked["core"].devices[0])]
    for c, townships in picked["counties"]:
        out.append(device_platform(c.devices[0]))
        for t, villages in townships:
            out.append(device_platform(t.devices[0]))
            out += [device_platform(v.devices[0]) for v in villages]
    return out


def _pick(net: NetworkFile, n_counties: int, n_townships: int, n_villages: int) -> dict:
    """The first sites with devices at every level, or a TopologyError naming what is short."""

    def with_devices(sites):
        return [s for s in sites if s.devices]

    counties = with_devices(net.counties)
    if len(counties) < n_counties:
        raise TopologyError(
            f"the city has {len(counties)} counties with devices; --topology asks for {n_counties}"
        )
    out = []
    for c in counties[:n_counties]:
        townships = with_devices(c.townships)
        if len(townships) < n_townships:
            raise TopologyError(
                f"county {c.code} has {len(townships)} townships with devices; --topology asks for {n_townships}"
            )
        ts = []
        for t in townships[:n_townships]:
            villages = with_devices(t.villages)
            if len(villages) < n_villages:
                raise TopologyError(
                    f"township {t.code} has {len(villages)} villages with devices; --topology asks for {n_villages}"
                )
            ts.append((t, villages[:n_villages]))
        out.append((c, ts))
    return {"core": net.city_core, "counties": out}
