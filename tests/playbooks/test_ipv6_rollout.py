"""The IPv6 rollout against the real namespace lab: Ansible, Netmiko, FRR, sshd, testinfra.

Builds its own lab (2 counties × 1 township × 2 villages: 9 nodes, 4 levels, each county
dual-linked to the core) in a temporary directory and ALWAYS tears it down. In order:
--check --diff touches nothing; `--tags precheck` backs up and pushes nothing; a village
whose sshd is down fails alone while the rest converge; a re-run after repair converges and
a second run changes nothing; testinfra is green; with one of a county's two links down its
villages still reach the core; a config the device rejects is rolled back to exactly the
backup; a post-check failure is rolled back; `govctl net push` (same driver) agrees; `down`
leaves nothing behind. Skips with the reason when not root or when FRR / sshd are missing,
or when another lab is up.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from lab import extranet, topology
from model import load_city
from network import driver
from playbooks import inventory as inv
from tests.helpers import ROOT, SAMPLE_CITY

SPEC = "2x1x2"
BIN = Path(sys.executable).parent
_reasons = extranet.missing_prerequisites()
if not _reasons and extranet._link_exists(extranet.BRIDGE):
    _reasons = [f"another lab is up (bridge {extranet.BRIDGE} exists): `govctl lab down` first"]
pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(bool(_reasons), reason="; ".join(_reasons) or "ok"),
]


class Lab:
    def __init__(self, topo, lab_dir: Path):
        self.topo, self.dir = topo, lab_dir
        self.inventory = lab_dir / "inventory.yml"
        self.hosts = {h["name"]: h for h in inv.hosts(inv.load(self.inventory))}
        self.villages = [n.name for n in topo.nodes if n.level == "village"]

    def playbook(self, *args: str) -> tuple[int, str, dict[str, dict[str, int]]]:
        env = {
            **os.environ,
            "ANSIBLE_CONFIG": str(ROOT / "playbooks" / "ansible.cfg"),
            "ANSIBLE_NOCOLOR": "1",
        }
        proc = subprocess.run(
            [
                str(BIN / "ansible-playbook"),
                "-i",
                str(self.inventory),
                *args,
                str(ROOT / "playbooks" / "ipv6_rollout.yml"),
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        recap = {
            m.group(1): {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
            for m in re.finditer(r"^(\S+)\s+:\s+(ok=.*)$", proc.stdout, re.M)
        }
        return proc.returncode, proc.stdout + proc.stderr, recap

    def running(self, name: str) -> str:
        h = self.hosts[name]
        with driver.session(self.target(name)) as conn:
            return driver.running_config(conn, h["platform"])

    def target(self, name: str) -> driver.Target:
        h = self.hosts[name]
        return driver.Target(
            name,
            h["ansible_host"],
            h["platform"],
            h["net_username"],
            key_file=h["net_key_file"],
            known_hosts=h["net_known_hosts"],
        )


@pytest.fixture(scope="module")
def lab():
    (ROOT / ".lab").mkdir(exist_ok=True)
    lab_dir = Path(tempfile.mkdtemp(prefix="test-rollout-", dir=ROOT / ".lab"))
    topo = topology.build(load_city(SAMPLE_CITY), SPEC)
    try:
        extranet.up(topo, lab_dir, SPEC, str(SAMPLE_CITY))
        extranet.prepare(topo, lab_dir)
        yield Lab(topo, lab_dir)
    finally:
        extranet.down(lab_dir)
        shutil.rmtree(lab_dir, ignore_errors=True)


def test_check_diff_shows_exact_lines_and_touches_nothing(lab):
    name = lab.villages[0]
    before = lab.running(name)
    rc, out, recap = lab.playbook("--check", "--diff", "--limit", name)
    assert rc == 0, out
    want = driver.diff((lab.dir / "configs" / f"{name}.cfg").read_text(), before, "linux_frr")
    assert want and all(f"+{line}" in out for line in want)
    assert recap[name]["changed"] == 1
    assert lab.running(name) == before
    assert not (lab.dir / "backups" / f"{name}.cfg").exists()


def test_tags_select_stages_of_the_one_task(lab):
    name = lab.villages[0]
    before = lab.running(name)
    rc, out, recap = lab.playbook("--tags", "precheck", "--limit", name)
    assert rc == 0, out
    assert recap[name]["changed"] == 0 and recap[name]["ok"] == 1, out
    assert lab.running(name) == before  # no push without the push stage
    assert driver.same_config(
        (lab.dir / "backups" / f"{name}.cfg").read_text(), before, "linux_frr"
    )
    (lab.dir / "backups" / f"{name}.cfg").unlink()


def test_dead_device_fails_alone_and_the_rest_converge(lab):
    dead = lab.villages[0]
    pid = int((lab.dir / "nodes" / dead / "sshd.pid").read_text())
    os.kill(pid, signal.SIGTERM)
    rc, out, recap = lab.playbook()
    assert rc != 0
    assert recap[dead]["failed"] == 1 and "unreachable" in out
    for name, counts in recap.items():
        if name != dead:
            assert counts["failed"] == 0 and counts["changed"] == 1, (name, out)
    assert (lab.dir / "backups" / f"{lab.villages[1]}.cfg").is_file()


def test_rerun_after_repair_converges_then_is_idempotent(lab):
    extranet.up(lab.topo, lab.dir)  # restarts the stopped sshd
    assert all(n["healthy"] for n in extranet.status(lab.topo, lab.dir)["nodes"])
    rc, out, recap = lab.playbook()
    assert rc == 0, out
    assert {n for n, c in recap.items() if c["changed"]} == {lab.villages[0]}
    rc, out, recap = lab.playbook()
    assert rc == 0 and all(c["changed"] == 0 for c in recap.values()), out


def test_testinfra_is_green(lab, testinfra_green):
    testinfra_green(lab.inventory)


def _until(ready, what: str, timeout: float = 20.0):
    """Poll `ready()` until it returns something true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := ready()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(0.2)
    return result


