"""Benchmark: IPv6 rollout of the 15-node namespace lab — Ansible forks 1 vs 15, Ansible vs `govctl net push`.

Brings up its own lab (in a temporary lab directory), then for each run resets every device
to its IPv4-only boot config and rolls out from scratch:
  ansible-playbook ipv6_rollout.yml --forks 1 | --forks 15 | govctl net push --workers 1 | --workers 15
and prints wall and CPU times, the two ratios the issue sets goals for (forks 15 ≥ 5× faster
than forks 1; Ansible ≤ 1.5× the direct path), and per-device push times by level (connect,
backup, push, save — without the post-check's wait for OSPFv3), for the rollout simulation.
`push_rerun_15` runs `govctl net push --workers 15` again right after, without a reset: the
re-run that must report `changed=0` everywhere (it fails the benchmark when not).
`--runs` picks some of the runs (a ratio is printed when both of its runs are picked), e.g.
`--platforms mixed --runs ansible_forks_15,push_workers_15,push_rerun_15` for Ansible vs the
direct path on the mixed lab of vendor twins.

Beside the forks ratio it prints the bound a level-by-level rollout puts on it: with enough
workers a level takes as long as its slowest device, so serial / parallel time is at most
Σ_levels Σ_devices t / Σ_levels max t — a mean of the level sizes 1, 2, 4, 8 weighted by
each level's slowest device: 15 / 4 = 3.75× when every device takes the same time. The direct
path with 1 vs 15 workers shows that bound without Ansible's per-device cost (a worker fork
and a module process that imports Netmiko; one SSH login, as on the direct path), and the
CPU seconds show when a run is CPU-bound. The lab runs OSPFv3
with 1 s hello / 4 s dead / 1 s retransmit (`lab.extranet.OSPF_TIMERS`), so a post-check waits
a second or two, not FRR's default 10 s hello.
Needs root, FRR and sshd; says so and exits 0 otherwise. The lab is always torn down.

    .venv/bin/python bench/bench_rollout.py [--topology 2x2x2] [--platforms frr|mixed] [--runs A,B] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lab import extranet, topology  # noqa: E402
from model import load_city  # noqa: E402
from network import driver  # noqa: E402
from playbooks import inventory as inv  # noqa: E402

BIN = Path(sys.executable).parent


def snapshot(topo, hosts: dict) -> dict[str, str]:
    """Every device's running config as the lab booted it (before any rollout)."""

    def one(node):
        with driver.session(target(hosts[node.name])) as conn:
            return node.name, driver.running_config(conn, platform(hosts[node.name]))

    with ThreadPoolExecutor(16) as pool:
        return dict(pool.map(one, topo.nodes))


def reset(topo, hosts: dict, boot: dict[str, str]) -> None:
    """Every device back to its IPv4-only boot config (through the driver's restore)."""

    def one(node):
        h = hosts[node.name]
        with driver.session(target(h)) as conn:
            done = driver.restore(conn, boot[node.name], platform(h))
        if not done["restored"]:
            raise SystemExit(f"reset of {node.name} failed")

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(one, topo.nodes))
    time.sleep(1)  # let OSPFv3 state on the neighbours drain


def platform(h: dict) -> str:
    return h.get("platform_variant") or h["platform"]


def target(h: dict) -> driver.Target:
    return driver.Target(
        h["name"],
        h["ansible_host"],
        platform(h),
        h["net_username"],
        key_file=h["net_key_file"],
        known_hosts=h["net_known_hosts"],
    )


def ansible(inventory: Path, forks: int) -> float:
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "playbooks" / "ansible.cfg")}
    t = time.monotonic()
    proc = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            str(inventory),
            "--forks",
            str(forks),
            str(REPO / "playbooks" / "ipv6_rollout.yml"),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    took = time.monotonic() - t
    if proc.returncode != 0:
        raise SystemExit(
            f"ansible-playbook --forks {forks} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}"
        )
    return took


