"""`govctl simulate capacity|backup|rollout|validate`: thin shells over `simulate/`.

Each command imports its simulation (SimPy, NumPy, matplotlib for the report) when it runs,
so `govctl simulate --help` loads none of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from govctl.common import (
    DEFAULT_CITY,
    CityDir,
    JsonFlag,
    UserError,
    console,
    err,
    load,
    pct,
    print_json,
)

if TYPE_CHECKING:
    from simulate.settings import Settings

simulate_app = typer.Typer(
    help="SimPy models: capacity, backup/DR, rollout duration; validation against Erlang B/C.",
    no_args_is_help=True,
)

Out = Annotated[Path, typer.Option("--out", help="directory for the JSON, Markdown and PNG report")]
Seed = Annotated[int, typer.Option(help="random seed: same seed, same report")]
SettingsFile = Annotated[
    Path | None, typer.Option("--settings", help="YAML with capacity:/backup:/rollout: overrides")
]
Wave = Annotated[int | None, typer.Option(help="bring migration waves up to N onto the cloud")]
Jobs = Annotated[
    int | None,
    typer.Option("--jobs", min=1, help="worker processes for replications (default: CPU count)"),
]
Scheduler = Annotated[
    str | None,
    typer.Option("--scheduler", help="dask.distributed scheduler address: run replications there"),
]


@contextmanager
def _progress(label: str, total: float) -> Iterator:
    columns = [
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn() if total > 1 else TextColumn(""),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(label, total=total)
        yield task, bar


def _fraction(label: str):
    """A progress callback taking the fraction done (0..1)."""
    return _progress(label, 1.0)


def _out_dir(out: Path, city: Path, settings: Path | None) -> Path:
    from model.outputs import check_outputs

    check_outputs(dirs=[out], inputs=[city, settings])  # before any work
    return out


def _settings(path: Path | None, overrides: dict[str, object]) -> Settings:
    """The settings file with the command's options over it (None: not given), checked as one."""
    from simulate.settings import load_settings

    return load_settings(path, overrides)


def _written(paths: list[Path]) -> None:
    console.print("[green]wrote[/] " + ", ".join(str(p) for p in paths))


@simulate_app.command("capacity")
def capacity(
    city: CityDir = Path(DEFAULT_CITY),
    out: Out = Path("sim-out"),
    seed: Seed = 1,
    years: Annotated[
        float | None,
        typer.Option(min=0.01, max=20, help="simulated years (default from settings: 3)"),
    ] = None,
    wave: Wave = None,
    replications: Annotated[
        int | None,
        typer.Option(min=2, max=100_000, help="independent replications: the peaks' distribution"),
    ] = None,
    jobs: Jobs = None,
    scheduler: Scheduler = None,
    settings: SettingsFile = None,
    as_json: JsonFlag = False,
) -> None:
    """Zones over the years: peak/p95 utilisation, exhaustion, placement failures, nodes needed."""
    from simulate import capacity as capacity_lib
    from simulate import replicate, report

    out = _out_dir(out, city, settings)
    cfg = _settings(settings, {"capacity.years": years}).capacity
    m = load(city)
    if replications:
        with _progress("capacity replications", replications) as (task, bar):
            datas = _replicated(
                lambda p: replicate.run(
                    capacity_lib.replication,
                    (m, cfg, wave),
                    seed,
                    replications,
                    jobs=jobs,
                    scheduler=scheduler,
                    progress=p,
                ),
                lambda k: bar.advance(task, k),
            )
        data = dict(datas[0], replications=capacity_lib.distribution(datas))
    else:
        with _fraction("capacity") as (task, bar):
            data = capacity_lib.run(
                m, cfg, seed=seed, wave=wave, progress=lambda f: bar.update(task, completed=f)
            )
    paths = report.write(out, data)
    if as_json:
        print_json(data)
        return
    for name, z in data["zones"].items():
        console.print(
            f"{name}: peak {pct(z['peak_utilisation'])}, p95 {pct(z['p95_utilisation'])}, "
            f"placement failures {z['placement_failures']['total']}, nodes needed {z['nodes_needed'] if z['nodes_needed'] is not None else '— (a VM is larger than a node)'} of {z['nodes']}"
        )
    _written(paths)


