"""The city's stacks, by ownership — plain data, no Pulumi.

One **platform stack** per cluster (what every tenant there relies on: the Velero backup
locations and the encrypted StorageClass) and one **department stack** per department (its tenants, workloads, DR replicas
and backup schedules, in every cluster it uses). Names are stable and come from the model:
`<city>-<department slug>` and `<city>-platform.<cluster>` (a slug never holds a dot, so
the two never collide). A department stack reads nothing from the platform stacks at run
time: what it needs (cluster kinds, location names) is plain model data, and the
orchestrator (`infra/orchestrate.py`) runs the platform stacks first.

Each stack is a list of `Unit`s: one component (its Pulumi type, resource name, cluster and
the model data its builder takes). `objects(unit)` calls the builder (`infra/build.py`);
`infra/program.py` registers the same unit as its component. `inputs_hash` digests what a
stack would apply (its objects, its providers' targets, the program's source), and the
program exports it, so the state of the last successful `up` says what it applied.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from capacity import kpi
from infra import build
from infra import plan as planner
from infra.settings import StackSettings
from model.city import CityModel

ADOPTION_TARGET = next(t.target for t in kpi.TARGETS if t.key == "cloud_adoption_rate")
PLATFORM = "platform"
DEPARTMENT = "department"
TENANT = "govcloud:infra:DepartmentTenant"
WORKLOAD = "govcloud:infra:SystemWorkload"
REPLICA = "govcloud:infra:DrReplica"
LOCATIONS = "govcloud:infra:BackupLocations"
SCHEDULE = "govcloud:infra:BackupSchedule"
STORAGE = "govcloud:infra:EncryptedStorage"

BUILDERS: dict[str, Callable[..., list[build.Obj]]] = {
    TENANT: build.tenant,
    WORKLOAD: functools.partial(build.workload, role="primary"),
    REPLICA: functools.partial(build.workload, role="dr-replica"),
    LOCATIONS: build.backup_locations,
    SCHEDULE: build.schedule,
    STORAGE: build.encrypted_storage,
}


@dataclass(frozen=True)
class Unit:
    """One component: `BUILDERS[type](name, **args)` gives its objects."""

    type: str
    name: str
    cluster: str
    args: dict
    after: tuple[str, ...] = ()  # resources of other units it waits for (its tenant's namespace)


@dataclass
class StackPlan:
    name: str
    kind: str  # platform | department
    key: str  # the cluster's name, or the department's slug
    units: list[Unit] = field(default_factory=list)

    @property
    def scope(self) -> str:
        """The stack config's `govcloud:scope`: `platform/<cluster>` or `department/<slug>`."""
        return f"{self.kind}/{self.key}"

    @property
    def clusters(self) -> list[str]:
        return sorted({u.cluster for u in self.units})


def objects(unit: Unit) -> list[build.Obj]:
    return BUILDERS[unit.type](unit.name, **unit.args)


def city_slug(m: CityModel) -> str:
    """The prefix of every stack of the city: `city.slug`, else `city<code>`."""
    return m.city.slug or f"city{m.city.code}"


def stack_name(m: CityModel, kind: str, key: str) -> str:
    return f"{city_slug(m)}-{key}" if kind == DEPARTMENT else f"{city_slug(m)}-platform.{key}"


def backup_locations(p: planner.CloudPlan, cluster: str, settings: StackSettings) -> dict:
    """Location name → (bucket, site, URL, read-only) for one cluster."""
    if p.clusters[cluster].kind == "dr":
        return {
            planner.dr_location(p.dr_site, c): (
                f"govcloud-{c}",
                p.dr_site,
                settings.object_store(p.dr_site),
                True,
            )
            for c, cl in p.clusters.items()
            if cl.kind != "dr"
        }
    sites = [p.offsite_site]
    if p.isolated_backup_site and p.clusters[cluster].isolated:
        sites.append(p.isolated_backup_site)  # sensitive departments' backups stay in the city
    return {
        site: (f"govcloud-{cluster}", site, settings.object_store(site), False) for site in sites
    } | {
        planner.dr_location(p.dr_site, cluster): (
            f"govcloud-{cluster}",
            p.dr_site,
            settings.object_store(p.dr_site),
            False,
        ),
    }


