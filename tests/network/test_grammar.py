"""The per-platform grammars: sessions, views, undo forms, and check_config's findings."""

from __future__ import annotations

import pytest

from network.grammar import PLATFORMS, Finding, GrammarError, check_config, load


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_grammar_loads_and_every_command_names_its_source(platform):
    g = load(platform)
    assert g.platform == platform
    assert g.commands
    for cmd in g.commands.values():
        assert cmd.source.split()[0] in g.documents, (cmd.id, cmd.source)


def test_load_is_cached_and_unknown_platforms_are_refused():
    assert load("huawei_vrp") is load("huawei_vrp")
    with pytest.raises(GrammarError):
        load("junos")


def test_huawei_session_walks_views_and_prompts():
    s = load("huawei_vrp").session()
    assert (s.view, s.depth, s.prompt("R1")) == ("user", 0, "<R1>")
    assert s.feed("system-view").view == "system"
    r = s.feed("interface GigabitEthernet0/0/1")
    assert (r.ok, r.command, r.args, s.prompt("R1")) == (
        True,
        "interface",
        {"ifname": "GigabitEthernet0/0/1"},
        "[R1-GigabitEthernet0/0/1]",
    )
    assert s.depth == 2
    assert s.feed("ipv6 address 2001:db8::1/127").ok
    assert s.feed("quit").view == "system"
    s.feed("ospfv3 1")
    s.feed("area 0.0.0.3")
    assert s.prompt("R1") == "[R1-ospfv3-1-area-0.0.0.3]"
    assert s.feed("return").view == "user"


def test_vrp_v8_commit_is_two_stage():
    s = load("huawei_vrpv8").session(family="ce")
    s.feed("system-view")
    assert s.prompt("R1") == "[~R1]"
    s.feed("interface 10GE1/0/1")
    assert not s.feed("ipv6 enable").ok  # a CE port is Layer 2 until undo portswitch
    r = s.feed("undo portswitch")
    assert r.ok and r.undo
    assert s.feed("ipv6 enable").ok
    assert s.prompt("R1") == "[*R1-10GE1/0/1]"
    assert s.feed("commit").ok
    assert s.prompt("R1") == "[~R1-10GE1/0/1]"
    assert s.feed("quit").view == "system"
    assert not s.feed("ipv6").ok  # the global `ipv6` of VRP V5 does not exist on V8


def test_ios_falls_back_to_global_config_from_a_sub_mode():
    s = load("cisco_ios").session(view="config")
    s.feed("interface GigabitEthernet0/0/0")
    r = s.feed("ipv6 route ::/0 2001:db8::1")
    assert r.ok and r.view == "config"


@pytest.mark.parametrize(
    ("platform", "view", "line", "undo"),
    [
        ("huawei_vrp", "vty", "acl ipv6 2001 inbound", "undo acl ipv6 inbound"),
        ("huawei_vrp", "ospfv3", "router-id 198.18.0.3", "undo router-id"),
        (
            "huawei_vrp",
            "system",
            "snmp-agent target-host trap ipv6 address udp-domain 2001:db8::31 params securityname govnms v3 privacy",
            "undo snmp-agent target-host trap ipv6 address udp-domain 2001:db8::31 params securityname govnms",
        ),
        ("huawei_vrp", "interface", "undo ipv6 nd ra halt", "ipv6 nd ra halt"),
        ("h3c_comware", "interface", "ospfv3 1 area 0.0.0.2", "undo ospfv3 1 area 0.0.0.2"),
        (
            "cisco_ios",
            "config",
            "ipv6 route 2001:db8::/32 Null0",
            "no ipv6 route 2001:db8::/32 Null0",
        ),
        ("linux_frr", "ospfv3", "ospf6 router-id 1.1.1.1", "no ospf6 router-id"),
    ],
)
def test_undo_forms_are_the_documented_ones(platform, view, line, undo):
    assert load(platform).undo_form(line, view) == undo


