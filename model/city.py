"""`CityModel`: the loaded, validated city that every part of govcloud reads.

Plain data plus a few lookups (by code, id, hostname), a walk over the extranet's sites,
and the predicates several parts ask (which systems count toward the cloud target, which
departments must stay isolated, which waves are pending), so that each is written once, here,
and renderers never re-derive them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from model.registers import PlanException, PrivateNetwork, Project, TargetsFile
from model.schema import (
    City,
    Classification,
    Department,
    Device,
    MachineRoom,
    NetworkFile,
    System,
    SystemState,
    Zone,
    ZoneKind,
)


@dataclass(frozen=True)
class NetSite:
    """One site of the extranet at any level, with its parent's code (None for the city)."""

    level: str
    code: str
    name: str
    parent: str | None
    ipv6: str
    devices: tuple[Device, ...]
    county: str | None = None

    @property
    def covered(self) -> bool:
        return bool(self.devices)


@dataclass
class CityModel:
    source: Path
    city: City
    departments: list[Department]
    systems: list[System]
    machine_rooms: list[MachineRoom]
    network: NetworkFile
    targets: TargetsFile = field(default_factory=TargetsFile)
    private_networks: list[PrivateNetwork] = field(default_factory=list)
    exceptions: list[PlanException] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    _cache: dict = field(default_factory=dict, repr=False)

    # --- lookups ---------------------------------------------------------------------
    @cached_property
    def zones(self) -> dict[str, Zone]:
        return {z.name: z for z in self.city.zones}

    @cached_property
    def departments_by_code(self) -> dict[str, Department]:
        return {d.code: d for d in self.departments}

    @cached_property
    def systems_by_id(self) -> dict[str, System]:
        return {s.id: s for s in self.systems}

    @cached_property
    def rooms_by_id(self) -> dict[str, MachineRoom]:
        return {r.id: r for r in self.machine_rooms}

    def zone_of(self, dept: Department) -> Zone:
        return self.zones[dept.zone]

    def zones_of_kind(self, kind: ZoneKind) -> list[Zone]:
        return [z for z in self.city.zones if z.kind == kind]

    def site(self, role: str):
        return next((s for s in self.city.sites if s.role.value == role), None)

    # --- systems ---------------------------------------------------------------------
    def systems_of(self, dept_code: str) -> list[System]:
        return [s for s in self.systems if s.department == dept_code]

    @property
    def cloud_bound_systems(self) -> list[System]:
        """The systems the cloud-adoption target counts: `System.cloud_bound` (non-classified,
        not retired)."""
        return [s for s in self.systems if s.cloud_bound]

    @cached_property
    def sensitive_departments(self) -> frozenset[str]:
        """Departments owning a cloud-bound sensitive system: their tenants, and all their
        systems, live only in an isolated zone."""
        return frozenset(
            s.department
            for s in self.systems
            if s.classification == Classification.sensitive and s.cloud_bound
        )

    def must_isolate(self, s: System) -> bool:
        """May `s` run only in an isolated zone (sensitive, or of a sensitive department)?"""
        return (
            s.classification == Classification.sensitive
            or s.department in self.sensitive_departments
        )

    def on_cloud_systems(self, wave: int | None = None) -> list[System]:
        """Systems that run on the cloud: on_cloud, migrating, and (given `wave`) legacy
        systems whose wave is at most `wave`. Classified systems never do."""
        out = []
        for s in self.cloud_bound_systems:
            if s.state in (SystemState.on_cloud, SystemState.migrating):
                out.append(s)
            elif wave is not None and s.wave is not None and s.wave <= wave and s.target_zone:
                out.append(s)
        return out

    @property
    def pending_waves(self) -> list[int]:
        """The migration waves legacy systems still wait for, in order."""
        return sorted(
            {s.wave for s in self.systems if s.state == SystemState.legacy and s.wave is not None}
        )

    @property
    def next_wave(self) -> int | None:
        waves = self.pending_waves
        return waves[0] if waves else None

    # --- extranet --------------------------------------------------------------------
    def sites(self) -> Iterator[NetSite]:
        """Every extranet site, parents before children (city, counties, townships, villages)."""
        net = self.network
        core = net.city_core
        yield NetSite("city", core.code, core.name, None, core.ipv6.value, tuple(core.devices))
        for c in net.counties:
            yield NetSite(
                "county", c.code, c.name, core.code, c.ipv6.value, tuple(c.devices), c.code
            )
            for t in c.townships:
                yield NetSite(
                    "township", t.code, t.name, c.code, t.ipv6.value, tuple(t.devices), c.code
                )
                for v in t.villages:
                    yield NetSite(
                        "village", v.code, v.name, t.code, v.ipv6.value, tuple(v.devices), c.code
                    )

    @cached_property
    def sites_by_code(self) -> dict[str, NetSite]:
        return {s.code: s for s in self.sites()}

    @cached_property
    def devices_by_hostname(self) -> dict[str, tuple[Device, NetSite]]:
        return {d.hostname: (d, s) for s in self.sites() for d in s.devices}

    # --- optional data beside the YAML ----------------------------------------------
    @property
    def history_path(self) -> Path:
        return self.source / "utilisation.csv.gz"
