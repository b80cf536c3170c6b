"""Benchmark: load + validate a synthetic city of 100 counties × 15 townships × 13 villages.

Goal (issue: foundation): ≤ 3 s and ≤ 500 MB peak. Each measurement runs in a fresh
process so peak RSS is the loader's own; prints the median of three runs, as wall time and
as CPU time (the latter is what a busy machine inflates least).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.synth import SynthSpec, write  # noqa: E402

CHILD = """
import json, resource, sys, time
from model import load_city
t0, c0 = time.perf_counter(), time.process_time()
m = load_city(sys.argv[1])
elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
sites = sum(1 for _ in m.sites())
print(json.dumps({"seconds": elapsed, "cpu": cpu, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "sites": sites}))
"""


def main() -> None:
    spec = SynthSpec(
        seed=11,
        counties=100,
        townships_per=15,
        villages_per=13,
        departments=200,
        systems=2000,
        machine_rooms=100,
    )
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        counts = write(spec, Path(tmp), history=False)
        gen = time.perf_counter() - t0
        size_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6
        runs = []
        for _ in range(3):
            out = subprocess.run(
                [sys.executable, "-c", CHILD, tmp],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            runs.append(json.loads(out.stdout))
    seconds = statistics.median(r["seconds"] for r in runs)
    cpu = statistics.median(r["cpu"] for r in runs)
    load = os.getloadavg()[0]
    peak = statistics.median(r["peak_mb"] for r in runs)
    print(
        f"city: {counts['villages']:,} villages, {runs[0]['sites']:,} sites, {size_mb:.1f} MB of YAML (generated in {gen:.1f} s)"
    )
    print(
        f"load + validate: median {seconds:.2f} s wall, {cpu:.2f} s CPU over 3 runs "
        f"(goal ≤ 3 s: wall {seconds / 3:.2f}×, CPU {cpu / 3:.2f}× the budget; load average {load:.1f} on {os.cpu_count()} cores)"
    )
    print(f"peak RSS: {peak:.0f} MB (goal ≤ 500 MB: {peak / 500:.2f}× the budget)")


if __name__ == "__main__":
    main()
