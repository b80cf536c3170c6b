"""What a lab started and what it created, so that it stops exactly that and nothing else.

Both labs — the extranet lab (`lab.extranet`: FRR and sshd in network namespaces) and the
Kubernetes control planes (`lab.k8s`: etcd, kube-apiserver, kube-controller-manager) — run
long-lived processes on a shared machine and must never signal a process they did not start,
even when its PID has since been reused. A process is recorded as

    {"pid": 4242, "start": 123456, "exe": "kube-apiserver"}

— its PID, its start time (clock ticks since boot, `/proc/PID/stat` field 22) and the name of
the program it runs — and is "alive" only while all three still match. The name is checked
against the kernel's name of the program (`/proc/PID/comm`, which neither a binary replaced on
disk by `make tools` nor a daemon rewriting its title, as sshd does, changes) and, for
processes this module spawned itself, against the basename of argv[0].

A lab's state file (`StateFile`) is JSON written atomically; a lab records what it is about to
create *before* it creates it, so that tearing down a half-finished `up` still finds it.

    record = spawn(["etcd", ...], log_path)      # start, new session, output to the log
    record = adopt(pid, "zebra")                 # a daemon that forked itself (its pidfile)
    alive(record)                                # still that very process?
    stop([record, ...])                          # SIGTERM together, wait, SIGKILL the rest
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

COMM_LEN = 15  # the kernel keeps the first 15 bytes of a program's name (TASK_COMM_LEN - 1)


class LabError(RuntimeError):
    """The lab cannot do what was asked; the message says why and what to do (not root, a
    missing package or binary, a busy port, a foreign lab, a process that would not start)."""


# --- processes ------------------------------------------------------------------------------


def spawn(
    argv: list[str],
    log: Path,
    *,
    exe: str | None = None,
    env: dict[str, str] | None = None,
    settle: float = 2.0,
) -> dict:
    """Start argv in its own session (not killed with the caller's terminal), output appended
    to `log`, and return its record. `exe` is the program the process ends up running when
    argv execs another one (`ip netns exec NS prog ...`); default: argv[0]."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )  # fmt: skip
    stat = _stat(proc.pid)
    record = {"pid": proc.pid, "start": stat and stat[1], "exe": Path(exe or argv[0]).name}
    if exe is None:
        record["argv0"] = Path(argv[0]).name
    # Right after fork, the child still runs Python until exec: wait until it runs the
    # program (or exits) so that the record describes the program, not the fork.
    deadline = time.monotonic() + settle
    while not alive(record) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return record


def adopt(pid: int, exe: str) -> dict | None:
    """The record of a running process this lab started indirectly (a daemon that forked
    and wrote its PID file); None unless `pid` runs `exe` now."""
    stat = _stat(pid)
    if stat is None:
        return None
    record = {"pid": pid, "start": stat[1], "exe": Path(exe).name}
    return record if alive(record) else None


def adopt_pidfile(pidfile: Path, exe: str) -> dict | None:
    """adopt() the PID a daemon wrote into `pidfile`; None if there is none or it runs
    something else."""
    try:
        pid = int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return adopt(pid, exe)


def alive(record: dict | None) -> bool:
    """True while the recorded process runs and is the very process that was recorded."""
    stat = _stat(record["pid"]) if record else None
    if record is None or stat is None or stat[0] in "ZX" or stat[1] != record["start"]:
        return False
    pid = record["pid"]
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().rstrip("\n")
        argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
    except OSError:
        return False
    if comm != record["exe"][:COMM_LEN]:
        return False
    return "argv0" not in record or Path(os.fsdecode(argv0)).name == record["argv0"]


def stop(records: Iterable[dict | None], grace: float = 10.0) -> None:
    """SIGTERM the recorded processes that are still themselves, wait for them together,
    SIGKILL what is left after `grace` seconds; collect our own children. Never signals a
    process whose record no longer matches (a reused PID)."""
    live = [r for r in records if r]
    for record in live:
        _signal(record, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for record in live:
        if not _gone(record, max(0.0, deadline - time.monotonic())):
            _signal(record, signal.SIGKILL)
            _gone(record, grace)
        _reap(record)


def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time in clock ticks since boot) of a process; None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # fields from the 3rd (state) on
    return fields[0], int(fields[19])


def _signal(record: dict, sig: int) -> None:
    if alive(record):  # still the process that was recorded, not a reused PID
        try:
            os.kill(record["pid"], sig)
        except ProcessLookupError:
            pass


def _gone(record: dict, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while alive(record):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _reap(record: dict, timeout: float = 5.0) -> None:
    """If the dead process is this Python's child, collect it so that no zombie stays."""
    deadline = time.monotonic() + timeout
    while (_stat(record["pid"]) or ("", None))[1] == record["start"]:
        try:
            if os.waitpid(record["pid"], os.WNOHANG)[0]:
                return
        except ChildProcessError:
            return  # not our child: its own parent (or init) collects it
        if time.monotonic() > deadline:
            return
        time.sleep(0.02)


# --- state files ----------------------------------------------------------------------------


class StateFile:
    """A lab's JSON state: what it started and created. `data` starts from `defaults` and is
    updated from the file when there is one; every change is saved atomically."""

    def __init__(self, path: Path, defaults: dict):
        self.path = Path(path)
        self.data = json.loads(json.dumps(defaults))  # a deep copy of plain JSON data
        try:
            self.data.update(json.loads(self.path.read_text()))
        except FileNotFoundError:
            pass
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise LabError(
                f"{self.path}: corrupt lab state ({exc}); remove the lab by hand"
            ) from None

    def exists(self) -> bool:
        return self.path.exists()

    def record(self, key: str, value) -> None:
        """Add `value` to the list under `key` (once) or set it, and save — call it before
        creating the thing, so that a failed `up` leaves a state that `down` can undo."""
        if isinstance(self.data.get(key), list):
            if value in self.data[key]:
                return
            self.data[key].append(value)
        else:
            self.data[key] = value
        self.save()

    def save(self) -> None:
        from model.outputs import dumps_json  # the one JSON writer (no NaN)

        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(dumps_json(self.data, indent=2, ensure_ascii=True))
        tmp.replace(self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
