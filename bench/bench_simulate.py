"""Benchmarks of the simulation harness (issue: simulation harness).

Prints:
1. events/s of the capacity model on the sample city vs a bare SimPy loop doing the same
   number of events, and their ratio (goal ≥ 0.5);
2. wall time of a one-year backup simulation of the sample city (goal ≤ 30 s);
3. wall time of a one-year backup simulation of a 5,000-system synthetic city.

Usage: python bench/bench_simulate.py [--days N] [--systems N]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import simpy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model import load_city  # noqa: E402
from model.synth import SynthSpec, write  # noqa: E402
from simulate import backup, capacity  # noqa: E402
from simulate.settings import BackupSettings, CapacitySettings  # noqa: E402

CITY = Path(__file__).resolve().parents[1] / "examples" / "sample-city"


def bare_simpy(n: int) -> float:
    """Seconds for a plain SimPy process to go through `n` timeouts."""
    env = simpy.Environment()

    def loop():
        for _ in range(n):
            yield env.timeout(1)

    env.process(loop())
    t0 = time.perf_counter()
    env.run()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--systems", type=int, default=5000)
    args = ap.parse_args()
    m = load_city(CITY)
    capacity.profiles(m)  # history parsing is not the event loop: load it before timing

    t0 = time.perf_counter()
    env, *_ = capacity.simulate(m, CapacitySettings(), seed=1)
    model_s = time.perf_counter() - t0
    events = env.scheduled
    bare_s = bare_simpy(events)
    ratio = (events / model_s) / (events / bare_s)
    print(
        f"capacity model: {events:,} events in {model_s:.2f} s = {events / model_s:,.0f} events/s",
        flush=True,
    )
    print(
        f"bare SimPy loop: {events:,} events in {bare_s:.2f} s = {events / bare_s:,.0f} events/s",
        flush=True,
    )
    print(f"ratio capacity/bare: {ratio:.2f} (goal >= 0.5)", flush=True)

    t0 = time.perf_counter()
    r = backup.run(m, BackupSettings(days=args.days), seed=1)
    wall = time.perf_counter() - t0
    print(
        f"backup, sample city ({len(r['systems'])} systems), {args.days} days: {wall:.1f} s wall, {r['events']:,} events "
        f"(goal <= 30 s for 365 days)",
        flush=True,
    )

    with tempfile.TemporaryDirectory() as tmp:
        spec = SynthSpec(
            seed=2,
            counties=3,
            townships_per=3,
            villages_per=3,
            departments=120,
            systems=args.systems,
            machine_rooms=60,
        )
        write(spec, Path(tmp) / "city", history=False)
        big = load_city(Path(tmp) / "city")
        # links scaled with the city, as a planner would size them
        sites = [
            s.model_copy(update={"link_mbps": s.link_mbps and s.link_mbps * args.systems // 400})
            for s in big.city.sites
        ]
        big = dataclasses.replace(big, city=big.city.model_copy(update={"sites": sites}), _cache={})
        t0 = time.perf_counter()
        r = backup.run(big, BackupSettings(days=args.days), seed=1)
        wall = time.perf_counter() - t0
    print(
        f"backup, synthetic city ({len(r['systems'])} systems on the cloud of {args.systems}), {args.days} days: "
        f"{wall:.1f} s wall, {r['events']:,} events",
        flush=True,
    )


if __name__ == "__main__":
    main()
