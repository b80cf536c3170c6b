"""The city, as pydantic v2 models: one class per thing a planner writes in YAML.

Each YAML file has a root model (`CityFile`, `DepartmentsFile`, …) so that a field error
can be traced back to the file and line it came from. Rules that need more than one file
live in `model/rules.py`.
"""

from __future__ import annotations

import ipaddress
import typing
from datetime import date
from enum import StrEnum
from types import UnionType
from typing import Annotated, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from model import drlevels

# --- scalar types -----------------------------------------------------------------------

Code6 = Annotated[str, StringConstraints(pattern=r"^[1-9]\d{5}$")]
"""GB/T 2260 administrative division code of a city or county, e.g. 360100."""

Code12 = Annotated[str, StringConstraints(pattern=r"^[1-9]\d{11}$")]
"""Statistical division code: 6 county digits + 3 township + 3 village digits."""

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$")]
"""DNS-label safe, short enough to prefix Kubernetes names."""

Hostname = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
DeptCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]{1,11}$")]
SystemId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")]
RoomId = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9-]{1,30}$")]

FORBIDDEN_IN_TEXT = frozenset('!#;\\`$"') | {chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))}
FORBIDDEN_IN_TEXT |= {"\u2028", "\u2029", "\ufeff"}
"""What no free-text field may hold: control characters (newline, CR, NUL, …), Unicode line
separators, and the comment or separator characters of device CLIs and shells (`!` IOS, `#`
VRP/Comware, `;` shells, `\\`, backquote, `$`, `"`). Free text reaches device configs
(descriptions), manifests and commands; these are the characters that would let it add a
line or a command there."""


def _plain_text(value: str) -> str:
    bad = sorted({c for c in value if c in FORBIDDEN_IN_TEXT})
    if bad:
        shown = ", ".join(repr(c) if c.isprintable() else f"U+{ord(c):04X}" for c in bad)
        raise ValueError(f"must not contain {shown} (free text is one line of plain characters)")
    return value


_ONE_LINE = AfterValidator(_plain_text)
Text = Annotated[
    str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True), _ONE_LINE
]
"""Names and descriptions (Chinese or not): one line, none of `FORBIDDEN_IN_TEXT`. Every
string a planner writes in prose is a `Text` (or a shorter `Label`)."""
Label = Annotated[
    str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True), _ONE_LINE
]
"""A short free-text identifier (an indicator, a subject): 64 characters at most."""

InterfaceName = Annotated[
    str,
    StringConstraints(max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_.:/-]*( ?[0-9][0-9_.:/-]*)?$"),
]
"""A device interface as the vendor names it: `GE0/0/1`, `GigabitEthernet 0/1` (RGOS puts a
space before the number), `Ten-GigabitEthernet1/0/1`, `eth0.100`, `up0`."""

GroupName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9:._@-]{0,127}$")]
"""An identity-provider group (`govcloud:<slug>:admins`), written into RBAC manifests."""
ImageDigest = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]
HttpPath = Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9._~/-]{0,100}$")]


AGGREGATE_SPACES = (ipaddress.IPv6Network("2000::/3"), ipaddress.IPv6Network("fc00::/7"))
"""Where a city's IPv6 aggregate may lie: global unicast (RFC 4291) or unique local (RFC 4193)."""


def aggregate_problem(net: ipaddress.IPv6Network) -> str | None:
    """Why `net` cannot be a city's IPv6 aggregate (the model's `ipv6_prefix`, the lock's
    `aggregate`), or None. It must leave room for /64 LANs below it."""
    if not any(net.subnet_of(space) for space in AGGREGATE_SPACES):
        return "not global unicast (2000::/3) or unique local (fc00::/7) space"
    if net.prefixlen > 48:
        return f"/{net.prefixlen} is too long: an aggregate is /48 or shorter (three nibble levels above the /64 LANs)"
    return None


