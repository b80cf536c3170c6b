"""One device's rollout as Ansible sees it: task arguments in, an Ansible result out.

Shared by the `govcloud_device` action plugin (which runs it inside Ansible's worker process:
no module process, Netmiko imported once by the controller before it forks its workers) and
the module of the same name (`ansible-doc`, or a run without the action plugin). The work
itself is `network.driver.rollout_device`, the code `govctl net push` runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

from network import driver

STAGES = list(driver.STAGES)
MODULE = Path(__file__).with_name("library") / "govcloud_device.py"
SPEC_KEYS = ("type", "elements", "default", "choices", "required", "aliases")
NO_LOG = frozenset({"password"})  # module documentation has no field for it: the one list


def documentation(module: Path = MODULE) -> dict:
    """The module's DOCUMENTATION, read as ansible-doc reads it: the string literal assigned
    to DOCUMENTATION at the module's top level, as YAML (the module is not imported)."""
    tree = ast.parse(module.read_text(encoding="utf-8"), str(module))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "DOCUMENTATION" for t in node.targets
        ):
            return yaml.safe_load(ast.literal_eval(node.value))
    raise ValueError(f"{module}: no DOCUMENTATION")


def argument_spec(doc: dict) -> dict:
    """An AnsibleModule argument spec from the documented options: one source for both."""
    spec = {}
    for name, option in doc["options"].items():
        spec[name] = {k: option[k] for k in SPEC_KEYS if k in option}
        if name in NO_LOG:
            spec[name]["no_log"] = True
    return spec


ARGUMENT_SPEC = argument_spec(documentation())

FAILURE = {
    "unreachable": "unreachable: {}",
    "rolled_back": "{} (rolled back to the backup)",
    "rollback_failed": "{} — rollback incomplete: the running config still differs from the backup",
}


def run(p: dict, check_mode: bool, diff: bool) -> dict:
    """Validated arguments → the result dict (`failed` and `msg` set on failure)."""
    target = driver.Target(
        hostname=p["hostname"],
        host=p["host"],
        platform=p["platform"],
        username=p["username"],
        password=p["password"],
        key_file=p["key_file"],
        known_hosts=p["known_hosts"],
    )
    if p["action"] == "restore":
        return _restore(target, Path(p["backup_dir"]) / f"{p['hostname']}.cfg", check_mode)
    candidate = None
    if "push" in p["stages"]:
        if not p["config"] or not Path(p["config"]).is_file():
            return {
                "failed": True,
                "changed": False,
                "msg": f"no rendered config for {target.hostname}: {p['config']} (run the render step first)",
            }
        candidate = Path(p["config"]).read_text()
    r = driver.rollout_device(
        target,
        candidate,
        Path(p["backup_dir"]),
        p["uplinks"],
        p["parent_loopback"],
        check_mode=check_mode,
        timeout=p["timeout"],
        stages=p["stages"],
    )
    out = {
        k: r[k]
        for k in ("changed", "commands", "backup", "checks", "rollback", "seconds", "status")
    }
    out["stages"] = [s for s in STAGES if s in p["stages"]]
    if diff and r["commands"]:
        out["diff"] = {"prepared": "\n".join(f"+{line}" for line in r["commands"])}
    if r["status"] != "ok":
        out.update(
            failed=True,
            msg=FAILURE.get(r["status"], "{}").format(r["message"]),
            changed=r["changed"] and r["status"] != "rolled_back",
        )  # rolled back: as it was
    return out


def _restore(target: driver.Target, backup_path: Path, check_mode: bool) -> dict:
    if not backup_path.is_file():
        return {
            "failed": True,
            "changed": False,
            "msg": f"no backup at {backup_path}: nothing to restore to",
        }
    backup = backup_path.read_text()
    try:
        with driver.session(target) as conn:
            if check_mode:
                lines = driver.restore_commands(
                    backup, driver.running_config(conn, target.platform), target.platform
                )
                return {"changed": bool(lines), "commands": lines}
            done = driver.restore(conn, backup, target.platform)
    except driver.Unreachable as exc:
        return {"failed": True, "changed": False, "msg": f"unreachable: {exc}"}
    except driver.DriverError as exc:
        return {"failed": True, "changed": False, "msg": str(exc)}
    if not done["restored"]:
        return {
            "failed": True,
            "changed": True,
            "commands": done["sent"],
            "msg": "rollback incomplete: the running config still differs from the backup",
        }
    return {"changed": bool(done["sent"]), "commands": done["sent"], "restored": True}
