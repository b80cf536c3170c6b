"""The hierarchical IPv6 plan: city → county → township → village blocks, loopbacks, links.

Every block is cut into child slots on a nibble boundary. Slot 0 of every block is the
level's own infrastructure, never a child's: its first /64 holds the loopbacks (/128 each),
its second /64 the point-to-point links (a /127 per uplink, RFC 6164, the all-zeros IID
avoided; parallel links between the same two devices are numbered 1, 2, …),
its third /64 the site's own LAN (townships, counties, the city NOC). A village's block has
/64 slots only: slot 0 is its loopback /64, slot 1 its LAN. The top `reserve` fraction of
each block's slots is held back for growth. New sites take the lowest never-used slot;
what the lock recorded never moves (see `network/lock.py`).

    plan = plan_city(model, settings, lock)   # pure: reads nothing, writes nothing
    plan.to_json(); plan.lock                 # the JSON document, the lock to write
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from network.lock import DeviceEntry, LinkEntry, Lock, SiteEntry
from network.settings import CHILD, LAN_LEN, LEVELS, PlanSettings, fmt_net, parse_net

SCHEMA_VERSION = 1
_64 = 1 << 64
_MASK128 = (1 << 128) - 1


class PlanError(Exception):
    """The model cannot be planned as asked (a full block, a moved site, bad settings)."""


@dataclass(frozen=True, slots=True)
class SiteInput:
    """One site as the planner sees it: plain data, built from the model or by a test."""

    code: str
    level: str
    parent: str | None
    name: str = ""
    devices: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(hostname, uplink peers) per device; a peer named twice means two parallel links."""


@dataclass(frozen=True, slots=True)
class Allocation:
    site: str
    level: str
    prefix: str
    parent: str | None


@dataclass(frozen=True, slots=True)
class Link:
    """a is the upstream end (the lower address), b the downstream end (the higher); n numbers
    parallel links between the same two devices (1 for the first, 2 for the second…)."""

    a: str
    b: str
    prefix: str
    n: int = 1

    def address_of(self, hostname: str) -> str:
        net = ipaddress.IPv6Network(self.prefix)
        return str(net.network_address + (0 if hostname == self.a else 1))


@dataclass(frozen=True, slots=True)
class Loopback:
    device: str
    prefix: str


@dataclass(frozen=True)
class LevelStats:
    level: str
    prefix_len: int
    active: int
    reserved: int
    capacity: int
    tightest_parent: str | None
    tightest_free: int | None

    @property
    def utilisation(self) -> float:
        return (self.active + self.reserved) / self.capacity if self.capacity else 0.0


@dataclass
class Plan:
    aggregate: str
    settings: PlanSettings
    allocations: list[Allocation]
    links: list[Link]
    loopbacks: list[Loopback]
    reserved: list[Allocation]
    lock: Lock
    stats: list[LevelStats] = field(default_factory=list)
    new: int = 0
    """How many prefixes this run added to the lock."""

    def to_json(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "aggregate": self.aggregate,
            "allocations": [
                {"site": a.site, "level": a.level, "prefix": a.prefix, "parent": a.parent}
                for a in self.allocations
            ],
            "links": [{"a": ln.a, "b": ln.b, "n": ln.n, "prefix": ln.prefix} for ln in self.links],
            "loopbacks": [{"device": lb.device, "prefix": lb.prefix} for lb in self.loopbacks],
        }

    # --- lookups for renderers --------------------------------------------------------
    @cached_property
    def by_site(self) -> dict[str, Allocation]:
        return {a.site: a for a in self.allocations}

    @cached_property
    def loopback_of(self) -> dict[str, str]:
        """hostname → loopback address (no length)."""
        return {lb.device: lb.prefix.split("/")[0] for lb in self.loopbacks}

    @cached_property
    def links_of(self) -> dict[str, list[Link]]:
        """hostname → its links, in allocation order (uplinks and downlinks)."""
        out: dict[str, list[Link]] = defaultdict(list)
        for ln in self.links:
            out[ln.a].append(ln)
            out[ln.b].append(ln)
        return out

    def infra(self, code: str) -> dict[str, str]:
        """A site's infrastructure prefixes: loopback /64, link /64 and LAN /64."""
        a = self.by_site[code]
        net, _ = parse_net(a.prefix)
        return {k: fmt_net(v, LAN_LEN) for k, v in infra_nets(net, a.level).items()}

    def county_slot(self, code: str) -> int:
        """The slot number of a county inside the city block (stable: used as OSPF area)."""
        net, length = parse_net(self.by_site[code].prefix)
        return (net >> (128 - length)) & ((1 << (length - self._agg_len)) - 1)

    @cached_property
    def _agg_len(self) -> int:
        return _agg_len(self)


