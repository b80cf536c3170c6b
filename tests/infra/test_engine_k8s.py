"""`govctl tenants up --kubeconfig` for real: the Pulumi program applied to the lab's control
planes (`govctl lab k8s up`), checked through the Kubernetes client.

A small synthetic city (6 departments, 20 systems, every cluster kind) keeps the module to
about two minutes; `bench/bench_tenants_k8s.py` applies the sample city. Checks: every tenant's
namespace, quota, limit range, network policies and role binding exist on the cluster the
plan names (and nowhere else), workloads are admitted with dual-stack Services, admission
refuses a privileged and an over-quota pod, a second `up` skips every stack and a forced one
(`--refresh`) changes nothing, `refresh` shows a manual quota change and the next `up` takes
it back (in that department's stack only), the DR drill scales a warm replica 0 → N → 0 on
its department's stack, an `up` killed half-way (SIGTERM, then SIGKILL) is carried on by the
next with no pending operation and no orphaned object, and `govctl lab k8s down` leaves
nothing running.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from govctl.app import main
from infra import conventions as cv
from infra import engine
from infra import plan as planner
from infra import stacks as st
from infra.tenant import network_policies
from lab import k8s
from model import load_city
from model.synth import SynthSpec, write
from tests.helpers import interrupt_up

pytestmark = pytest.mark.k8s
kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client, config  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402
from kubernetes.utils import parse_quantity  # noqa: E402


def _missing() -> str:
    try:
        k8s.find_binaries()
        engine.locate()
    except (k8s.LabError, engine.EngineMissing) as exc:
        return str(exc)
    return ""


MISSING = _missing()
CITY_SPEC = SynthSpec(
    seed=7, counties=1, townships_per=1, villages_per=1, departments=6, systems=20, machine_rooms=2
)


def govctl(*args: str | Path) -> tuple[int, str]:
    """Run govctl in-process; (exit code, stdout)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([str(a) for a in args])
    return code, out.getvalue()


def govctl_json(*args: str | Path) -> dict:
    code, out = govctl(*args, "--json")
    assert code == 0, out
    return json.loads(out)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The city applied to its clusters: (city model, plan, paths, first up's result)."""
    if MISSING:
        pytest.skip(MISSING)
    tmp = tmp_path_factory.mktemp("tenants-k8s")
    city_dir, lab_dir, state = tmp / "city", tmp / "lab", tmp / "state"
    write(CITY_SPEC, city_dir, history=False)
    with pytest.MonkeyPatch.context() as env:
        for name in ("NO_PROXY", "no_proxy"):  # the Kubernetes client honours proxy variables
            env.setenv(name, "127.0.0.1,localhost")
        env.setenv("PULUMI_CONFIG_PASSPHRASE", "lab-test")
        env.setattr(
            engine, "PROJECT_DIR", engine.scratch_project(tmp / "project")
        )  # no Pulumi.lab.yaml in the repo
        try:
            up = govctl_json("lab", "k8s", "up", "--city", city_dir, "--lab-dir", lab_dir)
            applied = govctl_json(
                "tenants",
                "up",
                city_dir,
                "--kubeconfig",
                up["kubeconfig"],
                "--state",
                state,
            )
            m = load_city(city_dir)
            yield {
                "model": m,
                "plan": planner.plan(m),
                "city": city_dir,
                "lab": lab_dir,
                "state": state,
                "kubeconfig": up["kubeconfig"],
                "up": up,
                "applied": applied,
            }
        finally:
            govctl("lab", "k8s", "down", "--lab-dir", lab_dir)


def api(lab, cluster: str):
    return config.new_client_from_config(config_file=lab["kubeconfig"], context=cluster)


def refused(call) -> str:
    """The API server's message when it refuses call() with 403 Forbidden."""
    with pytest.raises(ApiException) as caught:
        call()
    assert caught.value.status == 403, caught.value.body
    return json.loads(caught.value.body)["message"]


def restricted_pod(name: str, cpu: str = "100m", privileged: bool = False) -> client.V1Pod:
    """A pod that passes Pod Security `restricted` (unless privileged)."""
    amount = {"cpu": cpu, "memory": "128Mi"}
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodSpec(
            security_context=client.V1PodSecurityContext(
                run_as_non_root=True,
                run_as_user=10001,
                seccomp_profile=client.V1SeccompProfile(type="RuntimeDefault"),
            ),
            containers=[
                client.V1Container(
                    name="app",
                    image="registry.invalid/app:1",
                    resources=client.V1ResourceRequirements(requests=amount, limits=amount),
                    security_context=client.V1SecurityContext(
                        privileged=privileged or None,
                        allow_privilege_escalation=privileged,
                        capabilities=client.V1Capabilities(drop=["ALL"]),
                    ),
                )
            ],
        ),
    )


