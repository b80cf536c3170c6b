"""The vendor twins' CLI without root: prompts, errors, dialogues, undo forms, VRP V8's
candidate, and the outputs the driver parses — checked against published device samples.

A dry data plane records what would reach the kernel and FRR instead of running it; the
lab tests (tests/playbooks/test_mixed_rollout.py) run the same twins over the real one.
"""

from __future__ import annotations

import pytest

from lab.twins.device import Cli, Twin, format_ospf, format_ping
from lab.twins.profiles import initial_config
from network.platforms import cli_facts, facts
from network.session import neighbours

PORTS = {"GigabitEthernet0/0/1": "up0", "LoopBack0": "lo", "GigabitEthernet1/0/1": "up0"}

# Published outputs, kept with their source (the parsers must read them as they are).
SAMPLES = {
    # NE40E V800R012C10 Configuration Guide, OSPFv3 configuration example, `display ospfv3 peer`
    "huawei_vrp": """
OSPFv3 Process (1)
Total number of peer(s): 1
 Peer(s) in full state: 1
OSPFv3 Area (0.0.0.0)
Neighbor ID      Pri State            Dead Time  Interface          Instance ID
2.2.2.2            1 Full/Backup      00:00:37   GE0/1/0               0
""",
    # H3C Comware 7 Layer 3 IP Routing Command Reference, `display ospfv3 peer` example
    "h3c_comware": """
               OSPFv3 Process 1 with Router ID 1.1.1.1

 Area: 0.0.0.0
-------------------------------------------------------------------------
 Router ID       Pri State             Dead-Time InstID Interface
 2.2.2.2         1   Full/DR           00:00:33  0      GE1/0/1
""",
    # Cisco IOS IPv6 Configuration Guide, "Implementing OSPFv3", `show ipv6 ospf neighbor`
    "cisco_ios": """
            OSPFv3 Router with ID (10.0.0.1) (Process ID 1)

Neighbor ID     Pri   State           Dead Time   Interface ID    Interface
10.0.0.2          1   FULL/  -        00:00:35    6               GigabitEthernet0/0/1
""",
}


def twin(tmp_path, platform: str, family: str | None = None) -> Twin:
    rows = [("GigabitEthernet0/0/1", "198.19.0.1", "255.255.255.254", None)]
    if platform == "h3c_comware":
        rows = [("GigabitEthernet1/0/1", "198.19.0.1", "255.255.255.254", None)]
    (tmp_path / "initial.cfg").write_text(initial_config(platform, "R1", rows))
    return Twin(platform, "R1", tmp_path, PORTS, None, dry=True, family=family)


def run(cli: Cli, lines: list[str], answer: str = "y") -> list[tuple[str, str]]:
    out = []
    for line in lines:
        prompt = cli.prompt()
        out.append((prompt, cli.feed(line, lambda _q: answer)))
    return out


@pytest.mark.parametrize(
    "platform, enter, sub, prompts",
    [
        (
            "huawei_vrp",
            "system-view",
            "interface GigabitEthernet0/0/1",
            ["<R1>", "[R1]", "[R1-GigabitEthernet0/0/1]"],
        ),
        (
            "huawei_vrpv8",
            "system-view",
            "interface GigabitEthernet0/0/1",
            ["<R1>", "[~R1]", "[~R1-GigabitEthernet0/0/1]"],
        ),
        (
            "h3c_comware",
            "system-view",
            "interface GigabitEthernet1/0/1",
            ["<R1>", "[R1]", "[R1-GigabitEthernet1/0/1]"],
        ),
        (
            "cisco_ios",
            "configure terminal",
            "interface GigabitEthernet0/0/1",
            ["R1#", "R1(config)#", "R1(config-if)#"],
        ),
    ],
)
def test_prompts_of_each_view(tmp_path, platform, enter, sub, prompts):
    cli = Cli(twin(tmp_path, platform))
    seen = [p for p, _ in run(cli, [enter, sub, "ipv6 address 2001:db8::1/64"])]
    assert seen == prompts


def test_vrp_error_marks_the_first_bad_word(tmp_path):
    cli = Cli(twin(tmp_path, "huawei_vrp"))
    (_, _), (prompt, out) = run(cli, ["system-view", "ipv6 adress 2001:db8::1/64"])
    marker, message = out.splitlines()
    assert message == "Error: Unrecognized command found at '^' position."
    assert marker.index("^") == len(prompt) + len("ipv6 ")


