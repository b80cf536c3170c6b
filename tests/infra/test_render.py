"""`govctl tenants render` end to end: the sample city's objects, schema-valid, placed right,
within quota, passing the policy pack; and the CLI's flags and exit codes."""

from __future__ import annotations

import copy
import json
from collections import defaultdict

import kubernetes_validate
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govctl.app import main
from infra import conventions as cv
from infra import plan as planner
from infra.policy import offline
from infra.render import block_yaml, render, write
from infra.settings import StackSettings
from tests.helpers import SAMPLE_CITY

K8S_VERSION = "1.30"
VELERO_FIELDS = {  # the velero.io/v1 fields govcloud sets (Velero 1.10+ CRDs)
    "Schedule": {"schedule", "template", "useOwnerReferencesInBackup"},
    "BackupStorageLocation": {
        "provider",
        "objectStorage",
        "config",
        "accessMode",
        "credential",
        "default",
    },
}
CLUSTER_SCOPED = {"Namespace", "StorageClass"}
BACKUP_SPEC = {
    "includedNamespaces",
    "labelSelector",
    "includeClusterResources",
    "storageLocation",
    "snapshotVolumes",
    "defaultVolumesToFsBackup",
    "ttl",
}


def warm_standby(city) -> str:
    """A non-classified system with a warm DR replica (level 5–6) on the shared cluster."""
    return next(
        s.id
        for s in city.on_cloud_systems()
        if s.dr_level >= 5
        and s.target_zone == "shared"
        and s.classification.value == "non_classified"
        and s.data_gib > 0
    )


@pytest.fixture(scope="module")
def rendered(city):
    last = max(s.wave for s in city.systems if s.wave is not None)
    settings = StackSettings(
        model=str(SAMPLE_CITY), wave=last, failover=frozenset({warm_standby(city)})
    )
    return render(city, settings), planner.plan(city, last, settings.failover)


def all_objects(r):
    return [(c, o) for c, objs in r.objects.items() for o in objs]


def test_every_object_is_valid_kubernetes_1_30(rendered):
    r, _ = rendered
    builtin = 0
    for _cluster, o in all_objects(r):
        if o["apiVersion"] == "velero.io/v1":
            assert set(o["spec"]) <= VELERO_FIELDS[o["kind"]], o["metadata"]["name"]
            if o["kind"] == "Schedule":
                assert set(o["spec"]["template"]) <= BACKUP_SPEC
            continue
        kubernetes_validate.validate(o, K8S_VERSION, strict=True)  # raises with the failing path
        builtin += 1
    assert builtin > 1500


def test_objects_have_explicit_names_and_namespaces(rendered, city):
    r, _ = rendered
    standby = warm_standby(city)
    for cluster, o in all_objects(r):
        md = o["metadata"]
        assert md["name"] and (o["kind"] in CLUSTER_SCOPED) == ("namespace" not in md), (
            cluster,
            o["kind"],
            md,
        )
    names = {(c, o["kind"], o["metadata"]["name"]) for c, o in all_objects(r)}
    dept = city.departments_by_code[city.systems_by_id[standby].department].slug
    assert ("shared", "StatefulSet", standby) in names and ("shared", "Namespace", dept) in names


def test_velero_references_resolve_within_their_cluster(rendered):
    r, p = rendered
    for _cluster, objs in r.objects.items():
        namespaces = {o["metadata"]["name"] for o in objs if o["kind"] == "Namespace"}
        locations = {o["metadata"]["name"] for o in objs if o["kind"] == "BackupStorageLocation"}
        for o in objs:
            if o["kind"] == "Schedule":
                t = o["spec"]["template"]
                assert (
                    t["storageLocation"] in locations and set(t["includedNamespaces"]) <= namespaces
                )
    dr_locations = {
        o["metadata"]["name"]: o["spec"]
        for o in r.objects[p.dr_cluster]
        if o["kind"] == "BackupStorageLocation"
    }
    for zone_cluster in ("shared", "isolated", "xinchuang"):
        loc = planner.dr_location(p.dr_site, zone_cluster)
        assert dr_locations[loc]["accessMode"] == "ReadOnly"
        writer = next(o["spec"] for o in r.objects[zone_cluster] if o["metadata"]["name"] == loc)
        assert (
            writer["objectStorage"] == dr_locations[loc]["objectStorage"]
            and writer["accessMode"] == "ReadWrite"
        )


