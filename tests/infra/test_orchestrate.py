"""infra/orchestrate.py's decisions, fast, with a stand-in for the engine (the real runs are
in tests/infra/test_engine_real.py and test_engine_k8s.py): platform stacks before department
stacks, a stack skipped only when its own saved state (checkpoint and history, in the file
backend's layout) records this inputs hash after a successful up, pending operations cleared
first (by a refresh when the stack applies to clusters, by an export/import when it renders
to a directory), stacks of departments gone from the model destroyed, `only`.

The stand-in writes what the file backend writes: `.pulumi/stacks/<project>/<stack>.json`
with the stack's outputs (the program's own `stack_outputs`) and a history entry per
operation.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra import engine, orchestrate
from infra import plan as planner
from infra import stacks as st
from infra.settings import StackSettings
from infra.settings import rooted as _rooted
from model import load_city
from tests.helpers import edit_yaml

_clock = itertools.count(1_700_000_000_000_000_000)


@dataclass
class FakeStack:
    name: str
    settings: StackSettings


class FakeEngine:
    """What the orchestrator calls on `infra.engine`, recording the calls in order."""

    def __init__(self, state: Path, project_dir: Path):
        self.state, self.project_dir = state, project_dir
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def _write(self, name: str, outputs: dict, kind: str, pending=()):
        d = self.state / ".pulumi" / "stacks" / "govcloud"
        d.mkdir(parents=True, exist_ok=True)
        latest = {
            "resources": [{"type": engine.STACK_TYPE, "outputs": outputs}],
            "pending_operations": list(pending),
        }
        (d / f"{name}.json").write_text(json.dumps({"checkpoint": {"latest": latest}}))
        h = self.state / ".pulumi" / "history" / "govcloud" / name
        h.mkdir(parents=True, exist_ok=True)
        (h / f"{name}-{next(_clock)}.history.json").write_text(
            json.dumps({"kind": kind, "result": "succeeded"})
        )

    def stack(self, name, settings, state_dir, **kw):
        with self.lock:
            self.calls.append(("stack", name))
        return FakeStack(name, settings)

    def open_stack(self, name, state_dir, **kw):
        return FakeStack(name, StackSettings(model="-"))

    def up(self, s, **kw):
        m = load_city(s.settings.model)
        seen = _rooted(s.settings, str(self.project_dir))
        stack = st.select(
            st.city_stacks(m, planner.plan(m, seen.wave, seen.failover), seen), seen.scope
        )[0]
        with self.lock:
            self.calls.append(("up", s.name))
        self._write(s.name, st.stack_outputs(m, stack, seen), "update")
        return {"changes": {"create": 1}, "steps": [], "outputs": {}}

    def preview(self, s, **kw):
        with self.lock:
            self.calls.append(("preview", s.name))
        return {"changes": {"same": 1}, "steps": [], "outputs": {}}

    def refresh(self, s, clear_pending=False, **kw):
        with self.lock:
            self.calls.append(("refresh+clear" if clear_pending else "refresh", s.name))
        cp = engine.checkpoint(self.state, "govcloud", s.name)
        self._write(s.name, cp.outputs if cp else {}, "refresh")
        return {"changes": {}}

    def clear_pending(self, s):
        with self.lock:
            self.calls.append(("clear", s.name))
        cp = engine.checkpoint(self.state, "govcloud", s.name)
        self._write(s.name, cp.outputs if cp else {}, "import")
        return 1

    def destroy(self, s, remove=False, **kw):
        with self.lock:
            self.calls.append(("destroy", s.name))
        d = self.state / ".pulumi" / "stacks" / "govcloud" / f"{s.name}.json"
        if remove:
            d.unlink()
        return {"changes": {"delete": 3}}


@pytest.fixture
def fake(tmp_path, monkeypatch):
    project = engine.scratch_project(tmp_path / "project")
    f = FakeEngine(tmp_path / "state", project)
    for name in ("stack", "open_stack", "up", "preview", "refresh", "clear_pending", "destroy"):
        monkeypatch.setattr(engine, name, getattr(f, name))
    monkeypatch.setattr(engine, "locate", lambda: engine.Tools(Path("/x/pulumi"), "/x", "v3"))
    monkeypatch.setattr(engine, "PROJECT_DIR", project)
    return f


def up(city: Path, fake: FakeEngine, *, live: bool = False, **kw) -> dict:
    """`up` rendering to a directory, or (`live`) applying to the clusters."""
    render_dir = None if live else str(fake.state.parent / "render")
    settings = StackSettings(model=str(city), render_dir=render_dir)
    return orchestrate.run("up", settings, fake.state, parallel=2, **kw)


def ran(result: dict) -> set[str]:
    return {r["stack"] for r in result["stacks"] if r["status"] == "done"}


def test_platform_stacks_run_before_department_stacks(small_city, fake):
    m = load_city(small_city)
    result = up(small_city, fake)
    order = [name for op, name in fake.calls if op == "up"]
    n = len(planner.plan(m).clusters)
    assert all(".platform." in x or "-platform." in x for x in order[:n])
    assert not any("-platform." in x for x in order[n:]) and len(order) == n + len(m.departments)
    assert result["total"]["done"] == len(order) and result["total"]["changes"]["create"] == len(
        order
    )


def test_an_unchanged_city_starts_nothing_and_a_changed_department_only_its_stack(small_city, fake):
    up(small_city, fake)
    fake.calls.clear()
    again = up(small_city, fake)
    assert fake.calls == [] and again["total"]["skipped"] == again["total"]["stacks"]
    m = load_city(small_city)
    d = m.departments[1]

    def bump(data):
        x = next(x for x in data["departments"] if x["code"] == d.code)
        x["quota"]["memory_gib"] += 8

    edit_yaml(small_city, "departments.yaml", bump)
    assert ran(up(small_city, fake)) == {st.stack_name(m, st.DEPARTMENT, d.slug)}


@pytest.mark.parametrize("live", [True, False], ids=["clusters", "render-dir"])
def test_a_refresh_since_the_last_up_or_pending_operations_make_a_stack_run(small_city, fake, live):
    up(small_city, fake, live=live)
    m = load_city(small_city)
    a, b = (st.stack_name(m, st.DEPARTMENT, d.slug) for d in m.departments[:2])
    fake.refresh(FakeStack(a, StackSettings(model="-")))  # someone ran `pulumi refresh`
    cp = engine.checkpoint(fake.state, "govcloud", b)
    fake._write(b, cp.outputs, "update", pending=[{"type": "creating"}])  # killed half-way
    fake.calls.clear()
    result = up(small_city, fake, live=live)
    assert ran(result) == {a, b}
    # live objects are read back with the pending creates cleared; a render directory has
    # nothing to read back: the pending operations are only cleared
    recover = ("refresh+clear", b) if live else ("clear", b)
    assert recover in fake.calls and ("refresh", a) not in fake.calls
    if not live:
        assert not any(op.startswith("refresh") for op, _ in fake.calls)
    assert fake.calls.index(recover) < fake.calls.index(("up", b))


@pytest.mark.parametrize("live", [True, False], ids=["clusters", "render-dir"])
def test_refresh_forces_every_stack(small_city, fake, live):
    up(small_city, fake, live=live)
    fake.calls.clear()
    result = up(small_city, fake, live=live, refresh=True)
    assert result["total"]["skipped"] == 0 and ran(result) == {
        n for op, n in fake.calls if op == "up"
    }
    refreshed = {n for op, n in fake.calls if op == "refresh"}
    assert refreshed == (ran(result) if live else set())


def test_only_runs_one_department_and_unknown_ones_are_refused(small_city, fake):
    m = load_city(small_city)
    d = m.departments[0]
    assert ran(up(small_city, fake, only=d.code)) == {st.stack_name(m, st.DEPARTMENT, d.slug)}
    with pytest.raises(planner.PlacementError, match="no such department"):
        up(small_city, fake, only="nope")


def test_a_department_gone_from_the_model_loses_its_stack(small_city, fake):
    up(small_city, fake)
    m = load_city(small_city)
    name = st.stack_name(m, st.DEPARTMENT, "merged-away")  # a department the model dropped
    fake._write(name, {"inputs_hash": "old"}, "update")
    fake._write("othercity-fgw", {"inputs_hash": "old"}, "update")  # not this city's
    fake.calls.clear()
    preview = orchestrate.run(
        "preview", StackSettings(model=str(small_city), render_dir="/r"), fake.state
    )
    assert [r["changes"]["delete"] for r in preview["stacks"] if r["stack"] == name] == [0]
    assert ("destroy", name) not in fake.calls, "a preview destroys nothing"
    fake.calls.clear()
    result = up(small_city, fake)
    assert fake.calls == [("destroy", name)]
    assert [r["operation"] for r in result["stacks"] if r["stack"] == name] == ["destroy"]
    assert engine.list_stacks(fake.state, "govcloud").count(name) == 0
    assert "othercity-fgw" in engine.list_stacks(fake.state, "govcloud")


def test_destroy_takes_departments_first_then_the_platform(small_city, fake):
    up(small_city, fake)
    fake.calls.clear()
    orchestrate.run(
        "destroy", StackSettings(model=str(small_city)), fake.state, parallel=2, remove=True
    )
    names = [n for op, n in fake.calls if op == "destroy"]
    first_platform = next(i for i, n in enumerate(names) if "-platform." in n)
    assert all("-platform." in n for n in names[first_platform:])
    assert engine.list_stacks(fake.state, "govcloud") == []
