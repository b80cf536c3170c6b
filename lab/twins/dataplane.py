"""What a twin's configuration does to the node's real data plane.

Underneath every twin runs the lab node's own kernel and FRR (zebra + ospf6d): the twin is
the vendor CLI, FRR is its forwarding and routing engine. A configured line reaches the data
plane as kernel addresses on the namespace's veths (`ip -6 addr`) and ospf6d settings (one
`vtysh` call per change set), so an OSPFv3 adjacency between a Huawei twin and an FRR node is
real, and `ping ipv6` really pings. Which grammar command does what is the table `ACTIONS`
(command ids are the grammar's, shared by all platforms where the meaning is the same);
static routes go to FRR's staticd (a NULL0 route is a blackhole); lines with no data-plane
effect (ACLs, NTP, syslog, SNMP) only live in the configuration.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
from dataclasses import dataclass

from lab.twins.config import Config, Line

ACTIONS: dict[str, tuple[str, bool]] = {
    # command id -> (action, configured as its negative form?)
    "ipv6-address": ("address", False),
    "ospfv3-area-if": ("if_area", False),
    "ipv6-ospf-area": ("if_area", False),
    "ospfv3-network-type": ("if_network", False),
    "ipv6-ospf-network": ("if_network", False),
    "ospfv3-timer-hello": ("if_hello", False),
    "ipv6-ospf-hello": ("if_hello", False),
    "ospfv3-timer-dead": ("if_dead", False),
    "ipv6-ospf-dead": ("if_dead", False),
    "ospfv3-timer-retransmit": ("if_retransmit", False),
    "ipv6-ospf-retransmit": ("if_retransmit", False),
    "silent-interface": ("passive", False),
    "passive-interface": ("passive", False),
    "router-id": ("router_id", False),
    "default-route-advertise": ("originate", False),
    "default-information": ("originate", False),
    "abr-summary": ("range", False),
    "area-range": ("range", False),
    # RAs: VRP/Comware send none until `undo ipv6 nd ra halt` (V8: `ipv6 nd ra halt
    # disable`); IOS/RGOS routers send them until suppressed (`no ipv6 nd ra suppress` /
    # `no ipv6 nd suppress-ra` turn a suppression off).
    "nd-ra-halt": ("ra", True),
    "nd-ra-halt-disable": ("ra", False),
    "route-static": ("static", False),
    "route": ("static", False),
    "nd-ra-suppress": ("ra", True),
    "nd-suppress-ra": ("ra", True),
}

FRR_FORMS = {
    # action -> (FRR lines to add, FRR lines to remove); {k} are filled from the line's args
    "if_area": (["ipv6 ospf6 area {area}"], ["no ipv6 ospf6 area {area}"]),
    "if_network": (["ipv6 ospf6 network point-to-point"], ["no ipv6 ospf6 network"]),
    "if_hello": (["ipv6 ospf6 hello-interval {seconds}"], ["no ipv6 ospf6 hello-interval"]),
    "if_dead": (["ipv6 ospf6 dead-interval {seconds}"], ["no ipv6 ospf6 dead-interval"]),
    "if_retransmit": (
        ["ipv6 ospf6 retransmit-interval {seconds}"],
        ["no ipv6 ospf6 retransmit-interval"],
    ),
    "passive": (["ipv6 ospf6 passive"], ["no ipv6 ospf6 passive"]),
    "router_id": (["ospf6 router-id {id}"], ["no ospf6 router-id"]),
    "originate": (
        ["default-information originate always"],
        ["no default-information originate"],
    ),
    "range": (["area {area} range {prefix}"], ["no area {area} range {prefix}"]),
    "ra": (["no ipv6 nd suppress-ra"], ["ipv6 nd suppress-ra"]),
}
ROUTER_ACTIONS = {"router_id", "originate", "range"}
"""Actions that live under `router ospf6`; the others under the interface."""


def area_id(value: str) -> str:
    return str(ipaddress.IPv4Address(int(value))) if value.isdigit() else value


@dataclass
class Change:
    """One configured line added or removed, with the blocks around it."""

    line: Line
    path: tuple[Line, ...]
    added: bool


def changes(before: Config, after: Config) -> list[Change]:
    """Lines removed (deepest first) then lines added, between two configurations."""

    def keyed(cfg: Config) -> dict[tuple, tuple[tuple[Line, ...], Line]]:
        return {
            tuple(p.text for p in path) + (ln.text, ln.undo): (path, ln) for path, ln in cfg.walk()
        }

    old, new = keyed(before), keyed(after)
    gone = [Change(ln, path, False) for k, (path, ln) in reversed(old.items()) if k not in new]
    came = [Change(ln, path, True) for k, (path, ln) in new.items() if k not in old]
    return gone + came


class DataPlane:
    """Applies configuration changes to one namespace's kernel and FRR."""

    def __init__(self, portmap: dict[str, str], pathspace: str | None, dry: bool = False):
        self.portmap_display = dict(portmap)
        self.portmap = {re.sub(r"\s+", "", k).lower(): v for k, v in portmap.items()}
        self.pathspace = pathspace
        self.dry = dry
        self.log: list[list[str]] = []

    def kernel_if(self, vendor: str) -> str | None:
        return self.portmap.get(re.sub(r"\s+", "", vendor).lower())

    def commands(self, delta: list[Change]) -> tuple[list[list[str]], list[str]]:
        """(kernel commands, FRR configuration lines) for a list of changes."""
        kernel: list[list[str]] = []
        frr: list[str] = []
        for ch in delta:
            action, negative = ACTIONS.get(ch.line.cmd or "", ("", False))
            if not action or ch.line.undo != negative:
                continue
            args = dict(ch.line.args)
            iface = next(
                (p.args.get("ifname") for p in reversed(ch.path) if "ifname" in p.args), None
            )
            if action == "passive":
                iface = args.get("ifname")
            area = next((p.args.get("area") for p in reversed(ch.path) if "area" in p.args), None)
            if area and "area" not in args:
                args["area"] = area
            if "area" in args:
                args["area"] = area_id(args["area"])
            if action == "address":
                dev = self.kernel_if(iface or "")
                addr = args.get("address") or f"{args.get('addr')}/{args.get('len')}"
                if dev:
                    kernel.append(
                        ["ip", "-6", "addr", "add" if ch.added else "del", addr, "dev", dev]
                    )
                continue
            if action == "static":  # staticd: a route, or the discard route (NULL0 / Null0)
                frr.append(("" if ch.added else "no ") + self.static(args))
                continue
            if action == "range":
                if "prefix" not in args:
                    args["prefix"] = f"{args.get('network')}/{args.get('len')}"
                args["prefix"] = str(ipaddress.ip_network(args["prefix"], strict=False))
            forms = FRR_FORMS[action][0 if ch.added else 1]
            body = [f.format(**args) for f in forms]
            if action in ROUTER_ACTIONS:
                frr += ["router ospf6", *body, "exit"]
            else:
                dev = self.kernel_if(iface or "")
                if dev:
                    frr += [f"interface {dev}", *body, "exit"]
        return kernel, frr

    def static(self, args: dict[str, str]) -> str:
        prefix = args.get("prefix") or f"{args.get('dest')}/{args.get('len')}"
        prefix = str(ipaddress.ip_network(prefix, strict=False))
        ifname = args.get("ifname", "")
        if ifname.lower().startswith("null"):
            return f"ipv6 route {prefix} blackhole"
        via = [args["nexthop"]] if args.get("nexthop") else []
        dev = self.kernel_if(ifname) if ifname else None
        return " ".join(["ipv6 route", prefix, *via, *([dev] if dev else [])])

    def apply(self, delta: list[Change]) -> None:
        kernel, frr = self.commands(delta)
        for cmd in kernel:
            self._run(cmd)
        if frr:
            args = ["vtysh"] + (["-N", self.pathspace] if self.pathspace else [])
            args += ["-c", "configure terminal"] + [a for ln in frr for a in ("-c", ln)]
            self._run(args)

    def save(self) -> None:
        """FRR's own saved config follows the twin's `save` (a reboot keeps the routing)."""
        args = (
            ["vtysh"] + (["-N", self.pathspace] if self.pathspace else []) + ["-c", "write memory"]
        )
        self._run(args)

    def _run(self, cmd: list[str]) -> None:
        self.log.append(cmd)
        if not self.dry:
            subprocess.run(cmd, capture_output=True, text=True, timeout=30)