def _agg_len(plan: Plan) -> int:
    return ipaddress.IPv6Network(plan.aggregate).prefixlen


def infra_nets(net: int, level: str) -> dict[str, int]:
    """Where a site's infrastructure /64s start, given its block's network address."""
    if level == "village":
        return {"loopbacks": net, "lan": net + _64}
    return {"loopbacks": net, "links": net + _64, "lan": net + 2 * _64}


# --- from the model ---------------------------------------------------------------------


def uplink_numbers(peers) -> list[int]:
    """Each uplink's link number: its place among the device's uplinks to the same peer
    (1 for the first, 2 for a second, parallel link). Keys the lock; renderers use it too."""
    seen: dict[str, int] = defaultdict(int)
    out = []
    for peer in peers:
        seen[peer] += 1
        out.append(seen[peer])
    return out


def sites_of(model) -> list[SiteInput]:
    """The planner's view of a `CityModel`: sites parents-first with their devices' uplinks."""
    return [
        SiteInput(
            s.code,
            s.level,
            s.parent,
            s.name,
            tuple((d.hostname, tuple(u.peer for u in d.uplinks)) for d in s.devices),
        )
        for s in model.sites()
    ]


def plan_city(
    model,
    settings: PlanSettings | None = None,
    lock: Lock | None = None,
    release: Iterable[str] = (),
) -> Plan:
    """Plan the city's extranet. `settings` None means: the lock's, else the defaults for the
    aggregate. `release` lists removed site codes or hostnames whose space is given back."""
    return plan_sites(
        model.city.code, model.city.ipv6_prefix, sites_of(model), settings, lock, release
    )


def plan_sites(
    city: str,
    aggregate: str,
    sites: list[SiteInput],
    settings: PlanSettings | None = None,
    lock: Lock | None = None,
    release: Iterable[str] = (),
) -> Plan:
    agg = ipaddress.IPv6Network(aggregate)
    if lock is not None:
        if settings is not None and settings != lock.settings:
            raise PlanError(
                f"the settings {settings.as_dict()} differ from the lock's {lock.settings.as_dict()}; "
                "changing prefix lengths would renumber every site — plan into a new --lock instead"
            )
        settings = lock.settings
    settings = settings or PlanSettings.for_aggregate(agg.prefixlen)
    problems = settings.problems(agg.prefixlen)
    if problems:
        raise PlanError("; ".join(problems))
    return _Planner(city, agg, settings, lock).run(sites, list(release))


