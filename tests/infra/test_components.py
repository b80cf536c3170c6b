"""Pulumi mock unit tests for each component of infra/ (set_mocks + @pulumi.runtime.test).

Inputs are the ones the engine would receive; `Capture` is the mock monitor that records
them per provider (cluster). The last tests check that the components register exactly the
objects the plain-data render builds (`infra/build.py`, `infra/render.py`), stack by stack.
"""

from __future__ import annotations

import copy
import dataclasses
import runpy

import pulumi
import pulumi_kubernetes as k8s
import pytest

from infra import conventions as cv
from infra import encryption as enc
from infra import stacks as st
from infra.dr import BackupLocations, BackupSchedule
from infra.plan import Backup, Cluster
from infra.program import deploy
from infra.render import as_manifest, render
from infra.settings import StackSettings
from infra.storage import EncryptedStorage
from infra.tenant import DepartmentTenant
from infra.workload import DrReplica, SystemWorkload
from model import load_city
from model.schema import Department, System, Zone, ZoneKind
from tests.helpers import ROOT, system
from tests.helpers import department as dept

PROVIDER_TYPE = "pulumi:providers:kubernetes"


class Capture(pulumi.runtime.Mocks):
    """A mock engine that records Kubernetes objects by the cluster their provider targets
    (a provider reference is `<urn>::<id>`; the URN ends with the provider's name, which is
    the cluster's), and counts components."""

    def __init__(self) -> None:
        self.rendered = type("Captured", (), {})()
        self.rendered.objects = {}
        self.rendered.components = {}
        self.names: set[tuple[str, str]] = set()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        key = (args.typ, args.name)
        assert key not in self.names, f"two resources {key}"
        self.names.add(key)
        if args.typ == PROVIDER_TYPE:
            self.rendered.objects.setdefault(args.name, [])
        elif args.typ.startswith("kubernetes:"):
            cluster = args.provider.rsplit("::", 1)[0].rsplit("::", 1)[-1]
            self.rendered.objects.setdefault(cluster, []).append(as_manifest(_plain(args.inputs)))
        else:
            self.rendered.components[args.typ] = self.rendered.components.get(args.typ, 0) + 1
        return f"{args.name}-id", {}

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}, None


