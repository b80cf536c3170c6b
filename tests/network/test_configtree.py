"""Config trees: what a push sends and what a restore sends (no device needed).

The lab tests (tests/playbooks/) run the same functions against real FRR and the vendor
twins; here a tiny
interpreter of hierarchical CLI input (enter a block, `no X` removes X, `exit` leaves) checks
the algebra quickly, including a hypothesis property: restoring always lands on the backup.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from network import configtree as driver
from network import session
from network.platforms import cli_facts, facts

RUNNING = """Building configuration...

Current configuration:
!
frr version 8.4.4
frr defaults traditional
hostname c01-agg-01
!
interface lo
 ip address 198.19.64.2/32
exit
!
interface up0
 ip address 198.19.0.1/31
exit
!
end
"""

CANDIDATE = """! govcloud IPv6 for c01-agg-01
interface lo
 ipv6 address 2001:db8:100::1/128
exit
!
interface up0
 ipv6 address 2001:db8:0:1::3/127
 ipv6 ospf6 area 0.0.0.0
exit
!
router ospf6
 ospf6 router-id 198.19.252.3
exit
"""


def apply(running: str, commands: list[str], platform: str = "linux_frr") -> str:
    """Play config-mode input against a config tree, the way vtysh treats it."""
    block_end, negate = cli_facts(platform).block_end, facts(platform).negate + " "
    tree = driver.parse(running, platform)
    stack = [tree]
    for raw in commands:
        depth = len(raw) - len(raw.lstrip(" "))
        line = raw.strip()
        del stack[depth + 1 :]
        if line in block_end:
            del stack[depth:]
            continue
        here = stack[min(depth, len(stack) - 1)]
        if line.startswith(negate):  # an undo form removes the lines it names the start of
            gone = line.removeprefix(negate)
            for k in [k for k in here if k == gone or k.startswith(gone + " ")]:
                here.pop(k)
            continue
        stack.append(here.setdefault(line, {}))
    return "\n".join(driver.render(tree, platform))


def test_diff_sends_only_missing_lines_in_their_blocks():
    lines = driver.diff(CANDIDATE, RUNNING, "linux_frr")
    assert lines == [
        "interface lo",
        " ipv6 address 2001:db8:100::1/128",
        " exit",
        "interface up0",
        " ipv6 address 2001:db8:0:1::3/127",
        " ipv6 ospf6 area 0.0.0.0",
        " exit",
        "router ospf6",
        " ospf6 router-id 198.19.252.3",
        " exit",
    ]


def test_diff_is_empty_once_applied():
    after = apply(RUNNING, driver.diff(CANDIDATE, RUNNING, "linux_frr"))
    assert driver.diff(CANDIDATE, after, "linux_frr") == []


def test_restore_undoes_a_push_exactly():
    after = apply(RUNNING, driver.diff(CANDIDATE, RUNNING, "linux_frr"))
    commands = driver.restore_commands(RUNNING, after, "linux_frr")
    assert "no router ospf6" in commands and " no ipv6 address 2001:db8:0:1::3/127" in commands
    assert driver.same_config(RUNNING, apply(after, commands), "linux_frr")


def test_restore_puts_back_what_was_removed():
    damaged = RUNNING.replace(" ip address 198.19.0.1/31\n", "")
    commands = driver.restore_commands(RUNNING, damaged, "linux_frr")
    assert commands == ["interface up0", " ip address 198.19.0.1/31", " exit"]


def test_volatile_and_comment_lines_do_not_count():
    assert driver.same_config(
        RUNNING,
        RUNNING.replace("frr version 8.4.4", "frr version 9.0").replace("!", "! changed"),
        "linux_frr",
    )


def test_huawei_negates_with_undo():
    backup = "#\ninterface GigabitEthernet0/0/1\n ip address 10.0.0.1 255.255.255.252\n#\nreturn\n"
    running = backup.replace("#\nreturn", " ipv6 enable\n#\nreturn")
    assert driver.restore_commands(backup, running, "huawei_vrp") == [
        "interface GigabitEthernet0/0/1",
        " undo ipv6 enable",
        " quit",
    ]


def test_vrpv8_variant_commits_and_discards_with_the_documented_command():
    assert facts("huawei_vrpv8").commit_command == "commit"
    assert facts("huawei_vrp").commit_command is None
    assert cli_facts("huawei_vrpv8").discard == "clear configuration candidate"


def test_ipv6_case_and_display_forms_do_not_make_a_diff():
    # VRP prints IPv6 in upper case and an ACL6 rule's source as a prefix
    # (`display current-configuration` on S V200R019); the rendered lines are lower case.
    candidate = (
        "acl ipv6 number 2001\n rule 5 permit source 2001:db8:0:2:: 64\nquit\n"
        "interface GigabitEthernet0/0/1\n ipv6 address 2001:db8:0:1::3/127\nquit\n"
    )
    running = (
        "#\nacl ipv6 number 2001\n rule 5 permit source 2001:DB8:0:2::/64\n#\n"
        "interface GigabitEthernet0/0/1\n ipv6 address 2001:DB8:0:1::3/127\n#\nreturn\n"
    )
    assert driver.diff(candidate, running, "huawei_vrp") == []


def test_restore_uses_the_documented_undo_forms():
    backup = "#\nuser-interface vty 0 4\n authentication-mode aaa\n#\nreturn\n"
    running = backup.replace(
        " authentication-mode aaa\n", " authentication-mode aaa\n acl ipv6 2001 inbound\n"
    )
    running = running.replace("#\nreturn", "#\nospfv3 1\n router-id 198.19.64.1\n#\nreturn")
    assert driver.restore_commands(backup, running, "huawei_vrp") == [
        "undo ospfv3 1",
        "user-interface vty 0 4",
        " undo acl ipv6 inbound",
        " quit",
    ]


WORDS = st.sampled_from(
    [
        "ip address 10.0.0.1/31",
        "ipv6 address 2001:db8::1/127",
        "ipv6 ospf6 area 0.0.0.1",
        "description x",
        "ipv6 ospf6 passive",
        "ospf6 router-id 1.1.1.1",
    ]
)
HEADERS = st.sampled_from(
    ["interface lo", "interface up0", "interface dn0", "router ospf6", "line vty"]
)
CONFIGS = st.dictionaries(HEADERS, st.dictionaries(WORDS, st.just({}), max_size=4), max_size=5).map(
    lambda t: "\n".join(
        line for h, body in t.items() for line in [h, *(" " + w for w in body), "exit"]
    )
)


@settings(max_examples=150, deadline=None)
@given(CONFIGS, CONFIGS)
def test_restore_always_lands_on_the_backup(backup, running):
    assert driver.same_config(
        backup, apply(running, driver.restore_commands(backup, running, "linux_frr")), "linux_frr"
    )


@settings(max_examples=150, deadline=None)
@given(CONFIGS, CONFIGS)
def test_push_then_diff_is_empty(candidate, running):
    after = apply(running, driver.diff(candidate, running, "linux_frr"))
    assert driver.diff(candidate, after, "linux_frr") == []


def test_rollout_device_checks_its_stages_and_rollback_alone_never_logs_in(monkeypatch, tmp_path):
    def no_login(target):
        raise AssertionError("rollout_device logged in with nothing to do")

    monkeypatch.setattr(session, "session", no_login)
    target = session.Target("c01t001v001-cpe", "198.18.0.9", "linux_frr", "netops")
    with pytest.raises(ValueError, match="bogus"):
        session.rollout_device(target, None, tmp_path, [], None, stages=["push", "bogus"])
    result = session.rollout_device(target, None, tmp_path, [], None, stages=["rollback"])
    assert result["status"] == "ok" and not result["changed"] and result["commands"] == []
    assert not list(tmp_path.iterdir())  # no backup either


GROUPED = {
    # platform: (group line, the line typed in it, its undo form)
    "huawei_vrp": (
        "port-group group-member GigabitEthernet0/0/3 to GigabitEthernet0/0/5",
        "nd raguard role host",
        "undo nd raguard role",
    ),
    "h3c_comware": (
        "interface range GigabitEthernet1/0/3 to GigabitEthernet1/0/5",
        "ipv6 nd raguard role host",
        "undo ipv6 nd raguard role",
    ),
    "cisco_ios": (
        "interface range GigabitEthernet1/0/3 - 5",
        "ipv6 nd raguard attach-policy HOST-PORTS",
        "no ipv6 nd raguard attach-policy HOST-PORTS",
    ),
}


@pytest.mark.parametrize("platform", sorted(GROUPED))
def test_a_group_of_ports_is_compared_as_its_members(platform):
    group, line, undo = GROUPED[platform]
    end, sep = cli_facts(platform).block_end[0], facts(platform).comment
    first = group.split()[-3]  # `<first> to <last>`, IOS `<first> - <n>`
    stem, n = first.rstrip("0123456789"), int(first[len(first.rstrip("0123456789")) :])
    members = [f"{stem}{i}" for i in range(n, n + 3)]
    candidate = f"{group}\n {line}\n {end}\n"
    bare = "".join(f"{sep}\ninterface {m}\n" for m in members) + f"{sep}\n"
    done = "".join(f"{sep}\ninterface {m}\n {line}\n" for m in members) + f"{sep}\n"
    # the device shows the line under each member, never the group
    assert driver.parse(candidate, platform) == driver.parse(done, platform)
    assert driver.diff(candidate, done, platform) == []  # a re-run sends nothing
    assert driver.diff(candidate, bare, platform) == [group, f" {line}", f" {end}"]
    one_has_it = bare.replace(f"interface {members[1]}\n", f"interface {members[1]}\n {line}\n")
    assert driver.diff(candidate, one_has_it, platform) == [
        x for m in (members[0], members[2]) for x in (f"interface {m}", f" {line}", f" {end}")
    ]
    # the rollback removes the line from every member with its documented undo form
    assert driver.restore_commands(bare, done, platform) == [
        x for m in reversed(members) for x in (f"interface {m}", f" {undo}", f" {end}")
    ]


def test_a_view_the_device_keeps_is_emptied_not_undone():
    """FRR cannot delete an active kernel interface nor its vty lines (grammar `keep`): the
    rollback of a first rollout empties them, and an emptied one is not configured."""
    boot = "interface lo\n ip address 198.19.64.14/32\nexit\n!\nend\n"
    rolled = (
        "interface lan0\n ipv6 address 2001:db8:202:101::1/64\n no ipv6 nd suppress-ra\nexit\n!\n"
        + boot.replace("end\n", "line vty\n ipv6 access-class MGMT-V6\nexit\n!\nend\n")
    )
    lines = driver.restore_commands(boot, rolled, "linux_frr")
    assert "no interface lan0" not in lines and "no line vty" not in lines
    assert lines[:3] == ["line vty", " no ipv6 access-class MGMT-V6", " exit"]
    assert lines[3:] == [
        "interface lan0",
        " ipv6 nd suppress-ra",
        " no ipv6 address 2001:db8:202:101::1/64",
        " exit",
    ]
    assert driver.same_config(boot, "interface lan0\nexit\n!\n" + boot, "linux_frr")
    assert not driver.same_config(boot, rolled, "linux_frr")
