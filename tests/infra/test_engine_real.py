"""The real Pulumi engine on the govcloud stacks (marker `engine`; `make tools` builds it).

- plain `pulumi` from a copy of the repository root with the committed `Pulumi.sample.yaml`
  (one department's stack): `stack init`, `preview --policy-pack infra/policy`, `up`; what
  the provider writes equals the plain-data render of that stack;
- `govctl tenants up|destroy` on a small synthetic city, stack by stack with checkpoints on:
  the engine's objects equal the render's; a second `up` runs no stack; one department
  changed runs only its stack; a department removed from the model loses its stack; plain
  `pulumi -s <stack> preview` sees no change; destroy removes every file;
- an `up` killed half-way (SIGTERM, then SIGKILL, to its whole process group) is followed by
  an `up` that converges: no pending operation in any state, every rendered file is an
  object of some stack's state and the other way round;
- the policy pack blocks a sensitive system on the shared cluster (a crafted stack: see
  `tests/engine_programs/misplaced_sensitive/__main__.py` for why).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from govctl.app import main
from infra import engine
from infra import plan as planner
from infra import stacks as st
from infra.render import as_manifest, render
from infra.settings import StackSettings
from model import load_city
from tests.helpers import ROOT, SAMPLE_CITY, edit_yaml, interrupt_up


def _missing() -> str | None:
    try:
        engine.locate()
    except engine.EngineMissing as exc:
        return str(exc)
    return None


pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(_missing() is not None, reason=f"real Pulumi engine: {_missing()}"),
]

PASSPHRASE = "engine-tests-only"
CRAFTED = ROOT / "tests" / "engine_programs" / "misplaced_sensitive"


def index(objects: dict[str, list[dict]]) -> dict[tuple, dict]:
    """Objects by (cluster, apiVersion, kind, namespace, name): the layouts differ, the objects must not."""
    out = {}
    for cluster, objs in objects.items():
        for o in objs:
            key = (
                cluster,
                o["apiVersion"],
                o["kind"],
                o["metadata"].get("namespace"),
                o["metadata"]["name"],
            )
            assert key not in out, key
            out[key] = as_manifest(o)
    return out


def files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def passphrase(monkeypatch):
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", PASSPHRASE)


@pytest.fixture
def scratch(tmp_path, monkeypatch, passphrase) -> Path:
    """Stacks made by the CLI land in a scratch project, not in the repository root."""
    project = engine.scratch_project(tmp_path / "project")
    monkeypatch.setattr(engine, "PROJECT_DIR", project)
    return project


def govctl_json(*args) -> dict:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([str(a) for a in (*args, "--json")])
    assert code == 0, out.getvalue()[-3000:]
    return json.loads(out.getvalue())


# --- plain pulumi, one stack of the sample city ------------------------------------------------


def test_plain_pulumi_runs_the_committed_sample_stack(tmp_path, city):
    """What a cloud administrator does (infra/README.md), in a copy of the repository root."""
    proj = tmp_path / "repo"
    proj.mkdir()
    for name in ("infra", "examples", ".venv", "model", "capacity", "simulate"):
        (proj / name).symlink_to(ROOT / name)
    for name in ("Pulumi.yaml", "Pulumi.sample.yaml"):
        shutil.copy(ROOT / name, proj / name)
    env = {
        **os.environ,
        "PATH": f"{engine.locate().pulumi.parent}{os.pathsep}{os.environ['PATH']}",
        "PULUMI_HOME": str(tmp_path / "home"),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    }
    env.pop("PULUMI_BACKEND_URL", None)
    env.pop("PULUMI_SKIP_CHECKPOINTS", None)

    def pulumi(*args: str) -> str:
        done = subprocess.run(
            ["pulumi", *args], cwd=proj, env=env, capture_output=True, text=True, timeout=900
        )
        assert done.returncode == 0, (
            f"pulumi {' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
        return done.stdout

    (tmp_path / "state").mkdir()
    pulumi("login", (tmp_path / "state").as_uri())
    pulumi("stack", "init", "sample")
    preview = pulumi("preview", "--policy-pack", "infra/policy", "--suppress-progress")
    assert "govcloud@" in preview and "✅" in preview, "the policy pack ran and passed"
    pulumi("up", "--yes", "--skip-preview", "--suppress-progress")
    outputs = json.loads(pulumi("stack", "output", "--json"))
    settings = StackSettings(model=str(SAMPLE_CITY), scope="department/fgw")
    stack = st.select(st.city_stacks(city, planner.plan(city), settings), settings.scope)[0]
    want: dict[str, list[dict]] = {}
    for u in stack.units:
        want.setdefault(u.cluster, []).extend(o.manifest for o in st.objects(u))
    assert index(engine.read_render_dir(proj / "out" / "sample")) == index(want)
    assert outputs["scope"] == "department/fgw" and outputs["stack"] == stack.name


# --- govctl on a small city, stack by stack -----------------------------------------------------


def add_department(city: Path) -> tuple[str, str]:
    """A new department (copied from a shared-zone one without sensitive systems) with one
    on-cloud system at DR level 5; returns (slug, system id)."""
    m = load_city(city)
    sensitive = {s.department for s in m.systems if s.classification.value == "sensitive"}
    dept = next(d for d in m.departments if d.zone == "shared" and d.code not in sensitive)
    system = next(s for s in m.systems if s.department == dept.code and s.state.value == "on_cloud")

    def new_dept(data):
        d = next(x for x in data["departments"] if x["code"] == dept.code)
        data["departments"].append({**d, "code": "TSTJ", "slug": "tstj", "name": "市测试局"})

    def new_system(data):
        s = next(x for x in data["systems"] if x["id"] == system.id)
        data["systems"].append(
            {
                **s,
                "id": "tstj-001",
                "department": "TSTJ",
                "dr_level": 5,
                "classification": "non_classified",
                "target_zone": "shared",
            }
        )

    edit_yaml(city, "departments.yaml", new_dept)
    edit_yaml(city, "systems.yaml", new_system)
    load_city(city)  # still a valid city
    return "tstj", "tstj-001"


def ran(result: dict) -> set[str]:
    return {r["stack"] for r in result["stacks"] if r["status"] == "done"}


def test_small_city_stacks_converge_skip_and_follow_the_model(small_city, tmp_path, scratch):
    state, out = tmp_path / "state", tmp_path / "render"
    common = ("--state", state, "--render-dir", out)
    m = load_city(small_city)
    stacks = st.city_stacks(m, planner.plan(m), StackSettings(model=str(small_city)))
    first = govctl_json("tenants", "up", small_city, *common)
    assert ran(first) == {s.name for s in stacks} and first["total"]["failed"] == 0
    assert [r["kind"] for r in first["stacks"]][: len(planner.plan(m).clusters)] == [
        "platform"
    ] * len(planner.plan(m).clusters), "platform stacks first"
    c = first["total"]["changes"]
    assert c["create"] > 100 and c["update"] == c["delete"] == 0
    assert index(engine.read_render_dir(out)) == index(
        render(m, StackSettings(model=str(small_city))).objects
    ), "the engine wrote exactly the render's objects"

    again = govctl_json("tenants", "up", small_city, *common)
    assert ran(again) == set() and again["total"]["skipped"] == len(stacks)

    dept = m.departments[0]

    def bump(data):
        d = next(x for x in data["departments"] if x["code"] == dept.code)
        d["quota"]["cpu"] += 1

    edit_yaml(small_city, "departments.yaml", bump)
    one = govctl_json("tenants", "up", small_city, *common)
    assert ran(one) == {st.stack_name(m, st.DEPARTMENT, dept.slug)}
    quotas = [
        o
        for objs in render(m, StackSettings(model=str(small_city))).objects.values()
        for o in objs
        if o["kind"] == "ResourceQuota"
        and o["metadata"].get("labels", {}).get("govcloud/department") == dept.code
    ]
    assert quotas, "the department has a quota in at least one cluster"
    c = one["total"]["changes"]
    assert c["update"] >= len(quotas) and c["create"] == c["delete"] == 0, (
        "its quota updated in place"
    )

    slug, _ = add_department(small_city)
    added = govctl_json("tenants", "up", small_city, *common, "--only", slug)
    new_stack = st.stack_name(m, st.DEPARTMENT, slug)
    assert ran(added) == {new_stack} and added["total"]["changes"]["create"] > 10

    # plain pulumi on one of these stacks: nothing to change
    env = {
        **os.environ,
        **engine.environment(engine.locate(), state),
    }
    done = subprocess.run(
        ["pulumi", "-s", new_stack, "preview", "--expect-no-changes", "--suppress-progress"],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    def drop(data):
        data["departments"] = [d for d in data["departments"] if d["code"] != "TSTJ"]

    edit_yaml(small_city, "departments.yaml", drop)
    edit_yaml(
        small_city,
        "systems.yaml",
        lambda d: d.__setitem__("systems", [s for s in d["systems"] if s["department"] != "TSTJ"]),
    )
    removed = govctl_json("tenants", "up", small_city, *common)
    gone = [r for r in removed["stacks"] if r["stack"] == new_stack]
    assert gone and gone[0]["operation"] == "destroy" and gone[0]["changes"]["delete"] > 10
    assert new_stack not in engine.list_stacks(state, engine.project_name(scratch))
    assert not any(slug in f for f in files(out))

    destroyed = govctl_json("tenants", "destroy", small_city, "--state", state, "--rm")
    assert destroyed["total"]["failed"] == 0 and len(destroyed["stacks"]) == len(stacks)
    assert files(out) == set(), "destroy removes every rendered file"
    assert engine.list_stacks(state, engine.project_name(scratch)) == []


def _state_objects(state: Path, project: str) -> set[tuple]:
    """(cluster, apiVersion, kind, namespace, name) of every Kubernetes object in every
    stack's saved state."""
    out = set()
    for name in engine.list_stacks(state, project):
        doc = json.loads((state / ".pulumi" / "stacks" / project / f"{name}.json").read_text())
        latest = doc["checkpoint"]["latest"]
        assert not latest.get("pending_operations"), (name, latest.get("pending_operations"))
        for r in latest.get("resources") or []:
            if r["type"].startswith("kubernetes:") and not r["type"].startswith("pulumi:providers"):
                o = r["inputs"]
                cluster = r["provider"].rsplit("::", 1)[0].rsplit("::", 1)[-1]  # <urn>::<id>
                md = o["metadata"]
                out.add((cluster, o["apiVersion"], o["kind"], md.get("namespace"), md["name"]))
    return out


