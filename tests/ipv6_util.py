"""Helpers the IPv6 tests share: a tiny planner input and plain checks of a plan's soundness."""

from __future__ import annotations

import ipaddress

from network.plan import Plan, SiteInput

CITY = "369900"
CORE = "369900000000"


def tree(
    counties: dict[int, dict[int, list[int]]], parallel: dict[str, int] | None = None
) -> list[SiteInput]:
    """Sites from {county: {township: [village, …]}} numbers (one device per site). `parallel`
    gives a county or township device (by hostname) that many parallel links to its parent."""
    many = parallel or {}

    def up(host: str, peer: str) -> tuple[str, tuple[str, ...]]:
        return host, (peer,) * many.get(host, 1)

    out = [SiteInput(CORE, "city", None, "core", (("core-01", ("prov-01",)),))]
    for c, towns in sorted(counties.items()):
        ccode = f"3699{c:02d}000000"
        out.append(SiteInput(ccode, "county", CORE, f"c{c}", (up(f"c{c}-agg", "core-01"),)))
        for t, villages in sorted(towns.items()):
            tcode = f"3699{c:02d}{t:03d}000"
            out.append(
                SiteInput(
                    tcode, "township", ccode, f"t{c}.{t}", (up(f"c{c}t{t}-acc", f"c{c}-agg"),)
                )
            )
            out += [
                SiteInput(
                    f"3699{c:02d}{t:03d}{v:03d}",
                    "village",
                    tcode,
                    f"v{c}.{t}.{v}",
                    ((f"c{c}t{t}v{v}-cpe", (f"c{c}t{t}-acc",)),),
                )
                for v in villages
            ]
    return out


def soundness_problems(plan: Plan) -> list[str]:
    """Containment, disjointness, nibble alignment and slot-0 reservation of a plan."""
    problems = []
    nets = {a.site: ipaddress.IPv6Network(a.prefix) for a in plan.allocations + plan.reserved}
    levels = {a.site: a for a in plan.allocations + plan.reserved}
    for code, net in nets.items():
        a = levels[code]
        if net.prefixlen % 4:
            problems.append(f"{code} {net} not nibble aligned")
        if a.parent is None:
            continue
        parent = nets[a.parent]
        if not net.subnet_of(parent):
            problems.append(f"{code} {net} outside parent {parent}")
        first_slot = next(parent.subnets(new_prefix=net.prefixlen))
        if net == first_slot:
            problems.append(f"{code} {net} sits in its parent's infrastructure slot 0")
    by_level: dict[str, list] = {}
    for code, a in levels.items():
        by_level.setdefault(a.level, []).append((int(nets[code].network_address), nets[code], code))
    for items in by_level.values():
        items.sort()
        for (_, a, ca), (_, b, cb) in zip(items, items[1:], strict=False):
            if a.overlaps(b):
                problems.append(f"{ca} {a} overlaps {cb} {b}")
    addrs = [lb.prefix for lb in plan.loopbacks] + [ln.prefix for ln in plan.links]
    if len(set(addrs)) != len(addrs):
        problems.append("a loopback or link prefix is handed out twice")
    for lb in plan.loopbacks:
        if ipaddress.IPv6Network(lb.prefix).network_address.packed[8:] == bytes(8):
            problems.append(f"loopback {lb.prefix} uses the all-zeros interface identifier")
    for ln in plan.links:
        net = ipaddress.IPv6Network(ln.prefix)
        if net.prefixlen != 127 or net.network_address.packed[8:] == bytes(8):
            problems.append(f"link {ln.prefix} is not a /127 clear of the all-zeros IID")
    return problems