def test_comware_and_ios_errors_are_their_own(tmp_path):
    cw = Cli(twin(tmp_path / "c", "h3c_comware")) if (tmp_path / "c").mkdir() is None else None
    assert cw is not None
    assert "% Unrecognized command found at '^' position." in run(cw, ["system-view", "foo"])[1][1]
    ios = Cli(twin(tmp_path / "i", "cisco_ios")) if (tmp_path / "i").mkdir() is None else None
    assert ios is not None
    assert (
        "% Invalid input detected at '^' marker."
        in run(ios, ["configure terminal", "foo bar"])[1][1]
    )


def test_vrp_save_asks_and_saves(tmp_path):
    t = twin(tmp_path, "huawei_vrp")
    cli = Cli(t)
    questions = []
    out = cli.feed("save", lambda q: questions.append(q) or "y")
    assert "Are you sure to continue?[Y/N]" in questions[0]
    assert "Save the configuration successfully." in out
    assert (tmp_path / "saved.cfg").read_text() == t.render(t.running).replace("\r\n", "\n")


def test_undo_forms_remove_what_they_name_and_ipv6_is_shown_upper_case(tmp_path):
    t = twin(tmp_path, "huawei_vrp")
    backup = t.render(t.running)
    cli = Cli(t)
    run(
        cli,
        ["system-view", "acl ipv6 number 2001", "rule 5 permit source 2001:db8:0:2:: 64", "quit"],
    )
    run(cli, ["user-interface vty 0 4", "acl ipv6 2001 inbound", "quit"])
    run(
        cli,
        [
            "interface GigabitEthernet0/0/1",
            "ipv6 enable",
            "ipv6 address 2001:db8:0:1::3/127",
            "return",
        ],
    )
    shown = t.render(t.running)
    assert " rule 5 permit source 2001:DB8:0:2::/64" in shown  # VRP's display form
    assert " ipv6 address 2001:DB8:0:1::3/127" in shown
    assert any(cmd[:3] == ["ip", "-6", "addr"] for cmd in t.dataplane.log)
    run(cli, ["system-view", "user-interface vty 0 4", "undo acl ipv6 inbound", "quit"])
    run(cli, ["interface GigabitEthernet0/0/1", "undo ipv6 address", "undo ipv6 enable", "quit"])
    run(cli, ["undo acl ipv6 2001", "return"])
    assert t.render(t.running) == backup  # exactly as before


def test_vrpv8_candidate_commit_and_documented_discard(tmp_path):
    t = twin(tmp_path, "huawei_vrpv8", "ne")
    before = t.render(t.running)
    cli = Cli(t)
    out = run(cli, ["system-view", "interface GigabitEthernet0/0/1", "ipv6 enable", "quit"])
    assert out[-1][0] == "[*R1-GigabitEthernet0/0/1]"  # uncommitted
    assert t.render(t.running) == before  # nothing reaches the running config before commit
    run(cli, ["clear configuration candidate"])
    assert cli.prompt() == "[~R1]" and t.render(t.running) == before
    run(cli, ["interface GigabitEthernet0/0/1", "ipv6 enable", "quit", "commit"])
    assert " ipv6 enable" in t.render(t.running)


# A published VRP V8 session (an NE router leaving the system view with a candidate; a
# network-notes transcript on GitHub), the question as the device prints it:
V8_EXIT = (
    "[*c2-huawei-acl4-basic-2000]\n"
    "Warning: Uncommitted configurations found, commit them before exiting? "
    "[Y(yes)/N(no)/C(cancel)]:y\n"
    "<c2-huawei>"
)


def test_vrpv8_leaving_with_uncommitted_changes_asks_as_published(tmp_path):
    t = twin(tmp_path, "huawei_vrpv8", "ne")
    cli = Cli(t)
    run(cli, ["system-view", "interface GigabitEthernet0/0/1", "ipv6 enable"])
    asked = []
    cli.feed("return", lambda q: asked.append(q) or "n")
    assert asked[0] + "y" == V8_EXIT.splitlines()[1]
    assert cli.prompt() == "<R1>" and " ipv6 enable" not in t.render(t.running)


def test_vrpv8_asks_again_until_yes_no_or_cancel(tmp_path):
    t = twin(tmp_path, "huawei_vrpv8", "ne")
    cli = Cli(t)
    run(cli, ["system-view", "interface GigabitEthernet0/0/1", "ipv6 enable"])
    answers, asked = iter(["maybe", "c"]), []
    cli.feed("return", lambda q: asked.append(q) or next(answers))
    assert asked[1].startswith("Error: Please choose 'YES', 'NO' or 'CANCEL'")
    assert cli.prompt() == "[*R1-GigabitEthernet0/0/1]"  # cancelled: still editing
    answers, asked = iter(["yes"]), []
    cli.feed("return", lambda q: asked.append(q) or next(answers))
    assert cli.prompt() == "<R1>" and " ipv6 enable" in t.render(t.running)  # committed


