"""lab/supervisor.py with real processes: a lab stops exactly what it started.

The labs share a machine with other work; a record must stop matching the moment its PID
is reused or the process is something else, and stop() must then leave that process alone.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from lab import supervisor

SLEEP = shutil.which("sleep") or "/bin/sleep"


@pytest.fixture
def sleeper(tmp_path):
    """A process started by the supervisor; stopped (and reaped) at the end whatever happens."""
    records = []

    def start(seconds: int = 60) -> dict:
        record = supervisor.spawn([SLEEP, str(seconds)], tmp_path / "sleep.log")
        records.append(record)
        return record

    yield start
    supervisor.stop(records, grace=2)


def test_spawn_records_pid_start_time_and_program(sleeper):
    record = sleeper()
    assert record["exe"] == "sleep" and record["argv0"] == "sleep"
    stat = Path(f"/proc/{record['pid']}/stat").read_text()
    assert int(stat[stat.rindex(")") + 2 :].split()[19]) == record["start"]
    assert supervisor.alive(record)
    json.dumps(record)  # it goes into a JSON state file as it is


def test_spawned_process_has_its_own_session(sleeper):
    record = sleeper()
    assert os.getsid(record["pid"]) == record["pid"] != os.getsid(0)


def test_stop_ends_the_process_and_reaps_it(sleeper):
    record = sleeper()
    supervisor.stop([record], grace=5)
    assert not supervisor.alive(record)
    assert not Path(f"/proc/{record['pid']}").exists()  # no zombie left behind


def test_a_record_whose_start_time_differs_is_a_reused_pid_and_never_signalled(sleeper):
    record = sleeper()
    reused = dict(record, start=record["start"] - 1)  # same PID, another process's birth
    assert not supervisor.alive(reused)
    supervisor.stop([reused], grace=0.2)
    time.sleep(0.1)
    assert supervisor.alive(record)  # the real process was left alone


def test_a_record_naming_another_program_does_not_match(sleeper):
    record = sleeper()
    assert not supervisor.alive(dict(record, exe="etcd"))
    assert not supervisor.alive(dict(record, argv0="kube-apiserver"))
    supervisor.stop([dict(record, exe="etcd")], grace=0.2)
    assert supervisor.alive(record)


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace(tmp_path):
    script = "trap '' TERM; while :; do sleep 0.05; done"
    record = supervisor.spawn(["/bin/sh", "-c", script], tmp_path / "stubborn.log")
    assert record["exe"] == "sh"
    began = time.monotonic()
    supervisor.stop([record], grace=0.5)
    assert not supervisor.alive(record)
    assert time.monotonic() - began >= 0.5  # it waited the grace before SIGKILL


def test_exe_names_the_program_an_exec_chain_ends_in(tmp_path):
    # As `ip netns exec NS prog`: the spawned PID ends up running another program.
    record = supervisor.spawn(
        ["/bin/sh", "-c", f"exec {SLEEP} 60"], tmp_path / "chain.log", exe="sleep"
    )
    try:
        assert "argv0" not in record and supervisor.alive(record)
    finally:
        supervisor.stop([record], grace=2)


def test_adopt_pidfile_records_a_daemon_that_forked_away(tmp_path):
    pidfile = tmp_path / "daemon.pid"
    subprocess.run(
        ["/bin/sh", "-c", f"{SLEEP} 60 </dev/null >/dev/null 2>&1 & echo $! > {pidfile}"],
        check=True,
    )
    pid = int(pidfile.read_text())
    try:
        # The PID is written right after the fork, before the child runs the program: as
        # lab.extranet does with a daemon's pid file, retry until it does.
        deadline = time.monotonic() + 5
        while (record := supervisor.adopt_pidfile(pidfile, "sleep")) is None:
            assert time.monotonic() < deadline, "the daemon never ran sleep"
            time.sleep(0.01)
        assert record and record["pid"] == pid and supervisor.alive(record)
        assert supervisor.adopt_pidfile(pidfile, "sshd") is None  # runs something else
        supervisor.stop([record], grace=2)
        assert not supervisor.alive(record)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_adopt_pidfile_without_a_file_or_with_garbage(tmp_path):
    assert supervisor.adopt_pidfile(tmp_path / "missing.pid", "sleep") is None
    (tmp_path / "bad.pid").write_text("not a pid\n")
    assert supervisor.adopt_pidfile(tmp_path / "bad.pid", "sleep") is None


def test_a_program_that_cannot_start_gives_a_dead_record(tmp_path):
    record = supervisor.spawn(["/bin/sh", "-c", "exit 3"], tmp_path / "fails.log")
    deadline = time.monotonic() + 5
    while supervisor.alive(record) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not supervisor.alive(record)
    supervisor.stop([record], grace=0.2)  # stopping what already ended is a no-op


def test_state_file_records_before_creation_and_reloads(tmp_path):
    path = tmp_path / "lab" / "state.json"
    state = supervisor.StateFile(path, {"netns": [], "bridge": None})
    state.record("netns", "gc-a")
    state.record("netns", "gc-a")  # once
    state.record("bridge", "gc-mgmt")
    again = supervisor.StateFile(path, {"netns": [], "bridge": None, "new": 1})
    assert again.data == {"netns": ["gc-a"], "bridge": "gc-mgmt", "new": 1}
    assert not list(path.parent.glob("*.tmp"))
    again.remove()
    assert not again.exists()


def test_state_file_defaults_are_not_shared_between_instances(tmp_path):
    defaults = {"netns": []}
    supervisor.StateFile(tmp_path / "a.json", defaults).record("netns", "gc-a")
    assert defaults == {"netns": []}
    assert supervisor.StateFile(tmp_path / "b.json", defaults).data == {"netns": []}


def test_a_corrupt_state_file_is_a_lab_error_naming_it(tmp_path):
    path = tmp_path / "state.json"
    path.write_text("{not json")
    with pytest.raises(supervisor.LabError, match=r"state\.json: corrupt lab state"):
        supervisor.StateFile(path, {})
