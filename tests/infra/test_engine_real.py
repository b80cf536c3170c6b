"""The real Pulumi engine on the govcloud program (marker `engine`; `make tools` builds it).

- plain `pulumi` from a copy of the repository root with the committed `Pulumi.sample.yaml`:
  `stack init`, `preview --policy-pack infra/policy`, `up` render the sample city, and what
  the real provider writes equals what the program renders under mocks (the one run of the
  sample city: about two minutes on 2 cores);
- `govctl tenants up|destroy` and `infra.engine` on a small synthetic city: a second up
  changes nothing, adding a department creates exactly its resources, destroy removes every
  file;
- `govctl tenants render` gives the same files through the engine as with `--mock`;
- the policy pack blocks a sensitive system on the shared cluster (a crafted stack: see
  `tests/engine_programs/misplaced_sensitive/__main__.py` for why).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from govctl.app import main
from infra import engine
from infra.render import render
from infra.settings import StackSettings
from model import load_city
from tests.helpers import ROOT, SAMPLE_CITY, edit_yaml


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
            out[key] = o
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


# --- plain pulumi, the sample city ------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_plain(tmp_path_factory):
    """What a cloud administrator does (infra/README.md), in a copy of the repository root:
    the same Pulumi.yaml and Pulumi.sample.yaml, the program and model linked in."""
    base = tmp_path_factory.mktemp("plain")
    proj = base / "repo"
    proj.mkdir()
    for name in ("infra", "examples", ".venv"):
        (proj / name).symlink_to(ROOT / name)
    for name in ("Pulumi.yaml", "Pulumi.sample.yaml"):
        shutil.copy(ROOT / name, proj / name)
    env = {
        **os.environ,
        "PATH": f"{engine.locate().pulumi.parent}{os.pathsep}{os.environ['PATH']}",
        "PULUMI_HOME": str(base / "home"),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_SKIP_CHECKPOINTS": "true",
    }
    env.pop("PULUMI_BACKEND_URL", None)

    def pulumi(*args: str) -> str:
        done = subprocess.run(
            ["pulumi", *args], cwd=proj, env=env, capture_output=True, text=True, timeout=900
        )
        assert done.returncode == 0, (
            f"pulumi {' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
        return done.stdout

    (base / "state").mkdir()
    pulumi("login", (base / "state").as_uri())
    pulumi("stack", "init", "sample")
    preview = pulumi("preview", "--policy-pack", "infra/policy", "--suppress-progress")
    pulumi("up", "--yes", "--skip-preview", "--suppress-progress")
    outputs = json.loads(pulumi("stack", "output", "--json"))
    return {"render": proj / "out" / "sample", "preview": preview, "outputs": outputs}


def test_plain_pulumi_up_renders_the_sample_city(sample_plain, city):
    assert "govcloud@" in sample_plain["preview"] and "✅" in sample_plain["preview"], (
        "the policy pack ran and passed"
    )
    render_dir = sample_plain["render"]
    clusters = {p.name for p in render_dir.iterdir()}
    assert clusters == set(city.zones) | {"dr-dc"}
    for c in clusters:
        manifests = list((render_dir / c / "1-manifest").glob("*.yaml"))
        assert len(manifests) > 20, c
    o = sample_plain["outputs"]
    assert o["adoption_target"] == 0.8 and set(o["clusters"]) == clusters


def test_real_engine_renders_what_the_mocks_render(sample_plain, city):
    real = index(engine.read_render_dir(sample_plain["render"]))
    mocked = render(city, StackSettings(model=str(SAMPLE_CITY)))
    assert len(real) > 1500
    assert real == index(mocked.objects)
    assert sample_plain["outputs"] == {
        k: v for k, v in mocked.outputs.items() if k not in ("schema_version", "wave")
    }


# --- govctl and infra.engine, a small city ------------------------------------------------------


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


def test_small_city_up_is_idempotent_adds_exactly_a_department_and_destroys_clean(
    small_city, tmp_path, scratch, capsys
):
    state, out = tmp_path / "state", tmp_path / "render"
    args = [
        "tenants",
        "up",
        str(small_city),
        "--stack",
        "small",
        "--state",
        str(state),
        "--render-dir",
        str(out),
        "--json",
    ]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert (
        first["changes"]["create"] > 100
        and first["changes"]["update"] == first["changes"]["delete"] == 0
    )
    m = load_city(small_city)
    mocked = render(m, StackSettings(model=str(small_city)))
    assert index(engine.read_render_dir(out)) == index(mocked.objects)
    assert first["outputs"]["clusters"] == mocked.outputs["clusters"]
    assert (scratch / "Pulumi.small.yaml").is_file() and not (ROOT / "Pulumi.small.yaml").exists()

    assert main(args) == 0  # the same city again: nothing to do
    second = json.loads(capsys.readouterr().out)
    assert second["changes"] == {
        "create": 0,
        "update": 0,
        "delete": 0,
        "same": first["changes"]["create"],
        "replace": 0,
    }

    bigger = tmp_path / "bigger"
    shutil.copytree(small_city, bigger)
    slug, system = add_department(bigger)
    st = engine.stack(
        "small", StackSettings(model=str(bigger), render_dir=str(out)), state, project_dir=scratch
    )
    before = files(out)
    third = engine.up(st, policy_packs=[engine.POLICY_PACK])
    new_objects = set(
        index(render(load_city(bigger), StackSettings(model=str(bigger))).objects)
    ) - set(index(mocked.objects))
    assert new_objects and all(slug in f"{k[3]}/{k[4]}" for k in new_objects), (
        "only the department's objects are new"
    )
    assert {k for k, v in third["changes"].items() if v and k != "same"} == {"create"}
    created = [s["urn"].rsplit("::", 1)[-1] for s in third["steps"]]
    assert all(slug in name or system in name for name in created), created
    assert sum(1 for s in third["steps"] if s["type"].startswith("kubernetes:")) == len(new_objects)
    assert before < files(out) and len(files(out) - before) == len(new_objects)

    assert (
        main(["tenants", "destroy", "--stack", "small", "--state", str(state), "--rm", "--json"])
        == 0
    )
    gone = json.loads(capsys.readouterr().out)
    assert gone["changes"]["delete"] == third["changes"]["create"] + third["changes"]["same"]
    assert files(out) == set(), "destroy removes every rendered file"
    assert not (scratch / "Pulumi.small.yaml").exists()


def test_cli_render_through_the_engine_writes_what_mock_writes(small_city, tmp_path, passphrase):
    real, mock = tmp_path / "real", tmp_path / "mock"
    assert main(["tenants", "render", str(small_city), "--out", str(real), "--wave", "2"]) == 0
    assert (
        main(["tenants", "render", str(small_city), "--out", str(mock), "--wave", "2", "--mock"])
        == 0
    )
    assert files(real) == files(mock) and len(files(real)) > 10
    for f in files(real) - {"outputs.json"}:
        assert (real / f).read_bytes() == (mock / f).read_bytes(), f
    assert json.loads((real / "outputs.json").read_text()) == json.loads(
        (mock / "outputs.json").read_text()
    )


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
        st = engine.stack(
            zone,
            {"model": str(SAMPLE_CITY), "renderDir": str(tmp_path / "render"), "zone": zone},
            tmp_path / "state",
            project_dir=project,
        )
        return engine.preview(st, policy_packs=[engine.POLICY_PACK])

    allowed = preview("isolated")
    assert allowed["changes"]["create"] > 5 and not allowed["violations"]
    with pytest.raises(engine.EngineError) as refused:
        preview("shared")
    policies = {v["policy"] for v in refused.value.violations}
    assert "sensitive-only-isolated" in policies
    assert "refused by the policy pack" in str(refused.value)
    assert not (tmp_path / "render" / "shared").exists()
