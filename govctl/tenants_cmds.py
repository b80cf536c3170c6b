"""`govctl tenants render|preview|up|destroy`: the government cloud's tenants, per cluster.

Thin shells over `infra.engine` (the real Pulumi engine through the Automation API, local
file backend) and `infra.render` (the same program under Pulumi's mocks, for machines
without the Pulumi CLI, or with `--mock`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from govctl.common import (
    DEFAULT_CITY,
    CityDir,
    JsonFlag,
    UserError,
    console,
    err,
    keeps,
    load,
    pct,
    print_json,
)
from infra import engine
from infra import plan as planner
from infra.plan import PlacementError
from infra.settings import ClusterConfig, StackSettings
from lab import k8s as lab_k8s

tenants_app = typer.Typer(
    help="Department tenants, migrated systems and DR on the government cloud.",
    no_args_is_help=True,
)


@tenants_app.command("render")
def render_cmd(
    city: CityDir = Path(DEFAULT_CITY),
    out: Annotated[
        Path,
        typer.Option(help="directory to write <cluster>/<namespace>.yaml and outputs.json into"),
    ] = Path("tenants-out"),
    wave: Annotated[
        int | None,
        typer.Option(help="migration wave applied (legacy systems of waves ≤ N appear)", min=0),
    ] = None,
    failover: Annotated[
        list[str] | None, typer.Option(help="system id whose DR replica runs (repeatable)")
    ] = None,
    registry: Annotated[str, typer.Option(help="image registry")] = StackSettings.registry,
    mock: Annotated[
        bool,
        typer.Option(
            "--mock", help="run the program under Pulumi's mocks even when the engine is built"
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Write every Kubernetes object the Pulumi program would create, one folder per cluster.

    Uses the real engine (a throwaway stack in render mode) when the Pulumi CLI is built
    (`make tools`) or on PATH; otherwise, or with --mock, the program under Pulumi's mocks."""
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a directory")
    from infra.render import render, write  # Pulumi's SDK loads in seconds: only when needed

    m = load(city)
    settings = StackSettings(
        model=str(city), wave=wave, failover=frozenset(failover or ()), registry=registry
    )
    checked(m, settings)
    real = not mock and engine.available()
    how = "through the Pulumi engine (render mode)" if real else "under mocks"
    with (
        err.status(f"running the Pulumi program {how} for {len(m.departments)} departments…"),
        engine_errors(),
    ):
        rendered = engine.render(settings) if real else render(m, settings)
    n = write(rendered, out)
    o = rendered.outputs
    if as_json:
        print_json(o)
        return
    per = ", ".join(
        f"{c}: {v['workloads']} workloads in {v['tenants']} tenants"
        for c, v in o["clusters"].items()
    )
    console.print(f"[green]wrote[/] {n:,} objects under {out}/ ({per}; program run {how})")
    console.print(
        f"cloud adoption after wave {wave}: {pct(o['adoption_rate'])} (target {pct(o['adoption_target'])}); "
        f"{len(o['blocking_systems'])} systems not yet on the cloud; {len(o['dr_gaps'])} DR gaps"
    )


StackName = Annotated[
    str, typer.Option("--stack", help="stack name (its state lives under --state)")
]
StateDir = Annotated[Path, typer.Option("--state", help="local state directory (file backend)")]
RenderDir = Annotated[
    Path | None,
    typer.Option(
        "--render-dir", help="write YAML to OUT/<cluster>/ instead of applying (no cluster needed)"
    ),
]
Kubeconfig = Annotated[
    Path | None,
    typer.Option(
        "--kubeconfig",
        help="kubeconfig with one context per cluster (named after it unless --context says otherwise)",
    ),
]
Contexts = Annotated[
    list[str] | None, typer.Option("--context", help="CLUSTER=CONTEXT in --kubeconfig (repeatable)")
]
Wave = Annotated[
    int | None,
    typer.Option(help="migration wave applied (legacy systems of waves ≤ N appear)", min=0),
]
Failover = Annotated[
    list[str] | None, typer.Option(help="system id whose DR replica runs (repeatable)")
]
Policy = Annotated[
    bool,
    typer.Option(
        "--policy/--no-policy", help="run the policy pack (infra/policy) on the resources"
    ),
]
Checkpoints = Annotated[
    bool,
    typer.Option(
        "--checkpoints",
        help="save the state after every resource (slow: quadratic in the file backend)",
    ),
]


def checked(m, settings: StackSettings) -> None:
    """The placement rules, before anything runs: a refusal is the user's to fix (exit 2)."""
    try:
        planner.plan(m, settings.wave, settings.failover)
    except PlacementError as exc:
        raise UserError(str(exc)) from None


STACK_KEPT = (
    "the stack keeps what Pulumi did before the interrupt, as its state records it; "
    "run the command again to finish"
)


@contextmanager
def engine_errors() -> Iterator[None]:
    try:
        yield
    except (engine.EngineMissing, engine.PassphraseMissing, engine.EngineError) as exc:
        raise UserError(str(exc)) from None


