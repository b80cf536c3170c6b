"""`govctl dr failover|failback`: the DR drill on a stack the tenants were applied with.

A thin shell: `infra.drill` says whether the system has a warm replica in the DR cluster
(refusing, with exit 2, systems of DR level below 5 and DR gaps), the `govcloud:failover`
list of its department's stack (`<city>-<slug>`, see `infra/stacks.py`) gains or loses the
system, and `infra.engine.up` applies that one stack — the program then runs the replica
with the model's replica count, or scales it back to 0. No other stack runs.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from govctl.common import (
    STACK_KEPT,
    CityDir,
    JsonFlag,
    UserError,
    console,
    engine_errors,
    err,
    keeps,
    load,
    print_json,
)
from infra import drill as dr
from infra import engine
from infra import stacks as st
from infra.settings import to_config

SCHEMA_VERSION = 1

dr_app = typer.Typer(
    help="Disaster-recovery drill: run a system's warm replica in the DR cluster, and back.",
    no_args_is_help=True,
)

System = Annotated[str, typer.Option("--system", help="system id (its DR level must be 5 or 6)")]
State = Annotated[Path, typer.Option("--state", help="the stack's local state directory")]


def _same_city(city: Path, configured: str, project_dir: Path) -> None:
    stack_city = Path(configured) if Path(configured).is_absolute() else project_dir / configured
    if city.resolve() != stack_city.resolve():
        raise UserError(
            f"the stack was applied with the city {configured}, not {city}: "
            "name the same city directory, or the stack of this city"
        )


def drill(city: Path, system_id: str, state: Path, active: bool, as_json: bool) -> None:
    m = load(city)
    with engine_errors(), keeps(STACK_KEPT):
        try:
            last_wave = max((s.wave for s in m.systems if s.wave is not None), default=None)
            dr.standby(m, system_id, last_wave)  # refuse early: no warm replica in any wave
            dept = m.departments_by_code[m.systems_by_id[system_id].department]
            stack_name = st.stack_name(m, st.DEPARTMENT, dept.slug)
            stack = engine.open_stack(stack_name, state)
            settings = engine.settings_of(stack)
            _same_city(city, settings.model, Path(stack.workspace.work_dir))
            standby = dr.standby(m, system_id, settings.wave)
        except dr.DrillError as exc:
            raise UserError(str(exc)) from None
        failover = dr.failover_list(sorted(settings.failover), system_id, active)
        engine.configure(stack, to_config(replace(settings, failover=frozenset(failover))))
        doing = f"{'failing over' if active else 'failing back'} {system_id} on stack {stack_name}…"
        with contextlib.nullcontext() if as_json else err.status(doing):
            result = engine.up(stack, policy_packs=[engine.POLICY_PACK])
    replicas = standby.replicas if active else 0
    if as_json:
        print_json(
            {
                "schema_version": SCHEMA_VERSION,
                "system": system_id,
                "stack": stack_name,
                "cluster": standby.cluster,
                "namespace": standby.namespace,
                "kind": standby.kind,
                "replicas": replicas,
                "failover": failover,
                "changes": result["changes"],
                "seconds": result["seconds"],
            }
        )
        return
    c = result["changes"]
    console.print(
        f"[green]{system_id}[/]: {standby.kind} {standby.namespace}/{system_id} in {standby.cluster} "
        f"set to {replicas} replicas ({c['update']} updated, {c['same']} unchanged, {result['seconds']} s); "
        f"failed over now: {', '.join(failover) or 'none'}"
    )


@dr_app.command("failover")
def failover_cmd(
    city: CityDir,
    system: System,
    state: State = engine.DEFAULT_STATE,
    as_json: JsonFlag = False,
) -> None:
    """Run the system's warm replica in the DR cluster with the model's replica count."""
    drill(city, system, state, True, as_json)


@dr_app.command("failback")
def failback_cmd(
    city: CityDir,
    system: System,
    state: State = engine.DEFAULT_STATE,
    as_json: JsonFlag = False,
) -> None:
    """Scale the system's DR replica back to 0 (the primary runs it again)."""
    drill(city, system, state, False, as_json)