def tenants_on(lab, cluster: str) -> dict:
    return {d.slug: d for c, d in lab["plan"].tenants if c == cluster}


def test_lab_up_has_one_context_per_cluster_the_program_names(lab):
    contexts, _ = config.list_kube_config_contexts(config_file=lab["kubeconfig"])
    assert [c["name"] for c in contexts] == list(lab["plan"].clusters)
    assert Path(lab["kubeconfig"]) == lab["lab"] / "kubeconfig"
    status = govctl_json("lab", "k8s", "status", "--lab-dir", lab["lab"])
    assert all(c["healthy"] for c in status["clusters"].values()) and len(status["clusters"]) == 4
    total = lab["applied"]["total"]
    assert total["changes"]["create"] > 150 and total["changes"]["delete"] == 0
    assert total["failed"] == 0 and total["done"] == total["stacks"]


def test_every_tenant_has_its_guard_rails_on_its_cluster_and_nowhere_else(lab):
    checked = 0
    for cluster in lab["plan"].clusters:
        a = api(lab, cluster)
        core, net, rbac = (
            client.CoreV1Api(a),
            client.NetworkingV1Api(a),
            client.RbacAuthorizationV1Api(a),
        )
        expected = tenants_on(lab, cluster)
        live = {n.metadata.name: n for n in core.list_namespace(label_selector=cv.DEPARTMENT).items}
        assert set(live) == set(expected), cluster
        for slug, d in expected.items():
            assert live[slug].metadata.labels["pod-security.kubernetes.io/enforce"] == "restricted"
            assert live[slug].metadata.labels[cv.DEPARTMENT] == d.code
            hard = core.read_namespaced_resource_quota("quota", slug).spec.hard
            want = {
                "requests.cpu": cv.cpu(d.quota.cpu),
                "limits.cpu": cv.cpu(d.quota.cpu),
                "requests.memory": cv.gib(d.quota.memory_gib),
                "limits.memory": cv.gib(d.quota.memory_gib),
                "requests.storage": cv.gib(d.quota.storage_gib),
            }
            assert {k: parse_quantity(v) for k, v in hard.items()} == {
                k: parse_quantity(v) for k, v in want.items()
            }
            limit = core.read_namespaced_limit_range("limits", slug).spec.limits[0]
            assert parse_quantity(limit.max["cpu"]) == parse_quantity(cv.cpu(d.quota.cpu))
            policies = {p.metadata.name for p in net.list_namespaced_network_policy(slug).items}
            assert policies == {name for name, _ in network_policies(d, "ingress-nginx")}
            binding = rbac.read_namespaced_role_binding("tenant-admin", slug)
            assert [(s.kind, s.name) for s in binding.subjects] == [("Group", d.group)]
            assert binding.role_ref.name == "tenant-admin"
            checked += 1
    assert checked == len(lab["plan"].tenants)


def test_every_workload_is_admitted_where_the_plan_puts_it_with_dual_stack_services(lab):
    p = lab["plan"]
    for cluster in p.clusters:
        a = api(lab, cluster)
        apps, core = client.AppsV1Api(a), client.CoreV1Api(a)
        live = {
            (o.metadata.name, o.spec.replicas)
            for kind in (
                apps.list_deployment_for_all_namespaces,
                apps.list_stateful_set_for_all_namespaces,
            )
            for o in kind(label_selector=cv.SYSTEM).items
        }
        assert live == {(s.id, r) for c, s, r in p.workloads if c == cluster}, cluster
        for svc in core.list_service_for_all_namespaces(label_selector=cv.SYSTEM).items:
            assert svc.spec.ip_families == ["IPv4", "IPv6"] and len(svc.spec.cluster_ips) == 2


