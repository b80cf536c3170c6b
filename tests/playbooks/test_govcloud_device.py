"""playbooks/library/govcloud_device.py: the module's documentation, its argument spec, and
the Ansible conventions the playbooks follow.

Its DOCUMENTATION is the one source of the argument spec (`playbooks.device_rollout`); these
tests check what Ansible's validate-modules checks between the two (every option documented
with a type and a description, defaults and choices agreeing, required options without
defaults, EXAMPLES using only documented options, RETURN well-formed), run `ansible-doc` and
ansible-lint's production profile for real, and run the module as the real process Ansible
starts when the action plugin is not on the path.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from network import driver
from playbooks import device_rollout
from playbooks.action_plugins.govcloud_device import ActionModule
from tests.helpers import ROOT

LIBRARY = ROOT / "playbooks" / "library"
MODULE = LIBRARY / "govcloud_device.py"
BIN = Path(sys.executable).parent
TYPES = {"str", "list", "path", "float", "int", "bool", "dict", "raw"}


def doc_strings() -> dict:
    import ast

    tree = ast.parse(MODULE.read_text())
    return {
        t.id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name) and t.id in {"DOCUMENTATION", "EXAMPLES", "RETURN"}
    }


def tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.skip(f"{name} is not installed in this venv (pip install -e '.[dev]')")
    return str(path)


def test_the_module_has_documentation_examples_and_return():
    docs = doc_strings()
    assert set(docs) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}
    doc = yaml.safe_load(docs["DOCUMENTATION"])
    assert doc["module"] == "govcloud_device" and doc["short_description"]
    assert doc["description"] and doc["author"]


def test_the_argument_spec_is_the_documented_options():
    doc = yaml.safe_load(doc_strings()["DOCUMENTATION"])
    spec = device_rollout.ARGUMENT_SPEC
    assert list(spec) == list(doc["options"])
    for name, option in doc["options"].items():
        assert option.get("description"), f"{name}: no description"
        assert option["type"] in TYPES, name
        for key in ("type", "default", "choices", "elements", "required"):
            assert spec[name].get(key) == option.get(key), f"{name}.{key}"
        if option.get("required"):
            assert "default" not in option, f"{name}: required with a default"
        if option["type"] == "list":
            assert option.get("elements"), f"{name}: a list without elements"
        if "choices" in option and "default" in option:
            default = option["default"]
            assert set(default if isinstance(default, list) else [default]) <= set(
                option["choices"]
            ), name
    assert spec["password"]["no_log"] is True
    assert [k for k, v in spec.items() if v.get("no_log")] == ["password"]


def test_the_documented_stages_are_the_drivers():
    doc = yaml.safe_load(doc_strings()["DOCUMENTATION"])
    assert doc["options"]["stages"]["choices"] == list(driver.STAGES)
    assert doc["options"]["stages"]["default"] == list(driver.STAGES)


def test_the_action_plugin_accepts_exactly_the_documented_options():
    assert ActionModule._VALID_ARGS == frozenset(device_rollout.ARGUMENT_SPEC)


def test_examples_use_documented_options_with_valid_values():
    spec = device_rollout.ARGUMENT_SPEC
    tasks = yaml.safe_load(doc_strings()["EXAMPLES"])
    assert len(tasks) >= 2
    for task in tasks:
        assert task["name"][0].isupper()
        args = task["govcloud_device"]
        assert set(args) <= set(spec), set(args) - set(spec)
        missing = {k for k, v in spec.items() if v.get("required")} - set(args)
        assert not missing, (task["name"], missing)
        for key, value in args.items():
            choices = spec[key].get("choices")
            if choices:
                assert set(value if isinstance(value, list) else [value]) <= set(choices)


def test_return_values_are_documented_fully():
    returned = yaml.safe_load(doc_strings()["RETURN"])
    assert {"commands", "status", "stages", "backup", "checks", "rollback"} <= set(returned)
    for name, value in returned.items():
        assert value["description"] and value["returned"] and value["type"] in TYPES | {"dict"}
        if value["type"] == "list":
            assert value.get("elements"), name


def test_ansible_doc_renders_the_module():
    done = subprocess.run(
        [tool("ansible-doc"), "--json", "-M", str(LIBRARY), "govcloud_device"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr and "ERROR" not in done.stderr, done.stderr
    rendered = json.loads(done.stdout)["govcloud_device"]
    assert set(rendered["doc"]["options"]) == set(device_rollout.ARGUMENT_SPEC)
    assert rendered["examples"].strip() and set(rendered["return"]) >= {"commands", "status"}
    text = subprocess.run(
        [tool("ansible-doc"), "-M", str(LIBRARY), "govcloud_device"],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, ANSIBLE_NOCOLOR="1"),
    )
    assert text.returncode == 0 and "OPTIONS" in text.stdout and "RETURN VALUES" in text.stdout


def _module(args: dict, tmp_path: Path) -> dict:
    """Run the module the way Ansible runs a module file: a process reading its args file."""
    path = tmp_path / "args.json"
    path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    done = subprocess.run(
        [sys.executable, str(MODULE), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        cwd=tmp_path,
    )
    return json.loads(done.stdout)


DEVICE = {
    "hostname": "c01-agg-01",
    "host": "198.19.252.3",
    "platform": "linux_frr",
    "username": "gcnet",
}


def test_the_module_process_refuses_undocumented_and_missing_arguments(tmp_path):
    unknown = _module({**DEVICE, "backup_dir": str(tmp_path), "colour": "red"}, tmp_path)
    assert (
        unknown["failed"]
        and "Unsupported parameters" in unknown["msg"]
        and "colour" in unknown["msg"]
    )
    missing = _module({"hostname": "x"}, tmp_path)
    assert missing["failed"] and "missing required arguments" in missing["msg"]
    bad_stage = _module({**DEVICE, "backup_dir": str(tmp_path), "stages": ["deploy"]}, tmp_path)
    assert bad_stage["failed"] and "deploy" in bad_stage["msg"]


def test_the_module_process_runs_with_defaults_from_the_documentation(tmp_path):
    # Only the rollback stage: nothing that touches a device, so no login is attempted.
    result = _module(
        {**DEVICE, "backup_dir": str(tmp_path), "stages": ["rollback"], "password": "s3cret"},
        tmp_path,
    )
    assert not result.get("failed"), result
    assert result["stages"] == ["rollback"] and result["status"] == "ok"
    assert result["changed"] is False and result["commands"] == []
    assert "s3cret" not in json.dumps(result)
    assert result["invocation"]["module_args"]["timeout"] == 30.0  # the documented default
    assert result["invocation"]["module_args"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_ansible_lint_production_profile_passes_over_the_playbooks(tmp_path):
    lint = tool("ansible-lint")
    if shutil.which("git") is None:
        pytest.skip("ansible-lint needs git")
    done = subprocess.run(
        [lint, "--profile", "production", "--nocolor", "--offline", "."],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT / "playbooks",
        env=dict(os.environ, ANSIBLE_CONFIG="ansible.cfg", PATH=f"{BIN}:{os.environ['PATH']}"),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Profile 'production' was required, and it passed" in done.stdout + done.stderr
