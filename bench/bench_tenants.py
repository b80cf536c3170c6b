"""Benchmark: `govctl tenants render` of a synthetic city of 1,000 departments / 5,000 systems.

Goal (issue 18): ≤ 10 s. The render is plain data from the builders (`infra/build.py`), no
Pulumi runtime. Prints, from one run: the sample city and the large city, each split into
planning + building and writing the YAML, the objects and stacks, the largest department
stack's build time (the one-stack figure), the CPU seconds and the peak memory.

    .venv/bin/python bench/bench_tenants.py [--departments N] [--systems N]
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

from infra import plan as planner  # noqa: E402
from infra import stacks as st  # noqa: E402
from infra.render import render, write  # noqa: E402
from infra.settings import StackSettings  # noqa: E402
from model import load_city  # noqa: E402
from model.synth import SynthSpec  # noqa: E402
from model.synth import write as synth  # noqa: E402


def many_departments(departments: int, systems: int) -> SynthSpec:
    """The synthetic city of the tenant benchmarks: a small extranet, many departments (the
    stacks' and the render's scale is departments and systems, not sites)."""
    return SynthSpec(
        seed=3,
        counties=2,
        townships_per=2,
        villages_per=2,
        departments=departments,
        systems=systems,
        machine_rooms=max(departments // 2, 1),
    )


def cpu_seconds() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


def measure(name: str, city: Path, out: Path) -> float:
    t0 = time.perf_counter()
    m = load_city(city)
    t_load = time.perf_counter() - t0
    wave = max((s.wave for s in m.systems if s.wave is not None), default=None)
    settings = StackSettings(model=str(city), wave=wave)
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    rendered = render(m, settings)
    t_render = time.perf_counter() - t0
    objects = write(rendered, out)
    wall = time.perf_counter() - t0
    cpu = cpu_seconds() - cpu0
    stacks = st.city_stacks(m, planner.plan(m, wave), settings)
    biggest = max((s for s in stacks if s.kind == st.DEPARTMENT), key=lambda s: len(s.units))
    t1 = time.perf_counter()
    n_one = sum(len(st.objects(u)) for u in biggest.units)
    one = time.perf_counter() - t1
    print(
        f"{name}: {len(m.departments):,} departments, {len(m.systems):,} systems (wave {wave}); "
        f"{objects:,} objects in {len(stacks):,} stacks (model load {t_load:.1f} s, not counted)"
    )
    print(
        f"  render {wall:.2f} s wall ({t_render:.2f} plan+build + {wall - t_render:.2f} write), "
        f"{cpu:.2f} CPU s; largest department stack {biggest.name}: {n_one} objects built in "
        f"{1000 * one:.1f} ms",
        flush=True,
    )
    return wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--departments", type=int, default=1000)
    ap.add_argument("--systems", type=int, default=5000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small = measure("sample", ROOT / "examples" / "sample-city", Path(tmp) / "sample-out")
        city = Path(tmp) / "city"
        synth(many_departments(a.departments, a.systems), city, history=False)
        big = measure(f"synthetic-{a.departments}", city, Path(tmp) / "out")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"large / sample: ×{big / small:.1f}; peak memory {peak_mb:,.0f} MB; load {os.getloadavg()[0]:.1f}"
    )
    print(f"goal ≤ 10 s for {a.departments:,} departments: {'met' if big <= 10 else 'NOT met'}")


if __name__ == "__main__":
    main()
