"""Shared by the testinfra checks: the lab's nodes (from its inventory) and a netns backend."""

from __future__ import annotations

import os
from pathlib import Path

from testinfra.backend.local import LocalBackend

REPO = Path(__file__).resolve().parents[2]
INVENTORY = Path(os.environ.get("GOVCLOUD_LAB_INVENTORY", REPO / ".lab" / "inventory.yml"))


class NetnsBackend(LocalBackend):
    """testinfra's local backend, run inside one network namespace."""

    NAME = "netns"

    def __init__(self, netns: str, **kwargs):
        super().__init__(**kwargs)
        self.netns = netns

    def get_pytest_id(self) -> str:
        return self.netns

    def run(self, command: str, *args: str, **kwargs):
        return self.run_local(
            "ip netns exec %s sh -c %s", self.netns, self.get_command(command, *args)
        )


def _lab():
    if not INVENTORY.is_file():
        return None
    from playbooks import inventory as inv

    return inv.hosts(inv.load(INVENTORY))


NODES = _lab()


def kernel_if(node: dict, name: str) -> str:
    """The Linux interface under a device's interface name: the same on FRR nodes, the
    twin's port map (`<lab>/nodes/<name>/twin/ports.json`) on vendor twins."""
    if node.get("lab_platform", "linux_frr") == "linux_frr":
        return name
    import json

    ports = Path(node["lab_dir"]) / "nodes" / node["name"] / "twin" / "ports.json"
    table = {k.replace(" ", "").lower(): v for k, v in json.loads(ports.read_text()).items()}
    return table.get(name.replace(" ", "").lower(), name)


def vtysh(host, node, command: str) -> str:
    return host.check_output("vtysh -N %s -c %s", node["lab_netns"], command)
