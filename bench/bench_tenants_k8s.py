"""Benchmark: the tenants applied to the lab's Kubernetes control planes, for real (issue 9).

Prints, in one run on fresh control planes (`govctl lab k8s up` in a temporary lab dir):
cluster startup (all four side by side), then for the test city (the synthetic city of
tests/infra/test_engine_k8s.py) and the sample city: `govctl tenants up --kubeconfig` (first
apply), a second `up` (no changes), `pulumi refresh` after a manual quota change, the `up`
that takes it back, `govctl dr failover` and `failback` of one warm replica, and `destroy`.
Each figure is the wall time of the command as a user runs it (in-process `govctl`), the
policy pack included where `tenants up` runs it.

    .venv/bin/python bench/bench_tenants_k8s.py [--skip-sample]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from govctl.app import main as govctl_main  # noqa: E402
from infra import engine  # noqa: E402
from infra import plan as planner  # noqa: E402
from infra import stacks as st  # noqa: E402
from lab import k8s  # noqa: E402
from model import load_city  # noqa: E402
from model.synth import SynthSpec, write  # noqa: E402

TEST_CITY = SynthSpec(
    seed=7, counties=1, townships_per=1, villages_per=1, departments=6, systems=20, machine_rooms=2
)


def govctl(*args) -> tuple[dict, float]:
    out = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = govctl_main([str(a) for a in (*args, "--json")])
    seconds = time.perf_counter() - t0
    if code != 0:
        raise SystemExit(f"govctl {' '.join(map(str, args))} failed (exit {code})")
    return json.loads(out.getvalue()), seconds


def row(what: str, seconds: float, detail: str = "") -> None:
    print(f"  {what:<34} {seconds:7.1f} s  {detail}", flush=True)


def drill(city: Path, kubeconfig: str, state: Path) -> None:
    m = load_city(city)
    p = planner.plan(m)
    up = ("tenants", "up", city, "--kubeconfig", kubeconfig, "--state", state)
    result, s = govctl(*up)
    t = result["total"]
    resources = t["changes"]["create"]
    one = sorted(r["seconds"] for r in result["stacks"] if r["kind"] == "department")
    row(
        "tenants up (first apply)",
        s,
        f"{resources} resources in {t['stacks']} stacks, {len(p.tenants)} tenants, "
        f"{len(p.workloads)} workloads; {resources / s:.1f} resources/s; one department stack "
        f"{one[len(one) // 2]:.1f} s (median)",
    )
    result, s = govctl(*up)
    row("second up (unchanged: skipped)", s, f"skipped {result['total']['skipped']} stacks")
    result, s = govctl(*up, "--refresh")
    row("up --refresh (every stack runs)", s, f"changes {result['total']['changes']}")

    slug, cluster = next((d.slug, c) for c, d in p.tenants if p.clusters[c].kind != "dr")
    contexts = {"config_file": kubeconfig, "context": cluster}
    from kubernetes import client, config

    core = client.CoreV1Api(config.new_client_from_config(**contexts))
    core.patch_namespaced_resource_quota("quota", slug, {"spec": {"hard": {"requests.cpu": "999"}}})
    stack = engine.open_stack(st.stack_name(m, st.DEPARTMENT, slug), state)
    t0 = time.perf_counter()
    refreshed = engine.refresh(stack)
    row(
        "refresh of one stack after a quota edit",
        time.perf_counter() - t0,
        f"changes {refreshed['changes']}",
    )
    result, s = govctl(*up)
    row("up taking the drift back", s, f"changes {result['total']['changes']}")

    warm = next(s for c, s, _ in p.workloads if c == p.dr_cluster)
    args = (city, "--system", warm.id, "--state", state)
    result, s = govctl("dr", "failover", *args)
    row(f"dr failover {warm.id}", s, f"{result['kind']} → {result['replicas']} replicas")
    result, s = govctl("dr", "failback", *args)
    row(f"dr failback {warm.id}", s, f"→ {result['replicas']} replicas")
    result, s = govctl("tenants", "destroy", city, "--state", state, "--rm")
    row("destroy", s, f"{result['total']['changes']['delete']} deleted")


def run(skip_sample: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="govcloud-bench-k8s-") as tmp:
        tmp = Path(tmp)
        os.environ.setdefault("PULUMI_CONFIG_PASSPHRASE", "bench")
        for name in ("NO_PROXY", "no_proxy"):
            os.environ[name] = "127.0.0.1,localhost"
        engine.PROJECT_DIR = engine.scratch_project(tmp / "project")
        test_city = tmp / "test-city"
        write(TEST_CITY, test_city, history=False)
        lab = tmp / "lab"
        try:
            result, s = govctl("lab", "k8s", "up", "--city", test_city, "--lab-dir", lab)
            row(
                "lab k8s up (4 control planes)",
                s,
                "per cluster "
                + ", ".join(f"{n} {c['startup_seconds']} s" for n, c in result["clusters"].items()),
            )
            print("test city (6 departments, 20 systems):")
            drill(test_city, result["kubeconfig"], tmp / "state-test")
            if not skip_sample:
                print("sample city (45 departments, 400 systems):")
                drill(ROOT / "examples" / "sample-city", result["kubeconfig"], tmp / "state-sample")
        finally:
            t0 = time.perf_counter()
            k8s.down(lab / "k8s")
            row("lab k8s down", time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-sample", action="store_true", help="only the small test city")
    a = ap.parse_args()
    try:
        k8s.find_binaries()
        engine.locate()
    except (k8s.LabError, engine.EngineMissing) as exc:
        raise SystemExit(f"cannot run: {exc}") from None
    run(a.skip_sample)


if __name__ == "__main__":
    main()
