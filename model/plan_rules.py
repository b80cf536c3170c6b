"""Cross-file rules the municipal plans add: where backups of sensitive data may go, which
network classified systems live on, and the bureau's registers (targets, private networks,
exceptions, projects) against the city.

Called from `model.rules.check`, reporting the same located `ModelError`s.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from model.city import CityModel
from model.registers import INDICATORS, ExceptionKind, PrivateNetworkState
from model.schema import Classification, NetworkKind, RoomState, RoomStays, SiteRole, SystemState

Report = Callable[[str, tuple, str], None]


def check(m: CityModel, report: Report) -> None:
    _sites(m, report)
    _systems(m, report)
    _rooms(m, report)
    _private_networks(m, report)
    _exceptions(m, report)
    _projects(m, report)
    _targets(m, report)


def county_codes(m: CityModel) -> set[str]:
    codes = m._cache.get("county_codes")
    if codes is None:
        codes = m._cache["county_codes"] = {c.code for c in m.network.counties}
    return codes


def _county(m: CityModel, code: str | None, file_key: str, loc: tuple, report: Report) -> None:
    if code is not None and code not in county_codes(m):
        report(file_key, loc, f"unknown county {code} (not a county of network.yaml)")


def _sites(m: CityModel, report: Report) -> None:
    sites = m.city.sites
    primary = next((s for s in sites if s.role == SiteRole.primary), None)
    if primary is None:
        return  # reported by model.rules
    for i, s in enumerate(sites):
        if s.role == SiteRole.backup_offsite and s.city == primary.city:
            report(
                "city",
                ("city", "sites", i, "city"),
                f"the off-site backup site must be in another city than the primary site ({primary.city})",
            )
        if s.role == SiteRole.backup_isolated and s.city != primary.city:
            report(
                "city",
                ("city", "sites", i, "city"),
                f"the isolated backup site keeps sensitive data in the city: it must be in {primary.city}, not {s.city}",
            )
    owners = m.sensitive_departments
    if owners and not any(s.role == SiteRole.backup_isolated for s in sites):
        report(
            "city",
            ("city", "sites"),
            f"departments {', '.join(sorted(owners))} own sensitive systems: their backups "
            "need a backup_isolated site in the city (they never go to the off-site city)",
        )


def _systems(m: CityModel, report: Report) -> None:
    depts = m.departments_by_code
    for i, s in enumerate(m.systems):
        loc = ("systems", i)
        if s.classification == Classification.classified and s.network == NetworkKind.extranet:
            report(
                "systems",
                loc + ("network",),
                "a classified system never runs on the extranet: it belongs on the e-government "
                "intranet (network: intranet) or its own classified network (private)",
            )
        _county(m, s.county, "systems", loc + ("county",), report)
        if s.mlps_level is None and (s.mlps_filed or s.mlps_assessed):
            report(
                "systems", loc + ("mlps_level",), "a filed or assessed system needs its mlps_level"
            )
        if s.mlps_assessed and not s.mlps_filed and (s.mlps_level or 0) >= 2:
            report(
                "systems",
                loc + ("mlps_filed",),
                "a level 2+ system is filed (备案) before it is assessed",
            )
        if s.mlps_filed and s.mlps_assessed and s.mlps_assessed < s.mlps_filed:
            report(
                "systems",
                loc + ("mlps_assessed",),
                f"assessed {s.mlps_assessed} before it was filed {s.mlps_filed}",
            )
        d = depts.get(s.department)
        if (
            d is not None
            and s.mlps_level is not None
            and s.mlps_level > d.mlps_level
            and s.cloud_bound
        ):
            report(
                "systems",
                loc + ("mlps_level",),
                f"a level-{s.mlps_level} system cannot run in department {d.code}'s tenant, "
                f"hardened at level {d.mlps_level}: raise the department's mlps_level",
            )
        assessed = s.crypto_assessment.value != "not_assessed"
        if assessed != (s.crypto_assessed is not None):
            report(
                "systems",
                loc + ("crypto_assessed",),
                "crypto_assessed is the date of a passed or failed 密评; give both or neither",
            )


def _rooms(m: CityModel, report: Report) -> None:
    holds_classified = {
        s.location
        for s in m.systems
        if s.classification == Classification.classified
        and s.state != SystemState.retired
        and s.location
    }
    excepted = {e.subject for e in m.exceptions if e.kind == ExceptionKind.room}
    for i, r in enumerate(m.machine_rooms):
        loc = ("machine_rooms", i)
        _county(m, r.county, "machine_rooms", loc + ("county",), report)
        if r.stays is None:
            continue
        if r.state == RoomState.consolidated:
            report("machine_rooms", loc + ("stays",), "a consolidated room does not stay")
        elif r.stays == RoomStays.classified and r.id not in holds_classified:
            report(
                "machine_rooms",
                loc + ("stays",),
                f"room {r.id} holds no classified system, so it cannot stay for that reason",
            )
        elif r.stays == RoomStays.exception and r.id not in excepted:
            report(
                "machine_rooms",
                loc + ("stays",),
                f"room {r.id} stays by exception, but exceptions.yaml has no room exception for it",
            )
        if r.enlarged and r.introduced and r.enlarged < r.introduced:
            report("machine_rooms", loc + ("enlarged",), "enlarged before it was introduced")


_PENDING = (PrivateNetworkState.to_migrate, PrivateNetworkState.migrating)


def _private_networks(m: CityModel, report: Report) -> None:
    nets = m.private_networks
    seen: dict[str, int] = {}
    carried_by: dict[str, int] = {}
    for i, n in enumerate(nets):
        loc = ("private_networks", i)
        if n.id in seen:
            report(
                "private_networks",
                loc + ("id",),
                f"duplicate private network id {n.id!r} (also at index {seen[n.id]})",
            )
        seen.setdefault(n.id, i)
        if n.owner not in m.departments_by_code:
            report("private_networks", loc + ("owner",), f"unknown department {n.owner!r}")
        _county(m, n.county, "private_networks", loc + ("county",), report)
        if n.state in _PENDING and n.target_date is None:
            report(
                "private_networks",
                loc + ("target_date",),
                f"a {n.state.value} network needs the target_date of its migration",
            )
        if n.state == PrivateNetworkState.kept and n.kept_reason is None:
            report(
                "private_networks",
                loc + ("kept_reason",),
                "a kept network (确需保留) needs its kept_reason",
            )
        if n.migrated_on is not None and n.state != PrivateNetworkState.migrated:
            report(
                "private_networks",
                loc + ("migrated_on",),
                f"a {n.state.value} network has no migrated_on",
            )
        for j, sid in enumerate(n.systems):
            sloc = loc + ("systems", j)
            s = m.systems_by_id.get(sid)
            if s is None:
                report("private_networks", sloc, f"unknown system {sid!r}")
                continue
            if sid in carried_by:
                report(
                    "private_networks",
                    sloc,
                    f"system {sid} is already carried by {nets[carried_by[sid]].id}",
                )
                continue
            carried_by[sid] = i
            if s.state == SystemState.retired:
                continue
            on_private = s.network == NetworkKind.private
            if n.state == PrivateNetworkState.migrated and on_private:
                report(
                    "private_networks",
                    sloc,
                    f"network {n.id} is migrated, but system {sid} still says network: private",
                )
            elif n.state != PrivateNetworkState.migrated and not on_private:
                report(
                    "private_networks",
                    sloc,
                    f"network {n.id} is {n.state.value}, but system {sid} says network: {s.network.value}",
                )
    if not nets:
        return  # a city without the register keeps the systems' own network field
    for i, s in enumerate(m.systems):
        if s.network == NetworkKind.private and s.state != SystemState.retired:
            if s.id not in carried_by:
                report(
                    "systems",
                    ("systems", i, "network"),
                    f"system {s.id} is on a private network, but private_networks.yaml carries it on none",
                )


def _subjects(m: CityModel) -> dict[ExceptionKind, set[str]]:
    return {
        ExceptionKind.system_off_cloud: set(m.systems_by_id),
        ExceptionKind.room: set(m.rooms_by_id),
        ExceptionKind.private_line: {n.id for n in m.private_networks},
    }


def _exceptions(m: CityModel, report: Report) -> None:
    subjects = _subjects(m)
    seen: dict[tuple, int] = {}
    for i, e in enumerate(m.exceptions):
        loc = ("exceptions", i)
        key = (e.kind, e.subject)
        if key in seen:
            report(
                "exceptions",
                loc + ("subject",),
                f"duplicate {e.kind.value} exception for {e.subject} (also at index {seen[key]})",
            )
        seen.setdefault(key, i)
        if e.subject not in subjects[e.kind]:
            what = {
                ExceptionKind.system_off_cloud: "system",
                ExceptionKind.room: "machine room",
                ExceptionKind.private_line: "private network",
            }[e.kind]
            report("exceptions", loc + ("subject",), f"unknown {what} {e.subject!r}")
        if e.expires is not None and e.expires < e.approved_on:
            report("exceptions", loc + ("expires",), "expires before it was approved")


def _projects(m: CityModel, report: Report) -> None:
    seen: dict[str, int] = {}
    for i, p in enumerate(m.projects):
        loc = ("projects", i)
        if p.id in seen:
            report(
                "projects",
                loc + ("id",),
                f"duplicate project id {p.id!r} (also at index {seen[p.id]})",
            )
        seen.setdefault(p.id, i)
        if p.department not in m.departments_by_code:
            report("projects", loc + ("department",), f"unknown department {p.department!r}")
        _county(m, p.county, "projects", loc + ("county",), report)
        if p.security_wan > p.total_wan:
            report(
                "projects",
                loc + ("security_wan",),
                f"security spend {p.security_wan:g} exceeds the project's total {p.total_wan:g}",
            )


def _targets(m: CityModel, report: Report) -> None:
    counts = Counter((t.indicator, t.year, t.group) for t in m.targets.targets)
    seen: set[tuple] = set()
    for i, t in enumerate(m.targets.targets):
        loc = ("targets", i)
        if t.indicator not in INDICATORS:
            report(
                "targets",
                loc + ("indicator",),
                f"unknown indicator {t.indicator!r} (known: {', '.join(INDICATORS)})",
            )
        if t.county is not None and t.department is not None:
            report(
                "targets",
                loc + ("department",),
                "a target is assigned to one county or one department, not both",
            )
        _county(m, t.county, "targets", loc + ("county",), report)
        if t.department is not None and t.department not in m.departments_by_code:
            report("targets", loc + ("department",), f"unknown department {t.department!r}")
        key = (t.indicator, t.year, t.group)
        if counts[key] > 1 and key in seen:
            whose = f" of {t.group[0]} {t.group[1]}" if t.group else ""
            report(
                "targets",
                loc + ("year",),
                f"duplicate target: a second one for {t.indicator}{whose} in {t.year}",
            )
        seen.add(key)
