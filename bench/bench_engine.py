"""Benchmark: `govctl tenants up` stack by stack on the real Pulumi engine (issue 18).

Render mode, local file backend, checkpoints on, the policy pack on every stack, the default
pool (`--parallel` = the core count). In one run, each with its goal:

- the sample city's first `up` (goal ≤ 30 s) and a no-op `up` (goal ≤ 10 s);
- one department changed → only its stack runs (goal ≤ 15 s);
- with `--departments N` (the issue: 1,000 departments / 5,000 systems): that city's first
  `up` (goal ≤ 10 min) and its no-op `up`.

Each figure is printed with the one-stack figure of the same run (the median seconds of one
department stack's `up` inside the pool, and the ratio to it), its ratio to the start of the
CLI (`pulumi version`, measured first), the stack counts and the load average; the rendered
objects are checked against the plain-data render.

    .venv/bin/python bench/bench_engine.py [--departments 1000 --systems 5000] [--parallel N]

Needs `make tools` (the Pulumi CLI and plugins in .tools/bin). A department stack costs about
5–6 CPU s (infra/README.md, "Measured"), so the 1,000-department city takes most of an hour
on 2 cores; progress is printed every 100 stacks or 5 minutes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_tenants import many_departments  # noqa: E402  (bench/ is on the path of its scripts)

from infra import engine, orchestrate  # noqa: E402
from infra.render import as_manifest, render  # noqa: E402
from infra.settings import StackSettings  # noqa: E402
from model import load_city  # noqa: E402
from model.synth import write as synth  # noqa: E402
from tests.helpers import edit_yaml  # noqa: E402


def objects_key(objects: dict[str, list[dict]]) -> dict:
    return {
        (c, o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): as_manifest(o)
        for c, objs in objects.items()
        for o in objs
    }


def one_stack(result: dict) -> float:
    runs = [
        r["seconds"]
        for r in result["stacks"]
        if r["status"] == "done" and r["kind"] == "department"
    ]
    return statistics.median(runs) if runs else float("nan")


def cli_start(tools: engine.Tools, runs: int = 3) -> float:
    """The floor under every stack: the median wall time of `pulumi version`."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([str(tools.pulumi), "version"], capture_output=True, check=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def line(what: str, result: dict, goal: float | None, baseline: float) -> float:
    t = result["total"]
    verdict = (
        ""
        if goal is None
        else f" goal ≤ {goal:.0f} s: {'met' if t['seconds'] <= goal else 'NOT met'}"
    )
    one = one_stack(result)
    ratio = f" = ×{t['seconds'] / one:.1f} one stack" if one == one else ""
    print(
        f"  {what:<34} {t['seconds']:8.1f} s  stacks {t['stacks']} (ran {t['done']}, skipped "
        f"{t['skipped']}, failed {t['failed']}); one stack {one:.1f} s{ratio}; "
        f"×{t['seconds'] / baseline:.0f} `pulumi version`; changes {t['changes']}{verdict}; "
        f"load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    if t["failed"]:
        for r in result["stacks"]:
            if r["status"] == "failed":
                print(f"    {r['stack']}: {r['error'][-500:]}")
    return t["seconds"]


def measure(
    name: str, city: Path, work: Path, parallel: int, change_one: bool, baseline: float
) -> None:
    m = load_city(city)
    print(f"{name}: {len(m.departments)} departments, {len(m.systems)} systems", flush=True)
    settings = StackSettings(model=str(city), render_dir=str(work / "render"))
    project = engine.scratch_project(work / "project")

    def up(model=None) -> dict:
        seen: list[str] = []
        t0 = time.perf_counter()
        shown = [t0]

        def progress(r: dict) -> None:  # every 100 stacks or 5 minutes: a long run's pace
            seen.append(r["status"])
            now = time.perf_counter()
            if len(seen) % 100 == 0 or now - shown[0] >= 300:
                shown[0] = now
                print(
                    f"    … {len(seen)} stacks in {now - t0:.0f} s ({seen.count('failed')} "
                    f"failed), load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )

        return orchestrate.run(
            "up",
            settings,
            work / "state",
            model=model or load_city(city),
            project_dir=project,
            throwaway=True,
            parallel=parallel,
            on_stack=progress,
        )

    first = up(m)
    line("first up", first, 30 if name == "sample" else 600, baseline)
    same = objects_key(engine.read_render_dir(work / "render")) == objects_key(
        render(m, settings).objects
    )
    print(f"  engine's objects = plain render's: {same}", flush=True)
    line("no-op up", up(m), 10 if name == "sample" else None, baseline)
    if change_one:
        dept = m.departments[0]

        def bump(data):
            d = next(x for x in data["departments"] if x["code"] == dept.code)
            d["quota"]["cpu"] += 1

        edit_yaml(city, "departments.yaml", bump)
        changed = up()
        line(f"one department changed ({dept.slug})", changed, 15, baseline)
        ran = [r["stack"] for r in changed["stacks"] if r["status"] == "done"]
        print(f"  stacks that ran: {ran}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--departments", type=int, default=0, help="also a synthetic city this large")
    ap.add_argument("--systems", type=int, default=5000)
    ap.add_argument("--parallel", type=int, default=orchestrate.default_parallel())
    ap.add_argument("--skip-sample", action="store_true")
    a = ap.parse_args()
    tools = engine.locate()
    baseline = cli_start(tools)
    print(
        f"Pulumi {tools.version} ({tools.pulumi}), {os.cpu_count()} CPUs, --parallel {a.parallel}, "
        f"load {os.getloadavg()[0]:.1f}; `pulumi version` {baseline:.2f} s (the baseline)",
        flush=True,
    )
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        work = Path(tmp)
        if not a.skip_sample:
            sample = work / "sample-city"
            import shutil

            shutil.copytree(ROOT / "examples" / "sample-city", sample)
            measure("sample", sample, work / "sample", a.parallel, True, baseline)
        if a.departments:
            big = work / "big-city"
            synth(many_departments(a.departments, a.systems), big, history=False)
            measure(f"synthetic-{a.departments}", big, work / "big", a.parallel, False, baseline)
    print(
        f"whole benchmark: {time.perf_counter() - t0:.0f} s; load at the end {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
