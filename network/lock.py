"""The IPAM lock file: every prefix ever handed out, so that re-planning never renumbers.

`network/ipam.lock.yaml` (by default) records each site's block, each device's loopback and
each uplink's /127 (keyed by its two ends and, for parallel links between the same two
devices, the link's number: `a b prefix 2`), with a `removed` mark for what has left the model (still reserved) and a
`released` list of prefixes given back with `--release` (reused only when a block has no
never-used slot left). It is read with line numbers kept, so a corrupt or foreign lock is
reported as `file:line: field: message` (exit 2); it is written atomically, one entry a line.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from model.errors import InvalidModel, ModelError, display_path
from model.yamlio import line_of, read_yaml, write_atomic
from network.settings import LEVELS, PlanSettings, fmt_net, parse_net

KIND = "govcloud/ipam-lock"
_FastLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SCHEMA_VERSION = 2
"""Version 2 added the link number of parallel links. A lock without parallel links is written
as version 1, byte for byte what version 1 wrote, so older readers keep reading it."""
READS = (1, 2)


class LockError(InvalidModel):
    """The lock file is corrupt, foreign, or disagrees with the model: exit 2, nothing written."""


@dataclass(slots=True)
class SiteEntry:
    net: int
    length: int
    level: str
    parent: str | None
    removed: bool = False


@dataclass(slots=True)
class DeviceEntry:
    addr: int
    site: str
    removed: bool = False


@dataclass(slots=True)
class LinkEntry:
    net: int
    removed: bool = False


@dataclass
class Lock:
    city: str
    aggregate: str
    settings: PlanSettings
    sites: dict[str, SiteEntry] = field(default_factory=dict)
    loopbacks: dict[str, DeviceEntry] = field(default_factory=dict)
    links: dict[tuple[str, str, int], LinkEntry] = field(default_factory=dict)
    """(upstream end, downstream end, link number: 1, or 2… for parallel links) → its /127."""
    released: set[tuple[int, int]] = field(default_factory=set)
    """(network as int, prefix length) given back with --release."""


_p = fmt_net


def dump_lock(lock: Lock) -> str:
    """The lock as YAML text: deterministic, one entry a row (a single scalar, so that a lock of
    a 20,000-village city parses in well under a second), diff-friendly."""
    s = lock.settings
    reserve = ", ".join(f"{k}: {v!r}" for k, v in sorted(s.reserve.items()))
    parallel = any(n > 1 for _, _, n in lock.links)  # v1 text unless the lock holds parallel links
    out = [
        "# IPv6 address plan lock of the extranet: prefixes recorded here never move.",
        "# Written by `govctl ipv6 plan`; give a removed site's space back with --release CODE.",
        f"schema_version: {SCHEMA_VERSION if parallel else 1}",
        f"kind: {KIND}",
        f"city: '{lock.city}'",
        f"aggregate: '{lock.aggregate}'",
        f"settings: {{county_len: {s.county_len}, township_len: {s.township_len}, "
        f"village_len: {s.village_len}, reserve: {{{reserve}}}}}",
        "# rows: code level parent prefix [removed]",
        "sites:" + ("" if lock.sites else " []"),
    ]
    out += [
        f"- {code} {e.level} {e.parent or '-'} {_p(e.net, e.length)}{_REMOVED[e.removed]}"
        for code, e in lock.sites.items()
    ]
    out.append("# rows: hostname site loopback [removed]")
    out.append("loopbacks:" + ("" if lock.loopbacks else " []"))
    out += [
        f"- {host} {d.site} {_p(d.addr, 128)}{_REMOVED[d.removed]}"
        for host, d in lock.loopbacks.items()
    ]
    out.append(
        "# rows: upstream-end downstream-end prefix "
        + ("[n: 2… for parallel links] " if parallel else "")
        + "[removed]"
    )
    out.append("links:" + ("" if lock.links else " []"))
    out += [
        f"- {a} {b} {_p(ln.net, 127)}{f' {n}' if n > 1 else ''}{_REMOVED[ln.removed]}"
        for (a, b, n), ln in lock.links.items()
    ]
    out.append("released:" + ("" if lock.released else " []"))
    out += [f"- {_p(net, length)}" for net, length in sorted(lock.released)]
    return "\n".join(out) + "\n"


_REMOVED = {False: "", True: " removed"}


def write_lock(path: Path, lock: Lock) -> None:
    write_atomic(path, dump_lock(lock))


class _Reader:
    """Turns the parsed YAML into a `Lock`, collecting located errors instead of raising."""

    def __init__(self, shown: str, data):
        self.shown = shown
        self.data = data
        self.errors: list[ModelError] = []

    def error(self, loc: tuple, message: str) -> None:
        field_name = "".join(
            f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p))
            for i, p in enumerate(loc)
        )
        self.errors.append(ModelError(self.shown, line_of(self.data, loc), field_name, message))

    def prefix(self, loc: tuple, value, length: int | None) -> tuple[int, int] | None:
        try:
            net, plen = parse_net(str(value))
        except ValueError as exc:
            self.error(loc, f"not an IPv6 prefix: {exc}")
            return None
        if length is not None and plen != length:
            self.error(loc, f"{value} should be a /{length}")
            return None
        return net, plen

    def rows(self, key: str, width: int, optional: int = 0):
        """(loc, fields, removed) of each row of a section (`width` fields, up to `optional` more);
        bad rows are reported and skipped."""
        items = self.data.get(key)
        if items is None:
            return
        if not isinstance(items, list):
            self.error((key,), f"expected a list of rows, found {type(items).__name__}")
            return
        for i, row in enumerate(items):
            parts = str(row).split() if isinstance(row, str | int) else []
            removed = len(parts) > width and parts[-1] == "removed"
            fields = parts[:-1] if removed else parts
            if not width <= len(fields) <= width + optional:
                more = f" (+ {optional} optional)" if optional else ""
                self.error(
                    (key, i), f"expected {width} fields{more} (+ optional 'removed'), found {row!r}"
                )
                continue
            yield (key, i), fields, removed

    def read(self) -> Lock | None:
        d = self.data
        if not isinstance(d, dict) or d.get("kind") != KIND:
            self.error(
                ("kind",) if isinstance(d, dict) else (),
                f"not a govcloud IPAM lock (kind should be {KIND!r})",
            )
            return None
        if d.get("schema_version") not in READS:
            self.error(
                ("schema_version",),
                f"unsupported schema_version {d.get('schema_version')!r} "
                f"(this govctl reads {', '.join(map(str, READS))})",
            )
            return None
        if not isinstance(d.get("city"), str):
            self.error(("city",), "missing city code")
        agg = self.prefix(("aggregate",), d.get("aggregate"), None)
        settings = self.settings(d.get("settings"))
        if agg is None or settings is None or self.errors:
            return None
        lock = Lock(city=d["city"], aggregate=_p(*agg), settings=settings)
        for loc, (code, level, parent, prefix), removed in self.rows("sites", 4):
            if level not in LEVELS:
                self.error(loc, f"unknown level {level!r} (one of {', '.join(LEVELS)})")
                continue
            p = self.prefix(loc, prefix, settings.length(level, agg[1]))
            if p and code in lock.sites:
                self.error(loc, f"site {code} is listed twice")
            elif p:
                lock.sites[code] = SiteEntry(
                    p[0], p[1], level, None if parent == "-" else parent, removed
                )
        for loc, (host, site, prefix), removed in self.rows("loopbacks", 3):
            p = self.prefix(loc, prefix, 128)
            if p and host in lock.loopbacks:
                self.error(loc, f"device {host} is listed twice")
            elif p:
                lock.loopbacks[host] = DeviceEntry(p[0], site, removed)
        for loc, (a, b, prefix, *number), removed in self.rows("links", 3, optional=1):
            p = self.prefix(loc, prefix, 127)
            n = int(number[0]) if number and number[0].isdigit() else (1 if not number else 0)
            if n < 1:
                self.error(
                    loc,
                    f"link number {number[0]!r} should be a whole number: 2, 3… for parallel links",
                )
            elif p and (a, b, n) in lock.links:
                self.error(loc, f"link {a}–{b}{f' #{n}' if n > 1 else ''} is listed twice")
            elif p:
                lock.links[a, b, n] = LinkEntry(p[0], removed)
        for loc, (prefix,), _ in self.rows("released", 1):
            p = self.prefix(loc, prefix, None)
            if p:
                lock.released.add(p)
        self.consistency(lock)
        return lock

    def settings(self, s) -> PlanSettings | None:
        try:
            reserve = {str(k): float(v) for k, v in (s.get("reserve") or {}).items()}
            return PlanSettings(
                int(s["county_len"]), int(s["township_len"]), int(s["village_len"]), reserve
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            self.error(
                ("settings",), f"incomplete or malformed settings ({type(exc).__name__}: {exc})"
            )
            return None

    def consistency(self, lock: Lock) -> None:
        """Every block sits inside its parent's, and no two blocks share a prefix."""
        agg = ipaddress.IPv6Network(lock.aggregate)
        seen: dict[tuple[int, int], str] = {}
        for i, (code, e) in enumerate(lock.sites.items()):
            loc = ("sites", i)
            if (e.net, e.length) in seen:
                self.error(
                    loc, f"{_p(e.net, e.length)} is also the block of site {seen[e.net, e.length]}"
                )
            seen[e.net, e.length] = code
            if e.level == "city":
                if _p(e.net, e.length) != str(agg):
                    self.error(loc, f"the city block must be the aggregate {agg}")
                continue
            parent = lock.sites.get(e.parent or "")
            if parent is None:
                self.error(loc, f"parent {e.parent!r} of site {code} is not listed before it")
            elif (e.net >> (128 - parent.length)) != (parent.net >> (128 - parent.length)):
                self.error(
                    loc,
                    f"{_p(e.net, e.length)} is outside its parent {e.parent}'s block {_p(parent.net, parent.length)}",
                )


