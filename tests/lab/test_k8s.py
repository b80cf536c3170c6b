"""The local Kubernetes lab (lab/k8s.py) against a real kube-apiserver.

Department tenants rely on the API server refusing what a tenant may not do: PodSecurity,
ResourceQuota (kept current by the controller manager), LimitRange defaults and namespaced
RBAC. These tests check that the lab's control plane really enforces them, and that the lab
starts idempotently and leaves nothing behind.
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest

from lab import k8s

try:
    k8s.find_binaries()
    MISSING = ""
except k8s.LabError as missing:
    MISSING = str(missing)  # e.g. "missing binaries: kube-apiserver, ...; run `make tools` ..."
needs_binaries = pytest.mark.skipif(bool(MISSING), reason=MISSING)
pytestmark = pytest.mark.k8s
kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client, config  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

CLUSTER = "shared"
PINNED = dict(
    line.split("=", 1)
    for line in (Path(k8s.REPO) / "tools/kube/version.env").read_text().splitlines()
    if "=" in line and not line.startswith("#")
)["KUBE_VERSION"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if MISSING:
        pytest.skip(MISSING)
    state_dir = tmp_path_factory.mktemp("k8s")
    kubeconfig = state_dir.parent / f"{state_dir.name}.kubeconfig"  # outside, as .lab/kubeconfig is
    with pytest.MonkeyPatch.context() as env:
        for name in ("NO_PROXY", "no_proxy"):  # the client honours proxy variables
            env.setenv(name, "127.0.0.1,localhost")
        try:
            yield state_dir, k8s.up(state_dir, [CLUSTER], kubeconfig=kubeconfig)
        finally:
            k8s.down(state_dir)


@pytest.fixture(scope="module")
def admin(lab):
    state_dir, info = lab
    return config.new_client_from_config(config_file=info["kubeconfig"], context=CLUSTER)


def eventually(check, timeout=30.0, what="condition"):
    """Retry check() until it returns a truthy value (controllers and caches lag a little)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except ApiException:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def namespace(api, name, labels=None):
    """A fresh namespace, once its default service account exists (pods need it)."""
    core = client.CoreV1Api(api)
    core.create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels=labels))
    )
    eventually(lambda: core.read_namespaced_service_account("default", name), what="default SA")
    return name


def pod(name, resources=None, security=None, pod_security=None):
    container = client.V1Container(
        name="app", image="registry.invalid/app:1", resources=resources, security_context=security
    )
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodSpec(containers=[container], security_context=pod_security),
    )


def refused(call) -> str:
    """The API server's message when it refuses call() with 403 Forbidden."""
    with pytest.raises(ApiException) as caught:
        call()
    assert caught.value.status == 403, caught.value.body
    return json.loads(caught.value.body)["message"]


def test_up_without_binaries_says_to_run_make_tools(tmp_path, monkeypatch):
    monkeypatch.setattr(k8s, "TOOLS_BIN", tmp_path / "empty")
    with pytest.raises(k8s.LabError, match=r"kube-apiserver.*make tools"):
        k8s.up(tmp_path / "state", [CLUSTER])
    assert not (tmp_path / "state").exists()


