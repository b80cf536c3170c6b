"""Configurations as trees, and the exact lines between two of them (pure: no device).

A config is a tree of lines (a line and the indented lines under it). Lines are compared
in a canonical form — IPv6 addresses compressed and in lower case (Huawei and Cisco print
them in upper case), and each platform's display rewrites undone (VRP shows an ACL6 rule's
`source 2001:db8:: 64` as `source 2001:DB8::/64`; `canonical` in `network.platforms`) — so
a device that already has a line is never sent it again, which is what makes a re-run
report `changed=0`. A push sends exactly the candidate lines the running config lacks; a
restore sends what turns the running config back into the backup: each extra line removed
with its platform's documented undo / `no` form (`network.grammar.Grammar.undo_form`), then
what is missing.

A group of ports (VRP's `port-group group-member …`, `interface range …` on Comware and
IOS) is no line of a device's configuration: what is typed in it is configured on each
member, and the running config shows it under each member's interface. A config is
therefore compared with its groups written out as their members (the grammar's `each`);
a push that has to send a group's lines to every member sends the group instead.

    lines = diff(candidate, running, platform)            # what a push sends
    lines = restore_commands(backup, running, platform)   # what a rollback sends
"""

from __future__ import annotations

import ipaddress
import re

from network.platforms import cli_facts, facts

Tree = dict[str, "Tree"]

V6 = re.compile(r"(?<![\w:.])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?=/|\s|$)")


def canonical(line: str, platform: str) -> str:
    """A line in the form both sides are compared in: one space between words, IPv6 in
    compressed lower case, the platform's display forms taken back to the typed form."""
    out = " ".join(line.split())

    def v6(m: re.Match) -> str:
        try:
            return ipaddress.IPv6Address(m.group(1)).compressed
        except ValueError:
            return m.group(1)

    out = V6.sub(v6, out)
    for pattern, repl in cli_facts(platform).canonical:
        out = re.sub(pattern, repl, out)
    return out


Group = tuple[str, list[str], Tree]
"""A group line of a config, the member lines it stands for, and what is typed in it."""


def parse(text: str, platform: str) -> Tree:
    """A config as a tree of canonical lines, as the device holds it: comments, block ends
    and volatile lines dropped, groups of ports written out as their members."""
    return _parse(text, platform)[0]


def _parse(text: str, platform: str) -> tuple[Tree, list[Group]]:
    f, c = facts(platform), cli_facts(platform)
    volatile = [re.compile(p) for p in c.volatile]
    root: Tree = {}
    stack: list[tuple[int, Tree]] = [(-1, root)]
    for raw in text.splitlines():
        line = raw.rstrip()
        body = line.strip()
        if line == f.comment:  # `#` / `!` at the margin closes every block (Comware
            del stack[1:]  # prints top-level commands indented, between `#` lines)
            continue
        if (
            not body
            or body.startswith(f.comment)
            or body in c.block_end
            or any(p.match(body) for p in volatile)
        ):
            continue
        indent = len(line) - len(line.lstrip(" "))
        while stack[-1][0] >= indent:
            stack.pop()
        node = stack[-1][1].setdefault(canonical(body, platform), {})
        stack.append((indent, node))
    return _expand(root, platform)


def _expand(tree: Tree, platform: str) -> tuple[Tree, list[Group]]:
    """Top-level groups of ports replaced by their members, each with the group's lines."""
    from network import grammar

    g = grammar.load(platform)
    out: Tree = {}
    groups: list[Group] = []
    for line, children in tree.items():
        hit = g.lookup(line, g.config)
        if not children and hit is not None and hit[3] is None and hit[0].keep:
            continue  # an emptied view the device keeps: nothing is configured in it
        each = hit is not None and hit[3] is None and hit[0].each
        members = g.members(hit[0].id, hit[1]) if each and hit else []
        if not members:
            _merge(out, {line: children})
            continue
        heads = [canonical(head, platform) for head, _args in members]
        for head in heads:
            _merge(out, {head: children})
        groups.append((line, heads, children))
    return out, groups


