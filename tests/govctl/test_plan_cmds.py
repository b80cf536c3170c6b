"""govctl/plan_cmds.py: what `govctl plan --help` says without loading the gate."""

from __future__ import annotations

from gate import checks
from govctl import plan_cmds


def test_the_checks_the_help_names_are_the_gates():
    assert list(plan_cmds.CHECKS) == checks.CHECK_NAMES
