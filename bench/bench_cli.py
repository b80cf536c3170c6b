"""How long `govctl --help` and `govctl --version` take, as whole processes (issue 13: ≤ 0.5 s),
and the help of the commands that simulate (`plan`, `simulate`: their libraries load only
when the command runs).

Each figure is a fresh process started the way a user starts it (the `govctl` console
script of this venv), timed from fork to exit, with `python -c pass` of the same interpreter
measured in the same run as the baseline (interpreter start and site, which no CLI can save).
Runs are interleaved, so a change in the machine's load hits every command alike; the script
prints the median and the best wall time, the median CPU time, and the ratio to the baseline.

    .venv/bin/python bench/bench_cli.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

GOVCTL = str(Path(sys.executable).with_name("govctl"))
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "govctl --version": [GOVCTL, "--version"],
    "govctl --help": [GOVCTL, "--help"],
    "govctl plan --help": [GOVCTL, "plan", "--help"],
    "govctl simulate --help": [GOVCTL, "simulate", "--help"],
}


def once(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds user+system) of one process run to its end."""
    began = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    for argv in COMMANDS.values():  # warm the page cache and the .pyc files once
        once(argv)
    load_before = os.getloadavg()[0]
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, argv in COMMANDS.items():
            samples[name].append(once(argv))
    load_after = os.getloadavg()[0]
    print(
        f"{args.runs} runs each, interleaved; load average {load_before:.1f} → {load_after:.1f} "
        f"on {os.cpu_count()} CPUs"
    )
    base = statistics.median(w for w, _ in samples["python -c pass"])
    base_cpu = statistics.median(c for _, c in samples["python -c pass"])
    print(f"{'command':<24} {'median':>8} {'best':>8} {'CPU':>8} {'× baseline':>11} {'CPU ×':>7}")
    for name, runs in samples.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        best = min(w for w, _ in runs)
        print(
            f"{name:<24} {wall:>7.3f}s {best:>7.3f}s {cpu:>7.3f}s {wall / base:>10.1f}× "
            f"{cpu / base_cpu:>6.1f}×"
        )
    helped = statistics.median(w for w, _ in samples["govctl --help"])
    print(
        f"govctl --help: {helped:.3f} s median, {helped / base:.1f}× python -c pass (goal ≤ 0.5 s)"
    )


if __name__ == "__main__":
    main()
