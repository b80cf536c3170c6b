"""Vendor differences as data: one row of facts per platform, looked up, never branched on.

The renderer takes interface names, the negation keyword and the feature switches from here;
the drivers (Ansible module, `govctl net push`) take the Netmiko device type and the
config-mode, save and commit commands. A template per platform holds the syntax itself.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace


@dataclass(frozen=True)
class PlatformFacts:
    name: str
    template: str
    netmiko_device_type: str
    config_mode: str
    """Command that enters configuration mode (Netmiko sends it for you)."""
    exit_config: str
    save_command: str
    commit_command: str | None
    """Only for two-stage (candidate/commit) configuration; None means changes apply at once."""
    comment: str
    """Line prefix the CLI ignores; comment lines in rendered configs start with it."""
    negate: str
    loopback: str
    ntp: bool
    remote_syslog: bool
    snmp: bool


# One row per platform. The lab logs in to a shell that is `vtysh`: its prompt and modes
# behave like IOS, so Netmiko drives linux_frr as cisco_ios. FRR has no NTP client, remote
# syslog, SNMP traps (without the agentx module), RA guard or uRPF: those are the Linux
# host's job. The template is `<name>.cfg.j2`; only VRP V8 (below) commits.
_PlatformRow = tuple[str, str, str, str, str, str, str, str, bool, bool, bool]
_PLATFORM_ROWS: tuple[_PlatformRow, ...] = (
    # name          Netmiko      config mode           exit      save            comment negate  loopback      ntp    syslog snmp
    ("huawei_vrp",  "huawei",     "system-view",        "return", "save",         "#",    "undo", "LoopBack0",  True,  True,  True),
    ("h3c_comware", "hp_comware", "system-view",        "return", "save force",   "#",    "undo", "LoopBack0",  True,  True,  True),
    ("ruijie_os",   "ruijie_os",  "configure terminal", "end",    "write",        "!",    "no",   "Loopback 0", True,  True,  True),
    ("cisco_ios",   "cisco_ios",  "configure terminal", "end",    "write memory", "!",    "no",   "Loopback0",  True,  True,  True),
    ("linux_frr",   "cisco_ios",  "configure terminal", "end",    "write memory", "!",    "no",   "lo",         False, False, False),
)  # fmt: skip

PLATFORMS: dict[str, PlatformFacts] = {
    name: PlatformFacts(
        name, f"{name}.cfg.j2", dtype, mode, leave, save, None, comment, neg, lo, ntp, log, snmp
    )
    for name, dtype, mode, leave, save, comment, neg, lo, ntp, log, snmp in _PLATFORM_ROWS
}

HUAWEI_VRPV8 = PlatformFacts(
    **{
        **asdict(PLATFORMS["huawei_vrp"]),
        "name": "huawei_vrpv8",
        "template": "huawei_vrpv8.cfg.j2",
        "netmiko_device_type": "huawei_vrpv8",
        "commit_command": "commit",
    }
)
"""Huawei NE routers and CE switches run VRP V8 (two-stage: `commit`), with their own template
and grammar. A device of family `ne` or `ce` uses it (`device_platform`)."""

VARIANTS = {"huawei_vrpv8": HUAWEI_VRPV8}


def facts(platform: str) -> PlatformFacts:
    """Facts of a platform name (a model `Platform` value or a variant such as huawei_vrpv8)."""
    key = getattr(platform, "value", platform)
    return PLATFORMS.get(key) or VARIANTS[key]


# --- device families ---------------------------------------------------------------------


@dataclass(frozen=True)
class FamilyFacts:
    """What differs between the device lines of one platform: the CLI variant they run, the
    port map, whether front ports are switch ports (and the command that makes one routed),
    and which security features the line has."""

    name: str
    platform: str
    """The model platform this family belongs to."""
    variant: str
    """Platform facts, template and grammar the family uses (huawei_vrp or huawei_vrpv8 …)."""
    uplink: str
    """Uplink interface name pattern ({n} from `uplink_first`) when the model gives none."""
    uplink_first: int
    downlink: str
    downlink_first: int
    lan: str
    """The LAN interface (township/village LAN, the NOC at the city core)."""
    routed_port: str | None
    """Command that makes a switch port Layer 3 (None: ports are routed already)."""
    switched_port: str | None
    """Command that returns it to Layer 2 (the rollback)."""
    host_ports: str | None
    """Command that selects an access switch's host-facing ports (RA guard goes there)."""
    ra_guard: bool
    urpf: bool
    source: str
    lines: dict[str, str] = field(default_factory=dict)
    """Lines whose syntax differs between the families of one grammar (VRP V8 CE vs NE)."""