# RGOS `show ip ospf neighbor` as published from a real RGOS switch (Alibaba Cloud
# documentation, "OSPF状态" troubleshooting page); the OSPFv3 table has the same columns
# with the Instance ID where this one has the address.
RGOS_V4 = """OSPF process 1, 8 Neighbors, 8 is Full:
Neighbor ID     Pri   State                BFD State  Dead Time   Address         Interface
10.10.10.10       0   Full/ -              -          00:00:10    192.168.10.5    GigabitEthernet 0/13
"""


def test_rgos_table_has_the_published_column_positions():
    rows = [{"rid": "10.10.10.10", "pri": 0, "dead": "00:00:10", "state": "Full",
             "ifname": "", "vif": "GigabitEthernet 0/13", "area": "0.0.0.0", "full": True}]  # fmt: skip
    head, row = format_ospf("rgos", rows, "1.1.1.1").splitlines()[1:3]
    want_head, want_row = RGOS_V4.splitlines()[1:3]
    for column in ("Pri", "State", "BFD State", "Dead Time"):
        assert head.index(column) == want_head.index(column), column
    assert head.index("Instance ID") == want_head.index("Address")
    assert row[: want_row.index("192.168")] == want_row[: want_row.index("192.168")]
    assert row.endswith("GigabitEthernet 0/13")


@pytest.mark.parametrize("platform", ["huawei_vrp", "h3c_comware", "cisco_ios"])
def test_published_neighbour_tables_parse(platform):
    rows = neighbours(SAMPLES[platform], platform)
    assert len(rows) == 1 and rows[0]["state"].lower() == "full"
    assert rows[0]["interface"].startswith("GigabitEthernet")  # GE0/1/0 written out


@pytest.mark.parametrize(
    "kind, platform",
    [
        ("huawei", "huawei_vrp"),
        ("comware", "h3c_comware"),
        ("ios", "cisco_ios"),
        ("rgos", "ruijie_os"),
    ],
)
def test_twin_tables_read_back_with_the_drivers_parser(kind, platform):
    rows = [
        {"rid": "198.19.252.2", "pri": 1, "dead": "00:00:03", "state": "Full", "ifname": "GE0/0/1",
         "vif": "GigabitEthernet0/0/1" if platform != "ruijie_os" else "GigabitEthernet 0/1",
         "area": "0.0.0.0", "full": True},
    ]  # fmt: skip
    if kind in ("huawei", "comware"):
        rows[0]["ifname"] = "GE0/0/1"
    parsed = neighbours(format_ospf(kind, rows, "198.19.252.3"), platform)
    assert [(p["neighbor"], p["state"].lower()) for p in parsed] == [("198.19.252.2", "full")]
    assert parsed[0]["interface"].replace(" ", "") in ("GigabitEthernet0/0/1", "GigabitEthernet0/1")


@pytest.mark.parametrize(
    "kind, ok",
    [("huawei", "Reply from"), ("comware", "bytes from"), ("ios", "Success rate is 100")],
)
def test_ping_formats(kind, ok):
    text = format_ping(
        kind,
        "2001:DB8::1",
        "2001:DB8::2",
        3,
        [(1, "64", "0.1"), (2, "64", "0.1"), (3, "64", "0.1")],
    )
    assert ok in text
    assert ok not in format_ping(kind, "2001:DB8::1", "2001:DB8::2", 3, []).replace(
        "Success rate is 0", ""
    )


GROUPS = {
    # platform, family: (the group line, a line typed in it, its undo form); the grammar's
    # `each` and its sources say the group is run on every member and not stored itself
    ("huawei_vrp", "s"): (
        "port-group group-member GigabitEthernet0/0/3 to GigabitEthernet0/0/5",
        "nd raguard role host",
        "undo nd raguard role",
    ),
    ("h3c_comware", "s"): (
        "interface range GigabitEthernet1/0/3 to GigabitEthernet1/0/5",
        "ipv6 nd raguard role host",
        "undo ipv6 nd raguard role",
    ),
    ("cisco_ios", "catalyst"): (
        "interface range GigabitEthernet1/0/3 - 5",
        "ipv6 nd raguard attach-policy HOST-PORTS",
        "no ipv6 nd raguard attach-policy HOST-PORTS",
    ),
}


