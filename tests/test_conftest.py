"""tests/conftest.py: the default run does not collect tests/lab_nodes; naming it does.

Real pytest processes collecting (`--co`) the tree; every folder but tests/lab_nodes is left
out of the default-run case (`--ignore`), so it collects in seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT

TESTS = ROOT / "tests"


def collected(*args: str, env: dict | None = None) -> list[str]:
    """The node ids `pytest --co` lists for `args`, run from the repository root."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert done.returncode in (0, 5), done.stdout + done.stderr  # 5: nothing collected
    return [line for line in done.stdout.splitlines() if "::" in line]


def _others() -> list[str]:
    return [
        f"--ignore={p.relative_to(ROOT)}"
        for p in sorted(TESTS.iterdir())
        if p.is_dir() and p.name not in ("lab_nodes", "__pycache__")
    ]


@pytest.fixture
def env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "GOVCLOUD_LAB_INVENTORY"}


def test_the_default_run_does_not_collect_the_lab_nodes(env):
    ids = collected("tests", *_others(), env=env)
    assert ids, "the top-level tests are still collected"
    assert not [i for i in ids if i.startswith("tests/lab_nodes/")]


@pytest.mark.parametrize(
    "named", ["tests/lab_nodes", str(TESTS / "lab_nodes" / "test_lab_nodes.py")]
)
def test_naming_the_lab_nodes_collects_them(named, env):
    ids = collected(named, env=env)
    assert ids and all(i.startswith("tests/lab_nodes/") for i in ids)


def test_a_lab_inventory_in_the_environment_collects_them(env, tmp_path):
    ids = collected(
        "tests", *_others(), env={**env, "GOVCLOUD_LAB_INVENTORY": str(tmp_path / "inv.yml")}
    )
    assert [i for i in ids if i.startswith("tests/lab_nodes/")]
