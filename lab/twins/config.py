"""A twin's configuration: a tree of configured lines, changed by grammar-checked commands.

A device keeps its configuration as commands in views; `display current-configuration` /
`show running-config` prints them in the platform's layout. The twin keeps the same: every
line it stores went through the platform grammar (`network.grammar`), so it knows its
command id and arguments — which is how an undo form (`undo acl ipv6 inbound`) finds the
line it removes (`acl ipv6 3000 inbound`): same command, and the undo's arguments are a
subset of the line's. Lines are kept in the order they were configured, so removing what a
push added gives back exactly the text the device had before.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field


@dataclass
class Line:
    text: str
    """As the device displays it (the profile's display form of what was typed)."""
    cmd: str | None = None
    args: dict[str, str] = field(default_factory=dict)
    undo: bool = False
    """A configured negative form (e.g. Huawei `undo ipv6 nd ra halt`)."""
    children: list[Line] = field(default_factory=list)

    def copy(self) -> Line:
        return Line(
            self.text, self.cmd, dict(self.args), self.undo, [c.copy() for c in self.children]
        )


def norm_value(value: str) -> str:
    """An argument value compared the way the device compares it: addresses by value,
    interface names without case or spaces."""
    v = value.strip()
    try:
        return str(ipaddress.ip_address(v))
    except ValueError:
        return re.sub(r"\s+", "", v).lower()


def norm_args(args: dict[str, str]) -> dict[str, str]:
    """Arguments compared by value; `<addr> <len>` and `<address>/<len>` are one address."""
    args = dict(args)
    if "addr" in args and "len" in args and "address" not in args:
        args["address"] = f"{args.pop('addr')}/{args.pop('len')}"
    out = {}
    for k, v in args.items():
        if "/" in v:  # keep the host part of an interface address (2001:db8::1/64)
            addr, _, length = v.partition("/")
            try:
                out[k] = f"{ipaddress.ip_address(addr)}/{int(length)}"
                continue
            except ValueError:
                pass
        out[k] = norm_value(v)
    return out


class Config:
    """The running configuration as a forest of `Line`s under the config view."""

    def __init__(self, lines: list[Line] | None = None):
        self.root: list[Line] = lines or []

    def copy(self) -> Config:
        return Config([ln.copy() for ln in self.root])

    # -- changes ------------------------------------------------------------------------

    @staticmethod
    def find_block(
        container: list[Line], cmd: str | None, args: dict[str, str], text: str
    ) -> Line | None:
        want = norm_args(args)
        for ln in container:
            if cmd and ln.cmd == cmd and not ln.undo and norm_args(ln.args) == want:
                return ln
            if ln.text == text:
                return ln
        return None

    def enter(self, container: list[Line], text: str, cmd: str, args: dict[str, str]) -> Line:
        """The block a view-entering command opens (created when new)."""
        block = self.find_block(container, cmd, args, text)
        if block is None:
            block = Line(text, cmd, dict(args))
            container.append(block)
        return block

    def add(
        self, container: list[Line], text: str, cmd: str, args: dict[str, str], singleton: bool
    ) -> None:
        """A positive command: stored once; replaces the command's earlier line when the
        command holds one value (a timer, a router id); removes its configured negative form."""
        for ln in list(container):
            if ln.cmd != cmd:
                continue
            if ln.undo:
                container.remove(ln)
            elif ln.text == text:
                return
            elif singleton:
                ln.text, ln.args = text, dict(args)
                return
        container.append(Line(text, cmd, dict(args)))

    def remove(
        self, container: list[Line], cmd: str, args: dict[str, str], text: str, keep_negative: bool
    ) -> int:
        """An undo form: removes the lines of the same command whose arguments include the
        undo's; a negative form of a default-on feature is stored as a line instead."""
        want = norm_args(args)
        hits = [
            ln
            for ln in container
            if ln.cmd == cmd
            and not ln.undo
            and all(norm_args(ln.args).get(k) == v for k, v in want.items())
        ]
        for ln in hits:
            container.remove(ln)
        if not hits and keep_negative and not any(ln.text == text for ln in container):
            container.append(Line(text, cmd, dict(args), undo=True))
        return len(hits)

    # -- reading ------------------------------------------------------------------------

    def walk(self):
        """(path of enclosing lines, line) for every line, depth first."""

        def rec(lines: list[Line], path: tuple[Line, ...]):
            for ln in lines:
                yield path, ln
                yield from rec(ln.children, path + (ln,))

        yield from rec(self.root, ())


def parse_text(text: str, comment: str, skip: tuple[str, ...] = ()) -> Config:
    """A displayed configuration back into lines (by indentation); command ids are filled in
    by the twin, which feeds each line through the grammar."""
    root: list[Line] = []
    stack: list[tuple[int, list[Line]]] = [(-1, root)]
    skips = [re.compile(p) for p in skip]
    for raw in text.splitlines():
        body = raw.strip()
        if raw.rstrip() == comment:  # a separator at the margin closes every block
            del stack[1:]
            continue
        if not body or body.startswith(comment) or any(p.match(body) for p in skips):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        while stack[-1][0] >= indent:
            stack.pop()
        ln = Line(body)
        stack[-1][1].append(ln)
        stack.append((indent, ln.children))
    return Config(root)
