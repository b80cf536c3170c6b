"""`govctl capacity report|export` and `govctl exporter`: utilisation assessment and monitoring."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import JustifyMethod
from rich.table import Table

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
from model.outputs import check_outputs

if TYPE_CHECKING:  # the capacity library (NumPy) loads with the commands, not with `--help`
    from capacity.rightsizing import Settings
    from capacity.sources import UtilisationSource

capacity_app = typer.Typer(
    help="Cloud utilisation: assessment, rightsizing, compression candidates.", no_args_is_help=True
)

PrometheusOpt = Annotated[
    str | None,
    typer.Option("--prometheus", help="read usage from this Prometheus server (http://host:port)"),
]
MetricsFileOpt = Annotated[
    Path | None, typer.Option("--metrics-file", help="read usage from an exported OpenMetrics file")
]
WindowOpt = Annotated[str | None, typer.Option(help="Prometheus: window to assess [default: 30d]")]
StepOpt = Annotated[
    str | None, typer.Option(help="Prometheus: resolution of the samples [default: 1h]")
]
RateOpt = Annotated[
    str | None, typer.Option(help="Prometheus: range of rate() over the CPU counters [default: 5m]")
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set", help="an assessment setting, KEY=VALUE (repeatable), e.g. compress_threshold=0.1"
    ),
]


MIN_REFRESH_S, MAX_REFRESH_S = 1.0, 86400.0
"""The exporter's refresh interval: finite, from a second to a day."""


def _source(
    prometheus: str | None,
    metrics_file: Path | None,
    window: str | None,
    step: str | None,
    rate: str | None,
) -> UtilisationSource:
    from capacity.sources import SourceError, choose

    try:
        return choose(prometheus, metrics_file, window=window, step=step, rate=rate)
    except SourceError as exc:
        raise UserError(str(exc)) from None


def _settings(pairs: list[str] | None) -> Settings:
    from capacity.rightsizing import Settings

    values: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UserError(f"--set wants KEY=VALUE, got {pair!r}")
        values[key.strip()] = value.strip()
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise UserError(
            f"--set: {problems} (settings: {', '.join(Settings.model_fields)})"
        ) from None


def _fetch(source: UtilisationSource, model):
    from capacity.sources import SourceError

    try:
        with err.status(f"reading usage from {source.describe()}…"):
            return source.fetch(model)
    except SourceError as exc:
        raise UserError(str(exc)) from None


@capacity_app.command("report")
def report(
    city: CityDir = Path(DEFAULT_CITY),
    prometheus: PrometheusOpt = None,
    metrics_file: MetricsFileOpt = None,
    window: WindowOpt = None,
    step: StepOpt = None,
    rate: RateOpt = None,
    settings: SetOpt = None,
    chart: Annotated[Path, typer.Option(help="where the human form writes its PNG chart")] = Path(
        "capacity-report.png"
    ),
    as_json: JsonFlag = False,
) -> None:
    """Assess utilisation, recommend requests and list the systems to compress."""
    from capacity import report as report_lib
    from capacity.rightsizing import assess

    if not as_json:
        check_outputs(files=[chart], inputs=[city, metrics_file])  # before any work
    source = _source(prometheus, metrics_file, window, step, rate)
    opts = _settings(settings)
    model = load(city)
    usage = _fetch(source, model)
    with err.status(f"assessing {len(usage):,} systems…"):
        data = report_lib.build(model, assess(model, usage, opts), source.describe())
    if as_json:
        print_json(data)
        return
    _print_tables(data)
    report_lib.write_chart(data, chart)
    console.print(f"chart written to [bold]{chart}[/]")