def city_stacks(m: CityModel, p: planner.CloudPlan, settings: StackSettings) -> list[StackPlan]:
    """Every stack of the city: platform stacks (one per cluster) first, then one per
    department, each with its units in registration order."""
    platform = [
        StackPlan(
            stack_name(m, PLATFORM, c),
            PLATFORM,
            c,
            [
                Unit(
                    LOCATIONS,
                    f"{c}-backup-locations",
                    c,
                    {"locations": backup_locations(p, c, settings)},
                ),
                Unit(STORAGE, f"{c}-encrypted-storage", c, {"cluster": p.clusters[c]}),
            ],
        )
        for c in p.clusters
    ]
    depts = {
        d.code: StackPlan(stack_name(m, DEPARTMENT, d.slug), DEPARTMENT, d.slug)
        for d in sorted(m.departments, key=lambda d: d.slug)
    }
    namespace = {}
    for cluster, d in p.tenants:
        data_class = "sensitive" if d.code in p.sensitive_departments else "non_classified"
        u = Unit(
            TENANT,
            f"{cluster}-{d.slug}",
            cluster,
            {
                "dept": d,
                "cluster": p.clusters[cluster],
                "data_class": data_class,
                "ingress_namespace": settings.ingress_namespace,
            },
        )
        namespace[(cluster, d.code)] = f"{u.name}-ns"
        depts[d.code].units.append(u)
    for cluster, s, replicas in p.workloads:
        depts[s.department].units.append(
            Unit(
                REPLICA if cluster == p.dr_cluster else WORKLOAD,
                f"{cluster}-{s.id}",
                cluster,
                {
                    "system": s,
                    "dept": m.departments_by_code[s.department],
                    "cluster": p.clusters[cluster],
                    "replicas": replicas,
                    "registry": settings.registry,
                    "storage_class": settings.cluster(cluster).storage_class,
                    "skip_await": settings.skip_await,
                    "arch": p.arches.get(s.id),
                },
                (namespace[(cluster, s.department)],),
            )
        )
    for b in p.backups:
        depts[b.department].units.append(
            Unit(
                SCHEDULE,
                f"{b.cluster}-{b.name}",
                b.cluster,
                {"backup": b},
                (namespace[(b.cluster, b.department)],),
            )
        )
    return platform + list(depts.values())


def select(stacks: list[StackPlan], scope: str | None) -> list[StackPlan]:
    """The stacks a program run deploys: the one `scope` names, or all (`scope` None)."""
    if scope is None:
        return stacks
    chosen = [s for s in stacks if s.scope == scope]
    if not chosen:
        raise planner.PlacementError(
            f"govcloud:scope {scope!r} names no stack of this city "
            f"(platform/<cluster> or department/<slug>)"
        )
    return chosen


# --- what a stack applies, as one digest ------------------------------------------------------


@functools.cache
def program_version() -> str:
    """A digest of the program's source (infra/, policy pack included): a new program
    version re-runs every stack once."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def provider_target(settings: StackSettings, cluster: str) -> dict:
    """Where a cluster's provider sends objects: its render directory, or its context and the
    kubeconfig's content (a re-created lab cluster has new certificates: a new target)."""
    if settings.render_dir:
        return {"renderDir": f"{settings.render_dir}/{cluster}"}
    c = settings.cluster(cluster)
    kube = c.kubeconfig
    digest = None
    if kube:
        text = kube if "\n" in kube else _read(kube)
        digest = hashlib.sha256(text.encode()).hexdigest() if text is not None else None
    return {"context": c.context, "kubeconfig": kube, "kubeconfigSha256": digest}


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return None


def inputs_hash(stack: StackPlan, settings: StackSettings) -> str:
    """Digest of everything an `up` of `stack` applies: every object with its resource name
    and dependencies, each provider's target, the program version."""
    doc = {
        "program": program_version(),
        "stack": stack.name,
        "providers": {c: provider_target(settings, c) for c in stack.clusters},
        "units": [
            [
                u.type,
                u.name,
                u.cluster,
                list(u.after),
                [[o.name, list(o.after), o.manifest] for o in objects(u)],
            ]
            for u in stack.units
        ],
    }
    raw = json.dumps(doc, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


# --- outputs --------------------------------------------------------------------------------


def stack_outputs(m: CityModel, stack: StackPlan, settings: StackSettings) -> dict:
    """What a stack exports: which city and part it is, counts per cluster, the inputs hash."""
    per_cluster: dict[str, dict] = {}
    for u in stack.units:
        c = per_cluster.setdefault(u.cluster, {"tenants": 0, "workloads": 0, "running_replicas": 0})
        if u.type == TENANT:
            c["tenants"] += 1
        elif u.type in (WORKLOAD, REPLICA):
            c["workloads"] += 1
            c["running_replicas"] += u.args["replicas"]
    return {
        "city": m.city.name,
        "stack": stack.name,
        "scope": stack.scope,
        "clusters": per_cluster,
        "inputs_hash": inputs_hash(stack, settings),
    }


def outputs(m: CityModel, p: planner.CloudPlan, settings: StackSettings) -> dict:
    """The city's outputs: counts per cluster, adoption after this wave, what still blocks."""
    per_cluster = {}
    for name, c in p.clusters.items():
        mine = [(s, r) for cl, s, r in p.workloads if cl == name]
        per_cluster[name] = {
            "kind": c.kind,
            "tenants": sum(1 for cl, _ in p.tenants if cl == name),
            "workloads": len(mine),
            "running_replicas": sum(r for _, r in mine),
        }
    blocking = kpi.blocking_systems(m, settings.wave)
    return {
        "wave": settings.wave,
        "clusters": per_cluster,
        "systems_per_zone": {
            n: v["workloads"] for n, v in per_cluster.items() if p.clusters[n].kind != "dr"
        },
        "adoption_rate": kpi.cloud_adoption_rate(m, settings.wave),
        "adoption_target": ADOPTION_TARGET,
        "blocking_systems": blocking,
        "dr": {
            "warm_replicas": per_cluster[p.dr_cluster]["workloads"],
            "failed_over": sorted(settings.failover),
            "rpo_schedules": sum(1 for b in p.backups if b.system),
            "daily_backups": sum(1 for b in p.backups if not b.system),
        },
        "dr_gaps": p.dr_gaps,
    }
