"""One vendor twin: a lab node's configuration, CLI sessions over it, and its outputs.

`Twin` owns the node's running (and saved) configuration and its data plane; `Cli` is one
login session: the platform grammar's view stack (`network.grammar.Session`), the block of
the configuration each view edits, VRP V8's candidate, and what each exec command prints.
The SSH server (`lab.twins.server`) only moves characters between a channel and `Cli`.
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from lab.twins.config import Config, Line, parse_text
from lab.twins.dataplane import DataPlane, changes
from lab.twins.profiles import OSPF_TABLES, PING_FORMATS, Profile, profile
from network import grammar as grammars

Block = Line | list[Line]
"""What a view edits: its line in the configuration, or a group view's member ports."""

Ask = Callable[[str], str]
"""Prints a question and returns the answer line the client typed."""

V6_TOKEN = re.compile(r"(?<![\w:.])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?=/|\s|$)")


class Twin:
    def __init__(
        self,
        platform: str,
        hostname: str,
        state_dir: Path,
        portmap: dict[str, str],
        pathspace: str | None = None,
        dry: bool = False,
        family: str | None = None,
    ):
        self.platform = platform
        self.family = family
        self.hostname = hostname
        self.profile: Profile = profile(platform)
        self.grammar = grammars.load(self.profile.grammar)
        self.state_dir = Path(state_dir)
        self.dataplane = DataPlane(portmap, pathspace, dry)
        self.lock = threading.RLock()
        self.running = self.load()
        self.applied = Config()
        self.flush()

    # -- configuration files ---------------------------------------------------------------

    def load(self) -> Config:
        """The saved configuration (like a boot), else the initial one the lab wrote."""
        for name in ("saved.cfg", "initial.cfg"):
            path = self.state_dir / name
            if path.exists():
                return self.annotate(self.parse(path.read_text()))
        return Config()

    def parse(self, text: str) -> Config:
        skip = tuple(
            re.escape(h.split("{")[0].strip())
            for h in self.profile.header + self.profile.footer
            if h.strip()
        )
        return parse_text(text, self.grammar.comment, skip)

    def annotate(self, cfg: Config) -> Config:
        """Fill in each stored line's command id and arguments from the grammar; a group
        shown as one line (IOS's `line vty 0 4`) is stored as its members."""
        g = self.grammar
        s = g.session(view=g.config, family=self.family)

        def rec(lines: list[Line]) -> None:
            for ln in lines:
                saved = list(s.stack)
                r = s.feed(ln.text)
                if r.ok and r.command:
                    ln.cmd, ln.args, ln.undo = r.command, dict(r.args), r.undo
                rec(ln.children)
                s.stack[:] = saved

        rec(cfg.root)
        out = Config()
        for ln in cfg.root:
            if ln.cmd and g.ranged(ln.cmd) and not ln.undo:
                for head, args in g.members(ln.cmd, ln.args):
                    member = out.enter(out.root, self.display_text(head, ln.cmd), ln.cmd, args)
                    member.children += [c.copy() for c in ln.children]
            else:
                out.root.append(ln)
        return out

    def save(self) -> None:
        with self.lock:
            self.flush()
            (self.state_dir / "saved.cfg").write_text(
                self.render(self.running).replace("\r\n", "\n")
            )
            self.dataplane.save()

    def flush(self) -> None:
        """Bring the data plane to the running configuration."""
        with self.lock:
            delta = changes(self.applied, self.running)
            if delta:
                self.dataplane.apply(delta)
            self.applied = self.running.copy()

    # -- display ---------------------------------------------------------------------------

    def display_text(self, text: str, cmd: str | None) -> str:
        """A typed line as the device stores and prints it."""
        out = " ".join(text.split())
        for cid, pattern, repl in self.profile.display_forms:
            if cid == cmd:
                out = re.sub(pattern, repl, out)

        def v6(m: re.Match) -> str:
            try:
                a = ipaddress.IPv6Address(m.group(1)).compressed
            except ValueError:
                return m.group(1)
            return a.upper() if self.profile.upper_ipv6 else a

        return V6_TOKEN.sub(v6, out)

    def shown(self, lines: list[Line]) -> list[Line]:
        """Top-level lines as the device shows them: neighbouring members of a ranged group
        configured alike as one range (`line vty 0 4`, `line vty 5 15`)."""
        g = self.grammar
        out: list[Line] = []
        run: list[Line] = []

        def flush() -> None:
            if run:
                first, last = run[0].args["first"], run[-1].args["first"]
                text = g.range_line(run[0].cmd or "", first, last)
                out.append(
                    Line(text, run[0].cmd, {"first": first, "last": last}, False, run[0].children)
                )
                run.clear()

        for ln in lines:
            if not (g.ranged(ln.cmd) and "first" in ln.args and not ln.undo):
                flush()
                out.append(ln)
                continue
            if run and not (
                int(ln.args["first"]) == int(run[-1].args["first"]) + 1
                and self._children(ln.children, 1) == self._children(run[-1].children, 1)
            ):
                flush()
            run.append(ln)
        flush()
        return out

    def render(self, cfg: Config) -> str:
        p = self.profile
        body: list[str] = []
        prev_block = True
        for ln in self.shown(cfg.root):
            block = bool(ln.children) or self._enters(ln)  # an empty port is a block too
            if block or prev_block:
                body.append(p.separator)
            if block:
                body.append(ln.text)
                body += self._children(ln.children, 1)
            else:
                body.append(" " * p.leaf_indent + ln.text)
            prev_block = block
        body.append(p.separator)
        text_body = "\r\n".join(body + list(p.footer))
        size = len(text_body) + 2
        head = [h.format(size=size) for h in p.header]
        return "\r\n".join(head + [text_body]) + "\r\n"

    def _enters(self, ln: Line) -> bool:
        cmd = self.grammar.commands.get(ln.cmd or "")
        return bool(cmd and cmd.enters and not ln.undo)

    def _children(self, lines: list[Line], depth: int) -> list[str]:
        out = []
        for ln in lines:
            out.append(" " * depth + ln.text)
            out += self._children(ln.children, depth + 1)
        return out

    # -- state outputs ---------------------------------------------------------------------

    def vendor_if(self, kernel: str) -> str:
        for vendor, k in self.dataplane.portmap_display.items():
            if k == kernel:
                return vendor
        return kernel

    def neighbours(self) -> list[dict]:
        args = ["vtysh"] + (["-N", self.dataplane.pathspace] if self.dataplane.pathspace else [])
        out = subprocess.run(
            args + ["-c", "show ipv6 ospf6 neighbor json"],
            capture_output=True,
            text=True,
            timeout=15,
        ).stdout
        try:
            data = json.loads(out or "{}")
        except json.JSONDecodeError:
            return []
        return data.get("neighbors", [])

    def router_id(self) -> str:
        for _path, ln in self.running.walk():
            if ln.cmd == "router-id":
                return ln.args.get("id", "0.0.0.0")
        return "0.0.0.0"

    def area_of(self, vendor_if: str) -> str:
        key = re.sub(r"\s+", "", vendor_if).lower()
        for path, ln in self.running.walk():
            if ln.cmd in ("ospfv3-area-if", "ipv6-ospf-area") and path:
                if re.sub(r"\s+", "", path[-1].args.get("ifname", "")).lower() == key:
                    a = ln.args.get("area", "0")
                    return str(ipaddress.IPv4Address(int(a))) if a.isdigit() else a
        return "0.0.0.0"

    def ospf_table(self) -> str:
        p = self.profile
        rows = []
        for n in self.neighbours():
            vif = self.vendor_if(n.get("interfaceName", ""))
            short = vif
            for long, abbr in p.abbreviations:
                if short.startswith(long):
                    short = abbr + short[len(long) :]
                    break
            state = n.get("state", "")
            rows.append(
                {
                    "rid": n.get("neighborId", ""),
                    "pri": n.get("priority", 1),
                    "dead": n.get("deadTime", "00:00:00").split(".")[0],
                    "state": state,
                    "ifname": short,
                    "vif": vif,
                    "area": self.area_of(vif),
                    "full": state == "Full",
                }
            )
        return format_ospf(p.ospf_table, rows, self.router_id())

    def ping(self, dst: str, count: int, stop: threading.Event) -> str:
        proc = subprocess.Popen(
            ["ping", "-6", "-n", "-c", str(count), "-i", "0.2", "-W", "1", dst],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        while proc.poll() is None:
            if stop.wait(0.05):
                proc.terminate()
                break
        out = proc.communicate()[0]
        replies = [
            (int(m["seq"]), m["ttl"], m["time"])
            for m in re.finditer(
                r"icmp_seq=(?P<seq>\d+) ttl=(?P<ttl>\d+) time=(?P<time>[\d.]+)", out
            )
        ]
        src = ""
        route = subprocess.run(
            ["ip", "-6", "route", "get", dst], capture_output=True, text=True
        ).stdout
        m = re.search(r"\bsrc (\S+)", route)
        if m:
            src = m.group(1)
        shown = ipaddress.IPv6Address(dst).compressed
        if self.profile.upper_ipv6:
            shown, src = shown.upper(), src.upper()
        return format_ping(self.profile.ping, shown, src, count, replies)


# --- output formats (the layouts are data: lab/twins/profiles.py, with their sources) -------


def format_ospf(kind: str, rows: list[dict], router_id: str) -> str:
    """The neighbour table in the layout `OSPF_TABLES[kind]`: one row per neighbour, under
    its area's block where the vendor prints areas."""
    t = OSPF_TABLES[kind]

    def row(i: int, r: dict) -> str:
        state = t.state.format(state=r["state"], STATE=r["state"].upper())
        return t.row.format(
            rid=r["rid"],
            pri=r["pri"],
            state=state,
            bfd="-",
            dead=r["dead"],
            inst=0,
            ifid=i + 3,
            ifname=r["ifname"] if t.port == "short" else r["vif"],
        )

    numbered = list(enumerate(rows))
    if t.area is None:
        body = "".join(row(i, r) for i, r in numbered)
    else:
        body = "".join(
            t.area.format(area=a, rows="".join(row(i, r) for i, r in numbered if r["area"] == a))
            for a in sorted({r["area"] for r in rows})
        )
    full = sum(r["full"] for r in rows)
    return t.head.format(process=1, total=len(rows), full=full, router_id=router_id, body=body)


def format_ping(
    kind: str, dst: str, src: str, count: int, replies: list[tuple[int, str, str]]
) -> str:
    """`ping ipv6` in the layout `PING_FORMATS[kind]`; `replies`: (sequence from 1, hop
    limit, time in ms) of each answered probe."""
    f = PING_FORMATS[kind]
    got = {s: (ttl, float(t)) for s, ttl, t in replies}
    n = len(got)
    times = [t for _ttl, t in got.values()] or [0.0]
    rtt = f.rtt.format(min=min(times), avg=sum(times) / n, max=max(times)) if n else ""
    out = [h.format(dst=dst, src=src, count=count) for h in f.head]
    if f.marks:
        out.append("".join("!" if s in got else "." for s in range(1, count + 1)))
    for s in range(1, count + 1):
        if s in got and f.reply:
            ttl, t = got[s]
            out.append(
                f.reply.format(dst=dst, seq=s, seq0=s - 1, ttl=ttl, ms=max(1, round(t)), time=t)
            )
        elif s not in got and f.lost:
            out.append(f.lost)
    stats = {
        "dst": dst,
        "count": count,
        "n": n,
        "loss": 100.0 * (count - n) / count if count else 100.0,
        "rate": round(100 * n / count) if count else 0,
        "rtt": rtt,
    }
    out += [line.format(**stats) for line in f.tail]
    return "\r\n".join(out) + "\r\n"


# --- one CLI session ------------------------------------------------------------------------


class Cli:
    """A login session on a twin: feed it lines, it returns what the device prints."""

    def __init__(self, twin: Twin):
        self.twin = twin
        self.g = twin.grammar
        self.session = self.g.session(family=twin.family)
        self.base = len(self.session._path(self.g.config))
        self.blocks: list[Block] = []
        """The configuration block each view below the config view edits: a line, or the
        member ports of a group view (`port-group …`, `interface range …`)."""
        self.two_stage = self.g.two_stage
        self.work: Config = twin.running  # V8: a candidate copy while in the system view
        self.stop = threading.Event()

    def prompt(self) -> str:
        return self.session.prompt(self.twin.hostname)

    def in_config(self) -> bool:
        return len(self.session.stack) >= self.base

    def pending(self) -> bool:
        return (
            self.two_stage
            and self.work is not self.twin.running
            and (self.twin.render(self.work) != self.twin.render(self.twin.running))
        )

    def feed(self, raw: str, ask: Ask) -> str:
        """Run one typed line; returns the output (without the next prompt)."""
        line = " ".join(raw.split())
        if not line:
            return ""
        prompt = self.prompt()
        if self.pending() and self._leaves_config(line):
            p = self.twin.profile
            answer = ask(p.exit_pending).strip().lower()
            for _retry in range(3):  # anything but Y/N/C is refused and asked again
                if answer[:1] in ("y", "n", "c"):
                    break
                answer = ask(p.exit_retry).strip().lower()
            if not answer.startswith(("y", "n")):  # cancel (or never answered): stay
                return ""
            if answer.startswith("y"):
                self._commit()
            else:
                self._discard()
        with self.twin.lock:
            was_config = self.in_config()
            r = self.session.feed(line)
            if not r.ok:
                return self._error(line, r.error or "", prompt)
            out = self._apply(line, r, ask)
            if was_config and not self.in_config():
                self._left_config()
            return out

    # -- helpers ---------------------------------------------------------------------------

    def _leaves_config(self, line: str) -> bool:
        hit = self.g.lookup(line, self.session.view)
        if not hit or hit[3]:
            return False
        cmd = self.g.commands[hit[0].id]
        return cmd.leave == "root" or (cmd.leave == "one" and len(self.session.stack) == self.base)

    def _container(self) -> list[Line]:
        top = self.blocks[-1] if self.blocks else None
        return (
            self.work.root
            if top is None
            else top[0].children
            if isinstance(top, list)
            else top.children
        )

    def _containers(self) -> list[list[Line]]:
        """Where a line typed in the current view goes: the view's block, or in a group view
        every member port's block (the group itself is not stored: the grammar's `each`)."""
        top = self.blocks[-1] if self.blocks else None
        if isinstance(top, list):
            return [m.children for m in top]
        return [self._container()]

    def _apply(self, line: str, r, ask: Ask) -> str:
        cmd = self.g.commands[r.command] if r.command else None
        depth = len(self.session.stack)
        if self.two_stage and depth >= self.base and self.work is self.twin.running:
            self.work = self.twin.running.copy()  # V8: edits go to a candidate
            self.blocks = []
        if cmd is None:
            return ""
        action = self.twin.profile.exec.get(cmd.id)
        if action:
            del self.blocks[max(0, depth - self.base) :]
            return self._exec(action, line, r, ask)
        text = self.twin.display_text(line, cmd.id)
        if cmd.enters and not r.undo:
            del self.blocks[max(0, depth - 1 - self.base) :]
            if depth - 1 >= self.base and cmd.each:
                where = self._container()
                self.blocks.append(
                    [
                        self.work.enter(where, self.twin.display_text(head, cmd.each), cmd.each, a)
                        for head, a in self.g.members(cmd.id, r.args)
                    ]
                )
            elif depth - 1 >= self.base:
                block = self.work.enter(self._container(), text, cmd.id, r.args)
                self.blocks.append(block)
                self._restate(block)
            return ""
        del self.blocks[max(0, depth - self.base) :]
        if cmd.leave or not (cmd.changes or cmd.enters):  # the undo of a view removes it
            return ""
        p = self.twin.profile
        for where in self._containers():
            if r.undo:
                self.work.remove(where, cmd.id, r.args, text, cmd.id in p.negative_defaults)
            else:
                self.work.add(where, text, cmd.id, r.args, cmd.id in p.singletons)
        return ""

    def _restate(self, block: Line) -> None:
        """A view's attributes from what is configured in it (a switch port already made
        routed by `undo portswitch` is Layer 3 in every later session)."""
        for ln in block.children:
            c = self.g.commands.get(ln.cmd or "")
            sets = c and (c.undo_sets if ln.undo else c.sets)
            if sets:
                self.session.state.setdefault(self.session._instance(), {}).update(sets)

    def _left_config(self) -> None:
        self.blocks = []
        self.work = self.twin.running
        self.twin.flush()

    def _commit(self) -> None:
        with self.twin.lock:
            self.twin.running = self.work.copy()
            self.work = self.twin.running.copy()
            self.blocks = self._rebind()
            self.session.pending = False
            self.twin.flush()

    def _discard(self) -> None:
        self.work = self.twin.running.copy()
        self.blocks = self._rebind()
        self.session.pending = False

    def _rebind(self) -> list[Block]:
        """The blocks of the current view, found again in a new copy of the configuration."""

        def find(container: list[Line], old: Line) -> Line:
            found = next((ln for ln in container if ln.text == old.text), None)
            if found is None:
                found = Line(old.text, old.cmd, dict(old.args))
                container.append(found)
            return found

        out: list[Block] = []
        container = self.work.root
        for old in self.blocks:
            if isinstance(old, list):
                out.append([find(container, m) for m in old])
                continue
            found = find(container, old)
            out.append(found)
            container = found.children
        return out

    def _exec(self, action: str, line: str, r, ask: Ask) -> str:
        t = self.twin
        if action == "paging":
            return ""
        if action == "commit":
            self._commit()
            return ""
        if action == "discard":
            self._discard()
            return ""
        if action == "save":
            forms = t.profile.save_dialogue
            question, done = forms[0] if ("force" in line or len(forms) == 1) else forms[1]
            if question:
                answer = ask(question).strip().lower()
                if not answer.startswith("y"):
                    return ""
            t.save()
            return done + "\r\n"
        if action == "ping":
            count = int(r.args.get("count") or 5)
            self.stop.clear()
            return t.ping(r.args["host"], count, self.stop)
        # display / show
        words = line.split()
        if any(w.startswith("current") or w.startswith("running") for w in words):
            t.flush()
            return t.render(t.running)  # VRP V8 too: the committed configuration
        if "this" in words:
            top = self.blocks[-1] if self.blocks else None
            shown = top if isinstance(top, list) else [top] if top else []
            lines = [x for b in shown for x in (b.text, *t._children(b.children, 1))]
            return (
                "\r\n".join([t.profile.separator, *lines, t.profile.separator, *t.profile.footer])
                + "\r\n"
            )
        if "ospfv3" in words or "ospf" in words:
            t.flush()
            return t.ospf_table()
        return ""

    def _error(self, line: str, message: str, prompt: str) -> str:
        """The platform's error: the `^` under the first word it could not take, then the
        message (IOS/RGOS print `% Incomplete command.` without a marker)."""
        p = self.twin.profile
        col = self._marker(line)
        if message.startswith("wrong view"):
            kind = "view"
        elif message.startswith("bad argument "):  # the shape fits, the value does not
            kind = "argument"
        else:  # a word the CLI does not know where it stands
            kind = "incomplete" if self._incomplete(line) else "unknown"
        text = p.errors[kind]
        if kind == "incomplete":
            col = len(line) + 1
            if text.startswith("% Incomplete"):
                return text + "\r\n"
        return " " * (len(prompt) + col) + "^\r\n" + text + "\r\n"

    def _incomplete(self, line: str) -> bool:
        return any(
            pat.literal.startswith(line + " ")
            for (view, _), entries in self.g._index.items()
            if view == self.session.view
            for pat, _c, _u in entries
        )

    def _marker(self, line: str) -> int:
        """Column of the first word the CLI could not take."""
        best = 0
        for (view, _), entries in self.g._index.items():
            if view != self.session.view:
                continue
            for pat, _cmd, _undo in entries:
                lit = pat.literal
                if lit and (line == lit or line.startswith(lit + " ")):
                    best = max(best, len(lit) + 1)
        return min(best, len(line))


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
