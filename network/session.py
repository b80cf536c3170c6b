"""One device, one SSH session: back up, push, post-check and roll back (Netmiko).

`rollout_device` runs the stages of one device in one login; the Ansible task and `govctl
net push` (through `network.fleet`) both call it. What differs per vendor is looked up in
`network.platforms` (Netmiko device type, config mode, save, commit, discard, error text,
show commands) and the neighbour tables are read with a TextFSM template per platform
(`network/parsers/`); what to send is `network.configtree`'s. Every failure — SSH, login,
a refused line, a post-check, a Netmiko timeout or any other exception — ends as this
device's result (`status`, `message`), never as an exception that stops the fleet.

    with session(target) as conn:
        backup = running_config(conn, target.platform)
        push(conn, diff(candidate, backup, target.platform), target.platform)  # Rejected
        check(conn, target.platform, uplinks, parent_loopback)                 # CheckFailed
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from network.configtree import diff, restore_commands, same_config
from network.platforms import cli_facts, facts

POLL = 0.2
"""Seconds between two looks at the neighbour table or two ping6 tries in a post-check: the
check ends within a fraction of a second of the adjacency coming up, never on a fixed sleep."""

PARSERS = Path(__file__).parent / "parsers"


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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


@contextmanager
def session(target: Target) -> Iterator:
    """A Netmiko connection; an `Unreachable` when SSH, the host key or the login fails."""
    from netmiko import ConnectHandler

    params = dict(
        device_type=facts(target.platform).netmiko_device_type,
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
    except Exception as exc:  # Netmiko's, paramiko's and socket errors have no common base
        raise Unreachable(f"{target.hostname} ({target.host}): {_first_line(exc)}") from None
    try:
        yield conn
    finally:
        try:
            conn.disconnect()
        except Exception:
            pass


def running_config(conn, platform: str) -> str:
    """The running config as the device prints it, read again when it came back cut short
    (it must end with `return` / `end`). Where Netmiko does not verify echoes (Comware) a
    prompt that arrived late can end a read early or precede the echoed command."""
    c = cli_facts(platform)
    out = ""
    for _attempt in range(3):
        out = conn.send_command(c.show_running, read_timeout=30)
        if c.show_running in out[:300]:
            rest = out[out.index(c.show_running) + len(c.show_running) :]
            out = rest.split("\n", 1)[1] if "\n" in rest else ""
        if c.last_line in out.rstrip().splitlines()[-1:]:
            return out
        conn.clear_buffer()
    raise DriverError(f"the running config did not come back whole (no `{c.last_line}` at its end)")


def save_backup(text: str, backup_dir: Path, hostname: str) -> Path:
    """The pre-change config, kept as `<backup_dir>/<hostname>.cfg` (written atomically)."""
    from model.yamlio import write_atomic  # here: the other stages need not load the model package

    path = Path(backup_dir) / f"{hostname}.cfg"
    write_atomic(path, text)
    return path


# --- changing the device -----------------------------------------------------------------------


def _send(conn, lines: list[str], platform: str, stop_on_error: bool) -> str:
    """Type `lines` in configuration mode (entered and left by the platform's own commands,
    as lines, so no prompt probing), then commit on two-stage platforms. Raises Rejected
    with the device's message on the first refused line when `stop_on_error`."""
    from netmiko.exceptions import ConfigInvalidException

    f, c = facts(platform), cli_facts(platform)
    body = [f.config_mode, *lines]
    tail = [f.commit_command] if f.commit_command else []
    tail.append(f.exit_config)
    verify = c.cmd_verify
    try:
        out = conn.send_config_set(
            body,
            enter_config_mode=False,
            exit_config_mode=False,
            cmd_verify=verify,
            error_pattern=c.error if (stop_on_error and verify) else "",
            read_timeout=30,
        )
    except ConfigInvalidException as exc:
        _discard(conn, platform)
        raise Rejected(f"the device rejected the config: {exc}") from None
    error = re.search(c.error, out, re.M)
    if error and stop_on_error:
        _discard(conn, platform)
        at = out[: error.start()].rstrip().splitlines()
        raise Rejected(
            f"the device rejected the config after `{at[-2].strip() if len(at) > 1 else ''}`: {error.group(0).strip()}"
        )
    return out + conn.send_config_set(
        tail, enter_config_mode=False, exit_config_mode=False, cmd_verify=verify, read_timeout=60
    )


def _discard(conn, platform: str) -> None:
    """Leave configuration mode after a refused line; a two-stage platform first drops its
    candidate with the documented command, so nothing of it reaches the running config."""
    f, c = facts(platform), cli_facts(platform)
    lines = ([c.discard] if c.discard else []) + [f.exit_config]
    conn.send_config_set(
        lines, enter_config_mode=False, exit_config_mode=False, cmd_verify=False, read_timeout=15
    )


def _save(conn, platform: str) -> str:
    """The platform's save (Netmiko answers VRP's question), then back to the root view:
    Netmiko saves Comware from the system view (its `enable` is `system-view`)."""
    f = facts(platform)
    out = conn.save_config(cmd=f.save_command)
    prompt = conn.find_prompt()
    if prompt.endswith("]") or "(config" in prompt:
        out += conn.send_command(f.exit_config, expect_string=r"[>#]\s*$", read_timeout=15)
    return out


def push(conn, lines: list[str], platform: str) -> str:
    """Send config lines; on the first line the device rejects raise `Rejected` (the caller
    restores the backup); else commit (two-stage platforms) and save."""
    if not lines:
        return ""
    out = _send(conn, lines, platform, stop_on_error=True)
    return out + _save(conn, platform)