def _route_devs(node, dst: str) -> set[str]:
    """The interfaces a node's route to `dst` leaves by (several when OSPFv3 found equal paths)."""
    routes = json.loads(
        extranet.in_netns(node.netns, "ip", "-j", "-6", "route", "show", dst).stdout or "[]"
    )
    return {nh["dev"] for r in routes for nh in r.get("nexthops", [r]) if "dev" in nh}


def _full_on(node, ifname: str) -> bool:
    out = extranet.vtysh(node, "show ipv6 ospf6 neighbor")
    return any(
        "Full/" in line and line.split()[-1].startswith(f"{ifname}[") for line in out.splitlines()
    )


def test_villages_reach_the_core_with_one_county_link_down(lab):
    topo = lab.topo
    county = next(n for n in topo.nodes if n.level == "county")
    ups = [lk.child_if for lk in topo.links if lk.child == county.name]
    villages = [
        n for n in topo.nodes if n.level == "village" and topo.node(n.parent).parent == county.name
    ]
    core_lo = lab.hosts[county.name]["parent_loopback"]
    assert len(ups) == 2 and villages and all(_full_on(county, i) for i in ups)
    assert _until(
        lambda: _route_devs(county, core_lo) == set(ups), "ECMP over both links to the core"
    )
    extranet._run("ip", "-n", county.netns, "link", "set", ups[0], "down")
    try:
        _until(lambda: _route_devs(county, core_lo) == {ups[1]}, f"reroute over {ups[1]}")
        for v in villages:
            ping = extranet.in_netns(
                v.netns, "ping", "-6", "-c", "1", "-W", "1", core_lo, check=False
            )
            assert ping.returncode == 0, (
                f"{v.name} lost the core with {county.name}:{ups[0]} down: {ping.stdout}"
            )
        assert _full_on(county, ups[1])
    finally:
        extranet._run("ip", "-n", county.netns, "link", "set", ups[0], "up")
    _until(lambda: all(_full_on(county, i) for i in ups), "both adjacencies Full again")
    _until(lambda: _route_devs(county, core_lo) == set(ups), "ECMP over both links again")


def _bad_configs(lab, name: str, change) -> Path:
    out = lab.dir / "bad-configs"
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(lab.dir / "configs", out)
    cfg = out / f"{name}.cfg"
    cfg.write_text(change(cfg.read_text()))
    return out


def test_rejected_config_is_rolled_back_exactly(lab):
    name = lab.villages[1]
    before = lab.running(name)
    configs = _bad_configs(
        lab, name, lambda t: t + "interface up0\n ipv6 ospf6 cost 77\n ipv6 frobnicate on\nexit\n"
    )
    rc, out, recap = lab.playbook("--limit", name, "-e", f"config_dir={configs}")
    assert rc != 0 and "rejected" in out and "rolled back" in out, out
    assert recap[name]["rescued"] == 1
    after = lab.running(name)
    assert "cost 77" not in after
    assert driver.same_config(before, after, "linux_frr")
    assert driver.same_config((lab.dir / "backups" / f"{name}.cfg").read_text(), after, "linux_frr")


def test_postcheck_failure_is_rolled_back(lab):
    name = lab.villages[2]
    before = lab.running(name)
    # Accepted by the device, fatal to the link: a passive uplink drops its OSPFv3 adjacency.
    configs = _bad_configs(lab, name, lambda t: t + "interface up0\n ipv6 ospf6 passive\nexit\n")
    rc, out, recap = lab.playbook(
        "--limit", name, "-e", f"config_dir={configs}", "-e", "postcheck_timeout=6"
    )
    assert rc != 0 and "no Full OSPFv3 neighbour on up0" in out and "rolled back" in out, out
    assert driver.same_config(before, lab.running(name), "linux_frr")
    with driver.session(lab.target(name)) as conn:  # and the device is healthy again
        h = lab.hosts[name]
        assert driver.check(conn, "linux_frr", h["uplinks"], h["parent_loopback"], timeout=30)[
            "ping6"
        ]


def test_direct_path_agrees(lab):
    proc = subprocess.run(
        [str(BIN / "govctl"), "net", "push", "-i", str(lab.inventory), "--json"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    import json

    results = json.loads(proc.stdout)["results"]
    assert len(results) == len(lab.topo.nodes)
    assert all(r["status"] == "ok" and not r["changed"] for r in results)


def test_down_leaves_nothing_behind(lab):
    made = extranet.State(lab.dir).data
    extranet.down(lab.dir)
    present = extranet._netns_list()
    assert not set(made["netns"]) & present
    assert not extranet._link_exists(extranet.BRIDGE)
    assert not any(Path(p).exists() for p in made["paths"])
    assert subprocess.run(["id", extranet.LOGIN_USER], capture_output=True).returncode != 0
