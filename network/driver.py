"""The one device driver: Netmiko sessions that back up, diff, push, check and restore configs.

Both the Ansible module (`playbooks/library/govcloud_device.py`) and `govctl net push` call
`rollout_device` (the stages of one device in one session), so the rollout has a single
implementation. Vendor differences are data: `network.platforms` says how to reach and save
a platform (Netmiko device type, save, commit), `SYNTAX` below how its configuration reads (comments, block ends, negation) and how
to check OSPFv3 neighbours and ping; the code only looks things up.

Configs are compared as trees (a line and the indented lines under it), so a push sends
exactly the candidate lines the device lacks — nothing when it already has them, which is
what makes a re-run report `changed=0` — and a restore sends exactly what turns the running
config back into the backup: negations of what is extra, then what is missing.

    with session(target) as conn:
        backup = running_config(conn, target.platform)
        changes = diff(candidate, backup, target.platform)
        push(conn, changes, target.platform)        # raises Rejected; caller restores
        check(conn, target, uplinks, parent_loopback)
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from network.platforms import facts

# How each platform family's configuration text reads and how its state is checked; the
# rest (Netmiko device type, save, commit, comment, negation) is in `network.platforms`.
SYNTAX: dict[str, dict] = {
    "linux_frr": {
        "block_end": ("exit", "end", "exit-address-family", "exit-vrf"),
        "volatile": (
            r"^Building configuration",
            r"^Current configuration",
            r"^frr version",
            r"^end$",
        ),
        "error": r"^%\s*(Unknown|Ambiguous|Command incomplete|Invalid|Can't|Configuration failed)",
        "show_running": "show running-config",
        "neighbors": "show ipv6 ospf6 neighbor",
        "neighbor_full": r"\bFull/\S+\s+\S+\s+{ifname}\[",
        "ping6": "ping ipv6 {dst}",
        "ping_ok": r"bytes from",
        "ping_interrupt": True,
    },
    "cisco_ios": {
        "block_end": ("exit", "end", "exit-address-family"),
        "volatile": (
            r"^Building configuration",
            r"^Current configuration",
            r"^! Last configuration change",
            r"^end$",
        ),
        "error": r"^%\s*(Invalid|Incomplete|Ambiguous)",
        "show_running": "show running-config",
        "neighbors": "show ospfv3 neighbor",
        "neighbor_full": r"\bFULL/.*\b{ifname}\s*$",
        "ping6": "ping ipv6 {dst} repeat 3",
        "ping_ok": r"Success rate is [1-9]",
        "ping_interrupt": False,
    },
    "ruijie_os": {
        "block_end": ("exit", "end", "exit-address-family"),
        "volatile": (r"^Building configuration", r"^Current configuration", r"^version ", r"^end$"),
        "error": r"^%\s*(Invalid|Incomplete|Ambiguous|Unknown)",
        "show_running": "show running-config",
        "neighbors": "show ipv6 ospf neighbor",
        "neighbor_full": r"\bFull/.*\b{ifname}\s*$",
        "ping6": "ping ipv6 {dst} ntimes 3",
        "ping_ok": r"Success rate is [1-9]",
        "ping_interrupt": False,
    },
    "huawei_vrp": {
        "block_end": ("quit", "return"),
        "volatile": (r"^!Software Version", r"^!Last configuration", r"^return$"),
        "error": r"^Error:",
        "show_running": "display current-configuration",
        "neighbors": "display ospfv3 peer",
        "neighbor_full": r"\bFull/.*\b{ifname}\s*$",
        "ping6": "ping ipv6 -c 3 {dst}",
        "ping_ok": r"Reply from",
        "ping_interrupt": False,
    },
    "h3c_comware": {
        "block_end": ("quit", "return"),
        "volatile": (r"^ version ", r"^return$"),
        "error": r"^\s*% (Unrecognized|Incomplete|Too many|Wrong)",
        "show_running": "display current-configuration",
        "neighbors": "display ospfv3 peer",
        "neighbor_full": r"\bFull/.*\b{ifname}\s*$",
        "ping6": "ping ipv6 -c 3 {dst}",
        "ping_ok": r"bytes from",
        "ping_interrupt": False,
    },
}
SYNTAX["huawei_vrpv8"] = SYNTAX["huawei_vrp"]  # VRP V8 (own template) reads and checks like V5


POLL = 0.2
"""Seconds between two looks at the neighbour table or two ping6 tries in a post-check: the
check ends within a fraction of a second of the adjacency coming up, never on a fixed sleep."""


class DriverError(Exception):
    """A device could not be reached or did not behave; the message says which and why."""


class Unreachable(DriverError):
    pass


class Rejected(DriverError):
    """The device refused a line of the candidate config."""


class CheckFailed(DriverError):
    """A post-check (OSPFv3 neighbour, ping6) did not pass in time."""


@dataclass(frozen=True)
class Target:
    """How to reach one device. Secrets are given by the caller (env, ansible-vault), never read here."""

    hostname: str
    host: str
    platform: str
    username: str
    password: str | None = field(default=None, repr=False)
    key_file: str | None = None
    known_hosts: str | None = None
    port: int = 22
    timeout: float = 10.0


def syntax(platform: str) -> dict:
    """Platform facts and the SYNTAX row of its template family, as one flat dict."""
    f = facts(platform)
    return {
        **SYNTAX[f.template.split(".")[0]],
        "comment": f.comment,
        "negate": f.negate + " ",
        "save": f.save_command,
        "commit": f.commit_command,
        "netmiko": f.netmiko_device_type,
    }


# --- sessions -------------------------------------------------------------------------------


@contextmanager
def session(target: Target) -> Iterator:
    """A Netmiko connection; an `Unreachable` when SSH, the host key or the login fails."""
    from netmiko import ConnectHandler
    from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException

    params = dict(
        device_type=syntax(target.platform)["netmiko"],
        host=target.host,
        port=target.port,
        username=target.username,
        password=target.password or "",
        conn_timeout=target.timeout,
        auth_timeout=target.timeout,
        banner_timeout=target.timeout,
        fast_cli=True,
        allow_agent=False,
    )
    if target.key_file:
        params.update(use_keys=True, key_file=target.key_file)
    if target.known_hosts:  # the device must present the key recorded for it
        params.update(
            ssh_strict=True,
            system_host_keys=False,
            alt_host_keys=True,
            alt_key_file=target.known_hosts,
        )
    try:
        conn = ConnectHandler(**params)
    except (NetmikoTimeoutException, NetmikoAuthenticationException, OSError, EOFError) as exc:
        raise Unreachable(
            f"{target.hostname} ({target.host}): {str(exc).splitlines()[0]}"
        ) from None
    except Exception as exc:  # paramiko's host-key and protocol errors have no common base
        raise Unreachable(
            f"{target.hostname} ({target.host}): {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        ) from None
    try:
        yield conn
    finally:
        try:
            conn.disconnect()
        except Exception:
            pass


def running_config(conn, platform: str) -> str:
    return conn.send_command(syntax(platform)["show_running"], read_timeout=30)


def save_backup(text: str, backup_dir: Path, hostname: str) -> Path:
    """The pre-change config, kept as `<backup_dir>/<hostname>.cfg` (written atomically)."""
    from model.yamlio import write_atomic  # here: the other stages need not load the model package

    path = Path(backup_dir) / f"{hostname}.cfg"
    write_atomic(path, text)
    return path


# --- config trees ---------------------------------------------------------------------------

Tree = dict[str, "Tree"]


def parse(text: str, platform: str) -> Tree:
    """A config as a tree of normalised lines; comments, block ends and volatile lines dropped."""
    s = syntax(platform)
    volatile = [re.compile(p) for p in s["volatile"]]
    root: Tree = {}
    stack: list[tuple[int, Tree]] = [(-1, root)]
    for raw in text.splitlines():
        line = raw.rstrip()
        body = line.strip()
        if (
            not body
            or body.startswith(s["comment"])
            or body in s["block_end"]
            or any(p.match(body) for p in volatile)
        ):
            continue
        indent = len(line) - len(line.lstrip(" "))
        while stack[-1][0] >= indent:
            stack.pop()
        node = stack[-1][1].setdefault(" ".join(body.split()), {})
        stack.append((indent, node))
    return root


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


def render(tree: Tree, platform: str, depth: int = 0) -> list[str]:
    """A tree as the command lines to type: each block entered, filled and left."""
    end = syntax(platform)["block_end"][0]
    lines = []
    for line, children in tree.items():
        lines.append(" " * depth + line)
        if children:
            lines += render(children, platform, depth + 1)
            lines.append(" " * (depth + 1) + end)
    return lines


def diff(candidate: str, running: str, platform: str) -> list[str]:
    """The exact lines a push sends: candidate lines the running config lacks (in context)."""
    return render(missing(parse(candidate, platform), parse(running, platform)), platform)


def restore_commands(backup: str, running: str, platform: str) -> list[str]:
    """The lines that turn `running` back into `backup`: negate what is extra, add what is missing."""
    s = syntax(platform)
    neg, end = s["negate"], s["block_end"][0]

    def negate(line: str) -> str:
        return line.removeprefix(neg) if line.startswith(neg) else neg + line

    def undo(have: Tree, want: Tree | None, depth: int) -> list[str]:
        lines, pad = [], " " * depth
        for line, children in have.items():
            kept = want is not None and line in want
            inner = undo(children, want[line] if kept else None, depth + 1)
            if (
                inner
            ):  # empty the block first: some blocks (a live interface) cannot be deleted whole
                lines += [pad + line, *inner, pad + " " + end]
            if not kept:
                lines.append(pad + negate(line))
        return lines

    want, have = parse(backup, platform), parse(running, platform)
    return undo(have, want, 0) + render(missing(want, have), platform)


def same_config(a: str, b: str, platform: str) -> bool:
    return parse(a, platform) == parse(b, platform)


# --- changing the device -----------------------------------------------------------------------


def push(conn, lines: list[str], platform: str) -> str:
    """Send config lines; on the first line the device rejects raise `Rejected` (the caller
    restores the backup); else commit (two-stage platforms) and save."""
    s = syntax(platform)
    if not lines:
        return ""
    from netmiko.exceptions import ConfigInvalidException

    try:  # cmd_verify: each line waits for its echo, and the first error stops the rest
        out = conn.send_config_set(
            lines,
            exit_config_mode=not s["commit"],
            cmd_verify=True,
            error_pattern=s["error"],
            read_timeout=30,
        )
    except ConfigInvalidException as exc:
        if s["commit"]:  # drop the candidate: nothing of it reaches the running config
            conn.send_config_set(["abort"], exit_config_mode=True, cmd_verify=False)
        else:
            conn.exit_config_mode()
        raise Rejected(f"the device rejected the config: {exc}") from None
    return out + _commit_and_save(conn, s)


def force(conn, lines: list[str], platform: str) -> str:
    """Send lines ignoring errors (a restore goes as far as it can), then commit and save."""
    s = syntax(platform)
    if not lines:
        return ""
    out = conn.send_config_set(
        lines, exit_config_mode=not s["commit"], cmd_verify=True, read_timeout=30
    )
    return out + _commit_and_save(conn, s)


def _commit_and_save(conn, s: dict) -> str:
    out = ""
    if s["commit"]:
        out += conn.commit()
        conn.exit_config_mode()
    return out + conn.save_config(cmd=s["save"])


def restore(conn, backup: str, platform: str) -> dict:
    """Bring the running config back to `backup` exactly; report what was sent and whether it matches."""
    sent: list[str] = []
    for _attempt in range(2):  # a second pass catches what one negation uncovered
        lines = restore_commands(backup, running_config(conn, platform), platform)
        if not lines:
            break
        force(conn, lines, platform)
        sent += lines
    return {"sent": sent, "restored": same_config(backup, running_config(conn, platform), platform)}


# --- post-checks --------------------------------------------------------------------------------


def check(
    conn, platform: str, uplinks: list[str], parent_loopback: str | None, timeout: float = 30.0
) -> dict:
    """OSPFv3 neighbours Full on every uplink interface, then ping6 the parent's loopback.

    Polls every POLL seconds for up to `timeout` seconds (an adjacency comes up within about
    one hello interval: 10 s by vendor default, 1 s in the lab). Raises CheckFailed naming
    what is missing.
    """
    s = syntax(platform)
    deadline = time.monotonic() + timeout
    waiting = list(uplinks)
    while waiting:
        out = conn.send_command(s["neighbors"], read_timeout=15)
        waiting = [
            i
            for i in uplinks
            if not re.search(s["neighbor_full"].format(ifname=re.escape(i)), out, re.M)
        ]
        if not waiting:
            break
        if time.monotonic() > deadline:
            raise CheckFailed(
                f"no Full OSPFv3 neighbour on {', '.join(waiting)} after {timeout:.0f} s"
            )
        time.sleep(POLL)
    result = {"neighbors_full": list(uplinks), "ping6": None}
    if parent_loopback:
        while not ping6(conn, platform, parent_loopback):
            if time.monotonic() > deadline:
                raise CheckFailed(
                    f"no ping6 reply from the parent's loopback {parent_loopback} after {timeout:.0f} s"
                )
            time.sleep(POLL)
        result["ping6"] = parent_loopback
    return result


def ping6(conn, platform: str, dst: str, wait: float = 1.0) -> bool:
    s = syntax(platform)
    prompt = re.escape(conn.base_prompt)
    conn.write_channel(s["ping6"].format(dst=dst) + conn.RETURN)
    try:
        out = conn.read_until_pattern(
            pattern=f"{s['ping_ok']}|{prompt}\\S*[#>\\]]\\s*$", read_timeout=wait
        )
    except Exception:
        out = ""
    if s["ping_interrupt"] or not re.search(
        f"{prompt}\\S*[#>\\]]", out.splitlines()[-1] if out else ""
    ):
        conn.write_channel("\x03")
        out += conn.read_until_prompt(read_timeout=wait)
    return bool(re.search(s["ping_ok"], out))


# --- one device, start to finish (the Ansible module and govctl net push) --------------------

STAGES = ("precheck", "push", "postcheck", "rollback")
"""The rollout stages in the order they run; the playbook's tags carry the same names."""