def test_admission_refuses_a_privileged_pod_in_a_tenant_namespace(lab):
    slug = next(iter(tenants_on(lab, "shared")))
    core = client.CoreV1Api(api(lab, "shared"))
    message = refused(
        lambda: core.create_namespaced_pod(slug, restricted_pod("root", privileged=True))
    )
    assert "violates PodSecurity" in message and "privileged" in message


def test_admission_refuses_a_pod_beyond_the_tenant_quota(lab):
    slug, d = next(iter(tenants_on(lab, "shared").items()))
    core = client.CoreV1Api(api(lab, "shared"))
    half = f"{round(d.quota.cpu * 500)}m"  # each pod within the limit range's max (= the quota)
    for i in range(3):  # the tenant's own workload pods may already use part of the quota
        try:
            core.create_namespaced_pod(slug, restricted_pod(f"half-{i}", cpu=half))
        except ApiException as exc:
            assert (
                exc.status == 403 and "exceeded quota: quota" in json.loads(exc.body)["message"]
            ), exc.body
            break
    else:
        pytest.fail(f"three pods of {half} CPU each fitted into a quota of {d.quota.cpu} CPU")


def test_a_tenant_admin_works_in_its_namespace_only_and_cannot_loosen_its_quota(lab):
    (own, d), (other, _) = list(tenants_on(lab, "shared").items())[:2]
    user = k8s.user_kubeconfig(lab["lab"] / "k8s", "shared", f"{d.slug}-admin", groups=(d.group,))
    core = client.CoreV1Api(config.new_client_from_config(config_file=str(user)))
    assert core.list_namespaced_pod(own) is not None
    refused(lambda: core.list_namespaced_pod(other))
    refused(
        lambda: core.patch_namespaced_resource_quota(
            "quota", own, {"spec": {"hard": {"requests.cpu": "999"}}}
        )
    )


def up_again(lab, *extra) -> dict:
    return govctl_json(
        "tenants",
        "up",
        lab["city"],
        "--kubeconfig",
        lab["kubeconfig"],
        "--state",
        lab["state"],
        *extra,
    )


def dept_stack(lab, slug: str) -> str:
    return st.stack_name(lab["model"], st.DEPARTMENT, slug)


def test_a_second_up_skips_every_stack_and_a_forced_one_changes_nothing(lab):
    again = up_again(lab)
    assert (
        again["total"]["skipped"] == again["total"]["stacks"] == lab["applied"]["total"]["stacks"]
    )
    forced = up_again(lab, "--refresh")
    c = forced["total"]["changes"]
    assert (c["create"], c["update"], c["delete"], c["replace"]) == (0, 0, 0, 0)
    assert c["same"] == lab["applied"]["total"]["changes"]["create"]


def test_refresh_shows_a_manual_quota_change_and_up_takes_it_back(lab):
    slug, d = next(iter(tenants_on(lab, "isolated").items()))
    core = client.CoreV1Api(api(lab, "isolated"))
    core.patch_namespaced_resource_quota("quota", slug, {"spec": {"hard": {"requests.cpu": "999"}}})
    stack = engine.open_stack(dept_stack(lab, slug), lab["state"])
    refreshed = engine.refresh(stack)
    assert refreshed["changes"]["update"] == 1
    # The state now holds the live value: the next preview names the object to take back.
    pending = engine.preview(stack)["steps"]
    assert [(s["op"], s["urn"].rsplit("::", 1)[-1]) for s in pending] == [
        ("update", f"isolated-{slug}-quota")
    ]
    restored = up_again(lab)  # the refresh was the stack's last operation: it runs again
    ran = [r["stack"] for r in restored["stacks"] if r["status"] == "done"]
    assert ran == [dept_stack(lab, slug)] and restored["total"]["changes"]["update"] == 1
    hard = core.read_namespaced_resource_quota("quota", slug).spec.hard
    assert parse_quantity(hard["requests.cpu"]) == parse_quantity(cv.cpu(d.quota.cpu))


