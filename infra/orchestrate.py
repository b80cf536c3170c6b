"""Preview, up or destroy the whole city as its stacks, in a bounded pool.

`run(operation, settings, state_dir)` plans the city's stacks (`infra/stacks.py`), then runs
the platform stacks, then the department stacks, each through `infra/engine.py` on at most
`parallel` stacks at once (each is its own `pulumi` process). A stack whose inputs hash
(what it would apply: its objects, its providers' targets, the program's version) equals the
one its last `up` recorded in its own state — that `up` succeeded, was the last operation on
the stack (a `pulumi refresh` since, which read a manual change back, re-runs it) and left no
operation pending — is skipped: nothing is started for it. A stack an interrupted update
left with pending operations is refreshed with them cleared first, then updated (a stack
rendering to a directory has no cluster to read back: its pending operations are only
cleared). `refresh=True` runs `pulumi refresh` and then the operation on every stack (after a
change made by hand). `up` also destroys and removes the
stacks of departments no longer in the model; `destroy` takes every stack of the city that
the state holds, departments first. Results are plain dicts, one per stack, and a total.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from infra import engine
from infra import plan as planner
from infra import stacks as st
from infra.settings import StackSettings
from model import load_city
from model.city import CityModel

SCHEMA_VERSION = 1
OPERATIONS = ("preview", "up", "destroy")

OnStack = Callable[[dict], None]


def default_parallel() -> int:
    return os.cpu_count() or 1


def stack_settings(settings: StackSettings, stack: st.StackPlan, m: CityModel) -> StackSettings:
    """One stack's config: the city's settings with its scope and its own failover ids."""
    mine = {u.args["system"].id for u in stack.units if u.type == st.REPLICA and "system" in u.args}
    return replace(settings, scope=stack.scope, failover=frozenset(settings.failover & mine))


def _result(stack: str, kind: str, operation: str, status: str, **extra) -> dict:
    base = {
        "stack": stack,
        "kind": kind,
        "operation": operation,
        "status": status,  # done | skipped | failed
        "changes": dict.fromkeys(engine.CHANGE_KEYS, 0),
        "seconds": 0.0,
    }
    return base | extra


class Runner:
    """One orchestrated operation over the city's stacks."""

    def __init__(
        self,
        operation: str,
        state_dir: Path,
        *,
        project_dir: Path | None,
        tools: engine.Tools | None,
        throwaway: bool,
        policy: bool,
        refresh: bool,
        on_stack: OnStack | None,
        on_output: engine.OnOutput | None,
    ) -> None:
        self.operation = operation
        self.state_dir = Path(state_dir)
        self.project_dir = Path(project_dir or engine.PROJECT_DIR)
        self.project = engine.project_name(self.project_dir)
        self.tools = tools or engine.locate()
        self.throwaway = throwaway
        self.policy = [engine.POLICY_PACK] if policy else []
        self.refresh = refresh
        self.on_stack = on_stack
        self.on_output = on_output

    def _done(self, result: dict) -> dict:
        if self.on_stack is not None:
            self.on_stack(result)
        return result

    def unchanged(self, name: str, cp: engine.Checkpoint | None, expected: str) -> bool:
        """The state holds what this stack would apply: its outputs carry the same inputs
        hash, nothing is pending, and the last operation on it was a successful `up` (not a
        refresh that read a manual change back, nor a failed update)."""
        if self.refresh or cp is None or cp.pending or cp.outputs.get("inputs_hash") != expected:
            return False
        last = engine.last_update(self.state_dir, self.project, name) or {}
        return last.get("kind") == "update" and last.get("result") == "succeeded"

    def program(self, m: CityModel) -> engine.Program:
        """The stack's program, run inline in this process: `infra.program.main` with the
        model loaded here (when the config names the directory it came from)."""
        from infra import program

        def load(path: str) -> CityModel:
            return m if Path(path).resolve() == Path(m.source).resolve() else load_city(path)

        return lambda: program.main(str(self.project_dir), load)

    def apply(self, m: CityModel, stack: st.StackPlan, settings: StackSettings) -> dict:
        """Preview or up one stack, unless its recorded inputs are the ones it would apply."""
        mine = stack_settings(settings, stack, m)
        expected = st.inputs_hash(stack, engine.program_settings(mine, self.project_dir))
        cp = engine.checkpoint(self.state_dir, self.project, stack.name)
        if self.unchanged(stack.name, cp, expected):
            return self._done(_result(stack.name, stack.kind, self.operation, "skipped"))
        t0 = time.monotonic()
        engine.release_stale_locks(self.state_dir, self.project, stack.name)
        try:
            s = engine.stack(
                stack.name,
                mine,
                self.state_dir,
                project_dir=self.project_dir,
                tools=self.tools,
                throwaway=self.throwaway,
            )
            pending = bool(cp and cp.pending)  # an update was killed half-way
            # a render directory holds no live objects: nothing to read back, only to clear
            live = mine.render_dir is None
            if pending and self.operation == "up" and not live:
                engine.clear_pending(s)
            elif live and (self.refresh or (pending and self.operation == "up")):
                engine.refresh(s, on_output=self.on_output, clear_pending=pending)
            run = engine.preview if self.operation == "preview" else engine.up
            r = run(s, on_output=self.on_output, policy_packs=self.policy, program=self.program(m))
        except engine.EngineError as exc:
            return self._done(
                _result(
                    stack.name,
                    stack.kind,
                    self.operation,
                    "failed",
                    error=str(exc),
                    violations=exc.violations,
                    seconds=round(time.monotonic() - t0, 1),
                )
            )
        return self._done(
            _result(
                stack.name,
                stack.kind,
                self.operation,
                "done",
                changes=r["changes"],
                steps=r["steps"],
                outputs=r["outputs"],
                seconds=round(time.monotonic() - t0, 1),
            )
        )

    def remove(self, name: str, kind: str, preview: bool = False, gone: bool = False) -> dict:
        """Destroy a stack and remove it when asked (`--rm`) or when the model no longer has it
        (`gone`)."""
        t0 = time.monotonic()
        cp = engine.checkpoint(self.state_dir, self.project, name)
        if preview:
            n = max((cp.resources if cp else 0) - 1, 0)
            changes = dict.fromkeys(engine.CHANGE_KEYS, 0) | {"delete": n}
            return self._done(_result(name, kind, "destroy", "done", changes=changes))
        try:
            s = engine.open_stack(
                name,
                self.state_dir,
                project_dir=self.project_dir,
                tools=self.tools,
                throwaway=self.throwaway,
            )
            r = engine.destroy(s, on_output=self.on_output, remove=self.remove_stacks or gone)
        except engine.EngineError as exc:
            return self._done(
                _result(
                    name,
                    kind,
                    "destroy",
                    "failed",
                    error=str(exc),
                    seconds=round(time.monotonic() - t0, 1),
                )
            )
        return self._done(
            _result(
                name,
                kind,
                "destroy",
                "done",
                changes=r["changes"],
                seconds=round(time.monotonic() - t0, 1),
            )
        )

    remove_stacks = True