_FamilyRow = tuple[
    str, str, str, str, int, str, int, str, str | None, str | None, str | None, bool, bool, str,
    dict[str, str],
]  # fmt: skip
_FAMILY_ROWS: tuple[_FamilyRow, ...] = (
    # name, platform, variant,
    #   uplink, first n, downlink, first n, LAN, routed-port command, switched-port command,
    #   host-port range, RA guard, uRPF, source, lines that differ within one grammar
    ("ar", "huawei_vrp", "huawei_vrp",
     "GigabitEthernet0/0/{n}", 1, "GigabitEthernet0/1/{n}", 1, "Vlanif100", None, None,
     None, False, True, "Huawei AR routers (VRP V5): WAN GE ports are routed", {}),
    ("s", "huawei_vrp", "huawei_vrp",
     "GigabitEthernet0/0/{n}", 1, "GigabitEthernet0/1/{n}", 1, "Vlanif100", "undo portswitch", "portswitch",
     "port-group group-member GigabitEthernet0/0/3 to GigabitEthernet0/0/24", True, True,
     "Huawei S switches (VRP V5): Ethernet ports are Layer 2 until `undo portswitch`", {}),
    ("ne", "huawei_vrp", "huawei_vrpv8",
     "GigabitEthernet0/1/{n}", 0, "GigabitEthernet0/2/{n}", 0, "GigabitEthernet0/3/0", None, None,
     None, False, True,
     "Huawei NetEngine routers (VRP V8): slot/card/port names, routed ports, `ipv6 urpf strict` on interfaces",
     {"ntp": "ntp-service unicast-server ipv6 {server}", "ra_on": "undo ipv6 nd ra halt"}),
    ("ce", "huawei_vrp", "huawei_vrpv8",
     "100GE1/0/{n}", 1, "10GE1/0/{n}", 1, "Vlanif100", "undo portswitch", "portswitch",
     None, False, False,
     "Huawei CloudEngine switches (VRP V8): 100GE uplinks, 10GE downlinks, Layer 2 until `undo portswitch`; no IPv6 uRPF",
     {"ntp": "ntp unicast-server ipv6 {server}", "ra_on": "ipv6 nd ra halt disable"}),
    ("msr", "h3c_comware", "h3c_comware",
     "GigabitEthernet0/{n}", 0, "GigabitEthernet1/{n}", 0, "Vlan-interface100", None, None,
     None, False, True, "H3C MSR routers (Comware 7): GigabitEthernet0/0… routed ports", {}),
    ("s", "h3c_comware", "h3c_comware",
     "GigabitEthernet1/0/{n}", 1, "GigabitEthernet2/0/{n}", 1, "Vlan-interface100", "port link-mode route", "undo port link-mode",
     "interface range GigabitEthernet1/0/3 to GigabitEthernet1/0/24", True, False,
     "H3C S switches (Comware 7): bridge ports until `port link-mode route`; uRPF is global on switches, not rendered", {}),
    ("rsr", "ruijie_os", "ruijie_os",
     "GigabitEthernet 0/{n}", 0, "GigabitEthernet 1/{n}", 0, "VLAN 100", None, None,
     None, False, True, "Ruijie RSR routers (RGOS): routed ports", {}),
    ("s", "ruijie_os", "ruijie_os",
     "GigabitEthernet 0/{n}", 1, "GigabitEthernet 1/{n}", 1, "VLAN 100", "no switchport", "switchport",
     None, False, True,
     "Ruijie RG-S switches (RGOS): switch ports until `no switchport`; RA guard is ND snooping's job, not rendered", {}),
    ("isr", "cisco_ios", "cisco_ios",
     "GigabitEthernet0/0/{n}", 0, "GigabitEthernet0/1/{n}", 0, "Vlan100", None, None,
     None, False, True, "Cisco ISR routers: built-in GigabitEthernet0/0/n routed ports", {}),
    ("catalyst", "cisco_ios", "cisco_ios",
     "GigabitEthernet1/0/{n}", 1, "GigabitEthernet2/0/{n}", 1, "Vlan100", "no switchport", "switchport",
     "interface range GigabitEthernet1/0/3 - 24", True, True,
     "Cisco Catalyst switches: front ports of member 1/2 (GigabitEthernet0/0 is the management port), switchports until `no switchport`", {}),
    ("linux", "linux_frr", "linux_frr",
     "up{n}", 0, "dn{n}", 0, "lan0", None, None,
     None, False, False, "FRR on Linux: the lab names interfaces up0…, dn0…, lan0", {}),
)  # fmt: skip