def test_check_config_reports_file_line_platform_message():
    text = "interface GigabitEthernet0/0/1\n ipv6 adress 2001:db8::1/64\nquit\n"
    (f,) = check_config(text, "huawei_vrp", "r1.cfg")
    assert isinstance(f, Finding)
    assert (f.path, f.line, f.platform) == ("r1.cfg", 2, "huawei_vrp")
    assert str(f).startswith("r1.cfg:2: huawei_vrp: ")


def test_a_block_left_open_is_a_finding():
    (f,) = check_config("ospfv3 1\n router-id 1.1.1.1\n", "huawei_vrp", "x.cfg")
    assert "left open" in f.message and f.line == 2


# --- what a device refuses, per platform: (family, config text, line, part of the message) ---

REJECTS = {
    "huawei_vrp": [
        ("s", "interface GigabitEthernet0/0/1\n ipv6 enable\nquit\n", 2, "needs a l3 port"),
        (None, "interface GigabitEthernet0/0/1\n router-id 1.1.1.1\nquit\n", 2, "wrong view"),
        (None, "ospfv3 1\n ospfv3 network-type p2p\nquit\n", 2, "wrong view"),
        (
            None,
            "user-interface vty 0 4\n undo acl ipv6 2001 inbound\nquit\n",
            2,
            "no such undo form",
        ),
        (None, "ospfv3 1\n undo router-id 198.18.0.3\nquit\n", 2, "no such undo form"),
        (
            None,
            "undo snmp-agent target-host trap ipv6 address udp-domain 2001:db8::31 params securityname govnms v3 privacy\n",
            1,
            "no such undo form",
        ),
        (
            None,
            "interface GigabitEthernet0/0/1\n ipv6 address 2001:db8::1/129\nquit\n",
            2,
            "prefix length",
        ),
        (None, "ipv6 route 2001:db8::/32 Null0\n", 1, "unknown command"),  # IOS syntax
        (None, "ntp-service ipv6 unicast-server 2001:db8::11\n", 1, "unknown command"),  # Comware's
        (None, "interface LoopBack0\n ipv6 enable\n", 2, "left open"),
    ],
    "huawei_vrpv8": [
        ("ce", "interface 10GE1/0/1\n ipv6 enable\nquit\n", 2, "needs a l3 port"),
        ("ce", "ipv6\n", 1, "unknown command"),  # V5's global switch
        (
            "ce",
            "ntp-service unicast-server ipv6 2001:db8::11\n",
            1,
            "does not exist on the ce family",
        ),
        (
            "ce",
            "interface Vlanif100\n ipv6 urpf strict\nquit\n",
            2,
            "does not exist on the ce family",
        ),
        (
            "ne",
            "interface GigabitEthernet0/1/0\n ipv6 nd ra halt disable\nquit\n",
            2,
            "does not exist on the ne family",
        ),
    ],
    "h3c_comware": [
        (
            "s",
            "interface GigabitEthernet1/0/1\n ipv6 address 2001:db8::1/127\nquit\n",
            2,
            "needs a l3 port",
        ),
        (None, "interface GigabitEthernet1/0/1\n undo ospfv3 1 area\nquit\n", 2, "bad arguments"),
        (None, "acl ipv6 number 2001\n", 1, "unknown command"),  # VRP's form
        (
            None,
            "ntp-service unicast-server ipv6 2001:db8::11\n",
            1,
            "unknown command",
        ),  # VRP's form
        (None, "line vty 0 63\n undo acl ipv6 2001 inbound\nquit\n", 2, "no such undo form"),
    ],
    "ruijie_os": [
        (
            "s",
            "interface GigabitEthernet 0/1\n ipv6 address 2001:db8::1/127\nexit\n",
            2,
            "needs a l3 port",
        ),
        (
            None,
            "interface GigabitEthernet 0/1\n ipv6 address 2001:db8::1 127\nexit\n",
            2,
            "bad arguments",
        ),
        (None, "undo ipv6 route ::/0 2001:db8::1\n", 1, "unknown command"),  # VRP negation
        (None, "ipv6 router ospf 1\n ipv6 ospf 1 area 0\nexit\n", 2, "wrong view"),
    ],
    "cisco_ios": [
        (
            "catalyst",
            "interface GigabitEthernet1/0/1\n ipv6 address 2001:db8::1/127\nexit\n",
            2,
            "needs a l3 port",
        ),
        (None, "ipv6 route-static :: 0 2001:db8::1\n", 1, "unknown command"),  # VRP syntax
        (None, "ipv6 router ospf 1\n router-id 300.1.1.1\nexit\n", 2, "bad argument"),
        (None, "interface Loopback0\n undo ipv6 address\nexit\n", 2, "unknown command"),
        (None, "line vty 0 15\n ipv6 access-class MGMT-V6\nexit\n", 2, "bad arguments"),
    ],
    "linux_frr": [
        (
            None,
            "router ospf6\n router-id 1.1.1.1\nexit\n",
            2,
            "unknown command",
        ),  # FRR: ospf6 router-id
        (None, "interface up0\n ipv6 ospf 1 area 0\nexit\n", 2, "unknown command"),  # IOS form
        (None, "ipv6 route 2001:db8::/32 NULL0\n", 1, "bad arguments"),
    ],
}


