"""`govctl tenants render|preview|up|destroy`: the government cloud's tenants, per cluster.

Thin shells over `infra.render` (every object as plain data from the builders, no Pulumi)
and `infra.orchestrate` (the city's platform and department stacks through the real Pulumi
engine, a bounded pool of them at once, local file backend).
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from govctl.common import (
    DEFAULT_CITY,
    STACK_KEPT,
    CityDir,
    JsonFlag,
    UserError,
    console,
    engine_errors,
    err,
    keeps,
    load,
    pct,
    print_json,
)
from infra import engine, orchestrate
from infra import plan as planner
from infra.settings import ClusterConfig, StackSettings
from lab import k8s as lab_k8s
from model.outputs import check_outputs

if TYPE_CHECKING:
    from model.city import CityModel

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
    real: Annotated[
        bool,
        typer.Option(
            "--engine",
            help="run every stack through the real Pulumi engine (throwaway state, render mode)",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Write every Kubernetes object the Pulumi program would create, one folder per cluster.

    Builds them as plain data with the builders the Pulumi components use (no engine, no
    Pulumi runtime); with --engine, runs the city's stacks through the real engine instead
    (needs `make tools`) and writes what its providers rendered."""
    check_outputs(dirs=[out], inputs=[city])  # before any work
    from infra import render as renderer

    m = load(city)
    settings = StackSettings(
        model=str(city), wave=wave, failover=frozenset(failover or ()), registry=registry
    )
    how = "through the Pulumi engine, stack by stack" if real else "as plain data"
    with (
        err.status(f"rendering {len(m.departments)} departments {how}…"),
        engine_errors(),
    ):
        # both plan the city once (CloudPlan) and refuse a forbidden placement before
        # building anything: a PlacementError, exit 2, nothing written
        rendered = engine.render(settings) if real else renderer.render(m, settings)
    n = renderer.write(rendered, out)
    o = rendered.outputs
    if as_json:
        print_json(o)
        return
    per = ", ".join(
        f"{c}: {v['workloads']} workloads in {v['tenants']} tenants"
        for c, v in o["clusters"].items()
    )
    console.print(f"[green]wrote[/] {n:,} objects under {out}/ ({per}; built {how})")
    console.print(
        f"cloud adoption after wave {wave}: {pct(o['adoption_rate'])} (target {pct(o['adoption_target'])}); "
        f"{len(o['blocking_systems'])} systems not yet on the cloud; {len(o['dr_gaps'])} DR gaps"
    )


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
    typer.Option("--policy/--no-policy", help="run the policy pack (infra/policy) on every stack"),
]
Parallel = Annotated[
    int | None,
    typer.Option("--parallel", min=1, help="stacks run at once (default: the number of cores)"),
]
Only = Annotated[
    str | None, typer.Option("--only", help="only this department's stack (slug or code)")
]
Refresh = Annotated[
    bool,
    typer.Option(
        "--refresh",
        help="refresh every stack from its cluster and run it even when its inputs are unchanged",
    ),
]


def stack_settings(
    city: Path,
    render_dir: Path | None,
    kubeconfig: Path | None,
    contexts: list[str] | None,
    wave: int | None,
    failover: list[str] | None,
):
    """The city's stack config the flags describe, and the model. The placement rules are
    checked by the run itself (`infra.orchestrate.run` plans the city once, before any stack
    runs)."""
    if (render_dir is None) == (kubeconfig is None):
        raise UserError(
            "give exactly one of --render-dir OUT (write YAML) or --kubeconfig FILE (apply to clusters)"
        )
    check_outputs(dirs=[render_dir], inputs=[city])  # before any work (None: applying)
    m = load(city)
    settings = StackSettings(model=str(city), wave=wave, failover=frozenset(failover or ()))
    if render_dir is not None:
        return m, replace(settings, render_dir=str(render_dir))
    assert kubeconfig is not None  # exactly one of the two was given
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
    return m, replace(
        settings,
        clusters={
            n: ClusterConfig(context=mapping.get(n, n), kubeconfig=str(kubeconfig))
            for n in sorted(names)
        },
        skip_await=lab_k8s.without_nodes(kubeconfig),
    )  # `govctl lab k8s`: no nodes, nothing gets ready


def _line(r: dict) -> str:
    c = r["changes"]
    if r["status"] == "skipped":
        return f"[dim]= {r['stack']}: unchanged, skipped[/]"
    if r["status"] == "failed":
        return f"[red]✗ {r['stack']}[/]: {r['operation']} failed ({r['seconds']:.0f} s)"
    return (
        f"[green]✓[/] {r['stack']}: {r['operation']} {c['create']} create, {c['update']} update, "
        f"{c['replace']} replace, {c['delete']} delete, {c['same']} same ({r['seconds']:.1f} s)"
    )


def _progress(as_json: bool):
    """One line per stack as it finishes (stderr), unless the output is JSON."""
    return None if as_json else (lambda r: err.print(_line(r)))


