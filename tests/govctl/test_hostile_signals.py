"""SIGTERM and SIGINT against a real govctl process: one line, the shell's exit code
(128 + the signal: 130 for Ctrl-C, 143 for SIGTERM) and nothing half-written."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from tests.helpers import SAMPLE_CITY, signal_govctl

GOVCTL = [sys.executable, "-m", "govctl"]


def _signalled(args: list[str], ready, signum: int, tmp_path: Path) -> tuple[int, str]:
    """Start govctl, wait until `ready(stdout)` is true, send `signum`: exit code, stderr."""
    code, _, err = signal_govctl(args, ready, signum, tmp_path)
    return code, err


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sigterm_stops_the_exporter_with_one_line_and_143(tmp_path):
    """Outside any write (the exporter sleeps while it serves): 143, not 130, one line."""
    code, err = _signalled(
        ["exporter", str(SAMPLE_CITY), "--port", str(_free_port())],
        lambda out: "serving http://" in out,
        signal.SIGTERM,
        tmp_path,
    )
    assert code == 143, err
    assert err == "terminated; nothing was written\n"


def test_sigterm_in_the_demo_names_the_steps_it_kept(tmp_path):
    target = tmp_path / "demo-out"
    code, err = _signalled(
        ["demo", str(SAMPLE_CITY), "--out", str(target)],
        lambda out: "✓ kpi" in out,
        signal.SIGTERM,
        tmp_path,
    )
    assert code == 143, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"terminated; the finished steps' files are kept in {target}/ (kpi")
    assert (target / "kpi.json").is_file()
    assert not [p for p in target.rglob("*") if ".staging-" in p.name or p.suffix == ".tmp"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_a_folder_is_written_leaves_nothing(tmp_path, signum):
    """`model synth` of a large city, signalled once its staging folder has files: the
    output folder never appears, the staging folder is removed, exit 128 + signum."""
    out = tmp_path / "big"
    args = ["model", "synth", "--out", str(out), "--counties", "40", "--systems", "60000"]

    def staging(_: str) -> bool:
        return any(tmp_path.glob(".big.staging-*/*.yaml"))

    code, err = _signalled(args, staging, signum, tmp_path)
    assert code == 128 + signum, err
    word = "interrupted" if signum == signal.SIGINT else "terminated"
    assert err.strip().splitlines()[-1] == f"{word}; nothing was written", err
    assert "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".big.*"))
