"""`govctl tenants render|preview|up`: each command plans the city (`infra.plan.CloudPlan`) once.

The count is of `CloudPlan` objects built, through the module attribute `infra.plan.plan`
itself calls, so any path that plans the city again (the command, `infra/render.py`,
`infra/orchestrate.py`) is counted however it reaches the planner. The engine commands are
counted up to the point where the Pulumi engine would start: `infra.engine.locate` is made
to find no engine, which every stack run asks first. (Each stack's own Pulumi program then
plans its stack in its own process, which a count in this process cannot see.)
"""

from __future__ import annotations

import json

import pytest

import infra.engine
import infra.plan
from govctl.app import main


@pytest.fixture
def builds(monkeypatch) -> list[infra.plan.CloudPlan]:
    """Every CloudPlan built while the test runs (the real one, still used)."""
    built: list[infra.plan.CloudPlan] = []

    class Counted(infra.plan.CloudPlan):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            built.append(self)

    monkeypatch.setattr(infra.plan, "CloudPlan", Counted)
    return built


@pytest.fixture
def no_engine(monkeypatch) -> None:
    def missing(*args, **kwargs):
        raise infra.engine.EngineMissing("no Pulumi CLI (this test)")

    monkeypatch.setattr(infra.engine, "locate", missing)


def test_render_plans_the_city_once(small_city, tmp_path, builds, capsys):
    out = tmp_path / "out"
    assert main(["tenants", "render", str(small_city), "--out", str(out), "--json"]) == 0
    assert len(builds) == 1
    written = json.loads((out / "outputs.json").read_text(encoding="utf-8"))
    assert written == json.loads(capsys.readouterr().out)
    assert set(written["clusters"]) == set(builds[0].clusters)  # the plan that was written


@pytest.mark.parametrize(
    "argv",
    [
        ["render", "{city}", "--engine", "--out", "{tmp}/out"],
        ["preview", "{city}", "--render-dir", "{tmp}/out", "--state", "{tmp}/s"],
        ["up", "{city}", "--render-dir", "{tmp}/out", "--state", "{tmp}/s"],
    ],
    ids=["render --engine", "preview", "up"],
)
def test_engine_commands_plan_the_city_once_before_the_engine(
    argv, small_city, tmp_path, builds, no_engine, capsys
):
    args = [a.format(city=small_city, tmp=tmp_path) for a in argv]
    assert main(["tenants", *args]) == 2
    assert "no Pulumi CLI (this test)" in capsys.readouterr().err
    assert len(builds) == 1
    assert not (tmp_path / "out").exists()


def test_a_forbidden_placement_is_refused_before_the_engine(
    small_city, tmp_path, builds, no_engine, capsys
):
    """With no check of its own in the command, the one plan still refuses first (exit 2)."""
    code = main(
        [
            "tenants",
            "up",
            str(small_city),
            "--render-dir",
            str(tmp_path / "out"),
            "--state",
            str(tmp_path / "s"),
            "--failover",
            "nope-001",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "nope-001" in err and "no Pulumi CLI" not in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "s").exists()
