"""Benchmarks of the simulation harness (issue: simulation harness).

Prints:
1. the capacity model on the sample city (3 years) vs a bare SimPy loop doing the same
   number of events — its SimPy events plus its hourly samples, which are computed from the
   record of changes rather than scheduled — and their ratio (goal ≥ 0.5);
2. wall time of the gate's R replications (default 20) of its simulated checks on the sample
   city with 2 worker processes (goal ≤ 60 s on 2 cores), and the CPU seconds they took (the
   parent and its workers) with the load average: on a shared machine the wall time is
   mostly the other processes', the CPU time over 2 cores is what a quiet machine would take;
3. wall time of a one-year backup simulation of the sample city (goal ≤ 30 s);
4. wall time of a one-year backup simulation of a 5,000-system synthetic city.

Usage: python bench/bench_simulate.py [--days N] [--systems N] [--replications R]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import simpy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gate import checks  # noqa: E402
from model import load_city  # noqa: E402
from model.synth import SynthSpec, write  # noqa: E402
from simulate import backup, capacity, load  # noqa: E402
from simulate.settings import BackupSettings, CapacitySettings, Settings  # noqa: E402

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


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the pool's workers)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--systems", type=int, default=5000)
    ap.add_argument("--replications", type=int, default=20)
    args = ap.parse_args()
    m = load_city(CITY)
    load.table(m)  # history parsing is not the event loop: load it before timing

    # the model's work: its SimPy events plus the hourly samples it computes from the
    # record of changes (not SimPy events); the baseline is a bare SimPy loop doing as many
    # events as there are events and samples together (what one event per sample costs)
    cfg = CapacitySettings()
    model_s = math.inf
    for _ in range(3):  # best of three, both sides: the machine is shared
        capacity._pack_cached.cache_clear()  # each run packs afresh, as a first replication does
        t0 = time.perf_counter()
        r = capacity.run(m, cfg, seed=1)
        model_s = min(model_s, time.perf_counter() - t0)
    events, samples = r["events"], r["samples"]
    bare_s = min(bare_simpy(events + samples) for _ in range(3))
    print(
        f"capacity model, {cfg.years:g} years: {events:,} SimPy events + {samples:,} hourly samples "
        f"in {model_s:.3f} s (run(): simulation, samples, packing, report; best of 3)",
        flush=True,
    )
    print(
        f"bare SimPy loop: {events + samples:,} events in {bare_s:.3f} s = "
        f"{(events + samples) / bare_s:,.0f} events/s",
        flush=True,
    )
    print(f"ratio capacity/bare: {bare_s / model_s:.2f} (goal >= 0.5)", flush=True)
    bare_events = bare_simpy(events)
    print(
        f"  (SimPy events alone: the model does {events:,} in {model_s:.3f} s, the bare loop in "
        f"{bare_events:.4f} s: ratio {bare_events / model_s:.3f})",
        flush=True,
    )

    settings = Settings.model_validate({"gate": {"replications": args.replications}})
    cpu0 = _cpu()
    t0 = time.perf_counter()
    run = checks.evaluate(m, None, settings, 1, None, {"fit", "ipv6", "tenants"}, jobs=2)
    wall = time.perf_counter() - t0
    cpu = _cpu() - cpu0
    print(
        f"gate, {args.replications} replications each of capacity ({settings.gate.capacity_years:g} year) "
        f"and backup ({settings.gate.backup_days} nights + the city-wide failover) on the sample city, "
        f"2 worker processes: {wall:.1f} s wall (capacity {run.checks['capacity']['seconds']:.1f} s, "
        f"backup {run.checks['backup']['seconds']:.1f} s; goal <= 60 s on 2 cores), "
        f"{cpu:.1f} CPU s (parent and workers: {cpu / 2:.1f} s over 2 cores; load average "
        f"{os.getloadavg()[0]:.1f}), decision {'no-go' if run.reasons else 'go'}",
        flush=True,
    )

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