def _leave_a_create_pending(state: Path, project: str) -> None:
    """Whether the kill caught a create in flight depends on timing: when no stack's state
    holds a pending operation, turn one stack's last created object into one (as Pulumi
    records a create it started and never saw finish), so the recovery path always runs."""
    names = engine.list_stacks(state, project)
    if any((cp := engine.checkpoint(state, project, n)) and cp.pending for n in names):
        return
    for name in names:
        path = state / ".pulumi" / "stacks" / project / f"{name}.json"
        doc = json.loads(path.read_text())
        latest = doc["checkpoint"]["latest"]
        resources = latest.get("resources") or []
        used = {u for r in resources for u in [r.get("parent"), *(r.get("dependencies") or [])]}
        made = [
            r for r in resources if r["type"].startswith("kubernetes:") and r["urn"] not in used
        ]
        if made:
            resources.remove(made[-1])
            latest["pending_operations"] = [{"resource": made[-1], "type": "creating"}]
            path.write_text(json.dumps(doc))
            return
    raise AssertionError("no stack with a created object to leave pending")


def test_an_up_killed_half_way_is_carried_on_by_the_next(small_city, tmp_path, scratch):
    state, out = tmp_path / "state", tmp_path / "render"
    args = [
        sys.executable,
        "-c",
        "import sys; from infra import engine; from pathlib import Path; "
        f"engine.PROJECT_DIR = Path({str(scratch)!r}); "
        "from govctl.app import main; sys.exit(main(sys.argv[1:]))",
        "tenants",
        "up",
        str(small_city),
        "--state",
        str(state),
        "--render-dir",
        str(out),
        "--parallel",
        "2",
    ]
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        env={**os.environ, "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 600
    # half-way: some department stacks have written files, the city is not done
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and len(files(out)) >= 60:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the up ended before it could be interrupted"
    interrupt_up(proc, state)
    partial = files(out)
    m = load_city(small_city)
    want = render(m, StackSettings(model=str(small_city))).objects
    assert 0 < len(partial) < sum(len(v) for v in want.values()), "it was stopped half-way"

    project = engine.project_name(scratch)
    _leave_a_create_pending(state, project)
    result = govctl_json("tenants", "up", small_city, "--state", state, "--render-dir", out)
    assert result["total"]["failed"] == 0, [r for r in result["stacks"] if r["status"] == "failed"]
    in_state = _state_objects(state, project)  # also: no pending operation anywhere
    on_disk = set(index(engine.read_render_dir(out)))
    assert on_disk == set(index(want)), "every object rendered, none left over"
    assert in_state == on_disk, "no orphan: each rendered object is in a stack's state"
    again = govctl_json("tenants", "up", small_city, "--state", state, "--render-dir", out)
    assert again["total"]["done"] == 0, "converged: nothing left to do"


# --- the policy pack at the engine ------------------------------------------------------------


def test_policy_pack_blocks_a_sensitive_system_on_the_shared_cluster(tmp_path, passphrase):
    project = tmp_path / "crafted"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(
        f"name: govcloud-policy-check\nruntime:\n  name: python\n  options:\n    virtualenv: {ROOT / '.venv'}\n"
        f"main: {CRAFTED}\n",
        encoding="utf-8",
    )

    def preview(zone: str) -> dict:
        s = engine.stack(
            zone,
            {"model": str(SAMPLE_CITY), "renderDir": str(tmp_path / "render"), "zone": zone},
            tmp_path / "state",
            project_dir=project,
        )
        return engine.preview(s, policy_packs=[engine.POLICY_PACK])

    allowed = preview("isolated")
    assert allowed["changes"]["create"] > 5 and not allowed["violations"]
    with pytest.raises(engine.EngineError) as refused:
        preview("shared")
    policies = {v["policy"] for v in refused.value.violations}
    assert "sensitive-only-isolated" in policies
    assert "refused by the policy pack" in str(refused.value)
    assert not (tmp_path / "render" / "shared").exists()
