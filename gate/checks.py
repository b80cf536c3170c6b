"""Simulate before apply: the go/no-go gate behind `govctl plan`.

A plan is checked the way a careful planner would, in order, and every reason to stop
is collected (not just the first): the model's fit (systems against nodes, quotas and
zones), the IPv6 plan (a dry run: no lock written), the tenants (the Pulumi program's
placement rules and the policy pack over what it would create), capacity with the next
migration wave added, and the backup/DR nights with the migrated systems. Thresholds
are `GateSettings`. Plain data in, plain data out; nothing here prints or exits.

A `GateRun` keeps what the checks computed — the IPv6 `Plan`, the rendered tenants, the
capacity and backup results — so `govctl demo` and `govctl report` write those out instead of
computing them a second time. The network and infra parts are imported where they are used:
they pull in Pulumi, which `govctl --help` should not pay for.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Set
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from capacity import kpi
from gate import simulated
from model.city import CityModel
from simulate import backup as backup_lib
from simulate import capacity as capacity_lib
from simulate import load as load_lib
from simulate import replicate
from simulate.settings import Settings

if TYPE_CHECKING:
    from infra.render import Rendered
    from infra.settings import StackSettings
    from network.plan import Plan

SCHEMA_VERSION = 2

RenderTenants = Callable[[CityModel, "StackSettings"], "Rendered"]
"""How the tenants check renders the Pulumi program: under mocks (the default) or, in
`govctl demo` once `make tools` built it, through the real engine."""


class UnknownCheck(ValueError):
    """`skip` names a check the gate does not have."""


@dataclass(frozen=True)
class Reason:
    check: str
    subject: str
    value: float | str | None
    limit: float | str | None
    message: str
    probability: float | None = None  # simulated checks: share of replications it was seen in
    ci95: list[float] | None = None


@dataclass
class GateRun:
    """What one evaluation found: reasons to stop, warnings, and each check's data."""

    model: CityModel
    wave: int | None
    settings: Settings
    seed: int
    lock_path: Path | None
    render_tenants: RenderTenants
    jobs: int | None = None
    scheduler: str | None = None
    reasons: list[Reason] = field(default_factory=list)
    warnings: list[Reason] = field(default_factory=list)
    checks: dict[str, dict] = field(default_factory=dict)
    results: dict[str, dict] = field(default_factory=dict)
    ipv6_plan: Plan | None = None
    tenants: Rendered | None = None

    @cached_property
    def kpi(self) -> dict:
        """The plans' KPIs of the model (`capacity.kpi.compute`), computed once per run."""
        return kpi.compute(self.model)

    def stop(self, check: str, subject: str, value, limit, message: str, p=None, ci=None) -> None:
        self.reasons.append(Reason(check, subject, value, limit, message, p, ci))

    def warn(self, check: str, subject: str, value, limit, message: str, p=None, ci=None) -> None:
        self.warnings.append(Reason(check, subject, value, limit, message, p, ci))


def _fit(run: GateRun) -> None:
    """Systems against their zone's nodes, departments against quotas, zones against capacity."""
    m = run.model
    systems = m.on_cloud_systems(run.wave)
    demand: defaultdict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])  # cpu, mem, sto
    zone_demand: defaultdict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for s in systems:
        assert s.target_zone is not None, "on-cloud systems have a target zone (model/rules.py)"
        z = m.zones[s.target_zone]
        if s.vcpu > z.node_vcpu * z.cpu_overcommit or s.memory_gib > z.node_memory_gib:
            run.stop(
                "system_exceeds_node",
                s.id,
                f"{s.vcpu:g} vCPU / {s.memory_gib:g} GiB",
                f"{z.node_vcpu * z.cpu_overcommit:g} vCPU / {z.node_memory_gib} GiB",
                f"system {s.id} ({s.vcpu:g} vCPU, {s.memory_gib:g} GiB) is larger than any node of zone {z.name}",
            )
        if s.replicas > z.nodes:
            run.stop(
                "anti_affinity",
                s.id,
                s.replicas,
                z.nodes,
                f"system {s.id} wants {s.replicas} replicas on distinct nodes; zone {z.name} has {z.nodes} nodes",
            )
        d = demand[s.department]
        d[0] += s.vcpu * s.replicas
        d[1] += s.memory_gib * s.replicas
        d[2] += s.storage_gib
        zd = zone_demand[z.name]
        zd[0] += s.vcpu * s.replicas
        zd[1] += s.memory_gib * s.replicas
        zd[2] += s.storage_gib
    for code, (cpu, mem, sto) in sorted(demand.items()):
        q = m.departments_by_code[code].quota
        for what, used, hard, unit in (
            ("cpu", cpu, q.cpu, "cores"),
            ("memory", mem, q.memory_gib, "GiB"),
            ("storage", sto, q.storage_gib, "GiB"),
        ):
            if used > hard + 1e-9:
                run.stop(
                    "quota_exceeded",
                    code,
                    round(used, 3),
                    hard,
                    f"department {code} needs {used:g} {unit} of {what} after wave {run.wave}; its quota is {hard:g}",
                )
    for name, (cpu, mem, sto) in sorted(zone_demand.items()):
        z = m.zones[name]
        for what, used, cap in (
            ("vCPU", cpu, z.vcpu_capacity),
            ("memory GiB", mem, z.memory_capacity_gib),
            ("storage GiB", sto, z.storage_gib),
        ):
            if cap is not None and used > cap:
                run.stop(
                    "zone_capacity",
                    name,
                    round(used, 3),
                    cap,
                    f"zone {name} is asked for {used:g} {what}; it has {cap:g}",
                )
    run.results["fit"] = {"systems": len(systems), "departments": len(demand)}


