"""The `govctl` application: registers each area's commands and owns the exit codes.

Exit codes: 0 success, 2 bad input (located messages, no traceback), 3 a no-go plan,
130 interrupted (Ctrl-C: one line saying that nothing was written, or what was kept), 143
terminated (SIGTERM: the same line, cleaned up the same way; 128 + the signal's number).
Set GOVCTL_DEBUG=1 to see a traceback for an internal error.

Commands load lazily: `COMMANDS` names each top-level command's module and its one-line help,
so `govctl --help`, `govctl --version` and shell completion of the top level import none of
the areas (pydantic models, matplotlib, Pulumi, Netmiko, SimPy); a command imports its
module only when it runs or shows its own help, and that module imports the gate, SimPy,
NumPy, matplotlib and Pulumi inside the commands, so that no command's help loads them.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:  # the click Context TyperGroup's methods take (typer bundles its own click)
    from typer._click import Context as ClickContext

HELP = "govcloud: the government cloud and e-government extranet of a city, as code."


def _lab() -> typer.Typer:
    from govctl import lab_cmds, lab_k8s_cmds

    lab_cmds.lab_app.add_typer(lab_k8s_cmds.k8s_app, name="k8s")
    return lab_cmds.lab_app


def _net() -> typer.Typer:
    from govctl import network_cmds, rollout_cmds

    network_cmds.net_app.command("push")(rollout_cmds.push)
    return network_cmds.net_app


# name -> (where the command or group is: "module:attribute" or a loader, its one-line help).
# The help is what `govctl --help` lists without importing the module; a test checks that it
# is the command's own.
COMMANDS: dict[str, tuple[str | Callable[[], Any], str]] = {
    "validate": (
        "govctl.model_cmds:validate",
        "Validate a city model: exit 0, or exit 2 with `file:line: field: message` lines.",
    ),
    "kpi": (
        "govctl.model_cmds:kpi",
        "The plans' KPIs against their year's targets, with trend; by county or department.",
    ),
    "compliance": (
        "govctl.compliance_cmds:compliance",
        "MLPS (等保) level-3 evidence per system: each control and the object that proves it.",
    ),
    "model": ("govctl.model_cmds:model_app", "Synthetic cities and other model tools."),
    "demo": (
        "govctl.demo_cmds:demo",
        "Run the main job on a city: validate, KPIs, plans, configs, tenants, simulations, reports.",
    ),
    "capacity": (
        "govctl.capacity_cmds:capacity_app",
        "Cloud utilisation: assessment, rightsizing, compression candidates.",
    ),
    "exporter": (
        "govctl.capacity_cmds:exporter",
        "Serve the KPIs and per-tenant utilisation on http://HOST:PORT/metrics until Ctrl-C.",
    ),
    "lab": (_lab, "The namespace lab: FRR + sshd per extranet device, in network namespaces."),
    "ipv6": (
        "govctl.network_cmds:ipv6_app",
        "The extranet's IPv6 address plan and its lock file.",
    ),
    "net": (_net, "Device configurations of the extranet."),
    "simulate": (
        "govctl.simulate_cmds:simulate_app",
        "SimPy models: capacity, backup/DR, rollout duration; validation against Erlang B/C.",
    ),
    "tenants": (
        "govctl.tenants_cmds:tenants_app",
        "Department tenants, migrated systems and DR on the government cloud.",
    ),
    "dr": (
        "govctl.dr_cmds:dr_app",
        "Disaster-recovery drill: run a system's warm replica in the DR cluster, and back.",
    ),
    "plan": (
        "govctl.plan_cmds:plan",
        "Check a change against capacity, DR, IPv6 and policy before it is applied: go or no-go.",
    ),
    "report": (
        "govctl.report_cmds:report",
        "Write the city report (static HTML) a planner opens in a browser.",
    ),
}


class Interrupted(Exception):
    """Ctrl-C or SIGTERM reached the top: `kept` says what an interrupted command left in
    place (None: nothing was written); `code` and `word` are `model.outputs.signal_exit`'s."""

    def __init__(self, kept: str | None = None, code: int = 130, word: str = "interrupted"):
        super().__init__(kept or "nothing was written")
        self.kept, self.code, self.word = kept, code, word


