"""Capacity benchmarks: `/metrics` scrape time and assessment time for a 5,000-system city.

    .venv/bin/python bench/bench_capacity.py [--systems 5000] [--scrapes 50]

1. Scrape: the exporter serves a synthetic city of N systems (every one on the cloud and
   measured, so every per-system series is present) over HTTP on loopback; the median and p95
   of a full GET /metrics are printed (goal: median ≤ 100 ms), with the in-process
   `generate_latest` time beside it. CPU time (`time.process_time`) is printed beside wall time,
   with the load average: on a busy machine wall time measures the queue, CPU time the work.
2. Assessment: N systems × 30 days at 5-minute resolution (8,640 samples each, generated in
   memory with numpy), assessed by `capacity.rightsizing.assess`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prometheus_client import generate_latest  # noqa: E402

from capacity.rightsizing import assess  # noqa: E402
from model import load_city  # noqa: E402
from model.history import GIB, Series  # noqa: E402
from model.schema import Classification, SystemState  # noqa: E402
from model.synth import SynthSpec, write  # noqa: E402
from monitoring.exporter import ExporterState, registry_for, serve  # noqa: E402

STEP = 300
DAYS = 30


def city_all_on_cloud(systems: int, tmp: Path):
    """A synthetic city whose systems all run on the cloud (so all are assessed and exported)."""
    write(
        SynthSpec(
            seed=7,
            counties=9,
            townships_per=12,
            villages_per=14,
            departments=120,
            systems=systems,
            machine_rooms=30,
        ),
        tmp,
        history=False,
    )
    m = load_city(tmp)
    m.systems = [
        s.model_copy(
            update={
                "state": SystemState.on_cloud,
                "classification": Classification.non_classified,
                "target_zone": s.target_zone or m.departments_by_code[s.department].zone,
            }
        )
        for s in m.systems
    ]
    return m


def usage_in_memory(model, seed: int = 1) -> dict[str, Series]:
    """30 days at 5-minute resolution per system: a daily profile around the system's own level."""
    rng = np.random.default_rng(seed)
    n = DAYS * 86400 // STEP
    t = 1_790_812_800 + np.arange(n, dtype=np.float64) * STEP
    hour = (t // 3600) % 24
    profile = np.where((hour >= 9) & (hour < 18), 1.0, 0.35)
    out = {}
    for s in model.systems:
        level = rng.uniform(0.03, 0.12) if rng.random() < 0.33 else rng.uniform(0.25, 0.75)
        cpu = s.vcpu * s.replicas * level * profile * np.clip(rng.normal(1.0, 0.15, n), 0.2, None)
        mem = s.memory_gib * s.replicas * GIB * rng.uniform(0.1, 0.85) * (0.9 + 0.1 * profile)
        out[s.id] = Series(t, cpu, mem)
    return out


class InMemorySource:
    name = "memory"

    def __init__(self, usage):
        self.usage = usage

    def describe(self) -> str:
        return "in-memory usage"

    def fetch(self, model):
        return self.usage


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--systems", type=int, default=5000)
    ap.add_argument("--scrapes", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        model = city_all_on_cloud(args.systems, Path(tmp))
        usage = usage_in_memory(model)
        points = sum(len(s.t) for s in usage.values())
        print(
            f"city: {len(model.systems):,} systems, {len(model.departments)} departments; "
            f"{points:,} samples per resource generated in {time.perf_counter() - t0:.1f} s"
        )

        runs, cpu = [], []
        for _ in range(3):
            t, c = time.perf_counter(), time.process_time()
            a = assess(model, usage)
            runs.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        print(
            f"assessment: {len(a.systems):,} systems × {DAYS} days at {STEP // 60}-minute resolution: "
            f"median {statistics.median(runs):.2f} s wall, {statistics.median(cpu):.2f} s CPU of 3 runs "
            f"({len(a.candidates):,} compression candidates)"
        )

        state = ExporterState(
            Path(tmp), source=InMemorySource(usage), interval=3600, loader=lambda _: model
        )
        server, _ = serve(state, "127.0.0.1", 0)
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
            size, http, http_cpu = 0, [], []
            for _ in range(args.scrapes):
                t, c = (
                    time.perf_counter(),
                    time.process_time(),
                )  # the server thread is in this process
                with urllib.request.urlopen(url, timeout=30) as resp:
                    size = len(resp.read())
                http.append(time.perf_counter() - t)
                http_cpu.append(time.process_time() - c)
            inproc = []
            registry = registry_for(state)
            for _ in range(args.scrapes):
                t = time.perf_counter()
                generate_latest(registry)
                inproc.append(time.perf_counter() - t)
        finally:
            server.shutdown()
            server.server_close()
            state.stop()
        http.sort()
        median = statistics.median(http)
        series = sum(
            1 for line in generate_latest(registry).splitlines() if not line.startswith(b"#")
        )
        print(
            f"scrape GET /metrics: {series:,} series, {size / 1024:.0f} KiB; median {median * 1000:.1f} ms wall, "
            f"{statistics.median(http_cpu) * 1000:.1f} ms CPU; p95 {http[int(0.95 * (len(http) - 1))] * 1000:.1f} ms wall "
            f"over {len(http)} scrapes (goal ≤ 100 ms median: {'met' if median <= 0.1 else 'MISSED'}); "
            f"generate_latest alone median {statistics.median(inproc) * 1000:.1f} ms "
            f"(HTTP/in-process ratio {median / statistics.median(inproc):.2f})"
        )
        print(
            "load average (1/5/15 min): "
            + " ".join(f"{x:.1f}" for x in os.getloadavg())
            + f" on {os.cpu_count()} CPUs"
        )


if __name__ == "__main__":
    main()
