"""How each platform's CLI looks and talks, as data: the twin's side of the vendor facts.

Which commands exist, in which view, and their undo forms is the platform grammar's job
(`network.grammar`); how the device *presents* itself is here: the error text with its `^`
marker, the save dialogue, how `display current-configuration` / `show running-config` is
laid out and how it writes IPv6 (Huawei and Cisco in upper case), how the OSPFv3 neighbour
table and `ping ipv6` look, and what each exec command does. Every format names the
published output it was written from; the tests keep those samples (tests/lab/test_twins.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace


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
    exit_retry: str = ""
    """VRP V8: what an answer other than Y/N/C gets (the question again, with an error)."""
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


@dataclass(frozen=True)
class OspfTable:
    """How `display ospfv3 peer` / `show ipv6 ospf neighbor` prints its neighbours: the
    whole output (`head`, with the rows or the areas in `{body}`), the block of one area
    (None: one flat table), one row, and what the state and interface columns show."""

    head: str
    """{process}, {total}, {full}, {router_id}, {body}."""
    area: str | None
    """{area}, {rows}."""
    row: str
    """{rid}, {pri}, {state}, {bfd}, {dead}, {inst}, {ifid}, {ifname}."""
    state: str
    """The state column from the neighbour's state: {state} as FRR has it (`Full`), {STATE}
    in upper case."""
    port: str
    """`short`: the port as the table abbreviates it (`GE0/0/1`); `vif`: its full name."""
    source: str


OSPF_TABLES: dict[str, OspfTable] = {
    "huawei": OspfTable(
        head="\r\nOSPFv3 Process ({process})\r\nTotal number of peer(s): {total}\r\n"
        " Peer(s) in full state: {full}\r\n{body}",
        area="OSPFv3 Area ({area})\r\n"
        "Neighbor ID      Pri State            Dead Time  Interface          Instance ID\r\n"
        "{rows}",
        row="{rid:<16} {pri:>2} {state:<16} {dead:<10} {ifname:<18} {inst:>4}\r\n",
        state="{state}/ -",
        port="short",
        source="NE40E V800R012C10 Configuration Guide, OSPFv3 configuration example, "
        "`display ospfv3 peer` on PE1 (two published copies of it kept in tests/lab/test_twins.py); "
        "no VRP V5 (S/AR) sample of this command was found: V5 twins print the V8 layout",
    ),
    "comware": OspfTable(
        head="\r\n               OSPFv3 Process {process} with Router ID {router_id}\r\n\r\n{body}",
        area=" Area: {area}\r\n"
        "-------------------------------------------------------------------------\r\n"
        " Router ID       Pri State             Dead-Time InstID Interface\r\n"
        "{rows}",
        row=" {rid:<15} {pri:<3} {state:<17} {dead:<9} {inst:<6} {ifname}\r\n",
        state="{state}/-",
        port="short",
        source='H3C Comware 7 Layer 3 IP Routing Command Reference, "display ospfv3 peer" example',
    ),
    "ios": OspfTable(
        head="\r\n            OSPFv3 Router with ID ({router_id}) (Process ID {process})\r\n\r\n"
        "Neighbor ID     Pri   State           Dead Time   Interface ID    Interface\r\n{body}",
        area=None,
        row="{rid:<15} {pri:>3}   {state:<15} {dead:<11} {ifid:<15} {ifname}\r\n",
        state="{STATE}/  -",
        port="vif",
        source='Cisco IOS IPv6 Configuration Guide, "Implementing OSPFv3", `show ipv6 ospf neighbor`',
    ),
    "rgos": OspfTable(
        head="OSPFv3 Process ({process}), {total} Neighbors, {full} is Full:\r\n"
        "Neighbor ID     Pri   State                BFD State  Dead Time   Instance ID Interface\r\n"
        "{body}",
        area=None,
        row="{rid:<15} {pri:>3}   {state:<20} {bfd:<10} {dead:<11} {inst:<11} {ifname}\r\n",
        state="{state}/ -",
        port="vif",
        # The columns and their widths are RGOS's `show ip ospf neighbor` as published from a
        # real RGOS switch (Alibaba Cloud documentation, "OSPF状态" troubleshooting page:
        # `OSPF process 1, 8 Neighbors, 8 is Full:` / `Neighbor ID     Pri   State
        # BFD State  Dead Time   Address         Interface` / `10.10.10.10       0   Full/ -
        #              -          00:00:10    192.168.10.5    GigabitEthernet 0/13`), with
        # the Instance ID where IPv4 has the address (RGOS Configuration Guide, OSPFv3): the
        # State column is 20 wide, not 15 as written before. No published RGOS OSPFv3 sample
        # was found to check the header line.
        source="RGOS `show ip ospf neighbor` (published RGOS output, column widths); "
        "RGOS Configuration Guide, OSPFv3 (the Instance ID column)",
    ),
}
"""Each vendor's neighbour table, one row per layout (`Profile.ospf_table` names one)."""