def switch_twin(tmp_path, platform: str, family: str) -> Twin:
    """A switch twin whose front ports 3-5 exist unconfigured, as a switch shows them."""
    up = "GigabitEthernet1/0/1" if platform != "huawei_vrp" else "GigabitEthernet0/0/1"
    stem = up[:-1]
    rows = [(up, "198.19.0.1", "255.255.255.254", None)]
    rows += [(f"{stem}{i}", None, None, None) for i in (3, 4, 5)]
    (tmp_path / "initial.cfg").write_text(initial_config(platform, "R1", rows))
    return Twin(platform, "R1", tmp_path, {up: "up0"}, None, dry=True, family=family)


@pytest.mark.parametrize("platform, family", sorted(GROUPS))
def test_a_group_of_ports_configures_each_member_and_its_undo_removes_it(
    tmp_path, platform, family
):
    group, line, undo = GROUPS[platform, family]
    t = switch_twin(tmp_path, platform, family)
    before = t.render(t.running)
    assert before.count("\ninterface ") == 4  # the uplink and the three empty front ports
    cli = Cli(t)
    out = run(cli, [facts(platform).config_mode, group, line])
    assert all(o == "" for _p, o in out), out
    shown = t.render(t.running)
    assert group not in shown  # the group is no line of the configuration
    stem = group.split()[-3][:-1]
    for i in (3, 4, 5):  # every member has the line, in its own interface block
        block = shown.split(f"interface {stem}{i}\r\n", 1)[1]
        assert block.startswith(f" {line}\r\n"), shown
    run(cli, [group, undo])
    assert t.render(t.running) == before  # exactly as before


@pytest.mark.parametrize("platform, family", sorted(GROUPS))
def test_the_drivers_push_of_a_group_converges_and_rolls_back_byte_identically(
    tmp_path, platform, family
):
    from network.configtree import diff, restore_commands

    group, line, _undo = GROUPS[platform, family]
    t = switch_twin(tmp_path, platform, family)
    backup = t.render(t.running)
    cli = Cli(t)
    f = facts(platform)
    candidate = f"{group}\n {line}\n{cli_facts(platform).block_end[0]}\n"
    push = diff(candidate, backup, platform)
    assert push[0] == group  # sent as the group, not once per member
    run(cli, [f.config_mode, *push, f.exit_config])
    assert diff(candidate, t.render(t.running), platform) == []  # a re-run is changed=0
    lines = restore_commands(backup, t.render(t.running), platform)
    assert all(not ln.strip().startswith(group) for ln in lines)
    errors = [o for _p, o in run(cli, [f.config_mode, *lines]) if o]
    assert errors == []
    assert t.render(t.running) == backup


def test_ios_vty_range_is_shown_as_ranges_and_rolls_back_byte_identically(tmp_path):
    """`line vty 0 15` on a device booted with `line vty 0 4`: lines 5-15 are created, each
    line of the range configured; the device shows ranges of lines configured alike."""
    from network.configtree import diff, restore_commands

    t = twin(tmp_path, "cisco_ios", "isr")
    boot = t.render(t.running)
    candidate = "line vty 0 15\n ipv6 access-class MGMT-V6 in\nexit\n"
    push = diff(candidate, boot, "cisco_ios")
    assert push == ["line vty 0 15", " ipv6 access-class MGMT-V6 in", " exit"]
    cli = Cli(t)
    assert all(o == "" for _p, o in run(cli, ["configure terminal", *push, "end"]))
    shown = t.render(t.running)
    assert "line vty 0 4\r\n transport input ssh\r\n ipv6 access-class MGMT-V6 in\r\n" in shown
    assert "line vty 5 15\r\n ipv6 access-class MGMT-V6 in\r\n" in shown
    assert diff(candidate, shown, "cisco_ios") == []  # a re-run is changed=0
    lines = restore_commands(boot, shown, "cisco_ios")
    assert "no line vty 5" in lines and not any("no line vty 0" in ln for ln in lines)
    assert all(o == "" for _p, o in run(cli, ["configure terminal", *lines, "end"]))
    assert t.render(t.running) == boot
    # lines 0-4 cannot be removed
    out = run(cli, ["configure terminal", "no line vty 0 15", "end"])[1][1]
    assert "% Invalid input detected" in out and t.render(t.running) == boot
