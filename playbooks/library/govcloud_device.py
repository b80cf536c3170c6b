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
short_description: Roll out an extranet device's config (backup, push, check, rollback), or restore it
version_added: "0.1.0"
description:
  - Runs one extranet device's IPv6 rollout in one SSH session (Netmiko), the code
    C(govctl net push) runs (C(network.driver.rollout_device)).
  - The selected O(stages) run in order. C(precheck) logs in and saves the running config as
    the backup in O(backup_dir). C(push) sends exactly the lines of O(config) the device
    lacks, then saves or commits. C(postcheck) waits until OSPFv3 neighbours are Full on
    O(uplinks) and the parent's loopback answers ping6. C(rollback) brings the device back
    to the backup, and verifies it, when the push is rejected or a post-check fails.
  - O(action=restore) brings the device back to its saved backup on demand.
  - The action plugin of the same name runs this code inside Ansible's worker (no module
    process); this module is its documentation and the fallback where the plugin is not on
    the path. Both need the project's Python (C(ansible_python_interpreter)).
  - This documentation is the one source of the argument spec
    (C(playbooks.device_rollout.ARGUMENT_SPEC) is derived from it).
author:
  - govcloud network engineering
options:
  action:
    description: Run the rollout stages, or restore the saved backup.
    type: str
    default: rollout
    choices: [rollout, restore]
  stages:
    description:
      - The rollout stages to run, in this order whatever the order given.
      - The playbook derives them from its tags (C(--tags push), C(--skip-tags postcheck)).
    type: list
    elements: str
    default: [precheck, push, postcheck, rollback]
    choices: [precheck, push, postcheck, rollback]
  hostname:
    description: The device's hostname; names its backup (C(<backup_dir>/<hostname>.cfg)).
    type: str
    required: true
  host:
    description: The device's management address.
    type: str
    required: true
  platform:
    description: The device's platform (C(huawei_vrp), C(h3c_comware), C(linux_frr), ...), as the city model names it.
    type: str
    required: true
  username:
    description: The login user.
    type: str
    required: true
  password:
    description: The login password; from an ansible-vault file or the environment, never the repository.
    type: str
  key_file:
    description: A private key to log in with instead of a password.
    type: path
  known_hosts:
    description: A known_hosts file pinning the device's host key.
    type: path
  config:
    description: The rendered candidate config (needed by the C(push) stage).
    type: path
  backup_dir:
    description: Where the running config is saved before a push, and restored from.
    type: path
    required: true
  uplinks:
    description: The interfaces whose OSPFv3 neighbour must be Full after the push.
    type: list
    elements: str
    default: []
  parent_loopback:
    description: The parent device's IPv6 loopback, pinged after the push.
    type: str
  timeout:
    description: Seconds the post-check waits for the adjacencies and the ping.
    type: float
    default: 30.0
attributes:
  check_mode:
    description: Prints the lines the device would get; writes nothing to the device or the backup, skips the post-check.
    support: full
  diff_mode:
    description: The lines pushed (or, in check mode, to be pushed), each prefixed with C(+).
    support: full
notes:
  - Needs the project's Python, with Netmiko, as C(ansible_python_interpreter).
"""

EXAMPLES = r"""
- name: Roll out a village CPE (all stages)
  govcloud_device:
    hostname: c01t001v001-cpe
    host: 198.19.252.16
    platform: linux_frr
    username: gcnet
    key_file: .lab/ssh/id_ed25519
    known_hosts: .lab/known_hosts
    config: .lab/configs/c01t001v001-cpe.cfg
    backup_dir: .lab/backups
    uplinks: [up0]
    parent_loopback: "2001:db8:0:100::1"

- name: Push without the post-check
  govcloud_device:
    hostname: c01-agg-01
    host: 198.19.252.3
    platform: linux_frr
    username: gcnet
    password: "{{ net_password }}"
    config: .lab/configs/c01-agg-01.cfg
    backup_dir: .lab/backups
    stages: [precheck, push, rollback]

- name: Restore the saved backup
  govcloud_device:
    action: restore
    hostname: c01-agg-01
    host: 198.19.252.3
    platform: linux_frr
    username: gcnet
    password: "{{ net_password }}"
    backup_dir: .lab/backups
"""

RETURN = r"""
commands:
  description: The config lines pushed (in check mode, the lines that would be), or sent by a restore.
  returned: always
  type: list
  elements: str
  sample: ["interface up0", " ipv6 address 2001:db8:0:1::1/127"]
backup:
  description: Path of the saved backup (C(precheck), not in check mode).
  returned: action is rollout
  type: str
  sample: .lab/backups/c01t001v001-cpe.cfg
checks:
  description: What the post-check saw.
  returned: action is rollout and the postcheck stage ran
  type: dict
  contains:
    neighbors_full:
      description: The uplinks with a Full OSPFv3 neighbour.
      type: list
      elements: str
      returned: always
    ping6:
      description: The parent loopback that answered, or null when there is none.
      type: str
      returned: always
rollback:
  description: The lines sent to bring the device back to the backup, or null when no rollback ran.
  returned: action is rollout
  type: list
  elements: str
stages:
  description: The stages that ran, in order.
  returned: action is rollout
  type: list
  elements: str
  sample: [precheck, push, postcheck, rollback]
status:
  description: C(ok), C(unreachable), C(rolled_back), C(rollback_failed) or C(failed).
  returned: action is rollout
  type: str
  sample: ok
seconds:
  description: Wall time of the device's rollout.
  returned: action is rollout
  type: float
  sample: 1.7
restored:
  description: True when a restore brought the device back to the backup.
  returned: action is restore and it succeeded
  type: bool
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