FAMILIES: dict[tuple[str, str], FamilyFacts] = {
    (row[1], row[0]): FamilyFacts(*row) for row in _FAMILY_ROWS
}
"""Per (platform, family): the port map and switch-port facts (vendor differences as data)."""

DEFAULT_FAMILY: dict[tuple[str, str], str] = {
    **{
        (p, r): "s"
        for p in ("huawei_vrp", "h3c_comware", "ruijie_os")
        for r in ("core", "aggregation", "access")
    },
    **{("cisco_ios", r): "catalyst" for r in ("core", "aggregation", "access")},
    ("huawei_vrp", "cpe"): "ar",
    ("h3c_comware", "cpe"): "msr",
    ("ruijie_os", "cpe"): "rsr",
    ("cisco_ios", "cpe"): "isr",
    **{("linux_frr", r): "linux" for r in ("core", "aggregation", "access", "cpe")},
}
"""The family of a device whose model entry names none: switches above the village, routers at it."""


def family_of(device) -> FamilyFacts:
    """The family facts of a model device (its `family`, else its platform's default for its role)."""
    platform = getattr(device.platform, "value", device.platform)
    family = device.family or DEFAULT_FAMILY[platform, getattr(device.role, "value", device.role)]
    return FAMILIES[platform, getattr(family, "value", family)]


def device_platform(device) -> str:
    """The platform name a device is driven and checked as: `huawei_vrpv8` for NE/CE, else its platform."""
    return family_of(device).variant


# --- talking to a device -----------------------------------------------------------------


@dataclass(frozen=True)
class CliFacts:
    """How a platform's running configuration reads and how its state is checked: what the
    driver (`network.session`, `network.configtree`) looks up instead of branching."""

    block_end: tuple[str, ...]
    """Lines that close a block (the first one is what the driver types)."""
    volatile: tuple[str, ...]
    """Running-config lines that change by themselves (headers, sizes): never compared."""
    error: str
    """What the device prints when it refuses a line (a regex, multiline)."""
    show_running: str
    neighbors: str
    """The command that lists OSPFv3 neighbours; its output is parsed by
    `network/parsers/<platform>_ospfv3_neighbors.textfsm`."""
    ping6: str
    ping_ok: str
    ping_interrupt: bool
    """Ping runs until interrupted (vtysh's ping): send Ctrl-C after the first reply."""
    cmd_verify: bool = True
    """Netmiko waits for each line's echo. Comware cannot set its terminal width, so Netmiko
    does not (long lines wrap): the lines go in one write and the output is checked after."""
    discard: str | None = None
    """Two-stage platforms: the documented command that drops the candidate."""
    canonical: tuple[tuple[str, str], ...] = ()
    """(regex, replacement): the device's display form of a line back to the typed form."""
    abbreviations: tuple[tuple[str, str], ...] = ()
    """(short, long): interface names as the neighbour table prints them."""
    parser: str = ""
    """The neighbour-table template's platform when another's (VRP V8 prints as V5)."""
    last_line: str = "end"
    """The line a complete running config ends with (`return` on VRP and Comware)."""


