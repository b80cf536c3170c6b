"""Per-platform command grammars, written from the vendors' command references, and the
checker that walks a config through them line by line.

A device CLI is a stack of views (Huawei/H3C: user view `<R1>`, system view `[R1]`,
interface view `[R1-GigabitEthernet0/0/1]` …; Cisco-like: `R1#`, `R1(config)#`,
`R1(config-if)#` …). Each line is a command of the view it is typed in; some commands enter
a view, some leave one. The data for each platform is one YAML file beside this module
(`huawei_vrp.yaml`, …): views with their prompts, argument types, and every command with
its pattern, the views it belongs to, its documented undo/`no` forms and the vendor
document and section it comes from. A line the grammar does not know is an error.

    g = load("huawei_vrp")
    s = g.session()                 # starts in the user view; session(view="system") for files
    r = s.feed("system-view")       # r.ok, r.error, r.command, r.args, r.view, r.undo
    g.undo_form("acl ipv6 2001 inbound", "vty")   # -> "undo acl ipv6 inbound"
    check_config(text, "huawei_vrp", "core-01.cfg")   # -> [Finding(path, line, platform, message)]

`govctl net check` and the vendor twins in `lab/` both step through `Session.feed`.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

HERE = Path(__file__).parent
PLATFORMS = (
    "huawei_vrp",
    "huawei_vrpv8",
    "h3c_comware",
    "ruijie_os",
    "cisco_ios",
    "linux_frr",
)

# --- argument types --------------------------------------------------------------------


def _v6(value: str) -> str | None:
    try:
        socket.inet_pton(socket.AF_INET6, value)
    except OSError:
        return "not an IPv6 address"
    return None


def _v4(value: str) -> str | None:
    try:
        socket.inet_pton(socket.AF_INET, value)
    except OSError:
        return "not a dotted-quad IPv4 address"
    return None


def _prefix_len(value: str) -> str | None:
    return None if value.isdigit() and int(value) <= 128 else "prefix length must be 0–128"


def _v6_prefix(value: str) -> str | None:
    addr, _, length = value.partition("/")
    return _v6(addr) or (_prefix_len(length) if length else "missing /length")


CHECKS = {"ipv6": _v6, "ipv4": _v4, "ipv6_prefix": _v6_prefix, "prefix_len": _prefix_len}
"""Semantic checks an argument type may name (`check:` in the grammar's `types`)."""

BUILTIN_TYPES = {
    "word": {"shape": r"\S+"},
    "int": {"shape": r"\d+"},
    "ipv6": {"shape": r"[0-9A-Fa-f:.]+", "check": "ipv6"},
    "ipv4": {"shape": r"\d+\.\d+\.\d+\.\d+", "check": "ipv4"},
    "ipv6_prefix": {"shape": r"[0-9A-Fa-f:.]+/\d+", "check": "ipv6_prefix"},
    "prefix_len": {"shape": r"\d+", "check": "prefix_len"},
}


@dataclass(frozen=True)
class ArgType:
    name: str
    shape: str
    check: str | None = None
    range: tuple[int, int] | None = None
    values: tuple[str, ...] = ()

    def problem(self, value: str) -> str | None:
        if self.range is not None:
            lo, hi = self.range
            if not (value.isdigit() and lo <= int(value) <= hi):
                return f"must be an integer {lo}–{hi}"
        if self.check:
            return CHECKS[self.check](value)
        return None


# --- command patterns --------------------------------------------------------------------

_TOKEN = re.compile(r"\[|\]|\(|\)|\||<[^>]+>|[^\s\[\]()|<]+")


@dataclass
class Pattern:
    """One syntax line, e.g. `ipv6 address <address:ipv6_prefix> [eui-64]`, compiled.

    `<name:type>` is an argument, `[ … ]` optional, `( a | b )` one of; everything else a
    keyword typed as written."""

    text: str
    regex: re.Pattern
    args: dict[str, str]  # group name -> arg name
    types: dict[str, ArgType]  # arg name -> type
    literal: str  # the leading keywords, for "bad argument" messages and the index

    @classmethod
    def compile(cls, text: str, types: dict[str, ArgType]) -> Pattern:
        groups: dict[str, str] = {}
        argtypes: dict[str, ArgType] = {}
        literal: list[str] = []
        seen_arg = False
        out: list[str] = []
        for tok in _TOKEN.findall(text):
            if tok == "[":
                out.append("(?:")
                seen_arg = True
            elif tok == "]":
                out.append(")?")
            elif tok == "(":
                out.append("(?:")
                seen_arg = True
            elif tok == ")":
                out.append(")")
            elif tok == "|":
                out.append("|")
            elif tok.startswith("<"):
                name, _, tname = tok[1:-1].partition(":")
                t = types.get(tname or "word")
                if t is None:
                    raise GrammarError(f"{text!r}: unknown argument type {tname!r}")
                gname = f"a{len(groups)}"
                groups[gname] = name
                argtypes[name] = t
                out.append(f" (?P<{gname}>{t.shape})")
                seen_arg = True
            else:
                out.append(" " + re.escape(tok))
                if not seen_arg:
                    literal.append(tok)
        # every token was emitted with a leading space: the line is matched with one too
        return cls(text, re.compile("".join(out)), groups, argtypes, " ".join(literal))

    def match(self, line: str) -> tuple[dict[str, str], str | None] | None:
        """(args, problem) when the line has this shape; None when it does not."""
        m = self.regex.fullmatch(" " + line)
        if m is None:
            return None
        args: dict[str, str] = {}
        for gname, value in m.groupdict().items():
            if value is None:
                continue
            name = self.args[gname]
            args[name] = value
            problem = self.types[name].problem(value)
            if problem:
                return args, f"bad argument {name} {value!r}: {problem}"
        return args, None

    def format(self, args: dict[str, str]) -> str:
        """This pattern written out with `args` (a plain pattern: no optional parts)."""

        def arg(m: re.Match) -> str:
            name = m.group(1).partition(":")[0]
            if name not in args:
                raise GrammarError(f"{self.text!r}: no value for <{name}>")
            return args[name]

        return re.sub(r"<([^>]+)>", arg, self.text)


# --- grammar data ------------------------------------------------------------------------


class GrammarError(Exception):
    """The grammar data itself is malformed (a bug in network/grammar/*.yaml)."""


@dataclass(frozen=True)
class View:
    name: str
    prompt: str
    """Prompt template: {host}, {mark} (VRP V8 commit state) and the entering command's args."""
    parent: str | None


@dataclass
class Command:
    id: str
    views: tuple[str, ...]
    syntax: list[Pattern]
    undo: list[Pattern]
    source: str
    enters: str | None = None
    leave: str | None = None  # "one" (back to the parent view) or "root"
    requires: dict[str, str] = field(default_factory=dict)
    sets: dict[str, str] = field(default_factory=dict)
    undo_sets: dict[str, str] = field(default_factory=dict)
    changes: bool = True
    """Changes the configuration (VRP V8: leaves something to commit)."""
    commit: bool = False
    families: tuple[str, ...] = ()
    """Only on these device families (empty: every family of the platform)."""
    keep: bool = False
    """The device keeps this view when it is emptied (a kernel interface, the vty lines): a
    restore undoes what is in it instead of the view, and an empty one is not configured."""
    each: str | None = None
    """A group of ports (`port-group group-member …`, `interface range …`): the command whose
    view every member is (`interface`). What is typed in the group's view is configured on
    each member; the group itself is no line of the configuration (`Grammar.members`)."""

    def __post_init__(self) -> None:
        self.plain = not (
            self.enters
            or self.leave
            or self.requires
            or self.sets
            or self.undo_sets
            or self.commit
            or self.each
        )
        """Moves no view and touches no state: a line of it needs no more than its lookup."""


@dataclass(frozen=True)
class Family:
    name: str
    layer2: re.Pattern | None
    """Interface names that are Layer-2 (switch) ports until made routed."""
    source: str


@dataclass(frozen=True)
class Result:
    """What one line did: ok or an error message, which command, its args, the view after it."""

    ok: bool
    error: str | None
    command: str | None
    args: dict[str, str]
    view: str
    undo: bool = False


class Grammar:
    def __init__(self, data: dict):
        self.platform: str = data["platform"]
        self.title: str = data["title"]
        self.documents: dict[str, dict] = data.get("documents", {})
        self.comment: str = data["comment"]
        self.negate: str = data["negate"]
        self.fallback: bool = bool(data.get("fallback", False))
        """A command unknown in a sub-view is tried in the views above it (IOS-like CLIs)."""
        self.two_stage: bool = bool(data.get("two_stage", False))
        self.root: str = data["root"]
        self.config: str = data["config"]
        self.views = {
            name: View(name, v["prompt"], v.get("parent")) for name, v in data["views"].items()
        }
        types = {n: ArgType(n, t["shape"], t.get("check")) for n, t in BUILTIN_TYPES.items()}
        for name, t in (data.get("types") or {}).items():
            rng = (int(t["range"][0]), int(t["range"][1])) if "range" in t else None
            values = tuple(t.get("values", ()))
            shape = t.get("shape") or ("|".join(map(re.escape, values)) if values else r"\S+")
            types[name] = ArgType(name, f"(?:{shape})", t.get("check"), rng, values)
        self.types = types
        self.families = {
            name: Family(
                name,
                re.compile(f["layer2"], re.IGNORECASE) if f.get("layer2") else None,
                f.get("source", ""),
            )
            for name, f in (data.get("families") or {}).items()
        }
        self._memo: dict = {}
        self.commands: dict[str, Command] = {}
        # (view, first keyword) -> [(pattern, command, is_undo)]
        self._index: dict[tuple[str, str], list[tuple[Pattern, Command, bool]]] = {}
        self._any: dict[str, list[tuple[Pattern, Command, bool]]] = {}
        for cid, c in data["commands"].items():
            views = c["view"] if isinstance(c["view"], list) else [c["view"]]
            for v in views:
                if v not in self.views:
                    raise GrammarError(f"{self.platform}: {cid}: unknown view {v!r}")
            if not c.get("source"):
                raise GrammarError(f"{self.platform}: {cid}: no source")
            syn = c["syntax"] if isinstance(c["syntax"], list) else [c["syntax"]]
            und = c.get("undo") or []
            und = und if isinstance(und, list) else [und]
            cmd = Command(
                id=cid,
                views=tuple(views),
                syntax=[Pattern.compile(s, types) for s in syn],
                undo=[Pattern.compile(u, types) for u in und],
                source=c["source"],
                enters=c.get("enters"),
                leave=c.get("leave"),
                requires=c.get("requires") or {},
                sets=c.get("sets") or {},
                undo_sets=c.get("undo_sets") or {},
                changes=c.get("changes", not (c.get("enters") or c.get("leave"))),
                commit=bool(c.get("commit")),
                families=tuple(c.get("families") or ()),
                each=c.get("each"),
                keep=bool(c.get("keep")),
            )
            if cmd.enters and cmd.enters not in self.views:
                raise GrammarError(f"{self.platform}: {cid}: enters unknown view {cmd.enters!r}")
            if cmd.each and cmd.each not in data["commands"]:
                raise GrammarError(f"{self.platform}: {cid}: each names no command {cmd.each!r}")
            self.commands[cid] = cmd
            for p, is_undo in [(p, False) for p in cmd.syntax] + [(p, True) for p in cmd.undo]:
                # indexed by up to two leading keywords ("" when it starts with an argument)
                key = " ".join(p.literal.split()[:2])
                for v in views:
                    self._index.setdefault((v, key), []).append((p, cmd, is_undo))
                self._any.setdefault(key, []).append((p, cmd, is_undo))

    def _keys(self, line: str) -> tuple[str, ...]:
        """The index keys a line may be under: its first two words, its first word, ""."""
        words = line.split(" ", 2)
        if len(words) > 1:
            return (words[0] + " " + words[1], words[0], "")
        return (words[0], "")

    # -- lookups --------------------------------------------------------------------------

    def lookup(self, line: str, view: str, family: str | None = None):
        """(command, args, is_undo, problem) for a normalised line in `view`, or None.

        Memoised: most lines repeat from device to device (the args dict is shared; do not
        change it)."""
        key = (view, family, line)
        hit = self._memo.get(key, _MISS)
        if hit is _MISS:
            if len(self._memo) > 400_000:
                self._memo.clear()
            hit = self._memo[key] = self._lookup(line, view, family)
        return hit

    def _lookup(self, line: str, view: str, family: str | None):
        best = None
        index = self._index
        entries = [e for k in self._keys(line) for e in index.get((view, k), ())]
        for p, cmd, is_undo in entries:
            if family and cmd.families and family not in cmd.families:
                continue
            hit = p.match(line)
            if hit is None:
                continue
            args, problem = hit
            if problem is None:
                return cmd, args, is_undo, None
            best = best or (cmd, args, is_undo, problem)
        return best

    def views_of(self, line: str) -> list[str]:
        """The views in which `line` would be a command (for 'wrong view' messages)."""
        out: list[str] = []
        for p, cmd, _ in [e for k in self._keys(line) for e in self._any.get(k, ())]:
            hit = p.match(line)
            if hit and hit[1] is None:
                out += [v for v in cmd.views if v not in out]
        return out

    def near(self, line: str, view: str) -> Command | None:
        """A command of `view` whose keywords the line starts with (a bad-argument line)."""
        best, best_len = None, 0
        for (v, _), entries in self._index.items():
            if v != view:
                continue
            for p, cmd, _ in entries:
                lit = p.literal
                if not p.types:  # a command without arguments cannot have bad ones
                    continue
                if lit and (line == lit or line.startswith(lit + " ")) and len(lit) > best_len:
                    best, best_len = cmd, len(lit)
        return best

    def members(self, command: str, args: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
        """The member views of a group command, as (line, args) of the command that enters
        each one: `port-group group-member GigabitEthernet0/0/3 to GigabitEthernet0/0/5` ->
        `interface GigabitEthernet0/0/3` … `interface GigabitEthernet0/0/5`. Members run from
        <first> to <last> in the last number of the name (IOS gives <last> as that number
        only); empty when the range is not one (another card, or backwards)."""
        cmd = self.commands[command]
        if not cmd.each:
            return []
        # a member is the `each` command's form with one argument: `interface <ifname>`,
        # IOS's `line vty <first>` (a range of lines is a group of single lines)
        head = next(p for p in self.commands[cmd.each].syntax if len(p.types) == 1)
        (name,) = head.types
        first = args.get("first", "")
        last = args.get("last", first)
        m = re.fullmatch(r"(.*?)(\d+)", first)
        n = re.fullmatch(r"(.*?)(\d+)", last)
        if m is None or n is None:
            return []
        prefix, lo, hi = m[1], int(m[2]), int(n[2])
        if n[1] and n[1].replace(" ", "").lower() != prefix.replace(" ", "").lower():
            return []
        return [
            (head.format({name: f"{prefix}{i}"}), {name: f"{prefix}{i}"}) for i in range(lo, hi + 1)
        ]

    def ranged(self, command: str | None) -> bool:
        """A command that is its own group (IOS `line vty a b`): the device shows its members
        as ranges of neighbours configured alike, not one by one."""
        cmd = self.commands.get(command or "")
        return bool(cmd and cmd.each == cmd.id)

    def range_line(self, command: str, first: str, last: str) -> str:
        """How a ranged command shows members `first`..`last` (`line vty 5 15`)."""
        forms = {len(p.types): p for p in self.commands[command].syntax}
        return (
            forms[1].format({"first": first})
            if first == last
            else forms[2].format({"first": first, "last": last})
        )

    def session(self, view: str | None = None, family: str | None = None) -> Session:
        """A CLI session: in the user view, or in `view` (e.g. the config view for files)."""
        return Session(self, view or self.root, family)

    def undo_form(self, command_line: str, view: str) -> str:
        """The documented undo/`no` form of a configured line, e.g. (Huawei)
        `acl ipv6 2001 inbound` -> `undo acl ipv6 inbound`."""
        line = normalise(command_line)
        hit = self.lookup(line, view)
        if hit is None or hit[3] is not None:
            raise GrammarError(f"{self.platform}: {line!r} is not a command of the {view} view")
        cmd, args, is_undo, _ = hit
        if (
            is_undo
        ):  # a negative form configured (e.g. `undo ipv6 nd ra halt`): undone by the positive
            return cmd.syntax[0].format(args)
        plain = [
            p
            for p in cmd.undo
            if not any(ch in p.text for ch in "[(") and set(p.types) <= set(args)
        ]
        if not plain:
            raise GrammarError(
                f"{self.platform}: {cmd.id} has no documented undo form for {line!r}"
            )
        return plain[0].format(args)  # the first documented form the line's arguments fill


_MISS = object()


def normalise(line: str) -> str:
    return " ".join(line.split())


# --- sessions ----------------------------------------------------------------------------


class _Args(dict):
    def __missing__(self, key: str) -> str:
        return ""


class Session:
    """The view stack of one CLI session; `feed` steps one line through it."""

    def __init__(self, grammar: Grammar, view: str, family: str | None = None):
        if family and family not in grammar.families:
            raise GrammarError(f"{grammar.platform}: unknown family {family!r}")
        self.grammar = grammar
        self.family = family
        self.stack: list[tuple[str, dict[str, str]]] = self._path(view)
        self.pending = False
        """VRP V8: changes typed but not committed yet."""
        self.state: dict[tuple, dict[str, str]] = {}
        """Per view instance (e.g. one interface): attributes such as its layer (l2/l3)."""

    def _path(self, view: str) -> list[tuple[str, dict[str, str]]]:
        path: list[tuple[str, dict[str, str]]] = []
        v: str | None = view
        while v is not None:
            path.append((v, {}))
            v = self.grammar.views[v].parent
        return path[::-1]

    @property
    def view(self) -> str:
        return self.stack[-1][0]

    @property
    def depth(self) -> int:
        """0 in the user view, 1 in the system/config view, 2 in a sub-view …"""
        return len(self.stack) - 1

    def prompt(self, host: str) -> str:
        merged = _Args()
        for _, args in self.stack:
            merged.update(args)
        merged["host"] = host
        merged["mark"] = (
            ("*" if self.pending else "~") if self.depth and self.grammar.two_stage else ""
        )
        return self.grammar.views[self.view].prompt.format_map(merged)

    def _instance(self) -> tuple:
        name, args = self.stack[-1]
        return (name, *args.values())

    def feed(self, raw: str) -> Result:
        """One line typed at the prompt: what it did, and the view after it."""
        line = normalise(raw)
        if not line or line.startswith(self.grammar.comment):
            return Result(True, None, None, {}, self.view)
        error, cmd, args, is_undo = self._step(line)
        return Result(error is None, error, cmd.id if cmd else None, dict(args), self.view, is_undo)

    def _step(self, line: str) -> tuple[str | None, Command | None, dict, bool]:
        """(error, command, args, is_undo) of a normalised, non-comment line; the session moves."""
        g = self.grammar
        stack = self.stack
        depth = len(stack)
        hit = g._memo.get((stack[-1][0], self.family, line), _MISS)
        if hit is _MISS:
            hit = g.lookup(line, stack[-1][0], self.family)
        if hit is not None and hit[0].plain and hit[3] is None:  # the common case
            if hit[0].changes:
                self.pending = True
            return None, hit[0], hit[1], hit[2]
        if hit is None and g.fallback:  # IOS-like: try the modes above, leaving the sub-modes
            for d in range(depth - 2, 0, -1):
                hit = g.lookup(line, stack[d][0], self.family)
                if hit is not None:
                    depth = d + 1
                    break
        if hit is None:
            r = self._unknown(line)
            return r.error, g.commands.get(r.command or ""), r.args, r.undo
        cmd, args, is_undo, problem = hit
        if problem:
            return f"{cmd.id}: {problem}", cmd, args, is_undo
        if cmd.each and not is_undo and not g.members(cmd.id, args):
            msg = f"bad argument last {args.get('last', '')!r}: not after {args.get('first', '')!r} on its card"
            return f"{cmd.id}: {msg}", cmd, args, is_undo
        need = cmd.requires
        if need and not is_undo and self.state:
            have = self.state.get(self._instance(), {})
            for k, v in need.items():
                if have.get(k, v) != v:
                    msg = f"`{line}` needs a {v} port here (this {self.view} is {have[k]})"
                    return msg, cmd, args, is_undo
        if depth < len(stack):
            del stack[depth:]  # a fallback to an upper view leaves the sub-views
        if cmd.enters and not is_undo:
            if cmd.enters == self.view:  # e.g. `interface X` typed in another interface view
                self.stack.pop()
            self.stack.append((cmd.enters, args))
            self._enter_state(args)
        elif cmd.leave == "one":
            if len(self.stack) > 1:
                self.stack.pop()
        elif cmd.leave == "root":
            del self.stack[1:]
        sets = cmd.undo_sets if is_undo else cmd.sets
        if sets:
            self.state.setdefault(self._instance(), {}).update(sets)
        if cmd.commit:
            self.pending = False
        elif cmd.changes:
            self.pending = True
        return None, cmd, args, is_undo

    def _enter_state(self, args: dict[str, str]) -> None:
        fam = self.grammar.families.get(self.family or "")
        if fam is None or fam.layer2 is None:
            return
        key = self._instance()
        if key in self.state:
            return
        name = args.get("ifname", "")
        if name and fam.layer2.fullmatch(name.replace(" ", "")):
            self.state[key] = {"layer": "l2"}

    def _unknown(self, line: str) -> Result:
        g = self.grammar
        elsewhere = g.views_of(line)
        if self.view in elsewhere:
            return Result(
                False,
                f"`{line}` does not exist on the {self.family} family of {g.platform}",
                None,
                {},
                self.view,
            )
        if elsewhere:
            msg = f"wrong view: `{line}` belongs to the {' / '.join(elsewhere)} view, not the {self.view} view"
            return Result(False, msg, None, {}, self.view)
        if line.startswith(g.negate + " "):
            positive = line[len(g.negate) + 1 :]
            hit = g.lookup(positive, self.view, self.family)
            if hit and hit[3] is None:
                cmd = hit[0]
                forms = "; ".join(f"`{p.text}`" for p in cmd.undo) or "none"
                return Result(
                    False,
                    f"no such undo form of {cmd.id} (documented: {forms})",
                    cmd.id,
                    hit[1],
                    self.view,
                    True,
                )
        near = g.near(line, self.view)
        if near is not None:
            forms = "; ".join(f"`{p.text}`" for p in near.syntax + near.undo)
            return Result(
                False, f"bad arguments in `{line}` (syntax: {forms})", near.id, {}, self.view
            )
        return Result(
            False, f"unknown command `{line}` in the {self.view} view", None, {}, self.view
        )


# --- loading -----------------------------------------------------------------------------


@cache
def load(platform: str) -> Grammar:
    """The grammar of a platform (`huawei_vrp`, `huawei_vrpv8`, …), parsed once per process."""
    name = getattr(platform, "value", platform)
    path = HERE / f"{name}.yaml"
    if not path.exists():
        raise GrammarError(f"no grammar for platform {name!r} (have: {', '.join(PLATFORMS)})")
    with path.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return Grammar(data)


# --- checking files ----------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    platform: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.platform}: {self.message}"

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "line": self.line,
            "platform": self.platform,
            "message": self.message,
        }


HEADER = re.compile(r"govcloud (?:platform|grammar)=(?P<platform>\w+)(?: family=(?P<family>\w+))?")
"""The renderer's first line names the grammar and family: `# govcloud platform=huawei_vrp family=s …`."""


def header(text: str) -> tuple[str | None, str | None]:
    """(platform, family) from a rendered config's header line, (None, None) without one."""
    first = text[:400].split("\n", 3)
    for line in first[:3]:
        m = HEADER.search(line)
        if m:
            return m["platform"], m["family"]
    return None, None


def check_config(
    text: str, platform: str, path: str = "-", family: str | None = None
) -> list[Finding]:
    """Every line of a config (configuration-mode lines, as `net render` writes them) checked
    in its view; a block still open at the end is a finding on the last line."""
    g = load(platform)
    if family is None:
        hp, hf = header(text)
        family = hf if hp in (None, g.platform) else None
    if family and family not in g.families:
        return [Finding(path, 1, g.platform, f"unknown device family {family!r}")]
    s = g.session(view=g.config, family=family)
    base = s.depth
    out: list[Finding] = []
    comment = g.comment
    step = s._step
    n = 0
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(comment):
            continue
        if "  " in line or "\t" in line:
            line = " ".join(line.split())
        err = step(line)[0]
        if err:
            out.append(Finding(path, n, g.platform, err))
    if s.depth > base:
        out.append(
            Finding(
                path,
                max(n, 1),
                g.platform,
                f"block left open: the file ends in the {s.view} view",
            )
        )
    return out


# --- checking files on disk (`govctl net check`) ----------------------------------------


def check_file(path: Path, platform: str | None = None) -> list[Finding]:
    """One config file: its platform from `platform` or from the header `net render` writes."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return [Finding(name, 1, platform or "?", f"not UTF-8 text ({exc.reason})")]
    except OSError as exc:
        return [Finding(name, 1, platform or "?", f"cannot read: {exc.strerror}")]
    named, _ = header(text)
    chosen = platform or named
    if chosen is None:
        msg = "no govcloud header naming the platform: give --platform"
        return [Finding(name, 1, "?", msg)]
    if chosen not in PLATFORMS:
        return [Finding(name, 1, chosen, f"no grammar for this platform ({', '.join(PLATFORMS)})")]
    return check_config(text, chosen, name)


def config_files(paths: list[Path]) -> list[Path]:
    """The files to check: each file named, and every `*.cfg` under each folder named."""
    out: list[Path] = []
    for p in map(Path, paths):
        out += sorted(p.rglob("*.cfg")) if p.is_dir() else [p]
    return out


def _check_chunk(args: tuple[list[str], str | None]) -> list[Finding]:
    files, platform = args
    return [f for name in files for f in check_file(Path(name), platform)]


def check_files(
    files: list[Path], platform: str | None = None, workers: int | None = None
) -> list[Finding]:
    """Findings of every file, in file order; large sets are checked by forked workers."""
    import multiprocessing
    import os

    names = [str(f) for f in files]
    workers = workers or min(len(os.sched_getaffinity(0)), 8)
    if workers <= 1 or len(names) < 200:
        return _check_chunk((names, platform))
    if platform:
        load(platform)  # parsed once, inherited by the workers
    else:
        for p in PLATFORMS:
            load(p)
    step = max(50, len(names) // (workers * 8))
    chunks = [(names[i : i + step], platform) for i in range(0, len(names), step)]
    from model.outputs import quiet_worker

    with multiprocessing.get_context("fork").Pool(workers, initializer=quiet_worker) as pool:
        return [f for part in pool.imap(_check_chunk, chunks) for f in part]