_SECTIONS = ("sites", "loopbacks", "links", "released")


def _rows_fast(text: str):
    """The lock as `dump_lock` writes it, read line by line (the header with libyaml). Anything
    else — a comment after a row, quoting, another layout — returns the plain YAML reading."""
    head, sep, rest = text.partition("\nsites:")
    if not sep:
        return yaml.load(text, Loader=_FastLoader)
    data = yaml.load(head, Loader=_FastLoader)
    if not isinstance(data, dict):
        return data
    rows: dict[str, list[str]] = {k: [] for k in _SECTIONS}
    current = rows["sites"]
    for line in ("sites:" + rest).splitlines():
        if line.startswith("- ") and "#" not in line and "'" not in line and '"' not in line:
            current.append(line[2:])
        elif not line.strip() or line.startswith("#"):
            continue
        elif line.partition(":")[0] in rows and line.partition(":")[2].strip() in ("", "[]"):
            current = rows[line.partition(":")[0]]
        else:
            return yaml.load(text, Loader=_FastLoader)
    return data | rows


def load_lock(path: Path) -> Lock | None:
    """The lock at `path`, or None when there is none yet. Raises LockError when it is bad.

    The fast C parser reads it; only when something is wrong is it read again with line
    numbers kept, so that every message names its line."""
    path = Path(path)
    if not path.exists():
        return None
    shown = display_path(path)
    try:
        fast = _Reader(shown, _rows_fast(path.read_text(encoding="utf-8")))
        lock = fast.read()
        if lock is not None and not fast.errors:
            return lock
    except (yaml.YAMLError, UnicodeDecodeError, OSError, AttributeError):
        pass
    data, errors = read_yaml(path)
    if errors:
        raise LockError(errors)
    reader = _Reader(shown, data)
    reader.read()
    raise LockError(reader.errors or [ModelError(shown, 1, "", "not a govcloud IPAM lock")])


def check_foreign(lock: Lock, path: Path, city_code: str, aggregate: str) -> None:
    """A lock planned for another city or another aggregate must not be applied here."""
    shown = display_path(Path(path))
    data_line = 1
    if lock.city != city_code:
        raise LockError(
            [
                ModelError(
                    shown,
                    data_line,
                    "city",
                    f"this lock belongs to city {lock.city}, not {city_code}: pass the right --lock",
                )
            ]
        )
    if lock.aggregate != aggregate:
        raise LockError(
            [
                ModelError(
                    shown,
                    data_line,
                    "aggregate",
                    f"this lock was planned inside {lock.aggregate} but the city's ipv6_prefix is {aggregate}; "
                    "renumbering is never automatic — plan into a new --lock",
                )
            ]
        )
