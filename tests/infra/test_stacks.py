"""infra/stacks.py: the city split into platform and department stacks, and the inputs hash
that lets an unchanged stack be skipped (plain data, no engine)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from infra import plan as planner
from infra import stacks as st
from infra.render import render
from infra.settings import ClusterConfig, StackSettings
from model import load_city
from tests.helpers import SAMPLE_CITY, edit_yaml

SETTINGS = StackSettings(model=str(SAMPLE_CITY), render_dir="/r")


def split(m, settings=SETTINGS):
    return st.city_stacks(m, planner.plan(m, settings.wave, settings.failover), settings)


def test_one_platform_stack_per_cluster_and_one_stack_per_department(city):
    stacks = split(city)
    p = planner.plan(city)
    platform = [s for s in stacks if s.kind == st.PLATFORM]
    depts = [s for s in stacks if s.kind == st.DEPARTMENT]
    assert [s.key for s in platform] == list(p.clusters) and stacks[: len(platform)] == platform
    assert sorted(s.key for s in depts) == sorted(d.slug for d in city.departments)
    prefix = st.city_slug(city)
    assert {s.name for s in depts} == {f"{prefix}-{d.slug}" for d in city.departments}
    assert all(s.name == f"{prefix}-platform.{s.key}" for s in platform)
    assert len({s.name for s in stacks}) == len(stacks)


def test_every_object_of_the_city_is_in_exactly_one_stack_and_departments_own_theirs(city):
    seen = {}
    for s in split(city):
        for u in s.units:
            for o in st.objects(u):
                key = (u.cluster, *o.ident)
                assert key not in seen, (key, seen.get(key), s.name)
                seen[key] = s
                ns = o.manifest["metadata"].get("namespace")
                if s.kind == st.DEPARTMENT:
                    owner = (
                        o.manifest["spec"]["template"]["includedNamespaces"]
                        if (o.manifest["kind"] == "Schedule")
                        else [ns or o.manifest["metadata"]["name"]]
                    )
                    assert owner == [s.key], (s.name, o.ident)
                else:
                    assert o.manifest["kind"] in {"BackupStorageLocation", "StorageClass"}
    rendered = render(city, SETTINGS)
    assert len(seen) == sum(len(v) for v in rendered.objects.values())


def test_a_department_stack_spans_its_home_cluster_and_the_dr_cluster(city):
    p = planner.plan(city)
    warm = next(s for c, s, _ in p.workloads if c == p.dr_cluster)
    dept = city.departments_by_code[warm.department]
    stack = next(s for s in split(city) if s.key == dept.slug)
    assert p.dr_cluster in stack.clusters and dept.zone in stack.clusters


def test_unknown_scope_is_refused(city):
    with pytest.raises(planner.PlacementError, match="names no stack"):
        st.select(split(city), "department/nope")
    assert [s.scope for s in st.select(split(city), "platform/shared")] == ["platform/shared"]


def hashes(m, settings=SETTINGS) -> dict[str, str]:
    return {s.name: st.inputs_hash(s, settings) for s in split(m, settings)}


def test_changing_one_department_changes_only_its_stacks_hash(small_city):
    before = hashes(load_city(small_city))
    m = load_city(small_city)
    code = m.departments[0].code

    def bump(data):
        d = next(x for x in data["departments"] if x["code"] == code)
        d["quota"]["cpu"] = d["quota"]["cpu"] + 1

    edit_yaml(small_city, "departments.yaml", bump)
    after = hashes(load_city(small_city))
    changed = {n for n in before if before[n] != after[n]}
    assert changed == {st.stack_name(m, st.DEPARTMENT, m.departments[0].slug)}


def test_settings_that_reach_every_object_change_every_department_hash(small_city):
    m = load_city(small_city)
    before = hashes(m)
    other = hashes(m, dataclasses.replace(SETTINGS, registry="harbor.example"))
    depts = {s.name for s in split(m) if s.kind == st.DEPARTMENT}
    assert {n for n in before if before[n] != other[n]} == depts
    moved = hashes(m, dataclasses.replace(SETTINGS, render_dir="/elsewhere"))
    assert all(before[n] != moved[n] for n in before), "a new render target re-runs everything"


def test_a_new_kubeconfig_for_the_same_context_is_a_new_target(tmp_path, small_city):
    m = load_city(small_city)
    kube = tmp_path / "kubeconfig"
    kube.write_text("clusters: [a]\n")
    clusters = {c: ClusterConfig(context=c, kubeconfig=str(kube)) for c in planner.plan(m).clusters}
    s = StackSettings(model=str(small_city), clusters=clusters)
    first = hashes(m, s)
    assert first == hashes(m, s), "the hash is stable"
    kube.write_text("clusters: [b]\n")  # the lab was brought up again: new certificates
    assert all(first[n] != h for n, h in hashes(m, s).items())


def test_stack_outputs_count_the_stacks_part(city):
    stack = max(split(city), key=lambda s: len(s.units))
    out = st.stack_outputs(city, stack, SETTINGS)
    assert out["stack"] == stack.name and out["scope"] == stack.scope
    assert out["inputs_hash"] == st.inputs_hash(stack, SETTINGS)
    workloads = sum(1 for u in stack.units if u.type in (st.WORKLOAD, st.REPLICA))
    assert sum(c["workloads"] for c in out["clusters"].values()) == workloads > 0


def test_stack_names_start_with_the_city_slug_else_its_code(city, small_city):
    assert city.city.slug == "ganjiang"  # the sample city's city.yaml
    assert split(city)[0].name == "ganjiang-platform.shared"
    assert st.stack_name(city, st.DEPARTMENT, "fgw") == "ganjiang-fgw"
    edit_yaml(small_city, "city.yaml", lambda d: d["city"].pop("slug", None))
    bare = load_city(small_city)
    assert st.city_slug(bare) == f"city{bare.city.code}"


def test_a_city_slug_that_is_no_dns_label_is_refused_with_its_line(small_city):
    from model import InvalidModel

    edit_yaml(small_city, "city.yaml", lambda d: d["city"].update(slug="Gan.Jiang"))
    with pytest.raises(InvalidModel) as info:
        load_city(small_city)
    (e,) = [e for e in info.value.errors if e.field.endswith("slug")]
    assert Path(e.path).name == "city.yaml" and e.line > 0 and "pattern" in e.message
