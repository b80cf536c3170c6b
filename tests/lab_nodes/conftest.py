"""Testinfra against the running namespace lab: one testinfra `Host` per lab node.

Collected only when asked for: `pytest tests/lab_nodes`, or GOVCLOUD_LAB_INVENTORY set
(`tests/conftest.py`), so the default `pytest` run neither touches a lab nor lists these as
skipped. Reads the lab's inventory (`.lab/inventory.yml`, or the file GOVCLOUD_LAB_INVENTORY
names) and skips everything, with the reason, when there is none. Each node's Host runs its commands inside the node's network
namespace (a testinfra backend that prefixes `ip netns exec <netns>`), so the stock testinfra
modules (`sysctl`, `interface`, `socket`, `run`) see exactly what the device sees.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import testinfra

from tests.lab_nodes.labhosts import INVENTORY, NODES, NetnsBackend


def pytest_collection_modifyitems(config, items):
    if NODES is None:
        skip = pytest.mark.skip(
            reason=f"no lab inventory at {INVENTORY}: run `govctl lab up` (needs root) first"
        )
        for item in items:
            if Path(str(item.fspath)).parent == Path(__file__).parent:
                item.add_marker(skip)
    elif os.geteuid() != 0:
        skip = pytest.mark.skip(reason="entering the lab's network namespaces needs root")
        for item in items:
            if Path(str(item.fspath)).parent == Path(__file__).parent:
                item.add_marker(skip)


def pytest_generate_tests(metafunc):
    if "node" in metafunc.fixturenames:
        nodes = NODES or [{"name": "no-lab"}]
        metafunc.parametrize("node", nodes, ids=[n["name"] for n in nodes])


@pytest.fixture(scope="session")
def lab_nodes():
    return NODES or []


@pytest.fixture(scope="session")
def plan():
    return json.loads((Path(NODES[0]["lab_dir"]) / "plan.json").read_text())


@pytest.fixture
def host(node):
    return testinfra.host.Host(NetnsBackend(node["lab_netns"]))