class _Planner:
    def __init__(
        self, city: str, agg: ipaddress.IPv6Network, settings: PlanSettings, old: Lock | None
    ):
        self.agg = agg
        self.s = settings
        old = old or Lock(city, str(agg), settings)
        self.lock = Lock(
            city,
            str(agg),
            settings,
            {c: SiteEntry(e.net, e.length, e.level, e.parent, True) for c, e in old.sites.items()},
            {h: DeviceEntry(d.addr, d.site, True) for h, d in old.loopbacks.items()},
            {k: LinkEntry(ln.net, True) for k, ln in old.links.items()},
            set(old.released),
        )
        self.new = 0

    # --- releases -------------------------------------------------------------------
    def release(self, names: list[str], sites: list[SiteInput]) -> None:
        in_model = {s.code for s in sites} | {h for s in sites for h, _ in s.devices}
        lk = self.lock
        for name in names:
            if name in in_model:
                raise PlanError(
                    f"{name} is still in the model: remove it from network.yaml before releasing its space"
                )
            if name in lk.sites:
                gone = {name}
                for code, e in lk.sites.items():  # parents precede children in the lock
                    if e.parent in gone:
                        gone.add(code)
                e = lk.sites[name]
                lk.released.add((e.net, e.length))
                for code in gone:
                    del lk.sites[code]
                hosts = [h for h, d in lk.loopbacks.items() if d.site in gone]
            elif name in lk.loopbacks:
                hosts = [name]
            else:
                raise PlanError(f"--release {name}: no site code or hostname {name!r} in the lock")
            for h in hosts:
                lk.released.add((lk.loopbacks.pop(h).addr, 128))
            hosts_set = set(hosts)
            for key in [k for k in lk.links if k[0] in hosts_set or k[1] in hosts_set]:
                lk.released.add((lk.links.pop(key).net, 127))

    # --- sites ----------------------------------------------------------------------
    def run(self, sites: list[SiteInput], release: list[str]) -> Plan:
        if release:
            self.release(release, sites)
        lk = self.lock
        by_block = {(e.net, e.length): c for c, e in lk.sites.items()}
        used: dict[str, set[int]] = defaultdict(set)
        for e in lk.sites.values():
            if e.parent is not None and e.parent in lk.sites:
                used[e.parent].add(self._slot(e.net, lk.sites[e.parent].length, e.length))
        freed: dict[str, set[int]] = defaultdict(set)
        for net, length in lk.released:
            for plen in range(length - 4, self.agg.prefixlen - 1, -4):
                owner = by_block.get((net >> (128 - plen) << (128 - plen), plen))
                if owner is not None:
                    if (
                        CHILD[lk.sites[owner].level] != "lan"
                        and self.s.length(CHILD[lk.sites[owner].level], self.agg.prefixlen)
                        == length
                    ):
                        freed[owner].add(self._slot(net, plen, length))
                    break
        cursor: dict[str, int] = defaultdict(lambda: 1)
        names = {s.code: s.name for s in sites}
        agg_len = self.agg.prefixlen
        for s in sites:
            planned = lk.sites.get(s.code)
            if planned is not None:
                if planned.level != s.level or planned.parent != s.parent:
                    raise PlanError(
                        f"site {s.code} was planned as a {planned.level} under {planned.parent}; it is now a {s.level} "
                        f"under {s.parent}. Prefixes never move: remove it, re-plan with --release {s.code}, "
                        "then add it back to give it a new block"
                    )
                planned.removed = False
                continue
            length = self.s.length(s.level, agg_len)
            if s.level == "city":
                net = int(self.agg.network_address)
            else:
                p = lk.sites.get(s.parent or "")
                if s.parent is None or p is None or p.removed:
                    raise PlanError(f"site {s.code}: its parent {s.parent} is not planned")
                slot = self._pick(
                    s.parent, p, s.level, used[s.parent], freed[s.parent], cursor, names
                )
                net = p.net + (slot << (128 - length))
                used[s.parent].add(slot)
                if slot in freed[s.parent]:
                    freed[s.parent].discard(slot)
                    lk.released = {r for r in lk.released if not self._inside(r, net, length)}
            lk.sites[s.code] = SiteEntry(net, length, s.level, s.parent)
            self.new += 1
        self.devices(sites)
        return self.result(sites, used, names)

    @staticmethod
    def _slot(net: int, parent_len: int, length: int) -> int:
        return (net >> (128 - length)) & ((1 << (length - parent_len)) - 1)

    @staticmethod
    def _inside(r: tuple[int, int], net: int, length: int) -> bool:
        return r[1] >= length and (r[0] >> (128 - length)) == (net >> (128 - length))

    def limit(self, parent: SiteEntry, level: str) -> tuple[int, int, int]:
        """(slots, held back, highest usable slot) of a parent block for children of `level`."""
        slots = 1 << (self.s.length(level, self.agg.prefixlen) - parent.length)
        held = int(slots * self.s.reserve.get(level, 0.0))
        return slots, held, slots - 1 - held

    def _pick(
        self,
        code: str,
        parent: SiteEntry,
        level: str,
        used: set[int],
        freed: set[int],
        cursor: dict[str, int],
        names: dict[str, str],
    ) -> int:
        slots, held, top = self.limit(parent, level)
        i = cursor[code]
        while i <= top and (i in used or i in freed):
            i += 1
        cursor[code] = i
        if i <= top:
            return i
        for i in sorted(freed):  # no never-used slot left: reuse released space, oldest first
            if i <= top and i not in used:
                return i
        length = self.s.length(level, self.agg.prefixlen)
        frac = self.s.reserve.get(level, 0.0)
        raise PlanError(
            f"{parent.level} {code} ({names.get(code, '?')}) is full: its /{parent.length} holds {top} {level} "
            f"/{length} blocks ({slots} slots − slot 0 for infrastructure − {held} growth reserve) and all are taken. "
            f"Change the setting {level}_len (now /{length}; longer gives more, smaller blocks) or "
            f"{parent.level}_len (now /{parent.length}), or lower reserve.{level} (now {frac:g})"
        )

    # --- loopbacks and links -----------------------------------------------------------
    def devices(self, sites: list[SiteInput]) -> None:
        lk = self.lock
        site_of = {h: s for s in sites for h, _ in s.devices}
        top: dict[int, int] = {}  # /64 base → highest offset taken (active, removed or released)

        def note(addr: int) -> None:
            base = addr & ~(_64 - 1) & _MASK128
            top[base] = max(top.get(base, 0), addr - base)

        for d in lk.loopbacks.values():
            note(d.addr)
        for ln in lk.links.values():
            note(ln.net + 1)
        for net, length in lk.released:
            if length >= LAN_LEN:
                note(net + (1 if length == 127 else 0))
        for s in sites:
            base = lk.sites[s.code].net  # the loopback /64 is the first of slot 0
            for host, _ in s.devices:
                loopback = lk.loopbacks.get(host)
                if loopback is not None:
                    if loopback.site != s.code:
                        raise PlanError(
                            f"device {host} was planned at site {loopback.site} and is now at {s.code}; prefixes never "
                            f"move: remove it, re-plan with --release {host}, then add it back"
                        )
                    loopback.removed = False
                    continue
                addr = base + top.get(base, 0) + 1
                top[base] = addr - base
                lk.loopbacks[host] = DeviceEntry(addr, s.code)
                self.new += 1
        for s in sites:
            for host, peers in s.devices:
                for peer, n in zip(peers, uplink_numbers(peers), strict=True):
                    key = (peer, host, n)
                    link = lk.links.get(key)
                    if link is not None:
                        link.removed = False
                        continue
                    owner = site_of.get(
                        peer, s
                    )  # upstream peers are numbered from the city's links
                    base = lk.sites[owner.code].net + _64
                    off = (
                        top.get(base, 1) + 1
                    )  # next even offset, ::0/127 (all-zeros IID) never used
                    off += off & 1
                    top[base] = off + 1
                    lk.links[key] = LinkEntry(base + off)
                    self.new += 1

    # --- the result -------------------------------------------------------------------
    def result(
        self, sites: list[SiteInput], used: dict[str, set[int]], names: dict[str, str]
    ) -> Plan:
        lk = self.lock
        allocs = [
            Allocation(
                s.code, s.level, fmt_net(lk.sites[s.code].net, lk.sites[s.code].length), s.parent
            )
            for s in sites
        ]
        reserved = [
            Allocation(c, e.level, fmt_net(e.net, e.length), e.parent)
            for c, e in lk.sites.items()
            if e.removed
        ]
        links = [
            Link(a, b, fmt_net(ln.net, 127), n)
            for (a, b, n), ln in lk.links.items()
            if not ln.removed
        ]
        loops = [
            Loopback(h, fmt_net(d.addr, 128)) for h, d in lk.loopbacks.items() if not d.removed
        ]
        plan = Plan(str(self.agg), self.s, allocs, links, loops, reserved, lk, new=self.new)
        plan.stats = self.stats(used)
        return plan

    def stats(self, used: dict[str, set[int]]) -> list[LevelStats]:
        lk = self.lock
        counts: dict[str, list[int]] = {lv: [0, 0] for lv in LEVELS}
        for e in lk.sites.values():
            counts[e.level][1 if e.removed else 0] += 1
        out = [LevelStats("city", self.agg.prefixlen, counts["city"][0], 0, 1, None, None)]
        for level in LEVELS[1:]:
            capacity, tight, tight_free = 0, None, None
            for code, e in lk.sites.items():
                if CHILD[e.level] != level or e.removed:
                    continue
                top = self.limit(e, level)[2]
                capacity += top
                free = top - len(used.get(code, ()))
                if tight_free is None or free < tight_free:
                    tight, tight_free = code, free
            out.append(
                LevelStats(
                    level,
                    self.s.length(level, self.agg.prefixlen),
                    counts[level][0],
                    counts[level][1],
                    capacity,
                    tight,
                    tight_free,
                )
            )
        return out