def _print_tables(data: dict) -> None:
    t = data["totals"]
    table = Table(title=f"Systems to compress — {len(data['compress'])} (source: {t['source']})")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("system", "left"),
        ("department", "left"),
        ("CPU req → rec", "right"),
        ("memory GiB req → rec", "right"),
        ("reason", "left"),
    )
    for col, just in columns:
        table.add_column(col, justify=just)
    for c in data["compress"]:
        table.add_row(
            c["system"],
            c["department"],
            f"{c['cpu_request']:g} → {c['cpu_recommended']:.2f}",
            f"{c['memory_request_bytes'] / 2**30:.1f} → {c['memory_recommended_bytes'] / 2**30:.1f}",
            c["reason"],
        )
    console.print(table)
    zones = Table(title="Per zone")
    for col in (
        "zone",
        "systems",
        "to compress",
        "CPU req",
        "CPU used",
        "CPU rec",
        "CPU freed",
        "mem req GiB",
        "mem freed GiB",
    ):
        zones.add_column(col, justify="left" if col == "zone" else "right")
    for name, z in [*t["zones"].items(), ("city", t["city"])]:
        zones.add_row(
            name,
            str(z["systems"]),
            str(z["compress_candidates"]),
            f"{z['cpu_request_cores']:.0f}",
            f"{z['cpu_usage_cores']:.1f}",
            f"{z['cpu_recommended_cores']:.1f}",
            f"{z['cpu_freed_cores']:.1f}",
            f"{z['memory_request_bytes'] / 2**30:.0f}",
            f"{z['memory_freed_bytes'] / 2**30:.0f}",
        )
    console.print(zones)
    k = t["kpi"]
    console.print(
        f"cloud adoption {pct(k['cloud_adoption_rate'])} · machine-room consolidation "
        f"{pct(k['machine_room_consolidation_rate'])} · private-network migration {pct(k['private_network_migration_rate'])}"
        + (
            f" · {len(t['unmeasured_systems'])} systems on the cloud without usage data"
            if t["unmeasured_systems"]
            else ""
        )
    )


@capacity_app.command("export")
def export(
    out: Annotated[Path, typer.Option(help="the OpenMetrics file to write")],
    city: CityDir = Path(DEFAULT_CITY),
    prometheus: PrometheusOpt = None,
    metrics_file: MetricsFileOpt = None,
    window: WindowOpt = None,
    step: StepOpt = None,
    rate: RateOpt = None,
) -> None:
    """Write usage from any source as an OpenMetrics file (`--metrics-file`, promtool backfill)."""
    from capacity.metrics_file import write_metrics_file

    check_outputs(files=[out], inputs=[city, metrics_file])  # before any work
    source = _source(prometheus, metrics_file, window, step, rate)
    model = load(city)
    usage = _fetch(source, model)
    n = write_metrics_file(out, usage)
    console.print(
        f"[green]wrote[/] {out}: {n:,} samples of {len(usage):,} systems from {source.describe()}"
    )


def exporter(
    city: CityDir = Path(DEFAULT_CITY),
    port: Annotated[int, typer.Option(min=1, max=65535, help="port to serve /metrics on")] = 9108,
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    prometheus: PrometheusOpt = None,
    metrics_file: MetricsFileOpt = None,
    window: WindowOpt = None,
    step: StepOpt = None,
    rate: RateOpt = None,
    settings: SetOpt = None,
    backup_report: Annotated[
        Path | None,
        typer.Option("--backup-report", help="a backup simulation's JSON (per-system RPO)"),
    ] = None,
    refresh_interval: Annotated[
        float, typer.Option("--refresh-interval", help="seconds between refreshes (1…86400)")
    ] = 60.0,
) -> None:
    """Serve the KPIs and per-tenant utilisation on http://HOST:PORT/metrics until Ctrl-C."""
    from monitoring.exporter import ExporterState, serve

    if not MIN_REFRESH_S <= refresh_interval <= MAX_REFRESH_S:  # also refuses nan and inf
        raise UserError(
            f"--refresh-interval {refresh_interval}: seconds between {MIN_REFRESH_S:g} and "
            f"{MAX_REFRESH_S:g} (a day)"
        )
    state = ExporterState(
        city,
        _source(prometheus, metrics_file, window, step, rate),
        _settings(settings),
        backup_report,
        refresh_interval,
    )
    try:
        server, _ = serve(state, host, port)
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    for name, why in state.snapshot.errors.items():
        err.print(f"[yellow]collector {name} is down:[/] {why}")
    console.print(
        f"serving http://{host}:{port}/metrics (refresh every {refresh_interval:g}s; Ctrl-C stops)"
    )
    try:
        while True:
            time.sleep(3600)
    finally:  # Ctrl-C: stop serving; govctl says "interrupted" and exits 130
        server.shutdown()
        state.stop()
