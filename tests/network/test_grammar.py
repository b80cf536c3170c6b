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