def _kind(name: str, city: str) -> str:
    return st.PLATFORM if name.startswith(f"{city}-platform.") else st.DEPARTMENT


def run(
    operation: str,
    settings: StackSettings,
    state_dir: Path = engine.DEFAULT_STATE,
    *,
    model: CityModel | None = None,
    project_dir: Path | None = None,
    tools: engine.Tools | None = None,
    throwaway: bool = False,
    parallel: int | None = None,
    only: str | None = None,
    refresh: bool = False,
    policy: bool = True,
    remove: bool = False,
    on_stack: OnStack | None = None,
    on_output: engine.OnOutput | None = None,
) -> dict:
    """Run `operation` (preview | up | destroy) over the city's stacks. `only` (a department's
    slug or code) limits it to that department's stack. Raises `infra.plan.PlacementError`
    for a plan the rules refuse, before any stack runs; a failing stack is reported in its
    result (`status: failed`, `error`) and the others still run."""
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}")
    t0 = time.monotonic()
    m = model or load_city(settings.model)
    p = planner.plan(m, settings.wave, settings.failover)
    stacks = st.city_stacks(m, p, settings)
    city = st.city_slug(m)
    if only is not None:
        d = next((d for d in m.departments if only in (d.slug, d.code)), None)
        if d is None:
            raise planner.PlacementError(f"--only {only!r}: no such department (slug or code)")
        stacks = [s for s in stacks if s.kind == st.DEPARTMENT and s.key == d.slug]
    runner = Runner(
        "preview" if operation == "preview" else "up",
        state_dir,
        project_dir=project_dir,
        tools=tools,
        throwaway=throwaway,
        policy=policy,
        refresh=refresh,
        on_stack=on_stack,
        on_output=on_output,
    )
    runner.remove_stacks = remove or operation == "up"
    workers = max(1, parallel or default_parallel())
    existing = [
        n for n in engine.list_stacks(runner.state_dir, runner.project) if n.startswith(f"{city}-")
    ]
    results: list[dict] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        if operation == "destroy":
            wanted = {s.name for s in stacks} if only is not None else set(existing)
            names = [n for n in existing if n in wanted]
            for kind in (st.DEPARTMENT, st.PLATFORM):
                batch = [n for n in names if _kind(n, city) == kind]
                results += pool.map(lambda n, k=kind: runner.remove(n, k), batch)
        else:
            for kind in (st.PLATFORM, st.DEPARTMENT):
                group = [s for s in stacks if s.kind == kind]
                results += pool.map(lambda s: runner.apply(m, s, settings), group)
            if only is None:  # departments gone from the model: their stacks go too
                known = {s.name for s in stacks}
                gone = [n for n in existing if n not in known]
                results += pool.map(
                    lambda n: runner.remove(
                        n, _kind(n, city), preview=operation == "preview", gone=True
                    ),
                    gone,
                )
    components: dict[str, int] = {}
    for s in stacks:
        for u in s.units:
            components[u.type] = components.get(u.type, 0) + 1
    return {
        "schema_version": SCHEMA_VERSION,
        "operation": operation,
        "city": m.city.name,
        "stacks": results,
        "total": total(results, time.monotonic() - t0),
        "outputs": st.outputs(m, p, settings),
        "components": components,
    }


def total(results: list[dict], seconds: float) -> dict:
    changes = dict.fromkeys(engine.CHANGE_KEYS, 0)
    for r in results:
        for k, v in r["changes"].items():
            changes[k] = changes.get(k, 0) + v
    count = {s: sum(1 for r in results if r["status"] == s) for s in ("done", "skipped", "failed")}
    return {"stacks": len(results), **count, "changes": changes, "seconds": round(seconds, 1)}