def _plain(value):
    """Undo the wire format: protobuf Struct numbers come back as floats."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


ZONES = {
    k: Zone(name=k, kind=ZoneKind(k), site="primary-dc", nodes=3, node_vcpu=64, node_memory_gib=256)
    for k in ("shared", "isolated", "xinchuang")
}
CLUSTERS = {k: Cluster(k, k, "primary-dc", z) for k, z in ZONES.items()} | {
    "dr-dc": Cluster("dr-dc", "dr", "dr-dc")
}


@pytest.fixture
def capture():
    cap = Capture()
    pulumi.runtime.set_mocks(cap, project="govcloud", stack="test", preview=False)
    return cap


def run(build) -> None:
    pulumi.runtime.test(lambda: (build(), pulumi.Output.from_input(True))[1])()


def provider(name: str) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(
        provider=k8s.Provider(name, render_yaml_to_directory=f"rendered/{name}")
    )


def run_workload(
    cluster: str = "shared",
    *,
    kind: type[SystemWorkload] = SystemWorkload,
    d: Department | None = None,
    scale: int | None = None,
    registry: str = "reg.example",
    **kw,
) -> System:
    """Register one system's workload (the model's `system(**kw)`) on `cluster`, at `scale`
    replicas (default: the system's own)."""
    options = {k: kw.pop(k) for k in ("storage_class", "skip_await") if k in kw}
    s = system(**kw)
    run(
        lambda: kind(
            f"{cluster}-{s.id}",
            s,
            d or dept(),
            CLUSTERS[cluster],
            replicas=s.replicas if scale is None else scale,
            registry=registry,
            **options,
            opts=provider(cluster),
        )
    )
    return s


def run_tenant(d: Department, ingress: str = "ingress-nginx", cluster: str = "shared") -> None:
    run(
        lambda: DepartmentTenant(
            f"{cluster}-{d.slug}",
            d,
            CLUSTERS[cluster],
            data_class="non_classified",
            ingress_namespace=ingress,
            opts=provider(cluster),
        )
    )


def by_kind(cap: Capture, cluster: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for o in cap.rendered.objects.get(cluster, []):
        out.setdefault(o["kind"], []).append(o)
    return out


def test_tenant_mlps3_is_hardened_and_egress_only_to_declared_prefixes(capture):
    run_tenant(dept(mlps_level=3, egress_allow=["10.20.0.0/16", "2001:db8:100::/48"]))
    objs = by_kind(capture, "shared")
    ns = objs["Namespace"][0]
    labels = ns["metadata"]["labels"]
    assert ns["metadata"]["name"] == "fgw" and "namespace" not in ns["metadata"]
    assert labels[cv.DEPARTMENT] == "FGW" and labels[cv.MLPS] == "3"
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels.items() >= cv.MLPS3_AUDIT_LABELS.items()
    hard = objs["ResourceQuota"][0]["spec"]["hard"]
    assert hard == {
        "requests.cpu": "20500m",
        "limits.cpu": "20500m",
        "requests.memory": "64Gi",
        "limits.memory": "64Gi",
        "requests.storage": "1000Gi",
    }
    lr = objs["LimitRange"][0]["spec"]["limits"][0]
    assert lr["type"] == "Container" and lr["defaultRequest"] == {
        "cpu": "100m",
        "memory": "128Mi",
        "ephemeral-storage": cv.EPHEMERAL_REQUEST,
    }
    pols = {p["metadata"]["name"]: p["spec"] for p in objs["NetworkPolicy"]}
    assert set(pols) == {
        "default-deny",
        "allow-same-namespace",
        "allow-dns",
        "allow-from-ingress",
        enc.MESH_POLICY,
        "allow-declared-egress",
    }
    assert pols["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert [p["ipBlock"]["cidr"] for p in pols["allow-declared-egress"]["egress"][0]["to"]] == [
        "10.20.0.0/16",
        "2001:db8:100::/48",
    ]
    assert pols["allow-from-ingress"]["ingress"][0]["from"][0]["namespaceSelector"][
        "matchLabels"
    ] == {"kubernetes.io/metadata.name": "ingress-nginx"}
    assert {p["protocol"] for p in pols["allow-dns"]["egress"][0]["ports"]} == {"UDP", "TCP"}
    binding = objs["RoleBinding"][0]
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "govcloud:fgw:admins"}
    ]
    assert binding["roleRef"]["name"] == objs["Role"][0]["metadata"]["name"] == "tenant-admin"
    assert all(
        o["metadata"].get("namespace") == "fgw"
        for k, v in objs.items()
        if k != "Namespace"
        for o in v
    )
    assert capture.rendered.components == {"govcloud:infra:DepartmentTenant": 1}


def test_tenant_mlps2_has_open_egress_and_no_audit_labels(capture):
    run_tenant(dept(), ingress="ingress")
    objs = by_kind(capture, "shared")
    pols = {p["metadata"]["name"]: p["spec"] for p in objs["NetworkPolicy"]}
    assert [p["ipBlock"]["cidr"] for p in pols["allow-egress"]["egress"][0]["to"]] == [
        "0.0.0.0/0",
        "::/0",
    ]
    assert cv.PREFIX + "audit" not in objs["Namespace"][0]["metadata"]["labels"]


def _pod(obj):
    return obj["spec"]["template"]["spec"]


def test_stateless_system_is_a_restricted_deployment_with_dual_stack_service(capture):
    run_workload()
    objs = by_kind(capture, "shared")
    assert "StatefulSet" not in objs
    dep = objs["Deployment"][0]
    assert dep["metadata"] == {**dep["metadata"], "name": "fgw-001", "namespace": "fgw"}
    assert dep["metadata"]["labels"][cv.SYSTEM] == "fgw-001"
    assert (
        dep["spec"]["selector"]["matchLabels"] == {cv.SYSTEM: "fgw-001"}
        and dep["spec"]["replicas"] == 1
    )
    pod = _pod(dep)
    c = pod["containers"][0]
    assert c["resources"] == {
        "requests": {"cpu": "2", "memory": "4608Mi", "ephemeral-storage": cv.EPHEMERAL_REQUEST},
        "limits": {"cpu": "2", "memory": "4608Mi", "ephemeral-storage": cv.EPHEMERAL_LIMIT},
    }
    assert c["image"] == "reg.example/fgw/fgw-001:stable" and c["imagePullPolicy"] == "Always"
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert c["resources"]["limits"]["ephemeral-storage"] == cv.EPHEMERAL_LIMIT
    assert "PodDisruptionBudget" not in objs and "topologySpreadConstraints" not in pod
    assert c["securityContext"]["allowPrivilegeEscalation"] is False and c["securityContext"][
        "capabilities"
    ] == {"drop": ["ALL"]}
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"][
        "seccompProfile"
    ] == {"type": "RuntimeDefault"}
    assert "affinity" not in pod
    svc = objs["Service"][0]["spec"]
    assert svc["ipFamilyPolicy"] == "PreferDualStack" and svc["selector"] == {cv.SYSTEM: "fgw-001"}
    pvc = objs["PersistentVolumeClaim"][0]
    assert (
        pvc["metadata"]["name"] == "fgw-001-data"
        and pvc["spec"]["resources"]["requests"]["storage"] == "100Gi"
    )
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "fgw-001-data"}} in pod[
        "volumes"
    ]


