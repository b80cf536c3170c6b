"""Vendor differences as data: one row of facts per platform, looked up, never branched on.

The renderer takes interface names, the negation keyword and the feature switches from here;
the drivers (Ansible module, `govctl net push`) take the Netmiko device type and the
config-mode, save and commit commands. A template per platform holds the syntax itself.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


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
    uplink: str
    """Uplink interface name pattern ({n} from `first_port`) when the model gives none."""
    downlink: str
    first_port: int
    lan: str
    host_ports: str | None
    """Command that selects an access switch's host-facing ports (RA guard goes there)."""
    ra_guard: bool
    urpf: bool
    ntp: bool
    remote_syslog: bool
    snmp: bool


PLATFORMS: dict[str, PlatformFacts] = {
    p.name: p
    for p in (
        PlatformFacts(
            name="huawei_vrp",
            template="huawei_vrp.cfg.j2",
            netmiko_device_type="huawei",
            config_mode="system-view",
            exit_config="return",
            save_command="save",
            commit_command=None,
            comment="#",
            negate="undo",
            loopback="LoopBack0",
            uplink="GigabitEthernet0/0/{n}",
            downlink="GigabitEthernet0/1/{n}",
            first_port=1,
            lan="Vlanif100",
            host_ports="port-group group-member GigabitEthernet0/0/3 to GigabitEthernet0/0/24",
            ra_guard=True,
            urpf=True,
            ntp=True,
            remote_syslog=True,
            snmp=True,
        ),
        PlatformFacts(
            name="h3c_comware",
            template="h3c_comware.cfg.j2",
            netmiko_device_type="hp_comware",
            config_mode="system-view",
            exit_config="return",
            save_command="save force",
            commit_command=None,
            comment="#",
            negate="undo",
            loopback="LoopBack0",
            uplink="GigabitEthernet1/0/{n}",
            downlink="GigabitEthernet2/0/{n}",
            first_port=1,
            lan="Vlan-interface100",
            host_ports="interface range GigabitEthernet1/0/3 to GigabitEthernet1/0/24",
            ra_guard=True,
            urpf=True,
            ntp=True,
            remote_syslog=True,
            snmp=True,
        ),
        PlatformFacts(
            name="ruijie_os",
            template="ruijie_os.cfg.j2",
            netmiko_device_type="ruijie_os",
            config_mode="configure terminal",
            exit_config="end",
            save_command="write",
            commit_command=None,
            comment="!",
            negate="no",
            loopback="Loopback 0",
            uplink="GigabitEthernet 0/{n}",
            downlink="GigabitEthernet 1/{n}",
            first_port=1,
            lan="VLAN 100",
            host_ports=None,
            ra_guard=False,
            urpf=True,
            ntp=True,
            remote_syslog=True,
            snmp=True,
        ),
        PlatformFacts(
            name="cisco_ios",
            template="cisco_ios.cfg.j2",
            netmiko_device_type="cisco_ios",
            config_mode="configure terminal",
            exit_config="end",
            save_command="write memory",
            commit_command=None,
            comment="!",
            negate="no",
            loopback="Loopback0",
            uplink="GigabitEthernet0/0/{n}",
            downlink="GigabitEthernet0/1/{n}",
            first_port=0,
            lan="Vlan100",
            host_ports="interface range GigabitEthernet1/0/3 - 24",
            ra_guard=True,
            urpf=True,
            ntp=True,
            remote_syslog=True,
            snmp=True,
        ),
        # The lab logs in to a shell that is `vtysh`: its prompt and modes behave like IOS, so
        # Netmiko drives it as cisco_ios. FRR has no NTP client, remote syslog, SNMP traps
        # (without the agentx module), RA guard or uRPF: those are the Linux host's job.
        PlatformFacts(
            name="linux_frr",
            template="linux_frr.cfg.j2",
            netmiko_device_type="cisco_ios",
            config_mode="configure terminal",
            exit_config="end",
            save_command="write memory",
            commit_command=None,
            comment="!",
            negate="no",
            loopback="lo",
            uplink="up{n}",
            downlink="dn{n}",
            first_port=0,
            lan="lan0",
            host_ports=None,
            ra_guard=False,
            urpf=False,
            ntp=False,
            remote_syslog=False,
            snmp=False,
        ),
    )
}

HUAWEI_VRPV8 = PlatformFacts(
    **{
        **asdict(PLATFORMS["huawei_vrp"]),
        "name": "huawei_vrpv8",
        "netmiko_device_type": "huawei_vrpv8",
        "commit_command": "commit",
    }
)
"""Huawei NE/CE routers run VRP V8 (two-stage: `commit`); the same template applies. Select it
per device with the inventory variable `platform_variant: huawei_vrpv8`."""

VARIANTS = {"huawei_vrpv8": HUAWEI_VRPV8}


def facts(platform: str) -> PlatformFacts:
    """Facts of a platform name (a model `Platform` value or a variant such as huawei_vrpv8)."""
    key = getattr(platform, "value", platform)
    return PLATFORMS.get(key) or VARIANTS[key]