@cache
def _target(name: str) -> Any:
    """The Typer app or command function of a top-level command (imported once)."""
    where = COMMANDS[name][0]
    if callable(where):
        return where()
    module, attribute = where.split(":")
    return getattr(importlib.import_module(module), attribute)


def load_command(name: str) -> Any:
    """The command (typer's click command object) of a top-level command, imported now."""
    target = _target(name)
    holder = typer.Typer()
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    return typer.main.get_group(holder).commands[name]


class _Listed(TyperCommand):
    """A top-level command as `--help` and completion list it: its name and help only."""


class LazyGroup(TyperGroup):
    """The root group: lists `COMMANDS` without importing them, imports one when it is used.

    It is also where an interrupted command ends: typer itself turns a KeyboardInterrupt
    into a silent exit 130 before `main` could say anything, so the root's invoke, which
    every command runs inside, turns it into `Interrupted` first. SIGTERM is a
    KeyboardInterrupt (`model.outputs.Terminated`) while a command runs, so it cleans up
    the same way and ends with 143."""

    def __init__(self, **attrs: Any):
        super().__init__(**attrs)
        for name, (_, help_line) in COMMANDS.items():
            self.commands.setdefault(name, _Listed(name, help=help_line, short_help=help_line))
        self._listing = False

    def get_command(self, ctx: ClickContext, cmd_name: str) -> Any:
        command = self.commands.get(cmd_name)
        if isinstance(command, _Listed) and not self._listing:
            command = self.commands[cmd_name] = load_command(cmd_name)
        return command

    def format_help(self, ctx: ClickContext, formatter: Any) -> None:
        with self._listed():
            super().format_help(ctx, formatter)

    def shell_complete(self, ctx: ClickContext, incomplete: str) -> list:
        with self._listed():
            return super().shell_complete(ctx, incomplete)

    @contextmanager
    def _listed(self) -> Iterator[None]:
        self._listing = True
        try:
            yield
        finally:
            self._listing = False

    def invoke(self, ctx: ClickContext) -> Any:
        from model.outputs import cleanup_on_signals, signal_exit  # every area imports model

        try:
            with cleanup_on_signals():
                return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            from govctl.common import KeptInterrupt

            kept = exc.kept if isinstance(exc, KeptInterrupt) else None
            raise Interrupted(kept, *signal_exit(exc)) from None


def govcloud_version() -> str:
    """The installed govcloud distribution's version (pyproject.toml's)."""
    from importlib import metadata  # 0.1-0.2 s of imports: only for --version

    try:
        return metadata.version("govcloud")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"govctl {govcloud_version()}")
        raise typer.Exit()


app = typer.Typer(
    name="govctl",
    cls=LazyGroup,
    help=HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # The top level's help in click's plain format: typer's rich formatter costs three times
    # the CPU of the rest of `govctl --help` (it imports rich's Markdown and markdown-it).
    # Each area's own help (`govctl lab --help`) is rich.
    rich_markup_mode=None,
)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    pass


def main(argv: list[str] | None = None) -> int:
    try:
        app(args=argv, prog_name="govctl", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Interrupted as exc:
        _stderr().print(f"[yellow]{exc.word}[/]; {exc}")
        return exc.code
    except KeyboardInterrupt:  # before any command ran (while the CLI was starting)
        _stderr().print("[yellow]interrupted[/]; nothing was written")
        return 130
    except Exception as exc:
        return _fail(exc)
    return 0


def _fail(exc: Exception) -> int:
    """User errors become their message and exit code; anything else is an internal error,
    reported in one line (no traceback reaches a user)."""
    from govctl.common import NoGo, UserError, err
    from model import InvalidModel
    from model.outputs import OutputError

    if isinstance(exc, InvalidModel):
        sys.stderr.write("".join(f"{e}\n" for e in exc.errors))
        err.print(f"[red]{len(exc.errors)} error(s)[/]; nothing was written")
        return 2
    if isinstance(exc, UserError | NoGo | OutputError):
        err.print(str(exc) if isinstance(exc, NoGo) else f"[red]error:[/] {exc}")
        return exc.exit_code
    if os.environ.get("GOVCTL_DEBUG"):
        traceback.print_exc()
    err.print(
        f"[red]internal error:[/] {type(exc).__name__}: {exc} (GOVCTL_DEBUG=1 shows the traceback)"
    )
    return 1


def _stderr():
    from govctl.common import err

    return err


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