def rollout_device(
    target: Target,
    candidate: str | None,
    backup_dir: Path,
    uplinks: list[str],
    parent_loopback: str | None,
    check_mode: bool = False,
    timeout: float = 30.0,
    stages: tuple[str, ...] | list[str] = STAGES,
) -> dict:
    """The selected `stages` of one device's rollout, in one session (one SSH login).

    precheck: log in and save the running config as the backup; push: send the candidate
    lines the device lacks, then commit / save; postcheck: OSPFv3 neighbours Full on the
    uplinks and ping6 to the parent's loopback; rollback: when the push is rejected or a
    post-check fails, bring the device back to the config it had when this session began
    (the backup) and verify it. In check mode nothing is written: not the device, not the
    backup; the post-check is skipped. The Ansible module and `govctl net push` both call
    this, so the rollout has one code path.

    Returns plain data: status is one of ok, unreachable, rolled_back, rollback_failed,
    failed; `commands` are the lines pushed (or, in check mode, the lines that would be).
    """
    unknown = set(stages) - set(STAGES)
    if unknown:
        raise ValueError(f"unknown rollout stage(s): {', '.join(sorted(unknown))}")
    result = {
        "hostname": target.hostname,
        "status": "ok",
        "changed": False,
        "commands": [],
        "message": "",
        "backup": None,
        "checks": None,
        "rollback": None,
        "seconds": 0.0,
        "push_seconds": None,
    }
    started = time.monotonic()
    if not set(stages) - {"rollback"}:  # nothing that touches the device: no login either
        return result
    try:
        with session(target) as conn:
            before = running_config(conn, target.platform)
            if "precheck" in stages and not check_mode:
                result["backup"] = str(save_backup(before, backup_dir, target.hostname))
            try:
                if "push" in stages:
                    if candidate is None:
                        raise DriverError(f"{target.hostname}: no candidate config to push")
                    lines = diff(candidate, before, target.platform)
                    result.update(commands=lines, changed=bool(lines))
                    if not check_mode:
                        push(conn, lines, target.platform)
                    result["push_seconds"] = round(
                        time.monotonic() - started, 3
                    )  # connect, backup, push, save
                if "postcheck" in stages and not check_mode:
                    result["checks"] = check(
                        conn, target.platform, uplinks, parent_loopback, timeout
                    )
            except (Rejected, CheckFailed) as exc:
                result.update(status="failed", message=str(exc))
                if "rollback" in stages and not check_mode:
                    done = restore(conn, before, target.platform)
                    result.update(
                        status="rolled_back" if done["restored"] else "rollback_failed",
                        rollback=done["sent"],
                    )
    except Unreachable as exc:
        result.update(status="unreachable", message=str(exc))
    except DriverError as exc:
        result.update(status="failed", message=str(exc))
    result["seconds"] = round(time.monotonic() - started, 3)
    return result


def rollout(
    levels: list[list[dict]],
    workers: int,
    max_fail: float = 0.3,
    check_mode: bool = False,
    on_done=None,
) -> dict:
    """Roll out level by level (parents first), `workers` devices at a time within a level.

    Each item: {"target": Target, "candidate": str, "backup_dir", "uplinks", "parent_loopback"}.
    A level whose failed share exceeds `max_fail` stops the rollout (like Ansible's
    max_fail_percentage); a single failure in a bigger level does not.
    """
    from concurrent.futures import ThreadPoolExecutor

    results: list[dict] = []
    stopped = None
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for index, items in enumerate(levels):
            futures = [
                pool.submit(
                    rollout_device,
                    it["target"],
                    it["candidate"],
                    it["backup_dir"],
                    it["uplinks"],
                    it["parent_loopback"],
                    check_mode,
                )
                for it in items
            ]
            level_results = []
            for fut in futures:
                level_results.append(fut.result())
                if on_done:
                    on_done(level_results[-1])
            results += level_results
            failed = sum(r["status"] != "ok" for r in level_results)
            if items and failed / len(items) > max_fail:
                stopped = index
                break
    return {"results": results, "stopped_at_level": stopped}