def stack_settings(
    city: Path,
    render_dir: Path | None,
    kubeconfig: Path | None,
    contexts: list[str] | None,
    wave: int | None,
    failover: list[str] | None,
) -> StackSettings:
    """The stack config the flags describe; the model is loaded and the plan checked first."""
    if (render_dir is None) == (kubeconfig is None):
        raise UserError(
            "give exactly one of --render-dir OUT (write YAML) or --kubeconfig FILE (apply to clusters)"
        )
    m = load(city)
    settings = StackSettings(model=str(city), wave=wave, failover=frozenset(failover or ()))
    checked(m, settings)
    if render_dir is not None:
        if render_dir.exists() and not render_dir.is_dir():
            raise UserError(f"{render_dir}: exists and is not a directory")
        return replace(settings, render_dir=str(render_dir))
    if not kubeconfig.is_file():
        raise UserError(f"{kubeconfig}: no such kubeconfig file")
    names = set(planner.clusters(m)[0])
    mapping = {}
    for item in contexts or ():
        cluster, sep, context = item.partition("=")
        if not sep or cluster not in names or not context:
            raise UserError(
                f"--context {item!r}: expected CLUSTER=CONTEXT with CLUSTER one of {', '.join(sorted(names))}"
            )
        mapping[cluster] = context
    return replace(
        settings,
        clusters={
            n: ClusterConfig(context=mapping.get(n, n), kubeconfig=str(kubeconfig))
            for n in sorted(names)
        },
        skip_await=lab_k8s.without_nodes(kubeconfig),
    )  # `govctl lab k8s`: no nodes, nothing gets ready


def report(result: dict, as_json: bool) -> None:
    if as_json:
        print_json(
            {k: result[k] for k in ("schema_version", "stack", "operation", "changes", "outputs")}
        )
        return
    c = result["changes"]
    verb = {"preview": "would", "up": "did", "destroy": "did", "refresh": "did"}[
        result["operation"]
    ]
    console.print(
        f"[bold]{result['operation']}[/] of stack {result['stack']} ({verb}): "
        f"{c['create']} create, {c['update']} update, {c['replace']} replace, {c['delete']} delete, "
        f"{c['same']} unchanged ({result['seconds']:.0f} s)"
    )
    o = result["outputs"]
    if "adoption_rate" in o:
        console.print(
            f"cloud adoption after wave {o.get('wave')}: {pct(o['adoption_rate'])} "
            f"(target {pct(o['adoption_target'])}); {len(o.get('dr_gaps') or {})} DR gaps"
        )


def _stream(as_json: bool):
    """Pulumi's own progress lines, unless the output is JSON."""
    return None if as_json else (lambda line: console.print(line, markup=False, highlight=False))


def _run_op(
    operation: str,
    city: Path,
    stack_name: str,
    state: Path,
    render_dir: Path | None,
    kubeconfig: Path | None,
    contexts: list[str] | None,
    wave: int | None,
    failover: list[str] | None,
    policy: bool,
    checkpoints: bool,
    as_json: bool,
) -> None:
    settings = stack_settings(city, render_dir, kubeconfig, contexts, wave, failover)
    with engine_errors(), keeps(STACK_KEPT) if operation == "up" else contextlib.nullcontext():
        st = engine.stack(stack_name, settings, state, checkpoints=checkpoints)
        run = engine.preview if operation == "preview" else engine.up
        result = run(
            st, on_output=_stream(as_json), policy_packs=[engine.POLICY_PACK] if policy else []
        )
    report(result, as_json)


@tenants_app.command("preview")
def preview_cmd(
    stack: StackName,
    city: CityDir = Path(DEFAULT_CITY),
    state: StateDir = engine.DEFAULT_STATE,
    render_dir: RenderDir = None,
    kubeconfig: Kubeconfig = None,
    context: Contexts = None,
    wave: Wave = None,
    failover: Failover = None,
    policy: Policy = True,
    checkpoints: Checkpoints = False,
    as_json: JsonFlag = False,
) -> None:
    """Show what `up` would change (real engine, local state), with the policy pack."""
    _run_op(
        "preview",
        city,
        stack,
        state,
        render_dir,
        kubeconfig,
        context,
        wave,
        failover,
        policy,
        checkpoints,
        as_json,
    )


@tenants_app.command("up")
def up_cmd(
    stack: StackName,
    city: CityDir = Path(DEFAULT_CITY),
    state: StateDir = engine.DEFAULT_STATE,
    render_dir: RenderDir = None,
    kubeconfig: Kubeconfig = None,
    context: Contexts = None,
    wave: Wave = None,
    failover: Failover = None,
    policy: Policy = True,
    checkpoints: Checkpoints = False,
    as_json: JsonFlag = False,
) -> None:
    """Create or update the tenants: write YAML (--render-dir) or apply to the clusters (--kubeconfig)."""
    _run_op(
        "up",
        city,
        stack,
        state,
        render_dir,
        kubeconfig,
        context,
        wave,
        failover,
        policy,
        checkpoints,
        as_json,
    )


@tenants_app.command("destroy")
def destroy_cmd(
    stack: StackName,
    city: CityDir = Path(DEFAULT_CITY),
    state: StateDir = engine.DEFAULT_STATE,
    remove: Annotated[
        bool, typer.Option("--rm", help="also remove the stack (state and Pulumi.<stack>.yaml)")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Delete every resource of the stack (rendered files or cluster objects), as its state records them."""
    with engine_errors(), keeps(STACK_KEPT):
        st = engine.open_stack(stack, state)
        result = engine.destroy(st, on_output=_stream(as_json), remove=remove)
    report(result, as_json)
