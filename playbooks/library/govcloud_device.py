#!/usr/bin/python
"""Ansible module: one extranet device's IPv6 rollout, through `network.driver`.

`action: rollout` runs the selected `stages` — precheck (reachable, running config saved as
the backup), push (exactly the candidate lines the device lacks, then save / commit),
postcheck (OSPFv3 neighbours Full on the uplinks, ping6 to the parent's loopback), rollback
(back to the backup, verified, when the push is rejected or a post-check fails) — in one
process and one SSH session: `network.driver.rollout_device`, the code `govctl net push`
runs. The playbook computes `stages` from its tags. `action: restore` brings a device back
to its saved backup on demand. Honours --check and --diff.

Normally the action plugin of the same name (`playbooks/action_plugins/`) runs the same code
(`playbooks.device_rollout`) inside Ansible's worker instead of a new module process; this
module is its documentation and the fallback where that plugin is not on the path.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: govcloud_device
short_description: Roll out an extranet device's config with Netmiko (backup, push, check, rollback), or restore it
options:
  action: {type: str, default: rollout, choices: [rollout, restore]}
  stages: {type: list, elements: str, default: [precheck, push, postcheck, rollback],
           description: the rollout stages to run (the playbook derives them from its tags)}
  hostname: {type: str, required: true}
  host: {type: str, required: true, description: management address}
  platform: {type: str, required: true}
  username: {type: str, required: true}
  password: {type: str, no_log: true}
  key_file: {type: path}
  known_hosts: {type: path}
  config: {type: path, description: the rendered candidate config (push stage)}
  backup_dir: {type: path, required: true}
  uplinks: {type: list, elements: str, default: []}
  parent_loopback: {type: str}
  timeout: {type: float, default: 30, description: post-check deadline in seconds}
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402  (Ansible wants DOCUMENTATION first)


def main() -> None:
    try:
        from playbooks import device_rollout
    except ImportError as exc:
        AnsibleModule(argument_spec={}, bypass_checks=True).fail_json(
            msg=f"playbooks.device_rollout is not importable ({exc}): run with the project's Python "
            "(ansible_python_interpreter: '{{ ansible_playbook_python }}')"
        )
    module = AnsibleModule(argument_spec=device_rollout.ARGUMENT_SPEC, supports_check_mode=True)
    result = device_rollout.run(module.params, module.check_mode, module._diff)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
