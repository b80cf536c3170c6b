#!/usr/bin/python
"""Ansible module: one rollout stage on one extranet device, through `network.driver`.

The playbook calls it once per stage so each stage has its own tag and result:
`backup` (pre-check: reachable, running config saved), `push` (send exactly the candidate
lines the device lacks, then save / commit; honours --check and --diff), `check` (OSPFv3
neighbours Full on the uplinks, ping6 to the parent's loopback) and `restore` (back to the
backup, verified line by line). The driver is the same code `govctl net push` runs.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: govcloud_device
short_description: Back up, push, check or restore an extranet device's config with Netmiko
options:
  action: {type: str, required: true, choices: [backup, push, check, restore]}
  hostname: {type: str, required: true}
  host: {type: str, required: true, description: management address}
  platform: {type: str, required: true}
  username: {type: str, required: true}
  password: {type: str, no_log: true}
  key_file: {type: path}
  known_hosts: {type: path}
  config: {type: path, description: the rendered candidate config (push)}
  backup_dir: {type: path, required: true}
  uplinks: {type: list, elements: str, default: []}
  parent_loopback: {type: str}
  timeout: {type: float, default: 30}
"""

from pathlib import Path  # noqa: E402  (Ansible wants DOCUMENTATION first)

from ansible.module_utils.basic import AnsibleModule  # noqa: E402


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type="str", required=True, choices=["backup", "push", "check", "restore"]),
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
    try:
        result = STAGES[p["action"]](module, driver, target, backup_path)
    except driver.Unreachable as exc:
        module.fail_json(msg=f"unreachable: {exc}", unreachable=True)
    except driver.DriverError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


def _backup(module, driver, target, backup_path):
    with driver.session(target) as conn:
        text = driver.running_config(conn, target.platform)
    if module.check_mode:  # --check touches nothing, not even the last backup
        return {"changed": False, "backup": str(backup_path), "msg": "reachable; backup not written in check mode"}
    driver.save_backup(text, backup_path.parent, target.hostname)
    return {"changed": False, "backup": str(backup_path), "lines": len(text.splitlines())}


def _push(module, driver, target, backup_path):
    config = module.params["config"]
    if not config or not Path(config).is_file():
        module.fail_json(msg=f"no rendered config for {target.hostname}: {config} (run the render step first)")
    candidate = Path(config).read_text()
    with driver.session(target) as conn:
        lines = driver.diff(candidate, driver.running_config(conn, target.platform), target.platform)
        result = {"changed": bool(lines), "commands": lines}
        if module._diff and lines:
            result["diff"] = {"prepared": "\n".join(f"+{line}" for line in lines)}
        if lines and not module.check_mode:
            driver.push(conn, lines, target.platform)
    return result


def _check(module, driver, target, backup_path):
    if module.check_mode:
        return {"changed": False, "skipped": True, "msg": "post-checks need the pushed config; skipped in check mode"}
    p = module.params
    with driver.session(target) as conn:
        return {"changed": False, **driver.check(conn, target.platform, p["uplinks"], p["parent_loopback"], p["timeout"])}


def _restore(module, driver, target, backup_path):
    if not backup_path.is_file():
        module.fail_json(msg=f"no backup at {backup_path}: nothing to restore to")
    backup = backup_path.read_text()
    with driver.session(target) as conn:
        if module.check_mode:
            lines = driver.restore_commands(backup, driver.running_config(conn, target.platform), target.platform)
            return {"changed": bool(lines), "commands": lines}
        done = driver.restore(conn, backup, target.platform)
    if not done["restored"]:
        module.fail_json(msg="rollback incomplete: the running config still differs from the backup", commands=done["sent"])
    return {"changed": bool(done["sent"]), "commands": done["sent"], "restored": True}


STAGES = {"backup": _backup, "push": _push, "check": _check, "restore": _restore}


if __name__ == "__main__":
    main()
