"""The plans' key figures, computed from the city model alone.

Targets come from the source plans in `shared/seeds/`: non-classified cloud adoption,
machine-room consolidation and private-network migration each at least 80% (Xiangtan,
Nanchang), IPv6 and extranet coverage at every level of the four-level network.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.city import CityModel
from model.schema import LEVELS, Classification, NetworkKind, SystemState

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    target: float
    source: str


TARGETS = [
    Target(
        "cloud_adoption_rate",
        "非涉密系统上云率 cloud adoption",
        0.80,
        "Xiangtan 14th FYP; Nanchang 2023 plan",
    ),
    Target(
        "machine_room_consolidation_rate",
        "机房整合率 machine-room consolidation",
        0.80,
        "Xiangtan 14th FYP",
    ),
    Target(
        "private_network_migration_rate",
        "专网迁移率 private-network migration",
        0.80,
        "Xiangtan 14th FYP; Jiujiang 2025",
    ),
]
LEVEL_TARGETS = {"ipv6_rollout": 1.0, "extranet_coverage": 1.0}


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 6) if den else None


def cloud_bound(model: CityModel) -> list:
    return [
        s
        for s in model.systems
        if s.classification != Classification.classified and s.state != SystemState.retired
    ]


def cloud_adoption_rate(model: CityModel, wave: int | None = None) -> float | None:
    """Share of non-classified, non-retired systems on the cloud (after `wave`, if given)."""
    bound = cloud_bound(model)
    on = {s.id for s in model.on_cloud_systems(wave)} if wave is not None else None
    done = sum(
        1 for s in bound if (s.id in on if on is not None else s.state == SystemState.on_cloud)
    )
    return _ratio(done, len(bound))


def blocking_systems(model: CityModel, wave: int | None = None) -> list[str]:
    """Non-classified systems not yet on the cloud (after `wave`): what stands between the
    city and its adoption target."""
    on = {s.id for s in model.on_cloud_systems(wave)} if wave is not None else set()
    return [s.id for s in cloud_bound(model) if s.state != SystemState.on_cloud and s.id not in on]


def compute(model: CityModel) -> dict:
    bound = cloud_bound(model)
    rooms = model.machine_rooms
    per_level: dict[str, list] = {lvl: [] for lvl in LEVELS}
    for site in model.sites():
        per_level[site.level].append(site)
    ipv6 = {}
    coverage = {}
    for lvl, sites in per_level.items():
        covered = [s for s in sites if s.covered]
        coverage[lvl] = _ratio(len(covered), len(sites))
        ipv6[lvl] = _ratio(sum(1 for s in covered if s.ipv6 == "dual_stack"), len(covered))
    return {
        "schema_version": SCHEMA_VERSION,
        "city": model.city.name,
        "cloud_adoption_rate": _ratio(
            sum(1 for s in bound if s.state == SystemState.on_cloud), len(bound)
        ),
        "machine_room_consolidation_rate": _ratio(
            sum(1 for r in rooms if r.state.value == "consolidated"), len(rooms)
        ),
        "private_network_migration_rate": _ratio(
            sum(1 for s in bound if s.network == NetworkKind.extranet), len(bound)
        ),
        "ipv6_ready_systems_rate": _ratio(sum(1 for s in bound if s.ipv6_ready), len(bound)),
        "ipv6_rollout": ipv6,
        "extranet_coverage": coverage,
        "counts": {
            "systems": len(model.systems),
            "non_classified_systems": len(bound),
            "on_cloud": sum(1 for s in bound if s.state == SystemState.on_cloud),
            "migrating": sum(1 for s in bound if s.state == SystemState.migrating),
            "machine_rooms": len(rooms),
            "sites": {lvl: len(sites) for lvl, sites in per_level.items()},
        },
        "targets": {t.key: t.target for t in TARGETS} | LEVEL_TARGETS,
    }