def push(inventory: Path, workers: int) -> tuple[float, list[dict]]:
    t = time.monotonic()
    proc = subprocess.run(
        [
            str(BIN / "govctl"),
            "net",
            "push",
            "-i",
            str(inventory),
            "--workers",
            str(workers),
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    took = time.monotonic() - t
    if proc.returncode != 0:
        raise SystemExit(f"govctl net push failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    return took, json.loads(proc.stdout)["results"]


RUNS = ("ansible_forks_1", "ansible_forks_15", "push_workers_1", "push_workers_15", "push_rerun_15")
"""Every run, in the order they are made; all but the re-run start from the boot configs."""


def ratio(times: dict[str, float], slow: str, fast: str) -> float | None:
    return round(times[slow] / times[fast], 2) if slow in times and fast in times else None


def level_bound(levels: list[list[float]]) -> float:
    """Serial / parallel time of a level-by-level rollout with unlimited workers and CPUs:
    every device one after another, versus each level as long as its slowest device."""
    return sum(map(sum, levels)) / sum(map(max, levels))


def cpu_seconds() -> float:
    """CPU time (user + system) of the finished child processes: ansible-playbook and its
    workers and modules, or govctl. The lab's sshd/vtysh are not our children: not counted."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--topology", default=topology.DEFAULT_SPEC)
    ap.add_argument(
        "--platforms", default="frr", choices=topology.PLATFORM_MIXES, help="mixed: vendor twins"
    )
    ap.add_argument("--runs", default=",".join(RUNS), help=f"some of {', '.join(RUNS)}")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    runs = [r for r in RUNS if r in args.runs.split(",")]
    unknown = set(args.runs.split(",")) - set(RUNS)
    if unknown or not runs:
        ap.error(f"--runs: unknown {', '.join(sorted(unknown)) or 'nothing picked'}")
    reasons = extranet.missing_prerequisites()
    if reasons:
        print(f"bench_rollout: skipped — {'; '.join(reasons)}")
        return 0
    topo = topology.build(
        load_city(REPO / "examples" / "sample-city"), args.topology, args.platforms
    )
    (REPO / ".lab").mkdir(exist_ok=True)
    lab_dir = Path(tempfile.mkdtemp(prefix="bench-rollout-", dir=REPO / ".lab"))
    load_before = os.getloadavg()[0]
    try:
        extranet.up(topo, lab_dir, args.topology, "examples/sample-city")
        extranet.prepare(topo, lab_dir)
        inventory = lab_dir / "inventory.yml"
        hosts = {h["name"]: h for h in inv.hosts(inv.load(inventory))}
        boot = snapshot(topo, hosts)
        times: dict[str, float] = {}
        cpu: dict[str, float] = {}
        per_device: list[dict] = []
        make = {
            "ansible_forks_1": lambda: ansible(inventory, 1),
            "ansible_forks_15": lambda: ansible(inventory, 15),
            "push_workers_1": lambda: push(inventory, 1),
            "push_workers_15": lambda: push(inventory, 15),
            "push_rerun_15": lambda: push(inventory, 15),
        }
        for name in runs:
            if name != "push_rerun_15":
                reset(topo, hosts, boot)
            before = cpu_seconds()
            out = make[name]()
            cpu[name] = cpu_seconds() - before
            times[name], results = out if isinstance(out, tuple) else (out, None)
            if name == "push_rerun_15":
                changed = sorted(r["hostname"] for r in results or [] if r["changed"])
                if changed:
                    raise SystemExit(f"the re-run changed {', '.join(changed)} (want changed=0)")
            elif results is not None:
                per_device = results
            print(f"{name:18s} {times[name]:7.1f} s  ({cpu[name]:.1f} CPU s)", file=sys.stderr)
    finally:
        extranet.down(lab_dir)
        shutil.rmtree(lab_dir, ignore_errors=True)
    levels = {n.name: n.level for n in topo.nodes}
    by_level: dict[str, list[float]] = {}
    checks: dict[str, list[float]] = {}
    totals: dict[str, list[float]] = {}
    for r in per_device:
        by_level.setdefault(levels[r["hostname"]], []).append(r["push_seconds"])
        checks.setdefault(levels[r["hostname"]], []).append(r["seconds"] - r["push_seconds"])
        totals.setdefault(levels[r["hostname"]], []).append(r["seconds"])
    plat = {n.name: n.platform for n in topo.nodes}
    by_platform: dict[str, dict[str, list[float]]] = {}
    for r in per_device:
        row = by_platform.setdefault(plat[r["hostname"]], {"push": [], "postcheck": []})
        row["push"].append(r["push_seconds"])
        row["postcheck"].append(r["seconds"] - r["push_seconds"])
    sizes = [len(v) for v in totals.values()]
    ncpu = len(os.sched_getaffinity(0))
    report = {
        "schema_version": 1,
        "platforms": args.platforms,
        "nodes": len(topo.nodes),
        "cpus": ncpu,
        "load_average": {"before": round(load_before, 1), "after": round(os.getloadavg()[0], 1)},
        "seconds": {k: round(v, 1) for k, v in times.items()},
        "cpu_seconds": {k: round(v, 1) for k, v in cpu.items()},
        "forks_speedup": ratio(times, "ansible_forks_1", "ansible_forks_15"),
        "workers_speedup_direct": ratio(times, "push_workers_1", "push_workers_15"),
        "forks_speedup_bound": {
            "equal_device_times": round(sum(sizes) / len(sizes), 2) if sizes else None,
            "measured_device_times": round(level_bound(list(totals.values())), 2)
            if totals
            else None,
        },
        "ansible_forks_15_cpu_floor_seconds": round(cpu["ansible_forks_15"] / ncpu, 1)
        if "ansible_forks_15" in cpu
        else None,
        "ansible_over_direct": ratio(times, "ansible_forks_15", "push_workers_15"),
        "push_seconds_by_level": {
            lv: {"mean": round(statistics.mean(v), 2), "max": round(max(v), 2)}
            for lv, v in by_level.items()
        },
        "postcheck_seconds_by_level": {
            lv: {"mean": round(statistics.mean(v), 2), "max": round(max(v), 2)}
            for lv, v in checks.items()
        },
        "seconds_by_platform": {
            p: {k: round(statistics.mean(v), 2) for k, v in row.items()}
            | {"devices": len(row["push"])}
            for p, row in sorted(by_platform.items())
        },
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    bound = report["forks_speedup_bound"]
    print(
        f"{report['nodes']}-node lab, {ncpu} CPUs, load average {report['load_average']['before']} → "
        f"{report['load_average']['after']} (other work on the machine)"
    )
    for k, v in report["seconds"].items():
        print(f"  {k:18s} {v:7.1f} s   {report['cpu_seconds'][k]:6.1f} CPU s")
    if report["forks_speedup"] is not None:
        print(f"forks 15 vs forks 1:        {report['forks_speedup']:.2f}x faster  (goal >= 5x)")
        direct = report["workers_speedup_direct"]
        print(
            f"  bound of a level-by-level rollout ({' + '.join(map(str, sizes))} devices): "
            f"{bound['measured_device_times']:.2f}x from this run's per-device times, {bound['equal_device_times']:.2f}x "
            "with equal times; the same rollout through the direct path: "
            + (f"{direct:.2f}x (1 vs 15 workers)" if direct is not None else "not run")
        )
    if report["ansible_forks_15_cpu_floor_seconds"] is not None:
        print(
            f"  CPU floor of forks 15: {report['cpu_seconds']['ansible_forks_15']:.0f} CPU s / {ncpu} CPUs = "
            f"{report['ansible_forks_15_cpu_floor_seconds']:.0f} s"
        )
    if report["ansible_over_direct"] is not None:
        print(
            f"Ansible (forks 15) vs govctl net push (15 workers): {report['seconds']['ansible_forks_15']:.1f} s vs "
            f"{report['seconds']['push_workers_15']:.1f} s = {report['ansible_over_direct']:.2f}x the time (goal <= 1.5x)"
        )
    if "push_rerun_15" in times:
        print(f"re-run of govctl net push (changed=0 everywhere): {times['push_rerun_15']:.1f} s")
    print(
        "per device, seconds: push (connect, backup, push, save) | post-check (OSPFv3 Full, ping6)"
    )
    for lv, v in report["push_seconds_by_level"].items():
        c = report["postcheck_seconds_by_level"][lv]
        print(
            f"  {lv:9s} mean {v['mean']:.2f}  max {v['max']:.2f} | mean {c['mean']:.2f}  max {c['max']:.2f}"
        )
    print("per platform, mean seconds: push | post-check")
    for p, row in report["seconds_by_platform"].items():
        print(f"  {p:13s} {row['push']:.2f} | {row['postcheck']:.2f}   ({row['devices']} devices)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
