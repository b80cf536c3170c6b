"""Benchmark: the real Pulumi engine (`infra/engine.py`) on the sample city and a large one.

Issue 4 asks for the wall time of `preview` and `up` (render mode, local file backend) of
the sample city (45 departments) and of a synthetic city of 1,000 departments / 5,000
systems, and how it grows (the ratio 1,000 vs 45 departments). Each city gets a fresh
state and render directory; `preview` runs first (without the policy pack, then once more
with it for the sample city), then `up` into the empty directory, then a second `up` that
must change nothing. Prints resources, seconds and milliseconds per resource per step.

    .venv/bin/python bench/bench_engine.py [--departments 1000] [--systems 5000] [--skip-sample]

Needs `make tools` (the Pulumi CLI and plugins in .tools/bin).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra import engine  # noqa: E402
from infra.settings import StackSettings  # noqa: E402
from model import load_city  # noqa: E402
from model.synth import SynthSpec  # noqa: E402
from model.synth import write as synth  # noqa: E402


def measure(name: str, city: Path, work: Path, policy: bool, again: bool = True) -> dict:
    m = load_city(city)
    st = engine.stack(
        name,
        StackSettings(model=str(city), render_dir=str(work / "render")),
        work / "state",
        project_dir=engine.scratch_project(work / "project"),
        throwaway=True,
    )
    row = {"city": name, "departments": len(m.departments), "systems": len(m.systems)}
    steps = [("preview", lambda: engine.preview(st))]
    if policy:
        steps.append(
            ("preview+policy", lambda: engine.preview(st, policy_packs=[engine.POLICY_PACK]))
        )
    steps.append(("up", lambda: engine.up(st)))
    if again:
        steps.append(("up again", lambda: engine.up(st, expect_no_changes=True)))
    for step, run in steps:
        t0 = time.perf_counter()
        result = run()
        row[step] = time.perf_counter() - t0
        row["resources"] = sum(result["changes"].values())
        print(f"  {name}: {step:<15} {row[step]:7.1f} s  {result['changes']}", flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--departments", type=int, default=1000)
    ap.add_argument("--systems", type=int, default=5000)
    ap.add_argument("--skip-sample", action="store_true")
    ap.add_argument(
        "--no-again", action="store_true", help="skip the second (no-op) up of the large city"
    )
    a = ap.parse_args()
    tools = engine.locate()
    print(
        f"Pulumi {tools.version} ({tools.pulumi}), {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        work = Path(tmp)
        if not a.skip_sample:
            rows.append(
                measure("sample", ROOT / "examples" / "sample-city", work / "sample", policy=True)
            )
        big = work / "big-city"
        synth(
            SynthSpec(
                seed=3,
                counties=2,
                townships_per=2,
                villages_per=2,
                departments=a.departments,
                systems=a.systems,
                machine_rooms=max(a.departments // 2, 1),
            ),
            big,
            history=False,
        )
        rows.append(
            measure(
                f"synthetic-{a.departments}", big, work / "big", policy=False, again=not a.no_again
            )
        )
    print()
    print(
        f"{'city':<18}{'depts':>6}{'systems':>8}{'resources':>10}{'preview s':>10}{'up s':>8}{'up again s':>11}{'ms/res (up)':>12}"
    )
    for r in rows:
        print(
            f"{r['city']:<18}{r['departments']:>6}{r['systems']:>8}{r['resources']:>10}{r['preview']:>10.1f}"
            f"{r['up']:>8.1f}{r.get('up again', float('nan')):>11.1f}{1000 * r['up'] / r['resources']:>12.1f}"
        )
    if "preview+policy" in rows[0]:
        print(
            f"sample city: preview with the policy pack {rows[0]['preview+policy']:.1f} s "
            f"(+{rows[0]['preview+policy'] - rows[0]['preview']:.1f} s)"
        )
    if len(rows) == 2:
        s, b = rows
        print(
            f"growth {b['departments']} vs {s['departments']} departments: resources ×{b['resources'] / s['resources']:.1f}, "
            f"preview ×{b['preview'] / s['preview']:.1f}, up ×{b['up'] / s['up']:.1f}"
            + (f", up again ×{b['up again'] / s['up again']:.1f}" if "up again" in b else "")
        )


if __name__ == "__main__":
    main()
