"""govctl/app.py: the front door — version, lazy commands, completion, Ctrl-C.

The Ctrl-C tests send a real SIGINT to a real `govctl` process, as a terminal does, and
read what it prints and how it exits.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest
import typer

from govctl import app as govctl_app
from govctl.app import COMMANDS, load_command, main
from tests.helpers import ROOT, SAMPLE_CITY, signal_govctl

GOVCTL = [sys.executable, "-m", "govctl"]
HEAVY = ("matplotlib", "pulumi", "netmiko", "simpy", "numpy", "pydantic", "jinja2", "cryptography")


def run(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*GOVCTL, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, **kw
    )


def test_version_is_the_installed_distributions(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"govctl {metadata.version('govcloud')}\n"


def test_version_and_help_work_as_a_process():
    assert run("--version").stdout.startswith("govctl ")
    done = run("--help")
    assert done.returncode == 0
    for name in COMMANDS:
        assert f"\n  {name} " in done.stdout


def _loaded_after(code: str) -> list[str]:
    """The top-level packages a fresh interpreter has imported after running `code`."""
    probe = textwrap.dedent(code) + textwrap.dedent(
        """
        import json, sys
        print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


AREAS = {"model", "network", "infra", "simulate", "capacity", "gate"}


def test_importing_the_app_imports_no_area_and_no_heavy_library():
    assert not set(_loaded_after("import govctl.app")) & {*HEAVY, *AREAS}


@pytest.mark.parametrize("argv", [["--help"], ["--version"], []])
def test_the_top_level_imports_no_area_and_no_heavy_library(argv):
    loaded = _loaded_after(
        f"""
        from govctl.app import main
        assert main({argv!r}) in (0, 2)  # no arguments: the help, exit 2 as click does
        """
    )
    assert not set(loaded) & {*HEAVY, *AREAS}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_no_commands_help_loads_a_simulation_or_numpy(name):
    """The modules of `simulate`, `plan`, `report`, `demo`, `capacity` … import SimPy, NumPy,
    matplotlib, Pulumi and the gate inside the commands, never for `--help`."""
    loaded = _loaded_after(
        f"""
        from govctl.app import main
        assert main([{name!r}, "--help"]) == 0
        """
    )
    assert not set(loaded) & {"simpy", "numpy", "matplotlib", "pulumi", "gate", "simulate"}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_listed_help_line_is_the_commands_own(name):
    command = load_command(name)
    assert command.name == name
    own = (command.help or "").strip().splitlines()[0]
    assert COMMANDS[name][1] == own, "govctl/app.py COMMANDS: give the command's new help line"


def test_every_command_of_the_areas_is_reachable(capsys):
    for name in COMMANDS:
        assert main([name, "--help"]) == 0, name
    assert "k8s" in _subcommands("lab") and "push" in _subcommands("net")


def _subcommands(name: str) -> list[str]:
    group = load_command(name)
    return list(group.list_commands(typer.Context(group)))


def test_a_typo_is_a_usage_error_that_suggests_the_command():
    done = run("labb")
    assert done.returncode == 2
    assert "No such command 'labb'. Did you mean 'lab'?" in done.stderr


def _complete(words: str, shell: str = "bash") -> list[str]:
    env = dict(
        os.environ,
        _GOVCTL_COMPLETE=f"complete_{shell}",
        COMP_WORDS=words,
        COMP_CWORD=str(len(words.split()) - (0 if words.endswith(" ") else 1)),
    )
    done = subprocess.run(
        [str(Path(sys.executable).with_name("govctl"))],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_shell_completion_completes_commands_and_subcommands():
    assert _complete("govctl la") == ["lab"]
    assert _complete("govctl si") == ["simulate"]
    assert sorted(_complete("govctl lab k8s ")) == ["down", "status", "up"]
    assert "--install-completion" in run("--help").stdout


def test_show_completion_prints_the_bash_script():
    done = run("--show-completion", "bash")
    assert done.returncode == 0
    assert "_GOVCTL_COMPLETE=complete_bash" in done.stdout and "complete " in done.stdout


def test_an_interrupt_inside_a_command_says_what_it_kept(monkeypatch, capsys):
    """The unit path beside the real one below: `keeps` names what stays."""
    from govctl import common

    def interrupted() -> None:
        with common.keeps("the lab state"):
            raise KeyboardInterrupt

    monkeypatch.setattr(govctl_app, "_target", lambda name: interrupted)
    assert main(["validate"]) == 130
    assert capsys.readouterr().err == "interrupted; the lab state\n"


@pytest.mark.parametrize(
    ("inner", "said"),
    [
        ("the devices pushed", "the devices pushed"),
        (lambda: None, "the stacks"),
        (None, "the stacks"),
    ],
)
def test_the_innermost_keeps_that_names_something_wins(monkeypatch, capsys, inner, said):
    from govctl import common

    def interrupted() -> None:
        with common.keeps("the stacks"):
            if inner is None:  # an interrupt outside any inner `keeps`
                raise KeyboardInterrupt
            with common.keeps(inner):
                raise KeyboardInterrupt

    monkeypatch.setattr(govctl_app, "_target", lambda name: interrupted)
    assert main(["validate"]) == 130
    assert capsys.readouterr().err == f"interrupted; {said}\n"


def _interrupt(args: list[str], ready: str, tmp_path: Path) -> tuple[int, str, str]:
    """Start a real govctl, wait until its stdout shows `ready`, send SIGINT, collect."""
    return signal_govctl(args, lambda out: ready in out, signal.SIGINT, tmp_path)


def test_sigint_stops_the_exporter_with_one_line_and_130(tmp_path):
    code, out, err = _interrupt(
        ["exporter", str(SAMPLE_CITY), "--port", str(_free_port())],
        "serving http://",
        tmp_path,
    )
    assert code == 130
    assert err == "interrupted; nothing was written\n"


def test_sigint_in_the_demo_names_the_steps_it_kept(tmp_path):
    target = tmp_path / "demo-out"
    code, out, err = _interrupt(["demo", str(SAMPLE_CITY), "--out", str(target)], "✓ kpi", tmp_path)
    assert code == 130
    # A pipe is no terminal: the transient progress bar ends with a blank line there.
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"interrupted; the finished steps' files are kept in {target}/ (kpi")
    assert (target / "kpi.json").exists()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
