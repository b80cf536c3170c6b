"""Benchmark: the plans' KPIs of a large city, city-wide and broken down.

`govctl kpi --by county|department` walks the same units as the city-wide figure and adds
each to its group; this prints the CPU time of each on a 100-county, 1,000-department,
20,000-system city and the breakdown's ratio to the city-wide figure from the same run
(best of three: the machine is shared).
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from capacity import kpi  # noqa: E402
from model import load_city  # noqa: E402
from model.synth import SynthSpec, write  # noqa: E402


def _best(fn, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        c0 = time.process_time()
        fn()
        best = min(best, time.process_time() - c0)
    return best


def main() -> None:
    spec = SynthSpec(
        seed=5,
        counties=100,
        townships_per=10,
        villages_per=10,
        departments=1000,
        systems=20_000,
        machine_rooms=500,
    )
    with tempfile.TemporaryDirectory() as tmp:
        write(spec, Path(tmp), history=False)
        m = load_city(tmp)
    day = date(2025, 6, 30)
    city = _best(lambda: kpi.figures(m, day, 2025))
    print(f"city {len(m.systems):,} systems, {sum(1 for _ in m.sites()):,} sites")
    print(f"kpi city-wide: {city:.3f} s CPU")
    for by in kpi.BREAKDOWNS:
        t = _best(lambda by=by: kpi.figures(m, day, 2025, by))
        groups = len(kpi.figures(m, day, 2025, by))
        print(f"kpi by {by} ({groups} groups): {t:.3f} s CPU, {t / city:.2f}x city-wide")
    full = _best(lambda: kpi.report(m, as_of=day, year=2025, by="department", history=[]), 1)
    print(f"kpi report by department (targets, trend, groups): {full:.3f} s CPU")


if __name__ == "__main__":
    main()
