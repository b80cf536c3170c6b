"""What the lab rollout tests (test_ipv6_rollout.py, test_mixed_rollout.py) share."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import ROOT


@pytest.fixture
def testinfra_green() -> Callable[[Path], str]:
    """Runs the testinfra checks of tests/lab_nodes against a lab's inventory, in their own
    pytest process (as an operator would), and fails unless every check ran and passed."""

    def run(inventory: Path) -> str:
        env = {**os.environ, "GOVCLOUD_LAB_INVENTORY": str(inventory)}
        pytest_bin = Path(sys.executable).parent / "pytest"
        proc = subprocess.run(
            [str(pytest_bin), "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "lab_nodes")],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
        )
        assert proc.returncode == 0, proc.stdout[-4000:]
        assert " passed" in proc.stdout and "skipped" not in proc.stdout
        return proc.stdout

    return run
