"""Helpers the tests share: where the sample city is, how to edit a city's YAML, and one
department and one system of the model to vary (`department(**changes)`, `system(**changes)`)."""

from __future__ import annotations

from pathlib import Path

import yaml

from model.schema import Department, System
from model.synth import SynthSpec

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CITY = ROOT / "examples" / "sample-city"
SMALL_SPEC = SynthSpec(
    seed=7, counties=2, townships_per=2, villages_per=3, departments=10, systems=40, machine_rooms=6
)


def edit_yaml(city: Path, name: str, change) -> None:
    """Load one YAML file of a city, let `change(data)` mutate it, write it back."""
    path = city / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def department(**changes) -> Department:
    """A level-2 department on the shared zone, with `changes` applied."""
    base = dict(
        code="FGW",
        slug="fgw",
        name="市发展和改革委员会",
        mlps_level=2,
        zone="shared",
        quota={"cpu": 20.5, "memory_gib": 64, "storage_gib": 1000},
    )
    return Department.model_validate(base | changes)


def system(**changes) -> System:
    """A non-classified system of that department on the cloud, with `changes` applied."""
    base = dict(
        id="fgw-001",
        department="FGW",
        name="办公自动化系统",
        classification="non_classified",
        state="on_cloud",
        target_zone="shared",
        vcpu=2,
        memory_gib=4.5,
        storage_gib=100,
        data_gib=0,
        daily_change_ratio=0.05,
        dr_level=3,
        ipv6_ready=True,
        network="extranet",
    )
    return System.model_validate(base | changes)


def interrupt_up(proc, state_dir: Path) -> None:
    """Stop a `govctl tenants up` started with `start_new_session=True` half-way as an
    operator's kill does: SIGTERM to its whole process group, SIGKILL 1.5 s later, then the
    engine's processes the SIGKILL orphaned (`kill_engine_leftovers`)."""
    import os
    import signal
    import time

    os.killpg(proc.pid, signal.SIGTERM)
    time.sleep(1.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    kill_engine_leftovers(state_dir)


def kill_engine_leftovers(state_dir: Path) -> list[int]:
    """Kill what a SIGKILLed `pulumi` left running on this test's state: its plugins (language
    host, program, policy pack, provider) run in process groups of their own, out of reach of
    a kill to the command's group, and wait for an engine that is gone. Found by the exact
    backend URL in their environment (this test's own state directory), never by a broad
    match. Returns the pids killed."""
    import os
    import signal
    import time

    from infra.engine import process_running

    mine = f"PULUMI_BACKEND_URL={Path(state_dir).resolve().as_uri()}".encode()
    killed = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if mine not in (proc / "environ").read_bytes().split(b"\0"):
                continue
            os.kill(int(proc.name), signal.SIGKILL)
        except (FileNotFoundError, PermissionError, ProcessLookupError):
            continue  # gone meanwhile, or not ours to read
        killed.append(int(proc.name))
    deadline = time.monotonic() + 30  # until each is gone or a zombie, holding nothing
    while any(process_running(pid) for pid in killed) and time.monotonic() < deadline:
        time.sleep(0.1)
    return killed


def signal_govctl(args: list[str], ready, signum: int, tmp_path: Path) -> tuple[int, str, str]:
    """Start a real `govctl` process, wait until `ready(its stdout so far)` is true, send it
    `signum`; returns its exit code, stdout and stderr."""
    import os
    import subprocess
    import sys
    import time

    out = tmp_path / "stdout"
    with open(out, "w") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "govctl", *args],
            stdout=sink,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=dict(os.environ, COLUMNS="200"),
        )
        try:
            deadline = time.monotonic() + 300
            while not ready(out.read_text()):
                assert proc.poll() is None, f"govctl ended early: {proc.stderr.read()}"
                assert time.monotonic() < deadline, "never ready"
                time.sleep(0.05)
            proc.send_signal(signum)
            _, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return proc.returncode, out.read_text(), err