def _construction(run: GateRun) -> None:
    """The plans' new-construction rule: new systems off the cloud, new or enlarged rooms,
    new private lines since the plans' start, unless an approved exception lists them."""
    from gate.construction import breaches

    found = breaches(run.model)
    for b in found:
        run.stop("new_construction", b.subject, b.since.isoformat(), b.kind, b.message)
    run.results["construction"] = {
        "plan_start": run.model.targets.plan_start.isoformat()
        if run.model.targets.plan_start
        else None,
        "breaches": len(found),
        "exceptions": len(run.model.exceptions),
    }


def _ipv6(run: GateRun) -> None:
    """A dry run of the IPv6 plan against the lock (nothing written)."""
    from network import lock as lock_lib
    from network.plan import PlanError, plan_city

    m = run.model
    lock = None
    if run.lock_path is not None:
        with lock_lib.open_lock(run.lock_path, m) as opened:
            lock = opened.lock
    try:
        plan = plan_city(m, None, lock)
    except PlanError as exc:
        run.stop("ipv6_block_exhausted", "ipv6", None, None, str(exc))
        return
    run.ipv6_plan = plan
    run.results["ipv6"] = {
        "aggregate": plan.aggregate,
        "new_prefixes": plan.new,
        "links": len(plan.links),
        "loopbacks": len(plan.loopbacks),
        "levels": [
            {
                "level": s.level,
                "prefix_len": s.prefix_len,
                "active": s.active,
                "capacity": s.capacity,
                "utilisation": round(s.utilisation, 4),
                "tightest_parent": s.tightest_parent,
                "tightest_free": s.tightest_free,
            }
            for s in plan.stats
        ],
    }


def render_with_mocks(m: CityModel, settings: StackSettings) -> Rendered:
    """The Pulumi program under Pulumi's mocks, in this process."""
    from infra.render import render

    return render(m, settings)


def _tenants(run: GateRun) -> None:
    """The Pulumi program's placement rules and the policy pack over what it would create."""
    from infra.plan import PlacementError
    from infra.policy import offline
    from infra.settings import StackSettings

    m = run.model
    try:
        rendered = run.render_tenants(m, StackSettings(model=str(m.source), wave=run.wave))
    except PlacementError as exc:
        run.stop("policy", "placement", None, None, str(exc))
        return
    run.tenants = rendered
    for v in offline.check(rendered.objects):
        run.stop("policy", v.resource, v.policy, None, f"{v.policy}: {v.message}")
    run.results["tenants"] = {
        "objects": {c: len(o) for c, o in rendered.objects.items()},
        "adoption_rate": rendered.outputs.get("adoption_rate"),
        "dr_gaps": len(rendered.outputs.get("dr_gaps", {})),
    }


def _simulated(run: GateRun, name: str, fn, args: tuple, findings, distribution) -> None:
    """Run `gate.replications` replications of one model; decide on each finding's probability."""
    gate = run.settings.gate
    datas = replicate.run(
        fn, args, run.seed, gate.replications, jobs=run.jobs, scheduler=run.scheduler
    )
    per_rep = [findings(d, gate) for d in datas]
    threshold = gate.max_violation_probability
    first = dict(datas[0])
    first["replications"] = {**distribution(datas), **simulated.summary(datas, per_rep, threshold)}
    run.results[name] = first
    for f, p in simulated.decide(per_rep, threshold):
        where = (
            f" — in {p['k']} of {p['n']} replications (p = {p['p']:.2f}, "
            f"95% CI {p['ci95'][0]:.2f}–{p['ci95'][1]:.2f})"
            if p["n"] > 1
            else ""
        )
        report = run.stop if p["nogo"] else run.warn
        report(f.check, f.subject, f.value, f.limit, f.message + where, p["p"], p["ci95"])


