"""The IPAM lock file: every prefix ever handed out, so that re-planning never renumbers.

`network/ipam.lock.yaml` (by default) records each site's block, each device's loopback and
each uplink's /127 (keyed by its two ends and, for parallel links between the same two
devices, the link's number: `a b prefix 2`), with a `removed` mark for what has left the model (still reserved) and a
`released` list of prefixes given back with `--release` (reused only when a block has no
never-used slot left). It is read with line numbers kept, so a corrupt or foreign lock is
reported as `file:line: field: message` (exit 2); it is written atomically, one entry a line.

`open_lock` is the one way in: it finds the lock (the default path, symlinks followed to
their target), refuses a foreign one, and — for a read-modify-write — holds an inter-process
file lock (`filelock`, a `.NAME.flock` file beside the lock) so that a second planner waits
for the first and then plans on top of what it wrote, instead of handing out its prefixes again.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import filelock
import yaml

from model.errors import InvalidModel, ModelError, display_path
from model.outputs import OutputError, check_file, write_atomic
from model.schema import aggregate_problem
from model.yamlio import line_of, yaml_text
from network.settings import LAN_LEN, LEVELS, PlanSettings, fmt_net, parse_net

KIND = "govcloud/ipam-lock"
_FastLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SCHEMA_VERSION = 2
"""Version 2 added the link number of parallel links. A lock without parallel links is written
as version 1, byte for byte what version 1 wrote, so older readers keep reading it."""
READS = (1, 2)
DEFAULT_LOCK = Path("network/ipam.lock.yaml")
"""The sample city's lock, relative to the working directory (the repository root)."""
WAIT_S = 120.0
"""How long a planner waits for another one holding the same lock before giving up."""
MAX_BYTES = 64 << 20
"""A 20,000-village city's lock is about 5 MB; anything over this is not a lock."""


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
        self.where: dict[tuple, tuple] = {}
        """Each entry's row, for messages about how entries relate."""

    def error(self, loc: tuple, message: str) -> None:
        field_name = "".join(
            f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p))
            for i, p in enumerate(loc)
        )
        self.errors.append(ModelError(self.shown, line_of(self.data, loc), field_name, message))

    def prefix(self, loc: tuple, value, length: int | None) -> tuple[int, int] | None:
        if not isinstance(value, str) or len(value) > 43 or not value.isascii():
            self.error(loc, f"not an IPv6 prefix: {_short(value)}")
            return None
        try:
            net, plen = parse_net(value)
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
                    (key, i),
                    f"expected {width} fields{more} (+ optional 'removed'), found {_short(row)}",
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
        if agg is not None and aggregate_problem(ipaddress.IPv6Network(agg)):
            self.error(
                ("aggregate",),
                f"{_p(*agg)} is not a global unicast aggregate (2000::/3, /64 or shorter)",
            )
            return None
        settings = self.settings(d.get("settings"), agg[1]) if agg else None
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
                self.where["sites", code] = loc
                lock.sites[code] = SiteEntry(
                    p[0], p[1], level, None if parent == "-" else parent, removed
                )
        for loc, (host, site, prefix), removed in self.rows("loopbacks", 3):
            p = self.prefix(loc, prefix, 128)
            if p and host in lock.loopbacks:
                self.error(loc, f"device {host} is listed twice")
            elif p:
                self.where["loopbacks", host] = loc
                lock.loopbacks[host] = DeviceEntry(p[0], site, removed)
        for loc, (a, b, prefix, *number), removed in self.rows("links", 3, optional=1):
            p = self.prefix(loc, prefix, 127)
            n = int(number[0]) if number and _whole(number[0]) else (1 if not number else 0)
            if n < 1:
                self.error(
                    loc,
                    f"link number {number[0]!r} should be a whole number: 2, 3… for parallel links",
                )
            elif p and (a, b, n) in lock.links:
                self.error(loc, f"link {a}–{b}{f' #{n}' if n > 1 else ''} is listed twice")
            elif p:
                self.where["links", a, b, n] = loc
                lock.links[a, b, n] = LinkEntry(p[0], removed)
        for loc, (prefix,), _ in self.rows("released", 1):
            p = self.prefix(loc, prefix, None)
            if p:
                self.where["released", *p] = loc
                lock.released.add(p)
        self.consistency(lock)
        return lock

    def settings(self, s, agg_len: int) -> PlanSettings | None:
        if not isinstance(s, dict):
            self.error(("settings",), "expected a mapping of county_len, township_len, village_len")
            return None
        lengths = {}
        for key in ("county_len", "township_len", "village_len"):
            v = s.get(key)
            if type(v) is not int or not 0 < v <= 128:
                self.error(("settings", key), f"expected a prefix length 1…128, found {_short(v)}")
            else:
                lengths[key] = v
        reserve: dict[str, float] = {}
        raw = s.get("reserve") or {}
        if not isinstance(raw, dict):
            self.error(("settings", "reserve"), f"expected a mapping, found {_short(raw)}")
            raw = {}
        for k, v in raw.items():
            if type(v) not in (int, float) or not 0 <= v < 1:
                self.error(
                    ("settings", "reserve", k), f"expected a fraction in [0, 1), found {_short(v)}"
                )
            else:
                reserve[str(k)] = float(v)
        if len(lengths) < 3 or self.errors:
            return None
        settings = PlanSettings(**lengths, reserve=reserve)
        for problem in settings.problems(agg_len):
            self.error(("settings",), problem)
        return None if self.errors else settings

    def consistency(self, lock: Lock) -> None:
        """What we wrote is checked before it is trusted: every block sits in its parent's
        child slots (never in slot 0, the parent's infrastructure), one level down; no two
        blocks, loopbacks or links share a prefix; every loopback lies in its site's loopback
        /64 and every link in its upstream site's link /64 (all inside the aggregate)."""
        from network.plan import infra_nets  # the layout of slot 0 (plan imports this module)

        agg = ipaddress.IPv6Network(lock.aggregate)
        agg_net, agg_len = int(agg.network_address), agg.prefixlen
        where = self.where
        seen: dict[tuple[int, int], str] = {}
        for code, e in lock.sites.items():
            loc = where["sites", code]
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
                self.error(loc, f"parent {e.parent!r} of site {code} is not in the lock")
            elif parent.level != LEVELS[LEVELS.index(e.level) - 1]:
                self.error(loc, f"a {e.level} cannot sit in {e.parent}, a {parent.level}")
            elif (e.net >> (128 - parent.length)) != (parent.net >> (128 - parent.length)):
                self.error(
                    loc,
                    f"{_p(e.net, e.length)} is outside its parent {e.parent}'s block {_p(parent.net, parent.length)}",
                )
            elif e.net >> (128 - e.length) == parent.net >> (128 - e.length):
                self.error(
                    loc,
                    f"{_p(e.net, e.length)} is slot 0 of {e.parent}'s block, which holds "
                    f"{e.parent}'s own infrastructure",
                )
        taken: dict[int, str] = {}

        def place(loc, what: str, addr: int, length: int, site: str, part: str) -> None:
            s_e = lock.sites.get(site)
            if addr >> (128 - agg_len) != agg_net >> (128 - agg_len):
                self.error(loc, f"{what} {_p(addr, length)} is outside the aggregate {agg}")
                return
            if s_e is None:
                self.error(loc, f"{what}: site {site} is not in the lock")
                return
            base = infra_nets(s_e.net, s_e.level).get(part)
            if base is None or addr >> (128 - LAN_LEN) != base >> (128 - LAN_LEN):
                self.error(
                    loc,
                    f"{what} {_p(addr, length)} is not in the {part} /64 of site {site}"
                    + (f" ({_p(base, LAN_LEN)})" if base is not None else ""),
                )
                return
            key = addr & ~1 if length == 127 else addr
            other = taken.get(key) or (taken.get(addr | 1) if length == 127 else None)
            if other is not None:
                self.error(loc, f"{what} {_p(addr, length)} overlaps {other}")
            taken[key] = what
            if length == 127:
                taken[addr | 1] = what

        for host, d in lock.loopbacks.items():
            place(where["loopbacks", host], f"loopback of {host}", d.addr, 128, d.site, "loopbacks")
        for (a, b, n), ln in lock.links.items():
            end = lock.loopbacks.get(a) or lock.loopbacks.get(b)
            if end is None:
                self.error(where["links", a, b, n], f"link {a}–{b}: neither end is in loopbacks")
                continue
            place(where["links", a, b, n], f"link {a}–{b}", ln.net, 127, end.site, "links")
        for net, length in lock.released:
            if length < agg_len or net >> (128 - agg_len) != agg_net >> (128 - agg_len):
                self.error(
                    where["released", net, length],
                    f"{_p(net, length)} is outside the aggregate {agg}",
                )