def _merge(into: Tree, tree: Tree) -> None:
    for line, children in tree.items():
        _merge(into.setdefault(line, {}), children)


def _regroup(tree: Tree, groups: list[Group]) -> Tree:
    """Members that all miss exactly their group's lines sent as the group (one block)."""
    for line, heads, children in groups:
        if not all(tree.get(h) == children for h in heads):
            continue
        out: Tree = {}
        for k, v in tree.items():
            if k == heads[0]:
                out[line] = children
            elif k not in heads:
                out[k] = v
        tree = out
    return tree


def missing(want: Tree, have: Tree) -> Tree:
    """The part of `want` absent from `have`, parents kept for context."""
    out: Tree = {}
    for line, children in want.items():
        if line not in have:
            out[line] = children
        else:
            sub = missing(children, have[line])
            if sub:
                out[line] = sub
    return out


def render(tree: Tree, platform: str) -> list[str]:
    """A tree as the command lines to type: each block entered, filled and left. A line that
    enters a view is left even when nothing is typed in it (VRP's `area 0.0.0.0`), which
    the grammar tells."""
    from network import grammar

    end = cli_facts(platform).block_end[0]
    g = grammar.load(platform)
    s = g.session(view=g.config)

    def rec(sub: Tree, depth: int) -> list[str]:
        lines = []
        for line, children in sub.items():
            saved = list(s.stack)
            s.feed(line)
            entered = len(s.stack) > len(saved)
            lines.append(" " * depth + line)
            lines += rec(children, depth + 1)
            if children or entered:
                lines.append(" " * (depth + 1) + end)
            s.stack[:] = saved
        return lines

    return rec(tree, 0)


def diff(candidate: str, running: str, platform: str) -> list[str]:
    """The exact lines a push sends: candidate lines the running config lacks (in context)."""
    want, groups = _parse(candidate, platform)
    return render(_regroup(missing(want, parse(running, platform)), groups), platform)


def undo_line(line: str, parents: list[str], platform: str) -> str:
    """The documented form that removes `line` configured under `parents` (the grammar's),
    or the platform's negation in front of it for a line the grammar does not know."""
    from network import grammar

    g = grammar.load(platform)
    s = g.session(view=g.config)
    for p in parents:
        s.feed(p)
    try:
        return g.undo_form(line, s.view)
    except grammar.GrammarError:
        neg = facts(platform).negate + " "
        return line.removeprefix(neg) if line.startswith(neg) else neg + line


def keeps(line: str, platform: str) -> bool:
    """A top-level view the device keeps when emptied (the grammar's `keep`)."""
    from network import grammar

    g = grammar.load(platform)
    hit = g.lookup(line, g.config)
    return hit is not None and hit[3] is None and hit[0].keep


def restore_commands(backup: str, running: str, platform: str) -> list[str]:
    """The lines that turn `running` back into `backup`: every extra line removed with its
    undo form, innermost and last-configured first (a block that is extra as a whole is
    removed by the undo of its head), then the missing lines added."""
    end = cli_facts(platform).block_end[0]

    def undo(have: Tree, want: Tree | None, parents: list[str]) -> list[str]:
        lines: list[str] = []
        pad = " " * len(parents)
        for line, children in reversed(list(have.items())):
            if want is not None and line in want:  # kept: undo inside it only what is extra
                inner = undo(children, want[line], [*parents, line])
                if inner:
                    lines += [pad + line, *inner, pad + " " + end]
            elif not parents and keeps(line, platform):  # the device keeps it: empty it
                inner = undo(children, {}, [line])
                if inner:
                    lines += [line, *inner, " " + end]
            else:
                lines.append(pad + undo_line(line, parents, platform))
        return lines

    want, have = parse(backup, platform), parse(running, platform)
    return undo(have, want, []) + render(missing(want, have), platform)


def same_config(a: str, b: str, platform: str) -> bool:
    return parse(a, platform) == parse(b, platform)
