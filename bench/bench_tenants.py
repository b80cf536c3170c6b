"""Benchmark: render the Pulumi program for a synthetic city of 1,000 departments / 5,000 systems.

Goal (issue 3): ≤ 60 s and ≤ 2 GB peak. The program runs under Pulumi's mocks (the path of
`govctl tenants render`), sharded over one worker process per CPU; prints the resources
registered, wall and CPU seconds, the peak memory of the largest process, and the SDK's
CPU cost per resource (what the wall time divides by the core count).

    .venv/bin/python bench/bench_tenants.py [--departments N] [--systems N] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.render import render, write  # noqa: E402
from infra.settings import StackSettings  # noqa: E402
from model import load_city  # noqa: E402
from model.synth import SynthSpec  # noqa: E402
from model.synth import write as synth  # noqa: E402


def cpu_seconds() -> float:
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--departments", type=int, default=1000)
    ap.add_argument("--systems", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        city = Path(tmp) / "city"
        synth(
            SynthSpec(
                seed=3,
                counties=2,
                townships_per=2,
                villages_per=2,
                departments=a.departments,
                systems=a.systems,
                machine_rooms=a.departments // 2,
            ),
            city,
            history=False,
        )
        m = load_city(city)
        wave = max((s.wave for s in m.systems if s.wave is not None), default=None)
        settings = StackSettings(model=str(city), wave=wave)
        cpu0, t0 = cpu_seconds(), time.perf_counter()
        rendered = render(m, settings, workers=a.workers)
        t_render = time.perf_counter() - t0
        objects = write(rendered, Path(tmp) / "out")
        wall = time.perf_counter() - t0
        cpu = cpu_seconds() - cpu0
    peak_mb = (
        max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        )
        / 1024
    )
    n = rendered.resources
    print(
        f"city: {a.departments:,} departments, {a.systems:,} systems (wave {wave}); {a.workers} worker process(es)"
    )
    print(
        f"resources registered: {n:,} ({objects:,} Kubernetes objects, {sum(rendered.components.values()):,} components)"
    )
    print(
        f"seconds: {wall:.1f} wall ({t_render:.1f} render + {wall - t_render:.1f} write); {cpu:.1f} CPU"
    )
    print(
        f"CPU per resource: {1000 * cpu / n:.2f} ms; load average at the end: {os.getloadavg()[0]:.1f}"
    )
    print(f"peak memory (largest process): {peak_mb:,.0f} MB")
    print(
        f"goal ≤ 60 s: {'met' if wall <= 60 else 'NOT met'}; goal ≤ 2 GB: {'met' if peak_mb <= 2048 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
