"""infra/engine.py and `govctl tenants preview|up|destroy` without running the engine:
settings ↔ stack config, change counts, the provider's render layout, locating the CLI,
the passphrase rule, and the CLI's refusals (exit 2, nothing run)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pulumi.automation import OpType

from govctl.app import main
from infra import engine
from infra.settings import (
    ClusterConfig,
    ConfigValues,
    StackSettings,
    from_config,
    rooted,
    to_config,
)
from tests.helpers import ROOT, SAMPLE_CITY

names = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
settings_strategy = st.builds(
    StackSettings,
    model=names,
    wave=st.none() | st.integers(0, 9),
    failover=st.frozensets(names, max_size=3),
    clusters=st.dictionaries(
        names,
        st.builds(ClusterConfig, st.none() | names, st.none() | names, st.none() | names),
        max_size=3,
    ),
    render_dir=st.none() | names,
    registry=st.sampled_from([StackSettings.registry, "harbor.example"]),
    object_stores=st.dictionaries(names, names, max_size=2),
    skip_await=st.booleans(),
    scope=st.none() | st.sampled_from(["platform/shared", "department/fgw"]),
)


@given(settings_strategy)
def test_stack_config_reads_back_as_the_same_settings(s):
    values = to_config(s)
    assert from_config(ConfigValues(values)) == s
    # as `pulumi config --json` hands them back: objects as JSON strings, namespaced keys
    as_cli = {
        f"govcloud:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()
    }
    assert from_config(ConfigValues(as_cli)) == s


def test_config_leaves_defaults_out():
    assert to_config(StackSettings(model="examples/sample-city")) == {
        "model": "examples/sample-city"
    }


def test_rooted_and_portable_paths(tmp_path):
    s = StackSettings(
        model="examples/sample-city",
        render_dir="out/x",
        clusters={
            "shared": ClusterConfig(context="c", kubeconfig="kube/config"),
            "dr": ClusterConfig(kubeconfig="apiVersion: v1\nkind: Config\n"),
        },
    )
    r = rooted(s, "/proj")
    assert (r.model, r.render_dir, r.clusters["shared"].kubeconfig) == (
        "/proj/examples/sample-city",
        "/proj/out/x",
        "/proj/kube/config",
    )
    assert r.clusters["dr"].kubeconfig == s.clusters["dr"].kubeconfig, (
        "a kubeconfig's text is not a path"
    )
    inside = engine._portable(
        StackSettings(model=str(SAMPLE_CITY), render_dir=str(tmp_path / "o")), ROOT
    )
    assert inside.model == "examples/sample-city" and inside.render_dir == str(tmp_path / "o")


def test_change_counts_are_normalised():
    c = engine.changes({OpType.CREATE: 3, OpType.SAME: 2, "read": 1, OpType.DELETE_REPLACED: 0})
    assert c == {"create": 3, "update": 0, "delete": 0, "same": 2, "replace": 0, "read": 1}
    assert engine.changes(None) == dict.fromkeys(engine.CHANGE_KEYS, 0)


def test_read_render_dir_groups_the_providers_files_by_cluster(tmp_path):
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fgw"}}
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "fgw"}}
    (tmp_path / "shared" / "1-manifest").mkdir(parents=True)
    (tmp_path / "shared" / "0-crd").mkdir()
    (tmp_path / "shared" / "1-manifest" / "v1-namespace-fgw.yaml").write_text(yaml.safe_dump(ns))
    (tmp_path / "shared" / "1-manifest" / "v1-configmap-fgw-a.yaml").write_text(yaml.safe_dump(cm))
    (tmp_path / "dr-dc" / "1-manifest").mkdir(parents=True)
    assert engine.read_render_dir(tmp_path) == {"dr-dc": [], "shared": [cm, ns]}


def test_scratch_project_runs_this_program(tmp_path):
    p = yaml.safe_load((engine.scratch_project(tmp_path / "p") / "Pulumi.yaml").read_text())
    assert p["name"] == "govcloud" and Path(p["main"]) == ROOT / "infra"
    assert Path(p["runtime"]["options"]["virtualenv"]) == ROOT / ".venv"


def test_locate_says_what_to_do_without_a_cli(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(engine.EngineMissing, match="make tools"):
        engine.locate(tmp_path / "no-tools")


def test_locate_wants_the_kubernetes_plugin(tmp_path, monkeypatch):
    cli = tmp_path / "pulumi"
    cli.write_text("#!/bin/sh\necho v3.0.0\n")
    cli.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "home"))
    with pytest.raises(engine.EngineMissing, match="pulumi-resource-kubernetes"):
        engine.locate(tmp_path)
    (tmp_path / "pulumi-resource-kubernetes").write_text("")
    (tmp_path / "pulumi-resource-kubernetes").chmod(0o755)
    tools = engine.locate(tmp_path)
    assert tools.version == "v3.0.0" and tools.path.split(os.pathsep)[0] == str(tmp_path)


def test_passphrase_from_the_environment_only(tmp_path, monkeypatch):
    tools = engine.Tools(Path("/x/pulumi"), "/x", "v3")
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    with pytest.raises(engine.PassphraseMissing):
        engine.environment(tools, tmp_path)
    env = engine.environment(tools, tmp_path, throwaway=True)
    assert env["PULUMI_CONFIG_PASSPHRASE"] == engine.THROWAWAY_PASSPHRASE
    assert env["PULUMI_BACKEND_URL"] == tmp_path.resolve().as_uri()
    assert "PULUMI_SKIP_CHECKPOINTS" not in env, "checkpoints stay on"
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "")
    env = engine.environment(tools, tmp_path)
    assert "PULUMI_CONFIG_PASSPHRASE" not in env
    assert env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "exactly one of --render-dir"),
        (["--render-dir", "o", "--kubeconfig", "k"], "exactly one of --render-dir"),
        (["--kubeconfig", "no/such/file"], "no such kubeconfig"),
    ],
)
def test_cli_refuses_bad_targets(extra, message, tmp_path, capsys):
    assert (
        main(
            [
                "tenants",
                "up",
                str(SAMPLE_CITY),
                "--state",
                str(tmp_path / "s"),
                *extra,
            ]
        )
        == 2
    )
    assert message in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_cli_refuses_unknown_context_cluster(tmp_path, capsys):
    kube = tmp_path / "kubeconfig"
    kube.write_text("apiVersion: v1\nkind: Config\n")
    assert (
        main(
            [
                "tenants",
                "preview",
                str(SAMPLE_CITY),
                "--state",
                str(tmp_path / "s"),
                "--kubeconfig",
                str(kube),
                "--context",
                "nowhere=ctx",
            ]
        )
        == 2
    )
    assert "CLUSTER one of dr-dc, isolated, shared, xinchuang" in capsys.readouterr().err


def test_cli_refuses_unknown_failover_before_the_engine(tmp_path, capsys):
    assert (
        main(
            [
                "tenants",
                "up",
                str(SAMPLE_CITY),
                "--state",
                str(tmp_path / "s"),
                "--render-dir",
                str(tmp_path / "o"),
                "--failover",
                "nope-001",
            ]
        )
        == 2
    )
    assert "nope-001" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_cli_needs_a_passphrase(tmp_path, monkeypatch, capsys):
    if not engine.available():
        pytest.skip("the passphrase is checked once the engine is found (make tools)")
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    assert (
        main(
            [
                "tenants",
                "up",
                str(SAMPLE_CITY),
                "--state",
                str(tmp_path / "s"),
                "--render-dir",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "PULUMI_CONFIG_PASSPHRASE is not set" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


# --- the file backend's checkpoints, read directly ----------------------------------------------


def _checkpoint(state: Path, name: str, outputs: dict, pending: list | None = None, gz=False):
    import gzip

    doc = {
        "version": 3,
        "checkpoint": {
            "stack": name,
            "latest": {
                "resources": [
                    {
                        "urn": f"urn:pulumi:{name}::govcloud::pulumi:pulumi:Stack::govcloud-{name}",
                        "type": "pulumi:pulumi:Stack",
                        "outputs": outputs,
                    },
                    {"urn": "urn:x", "type": "pulumi:providers:kubernetes"},
                ],
                **({"pending_operations": pending} if pending else {}),
            },
        },
    }
    d = state / ".pulumi" / "stacks" / "govcloud"
    d.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(doc).encode()
    if gz:
        (d / f"{name}.json.gz").write_bytes(gzip.compress(raw))
    else:
        (d / f"{name}.json").write_bytes(raw)
        (d / f"{name}.json.bak").write_bytes(raw)


def test_checkpoints_and_stacks_are_read_from_the_file_backend(tmp_path):
    _checkpoint(tmp_path, "c-fgw", {"inputs_hash": "abc"})
    _checkpoint(tmp_path, "c-jyj", {}, pending=[{"type": "creating"}], gz=True)
    assert engine.list_stacks(tmp_path, "govcloud") == ["c-fgw", "c-jyj"]
    assert engine.list_stacks(tmp_path, "other") == []
    cp = engine.checkpoint(tmp_path, "govcloud", "c-fgw")
    assert cp == engine.Checkpoint({"inputs_hash": "abc"}, 2, [])
    assert engine.checkpoint(tmp_path, "govcloud", "c-jyj").pending == [{"type": "creating"}]
    assert engine.checkpoint(tmp_path, "govcloud", "nope") is None


def test_program_settings_are_what_the_program_reads_back(tmp_path):
    s = StackSettings(model=str(SAMPLE_CITY), render_dir="out/x", scope="department/fgw")
    seen = engine.program_settings(s, ROOT)
    assert seen.model == str(SAMPLE_CITY) and seen.render_dir == str(ROOT / "out" / "x")
    assert seen.scope == "department/fgw"


def _lock(state: Path, pid: int, host: str | None = None) -> Path:
    import socket

    d = state / ".pulumi" / "locks" / "organization" / "govcloud" / "dept"
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{pid}.json"
    path.write_text(json.dumps({"pid": pid, "hostname": host or socket.gethostname()}))
    return path


def test_a_lock_is_released_only_when_its_holder_on_this_host_is_gone_or_a_zombie(tmp_path):
    import subprocess

    live = subprocess.Popen(["sleep", "60"])
    zombie = subprocess.Popen(["true"])  # exits, and stays a zombie until it is waited for
    try:
        while engine.process_running(zombie.pid):
            pass
        assert Path(f"/proc/{zombie.pid}").exists(), "a zombie still has its /proc entry"
        held = _lock(tmp_path, live.pid)
        other_host = _lock(tmp_path, zombie.pid + 100_000, host="elsewhere")
        dead = _lock(tmp_path, zombie.pid)
        assert engine.release_stale_locks(tmp_path, "govcloud", "dept") == 1
        assert held.exists() and other_host.exists() and not dead.exists()
    finally:
        live.kill()
        live.wait()
        zombie.wait()


def _file_stack(tmp_path: Path, name: str = "c-fgw"):
    """A stack object over a scratch project and file backend (no CLI: a stand-in path)."""
    tools = engine.Tools(Path("/nonexistent/bin/pulumi"), "/nonexistent/bin", "v3.259.0")
    project = engine.scratch_project(tmp_path / "project")
    ws = engine._workspace(tmp_path / "state", project, tools, throwaway=True)
    return engine._file_stack_type()(name, ws, tmp_path / "state", "govcloud")


@given(settings_strategy, settings_strategy)
def test_the_config_file_reads_back_as_the_settings_and_keeps_what_is_not_ours(a, b):
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        s = _file_stack(Path(tmp))
        path = engine.config_file(s)
        # what `pulumi stack init` and other tools leave in the file
        path.write_text("encryptionsalt: v1:abc\nconfig:\n  other:key: kept\n  govcloud:stale: x\n")
        engine.configure(s, to_config(a))
        assert engine.settings_of(s) == a
        engine.configure(s, to_config(b))  # a second write drops what `b` does not set
        assert engine.settings_of(s) == b
        doc = yaml.safe_load(path.read_text())
        assert doc["encryptionsalt"] == "v1:abc" and doc["config"]["other:key"] == "kept"
        assert set(doc["config"]) - {"other:key"} == {f"govcloud:{k}" for k in to_config(b)}
        assert not list(path.parent.glob(".*.tmp"))


def test_outputs_and_the_update_summary_come_from_the_backend_files(tmp_path):
    s = _file_stack(tmp_path)
    assert s.outputs() == {} and s.info() is None
    _checkpoint(tmp_path / "state", "c-fgw", {"inputs_hash": "abc", "city": "x"})
    h = tmp_path / "state" / ".pulumi" / "history" / "govcloud" / "c-fgw"
    h.mkdir(parents=True)
    for stamp, kind, changes in ((1, "update", {"create": 3}), (2, "refresh", {"same": 3})):
        (h / f"c-fgw-{stamp}.history.json").write_text(
            json.dumps(
                {
                    "kind": kind,
                    "startTime": 1_796_000_000 + stamp,
                    "endTime": 1_796_000_009,
                    "result": "succeeded",
                    "resourceChanges": changes,
                }
            )
        )
    assert {k: v.value for k, v in s.outputs().items()} == {"inputs_hash": "abc", "city": "x"}
    info = s.info()
    assert (info.kind, info.result, info.resource_changes) == ("refresh", "succeeded", {"same": 3})
    assert info.start_time.timestamp() == 1_796_000_002


@pytest.mark.parametrize(
    "text, where",
    [
        ("config:\n  govcloud:model: [unclosed\n", ":3: YAML"),  # not YAML (found at its end)
        ("- a list\n", ":1: config:"),  # not a mapping
        ("config:\n  - govcloud:model\n", ":1: config:"),  # `config` not a mapping
        ("config:\n  govcloud:model: a\n  govcloud:model: b\n", ":3:"),  # a key twice
    ],
)
def test_a_hand_edited_config_file_that_is_not_a_stack_config_is_an_engine_error(
    tmp_path, text, where
):
    s = _file_stack(tmp_path)
    path = engine.config_file(s)
    path.write_text(text)
    for call in (lambda: engine.configure(s, {"model": "m"}), lambda: engine.settings_of(s)):
        with pytest.raises(engine.EngineError, match=f"Pulumi.c-fgw.yaml{where}"):
            call()
    assert path.read_text() == text  # nothing written over it
