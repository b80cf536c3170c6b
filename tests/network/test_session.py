"""One device's session without a device: failures become results, V8 discards with the
documented command, neighbour tables parse. (The lab tests run the same code against the
vendor twins: tests/playbooks/test_mixed_rollout.py.)"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from netmiko.exceptions import ConfigInvalidException, ReadTimeout

from network import session

FRR = """Neighbor ID     Pri    DeadTime    State/IfState         Duration I/F[State]
198.19.252.2      1    00:00:03     Full/PointToPoint    00:00:10 up0[PointToPoint]
198.19.252.9      1    00:00:03     Init/PointToPoint    00:00:01 dn0[PointToPoint]
"""


def test_frr_neighbour_table():
    assert session.neighbours(FRR, "linux_frr") == [
        {"neighbor": "198.19.252.2", "state": "Full", "interface": "up0"},
        {"neighbor": "198.19.252.9", "state": "Init", "interface": "dn0"},
    ]


class FakeConn:
    """Records what the driver types; refuses the line named `refuse`."""

    base_prompt = "R1"

    def __init__(self, refuse: str | None = None, hang: bool = False):
        self.typed: list[str] = []
        self.refuse, self.hang = refuse, hang

    def send_config_set(self, lines, **kw):
        for line in lines:
            self.typed.append(line)
            if self.hang and line == "return":
                raise ReadTimeout("Pattern not detected")
            if line == self.refuse and kw.get("error_pattern"):
                raise ConfigInvalidException(f"Invalid input detected at command: {line}")
        return ""

    def send_command(self, cmd, **kw):
        return "#\nsysname R1\n#\nreturn\n"

    def save_config(self, cmd):
        self.typed.append(cmd)
        return ""

    def find_prompt(self):
        return "<R1>"


def test_v8_rejected_candidate_is_dropped_with_clear_configuration_candidate():
    conn = FakeConn(refuse=" ipv6 frobnicate")
    with pytest.raises(session.Rejected):
        session.push(conn, ["interface GE0/1/0", " ipv6 frobnicate", " quit"], "huawei_vrpv8")
    assert conn.typed[-2:] == ["clear configuration candidate", "return"]
    assert "commit" not in conn.typed and "save" not in conn.typed


def test_v8_push_commits_then_saves():
    conn = FakeConn()
    session.push(conn, ["interface GE0/1/0", " ipv6 enable", " quit"], "huawei_vrpv8")
    assert conn.typed == [
        "system-view",
        "interface GE0/1/0",
        " ipv6 enable",
        " quit",
        "commit",
        "return",
        "save",
    ]


def test_any_netmiko_exception_is_this_devices_failure(monkeypatch, tmp_path):
    conn = FakeConn(hang=True)

    @contextmanager
    def fake(target):
        yield conn

    monkeypatch.setattr(session, "session", fake)
    target = session.Target("c01-agg-01", "198.19.252.3", "huawei_vrp", "netops")
    r = session.rollout_device(target, "ipv6\n", tmp_path, [], None)
    assert (
        r["status"] == "failed" and "ReadTimeout" in r["message"] and "c01-agg-01" in r["message"]
    )
