"""infra/build.py: the objects every system gets for a hardening scan to pass, and the scan.

The scan is checkov's Kubernetes framework (an independent tool, run as its own command from
`.venv-scan`, which `make setup` creates, or from PATH) over the rendered sample city: every
check passes — no skip list is needed. A stripped workload shows the same scan does fail.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from infra import build
from infra import plan as planner
from infra.render import render, write
from infra.settings import StackSettings
from tests.helpers import ROOT, SAMPLE_CITY, department, system


def _checkov() -> str | None:
    local = ROOT / ".venv-scan" / "bin" / "checkov"
    return str(local) if local.is_file() else shutil.which("checkov")


CHECKOV = _checkov()
needs_checkov = pytest.mark.skipif(
    CHECKOV is None, reason="checkov not installed (make scanner: .venv-scan/bin/checkov)"
)


def scan(directory: Path) -> dict:
    """checkov over a directory of manifests, offline; its JSON report."""
    done = subprocess.run(
        [
            CHECKOV,
            "-d",
            str(directory),
            "--framework",
            "kubernetes",
            "-o",
            "json",
            "--quiet",
            "--skip-download",
            "--compact",
        ],
        capture_output=True,
        text=True,
        timeout=1200,
        env={"PATH": "/usr/bin:/bin", "BC_SKIP_MAPPING": "TRUE", "HOME": str(directory)},
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]  # 1: some check failed
    report = json.loads(done.stdout)
    return report[0] if isinstance(report, list) else report


def failures(report: dict) -> set[tuple[str, str]]:
    return {(f["check_id"], f["resource"]) for f in report["results"]["failed_checks"]}


@needs_checkov
def test_the_rendered_sample_city_passes_checkov(city, tmp_path):
    last = max(s.wave for s in city.systems if s.wave is not None)
    rendered = render(city, StackSettings(model=str(SAMPLE_CITY), wave=last))
    write(rendered, tmp_path / "out")
    report = scan(tmp_path / "out")
    assert failures(report) == set()
    s = report["summary"]
    assert s["parsing_errors"] == 0 and s["passed"] > 10_000
    workloads = sum(
        1 for objs in rendered.objects.values() for o in objs if o["kind"] == "StatefulSet"
    )
    assert s["resource_count"] >= workloads > 50


@needs_checkov
def test_checkov_fails_a_workload_without_probes_or_digest(city, tmp_path):
    s = next(s for s in city.on_cloud_systems() if s.data_gib > 0 and s.image_digest)
    d = city.departments_by_code[s.department]
    p = planner.plan(city)
    home = p.clusters[s.target_zone]
    sts = next(
        o
        for o in build.workload("x", s, d, home, replicas=1, registry="r")
        if o.manifest["kind"] == "StatefulSet"
    ).manifest
    bare = json.loads(json.dumps(sts))
    c = bare["spec"]["template"]["spec"]["containers"][0]
    for key in ("livenessProbe", "readinessProbe", "startupProbe", "imagePullPolicy"):
        c.pop(key)
    c["image"] = c["image"].split("@")[0] + ":stable"
    (tmp_path / "m").mkdir()
    tenant = build.tenant("t", d, home, data_class="non_classified", ingress_namespace="i")
    for i, o in enumerate([*tenant, sts]):
        (tmp_path / "m" / f"{i}.json").write_text(json.dumps(o.manifest if i < len(tenant) else o))
    assert failures(scan(tmp_path / "m")) == set(), "the workload as built passes"
    bare["metadata"]["name"] = "bare"
    (tmp_path / "m" / "bare.json").write_text(json.dumps(bare))
    found = failures(scan(tmp_path / "m"))
    assert {"CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_43"} <= {check for check, _ in found}
    assert all(".bare" in resource for _, resource in found), found


def test_replicated_systems_get_a_budget_spread_and_anti_affinity(city):
    p = planner.plan(city)
    for cluster, s, replicas in p.workloads:
        objs = build.workload(
            "x",
            s,
            city.departments_by_code[s.department],
            p.clusters[cluster],
            replicas=replicas,
            registry="r",
        )
        kinds = [o.manifest["kind"] for o in objs]
        pod = next(o for o in objs if o.manifest["kind"] in ("Deployment", "StatefulSet")).manifest[
            "spec"
        ]["template"]["spec"]
        assert ("PodDisruptionBudget" in kinds) == (s.replicas > 1), s.id
        assert ("topologySpreadConstraints" in pod) == (s.replicas > 1), s.id
        assert ("podAntiAffinity" in (pod.get("affinity") or {})) == (s.replicas > 1), s.id
        c = pod["containers"][0]
        assert c["resources"]["limits"]["ephemeral-storage"] and c["livenessProbe"]


def test_every_sample_system_on_the_cloud_is_pinned_by_digest(city):
    for s in city.on_cloud_systems(max(x.wave for x in city.systems if x.wave is not None)):
        img = build.image("r", city.departments_by_code[s.department], s)
        assert "@sha256:" in img, s.id


def test_without_a_digest_the_stable_tag_is_pulled_every_time():
    assert build.image("r", department(), system()) == "r/fgw/fgw-001:stable"