VRP_CLI = CliFacts(
    last_line="return",
    # S V200R019 Command Reference: `Error: Unrecognized command found at '^' position.`;
    # `display ospfv3 peer` ends with the instance id and names ports `GE0/0/1`.
    block_end=("quit", "return"),
    volatile=(r"^!Software Version", r"^!Last configuration", r"^return$"),
    error=r"^Error:",
    show_running="display current-configuration",
    neighbors="display ospfv3 peer",
    ping6="ping ipv6 -c 3 {dst}",
    ping_ok=r"Reply from",
    ping_interrupt=False,
    canonical=((r"^(rule \d+ \w+ source \S+)/(\d+)$", r"\1 \2"),),
    abbreviations=(("GE", "GigabitEthernet"), ("XGE", "XGigabitEthernet")),
)
"""VRP V5; VRP V8 reads the same and adds the candidate's discard."""

CLI: dict[str, CliFacts] = {
    "linux_frr": CliFacts(
        block_end=("exit", "end", "exit-address-family", "exit-vrf"),
        volatile=(r"^Building configuration", r"^Current configuration", r"^frr version", r"^end$"),
        error=r"^%\s*(Unknown|Ambiguous|Command incomplete|Invalid|Can't|Configuration failed)",
        show_running="show running-config",
        neighbors="show ipv6 ospf6 neighbor",
        ping6="ping ipv6 {dst}",
        ping_ok=r"bytes from",
        ping_interrupt=True,
    ),
    "cisco_ios": CliFacts(
        # Cisco IOS Configuration Fundamentals "Using the CLI": `% Invalid input detected at
        # '^' marker.`; IPv6 Command Reference `show ipv6 ospf neighbor`, `ping ipv6 … repeat`.
        block_end=("exit", "end", "exit-address-family"),
        volatile=(
            r"^Building configuration",
            r"^Current configuration",
            r"^! Last configuration change",
            r"^end$",
        ),
        error=r"^%\s*(Invalid|Incomplete|Ambiguous)",
        show_running="show running-config",
        neighbors="show ipv6 ospf neighbor",
        ping6="ping ipv6 {dst} repeat 3",
        ping_ok=r"Success rate is [1-9]",
        ping_interrupt=False,
        abbreviations=(("Gi", "GigabitEthernet"), ("Te", "TenGigabitEthernet")),
    ),
    "ruijie_os": CliFacts(
        block_end=("exit", "end", "exit-address-family"),
        volatile=(r"^Building configuration", r"^Current configuration", r"^version ", r"^end$"),
        error=r"^%\s*(Invalid|Incomplete|Ambiguous|Unknown)",
        show_running="show running-config",
        neighbors="show ipv6 ospf neighbor",
        ping6="ping ipv6 {dst} ntimes 3",
        ping_ok=r"Success rate is [1-9]",
        ping_interrupt=False,
    ),
    "huawei_vrp": VRP_CLI,
    "huawei_vrpv8": replace(
        VRP_CLI,
        # NE40E/CE V800 "Configuration Commit": `clear configuration candidate` discards the
        # uncommitted changes (`abort` exists only in route-policy and template views).
        discard="clear configuration candidate",
        parser="huawei_vrp",
        abbreviations=(("GE", "GigabitEthernet"), ("100GE", "100GE")),
    ),
    "h3c_comware": CliFacts(
        last_line="return",
        # Comware 7 Fundamentals: ` % Unrecognized command found at '^' position.`;
        # `display ospfv3 peer` names ports `GE1/0/1`; `save force` saves without a question.
        block_end=("quit", "return"),
        volatile=(r"^version ", r"^return$"),
        error=r"^\s*% (Unrecognized|Incomplete|Too many|Wrong)",
        show_running="display current-configuration",
        neighbors="display ospfv3 peer",
        ping6="ping ipv6 -c 3 {dst}",
        ping_ok=r"bytes from",
        ping_interrupt=False,
        cmd_verify=False,
        abbreviations=(("GE", "GigabitEthernet"), ("XGE", "Ten-GigabitEthernet")),
    ),
}
"""One row per platform (and VRP V8), beside `PLATFORMS`: the driver's half of the vendor facts."""


def cli_facts(platform: str) -> CliFacts:
    key = getattr(platform, "value", platform)
    return CLI[key]
