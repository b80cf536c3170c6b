"""Where every tenant, workload and backup goes — decided from the city model alone.

Plain data in (`CityModel`, wave, failover list), plain data out (`CloudPlan`), no Pulumi:
the components only build what this plan says, and tests check placement rules here
without running any program.

Rules:
- one cluster per cloud zone (named after the zone) and one for the same-city DR site
  (named after that site);
- a system runs in its `target_zone`'s cluster; a system that is sensitive, or belongs to
  a department owning sensitive systems, may only run on an isolated cluster (the model's
  rules already refuse anything else; planning refuses it again for programs fed data
  that skipped validation);
- DR follows GB/T 20988 (`model/drlevels.py` holds the level table): continuous levels
  (5–6) get a warm replica in the DR cluster, batch levels (3–4) a Velero schedule whose
  interval is derived from the level's RPO bound, every system a daily off-site backup;
  sensitive data never leaves the isolated zone for the DR cluster, so those systems get
  their schedule to the isolated local backup site instead and are reported as DR gaps;
- sensitive departments' backups (daily and RPO-driven) go to the `backup_isolated` site in
  the city, never to the off-site city (Tongjiang: highly sensitive data kept local);
- a system of a xinchuang zone keeps its arch (arm64) on the DR cluster; when the DR site's
  node groups lack it, the plan places no replica there and names the DR gap.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from model.city import CityModel
from model.drlevels import level as dr_level
from model.schema import Classification, Department, SiteRole, System, Zone, ZoneKind


class PlacementError(ValueError):
    """The model asks for a placement the security rules forbid."""


# Backup intervals a cron line can express evenly, shortest first (seconds).
_STEPS = (300, 600, 900, 1200, 1800, 3600, 7200, 10800, 14400, 21600, 28800, 43200, 86400)
_NIGHT_HOURS = 5  # daily jobs start between 00:00 and 04:59


@dataclass(frozen=True)
class Cluster:
    name: str
    kind: str  # shared | isolated | xinchuang | dr
    site: str
    zone: Zone | None = None

    @property
    def isolated(self) -> bool:
        return self.kind == ZoneKind.isolated.value


@dataclass(frozen=True)
class Backup:
    """One Velero schedule: what it covers, where it writes, how often."""

    name: str
    cluster: str
    department: str
    namespace: str
    location: str
    cron: str
    ttl_hours: int
    system: str | None = None  # None: the whole tenant's systems


@dataclass
class CloudPlan:
    clusters: dict[str, Cluster]
    dr_cluster: str
    offsite_site: str
    dr_site: str
    tenants: list[tuple[str, Department]] = field(default_factory=list)  # (cluster, dept)
    workloads: list[tuple[str, System, int]] = field(
        default_factory=list
    )  # (cluster, system, replicas)
    backups: list[Backup] = field(default_factory=list)
    sensitive_departments: set[str] = field(default_factory=set)
    dr_gaps: dict[str, str] = field(default_factory=dict)
    isolated_backup_site: str | None = None
    arches: dict[str, str] = field(default_factory=dict)  # system id → node arch it needs

    def placed(self, system_id: str) -> list[str]:
        return [c for c, s, _ in self.workloads if s.id == system_id]


def clusters(m: CityModel) -> tuple[dict[str, Cluster], str]:
    """Zone clusters plus the DR cluster, and the DR cluster's name."""
    out = {z.name: Cluster(z.name, z.kind.value, z.site, z) for z in m.city.zones}
    dr = m.site(SiteRole.dr_same_city.value)
    if dr is None:
        raise PlacementError(
            "city.yaml has no dr_same_city site: there is no DR cluster to place replicas in"
        )
    if dr.name in out:
        raise PlacementError(
            f"the DR site {dr.name!r} has the same name as a zone; cluster names must differ"
        )
    out[dr.name] = Cluster(dr.name, "dr", dr.name)
    return out, dr.name


def _home(m: CityModel, s: System) -> str:
    assert s.target_zone is not None  # model/rules.py: every on-cloud system names one
    zone = m.zones[s.target_zone]
    if m.must_isolate(s) and zone.kind != ZoneKind.isolated:
        raise PlacementError(
            f"system {s.id} ({s.classification.value}, department {s.department}) may only run on an isolated "
            f"cluster, but its target_zone {zone.name!r} is {zone.kind.value}"
        )
    return zone.name


def _spread(key: str, n: int) -> int:
    """A stable pseudo-random slot in range(n), so schedules do not all start at once."""
    return zlib.crc32(key.encode()) % n


def backup_interval(rpo_s: float) -> int:
    """The longest even cron step that keeps the worst-case data loss within `rpo_s`:
    the step plus the backup's own run may take at most the RPO, so the step is at most
    half of it (never below 5 minutes: an RPO under 10 minutes needs replication)."""
    fitting = [s for s in _STEPS if s <= rpo_s / 2]
    return fitting[-1] if fitting else _STEPS[0]


def cron(interval_s: int, key: str) -> str:
    """A cron line running every `interval_s` seconds, offset by a stable slot from `key`."""
    if interval_s < 3600:
        return f"*/{interval_s // 60} * * * *"
    minute = _spread(key, 60)
    if interval_s < 86400:
        return f"{minute} */{interval_s // 3600} * * *"
    return f"{minute} {_spread(key + '/h', _NIGHT_HOURS)} * * *"