def force(conn, lines: list[str], platform: str) -> str:
    """Send lines ignoring errors (a restore goes as far as it can), then commit and save."""
    if not lines:
        return ""
    out = _send(conn, lines, platform, stop_on_error=False)
    return out + _save(conn, platform)


def restore(conn, backup: str, platform: str) -> dict:
    """Bring the running config back to `backup` exactly; report what was sent and whether it matches."""
    sent: list[str] = []
    for _attempt in range(2):  # a second pass catches what one undo uncovered
        lines = restore_commands(backup, running_config(conn, platform), platform)
        if not lines:
            break
        force(conn, lines, platform)
        sent += lines
    now = running_config(conn, platform)
    return {
        "sent": sent,
        "restored": same_config(backup, now, platform),
        "identical": now == backup,
    }


# --- post-checks --------------------------------------------------------------------------------


@cache
def _template(platform: str) -> str:
    name = cli_facts(platform).parser or getattr(platform, "value", platform)
    return (PARSERS / f"{name}_ospfv3_neighbors.textfsm").read_text()


def neighbours(output: str, platform: str) -> list[dict]:
    """The OSPFv3 neighbour table as rows {neighbor, state, interface}, interface names
    written out in full (`GE0/0/1` -> `GigabitEthernet0/0/1`)."""
    import io

    import textfsm

    fsm = textfsm.TextFSM(io.StringIO(_template(platform)))
    rows = [dict(zip(fsm.header, r, strict=True)) for r in fsm.ParseText(output)]
    out = []
    for r in rows:
        name = r["INTERFACE"]
        for short, long in cli_facts(platform).abbreviations:
            if re.match(re.escape(short) + r"\d", name):
                name = long + name[len(short) :]
                break
        out.append({"neighbor": r["NEIGHBOR"], "state": r["STATE"], "interface": name})
    return out


def _ifkey(name: str) -> str:
    return re.sub(r"\s+", "", name).lower()


def check(
    conn, platform: str, uplinks: list[str], parent_loopback: str | None, timeout: float = 30.0
) -> dict:
    """OSPFv3 neighbours Full on every uplink interface, then ping6 the parent's loopback.

    Polls every POLL seconds for up to `timeout` seconds (an adjacency comes up within about
    one hello interval: 10 s by vendor default, 1 s in the lab). Raises CheckFailed naming
    what is missing.
    """
    c = cli_facts(platform)
    deadline = time.monotonic() + timeout
    waiting = list(uplinks)
    while waiting:
        out = conn.send_command(c.neighbors, read_timeout=15)
        full = {
            _ifkey(n["interface"])
            for n in neighbours(out, platform)
            if n["state"].lower() == "full"
        }
        waiting = [i for i in uplinks if _ifkey(i) not in full]
        if not waiting:
            break
        if time.monotonic() > deadline:
            raise CheckFailed(
                f"no Full OSPFv3 neighbour on {', '.join(waiting)} after {timeout:.0f} s"
            )
        time.sleep(POLL)
    result: dict[str, list[str] | str | None] = {"neighbors_full": list(uplinks), "ping6": None}
    if parent_loopback:
        while not ping6(conn, platform, parent_loopback):
            if time.monotonic() > deadline:
                raise CheckFailed(
                    f"no ping6 reply from the parent's loopback {parent_loopback} after {timeout:.0f} s"
                )
            time.sleep(POLL)
        result["ping6"] = parent_loopback
    return result


def ping6(conn, platform: str, dst: str, wait: float = 3.0) -> bool:
    c = cli_facts(platform)
    prompt = re.escape(conn.base_prompt)
    conn.write_channel(c.ping6.format(dst=dst) + conn.RETURN)
    end = f"{prompt}\\S*[#>\\]]\\s*$"
    try:
        out = conn.read_until_pattern(
            pattern=f"{c.ping_ok}|{end}" if c.ping_interrupt else end, read_timeout=wait
        )
    except Exception:
        out = ""
    if not re.search(f"{prompt}\\S*[#>\\]]", out.splitlines()[-1] if out else ""):
        conn.write_channel("\x03")
        try:
            out += conn.read_until_prompt(read_timeout=wait)
        except Exception:
            pass
    return bool(re.search(c.ping_ok, out))


# --- one device, start to finish (the Ansible task and govctl net push) ----------------------

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
    backup; the post-check is skipped.

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
        "check_seconds": None,
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
                    result["push_seconds"] = round(time.monotonic() - started, 3)
                if "postcheck" in stages and not check_mode:
                    t0 = time.monotonic()
                    result["checks"] = check(
                        conn, target.platform, uplinks, parent_loopback, timeout
                    )
                    result["check_seconds"] = round(time.monotonic() - t0, 3)
            except (Rejected, CheckFailed) as exc:
                result.update(status="failed", message=str(exc))
                if "rollback" in stages and not check_mode:
                    done = restore(conn, before, target.platform)
                    result.update(
                        status="rolled_back" if done["restored"] else "rollback_failed",
                        rollback=done["sent"],
                        identical=done["identical"],
                    )
    except Unreachable as exc:
        result.update(status="unreachable", message=str(exc))
    except DriverError as exc:
        result.update(status="failed", message=str(exc))
    except Exception as exc:  # a Netmiko timeout, a dropped session: this device fails alone
        result.update(status="failed", message=f"{target.hostname}: {_first_line(exc)}")
    result["seconds"] = round(time.monotonic() - started, 3)
    return result