@simulate_app.command("backup")
def backup(
    city: CityDir = Path(DEFAULT_CITY),
    out: Out = Path("sim-out"),
    seed: Seed = 1,
    days: Annotated[
        int | None,
        typer.Option(min=1, max=3660, help="nights simulated (default from settings: 30)"),
    ] = None,
    wave: Wave = None,
    settings: SettingsFile = None,
    as_json: JsonFlag = False,
) -> None:
    """Nightly backups and DR copies over the links: window per night, RPO/RTO per system."""
    from simulate import backup as backup_lib
    from simulate import report

    out = _out_dir(out, city, settings)
    cfg = _settings(settings, {"backup.days": days}).backup
    m = load(city)
    try:
        with _fraction("backup") as (task, bar):
            data = backup_lib.run(
                m, cfg, seed=seed, wave=wave, progress=lambda f: bar.update(task, completed=f)
            )
    except backup_lib.NoDrLinks as exc:
        raise UserError(str(exc)) from None
    paths = report.write(out, data)
    if as_json:
        print_json(data)
        return
    w = data["window"]
    console.print(
        f"window: {w['nights_over']} of {w['nights']} nights over {w['window_h']:g} h (max {w['max_h']} h); "
        f"RPO violations {len(data['rpo_violations'])}, RTO violations {len(data['rto_violations'])} "
        f"of {len(data['systems'])} systems"
    )
    _written(paths)


@simulate_app.command("rollout")
def rollout(
    city: CityDir = Path(DEFAULT_CITY),
    out: Out = Path("sim-out"),
    seed: Seed = 1,
    forks: Annotated[
        int | None, typer.Option(min=1, max=10_000, help="devices pushed in parallel (default 20)")
    ] = None,
    replications: Annotated[
        int | None, typer.Option(min=2, max=1_000_000, help="independent runs (default 200)")
    ] = None,
    jobs: Jobs = None,
    scheduler: Scheduler = None,
    settings: SettingsFile = None,
    as_json: JsonFlag = False,
) -> None:
    """Distribution of the total duration of a push to every extranet device, level by level."""
    from simulate import report
    from simulate import rollout as rollout_lib

    out = _out_dir(out, city, settings)
    cfg = _settings(
        settings, {"rollout.forks": forks, "rollout.replications": replications}
    ).rollout
    m = load(city)
    with _progress("rollout replications", cfg.replications) as (task, bar):
        data = _replicated(
            lambda p: rollout_lib.run(
                m, cfg, seed=seed, jobs=jobs, scheduler=scheduler, progress=p
            ),
            lambda k: bar.advance(task, k),
        )
    paths = report.write(out, data)
    if as_json:
        print_json(data)
        return
    t = data["total_h"]
    console.print(
        f"rollout of {sum(data['devices'].values()):,} devices with {cfg.forks} forks: "
        f"mean {t['mean']:.2f} h, p50 {t['p50']:.2f} h, p95 {t['p95']:.2f} h"
    )
    _written(paths)


class QueueModel(StrEnum):
    erlang_b = "erlang-b"
    erlang_c = "erlang-c"


@simulate_app.command("validate")
def validate(
    model: Annotated[
        QueueModel, typer.Option("--model", help="erlang-b (M/M/c/c) or erlang-c (M/M/c)")
    ],
    servers: Annotated[int, typer.Option("--servers", min=1, max=10_000, help="c")],
    load_: Annotated[
        float, typer.Option("--load", min=0.0, help="offered load A in erlangs (service rate 1)")
    ],
    seed: Seed = 1,
    replications: Annotated[
        int | None, typer.Option(min=2, max=100_000, help="independent replications")
    ] = None,
    customers: Annotated[
        int | None, typer.Option(min=100, help="customers measured per replication")
    ] = None,
    precision: Annotated[
        float | None,
        typer.Option(
            min=0.0001,
            max=0.5,
            help="add replications until every 95% half-width is within this fraction of its estimate",
        ),
    ] = None,
    jobs: Jobs = None,
    scheduler: Scheduler = None,
    as_json: JsonFlag = False,
) -> None:
    """Run the capacity engine as a textbook queue; compare with Erlang B/C closed forms."""
    from simulate import validate as validate_lib

    try:
        with _progress(
            f"{model.value} replications", replications or validate_lib.DEFAULT_RUN[model.value][0]
        ) as (task, bar):
            data = _replicated(
                lambda p: validate_lib.run(
                    model.value,
                    servers,
                    load_,
                    seed,
                    replications=replications,
                    customers=customers,
                    jobs=jobs,
                    scheduler=scheduler,
                    progress=p,
                    precision=precision,
                ),
                lambda k: bar.advance(task, k),
            )
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        print_json(data)
        return
    for key in ("p_block", "p_wait", "mean_wait"):
        if key in data:
            lo, hi = data[f"{key}_ci95"]
            console.print(
                f"{key}: {data[key]:.6f} (95% CI {lo:.6f}–{hi:.6f}), exact {data[f'{key}_exact']:.6f}, "
                f"error {data[f'{key}_rel_error']:.2%}, half-width {data['relative_half_width'][key]:.2%}"
            )
    if precision is not None:
        met = "met" if data["precision_met"] else "NOT met (max replications reached)"
        console.print(f"precision {precision:.2%} {met} after {data['replications']} replications")


def _replicated(call, advance):
    """Run `call(progress)`, turning a missing Dask into a user error."""
    try:
        return call(advance)
    except RuntimeError as exc:
        if "dask" in str(exc):
            raise UserError(str(exc)) from None
        raise