@pytest.mark.parametrize(
    ("platform", "family", "text", "line", "part"),
    [(p, *case) for p, cases in REJECTS.items() for case in cases],
)
def test_lines_a_device_rejects_are_refused_with_their_line_number(
    platform, family, text, line, part
):
    found = check_config(text, platform, "x.cfg", family=family)
    assert [f.line for f in found if part in f.message] == [line], [str(f) for f in found]


def test_every_platform_has_a_reject_set():
    assert set(REJECTS) == set(PLATFORMS)


# --- configuration examples from the vendors' documentation, kept with their source -------

DOC_EXAMPLES = [
    (
        "huawei_vrpv8",
        "ce",
        # CloudEngine configuration guide, "Switching an interface to Layer 3 mode" (as quoted
        # at https://www.cnblogs.com/wuyu19/p/12067820.html): prompts [~HUAWEI] / [*HUAWEI-10GE1/0/1]
        "system-view\ninterface 10ge 1/0/1\nundo portswitch\ncommit\n",
    ),
    (
        "huawei_vrpv8",
        "ne",
        # NetEngine 8000 F1A command reference, "area (OSPFv3 view)", example
        # (http://a10.tagan.ru/huawei/netengine8000f1a/command/8090/areav3(OSPFCOMMOM).html)
        "system-view\nospfv3 1\narea 0\n",
    ),
    (
        "huawei_vrp",
        "ar",
        # VRP command reference, "ipv6 nd ra halt", example
        # (https://usg.zrnko.cz/resources/cli_vrp/ipv6_nd_ra_halt.html)
        "system-view\ninterface GigabitEthernet 0/0/0\nipv6 enable\nipv6 nd ra halt\n",
    ),
    (
        "huawei_vrp",
        "s",
        # S series command reference, "undo portswitch batch" alternative: the single-port
        # example of the configuration guide (same page as the CE example above)
        "system-view\ninterface GigabitEthernet0/0/1\nundo portswitch\nipv6 enable\n",
    ),
    (
        "h3c_comware",
        "s",
        # HPE/H3C Comware 7 Layer 3 IP Routing command reference, "abr-summary (OSPFv3 area
        # view)" syntax and the OSPFv3 area example (https://www.h3c.com/en/d_201301/772528_294551_0.htm)
        "system-view\nospfv3 1\narea 1\nabr-summary 2000:1:1:: 48\n",
    ),
    (
        "h3c_comware",
        "msr",
        # H3C MSR Comware 7 Security Command Reference, "ipv6 urpf", examples
        # (https://www.manualslib.com/manual/1376858/H3c-Msr-Series.html?page=1151)
        "system-view\ninterface gigabitethernet 1/0/2\nipv6 urpf strict allow-default-route acl 2999\n"
        "quit\ninterface gigabitethernet 1/0/1\nipv6 urpf loose\n",
    ),
    (
        "huawei_vrpv8",
        "ne",
        # NetEngine 8000 F1A command reference, "ipv6 urpf (interface view)", format lines
        # (http://a10.tagan.ru/huawei/netengine8000f1a/command/8090/ipv6_urpf(interface).html)
        "system-view\ninterface GigabitEthernet0/1/0\nipv6 urpf strict allow-default\nundo ipv6 urpf\n",
    ),
    (
        "cisco_ios",
        "isr",
        # Cisco IOS IPv6 Configuration Guide, "Implementing OSPFv3", examples "Enabling OSPF
        # for IPv6 on an Interface" and "Defining an OSPF for IPv6 Area Range"
        # (http://www.cisco.com/c/en/us/td/docs/ios-xml/ios/ipv6/configuration/12-4t/ipv6-12-4t-book/ip6-ospf.html)
        "configure terminal\ninterface Ethernet0/0\n ipv6 address 2001:DB8:0:7::1/64\n"
        " ipv6 ospf 1 area 1\n!\nipv6 router ospf 1\n router-id 10.11.11.1\n"
        " area 1 range 2001:DB8::/48\nend\n",
    ),
    (
        "linux_frr",
        "linux",
        # FRR user guide, "OSPFv3 - OSPF6 Configuration Examples" (the range example; also
        # https://nongnu.org/quagga/docs/docs-multi/OSPF6-Configuration-Examples.html)
        "configure terminal\nrouter ospf6\n ospf6 router-id 212.17.55.53\n"
        " area 0.0.0.0 range 2001:770:105:2::/64\nend\n",
    ),
]