def _replicas(lab, cluster: str, namespace: str, kind: str, name: str) -> int:
    apps = client.AppsV1Api(api(lab, cluster))
    read = (
        apps.read_namespaced_stateful_set
        if kind == "StatefulSet"
        else apps.read_namespaced_deployment
    )
    return read(name, namespace).spec.replicas


def test_dr_drill_scales_the_warm_replica_up_and_back(lab):
    p = lab["plan"]
    s = next(s for c, s, _ in p.workloads if c == p.dr_cluster)
    ns = lab["model"].departments_by_code[s.department].slug
    kind = "StatefulSet" if s.data_gib > 0 else "Deployment"
    args = (lab["city"], "--system", s.id, "--state", lab["state"])
    assert _replicas(lab, p.dr_cluster, ns, kind, s.id) == 0
    over = govctl_json("dr", "failover", *args)
    assert (over["kind"], over["replicas"], over["failover"]) == (kind, s.replicas, [s.id])
    assert over["stack"] == dept_stack(lab, ns)
    assert over["changes"]["update"] == 1
    assert _replicas(lab, p.dr_cluster, ns, kind, s.id) == s.replicas > 0
    back = govctl_json("dr", "failback", *args)
    assert back["replicas"] == 0 and back["failover"] == [] and back["changes"]["update"] == 1
    assert _replicas(lab, p.dr_cluster, ns, kind, s.id) == 0


def test_dr_drill_refuses_a_system_without_a_warm_replica(lab):
    s = next(s for _, s, _ in lab["plan"].workloads if s.dr_level < 5)
    code, _ = govctl("dr", "failover", lab["city"], "--system", s.id, "--state", lab["state"])
    assert code == 2
    slug = lab["model"].departments_by_code[s.department].slug
    assert engine.settings_of(engine.open_stack(dept_stack(lab, slug), lab["state"])).failover == (
        frozenset()
    )


LIVE_KINDS = {
    "ResourceQuota": lambda c, ns: c["core"].list_namespaced_resource_quota(ns),
    "LimitRange": lambda c, ns: c["core"].list_namespaced_limit_range(ns),
    "NetworkPolicy": lambda c, ns: c["net"].list_namespaced_network_policy(ns),
    "Role": lambda c, ns: c["rbac"].list_namespaced_role(ns),
    "RoleBinding": lambda c, ns: c["rbac"].list_namespaced_role_binding(ns),
    "Deployment": lambda c, ns: c["apps"].list_namespaced_deployment(ns),
    "StatefulSet": lambda c, ns: c["apps"].list_namespaced_stateful_set(ns),
    "Service": lambda c, ns: c["core"].list_namespaced_service(ns),
    "PersistentVolumeClaim": lambda c, ns: c["core"].list_namespaced_persistent_volume_claim(ns),
    "PodDisruptionBudget": lambda c, ns: c["policy"].list_namespaced_pod_disruption_budget(ns),
}


def live_objects(lab, cluster: str, ns: str) -> set[tuple[str, str]]:
    """(kind, name) of the objects in namespace `ns` of the kinds govcloud creates there, the
    namespace itself, and the Velero schedules that back it up."""
    a = api(lab, cluster)
    clients = {
        "core": client.CoreV1Api(a),
        "net": client.NetworkingV1Api(a),
        "rbac": client.RbacAuthorizationV1Api(a),
        "apps": client.AppsV1Api(a),
        "policy": client.PolicyV1Api(a),
    }
    out = set()
    for kind, ls in LIVE_KINDS.items():  # nothing else creates these kinds in a tenant
        out |= {(kind, o.metadata.name) for o in ls(clients, ns).items}
    if clients["core"].list_namespace(field_selector=f"metadata.name={ns}").items:
        out.add(("Namespace", ns))
    schedules = client.CustomObjectsApi(a).list_namespaced_custom_object(
        "velero.io", "v1", cv.VELERO_NAMESPACE, "schedules"
    )
    for o in schedules["items"]:
        if o["spec"]["template"]["includedNamespaces"] == [ns]:
            out.add(("Schedule", o["metadata"]["name"]))
    return out