def plan(
    m: CityModel, wave: int | None = None, failover: frozenset[str] | set[str] = frozenset()
) -> CloudPlan:
    """Everything the program creates, as plain data. Raises PlacementError on a forbidden
    placement (a sensitive system or its department outside an isolated cluster)."""
    cls, dr_name = clusters(m)
    offsite = m.site(SiteRole.backup_offsite.value)
    if offsite is None:
        raise PlacementError("city.yaml has no backup_offsite site for the daily off-site backups")
    p = CloudPlan(cls, dr_name, offsite.name, dr_name)
    sensitive = p.sensitive_departments = set(m.sensitive_departments)
    isolated_site = m.site(SiteRole.backup_isolated.value)
    if sensitive and isolated_site is None:
        raise PlacementError(
            "city.yaml has no backup_isolated site: sensitive departments' backups stay in the city"
        )
    p.isolated_backup_site = isolated_site.name if isolated_site else None
    dr_arches = m.site(SiteRole.dr_same_city.value).arches

    def backup_site(code: str) -> str:
        return isolated_site.name if code in sensitive and isolated_site else offsite.name

    depts = m.departments_by_code
    tenants: dict[tuple[str, str], Department] = {}
    for d in m.departments:  # every department has a tenant in its home zone
        tenants[(d.zone, d.code)] = d
    unknown = set(failover) - set(m.systems_by_id)
    if unknown:
        raise PlacementError(f"failover names unknown systems: {', '.join(sorted(unknown))}")
    for s in sorted(m.on_cloud_systems(wave), key=lambda s: s.id):
        d = depts[s.department]
        home = _home(m, s)
        tenants.setdefault((home, d.code), d)
        p.workloads.append((home, s, s.replicas))
        lvl = dr_level(s.dr_level)
        pinned = m.zones[home].pinned_arch  # the model's rule (model/schema.py PINNED_ARCH)
        arch = pinned.value if pinned else None
        if arch:
            p.arches[s.id] = arch
        if lvl.copy_site == SiteRole.dr_same_city.value and m.must_isolate(s):
            p.dr_gaps[s.id] = (
                f"DR level {s.dr_level} needs a copy at the DR site, but {s.classification.value} data of "
                f"department {d.code} stays in the isolated zone; backups go to the isolated local "
                f"backup site every {backup_interval(lvl.rpo_bound_s) // 60} min instead"
            )
            p.backups.append(
                Backup(
                    f"{s.id}-rpo",
                    home,
                    d.code,
                    d.slug,
                    backup_site(d.code),
                    cron(backup_interval(lvl.rpo_bound_s), s.id),
                    168,
                    s.id,
                )
            )
        elif lvl.mode == "continuous" and arch and arch not in dr_arches:
            p.dr_gaps[s.id] = (
                f"DR level {s.dr_level} needs a warm replica, but system {s.id} runs on {arch} "
                f"({m.zones[home].kind.value} zone) and the DR cluster has only "
                f"{', '.join(sorted(dr_arches)) or 'no'} nodes"
            )
        elif lvl.mode == "continuous":
            tenants.setdefault((dr_name, d.code), d)
            p.workloads.append((dr_name, s, s.replicas if s.id in failover else 0))
        elif lvl.mode == "batch":
            p.backups.append(
                Backup(
                    f"{s.id}-rpo",
                    home,
                    d.code,
                    d.slug,
                    dr_location(dr_name, home),
                    cron(backup_interval(lvl.rpo_bound_s), s.id),
                    168,
                    s.id,
                )
            )
    with_workloads = {(c, s.department) for c, s, _ in p.workloads}
    for (cluster, code), d in tenants.items():
        if cls[cluster].kind == "dr" or (cluster, code) not in with_workloads:
            continue
        p.backups.append(
            Backup(
                f"{d.slug}-daily",
                cluster,
                d.code,
                d.slug,
                backup_site(d.code),
                cron(86400, f"{cluster}/{d.slug}"),
                720,
            )
        )
    p.tenants = sorted(((c, d) for (c, _), d in tenants.items()), key=lambda t: (t[0], t[1].slug))
    check(p, sensitive)
    return p


def dr_location(dr_site: str, cluster: str) -> str:
    """The Velero BackupStorageLocation a zone cluster writes its DR copies to (and the
    DR cluster reads them from): one bucket per source cluster at the DR site."""
    return f"{dr_site}-{cluster}"


def check(p: CloudPlan, sensitive_depts: set[str]) -> None:
    """The placement rule, checked on the finished plan: sensitive systems and the
    departments that own them exist only on isolated clusters."""
    for cluster, d in p.tenants:
        if d.code in sensitive_depts and not p.clusters[cluster].isolated:
            raise PlacementError(
                f"department {d.code} owns sensitive systems but would get a tenant on "
                f"{p.clusters[cluster].kind} cluster {cluster!r}"
            )
    for cluster, s, _ in p.workloads:
        if s.classification == Classification.sensitive and not p.clusters[cluster].isolated:
            raise PlacementError(
                f"sensitive system {s.id} would run on {p.clusters[cluster].kind} cluster {cluster!r}"
            )
    for b in p.backups:
        if b.department in sensitive_depts and b.location == p.offsite_site:
            raise PlacementError(
                f"backup {b.name} of sensitive department {b.department} would leave the city "
                f"for the off-site store {p.offsite_site!r}"
            )