@pytest.mark.parametrize(("platform", "family", "text"), DOC_EXAMPLES)
def test_vendor_documentation_examples_are_accepted(platform, family, text):
    s = load(platform).session(family=family)
    for n, line in enumerate(text.splitlines(), 1):
        r = s.feed(line)
        assert r.ok, f"line {n} {line!r}: {r.error}"


@pytest.mark.parametrize(
    "platform, line, first, last",
    [
        (
            "huawei_vrp",
            "port-group group-member GigabitEthernet0/0/3 to GigabitEthernet0/0/24",
            "GigabitEthernet0/0/3",
            "GigabitEthernet0/0/24",
        ),
        (
            "h3c_comware",
            "interface range GigabitEthernet1/0/3 to GigabitEthernet1/0/24",
            "GigabitEthernet1/0/3",
            "GigabitEthernet1/0/24",
        ),
        (
            "cisco_ios",
            "interface range GigabitEthernet1/0/3 - 24",
            "GigabitEthernet1/0/3",
            "GigabitEthernet1/0/24",
        ),
    ],
)
def test_a_group_of_ports_stands_for_its_member_interfaces(platform, line, first, last):
    g = load(platform)
    s = g.session(view=g.config, family=None)
    r = s.feed(line)
    assert r.ok and g.commands[r.command].each == "interface"
    members = g.members(r.command, r.args)
    assert len(members) == 22
    assert members[0] == (f"interface {first}", {"ifname": first})
    assert members[-1][1] == {"ifname": last}


@pytest.mark.parametrize(
    "platform, line",
    [
        ("huawei_vrp", "port-group group-member GigabitEthernet0/0/9 to GigabitEthernet0/0/3"),
        ("h3c_comware", "interface range GigabitEthernet1/0/3 to GigabitEthernet2/0/5"),
        ("cisco_ios", "interface range GigabitEthernet1/0/9 - 3"),
    ],
)
def test_a_range_that_is_not_one_is_refused(platform, line):
    g = load(platform)
    r = g.session(view=g.config).feed(line)
    assert not r.ok and "bad argument last" in (r.error or "")
    assert g.members(r.command or "", r.args) == []


def test_ios_vty_lines_are_a_range_of_single_lines():
    g = load("cisco_ios")
    r = g.session(view=g.config).feed("line vty 0 15")
    assert g.ranged(r.command) and len(g.members(r.command, r.args)) == 16
    assert g.members(r.command, r.args)[5] == ("line vty 5", {"first": "5"})
    assert g.range_line("line-vty", "5", "15") == "line vty 5 15"
    assert g.range_line("line-vty", "7", "7") == "line vty 7"
    assert g.undo_form("line vty 7", "config") == "no line vty 7"
    assert not g.session(view=g.config).feed("no line vty 0 4").ok  # 0-4 always exist