@needs_binaries
def test_up_refuses_busy_ports(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        try:
            with pytest.raises(k8s.LabError, match=f"ports busy: 127.0.0.1:{port}"):
                k8s.up(tmp_path / "state", [CLUSTER], base_port=port)
        finally:
            k8s.down(tmp_path / "state")
    assert not (tmp_path / "state").exists()


def test_up_reports_a_healthy_cluster_at_the_pinned_version(lab, admin):
    state_dir, info = lab
    started = info["clusters"][CLUSTER]
    assert started["started"] and started["startup_seconds"] > 0
    assert started["server"].startswith("https://127.0.0.1:")
    report = k8s.status(state_dir)[CLUSTER]
    assert report["healthy"], report
    assert all(p["alive"] for p in report["processes"].values())
    assert client.VersionApi(admin).get_code().git_version == PINNED
    contexts, _ = config.list_kube_config_contexts(config_file=info["kubeconfig"])
    assert [c["name"] for c in contexts] == [CLUSTER]


def test_up_again_leaves_the_running_cluster_alone(lab):
    state_dir, _ = lab
    before = k8s.status(state_dir)[CLUSTER]["processes"]
    again = k8s.up(state_dir, [CLUSTER])
    assert again["clusters"][CLUSTER]["started"] is False
    assert k8s.status(state_dir)[CLUSTER]["processes"] == before


def test_restricted_namespace_refuses_a_privileged_pod(admin):
    ns = namespace(admin, "psa-restricted", {"pod-security.kubernetes.io/enforce": "restricted"})
    core = client.CoreV1Api(admin)
    privileged = pod("privileged", security=client.V1SecurityContext(privileged=True))
    message = refused(lambda: core.create_namespaced_pod(ns, privileged))
    assert "violates PodSecurity" in message
    compliant = pod(
        "compliant",
        security=client.V1SecurityContext(
            allow_privilege_escalation=False, capabilities=client.V1Capabilities(drop=["ALL"])
        ),
        pod_security=client.V1PodSecurityContext(
            run_as_non_root=True,
            run_as_user=1000,
            seccomp_profile=client.V1SeccompProfile(type="RuntimeDefault"),
        ),
    )
    core.create_namespaced_pod(ns, compliant)


def test_resource_quota_refuses_an_over_quota_pod(admin):
    ns = namespace(admin, "quota")
    core = client.CoreV1Api(admin)
    core.create_namespaced_resource_quota(
        ns,
        client.V1ResourceQuota(
            metadata=client.V1ObjectMeta(name="tenant"),
            spec=client.V1ResourceQuotaSpec(hard={"pods": "2", "requests.cpu": "1"}),
        ),
    )
    # Admission refuses everything until the controller manager has computed the status.
    eventually(
        lambda: core.read_namespaced_resource_quota("tenant", ns).status.hard,
        what="quota status from kube-controller-manager",
    )
    half = client.V1ResourceRequirements(requests={"cpu": "500m"}, limits={"cpu": "500m"})
    core.create_namespaced_pod(ns, pod("fits", resources=half))
    too_big = client.V1ResourceRequirements(requests={"cpu": "2"}, limits={"cpu": "2"})
    message = refused(lambda: core.create_namespaced_pod(ns, pod("too-big", resources=too_big)))
    assert "exceeded quota" in message
    core.create_namespaced_pod(ns, pod("fits-too", resources=half))
    message = refused(lambda: core.create_namespaced_pod(ns, pod("third", resources=half)))
    assert "exceeded quota" in message


def test_limit_range_fills_container_defaults(admin):
    ns = namespace(admin, "limits")
    core = client.CoreV1Api(admin)
    core.create_namespaced_limit_range(
        ns,
        client.V1LimitRange(
            metadata=client.V1ObjectMeta(name="defaults"),
            spec=client.V1LimitRangeSpec(
                limits=[
                    client.V1LimitRangeItem(
                        type="Container",
                        default={"cpu": "500m", "memory": "256Mi"},
                        default_request={"cpu": "100m", "memory": "64Mi"},
                    )
                ]
            ),
        ),
    )
    created = core.create_namespaced_pod(ns, pod("bare"))
    resources = created.spec.containers[0].resources
    assert resources.limits == {"cpu": "500m", "memory": "256Mi"}
    assert resources.requests == {"cpu": "100m", "memory": "64Mi"}


def test_a_user_with_a_namespaced_role_cannot_list_another_namespace(lab, admin):
    state_dir, _ = lab
    own, other = namespace(admin, "dept-a"), namespace(admin, "dept-b")
    rbac = client.RbacAuthorizationV1Api(admin)
    rbac.create_namespaced_role(
        own,
        client.V1Role(
            metadata=client.V1ObjectMeta(name="reader"),
            rules=[client.V1PolicyRule(api_groups=[""], resources=["pods"], verbs=["get", "list"])],
        ),
    )
    rbac.create_namespaced_role_binding(
        own,
        client.V1RoleBinding(
            metadata=client.V1ObjectMeta(name="alice-reads"),
            role_ref=client.V1RoleRef(
                api_group="rbac.authorization.k8s.io", kind="Role", name="reader"
            ),
            subjects=[
                client.RbacV1Subject(
                    api_group="rbac.authorization.k8s.io", kind="User", name="alice"
                )
            ],
        ),
    )
    kubeconfig = k8s.user_kubeconfig(state_dir, CLUSTER, "alice", groups=("dept-a",))
    alice = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))
    eventually(lambda: alice.list_namespaced_pod(own) is not None, what="alice's Role to apply")
    message = refused(lambda: alice.list_namespaced_pod(other))
    assert 'User "alice" cannot list resource "pods"' in message
    refused(lambda: alice.list_pod_for_all_namespaces())