def _ipv6_net(value: str) -> str:
    if not isinstance(value, str) or "%" in value or not value.isascii():
        raise ValueError(f"not an IPv6 prefix (got {str(value)[:60]!r})")
    try:
        net = ipaddress.IPv6Network(value, strict=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not an IPv6 prefix with host bits zero: {exc}") from None
    return str(net)


def _ipv6_aggregate(value: str) -> str:
    problem = aggregate_problem(ipaddress.IPv6Network(value))
    if problem:
        raise ValueError(f"{value}: {problem}")
    return value


def _ip_net(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not an IP prefix with host bits zero: {exc}") from None


def _ipv4_net(value: str) -> str:
    try:
        return str(ipaddress.IPv4Network(value, strict=True))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not an IPv4 prefix with host bits zero: {exc}") from None


def _ipv4_addr(value: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not an IPv4 address: {exc}") from None


IPv6Prefix = Annotated[str, AfterValidator(_ipv6_net)]
IPv6Aggregate = Annotated[IPv6Prefix, AfterValidator(_ipv6_aggregate)]
IPv4Prefix = Annotated[str, AfterValidator(_ipv4_net)]
IPPrefix = Annotated[str, AfterValidator(_ip_net)]
IPv4Addr = Annotated[str, AfterValidator(_ipv4_addr)]


_NUMERIC: dict[type, frozenset[str]] = {}


def _numeric_fields(cls: type[BaseModel]) -> frozenset[str]:
    """Fields typed int or float (not bool): a YAML `true` there is a mistake, not 1."""
    found = _NUMERIC.get(cls)
    if found is None:
        found = _NUMERIC[cls] = frozenset(
            name
            for name, f in cls.model_fields.items()
            if {int, float} & set(_plain_types(f.annotation))
            and bool not in _plain_types(f.annotation)
        )
    return found


def _dr_level(value: int) -> int:
    if value not in drlevels.LEVELS:
        raise ValueError(
            f"GB/T 20988 has levels {min(drlevels.LEVELS)}–{max(drlevels.LEVELS)}, not {value}"
        )
    return value


DrLevelNumber = Annotated[int, AfterValidator(_dr_level)]
"""A level of the one GB/T 20988 table (`model/drlevels.py`)."""


def _plain_types(annotation) -> tuple:
    """int | None → (int, NoneType); Annotated[float, …] → (float,); list[int] → (list,)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _plain_types(typing.get_args(annotation)[0])
    if origin is Union or origin is UnionType:
        return tuple(t for a in typing.get_args(annotation) for t in _plain_types(a))
    return (annotation,)


class Bounded(BaseModel):
    """Every input file's models: unknown keys are errors, numbers are finite (no `.inf`,
    `.nan`), and a boolean is never taken for a number. Bounds are per field (`Field`)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_boolean_numbers(cls, data):
        if isinstance(data, dict):
            for name in _numeric_fields(cls):
                if isinstance(data.get(name), bool):
                    raise PydanticCustomError(
                        "bool_as_number",
                        "{field}: expected a number, found a boolean ({value})",
                        {"field": name, "value": str(data[name]).lower()},
                    )
        return data


class Strict(Bounded):
    """The city model's models: unknown keys are errors; nothing is silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


# --- enums ----------------------------------------------------------------------------


class SiteRole(StrEnum):
    primary = "primary"
    dr_same_city = "dr_same_city"
    backup_offsite = "backup_offsite"
    backup_isolated = "backup_isolated"  # in the city, physically isolated: sensitive data


class ZoneKind(StrEnum):
    shared = "shared"
    isolated = "isolated"
    xinchuang = "xinchuang"


class Classification(StrEnum):
    non_classified = "non_classified"
    sensitive = "sensitive"
    classified = "classified"


class SystemState(StrEnum):
    legacy = "legacy"
    migrating = "migrating"
    on_cloud = "on_cloud"
    retired = "retired"


class NetworkKind(StrEnum):
    extranet = "extranet"
    private = "private"
    intranet = "intranet"  # 电子政务内网: classified systems, kept apart from the extranet


class RoomState(StrEnum):
    active = "active"
    consolidated = "consolidated"


class RoomStays(StrEnum):
    """Why an active room must stay (it leaves the consolidation rate's denominator)."""

    classified = "classified"  # holds classified systems, which never migrate
    exception = "exception"  # an approved exception in exceptions.yaml


class CryptoAssessment(StrEnum):
    """商用密码应用安全性评估 (密评) of a system."""

    not_assessed = "not_assessed"
    passed = "passed"
    failed = "failed"


class Arch(StrEnum):
    amd64 = "amd64"
    arm64 = "arm64"  # 信创 (Kunpeng, Phytium) nodes


class Platform(StrEnum):
    huawei_vrp = "huawei_vrp"
    h3c_comware = "h3c_comware"
    ruijie_os = "ruijie_os"
    cisco_ios = "cisco_ios"
    linux_frr = "linux_frr"


class DeviceFamily(StrEnum):
    """The device line within a platform, where its CLI or its ports differ: Huawei AR
    routers and S switches (VRP V5), NE routers and CE switches (VRP V8); H3C MSR routers and
    S switches; Ruijie RSR routers and S switches; Cisco ISR routers and Catalyst switches;
    FRR on Linux. Unset, a device gets its platform's default for its role
    (network/platforms.py)."""

    ar = "ar"
    s = "s"
    ne = "ne"
    ce = "ce"
    msr = "msr"
    rsr = "rsr"
    isr = "isr"
    catalyst = "catalyst"
    linux = "linux"


PLATFORM_FAMILIES: dict[Platform, tuple[DeviceFamily, ...]] = {
    Platform.huawei_vrp: (DeviceFamily.ar, DeviceFamily.s, DeviceFamily.ne, DeviceFamily.ce),
    Platform.h3c_comware: (DeviceFamily.msr, DeviceFamily.s),
    Platform.ruijie_os: (DeviceFamily.rsr, DeviceFamily.s),
    Platform.cisco_ios: (DeviceFamily.isr, DeviceFamily.catalyst),
    Platform.linux_frr: (DeviceFamily.linux,),
}
"""Which families each platform has (the model's vocabulary; their facts are in network/)."""


class DeviceRole(StrEnum):
    core = "core"
    aggregation = "aggregation"
    access = "access"
    cpe = "cpe"


class Ipv6State(StrEnum):
    pending = "pending"
    dual_stack = "dual_stack"


LEVELS = ("city", "county", "township", "village")

PINNED_ARCH: dict[ZoneKind, Arch] = {ZoneKind.xinchuang: Arch.arm64}
"""The one rule of node arches: a zone kind listed here runs on these nodes, and its systems
keep that arch wherever they run (their zone's cluster, the DR cluster) — the 信创 zone on
domestic arm64 servers (Kunpeng, Phytium). Every other kind runs on amd64, unpinned."""

# --- city.yaml ------------------------------------------------------------------------


class NodeGroup(Strict):
    """Nodes of one shape and CPU arch at a site: the DR cluster's capacity."""

    arch: Arch = Arch.amd64
    nodes: int = Field(gt=0, le=100_000)
    node_vcpu: int = Field(gt=0, le=4096)
    node_memory_gib: int = Field(gt=0, le=65536)
    cpu_overcommit: float = Field(default=1.0, ge=1.0, le=16.0)


class Site(Strict):
    name: Slug
    role: SiteRole
    city: Text
    link_mbps: int | None = Field(default=None, gt=0, description="link from the primary site")
    link_paths: int = Field(
        default=1,
        ge=1,
        le=8,
        description="physically diverse paths sharing link_mbps (dual link: 2)",
    )
    ipv6: Ipv6State = Ipv6State.pending
    node_groups: list[NodeGroup] = Field(
        default_factory=list,
        description="compute at this site (the DR cluster a city-wide failover runs on)",
    )

    @property
    def arches(self) -> set[str]:
        """CPU arches of its nodes: those of its `node_groups`, the one source of the site's
        compute (a site without node groups has no nodes of any arch)."""
        return {g.arch.value for g in self.node_groups}


class Zone(Strict):
    name: Slug
    kind: ZoneKind
    site: Slug
    nodes: int = Field(gt=0, le=100_000)
    node_vcpu: int = Field(gt=0, le=4096)
    node_memory_gib: int = Field(gt=0, le=65536)
    cpu_overcommit: float = Field(default=1.0, ge=1.0, le=16.0)
    storage_gib: float | None = Field(default=None, gt=0, description="usable storage capacity")

    @property
    def pinned_arch(self) -> Arch | None:
        """The arch its systems must keep wherever they run (`PINNED_ARCH`); None: unpinned."""
        return PINNED_ARCH.get(self.kind)

    @property
    def arch(self) -> Arch:
        """CPU arch of its nodes: its pinned arch, else amd64."""
        return self.pinned_arch or Arch.amd64

    @property
    def vcpu_capacity(self) -> float:
        return self.nodes * self.node_vcpu * self.cpu_overcommit

    @property
    def memory_capacity_gib(self) -> float:
        return float(self.nodes * self.node_memory_gib)


class City(Strict):
    name: Text
    slug: Slug | None = Field(default=None, description="prefix of the city's stack names")
    code: Code6
    ipv6_prefix: IPv6Aggregate
    ipv4_legacy: list[IPv4Prefix] = Field(min_length=1)
    sites: list[Site] = Field(min_length=1)
    zones: list[Zone] = Field(min_length=1)


class CityFile(Strict):
    city: City


# --- departments.yaml -----------------------------------------------------------------


class Quota(Strict):
    cpu: float = Field(gt=0, description="cores")
    memory_gib: float = Field(gt=0)
    storage_gib: float = Field(gt=0)


class Department(Strict):
    code: DeptCode
    slug: Slug
    name: Text
    mlps_level: Literal[2, 3]
    zone: Slug
    quota: Quota
    egress_allow: list[IPPrefix] = Field(
        default_factory=list, description="declared egress destinations (MLPS 3)"
    )
    admin_group: GroupName | None = None

    @property
    def group(self) -> str:
        return self.admin_group or f"govcloud:{self.slug}:admins"


class DepartmentsFile(Strict):
    departments: list[Department] = Field(min_length=1)


# --- systems.yaml ---------------------------------------------------------------------


class System(Strict):
    id: SystemId
    department: DeptCode
    name: Text
    classification: Classification
    state: SystemState
    location: RoomId | None = None
    target_zone: Slug | None = None
    wave: int | None = Field(default=None, ge=0, le=100)
    vcpu: float = Field(gt=0, le=1024)
    memory_gib: float = Field(gt=0, le=16384)
    storage_gib: float = Field(ge=0)
    data_gib: float = Field(ge=0)
    daily_change_ratio: float = Field(ge=0, le=1)
    dr_level: DrLevelNumber = Field(description="GB/T 20988 disaster-recovery level")
    ipv6_ready: bool
    network: NetworkKind
    replicas: int = Field(default=1, ge=1, le=20)
    county: Code12 | None = Field(default=None, description="the county it serves, if not city")
    introduced: date | None = Field(default=None, description="when it went into service")
    mlps_level: Literal[1, 2, 3, 4] | None = Field(default=None, description="graded 等保 level")
    mlps_filed: date | None = Field(default=None, description="filed (备案) with public security")
    mlps_assessed: date | None = Field(default=None, description="last 等级测评")
    crypto_assessment: CryptoAssessment = CryptoAssessment.not_assessed
    crypto_assessed: date | None = None
    image_digest: ImageDigest | None = Field(
        default=None, description="sha256 digest the image is pinned to (else the stable tag)"
    )
    health_path: HttpPath = Field(default="/healthz", description="liveness endpoint (HTTP)")
    ready_path: HttpPath = Field(default="/readyz", description="readiness endpoint (HTTP)")

    @property
    def cloud_bound(self) -> bool:
        """Non-classified and not retired: counts toward the cloud-adoption target."""
        return (
            self.classification != Classification.classified and self.state != SystemState.retired
        )


class SystemsFile(Strict):
    systems: list[System] = Field(min_length=1)


# --- machine_rooms.yaml ---------------------------------------------------------------


class MachineRoom(Strict):
    id: RoomId
    department: DeptCode
    name: Text | None = None
    state: RoomState
    stays: RoomStays | None = None
    county: Code12 | None = None
    introduced: date | None = None
    enlarged: date | None = Field(default=None, description="last enlarged, if ever")


class MachineRoomsFile(Strict):
    machine_rooms: list[MachineRoom] = Field(default_factory=list)


# --- network.yaml ---------------------------------------------------------------------


class Uplink(Strict):
    peer: Hostname
    bandwidth_mbps: int = Field(gt=0)
    interface: InterfaceName | None = None


class Device(Strict):
    hostname: Hostname
    platform: Platform
    family: DeviceFamily | None = None
    role: DeviceRole
    mgmt_ipv4: IPv4Addr
    uplinks: list[Uplink] = Field(default_factory=list)


class Village(Strict):
    code: Code12
    name: Text
    ipv6: Ipv6State = Ipv6State.pending
    devices: list[Device] = Field(default_factory=list)


class Township(Strict):
    code: Code12
    name: Text
    ipv6: Ipv6State = Ipv6State.pending
    devices: list[Device] = Field(default_factory=list)
    villages: list[Village] = Field(default_factory=list)


class County(Strict):
    code: Code12
    name: Text
    ipv6: Ipv6State = Ipv6State.pending
    devices: list[Device] = Field(default_factory=list)
    townships: list[Township] = Field(default_factory=list)


class CityCore(Strict):
    code: Code12
    name: Text
    ipv6: Ipv6State = Ipv6State.pending
    devices: list[Device] = Field(min_length=1)


class NetworkFile(Strict):
    routing: Literal["ospfv3", "static"] = "ospfv3"
    upstream: list[Hostname] = Field(
        default_factory=list, description="provincial extranet peers (not managed)"
    )
    city_core: CityCore
    counties: list[County] = Field(default_factory=list)