def _capacity(run: GateRun) -> None:
    """Capacity with the next wave added: peaks against the target, placements that failed."""
    gate = run.settings.gate
    settings = run.settings.capacity.model_copy(
        update={
            "years": gate.capacity_years,
            "target_utilisation": gate.target_utilisation,
            "target_storage_utilisation": gate.target_storage_utilisation,
        }
    )
    load_lib.table(run.model, settings.history_timezone)  # parsed once; forked workers inherit it
    _simulated(
        run,
        "capacity",
        capacity_lib.replication,
        (run.model, settings, run.wave),
        simulated.capacity_findings,
        capacity_lib.distribution,
    )


def _backup(run: GateRun) -> None:
    """Backup and DR nights with the migrated systems: RPO, RTO, replication, the window."""
    gate = run.settings.gate
    settings = run.settings.backup.model_copy(update={"days": gate.backup_days})
    _simulated(
        run,
        "backup",
        backup_lib.replication,
        (run.model, settings, run.wave),
        simulated.backup_findings,
        backup_lib.distribution,
    )


CHECKS: list[tuple[str, Callable[[GateRun], None]]] = [
    ("fit", _fit),
    ("construction", _construction),
    ("ipv6", _ipv6),
    ("tenants", _tenants),
    ("capacity", _capacity),
    ("backup", _backup),
]
CHECK_NAMES = [name for name, _ in CHECKS]


def resolve_lock(m: CityModel, lock: Path | None) -> Path | None:
    """An explicit lock must belong to the city; the default lock is used only if it does."""
    from network.lock import default_lock

    return lock if lock is not None else default_lock(m)


def evaluate(
    model: CityModel,
    wave: int | None = None,
    settings: Settings | None = None,
    seed: int = 1,
    lock_path: Path | None = None,
    skip: Set[str] = frozenset(),
    progress: Callable[[str], None] | None = None,
    jobs: int | None = None,
    scheduler: str | None = None,
    render_tenants: RenderTenants = render_with_mocks,
    kpis: dict | None = None,
) -> GateRun:
    """Run every check; `wave` defaults to the model's next wave (None: nothing pending).
    `lock_path` is the IPv6 lock to plan against (see `resolve_lock`; None: no lock);
    `kpis`: the model's `capacity.kpi.compute`, when the caller has computed it already.
    The simulated checks run their replications on `jobs` processes (default: CPU count)
    or on the Dask cluster at `scheduler`."""
    unknown = set(skip) - set(CHECK_NAMES)
    if unknown:
        raise UnknownCheck(
            f"unknown check {', '.join(sorted(unknown))}: the checks are {', '.join(CHECK_NAMES)}"
        )
    run = GateRun(
        model,
        model.next_wave if wave is None else wave,
        settings or Settings(),
        seed,
        lock_path,
        render_tenants,
        jobs,
        scheduler,
    )
    if kpis is not None:
        run.kpi = kpis
    for name, check in CHECKS:
        if name in skip:
            run.checks[name] = {"status": "skipped", "seconds": 0.0}
            continue
        if progress:
            progress(name)
        before = len(run.reasons)
        t0 = time.perf_counter()
        check(run)
        run.checks[name] = {
            "status": "fail" if len(run.reasons) > before else "pass",
            "seconds": round(time.perf_counter() - t0, 3),
        }
    return run


def summary(run: GateRun) -> dict:
    """The JSON `govctl plan --json` prints."""
    m = run.model
    cap = run.results.get("capacity")
    back = run.results.get("backup")
    return {
        "schema_version": SCHEMA_VERSION,
        "decision": "no-go" if run.reasons else "go",
        "city": m.city.name,
        "wave": run.wave,
        "seed": run.seed,
        "reasons": [asdict(r) for r in run.reasons],
        "warnings": [asdict(r) for r in run.warnings],
        "checks": run.checks,
        "kpi": run.kpi,
        "bureau": kpi.bureau_view(m),
        "adoption_after_wave": kpi.cloud_adoption_rate(m, run.wave)
        if run.wave is not None
        else kpi.cloud_adoption_rate(m),
        "ipv6": run.results.get("ipv6"),
        "tenants": run.results.get("tenants"),
        "capacity": None
        if cap is None
        else {
            name: {
                k: z[k]
                for k in (
                    "nodes",
                    "peak_utilisation",
                    "p95_utilisation",
                    "nodes_needed",
                    "placement_failures",
                    "storage_gib",
                    "peak_storage_gib",
                    "peak_storage_allocation",
                )
            }
            for name, z in cap["zones"].items()
        },
        "backup": None
        if back is None
        else {
            "window": back["window"],
            "rpo_violations": back["rpo_violations"],
            "rto_violations": back["rto_violations"],
            "replication_violations": back["replication_violations"],
        },
        "replications": {
            name: run.results[name]["replications"]
            for name in ("capacity", "backup")
            if name in run.results
        },
        "settings": run.settings.gate.model_dump(),
    }