def test_up_restarts_a_cluster_whose_process_died(lab, admin):
    state_dir, _ = lab
    client.CoreV1Api(admin).create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name="before-restart"))
    )
    before = k8s.status(state_dir)[CLUSTER]
    os.kill(before["processes"]["kube-controller-manager"]["pid"], signal.SIGKILL)
    eventually(lambda: not k8s.status(state_dir)[CLUSTER]["healthy"], what="the cluster to degrade")
    again = k8s.up(state_dir, [CLUSTER])
    assert again["clusters"][CLUSTER]["started"] is True
    after = k8s.status(state_dir)[CLUSTER]
    assert after["healthy"] and after["ports"] == before["ports"]
    # Same etcd data: what was created before the restart is still there.
    client.CoreV1Api(admin).read_namespace("before-restart")


def test_services_get_an_address_of_each_family_from_the_lab_ranges(admin):
    ns = namespace(admin, "dual-stack")
    service = client.CoreV1Api(admin).create_namespaced_service(
        ns,
        client.V1Service(
            metadata=client.V1ObjectMeta(name="web"),
            spec=client.V1ServiceSpec(
                ip_family_policy="PreferDualStack",
                selector={"app": "web"},
                ports=[client.V1ServicePort(port=80)],
            ),
        ),
    )
    assert service.spec.ip_families == ["IPv4", "IPv6"]
    ranges = [ipaddress.ip_network(c) for c in k8s.SERVICE_CIDRS]
    for address, lab_range in zip(service.spec.cluster_ips, ranges, strict=True):
        assert ipaddress.ip_address(address) in lab_range
    assert ranges[0].subnet_of(ipaddress.ip_network("198.18.0.0/15"))
    assert ranges[1].subnet_of(ipaddress.ip_network("fd00::/8"))


def test_the_platform_crds_are_served_and_prune_unknown_fields(admin):
    custom = client.CustomObjectsApi(admin)
    schedule = {
        "apiVersion": "velero.io/v1",
        "kind": "Schedule",
        "metadata": {"name": "nightly"},
        "spec": {"schedule": "0 1 * * *", "template": {"ttl": "720h0m0s", "noSuchField": True}},
    }
    created = custom.create_namespaced_custom_object(
        "velero.io", "v1", "velero", "schedules", schedule
    )
    assert created["spec"]["template"] == {"ttl": "720h0m0s"}
    with pytest.raises(ApiException) as caught:  # required fields are enforced
        custom.create_namespaced_custom_object(
            "velero.io",
            "v1",
            "velero",
            "backupstoragelocations",
            {
                "apiVersion": "velero.io/v1",
                "kind": "BackupStorageLocation",
                "metadata": {"name": "x"},
                "spec": {"provider": "aws"},
            },
        )
    assert caught.value.status == 422 and "objectStorage" in caught.value.body


def test_down_leaves_no_process_and_no_data(lab):
    state_dir, info = lab
    pids = [p["pid"] for p in k8s.status(state_dir)[CLUSTER]["processes"].values()]
    assert Path(info["kubeconfig"]).exists()
    assert k8s.down(state_dir) == [CLUSTER]
    assert not state_dir.exists() and not Path(info["kubeconfig"]).exists()
    assert k8s.status(state_dir) == {}
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists()
