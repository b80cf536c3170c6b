"""The govcloud Prometheus exporter: the plans' KPIs and per-tenant utilisation on `/metrics`.

A prometheus-client custom collector formats, at scrape time, a `Snapshot` — plain data that
a background thread rebuilds every `interval` seconds from three collectors:

- `model` — the city model (re-read, so edits show up) and its KPIs;
- `utilisation` — a `capacity.sources` source, assessed by `capacity.rightsizing`;
- `backup` — optional, a backup simulation's per-system RPO (`monitoring/backup_rpo.py`).

A collector that fails keeps the scrape alive: it reports `govcloud_collector_up{collector}`
0 and its metrics are left out until it succeeds again. A scrape never waits on a source.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import CollectorRegistry

from capacity import kpi
from capacity.kpi import Ratio as KpiRatio
from capacity.rightsizing import Assessment, Settings, assess
from capacity.sources import HistorySource, UtilisationSource
from model import load_city
from model.city import CityModel
from model.history import GIB
from monitoring.backup_rpo import read_rpo

KPI_RATIOS = (  # (metric suffix, kpi.compute key)
    ("cloud_adoption", "cloud_adoption_rate"),
    ("machine_room_consolidation", "machine_room_consolidation_rate"),
    ("private_network_migration", "private_network_migration_rate"),
)
LEVEL_RATIOS = (("ipv6_rollout", "ipv6_rollout"), ("extranet_coverage", "extranet_coverage"))
LEVEL_HELP = {
    "ipv6_rollout": "Share of the covered extranet sites of a level that run dual stack (0–1).",
    "extranet_coverage": "Share of the extranet sites of a level that have a device (0–1).",
}
TENANT_GAUGES = (  # (metric, help, value of a tenant's totals)
    (
        "govcloud_tenant_cpu_request_cores",
        "CPU requested by a tenant's measured systems, in cores.",
        "cpu_request_cores",
    ),
    (
        "govcloud_tenant_cpu_usage_cores",
        "CPU used by a tenant's systems at the latest sample, in cores.",
        "cpu_usage_cores",
    ),
    (
        "govcloud_tenant_cpu_reclaimable_cores",
        "CPU freed by compressing a tenant's low-utilisation systems.",
        "cpu_freed_cores",
    ),
    (
        "govcloud_tenant_memory_request_bytes",
        "Memory requested by a tenant's measured systems, in bytes.",
        "memory_request_bytes",
    ),
    (
        "govcloud_tenant_memory_usage_bytes",
        "Working-set memory of a tenant's systems at the latest sample.",
        "memory_usage_bytes",
    ),
    (
        "govcloud_tenant_memory_reclaimable_bytes",
        "Memory freed by compressing a tenant's low-utilisation systems.",
        "memory_freed_bytes",
    ),
)
RATIO_GAUGES = (
    (
        "govcloud_tenant_cpu_utilization_ratio",
        "CPU usage over request of a tenant (department in a zone).",
        "cpu_usage_cores",
        "cpu_request_cores",
    ),
    (
        "govcloud_tenant_memory_utilization_ratio",
        "Memory usage over request of a tenant (department in a zone).",
        "memory_usage_bytes",
        "memory_request_bytes",
    ),
)
COLLECTORS = ("model", "utilisation", "backup")
MAX_GROUPS = 100
"""Label values per breakdown (counties, departments): beyond it the smallest groups are
summed into `other`, so a city of 5,000 departments cannot blow up the series count."""


@dataclass
class Snapshot:
    """Everything a scrape shows, as plain data. Replaced whole, never mutated after publish."""

    kpi: dict | None = None
    bureau: dict | None = None  # capacity.kpi.report: every indicator against its year's target
    groups: dict[str, dict[str, dict[str, KpiRatio]]] = field(
        default_factory=dict
    )  # breakdown → group → indicator → ratio
    group_targets: dict[str, dict[str, dict[str, dict]]] = field(
        default_factory=dict
    )  # breakdown → group → indicator → its assigned target (targets.yaml)
    zones: list[tuple[str, float, float]] = field(default_factory=list)  # name, vCPU, memory bytes
    tenants: dict[tuple[str, str], dict] = field(
        default_factory=dict
    )  # (department, zone) → totals
    candidates: list[tuple[str, str, int]] = field(default_factory=list)  # system, department, 0/1
    rpo: dict[str, tuple[float, float]] = field(default_factory=dict)
    up: dict[str, bool] = field(default_factory=dict)
    duration: dict[str, float] = field(default_factory=dict)
    last_success: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _tenant_totals(assessment: Assessment) -> dict[tuple[str, str], dict]:
    out: dict[tuple[str, str], dict] = {}
    for s in assessment.systems:
        t = out.setdefault(
            (s.department, s.zone),
            dict.fromkeys(
                (
                    "cpu_request_cores",
                    "cpu_usage_cores",
                    "cpu_freed_cores",
                    "memory_request_bytes",
                    "memory_usage_bytes",
                    "memory_freed_bytes",
                ),
                0.0,
            ),
        )
        t["cpu_request_cores"] += s.cpu_request
        t["cpu_usage_cores"] += s.cpu["last"]
        t["cpu_freed_cores"] += s.cpu_freed
        t["memory_request_bytes"] += s.memory_request_bytes
        t["memory_usage_bytes"] += s.memory["last"]
        t["memory_freed_bytes"] += s.memory_freed_bytes
    return out


class ExporterState:
    """Holds the current `Snapshot` and rebuilds it from the collectors on an interval."""

    def __init__(
        self,
        city_dir: Path,
        source: UtilisationSource | None = None,
        settings: Settings | None = None,
        backup_report: Path | None = None,
        interval: float = 60.0,
        clock: Callable[[], float] = time.time,
        loader: Callable[[Path], CityModel] = load_city,
    ):
        self.city_dir = Path(city_dir)
        self.source = source or HistorySource()
        self.settings = settings or Settings()
        self.backup_report = backup_report
        self.interval = interval
        self.clock = clock
        self.loader = loader  # the city is re-read on every refresh, so edits show up
        self.snapshot = Snapshot()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_success: dict[str, float] = {}

    def _run(self, snap: Snapshot, name: str, job: Callable[[], None]) -> bool:
        start = time.perf_counter()
        try:
            job()
            ok = True
            self._last_success[name] = self.clock()
        except Exception as exc:  # a collector failing must never take the exporter down
            ok = False
            snap.errors[name] = f"{type(exc).__name__}: {exc}"[:500]
        snap.up[name] = ok
        snap.duration[name] = time.perf_counter() - start
        return ok

    def refresh(self) -> Snapshot:
        """Rebuild the snapshot from every collector and publish it; returns it."""
        snap = Snapshot()
        box: dict[str, CityModel] = {}

        def model_job():
            m = box["model"] = self.loader(self.city_dir)
            snap.kpi = kpi.compute(m)
            today = date.today()
            snap.bureau = kpi.report(m, as_of=today, year=kpi.default_year(m, today))
            snap.groups = {
                by: bounded(kpi.figures(m, today, snap.bureau["year"], by)) for by in kpi.BREAKDOWNS
            }
            snap.group_targets = {
                by: kpi.group_targets(m, snap.bureau["year"], by) for by in kpi.BREAKDOWNS
            }
            snap.zones = [
                (z.name, z.vcpu_capacity, z.memory_capacity_gib * GIB) for z in m.city.zones
            ]

        def utilisation_job():
            if "model" not in box:
                raise RuntimeError("the city model did not load")
            a = assess(box["model"], self.source.fetch(box["model"]), self.settings)
            snap.tenants = _tenant_totals(a)
            snap.candidates = [(s.system, s.department, int(s.compress)) for s in a.systems]

        def backup_job(report: Path) -> None:
            if "model" not in box:
                raise RuntimeError("the city model did not load")
            snap.rpo = read_rpo(report, box["model"])

        self._run(snap, "model", model_job)
        self._run(snap, "utilisation", utilisation_job)
        report = self.backup_report
        if report is not None:
            self._run(snap, "backup", lambda: backup_job(report))
        snap.last_success = dict(self._last_success)
        self.snapshot = snap
        return snap

    def start(self) -> None:
        """Refresh in a daemon thread every `interval` seconds until `stop()`."""

        def loop():
            while not self._stop.wait(self.interval):
                self.refresh()

        self._thread = threading.Thread(target=loop, name="govcloud-exporter-refresh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def build_info() -> dict[str, str]:
    """Labels of `govcloud_build_info`: the installed govcloud version (pyproject.toml's) and
    the Python that runs the exporter."""
    import platform
    from importlib import metadata

    try:
        version = metadata.version("govcloud")
    except metadata.PackageNotFoundError:  # a checkout that was never installed
        version = "unknown"
    return {"version": version, "python_version": platform.python_version()}


class GovcloudCollector:
    """prometheus-client custom collector: formats the state's current snapshot at scrape time."""

    def __init__(self, state: ExporterState):
        self.state = state
        self.build = build_info()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snap = self.state.snapshot
        info = GaugeMetricFamily(
            "govcloud_build_info",
            "Always 1: the govcloud version and Python that serve these metrics.",
            labels=list(self.build),
        )
        info.add_metric(list(self.build.values()), 1.0)
        yield info
        yield from _kpi_families(snap)
        yield from _bureau_families(snap)
        yield from _capacity_families(snap)
        if snap.rpo or "backup" in snap.up:
            rpo = GaugeMetricFamily(
                "govcloud_backup_rpo_seconds",
                "Worst recovery point a system achieved in the backup simulation.",
                labels=["system"],
            )
            target = GaugeMetricFamily(
                "govcloud_backup_rpo_target_seconds",
                "A system's RPO target (its GB/T 20988 DR level).",
                labels=["system"],
            )
            for system, (achieved, goal) in sorted(snap.rpo.items()):
                rpo.add_metric([system], achieved)
                target.add_metric([system], goal)
            yield rpo
            yield target
        up = GaugeMetricFamily(
            "govcloud_collector_up",
            "1 if the collector's last refresh succeeded.",
            labels=["collector"],
        )
        took = GaugeMetricFamily(
            "govcloud_collector_duration_seconds",
            "Time the collector's last refresh took.",
            labels=["collector"],
        )
        last = GaugeMetricFamily(
            "govcloud_collector_last_success_timestamp_seconds",
            "When the collector last succeeded.",
            labels=["collector"],
        )
        for name in COLLECTORS:
            if name in snap.up:
                up.add_metric([name], float(snap.up[name]))
                took.add_metric([name], snap.duration[name])
            if name in snap.last_success:
                last.add_metric([name], snap.last_success[name])
        yield from (up, took, last)


def _kpi_families(snap: Snapshot) -> Iterator[GaugeMetricFamily]:
    if snap.kpi is None:
        return
    data = snap.kpi
    for suffix, key in KPI_RATIOS:
        if data[key] is not None:
            yield GaugeMetricFamily(
                f"govcloud_{suffix}_ratio",
                f"Share of {suffix.replace('_', ' ')} achieved (0–1).",
                value=data[key],
            )
    for suffix, key in LEVEL_RATIOS:
        fam = GaugeMetricFamily(f"govcloud_{suffix}_ratio", LEVEL_HELP[suffix], labels=["level"])
        for level, v in data[key].items():
            if v is not None:
                fam.add_metric([level], v)
        yield fam
    target = GaugeMetricFamily(
        "govcloud_kpi_target_ratio",
        "The municipal plans' target for each KPI (0–1).",
        labels=["kpi"],
    )
    for suffix, key in (*KPI_RATIOS, *LEVEL_RATIOS):
        target.add_metric([suffix], data["targets"][key])
    yield target


def bounded(groups: dict[str, dict[str, kpi.Ratio]]) -> dict[str, dict[str, kpi.Ratio]]:
    """At most MAX_GROUPS groups: the largest (by their units) kept, the rest summed as
    `other` — sums over the label stay the city's."""
    if len(groups) <= MAX_GROUPS:
        return groups
    size = {g: sum(r.den for r in row.values()) for g, row in groups.items()}
    keep = sorted(groups, key=lambda g: (-size[g], g))[: MAX_GROUPS - 1]
    out = {g: groups[g] for g in keep}
    other: dict[str, kpi.Ratio] = {}
    for g, row in groups.items():
        if g not in out:
            for k, r in row.items():
                other[k] = other.get(k, kpi.Ratio(0.0, 0.0)) + r
    out["other"] = other
    return out


def _bureau_families(snap: Snapshot) -> Iterator[GaugeMetricFamily]:
    """Every indicator city-wide, its year's target, projection and at-risk flag, and the
    numerator and denominator per county and per department (for the recording rules)."""
    if snap.bureau is None:
        return
    rows = snap.bureau["indicators"]
    value = GaugeMetricFamily(
        "govcloud_kpi_ratio", "Each plan indicator city-wide (0–1).", labels=["kpi"]
    )
    target = GaugeMetricFamily(
        "govcloud_kpi_plan_target_ratio",
        "The indicator's target for the plan year shown (targets.yaml).",
        labels=["kpi", "year", "kind"],
    )
    projected = GaugeMetricFamily(
        "govcloud_kpi_projected_ratio",
        "The indicator projected to 31 December of the plan year at the last year's pace.",
        labels=["kpi"],
    )
    risk = GaugeMetricFamily(
        "govcloud_kpi_at_risk",
        "1 when the indicator will miss its plan-year target at the current pace (or missed it).",
        labels=["kpi"],
    )
    year = str(snap.bureau["year"])
    for r in rows:
        if r["value"] is not None:
            value.add_metric([r["key"]], r["value"])
        if r["target"] is not None:
            target.add_metric([r["key"], year, r["kind"]], r["target"])
        if r["projected"] is not None:
            projected.add_metric([r["key"]], r["projected"])
        risk.add_metric([r["key"]], 1.0 if r["status"] in ("at_risk", "missed") else 0.0)
    yield from (value, target, projected, risk)
    for by, groups in snap.groups.items():
        num = GaugeMetricFamily(
            f"govcloud_kpi_{by}_numerator",
            f"An indicator's numerator in one {by} (sums to the city's).",
            labels=["kpi", by],
        )
        den = GaugeMetricFamily(
            f"govcloud_kpi_{by}_denominator",
            f"An indicator's denominator in one {by} (sums to the city's).",
            labels=["kpi", by],
        )
        own = GaugeMetricFamily(
            f"govcloud_kpi_{by}_target_ratio",
            f"A target targets.yaml assigns to one {by} for the plan year (others: the city's).",
            labels=["kpi", by],
        )
        for g, row in sorted(groups.items()):
            for k, r in row.items():
                num.add_metric([k, g], r.num)
                den.add_metric([k, g], r.den)
        assigned = snap.group_targets.get(by, {})
        for g in sorted(set(assigned) & set(groups)):  # groups folded into `other` have none
            for k, t in sorted(assigned[g].items()):
                own.add_metric([k, g], t["target"])
        yield from (num, den, own)


def _capacity_families(snap: Snapshot) -> Iterator[GaugeMetricFamily]:
    if snap.zones:
        cpu = GaugeMetricFamily(
            "govcloud_zone_cpu_capacity_cores",
            "vCPU a cloud zone offers (nodes × vCPU × overcommit).",
            labels=["zone"],
        )
        mem = GaugeMetricFamily(
            "govcloud_zone_memory_capacity_bytes",
            "Memory a cloud zone offers, in bytes.",
            labels=["zone"],
        )
        for name, vcpu, memory in snap.zones:
            cpu.add_metric([name], vcpu)
            mem.add_metric([name], memory)
        yield cpu
        yield mem
    if "utilisation" not in snap.up or not snap.up["utilisation"]:
        return
    tenants = sorted(snap.tenants.items())
    for metric, help_text, key in TENANT_GAUGES:
        fam = GaugeMetricFamily(metric, help_text, labels=["department", "zone"])
        for (dept, zone), t in tenants:
            fam.add_metric([dept, zone], t[key])
        yield fam
    for metric, help_text, num, den in RATIO_GAUGES:
        fam = GaugeMetricFamily(metric, help_text, labels=["department", "zone"])
        for (dept, zone), t in tenants:
            if t[den] > 0:
                fam.add_metric([dept, zone], t[num] / t[den])
        yield fam
    fam = GaugeMetricFamily(
        "govcloud_system_compress_candidate",
        "1 if the system's utilisation stayed below the compression threshold for the whole window.",
        labels=["system", "department"],
    )
    for system, dept, flag in snap.candidates:
        fam.add_metric([system, dept], flag)
    yield fam


def registry_for(state: ExporterState) -> CollectorRegistry:
    """A registry holding only the govcloud collector (no process/platform noise)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GovcloudCollector(state))
    return registry


def serve(state: ExporterState, host: str = "127.0.0.1", port: int = 9108):
    """Refresh once, start the refresh thread and the HTTP server; returns (server, thread)."""
    from prometheus_client import start_http_server

    state.refresh()
    served = start_http_server(port, addr=host, registry=registry_for(state))
    state.start()
    return served