def _short(value, limit: int = 60) -> str:
    """A value for an error message: never the whole of a huge scalar."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def _whole(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 4


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


def load_lock(path: Path, text: str | None = None, shown: str | None = None) -> Lock | None:
    """The lock at `path` (or its `text`, already read), or None when there is none yet.
    Raises LockError when it is bad — corrupt, or inconsistent (see `_Reader.consistency`).

    The fast C parser reads it; only when something is wrong is it read again with line
    numbers kept, so that every message names its line. Aliases are refused."""
    path = Path(path)
    shown = shown or display_path(path)
    if text is None:
        text = _read_text(path, path)
        if text is None:
            return None
    if "*" not in text and "&" not in text:  # no anchors or aliases: the fast reading
        try:
            fast = _Reader(shown, _rows_fast(text))
            lock = fast.read()
            if lock is not None and not fast.errors:
                return lock
        except (yaml.YAMLError, AttributeError):
            pass
    data, errors = yaml_text(text, shown, aliases=False)
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


@dataclass
class OpenLock:
    """A lock file opened by `open_lock`: where it is, what it held, how to write it back."""

    path: Path
    """As the user gave it (for messages)."""
    target: Path
    """The file the bytes live in: a symlinked lock is written through to its target."""
    lock: Lock | None
    """None when there is no lock yet."""
    text: str | None
    updating: bool

    def new_text(self, lock: Lock) -> str | None:
        """The text to write back, or None when nothing changed. Only while updating."""
        if not self.updating:
            raise RuntimeError("open_lock(..., update=True) is needed to write the lock")
        text = dump_lock(lock)
        return None if text == self.text else text

    def write(self, lock: Lock) -> bool:
        """Write the lock back (atomically) when it changed; True when it did."""
        text = self.new_text(lock)
        if text is not None:
            write_atomic(self.target, text)
        return text is not None


def _target(path: Path) -> Path:
    """The lock's real file: symlinks followed; a dangling or looping symlink, or something
    that is not a regular file, is an error rather than "no lock yet"."""
    try:
        real = check_file(path)
    except OutputError as exc:
        if "cannot write into" not in str(exc):
            raise _error(path, str(exc).split(": ", 1)[1]) from None
        real = Path(os.path.realpath(path))  # read-only is fine for reading
    return real


def _error(path: Path, message: str) -> LockError:
    return LockError([ModelError(display_path(Path(path)), 1, "", message)])


def _read_text(path: Path, real: Path) -> str | None:
    try:
        st = os.stat(real)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode):
        raise _error(path, "not a regular file")
    if st.st_size > MAX_BYTES:
        raise _error(path, f"{st.st_size:,} bytes: larger than any lock ({MAX_BYTES:,} at most)")
    try:
        return real.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise _error(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise _error(path, f"cannot read: {exc.strerror or exc}") from None


@contextlib.contextmanager
def open_lock(
    path: Path | None, model, *, update: bool = False, wait: float | None = None
) -> Iterator[OpenLock]:
    """Open the IPAM lock of `model` (at `path`, or `DEFAULT_LOCK` when None).

    Raises LockError when it is corrupt, not a regular file, or planned for another city or
    aggregate. With `update=True` the lock stays locked against other planners until the
    block ends, so read → plan → `OpenLock.write` is one step for every other govctl; a
    second planner waits up to `wait` seconds and then fails with a clear message."""
    path = Path(DEFAULT_LOCK if path is None else path)
    wait = WAIT_S if wait is None else wait
    real = check_file(path) if update else _target(path)
    guard = filelock.FileLock(real.with_name(f".{real.name}.flock"), timeout=wait)
    with contextlib.ExitStack() as stack:
        if update:
            try:
                stack.enter_context(guard)
            except filelock.Timeout:
                raise OutputError(
                    path,
                    f"another govctl has been planning with this lock for {wait:g} s; "
                    "try again when it has finished",
                ) from None
        text = _read_text(path, real)
        lock = None if text is None else load_lock(real, text=text, shown=display_path(path))
        if lock is not None:
            check_foreign(lock, path, model.city.code, model.city.ipv6_prefix)
        yield OpenLock(path, real, lock, text, update)


def default_lock(model) -> Path | None:
    """The default lock when it exists and belongs to `model`'s city, else None (for commands
    that plan without writing and fall back to planning from scratch)."""
    if not DEFAULT_LOCK.exists():
        return None
    try:
        with open_lock(None, model):
            return DEFAULT_LOCK
    except LockError:
        return None