def report(result: dict, as_json: bool) -> None:
    failed = [r for r in result["stacks"] if r["status"] == "failed"]
    if as_json:
        print_json(
            {
                "schema_version": result["schema_version"],
                "operation": result["operation"],
                "city": result["city"],
                "stacks": [
                    {
                        k: r[k]
                        for k in ("stack", "kind", "operation", "status", "changes", "seconds")
                    }
                    | ({"error": r["error"]} if "error" in r else {})
                    for r in result["stacks"]
                ],
                "total": result["total"],
                "outputs": result["outputs"],
            }
        )
    else:
        from rich.table import Table

        t = result["total"]
        table = Table(title=f"{result['operation']} of {result['city']}: {t['stacks']} stacks")
        for col in ("stacks", "ran", "skipped", "failed", *engine.CHANGE_KEYS, "seconds"):
            table.add_column(col, justify="right")
        by_kind: dict[str, list[dict]] = {}
        for r in result["stacks"]:
            by_kind.setdefault(r["kind"], []).append(r)
        for kind, rows in sorted(by_kind.items(), key=lambda kv: kv[0] != "platform"):
            sums = {k: sum(r["changes"].get(k, 0) for r in rows) for k in engine.CHANGE_KEYS}
            table.add_row(
                f"{kind} ({len(rows)})",
                str(sum(r["status"] == "done" for r in rows)),
                str(sum(r["status"] == "skipped" for r in rows)),
                str(sum(r["status"] == "failed" for r in rows)),
                *(str(sums[k]) for k in engine.CHANGE_KEYS),
                f"{sum(r['seconds'] for r in rows):.0f}",
            )
        table.add_row(
            "total",
            str(t["done"]),
            str(t["skipped"]),
            str(t["failed"]),
            *(str(t["changes"].get(k, 0)) for k in engine.CHANGE_KEYS),
            f"{t['seconds']:.0f} (wall)",
        )
        console.print(table)
        o = result["outputs"]
        if "adoption_rate" in o and result["operation"] != "destroy":
            console.print(
                f"cloud adoption after wave {o.get('wave')}: {pct(o['adoption_rate'])} "
                f"(target {pct(o['adoption_target'])}); {len(o.get('dr_gaps') or {})} DR gaps"
            )
    if failed:
        raise UserError(
            "\n".join(f"{r['stack']}: {r['error']}" for r in failed)
            + f"\n{len(failed)} of {len(result['stacks'])} stacks failed"
        )


def _stream(as_json: bool, verbose: bool):
    """Pulumi's own progress lines, when asked for (many stacks run at once: interleaved)."""
    if as_json or not verbose:
        return None
    return lambda line: console.print(line, markup=False, highlight=False)


Verbose = Annotated[
    bool, typer.Option("--verbose", "-v", help="also stream Pulumi's own output of every stack")
]


def _run(
    operation: str,
    settings: StackSettings,
    state: Path,
    m: CityModel,
    as_json: bool,
    verbose: bool,
    **options,
) -> None:
    """One operation over the city's stacks, a line per stack as it ends, then the report.
    An interrupted `up` or `destroy` says that each stack keeps what Pulumi did."""
    kept = contextlib.nullcontext() if operation == "preview" else keeps(STACK_KEPT)
    with engine_errors(), kept:
        result = orchestrate.run(
            operation,
            settings,
            state,
            model=m,
            on_stack=_progress(as_json),
            on_output=_stream(as_json, verbose),
            **options,
        )
    report(result, as_json)


def _stack_command(operation: str, doc: str):
    """`tenants preview` and `tenants up`: one command function, told which it runs."""

    def command(
        city: CityDir = Path(DEFAULT_CITY),
        state: StateDir = engine.DEFAULT_STATE,
        render_dir: RenderDir = None,
        kubeconfig: Kubeconfig = None,
        context: Contexts = None,
        wave: Wave = None,
        failover: Failover = None,
        policy: Policy = True,
        parallel: Parallel = None,
        only: Only = None,
        refresh: Refresh = False,
        verbose: Verbose = False,
        as_json: JsonFlag = False,
    ) -> None:
        with engine_errors():  # a city with no DR site has no clusters to name (PlacementError)
            m, settings = stack_settings(city, render_dir, kubeconfig, context, wave, failover)
        _run(
            operation,
            settings,
            state,
            m,
            as_json,
            verbose,
            parallel=parallel,
            only=only,
            refresh=refresh,
            policy=policy,
        )

    command.__name__ = f"{operation}_cmd"
    command.__doc__ = doc
    return command


preview_cmd = tenants_app.command("preview")(
    _stack_command(
        "preview",
        "Show what `up` would change in each stack (real engine, local state), with the policy pack.",
    )
)
up_cmd = tenants_app.command("up")(
    _stack_command(
        "up",
        "Create or update the city's stacks (platform first, then departments): write YAML\n"
        "(--render-dir) or apply to the clusters (--kubeconfig). Unchanged stacks are skipped.",
    )
)


@tenants_app.command("destroy")
def destroy_cmd(
    city: CityDir = Path(DEFAULT_CITY),
    state: StateDir = engine.DEFAULT_STATE,
    only: Only = None,
    parallel: Parallel = None,
    remove: Annotated[
        bool, typer.Option("--rm", help="also remove the stacks (state and Pulumi.<stack>.yaml)")
    ] = False,
    verbose: Verbose = False,
    as_json: JsonFlag = False,
) -> None:
    """Delete every resource of the city's stacks (rendered files or cluster objects), as
    their state records them: department stacks first, then the platform's."""
    m = load(city)
    _run(
        "destroy",
        StackSettings(model=str(city)),
        state,
        m,
        as_json,
        verbose,
        parallel=parallel,
        only=only,
        remove=remove,
    )