@dataclass(frozen=True)
class PingFormat:
    """How `ping ipv6` prints: the lines before the probes, a line per answered probe (and
    per lost one), or one mark per probe on one line (`!` / `.`), the statistics; `{rtt}` in
    the statistics is `rtt` filled in when something answered, else nothing."""

    head: tuple[str, ...]
    """{dst}, {src}, {count}."""
    reply: str | None
    """{dst}, {seq} (from 1), {seq0} (from 0), {ttl}, {ms} (whole ms, at least 1), {time}."""
    lost: str | None
    marks: bool
    tail: tuple[str, ...]
    """{dst}, {count}, {n} (answered), {loss} (per cent), {rate} (whole per cent), {rtt}."""
    rtt: str
    """{min}, {avg}, {max} in ms."""
    source: str


IOS_PING = PingFormat(
    head=(
        "Type escape sequence to abort.",
        "Sending {count}, 100-byte ICMP Echos to {dst}, timeout is 2 seconds:",
    ),
    reply=None,
    lost=None,
    marks=True,
    tail=("Success rate is {rate} percent ({n}/{count}){rtt}",),
    rtt=", round-trip min/avg/max = {min:.0f}/{avg:.0f}/{max:.0f} ms",
    source='Cisco IOS IPv6 Command Reference, "ping ipv6"',
)

PING_FORMATS: dict[str, PingFormat] = {
    "huawei": PingFormat(
        head=("  PING {dst} : 56  data bytes, press CTRL_C to break",),
        reply="    Reply from {dst}\r\n    bytes=56 Sequence={seq} hop limit={ttl}  time = {ms} ms",
        lost="    Request time out",
        marks=False,
        tail=(
            "",
            "  --- {dst} ping statistics ---",
            "    {count} packet(s) transmitted",
            "    {n} packet(s) received",
            "    {loss:.2f}% packet loss{rtt}",
        ),
        rtt="\r\n    round-trip min/avg/max = {min:.0f}/{avg:.0f}/{max:.0f} ms",
        source='Huawei S V200R019 Command Reference, "ping ipv6" example',
    ),
    "comware": PingFormat(
        head=("Ping6(56 data bytes) {src} --> {dst}, press CTRL+C to break",),
        reply="56 bytes from {dst}, icmp_seq={seq0} hlim={ttl} time={time:.3f} ms",
        lost=None,
        marks=False,
        tail=(
            "",
            "--- Ping6 statistics for {dst} ---",
            "{count} packet(s) transmitted, {n} packet(s) received, {loss:.1f}% packet loss{rtt}",
        ),
        rtt="\r\nround-trip min/avg/max/std-dev = {min:.3f}/{avg:.3f}/{max:.3f}/0.000 ms",
        source='Comware 7 Network Management and Monitoring Command Reference, "ping ipv6" example',
    ),
    "ios": IOS_PING,
    "rgos": replace(
        IOS_PING,
        head=(
            "Sending {count}, 100-byte ICMP Echoes to {dst}, timeout is 2 seconds:",
            "  < press Ctrl+C to break >",
        ),
        source='RGOS Command Reference, "ping ipv6"',
    ),
}
"""Each vendor's `ping ipv6` output, one row per layout (`Profile.ping` names one)."""

