"""The address plan's settings: prefix length per level and the growth reserve per level.

Defaults follow RIPE-690 for a /32 aggregate (static, nibble boundaries): county /40,
township /48, village /56, LAN /64. Every length is a setting because a province's
extranet centre hands out other sizes; only the LAN is fixed at /64 (SLAAC, RFC 7421).
"""

from __future__ import annotations

import ipaddress
import itertools
import socket
from dataclasses import dataclass, field
from typing import Any

LEVELS = ("city", "county", "township", "village")
CHILD = {"city": "county", "county": "township", "township": "village", "village": "lan"}
LAN_LEN = 64
DEFAULT_RESERVE = 1 / 16
"""Fraction of each block's child slots (the top ones) held back for growth."""


def _default_reserve() -> dict[str, float]:
    return {"county": DEFAULT_RESERVE, "township": DEFAULT_RESERVE, "village": DEFAULT_RESERVE}


@dataclass(frozen=True)
class PlanSettings:
    county_len: int = 40
    township_len: int = 48
    village_len: int = 56
    reserve: dict[str, float] = field(default_factory=_default_reserve)

    @classmethod
    def for_aggregate(cls, aggregate_len: int, **given) -> PlanSettings:
        """Defaults that fit an aggregate of any length: equal nibble-aligned steps down to
        the /64 LANs (8 bits each for a /32), the rest of the bits to the counties."""
        bits = LAN_LEN - aggregate_len
        step = min(8, max(4, (bits // 4) // 4 * 4))
        village = LAN_LEN - step
        township = village - step
        county = township - step
        values: dict[str, Any] = {
            "county_len": county,
            "township_len": township,
            "village_len": village,
        }
        values.update({k: v for k, v in given.items() if v is not None})
        return cls(**values)

    def length(self, level: str, aggregate_len: int) -> int:
        return {
            "city": aggregate_len,
            "county": self.county_len,
            "township": self.township_len,
            "village": self.village_len,
            "lan": LAN_LEN,
        }[level]

    def problems(self, aggregate_len: int) -> list[str]:
        """What is wrong with these settings for an aggregate of this length ([] when sound)."""
        out = []
        lengths = [
            ("aggregate", aggregate_len),
            ("county_len", self.county_len),
            ("township_len", self.township_len),
            ("village_len", self.village_len),
            ("LAN", LAN_LEN),
        ]
        for name, n in lengths[1:4]:
            if n % 4:
                out.append(
                    f"{name} /{n} is not on a nibble boundary (use a multiple of 4, RIPE-690)"
                )
        for (an, a), (bn, b) in itertools.pairwise(lengths):
            if b <= a:
                out.append(f"{bn} /{b} must be longer than {an} /{a}")
        for level, frac in self.reserve.items():
            if level not in LEVELS[1:]:
                out.append(f"reserve.{level}: unknown level (county, township or village)")
            elif not 0 <= frac < 1:
                out.append(f"reserve.{level} = {frac}: must be a fraction in [0, 1)")
        return out

    def as_dict(self) -> dict:
        return {
            "county_len": self.county_len,
            "township_len": self.township_len,
            "village_len": self.village_len,
            "reserve": dict(self.reserve),
        }


def fmt_addr(n: int) -> str:
    """An IPv6 address (as int) in RFC 5952 text, ~7× faster than `ipaddress` (C inet_ntop)."""
    s = socket.inet_ntop(socket.AF_INET6, n.to_bytes(16, "big"))
    return str(ipaddress.IPv6Address(n)) if "." in s else s


def fmt_net(n: int, length: int) -> str:
    return f"{fmt_addr(n)}/{length}"


def parse_net(text: str) -> tuple[int, int]:
    """'2001:db8::/32' → (network as int, 32); ValueError when it is not a prefix with host
    bits zero. The C parser (inet_pton) first, `ipaddress` for the error message."""
    addr, sep, length = text.partition("/")
    try:
        n = int.from_bytes(socket.inet_pton(socket.AF_INET6, addr), "big")
        plen = int(length)
        if sep and length.isdigit() and 0 <= plen <= 128 and not n & ((1 << (128 - plen)) - 1):
            return n, plen
    except (OSError, ValueError):
        pass
    net = ipaddress.IPv6Network(text, strict=True)  # raises the precise ValueError
    return int(net.network_address), net.prefixlen