def state_objects(lab, stack: str, cluster: str) -> set[tuple[str, str]]:
    """(kind, name) of the objects the stack's saved state holds on `cluster`; asserts that
    no operation is pending."""
    project = engine.project_name(engine.PROJECT_DIR)
    doc = json.loads((lab["state"] / ".pulumi" / "stacks" / project / f"{stack}.json").read_text())
    latest = doc["checkpoint"]["latest"]
    assert not latest.get("pending_operations"), latest.get("pending_operations")
    out = set()
    for r in latest.get("resources") or []:
        provider = (r.get("provider") or "").rsplit("::", 1)[0].rsplit("::", 1)[-1]
        if r["type"].startswith("kubernetes:") and provider == cluster:
            out.add((r["inputs"]["kind"], r["inputs"]["metadata"]["name"]))
    return out


def test_an_up_killed_half_way_is_carried_on_without_orphans(lab):
    import os
    import subprocess
    import sys
    import time

    p = lab["plan"]
    cluster = "shared"
    counts = {}
    for c, s, _ in p.workloads:
        if c == cluster:
            counts[s.department] = counts.get(s.department, 0) + 1
    code = max(counts, key=counts.get)
    slug = lab["model"].departments_by_code[code].slug
    stack = dept_stack(lab, slug)
    gone = govctl_json("tenants", "destroy", lab["city"], "--state", lab["state"], "--only", slug)
    assert gone["total"]["changes"]["delete"] > 10
    assert ("Namespace", slug) not in live_objects(lab, cluster, slug)
    program = (
        "import sys; from pathlib import Path; from infra import engine; "
        f"engine.PROJECT_DIR = Path({str(engine.PROJECT_DIR)!r}); "
        "from govctl.app import main; sys.exit(main(sys.argv[1:]))"
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            program,
            "tenants",
            "up",
            str(lab["city"]),
            "--kubeconfig",
            str(lab["kubeconfig"]),
            "--state",
            str(lab["state"]),
            "--only",
            slug,
        ],
        env={
            **os.environ,
            "PULUMI_CONFIG_PASSPHRASE": "lab-test",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        live = live_objects(lab, cluster, slug)
        if sum(1 for k, _ in live if k == "NetworkPolicy") >= 2:
            break
        time.sleep(0.1)
    assert proc.poll() is None, "the up ended before it could be interrupted"
    interrupt_up(proc, lab["state"])
    want = {
        (o.manifest["kind"], o.manifest["metadata"]["name"])
        for s in st.city_stacks(
            lab["model"], p, engine.settings_of(engine.open_stack(stack, lab["state"]))
        )
        if s.name == stack
        for u in s.units
        if u.cluster == cluster
        for o in st.objects(u)
    }
    assert 0 < len(live_objects(lab, cluster, slug)) < len(want), "stopped half-way"

    again = up_again(lab, "--only", slug)
    assert again["total"]["failed"] == 0 and again["total"]["done"] == 1
    live = live_objects(lab, cluster, slug)
    assert live == want, "every object there, none left over"
    assert state_objects(lab, stack, cluster) == live, "no orphan, nothing pending"
    assert up_again(lab, "--only", slug)["total"]["skipped"] == 1, "converged"


def test_lab_down_leaves_nothing_running(lab):
    pids = [
        p["pid"] for c in k8s.status(lab["lab"] / "k8s").values() for p in c["processes"].values()
    ]
    assert len(pids) == 12
    assert govctl_json("lab", "k8s", "down", "--lab-dir", lab["lab"])["removed"] == list(
        lab["plan"].clusters
    )
    assert not (lab["lab"] / "k8s").exists() and not Path(lab["kubeconfig"]).exists()
    assert [pid for pid in pids if Path(f"/proc/{pid}").exists()] == []
