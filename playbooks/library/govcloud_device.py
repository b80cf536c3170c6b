#!/usr/bin/python
"""Ansible module: one extranet device's IPv6 rollout, through `network.driver`.

`action: rollout` runs the selected `stages` — precheck (reachable, running config saved as
the backup), push (exactly the candidate lines the device lacks, then save / commit),
postcheck (OSPFv3 neighbours Full on the uplinks, ping6 to the parent's loopback), rollback
(back to the backup, verified, when the push is rejected or a post-check fails) — in one
process and one SSH session: `network.driver.rollout_device`, the code `govctl net push`
runs. The playbook computes `stages` from its tags. `action: restore` brings a device back
to its saved backup on demand. Honours --check and --diff.
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

from pathlib import Path  # noqa: E402  (Ansible wants DOCUMENTATION first)

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

STAGE_NAMES = ["precheck", "push", "postcheck", "rollback"]


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type="str", default="rollout", choices=["rollout", "restore"]),
            stages=dict(type="list", elements="str", default=STAGE_NAMES, choices=STAGE_NAMES),
            hostname=dict(type="str", required=True),
            host=dict(type="str", required=True),
            platform=dict(type="str", required=True),
            username=dict(type="str", required=True),
            password=dict(type="str", no_log=True),
            key_file=dict(type="path"),
            known_hosts=dict(type="path"),
            config=dict(type="path"),
            backup_dir=dict(type="path", required=True),
            uplinks=dict(type="list", elements="str", default=[]),
            parent_loopback=dict(type="str"),
            timeout=dict(type="float", default=30.0),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        from network import driver
    except ImportError as exc:
        module.fail_json(msg=f"network.driver is not importable ({exc}): run with the project's Python "
                             "(ansible_python_interpreter: '{{ ansible_playbook_python }}')")
    target = driver.Target(hostname=p["hostname"], host=p["host"], platform=p["platform"], username=p["username"],
                           password=p["password"], key_file=p["key_file"], known_hosts=p["known_hosts"])
    backup_path = Path(p["backup_dir"]) / f"{p['hostname']}.cfg"
    if p["action"] == "restore":
        _restore(module, driver, target, backup_path)
    _rollout(module, driver, target)


def _rollout(module, driver, target) -> None:
    p = module.params
    candidate = None
    if "push" in p["stages"]:
        if not p["config"] or not Path(p["config"]).is_file():
            module.fail_json(msg=f"no rendered config for {target.hostname}: {p['config']} (run the render step first)")
        candidate = Path(p["config"]).read_text()
    r = driver.rollout_device(target, candidate, Path(p["backup_dir"]), p["uplinks"], p["parent_loopback"],
                              check_mode=module.check_mode, timeout=p["timeout"], stages=p["stages"])
    out = {k: r[k] for k in ("changed", "commands", "backup", "checks", "rollback", "seconds")}
    out["stages"] = [s for s in STAGE_NAMES if s in p["stages"]]
    if module._diff and r["commands"]:
        out["diff"] = {"prepared": "\n".join(f"+{line}" for line in r["commands"])}
    if r["status"] == "ok":
        module.exit_json(**out)
    msg = {"unreachable": "unreachable: {}", "rolled_back": "{} (rolled back to the backup)",
           "rollback_failed": "{} — rollback incomplete: the running config still differs from the backup"}
    if r["status"] == "unreachable":
        out["unreachable"] = True
    out["changed"] = r["changed"] and r["status"] != "rolled_back"  # rolled back: the device is as it was
    module.fail_json(msg=msg.get(r["status"], "{}").format(r["message"]), status=r["status"], **out)


def _restore(module, driver, target, backup_path) -> None:
    if not backup_path.is_file():
        module.fail_json(msg=f"no backup at {backup_path}: nothing to restore to")
    backup = backup_path.read_text()
    try:
        with driver.session(target) as conn:
            if module.check_mode:
                lines = driver.restore_commands(backup, driver.running_config(conn, target.platform), target.platform)
                module.exit_json(changed=bool(lines), commands=lines)
            done = driver.restore(conn, backup, target.platform)
    except driver.Unreachable as exc:
        module.fail_json(msg=f"unreachable: {exc}", unreachable=True)
    except driver.DriverError as exc:
        module.fail_json(msg=str(exc))
    if not done["restored"]:
        module.fail_json(msg="rollback incomplete: the running config still differs from the backup", commands=done["sent"])
    module.exit_json(changed=bool(done["sent"]), commands=done["sent"], restored=True)


if __name__ == "__main__":
    main()
