"""Benchmark of the IPv6 plan and the config renderer on a ~20,000-village synthetic city.

Prints: model load, plan (fresh), lock write and read, re-plan after adding one village
(with the number of moved prefixes), render of every device on 2 worker processes, and the
peak memory of the parent and of the workers. Targets (issue 5): plan ≤ 3 s, render ≤ 60 s on
2 cores, re-plan after one new village ≤ 3 s with 0 moved prefixes.

    .venv/bin/python bench/bench_ipv6.py [--counties 100 --townships-per 15 --villages-per 13]
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

from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402

from model import load_city  # noqa: E402
from model.schema import Village  # noqa: E402
from model.synth import SynthSpec, write  # noqa: E402
from network.lock import load_lock, write_lock  # noqa: E402
from network.plan import plan_city  # noqa: E402
from network.render import render_all  # noqa: E402

console = Console(highlight=False)


def timed(label: str, fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    dt = time.perf_counter() - t0
    console.print(f"  {label:<44} {dt:8.2f} s")
    return out, dt


def moved(old, new) -> int:
    """Prefixes of the old lock that the new lock holds elsewhere (or dropped)."""
    n = sum(
        1
        for c, e in old.sites.items()
        if (c not in new.sites or (new.sites[c].net, new.sites[c].length) != (e.net, e.length))
    )
    n += sum(
        1
        for h, d in old.loopbacks.items()
        if h not in new.loopbacks or new.loopbacks[h].addr != d.addr
    )
    n += sum(1 for k, ln in old.links.items() if k not in new.links or new.links[k].net != ln.net)
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--counties", type=int, default=100)
    ap.add_argument("--townships-per", type=int, default=15)
    ap.add_argument("--villages-per", type=int, default=13)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-ipv6-") as tmp:
        tmp = Path(tmp)
        spec = SynthSpec(
            seed=1,
            counties=args.counties,
            townships_per=args.townships_per,
            villages_per=args.villages_per,
            departments=20,
            systems=100,
            machine_rooms=5,
        )
        console.print(
            f"[bold]IPv6 benchmark[/]: {args.counties * args.townships_per * args.villages_per:,} villages, "
            f"{os.cpu_count()} CPUs visible, load average {os.getloadavg()[0]:.1f}"
        )
        timed("generate the synthetic city", write, spec, tmp / "city", history=False)
        model, results["load"] = timed("load and validate the model", load_city, tmp / "city")
        devices = len(model.devices_by_hostname)
        plan, results["plan"] = timed("plan (fresh, no lock)", plan_city, model)
        lock_path = tmp / "ipam.lock.yaml"
        _, results["write_lock"] = timed("write the lock", write_lock, lock_path, plan.lock)
        lock, results["read_lock"] = timed("read the lock", load_lock, lock_path)

        town = model.network.counties[0].townships[0]
        last = max(int(v.code[9:]) for v in town.villages)
        town.villages.append(
            Village(code=f"{town.code[:9]}{last + 1:03d}", name="新增村", devices=[])
        )
        for cached in ("sites_by_code", "devices_by_hostname"):
            model.__dict__.pop(cached, None)
        t0 = time.perf_counter()
        again = plan_city(model, lock=load_lock(lock_path))
        write_lock(lock_path, again.lock)
        results["replan"] = time.perf_counter() - t0
        console.print(
            f"  {'re-plan after adding one village (read+plan+write)':<44} {results['replan']:8.2f} s"
        )
        results["moved"] = moved(plan.lock, again.lock)
        results["new"] = again.new

        out = tmp / "configs"
        columns = (
            TextColumn("  rendering"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("render", total=devices)
            t0 = time.perf_counter()
            render_all(
                model, again, out, workers=args.workers, progress=lambda k: bar.advance(task, k)
            )
            results["render"] = time.perf_counter() - t0
        console.print(
            f"  {f'render {devices:,} devices ({args.workers} workers)':<44} {results['render']:8.2f} s"
        )
        files = sum(1 for _ in out.iterdir())
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    console.print(
        f"  peak memory: parent {parent:,.0f} MiB, largest worker {children:,.0f} MiB; {files:,} files written"
    )
    checks = [
        ("plan ≤ 3 s", results["plan"] <= 3),
        ("render ≤ 60 s", results["render"] <= 60),
        ("re-plan ≤ 3 s", results["replan"] <= 3),
        ("0 moved prefixes", results["moved"] == 0),
        ("the new village got its block", results["new"] == 1),
    ]
    console.print(
        "  "
        + ", ".join(f"{name}: {'[green]yes[/]' if ok else '[red]no[/]'}" for name, ok in checks)
    )
    console.print(f"  moved prefixes after adding one village: {results['moved']}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
