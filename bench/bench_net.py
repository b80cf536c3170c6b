"""Benchmark of `govctl net render` and `govctl net check` on the ~20,000-device synthetic city.

Prints: render of every device with the grammar check of every file (what `net render` does)
on 2 worker processes, then `net check` of the written folder on 2 workers, with files,
lines and lines per second. Goals (issue 14): net check ≤ 20 s and net render ≤ 15 s on
2 cores (the render took 52 s with 2 workers before the renderer and checker were tuned).
The machine's load average is printed beside the figures: other work on the same cores
slows both.

    .venv/bin/python bench/bench_net.py [--counties 100 --townships-per 15 --villages-per 13]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model import load_city  # noqa: E402
from model.synth import SynthSpec, write  # noqa: E402
from network.grammar import check_files, config_files  # noqa: E402
from network.plan import plan_city  # noqa: E402
from network.render import render_all  # noqa: E402

RENDER_GOAL, CHECK_GOAL = 15.0, 20.0


def _cpu() -> float:
    """CPU seconds of this process and its finished workers (wall time suffers under load)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--counties", type=int, default=100)
    ap.add_argument("--townships-per", type=int, default=15)
    ap.add_argument("--villages-per", type=int, default=13)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-net-") as tmp:
        city = Path(tmp) / "city"
        spec = SynthSpec(
            seed=1,
            counties=args.counties,
            townships_per=args.townships_per,
            villages_per=args.villages_per,
            departments=20,
            systems=100,
            machine_rooms=5,
        )
        write(spec, city, history=False)
        model = load_city(city)
        plan = plan_city(model)
        devices = len(model.devices_by_hostname)
        print(
            f"net benchmark: {devices:,} devices, {args.workers} workers, "
            f"{os.cpu_count()} CPUs visible, load average {os.getloadavg()[0]:.1f}"
        )
        out = Path(tmp) / "configs"
        cpu0 = _cpu()
        t0 = time.perf_counter()
        render_all(model, plan, out, workers=args.workers)
        render = time.perf_counter() - t0
        render_cpu = _cpu() - cpu0
        files = config_files([out])
        lines = sum(f.read_text(encoding="utf-8").count("\n") for f in files)
        cpu0 = _cpu()
        t0 = time.perf_counter()
        findings = check_files(files, workers=args.workers)
        check = time.perf_counter() - t0
        check_cpu = _cpu() - cpu0
    print(
        f"  net render (render + grammar check, {len(files):,} files)  {render:8.2f} s"
        f"   goal ≤ {RENDER_GOAL:.0f} s: {'yes' if render <= RENDER_GOAL else 'no'}"
        f"   ({52 / render:.1f}× faster than the 52 s before); CPU {render_cpu:.2f} s"
    )
    print(
        f"  net check ({lines:,} lines, {lines / check:,.0f} lines/s)     {check:8.2f} s"
        f"   goal ≤ {CHECK_GOAL:.0f} s: {'yes' if check <= CHECK_GOAL else 'no'}; CPU {check_cpu:.2f} s"
    )
    print(f"  findings: {len(findings)}; load average after: {os.getloadavg()[0]:.1f}")
    return 0 if not findings and render <= RENDER_GOAL and check <= CHECK_GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
