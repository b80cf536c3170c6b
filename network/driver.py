"""The device driver's public face: config trees, one device's session, the fleet runner.

The driver is split along its jobs — `network.configtree` (pure: what a push or a restore
sends), `network.session` (one device over Netmiko: backup, push, post-check, rollback) and
`network.fleet` (level-by-level rollout of many devices); the vendor facts they look up are
`network.platforms` (`facts`, `cli_facts`). Callers (the Ansible task, `govctl net push`,
the lab tests) import from here.
"""

from __future__ import annotations

from network.configtree import (
    Tree,
    canonical,
    diff,
    missing,
    parse,
    render,
    restore_commands,
    same_config,
    undo_line,
)
from network.fleet import rollout
from network.session import (
    POLL,
    STAGES,
    CheckFailed,
    DriverError,
    Rejected,
    Target,
    Unreachable,
    check,
    force,
    neighbours,
    ping6,
    push,
    restore,
    rollout_device,
    running_config,
    save_backup,
    session,
)

__all__ = [
    "POLL",
    "STAGES",
    "CheckFailed",
    "DriverError",
    "Rejected",
    "Target",
    "Tree",
    "Unreachable",
    "canonical",
    "check",
    "diff",
    "force",
    "missing",
    "neighbours",
    "parse",
    "ping6",
    "push",
    "render",
    "restore",
    "restore_commands",
    "rollout",
    "rollout_device",
    "running_config",
    "same_config",
    "save_backup",
    "session",
    "undo_line",
]
