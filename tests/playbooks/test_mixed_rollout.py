"""The IPv6 rollout on the mixed lab: every platform as a vendor twin over real FRR and kernels.

Builds its own 9-node lab with `--platforms mixed` (2 counties × 1 township × 2 villages;
Huawei VRP V5 and V8, H3C Comware, Ruijie RGOS, Cisco IOS and FRR all present) in a
temporary directory, and ALWAYS tears it down. In order: `--check` shows each platform's
own lines (they pass its grammar) and touches nothing; a device whose SSH server is dead
fails alone while Ansible converges the rest; after repair the rollout converges and a
re-run reports changed=0 everywhere; testinfra checks the data plane of every node; on
every platform a rejected line and a failed post-check are rolled back and the running
config is byte-identical to the backup. Skips with the reason when not root, FRR / sshd
missing, or another lab is up.
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lab import extranet, topology
from model import load_city
from network import driver
from network.grammar import check_config
from network.platforms import cli_facts, facts
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

BAD = {
    # a line each platform's grammar refuses (and so its twin, with its own error text)
    "huawei_vrp": "ipv6 frobnicate on",
    "huawei_vrpv8": "ipv6 frobnicate on",
    "h3c_comware": "ipv6 frobnicate on",
    "ruijie_os": "ipv6 frobnicate on",
    "cisco_ios": "ipv6 frobnicate on",
    "linux_frr": "ipv6 frobnicate on",
}
PASSIVE = {
    # accepted, fatal to the uplink's adjacency: the post-check must fail and roll back
    "huawei_vrp": "ospfv3 1\n silent-interface {up}\nquit\n",
    "huawei_vrpv8": "ospfv3 1\n silent-interface {up}\nquit\n",
    "h3c_comware": "ospfv3 1\n silent-interface {up}\nquit\n",
    "ruijie_os": "ipv6 router ospf 1\n passive-interface {up}\nexit\n",
    "cisco_ios": "ipv6 router ospf 1\n passive-interface {up}\nexit\n",
    "linux_frr": "interface {up}\n ipv6 ospf6 passive\nexit\n",
}


class Lab:
    def __init__(self, topo, lab_dir: Path):
        self.topo, self.dir = topo, lab_dir
        self.inventory = lab_dir / "inventory.yml"
        self.hosts = {h["name"]: h for h in inv.hosts(inv.load(self.inventory))}

    def platform(self, name: str) -> str:
        h = self.hosts[name]
        return h.get("platform_variant") or h["platform"]

    def one_per_platform(self) -> dict[str, str]:
        """A node of each platform, the deepest first (villages before the core)."""
        out: dict[str, str] = {}
        for node in reversed(self.topo.nodes):
            out.setdefault(self.platform(node.name), node.name)
        return out

    def target(self, name: str) -> driver.Target:
        h = self.hosts[name]
        return driver.Target(
            name,
            h["ansible_host"],
            self.platform(name),
            h["net_username"],
            key_file=h["net_key_file"],
            known_hosts=h["net_known_hosts"],
        )

    def running(self, name: str) -> str:
        with driver.session(self.target(name)) as conn:
            return driver.running_config(conn, self.platform(name))

    def rollout(self, name: str, candidate: str, timeout: float = 30.0) -> dict:
        h = self.hosts[name]
        return driver.rollout_device(
            self.target(name),
            candidate,
            self.dir / "backups",
            h["uplinks"],
            h["parent_loopback"],
            timeout=timeout,
        )

    def config(self, name: str) -> str:
        return (self.dir / "configs" / f"{name}.cfg").read_text()

    def playbook(self, *args: str) -> tuple[int, str, dict[str, dict[str, int]]]:
        env = {
            **os.environ,
            "ANSIBLE_CONFIG": str(ROOT / "playbooks" / "ansible.cfg"),
            "ANSIBLE_NOCOLOR": "1",
        }
        proc = subprocess.run(
            [str(BIN / "ansible-playbook"), "-i", str(self.inventory), *args]
            + [str(ROOT / "playbooks" / "ipv6_rollout.yml")],
            capture_output=True,
            text=True,
            env=env,
        )
        recap = {
            m.group(1): {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
            for m in re.finditer(r"^(\S+)\s+:\s+(ok=.*)$", proc.stdout, re.M)
        }
        return proc.returncode, proc.stdout + proc.stderr, recap


@pytest.fixture(scope="module")
def lab():
    (ROOT / ".lab").mkdir(exist_ok=True)
    lab_dir = Path(tempfile.mkdtemp(prefix="test-mixed-", dir=ROOT / ".lab"))
    topo = topology.build(load_city(SAMPLE_CITY), SPEC, "mixed")
    try:
        extranet.up(topo, lab_dir, SPEC, str(SAMPLE_CITY))
        extranet.prepare(topo, lab_dir)
        yield Lab(topo, lab_dir)
    finally:
        extranet.down(lab_dir)
        shutil.rmtree(lab_dir, ignore_errors=True)


def test_every_platform_is_in_the_lab(lab):
    assert set(lab.one_per_platform()) == set(topology.ALL_PLATFORMS)


def test_check_shows_vendor_lines_and_touches_nothing(lab):
    picks = lab.one_per_platform()
    before = {n: lab.running(n) for n in picks.values()}
    results = [
        driver.rollout_device(
            lab.target(n), lab.config(n), lab.dir / "backups", [], None, check_mode=True
        )
        for n in picks.values()
    ]
    for (platform, name), r in zip(picks.items(), results, strict=True):
        assert r["status"] == "ok" and r["commands"], (name, r)
        assert check_config("\n".join(r["commands"]), platform, name) == [], (name, r["commands"])
        assert lab.running(name) == before[name]
    assert not (lab.dir / "backups").exists()


def test_dead_device_fails_alone_and_the_rest_converge(lab):
    dead = next(n.name for n in reversed(lab.topo.nodes) if n.twin and n.level == "village")
    state = extranet.State(lab.dir)
    os.kill(state.process(f"gc-{dead}", "twin")["pid"], signal.SIGTERM)
    rc, out, recap = lab.playbook()
    assert rc != 0
    assert recap[dead]["failed"] == 1 and "unreachable" in out
    for name, counts in recap.items():
        if name != dead:
            assert counts["failed"] == 0 and counts["changed"] == 1, (name, out[-3000:])


def test_rerun_after_repair_converges_then_is_idempotent(lab):
    extranet.up(lab.topo, lab.dir)  # restarts the stopped twin from its saved config
    assert all(n["healthy"] for n in extranet.status(lab.topo, lab.dir)["nodes"])
    proc = subprocess.run(
        [str(BIN / "govctl"), "net", "push", "-i", str(lab.inventory), "--json"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    changed = {r["hostname"] for r in json.loads(proc.stdout)["results"] if r["changed"]}
    assert len(changed) == 1, changed  # only the device that was down
    proc = subprocess.run(
        [str(BIN / "govctl"), "net", "push", "-i", str(lab.inventory), "--json"],
        capture_output=True,
        text=True,
    )
    results = json.loads(proc.stdout)["results"]
    assert proc.returncode == 0 and len(results) == len(lab.topo.nodes)
    assert all(r["status"] == "ok" and not r["changed"] for r in results), results


def test_testinfra_checks_the_data_plane_of_every_node(lab, testinfra_green):
    testinfra_green(lab.inventory)


def _parallel(lab, job) -> dict[str, dict]:
    picks = lab.one_per_platform()
    with ThreadPoolExecutor(len(picks)) as pool:
        return dict(zip(picks, pool.map(job, picks.values()), strict=True))


def test_rejected_line_is_rolled_back_byte_identical_on_every_platform(lab):
    def job(name: str) -> dict:
        before = lab.running(name)
        platform = lab.platform(name)
        lo = lab.hosts[name]["loopback"].rsplit(":", 1)[0] + ":beef"
        iface = facts(platform).loopback
        end = cli_facts(platform).block_end[0]
        extra = f"interface {iface}\n ipv6 address {lo}/128\n {BAD[platform]}\n{end}\n"
        r = lab.rollout(name, lab.config(name) + extra)
        return {**r, "before": before, "after": lab.running(name)}

    for platform, r in _parallel(lab, job).items():
        assert r["status"] == "rolled_back" and "rejected" in r["message"], (platform, r)
        assert r["after"] == r["before"], (platform, r["rollback"])  # byte for byte
        assert r["identical"], platform


def test_failed_postcheck_is_rolled_back_byte_identical_on_every_platform(lab):
    def job(name: str) -> dict:
        before = lab.running(name)
        up = lab.hosts[name]["uplinks"][0]
        r = lab.rollout(name, lab.config(name) + PASSIVE[lab.platform(name)].format(up=up), 8)
        return {**r, "before": before, "after": lab.running(name)}

    for platform, r in _parallel(lab, job).items():
        assert r["status"] == "rolled_back" and "no Full OSPFv3 neighbour" in r["message"], (
            platform,
            r,
        )
        assert r["after"] == r["before"], (platform, r["rollback"])
    for name in lab.one_per_platform().values():  # and healthy again
        h = lab.hosts[name]
        with driver.session(lab.target(name)) as conn:
            assert driver.check(conn, lab.platform(name), h["uplinks"], h["parent_loopback"])[
                "ping6"
            ]


def test_down_leaves_nothing_behind(lab):
    made = extranet.State(lab.dir).data
    extranet.down(lab.dir)
    assert not set(made["netns"]) & extranet._netns_list()
    assert not extranet._link_exists(extranet.BRIDGE)
    assert not subprocess.run(["pgrep", "-f", f"lab.twins.*{lab.dir}"]).returncode == 0
