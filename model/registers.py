"""The bureau's registers beside the city: plan targets, private networks, exceptions, projects.

Four optional YAML files, each a root model like the city's own files, so the loader gives
their errors as `file:line: field: message` too:

- `targets.yaml` — the plans' targets by year (indicator, year, target, binding or expected,
  source plan; the city's, or assigned to one county or department) and the day the plans'
  new-construction rule starts;
- `private_networks.yaml` — the departments' private business networks (专网) and where each
  stands in its migration into the extranet;
- `exceptions.yaml` — approved exceptions to the plans' "in principle" rules (原则上): a new
  system off the cloud, a new or enlarged room, a new private line, a room that stays;
- `projects.yaml` — the IT project register (total and security spend per project and year).

`INDICATORS` is the one list of KPI keys: `targets.yaml` may only name these, and
`capacity/kpi.py` computes exactly these.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from model.schema import Code12, DeptCode, Label, Strict, SystemId, Text

NetworkId = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9-]{1,30}$")]
ProjectId = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{1,39}$")]

INDICATORS: dict[str, str] = {
    "cloud_adoption_rate": "非涉密系统上云率 cloud adoption",
    "machine_room_consolidation_rate": "机房整合率 machine-room consolidation",
    "private_network_migration_rate": "专网迁移率 private-network migration",
    "ipv6_ready_systems_rate": "系统IPv6改造 IPv6-ready systems",
    "ipv6_datacentre_rate": "数据中心IPv6 IPv6 data centres",
    "ipv6_rollout.city": "外网IPv6 · 市 IPv6 dual stack · city",
    "ipv6_rollout.county": "外网IPv6 · 县 IPv6 dual stack · county",
    "ipv6_rollout.township": "外网IPv6 · 乡镇 IPv6 dual stack · township",
    "ipv6_rollout.village": "外网IPv6 · 村 IPv6 dual stack · village",
    "extranet_coverage.city": "外网覆盖 · 市 extranet coverage · city",
    "extranet_coverage.county": "外网覆盖 · 县 extranet coverage · county",
    "extranet_coverage.township": "外网覆盖 · 乡镇 extranet coverage · township",
    "extranet_coverage.village": "外网覆盖 · 村 extranet coverage · village",
    "mlps_coverage_rate": "重要系统等保覆盖率 MLPS coverage of important systems",
    "crypto_assessment_rate": "重要系统密评通过率 commercial-crypto assessment",
    "security_spend_share": "安全投入占比 security share of IT spend",
}
"""Every KPI the tool computes, with its label (Chinese term first, as the plans write it)."""


class TargetKind(StrEnum):
    binding = "binding"  # 约束性
    expected = "expected"  # 预期性


class Target(Strict):
    indicator: Label
    year: int = Field(ge=2000, le=2100)
    target: float = Field(ge=0, le=1, description="a share, 0–1 (80% is 0.8)")
    kind: TargetKind
    source: Text
    county: Code12 | None = Field(
        default=None, description="the county this target is assigned to (none: the city's)"
    )
    department: DeptCode | None = Field(
        default=None, description="the department this target is assigned to (none: the city's)"
    )

    @property
    def group(self) -> tuple[str, str] | None:
        """("county" | "department", code) of an assigned target; None for the city's."""
        if self.county is not None:
            return ("county", self.county)
        if self.department is not None:
            return ("department", self.department)
        return None


class TargetsFile(Strict):
    plan_start: date | None = Field(
        default=None,
        description="from this day, new construction off the cloud needs an approved exception",
    )
    targets: list[Target] = Field(default_factory=list)


class PrivateNetworkKind(StrEnum):
    national_vertical = "national_vertical"  # 国家垂直专网 (a ministry's line down to the city)
    provincial_vertical = "provincial_vertical"  # 省级垂直专网
    local = "local"  # the city's or a county's own private network


class PrivateNetworkState(StrEnum):
    to_migrate = "to_migrate"
    migrating = "migrating"
    migrated = "migrated"  # folded into the extranet
    kept = "kept"  # 确需保留: stays, interconnected with the extranet


class PrivateNetwork(Strict):
    id: NetworkId
    name: Text
    owner: DeptCode
    kind: PrivateNetworkKind
    state: PrivateNetworkState
    systems: list[SystemId] = Field(default_factory=list, description="systems it carries")
    county: Code12 | None = Field(default=None, description="the county it serves, if not city")
    introduced: date | None = None
    target_date: date | None = Field(default=None, description="when it is to be migrated")
    migrated_on: date | None = None
    kept_reason: Text | None = None


class PrivateNetworksFile(Strict):
    private_networks: list[PrivateNetwork] = Field(default_factory=list)


class ExceptionKind(StrEnum):
    system_off_cloud = "system_off_cloud"  # a new non-classified system not on the cloud
    room = "room"  # a new or enlarged departmental machine room, or one that stays
    private_line = "private_line"  # a new private line (专网) after the plan's start


class PlanException(Strict):
    kind: ExceptionKind
    subject: Label
    reason: Text
    approved_by: Text
    approved_on: date
    expires: date | None = None


class ExceptionsFile(Strict):
    exceptions: list[PlanException] = Field(default_factory=list)


class Project(Strict):
    id: ProjectId
    name: Text
    year: int = Field(ge=2000, le=2100)
    department: DeptCode
    total_wan: float = Field(gt=0, description="total investment, 10,000 yuan (万元)")
    security_wan: float = Field(ge=0, description="of which network security, 万元")
    county: Code12 | None = None


class ProjectsFile(Strict):
    projects: list[Project] = Field(default_factory=list)


__all__ = [
    "INDICATORS",
    "ExceptionKind",
    "ExceptionsFile",
    "PlanException",
    "PrivateNetwork",
    "PrivateNetworkKind",
    "PrivateNetworkState",
    "PrivateNetworksFile",
    "Project",
    "ProjectsFile",
    "Target",
    "TargetKind",
    "TargetsFile",
]