def test_every_planned_workload_is_in_its_cluster(rendered, city):
    r, p = rendered
    workloads = {
        (c, o["metadata"]["labels"][cv.SYSTEM]): o
        for c, o in all_objects(r)
        if o["kind"] in ("Deployment", "StatefulSet")
    }
    assert len(workloads) == len(p.workloads)
    for cluster, s, replicas in p.workloads:
        o = workloads[(cluster, s.id)]
        assert o["kind"] == ("StatefulSet" if s.data_gib > 0 else "Deployment")
        assert (
            o["spec"]["replicas"] == replicas
            and o["metadata"]["namespace"] == city.departments_by_code[s.department].slug
        )
        affinity = o["spec"]["template"]["spec"].get("affinity") or {}
        # a xinchuang system keeps its arch wherever it runs: its zone and the DR cluster
        assert ("nodeAffinity" in affinity) == (s.id in p.arches)
        if "nodeAffinity" in affinity:
            terms = affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
            assert terms["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == ["arm64"]
    standby = warm_standby(city)
    assert (
        workloads[(p.dr_cluster, standby)]["spec"]["replicas"]
        == city.systems_by_id[standby].replicas
    )
    last = max(s.wave for s in city.systems if s.wave is not None)
    assert {s.id for _, s, _ in p.workloads} == {s.id for s in city.on_cloud_systems(last)}


def _quantity(q: str) -> float:
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    for suffix, f in units.items():
        if q.endswith(suffix):
            return float(q[: -len(suffix)]) * f
    return float(q)


def test_workloads_fit_their_tenants_quota(rendered):
    r, _ = rendered
    for cluster, objs in r.objects.items():
        used: dict[tuple, float] = defaultdict(float)
        hard = {}
        for o in objs:
            ns = o["metadata"].get("namespace")
            if o["kind"] == "ResourceQuota":
                hard[ns] = o["spec"]["hard"]
            elif o["kind"] in ("Deployment", "StatefulSet"):
                for c in o["spec"]["template"]["spec"]["containers"]:
                    for res in ("cpu", "memory"):
                        used[(ns, f"requests.{res}")] += _quantity(
                            c["resources"]["requests"][res]
                        ) * max(o["spec"]["replicas"], 1)
            elif o["kind"] == "PersistentVolumeClaim":
                used[(ns, "requests.storage")] += _quantity(
                    o["spec"]["resources"]["requests"]["storage"]
                )
        assert used
        for (ns, key), amount in used.items():
            assert amount <= _quantity(hard[ns][key]) + 1e-6, (cluster, ns, key)


def test_rendered_stack_passes_the_policy_pack(rendered):
    r, _ = rendered
    assert offline.check(r.objects) == []
    sensitive = [
        o
        for _, o in all_objects(r)
        if o["metadata"].get("labels", {}).get(cv.DATA_CLASS) == "sensitive"
    ]
    assert sensitive, "the sample city has sensitive objects the policy looked at"


def test_policy_check_catches_a_privileged_container(rendered):
    r, _ = rendered
    objects = copy.deepcopy(r.objects)
    workload = next(o for o in objects["shared"] if o["kind"] in ("Deployment", "StatefulSet"))
    workload["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True
    found = offline.check(objects)
    assert [v.policy for v in found] == ["no-privileged-containers"]
    assert workload["metadata"]["name"] in found[0].resource


def test_outputs_report_kpis(rendered, city):
    r, p = rendered
    o = r.outputs
    assert o["schema_version"] == 1 and o["adoption_target"] == 0.8
    assert o["systems_per_zone"] == {
        z: sum(1 for c, _, _ in p.workloads if c == z) for z in city.zones
    }
    assert o["dr"]["warm_replicas"] == sum(1 for c, _, _ in p.workloads if c == p.dr_cluster)
    assert set(o["blocking_systems"]).isdisjoint({s.id for _, s, _ in p.workloads})


def test_write_round_trips_and_is_all_or_nothing(rendered, tmp_path):
    r, _ = rendered
    out = tmp_path / "out"
    n = write(r, out)
    assert n == sum(len(v) for v in r.objects.values())
    back = defaultdict(list)
    for f in out.glob("*/*.yaml"):
        back[f.parent.name].extend(yaml.safe_load_all(f.read_text(encoding="utf-8")))
    key = lambda o: (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])  # noqa: E731
    for cluster, objs in r.objects.items():
        assert sorted(back[cluster], key=key) == sorted(objs, key=key)
    assert json.loads((out / "outputs.json").read_text())["wave"] == r.outputs["wave"]
    assert sorted(p.name for p in out.iterdir()) == [
        "dr-dc",
        "isolated",
        "outputs.json",
        "shared",
        "xinchuang",
    ]
    assert not list(tmp_path.glob(".out.staging-*"))


def test_cli_render_small_city(small_city, tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        main(
            [
                "tenants",
                "render",
                str(small_city),
                "--out",
                str(out),
                "--wave",
                "1",
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] == 1 and data["wave"] == 1
    assert (out / "shared" / "00-cluster.yaml").exists()


def test_cli_refuses_unknown_failover_and_writes_nothing(small_city, tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        main(["tenants", "render", str(small_city), "--out", str(out), "--failover", "nope-001"])
        == 2
    )
    assert "nope-001" in capsys.readouterr().err and not out.exists()


def test_cli_bad_model_exit_2(tmp_path, capsys):
    assert main(["tenants", "render", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert "not a directory" in capsys.readouterr().err


_scalars = (
    st.text(max_size=12)
    | st.sampled_from(
        [
            "yes",
            "No",
            "on",
            "null",
            "~",
            "1Gi",
            "0x1F",
            "1e3",
            ".inf",
            "12:30",
            "-x",
            "a: b",
            "#c",
            "/healthz",
            "2001-12-14",
        ]
    )
    | st.integers(-(10**12), 10**12)
    | st.booleans()
    | st.none()
)
_docs = st.recursive(
    _scalars,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=25,
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.dictionaries(st.text(max_size=8), _docs, max_size=5))
def test_block_yaml_reads_back_as_the_same_data(doc):
    assert yaml.safe_load(block_yaml(doc)) == doc


def test_every_rendered_object_reads_back_from_its_yaml(rendered):
    r, _ = rendered
    for _cluster, o in all_objects(r):
        assert yaml.safe_load(block_yaml(o)) == o
