"""Action plugin `govcloud_device`: the device's rollout inside Ansible's worker process.

A module would cost each device a new Python process importing Netmiko and Paramiko; this
plugin is loaded (with them) by the controller before it forks its workers, so a device
costs a fork and its SSH session only. Arguments, results and the work are the module's
(`playbooks/library/govcloud_device.py`): `playbooks.device_rollout.run`.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from playbooks import device_rollout


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(device_rollout.ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec=device_rollout.ARGUMENT_SPEC)
        result.update(device_rollout.run(args, bool(self._task.check_mode), bool(self._task.diff)))
        return result
