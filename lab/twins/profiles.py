"""How each platform's CLI looks and talks, as data: the twin's side of the vendor facts.

Which commands exist, in which view, and their undo forms is the platform grammar's job
(`network.grammar`); how the device *presents* itself is here: the error text with its `^`
marker, the save dialogue, how `display current-configuration` / `show running-config` is
laid out and how it writes IPv6 (Huawei and Cisco in upper case), how the OSPFv3 neighbour
table and `ping ipv6` look, and what each exec command does. Every format names the
published output it was written from; the tests keep those samples (tests/lab/test_twins.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Profile:
    grammar: str
    errors: dict[str, str]
    """kind (unknown, argument, view, incomplete) -> message printed under the `^` line."""
    header: tuple[str, ...]
    footer: tuple[str, ...]
    separator: str
    """Line between top-level blocks (`#` VRP/Comware, `!` IOS/RGOS)."""
    leaf_indent: int
    """Indent of top-level one-line commands in the displayed config (Comware: 1)."""
    upper_ipv6: bool
    """The device prints IPv6 addresses in upper case."""
    exec: dict[str, str]
    """grammar command id -> what the twin does (display, ping, save, paging, commit, discard)."""
    save_dialogue: tuple[tuple[str, str], ...]
    """For each save command: (question or '', text printed after the answer/at once)."""
    abbreviations: tuple[tuple[str, str], ...] = ()
    """How the neighbour table shortens interface names (`GigabitEthernet` -> `GE`)."""
    ospf_table: str = ""
    ping: str = ""
    negative_defaults: tuple[str, ...] = ()
    """Commands whose undo form is itself a configured line (a default-on feature turned off)."""
    singletons: tuple[str, ...] = ()
    """Commands that hold one value per view: typing them again replaces the line."""
    display_forms: tuple[tuple[str, str, str], ...] = ()
    """(command id, regex, replacement): how the device rewrites a typed line for display."""
    exit_pending: str = ""
    """VRP V8: the question `return`/`quit` asks with uncommitted changes."""
    sources: dict[str, str] = field(default_factory=dict)


HUAWEI_ERRORS = {
    # VRP prints the echoed line, a `^` under the first bad word, then the message
    # (Huawei S V200R019 Command Reference, "Command Line Error Messages").
    "unknown": "Error: Unrecognized command found at '^' position.",
    "argument": "Error: Wrong parameter found at '^' position.",
    "incomplete": "Error: Incomplete command found at '^' position.",
    "view": "Error: Unrecognized command found at '^' position.",
}

COMWARE_ERRORS = {
    # Comware 7 Fundamentals Configuration Guide, "Using the CLI" - error messages.
    "unknown": " % Unrecognized command found at '^' position.",
    "argument": " % Wrong parameter found at '^' position.",
    "incomplete": " % Incomplete command found at '^' position.",
    "view": " % Unrecognized command found at '^' position.",
}

IOS_ERRORS = {
    # Cisco IOS Configuration Fundamentals, "Using the Cisco IOS CLI" - CLI error messages.
    "unknown": "% Invalid input detected at '^' marker.",
    "argument": "% Invalid input detected at '^' marker.",
    "incomplete": "% Incomplete command.",
    "view": "% Invalid input detected at '^' marker.",
}

HUAWEI_OSPF = (
    # NE40E V800R012C10 Configuration Guide, "OSPFv3 Configuration" - `display ospfv3 peer`
    # example (the same columns as VRP V5's S/AR reference).
    "\r\nOSPFv3 Process ({process})\r\n"
    "Total number of peer(s): {total}\r\n"
    " Peer(s) in full state: {full}\r\n"
    "{areas}"
)
HUAWEI_OSPF_AREA = (
    "OSPFv3 Area ({area})\r\n"
    "Neighbor ID      Pri State            Dead Time  Interface          Instance ID\r\n"
    "{rows}"
)
HUAWEI_OSPF_ROW = "{rid:<16} {pri:>2} {state:<16} {dead:<10} {ifname:<18} {inst:>4}\r\n"

COMWARE_OSPF = (
    # H3C Comware 7 Layer 3 IP Routing Command Reference, "display ospfv3 peer" example.
    "\r\n               OSPFv3 Process {process} with Router ID {router_id}\r\n\r\n{areas}"
)
COMWARE_OSPF_AREA = (
    " Area: {area}\r\n"
    "-------------------------------------------------------------------------\r\n"
    " Router ID       Pri State             Dead-Time InstID Interface\r\n"
    "{rows}"
)
COMWARE_OSPF_ROW = " {rid:<15} {pri:<3} {state:<17} {dead:<9} {inst:<6} {ifname}\r\n"

IOS_OSPF = (
    # Cisco IOS IPv6 Configuration Guide, "Implementing OSPFv3" - `show ipv6 ospf neighbor`.
    "\r\n            OSPFv3 Router with ID ({router_id}) (Process ID {process})\r\n\r\n"
    "Neighbor ID     Pri   State           Dead Time   Interface ID    Interface\r\n"
    "{rows}"
)
IOS_OSPF_ROW = "{rid:<15} {pri:>3}   {state:<15} {dead:<11} {ifid:<15} {ifname}\r\n"

RGOS_OSPF = (
    # Ruijie RGOS Configuration Guide, "OSPFv3" - `show ipv6 ospf neighbor` example.
    "OSPFv3 Process ({process}), {total} Neighbors, {full} is Full:\r\n"
    "Neighbor ID     Pri   State           BFD State  Dead Time   Instance ID Interface\r\n"
    "{rows}"
)
RGOS_OSPF_ROW = "{rid:<15} {pri:>3}   {state:<15} {bfd:<10} {dead:<11} {inst:<11} {ifname}\r\n"

PROFILES: dict[str, Profile] = {
    "huawei_vrp": Profile(
        grammar="huawei_vrp",
        errors=HUAWEI_ERRORS,
        header=("!Software Version V200R019C10SPC500",),
        footer=("return",),
        separator="#",
        leaf_indent=0,
        upper_ipv6=True,
        exec={
            "display": "display",
            "ping-ipv6": "ping",
            "save": "save",
            "screen-length": "paging",
        },
        # S V200R019 Command Reference "save"; the wording Netmiko's HuaweiSSH.save_config expects.
        save_dialogue=(
            (
                "The current configuration will be written to the device.\r\n Are you sure to continue?[Y/N]",
                " Now saving the current configuration to the slot 0.\r\n Save the configuration successfully.",
            ),
        ),
        abbreviations=(("GigabitEthernet", "GE"), ("XGigabitEthernet", "XGE")),
        ospf_table="huawei",
        ping="huawei",
        negative_defaults=("nd-ra-halt", "portswitch"),
        singletons=(
            "router-id",
            "ospfv3-network-type",
            "ospfv3-timer-hello",
            "ospfv3-timer-dead",
            "ospfv3-timer-retransmit",
            "default-route-advertise",
            "urpf",
            "raguard-role",
            "vty-acl6",
        ),
        display_forms=(
            # VRP shows an ACL6 rule's source as a prefix (S V200R019 "display acl ipv6" and
            # display current-configuration examples: `rule 5 permit source FC00:1::/64`).
            ("acl6-rule", r" source (\S+) (\d+)$", r" source \1/\2"),
        ),
    ),
    "huawei_vrpv8": Profile(
        grammar="huawei_vrpv8",
        errors=HUAWEI_ERRORS,
        header=("!Software Version V800R021C10SPC600",),
        footer=("return",),
        separator="#",
        leaf_indent=0,
        upper_ipv6=True,
        exec={
            "display": "display",
            "ping-ipv6": "ping",
            "save": "save",
            "screen-length": "paging",
            "commit": "commit",
            "clear-candidate": "discard",
        },
        # NE40E/CE V800 "save" (the second form in Netmiko's HuaweiSSH.save_config docstring).
        save_dialogue=(
            (
                "Warning: The current configuration will be written to the device. Continue? [Y/N]:",
                "Now saving the current configuration to the slot 1 .\r\nInfo: Save the configuration successfully.",
            ),
        ),
        abbreviations=(("GigabitEthernet", "GE"), ("100GE", "100GE")),
        ospf_table="huawei",
        ping="huawei",
        negative_defaults=("portswitch",),
        singletons=(
            "router-id",
            "ospfv3-network-type",
            "ospfv3-timer-hello",
            "ospfv3-timer-dead",
            "ospfv3-timer-retransmit",
            "default-route-advertise",
            "vty-acl6",
        ),
        display_forms=(("acl6-rule", r" source (\S+) (\d+)$", r" source \1/\2"),),
        # NE40E V800 "Configuration Commit": leaving the system view with a candidate asks.
        exit_pending="Warning: Uncommitted configurations found. Are you sure to commit them before exiting? [Y(yes)/N(no)/C(cancel)]:",
    ),
    "h3c_comware": Profile(
        grammar="h3c_comware",
        errors=COMWARE_ERRORS,
        header=(" version 7.1.070, Release 6728P22",),
        footer=("return",),
        separator="#",
        leaf_indent=1,
        upper_ipv6=False,
        exec={
            "display": "display",
            "ping-ipv6": "ping",
            "save": "save",
            "screen-length": "paging",
        },
        # Comware 7 Fundamentals Command Reference "save": `save force` saves at once;
        # plain `save` asks for confirmation and a file name.
        save_dialogue=(
            (
                "",
                "Validating file. Please wait...\r\nSaved the current configuration to mainboard device successfully.",
            ),
            (
                "The current configuration will be written to the device. Are you sure? [Y/N]:",
                "Validating file. Please wait...\r\nSaved the current configuration to mainboard device successfully.",
            ),
        ),
        abbreviations=(("GigabitEthernet", "GE"), ("Ten-GigabitEthernet", "XGE")),
        ospf_table="comware",
        ping="comware",
        negative_defaults=("nd-ra-halt",),
        singletons=(
            "router-id",
            "ospfv3-network-type",
            "ospfv3-timer-hello",
            "ospfv3-timer-dead",
            "ospfv3-timer-retransmit",
            "default-route-advertise",
            "urpf",
            "raguard-role",
            "vty-acl6",
        ),
    ),
    "cisco_ios": Profile(
        grammar="cisco_ios",
        errors=IOS_ERRORS,
        header=(
            "Building configuration...",
            "",
            "Current configuration : {size} bytes",
            "!",
            "version 15.9",
            "!",
        ),
        footer=("end",),
        separator="!",
        leaf_indent=0,
        upper_ipv6=True,
        exec={"show": "display", "ping-ipv6": "ping", "write": "save", "terminal": "paging"},
        save_dialogue=(("", "Building configuration...\r\n[OK]"),),
        ospf_table="ios",
        ping="ios",
        negative_defaults=("nd-ra-suppress", "switchport"),
        singletons=(
            "router-id",
            "ipv6-ospf-network",
            "ipv6-ospf-hello",
            "ipv6-ospf-dead",
            "ipv6-ospf-retransmit",
            "default-information",
            "urpf",
            "vty-access-class",
        ),
    ),
    "ruijie_os": Profile(
        grammar="ruijie_os",
        errors=IOS_ERRORS,
        header=(
            "Building configuration...",
            "Current configuration: {size} bytes",
            "",
            "version 11.0(5)B9P59",
            "!",
        ),
        footer=("end",),
        separator="!",
        leaf_indent=0,
        upper_ipv6=False,
        exec={"show": "display", "ping-ipv6": "ping", "write": "save", "terminal": "paging"},
        save_dialogue=(
            ("", "Building configuration...\r\n[OK]"),
            ("", "Building configuration...\r\n[OK]"),
        ),
        ospf_table="rgos",
        ping="rgos",
        negative_defaults=("nd-suppress-ra", "switchport"),
        singletons=(
            "router-id",
            "ipv6-ospf-network",
            "ipv6-ospf-hello",
            "ipv6-ospf-dead",
            "ipv6-ospf-retransmit",
            "default-information",
            "urpf",
            "vty-access-class",
        ),
    ),
}


def profile(platform: str) -> Profile:
    return PROFILES[platform]


INITIAL: dict[str, dict[str, str]] = {
    # The IPv4-only configuration a lab twin boots with (the extranet before the rollout),
    # in each platform's own layout: host name, then every interface with its IPv4 address.
    "huawei_vrp": {
        "host": "#\nsysname {host}",
        "interface": "#\ninterface {ifname}\n{routed} ip address {addr} {mask}",
        "port": "#\ninterface {ifname}",
        "tail": "#\nuser-interface vty 0 4\n authentication-mode aaa\n protocol inbound ssh\n#\nreturn",
    },
    "huawei_vrpv8": {
        "host": "#\nsysname {host}",
        "interface": "#\ninterface {ifname}\n undo shutdown\n{routed} ip address {addr} {mask}",
        "port": "#\ninterface {ifname}",
        "tail": "#\nuser-interface vty 0 4\n authentication-mode aaa\n protocol inbound ssh\n#\nreturn",
    },
    "h3c_comware": {
        "host": "#\n sysname {host}",
        "interface": "#\ninterface {ifname}\n{routed} ip address {addr} {mask}",
        "port": "#\ninterface {ifname}",
        "tail": "#\nline vty 0 63\n authentication-mode scheme\n protocol inbound ssh\n#\nreturn",
    },
    "ruijie_os": {
        "host": "hostname {host}\n!",
        "interface": "interface {ifname}\n{routed} ip address {addr} {mask}\n!",
        "port": "interface {ifname}\n!",
        "tail": "line vty 0 4\n login local\n!\nend",
    },
    "cisco_ios": {
        "host": "hostname {host}\n!",
        "interface": "interface {ifname}\n{routed} ip address {addr} {mask}\n!",
        "port": "interface {ifname}\n!",
        "tail": "line vty 0 4\n transport input ssh\n!\nend",
    },
}


def initial_config(
    platform: str, host: str, interfaces: list[tuple[str, str | None, str | None, str | None]]
) -> str:
    """`interfaces`: (vendor name, IPv4 address, dotted mask, the command that made the port
    routed on a switch or None) in display order; a port without an address is shown as an
    empty interface block (a switch's unconfigured front port)."""
    t = INITIAL[platform]
    parts = [t["host"].format(host=host)]
    parts += [
        t["interface"].format(ifname=i, addr=a, mask=m, routed=f" {r}\n" if r else "")
        if a
        else t["port"].format(ifname=i)
        for i, a, m, r in interfaces
    ]
    return "\n".join(parts + [t["tail"]]) + "\n"
