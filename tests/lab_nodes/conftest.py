"""Testinfra against the running namespace lab: one testinfra `Host` per lab node.

Reads the lab's inventory (`.lab/inventory.yml`, or the file named by GOVCLOUD_LAB_INVENTORY)
and skips everything, with the reason, when there is none — so the default `pytest` run does
not touch a lab that is not up. Each node's Host runs its commands inside the node's network
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


def _asked_for(config) -> bool:
    """True when this directory was named on the command line (or the lab test points here)."""
    here = Path(__file__).parent
    named = any(Path(str(a).split("::")[0]).resolve().is_relative_to(here) for a in config.args)
    return named or "GOVCLOUD_LAB_INVENTORY" in os.environ


def pytest_collection_modifyitems(config, items):
    if not _asked_for(config):
        skip = pytest.mark.skip(
            reason="checks a running lab: run `pytest tests/lab_nodes` after `govctl lab up` and the rollout"
        )
        for item in items:
            if Path(str(item.fspath)).parent == Path(__file__).parent:
                item.add_marker(skip)
    elif NODES is None:
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
