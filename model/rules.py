"""Rules that span files: references resolve, identities are unique, policy holds.

Each rule reports a `ModelError` located at the offending field. Whether a well-formed
city *fits* its cloud (capacity, quotas) is not checked here: that is a planning outcome
reported by `govctl plan`.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

from model import plan_rules
from model.city import CityModel
from model.schema import (
    PLATFORM_FAMILIES,
    Classification,
    DeviceRole,
    Ipv6State,
    SiteRole,
    SystemState,
    ZoneKind,
)

Report = Callable[[str, tuple, str], None]
"""report(file_key, loc, message): file_key is 'city', 'departments', … ."""


def check(m: CityModel, report: Report) -> None:
    _city(m, report)
    _departments(m, report)
    _rooms(m, report)
    _systems(m, report)
    _network(m, report)
    plan_rules.check(m, report)


def _unique(
    items, key, file_key: str, loc_prefix: tuple, field: str, what: str, report: Report
) -> None:
    seen: dict = {}
    for i, item in enumerate(items):
        k = key(item)
        if k in seen:
            report(
                file_key,
                loc_prefix + (i, field),
                f"duplicate {what} {k!r} (also at index {seen[k]})",
            )
        else:
            seen[k] = i


def _city(m: CityModel, report: Report) -> None:
    c = m.city
    _unique(c.sites, lambda s: s.name, "city", ("city", "sites"), "name", "site name", report)
    _unique(c.zones, lambda z: z.name, "city", ("city", "zones"), "name", "zone name", report)
    primaries = [i for i, s in enumerate(c.sites) if s.role == SiteRole.primary]
    if len(primaries) != 1:
        report(
            "city",
            ("city", "sites"),
            f"exactly one site must have role primary (found {len(primaries)})",
        )
    site_names = {s.name for s in c.sites}
    for i, s in enumerate(c.sites):
        if s.role == SiteRole.primary and (s.link_mbps is not None or s.link_paths != 1):
            report(
                "city",
                ("city", "sites", i, "link_mbps" if s.link_mbps is not None else "link_paths"),
                "the primary site has no link from itself; leave link_mbps and link_paths out",
            )
        if s.role != SiteRole.primary and s.link_mbps is None:
            report(
                "city",
                ("city", "sites", i, "link_mbps"),
                f"a {s.role.value} site needs link_mbps (its link from the primary site)",
            )
    for i, z in enumerate(c.zones):
        if z.site not in site_names:
            report(
                "city",
                ("city", "zones", i, "site"),
                f"unknown site {z.site!r} (known: {', '.join(sorted(site_names))})",
            )
    v4 = [ipaddress.IPv4Network(p) for p in c.ipv4_legacy]
    for i, a in enumerate(v4):
        for b in v4[:i]:
            if a.overlaps(b):
                report("city", ("city", "ipv4_legacy", i), f"{a} overlaps {b}")
    if ipaddress.IPv6Network(c.ipv6_prefix).prefixlen > 48:
        report(
            "city",
            ("city", "ipv6_prefix"),
            "the city aggregate must be /48 or shorter to hold counties, townships and villages",
        )


def _departments(m: CityModel, report: Report) -> None:
    deps = m.departments
    _unique(
        deps, lambda d: d.code, "departments", ("departments",), "code", "department code", report
    )
    _unique(
        deps, lambda d: d.slug, "departments", ("departments",), "slug", "department slug", report
    )
    sensitive_owners = m.sensitive_departments
    for i, d in enumerate(deps):
        zone = m.zones.get(d.zone)
        if zone is None:
            report(
                "departments",
                ("departments", i, "zone"),
                f"unknown zone {d.zone!r} (known: {', '.join(sorted(m.zones))})",
            )
        elif d.code in sensitive_owners and zone.kind != ZoneKind.isolated:
            report(
                "departments",
                ("departments", i, "zone"),
                f"department {d.code} owns sensitive systems, so its tenant must be in an isolated zone, not {zone.kind.value} zone {zone.name!r}",
            )
        if d.egress_allow and d.mlps_level != 3:
            pass  # declared egress is allowed at level 2 too; it is enforced only at level 3


def _rooms(m: CityModel, report: Report) -> None:
    _unique(
        m.machine_rooms,
        lambda r: r.id,
        "machine_rooms",
        ("machine_rooms",),
        "id",
        "machine room id",
        report,
    )
    for i, r in enumerate(m.machine_rooms):
        if r.department not in m.departments_by_code:
            report(
                "machine_rooms",
                ("machine_rooms", i, "department"),
                f"unknown department {r.department!r}",
            )


def _systems(m: CityModel, report: Report) -> None:
    _unique(m.systems, lambda s: s.id, "systems", ("systems",), "id", "system id", report)
    sensitive_owners = m.sensitive_departments
    for i, s in enumerate(m.systems):
        loc = ("systems", i)
        if s.department not in m.departments_by_code:
            report("systems", loc + ("department",), f"unknown department {s.department!r}")
        zone = m.zones.get(s.target_zone) if s.target_zone else None
        if s.target_zone and zone is None:
            report(
                "systems",
                loc + ("target_zone",),
                f"unknown zone {s.target_zone!r} (known: {', '.join(sorted(m.zones))})",
            )
        if s.classification == Classification.classified:
            if s.state in (SystemState.migrating, SystemState.on_cloud):
                report(
                    "systems",
                    loc + ("state",),
                    f"classified systems are never migrated; state {s.state.value} is not allowed",
                )
            if s.target_zone is not None:
                report(
                    "systems",
                    loc + ("target_zone",),
                    "classified systems never have a cloud target zone",
                )
            if s.wave is not None:
                report(
                    "systems", loc + ("wave",), "classified systems are never in a migration wave"
                )
        elif (
            s.classification == Classification.sensitive
            and zone is not None
            and zone.kind != ZoneKind.isolated
        ):
            report(
                "systems",
                loc + ("target_zone",),
                f"sensitive systems only land in an isolated zone; {s.target_zone!r} is a {zone.kind.value} zone",
            )
        elif (
            s.department in sensitive_owners
            and zone is not None
            and zone.kind != ZoneKind.isolated
            and s.cloud_bound
        ):
            report(
                "systems",
                loc + ("target_zone",),
                f"department {s.department} owns sensitive systems, so all its systems land in an isolated zone; "
                f"{s.target_zone!r} is a {zone.kind.value} zone",
            )
        if s.cloud_bound:
            needs_target = (
                s.state in (SystemState.migrating, SystemState.on_cloud) or s.wave is not None
            )
            if needs_target and s.target_zone is None:
                report(
                    "systems",
                    loc + ("target_zone",),
                    f"a {s.state.value} system{' with a wave' if s.wave is not None else ''} needs a target_zone",
                )
        if s.state in (SystemState.legacy, SystemState.migrating):
            if s.location is None:
                report(
                    "systems",
                    loc + ("location",),
                    f"a {s.state.value} system needs its machine room as location",
                )
            elif s.location not in m.rooms_by_id:
                report("systems", loc + ("location",), f"unknown machine room {s.location!r}")
            elif (
                m.rooms_by_id[s.location].state.value == "consolidated"
                and s.state == SystemState.legacy
            ):
                report(
                    "systems",
                    loc + ("location",),
                    f"machine room {s.location} is consolidated; no legacy system can still run there",
                )
        elif s.state == SystemState.on_cloud and s.location is not None:
            report(
                "systems",
                loc + ("location",),
                "an on_cloud system has no machine-room location; leave it out",
            )
        if s.data_gib > s.storage_gib:
            report(
                "systems",
                loc + ("data_gib",),
                f"data_gib {s.data_gib:g} exceeds storage_gib {s.storage_gib:g}",
            )


_LEVEL_ROLE = {
    "city": DeviceRole.core,
    "county": DeviceRole.aggregation,
    "township": DeviceRole.access,
    "village": DeviceRole.cpe,
}


def _network(m: CityModel, report: Report) -> None:
    net = m.network
    city_code = m.city.code
    legacy = [
        (int(n.network_address), int(n.netmask))
        for n in map(ipaddress.IPv4Network, m.city.ipv4_legacy)
    ]
    hostnames: dict[str, tuple] = {}
    mgmt: dict[str, tuple] = {}
    codes: dict[str, tuple] = {}
    upstream = set(net.upstream)
    sites: list[tuple[str, str]] = []  # (level, code) in walk order
    site_of: dict[str, int] = {}  # hostname -> index in sites
    uplinks: list[tuple[int, tuple, str]] = []  # (site index, location of the peer, peer)

    def walk():
        core = net.city_core
        yield ("city_core",), "city", core, None
        for ci, c in enumerate(net.counties):
            yield ("counties", ci), "county", c, core
            for ti, t in enumerate(c.townships):
                yield ("counties", ci, "townships", ti), "township", t, c
                for vi, v in enumerate(t.villages):
                    yield ("counties", ci, "townships", ti, "villages", vi), "village", v, t

    for loc, level, site, parent in walk():
        code = site.code
        sites.append((level, code))
        if code in codes:
            report(
                "network",
                loc + ("code",),
                f"duplicate site code {code} (also at {_fmt(codes[code])})",
            )
        else:
            codes[code] = loc
        _check_code(level, code, parent.code if parent else "", city_code, loc, report)
        if (
            parent is not None
            and site.ipv6 == Ipv6State.dual_stack
            and parent.ipv6 != Ipv6State.dual_stack
        ):
            report(
                "network",
                loc + ("ipv6",),
                f"a {level} cannot be dual_stack while its parent {parent.code} is still pending",
            )
        if site.ipv6 == Ipv6State.dual_stack and not site.devices:
            report("network", loc + ("ipv6",), f"a {level} without devices cannot be dual_stack")
        parent_hosts = {d.hostname for d in parent.devices} if parent is not None else upstream
        for di, d in enumerate(site.devices):
            dloc = loc + ("devices", di)
            if d.hostname in hostnames:
                report(
                    "network",
                    dloc + ("hostname",),
                    f"duplicate hostname {d.hostname} (also at {_fmt(hostnames[d.hostname])})",
                )
            else:
                hostnames[d.hostname] = dloc
            if d.mgmt_ipv4 in mgmt:
                report(
                    "network",
                    dloc + ("mgmt_ipv4",),
                    f"duplicate management address {d.mgmt_ipv4} (also at {_fmt(mgmt[d.mgmt_ipv4])})",
                )
            else:
                mgmt[d.mgmt_ipv4] = dloc
            addr = int.from_bytes(socket.inet_aton(d.mgmt_ipv4))  # already validated; C-fast here
            if not any(addr & mask == net for net, mask in legacy):
                report(
                    "network",
                    dloc + ("mgmt_ipv4",),
                    f"{d.mgmt_ipv4} is outside the city's ipv4_legacy space",
                )
            if d.family is not None and d.family not in PLATFORM_FAMILIES[d.platform]:
                names = ", ".join(f.value for f in PLATFORM_FAMILIES[d.platform])
                report(
                    "network",
                    dloc + ("family",),
                    f"family {d.family.value} is not a {d.platform.value} family (one of: {names})",
                )
            if d.role != _LEVEL_ROLE[level]:
                report(
                    "network",
                    dloc + ("role",),
                    f"a {level} device has role {_LEVEL_ROLE[level].value}, not {d.role.value}",
                )
            site_of.setdefault(d.hostname, len(sites) - 1)
            peers = [u.peer for u in d.uplinks]
            for ui, u in enumerate(d.uplinks):
                uplinks.append((len(sites) - 1, dloc + ("uplinks", ui, "peer"), u.peer))
                if u.peer not in parent_hosts:
                    where = "the upstream list" if parent is None else f"parent site {parent.code}"
                    report(
                        "network",
                        dloc + ("uplinks", ui, "peer"),
                        f"uplink peer {u.peer!r} is not a device of {where}",
                    )
            if len(set(peers)) != len(peers):
                report("network", dloc + ("uplinks",), "two uplinks to the same peer")
            if level in ("city", "county") and len(set(peers)) < 2:
                report(
                    "network",
                    dloc + ("uplinks",),
                    f"a {level} device needs two uplinks to distinct peers (dual link); it has {len(set(peers))}",
                )
            if level in ("township", "village") and not peers:
                report(
                    "network",
                    dloc + ("uplinks",),
                    f"a {level} device needs an uplink to its parent site",
                )
    _uplink_cycles(sites, site_of, uplinks, report)


def _uplink_cycles(
    sites: list[tuple[str, str]],
    site_of: dict[str, int],
    uplinks: list[tuple[int, tuple, str]],
    report: Report,
) -> None:
    """The sites' uplinks lead towards the city core and never back: no site reaches itself
    by following its devices' uplinks to the sites of their peers. The parent-site rule
    alone does not ensure it — an `upstream` entry naming a managed device closes a loop
    through the city core — and a cycle is named as such even where that rule reports its
    peers. One error per strongly connected set of sites, at the uplink that leaves its
    highest site (first in walk order), naming one cycle through it."""
    edges: dict[int, dict[int, tuple]] = {}
    for k, loc, peer in uplinks:
        t = site_of.get(peer)
        if t is not None and t != k:  # an uplink within its own site: the parent rule's
            edges.setdefault(k, {}).setdefault(t, loc)
    for component in _strongly_connected(len(sites), edges):
        if len(component) < 2:
            continue
        start = min(component)
        cycle = _cycle_through(start, component, edges)
        names = " → ".join(f"{sites[i][0]} {sites[i][1]}" for i in [*cycle, start])
        report(
            "network",
            edges[start][cycle[1]],
            f"uplink cycle: {names}; each site's uplinks go to its parent site",
        )


def _strongly_connected(n: int, edges: dict[int, dict[int, tuple]]) -> list[set[int]]:
    """Tarjan's strongly connected components, iteratively (a city has ~20,000 sites)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    found: list[set[int]] = []
    for root in range(n):
        if root in index or root not in edges:
            continue
        work = [(root, iter(edges.get(root, ())))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(edges.get(w, ()))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    component = set()
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.add(w)
                        if w == v:
                            break
                    found.append(component)
    return found


def _cycle_through(start: int, component: set[int], edges: dict[int, dict[int, tuple]]) -> list:
    """A shortest cycle from `start` back to it inside `component` (breadth first): the
    sites in order, starting with `start`."""
    came: dict[int, int] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(edges.get(v, ())):
                if w not in component:
                    continue
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(came[path[-1]])
                    return path[::-1]
                if w not in came:
                    came[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError("a strongly connected component has a cycle through each site")


def _check_code(
    level: str, code: str, parent: str, city_code: str, loc: tuple, report: Report
) -> None:
    """`parent` is the parent site's code ("" for the city core, which has none)."""
    county, township, village = code[:6], code[6:9], code[9:]
    problem = None
    if level == "city":
        if county != city_code or code[6:] != "000000":
            problem = f"the city core's code is the city code {city_code} followed by 000000"
    elif level == "county":
        if county[:2] != city_code[:2] or county == city_code or code[6:] != "000000":
            problem = f"a county code is in the city's province {city_code[:2]}, is not the city code, and ends in 000000"
    elif level == "township":
        if county != parent[:6] or township == "000" or village != "000":
            problem = f"a township code is its county's {parent[:6]}, then 3 non-zero township digits, then 000"
    elif level == "village":
        if code[:9] != parent[:9] or village == "000":
            problem = f"a village code is its township's {parent[:9]} followed by 3 village digits (not 000)"
    if problem:
        report("network", loc + ("code",), f"{code}: {problem}")


def _fmt(loc: tuple) -> str:
    from model.errors import field_path

    return field_path(loc)