def test_system_with_data_is_a_statefulset_and_xinchuang_pins_arm64(capture):
    run_workload("xinchuang", replicas=2, data_gib=50, target_zone="xinchuang")
    objs = by_kind(capture, "xinchuang")
    assert "Deployment" not in objs
    sts = objs["StatefulSet"][0]
    assert sts["spec"]["serviceName"] == "fgw-001" and sts["spec"]["replicas"] == 2
    term = _pod(sts)["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ][0]
    assert term["matchExpressions"] == [
        {"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]}
    ]
    assert objs["PersistentVolumeClaim"][0]["spec"]["accessModes"] == ["ReadWriteMany"]
    anti = _pod(sts)["affinity"]["podAntiAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"
    ]
    assert anti[0]["podAffinityTerm"]["labelSelector"] == {"matchLabels": {cv.SYSTEM: "fgw-001"}}
    spread = _pod(sts)["topologySpreadConstraints"][0]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone" and spread["maxSkew"] == 1
    pdb = objs["PodDisruptionBudget"][0]
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": {cv.SYSTEM: "fgw-001"}}}
    assert pdb["metadata"]["namespace"] == "fgw"


def test_an_image_digest_from_the_model_pins_the_image(capture):
    digest = "sha256:" + "ab" * 32
    run_workload(registry="r", image_digest=digest, health_path="/-/live", ready_path="/-/ready")
    c = _pod(by_kind(capture, "shared")["Deployment"][0])["containers"][0]
    assert c["image"] == f"r/fgw/fgw-001@{digest}"
    assert c["livenessProbe"]["httpGet"]["path"] == "/-/live"
    assert c["readinessProbe"]["httpGet"]["path"] == "/-/ready"


def test_dr_replica_is_labelled_and_scaled_as_told(capture):
    run_workload("dr-dc", kind=DrReplica, scale=0, data_gib=10, dr_level=5)
    sts = by_kind(capture, "dr-dc")["StatefulSet"][0]
    assert sts["spec"]["replicas"] == 0
    assert (
        sts["metadata"]["labels"][cv.ROLE] == "dr-replica"
        and sts["metadata"]["labels"][cv.ZONE_KIND] == "dr"
    )
    assert capture.rendered.components == {"govcloud:infra:DrReplica": 1}


def test_backup_schedule_and_locations_are_velero_objects(capture):
    b = Backup(
        "fgw-001-rpo", "shared", "FGW", "fgw", "dr-dc-shared", "17 */12 * * *", 168, "fgw-001"
    )

    def build():
        opts = provider("shared")
        BackupLocations(
            "shared-backup-locations",
            {"dr-dc-shared": ("govcloud-shared", "dr-dc", "https://s3.dr", False)},
            opts=opts,
        )
        BackupSchedule("shared-fgw-001-rpo", b, opts=opts)

    run(build)
    objs = by_kind(capture, "shared")
    sched = objs["Schedule"][0]
    assert sched["apiVersion"] == "velero.io/v1" and sched["metadata"] == {
        **sched["metadata"],
        "name": "fgw-001-rpo",
        "namespace": "velero",
    }
    assert sched["spec"]["schedule"] == "17 */12 * * *"
    tpl = sched["spec"]["template"]
    assert (
        tpl["includedNamespaces"] == ["fgw"]
        and tpl["storageLocation"] == "dr-dc-shared"
        and tpl["ttl"] == "168h0m0s"
    )
    assert tpl["labelSelector"] == {"matchLabels": {cv.SYSTEM: "fgw-001"}}
    bsl = objs["BackupStorageLocation"][0]
    assert (
        bsl["metadata"]["name"] == "dr-dc-shared"
        and bsl["spec"]["objectStorage"]["bucket"] == "govcloud-shared"
    )
    assert bsl["spec"]["accessMode"] == "ReadWrite"


def test_children_are_parented_to_their_component(capture):
    seen = []

    def build():
        t = DepartmentTenant(
            "shared-fgw",
            dept(),
            CLUSTERS["shared"],
            data_class="non_classified",
            ingress_namespace="i",
            opts=provider("shared"),
        )
        return t.namespace.apply(seen.append)

    pulumi.runtime.test(build)()
    assert seen == ["fgw"]
    urns = list(pulumi.runtime.settings.get_monitor().resources)
    k8s_urns = [u for u in urns if "$kubernetes:" in u]
    assert len(k8s_urns) == 11
    assert all("::govcloud:infra:DepartmentTenant$kubernetes:" in u for u in k8s_urns)


def test_the_pulumi_entry_point_reads_config_once_and_exports_outputs(capture, small_city):
    pulumi.runtime.set_all_config(
        {"govcloud:model": str(small_city), "govcloud:wave": "1", "govcloud:registry": "reg.test"}
    )
    exported = {}
    real_export = pulumi.export

    def main():
        pulumi.export = lambda k, v: exported.__setitem__(k, v)
        try:
            runpy.run_path(str(ROOT / "infra" / "__main__.py"), run_name="__main__")
        finally:
            pulumi.export = real_export
        return pulumi.Output.from_input(True)

    try:
        pulumi.runtime.test(main)()
    finally:
        pulumi.runtime.set_all_config({})
    assert exported["wave"] == 1 and 0 <= exported["adoption_rate"] <= 1
    assert set(capture.rendered.objects) >= {"shared", "isolated", "xinchuang", "dr-dc"}
    images = [
        c["image"]
        for objs in capture.rendered.objects.values()
        for o in objs
        if o["kind"] in ("Deployment", "StatefulSet")
        for c in _pod(o)["containers"]
    ]
    assert images and all(i.startswith("reg.test/") for i in images)


@pytest.mark.parametrize("skip_await", [False, True])
def test_skip_await_marks_what_waits_for_nodes_only_when_asked(capture, skip_await):
    run_workload(skip_await=skip_await)
    objs = by_kind(capture, "shared")
    for kind in ("Deployment", "PersistentVolumeClaim", "Service"):
        annotations = objs[kind][0]["metadata"].get("annotations") or {}
        assert (annotations.get("pulumi.com/skipAwait") == "true") is skip_await, kind


def test_tenant_guard_rails_are_platform_owned_and_workloads_are_not(capture):
    def build():
        on_shared = provider("shared")
        DepartmentTenant(
            "shared-fgw",
            dept(),
            CLUSTERS["shared"],
            data_class="non_classified",
            ingress_namespace="ingress-nginx",
            opts=on_shared,
        )
        SystemWorkload(
            "shared-fgw-001",
            system(),
            dept(),
            CLUSTERS["shared"],
            replicas=1,
            registry="reg.example",
            opts=on_shared,
        )

    run(build)
    objs = by_kind(capture, "shared")
    forced = {
        k
        for k, v in objs.items()
        for o in v
        if o["metadata"].get("annotations", {}).get("pulumi.com/patchForce")
    }
    assert forced == {
        "Namespace",
        "ResourceQuota",
        "LimitRange",
        "NetworkPolicy",
        "Role",
        "RoleBinding",
    }


# --- encryption (infra/encryption.py, GB/T 39786 via model/cryptolevels.py) ----------------


def test_every_tenant_is_meshed_with_mtls_only_inbound_traffic(capture):
    run_tenant(dept())  # level 2: meshed too, or a level-3 server would refuse its calls
    objs = by_kind(capture, "shared")
    ns = objs["Namespace"][0]
    assert enc.meshed(ns) and ns["metadata"]["annotations"]["linkerd.io/inject"] == "enabled"
    mesh = next(p for p in objs["NetworkPolicy"] if p["metadata"]["name"] == enc.MESH_POLICY)
    rule = mesh["spec"]["egress"][0]
    assert rule["to"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": enc.MESH_NAMESPACE
    }
    assert {p["port"] for p in rule["ports"]} == set(enc.MESH_CONTROL_PORTS)


@pytest.mark.parametrize(
    "mlps, classification, encrypted",
    [
        (3, "non_classified", True),
        (None, "non_classified", True),
        (2, "sensitive", True),
        (2, "non_classified", False),
    ],
)
def test_a_volume_is_encrypted_when_the_systems_level_requires_it(
    capture, mlps, classification, encrypted
):
    # (None: ungraded, held to its level-3 department's level)
    zone = "isolated" if classification == "sensitive" else "shared"
    run_workload(
        zone,
        d=dept(mlps_level=3 if mlps is None else 2),
        storage_class="fast",
        mlps_level=mlps,
        classification=classification,
        target_zone=zone,
    )
    pvc = by_kind(capture, zone)["PersistentVolumeClaim"][0]
    want = enc.storage_class_name(zone) if encrypted else "fast"
    assert pvc["spec"]["storageClassName"] == want


def test_the_encrypted_class_names_its_key_secret_and_holds_no_key(capture):
    run(
        lambda: EncryptedStorage("shared-encrypted-storage", CLUSTERS["shared"], provider("shared"))
    )
    (sc,) = by_kind(capture, "shared")["StorageClass"]
    assert sc["metadata"]["name"] == "encrypted-shared" and "namespace" not in sc["metadata"]
    assert sc["provisioner"] == enc.VOLUME_PROVISIONER
    assert enc.volume_key_ref(sc) == (enc.VOLUME_KEY_NAMESPACE, "volume-key-shared")
    assert not {k for k in sc["parameters"] if "CRYPTO" in k.upper()}, "no key material"
    broken = {**sc, "parameters": dict(sc["parameters"])}
    del broken["parameters"]["csi.storage.k8s.io/node-stage-secret-name"]
    assert enc.volume_key_ref(broken) is None, "a role without its Secret cannot unlock"
    assert (
        enc.volume_key_ref({**sc, "parameters": {**sc["parameters"], "encrypted": "false"}}) is None
    )


def test_every_backup_location_encrypts_with_its_sites_key(capture):
    run(
        lambda: BackupLocations(
            "shared-backup-locations",
            {
                "offsite-backup": ("govcloud-shared", "offsite", "https://s3.offsite", False),
                "dr-dc-shared": ("govcloud-shared", "dr-dc", "https://s3.dr", False),
            },
            opts=provider("shared"),
        )
    )
    locations = {
        o["metadata"]["name"]: o for o in by_kind(capture, "shared")["BackupStorageLocation"]
    }
    assert enc.backup_key_ref(locations["offsite-backup"]) == (enc.BACKUP_KEY_SECRET, "offsite")
    assert enc.backup_key_ref(locations["dr-dc-shared"]) == (enc.BACKUP_KEY_SECRET, "dr-dc")
    moved = copy.deepcopy(locations["dr-dc-shared"])
    moved["spec"]["config"]["customerKeyEncryptionFile"] = "/elsewhere/key"
    assert enc.backup_key_ref(moved) is None, "the key file must be the named Secret's item"


def _by_ident(objects: dict[str, list[dict]]) -> dict[tuple, dict]:
    out = {}
    for cluster, objs in objects.items():
        for o in objs:
            md = o["metadata"]
            key = (cluster, o["apiVersion"], o["kind"], md.get("namespace"), md["name"])
            assert key not in out, key
            out[key] = o
    return out


def test_the_program_registers_what_the_render_builds_for_the_whole_city(capture, small_city):
    m = load_city(small_city)
    settings = StackSettings(model=str(small_city), wave=2)
    run(lambda: deploy(m, settings))
    built = render(m, settings)
    assert _by_ident(capture.rendered.objects) == _by_ident(built.objects)
    assert capture.rendered.components == built.components


@pytest.mark.parametrize("which", ["platform", "department"])
def test_a_scoped_stack_registers_only_its_part(capture, small_city, which):
    m = load_city(small_city)
    settings = StackSettings(model=str(small_city), wave=2)
    from infra import plan as planner

    stacks = st.city_stacks(m, planner.plan(m, 2), settings)
    stack = max((s for s in stacks if s.kind == which), key=lambda s: len(s.units))
    run(lambda: deploy(m, dataclasses.replace(settings, scope=stack.scope)))
    want: dict[str, list[dict]] = {}
    for u in stack.units:
        want.setdefault(u.cluster, []).extend(as_manifest(o.manifest) for o in st.objects(u))
    got = {c: v for c, v in capture.rendered.objects.items() if v}
    assert _by_ident(got) == _by_ident(want) and want
    assert set(capture.rendered.objects) == set(stack.clusters), "one provider per cluster used"