HUAWEI_SINGLETONS = (
    "router-id",
    "ospfv3-network-type",
    "ospfv3-timer-hello",
    "ospfv3-timer-dead",
    "ospfv3-timer-retransmit",
    "default-route-advertise",
    "urpf",
    "raguard-role",
    "vty-acl6",
)
IOS_SINGLETONS = (
    "router-id",
    "ipv6-ospf-network",
    "ipv6-ospf-hello",
    "ipv6-ospf-dead",
    "ipv6-ospf-retransmit",
    "default-information",
    "urpf",
    "vty-access-class",
)
VRP_DISPLAY_FORMS = (
    # VRP shows an ACL6 rule's source as a prefix (S V200R019 "display acl ipv6" and
    # display current-configuration examples: `rule 5 permit source FC00:1::/64`).
    ("acl6-rule", r" source (\S+) (\d+)$", r" source \1/\2"),
)
SAVED = "Building configuration...\r\n[OK]"

VRP = Profile(
    grammar="huawei_vrp",
    errors=HUAWEI_ERRORS,
    header=("!Software Version V200R019C10SPC500",),
    footer=("return",),
    separator="#",
    leaf_indent=0,
    upper_ipv6=True,
    exec={"display": "display", "ping-ipv6": "ping", "save": "save", "screen-length": "paging"},
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
    singletons=HUAWEI_SINGLETONS,
    display_forms=VRP_DISPLAY_FORMS,
)
IOS = Profile(
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
    save_dialogue=(("", SAVED),),
    ospf_table="ios",
    ping="ios",
    negative_defaults=("nd-ra-suppress", "switchport"),
    singletons=IOS_SINGLETONS,
)

PROFILES: dict[str, Profile] = {
    "huawei_vrp": VRP,
    "huawei_vrpv8": replace(
        VRP,
        grammar="huawei_vrpv8",
        header=("!Software Version V800R021C10SPC600",),
        exec={**VRP.exec, "commit": "commit", "clear-candidate": "discard"},
        # NE40E/CE V800 "save" (the second form in Netmiko's HuaweiSSH.save_config docstring).
        save_dialogue=(
            (
                "Warning: The current configuration will be written to the device. Continue? [Y/N]:",
                "Now saving the current configuration to the slot 1 .\r\nInfo: Save the configuration successfully.",
            ),
        ),
        abbreviations=(("GigabitEthernet", "GE"), ("100GE", "100GE")),
        negative_defaults=("portswitch",),
        singletons=tuple(s for s in HUAWEI_SINGLETONS if s not in ("urpf", "raguard-role")),
        # Leaving the system view with a candidate asks, as published V8 sessions show it
        # (an NE router's `return` from `[*c2-huawei-acl4-basic-2000]`: `Warning:
        # Uncommitted configurations found, commit them before exiting? [Y(yes)/N(no)/
        # C(cancel)]:y`, a network-notes transcript on GitHub; the same words in a CE/NE
        # automation script's comment). Not "… found. Are you sure to commit them …".
        exit_pending="Warning: Uncommitted configurations found, commit them before exiting? [Y(yes)/N(no)/C(cancel)]:",
        # Any other answer is refused and asked again (the same script's comment).
        exit_retry="Error: Please choose 'YES', 'NO' or 'CANCEL' first before pressing 'Enter'. [Y/N/C]:",
    ),
    "h3c_comware": replace(
        VRP,
        grammar="h3c_comware",
        errors=COMWARE_ERRORS,
        header=(" version 7.1.070, Release 6728P22",),
        leaf_indent=1,
        upper_ipv6=False,
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
        display_forms=(),
    ),
    "cisco_ios": IOS,
    "ruijie_os": replace(
        IOS,
        grammar="ruijie_os",
        header=(
            "Building configuration...",
            "Current configuration: {size} bytes",
            "",
            "version 11.0(5)B9P59",
            "!",
        ),
        upper_ipv6=False,
        save_dialogue=(("", SAVED), ("", SAVED)),
        ospf_table="rgos",
        ping="rgos",
        negative_defaults=("nd-suppress-ra", "switchport"),
    ),
}
"""One profile per platform; the platforms of one CLI family share their base and name only
what differs."""


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
