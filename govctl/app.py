"""The `govctl` application: registers each area's commands and owns the exit codes.

Exit codes: 0 success, 2 bad input (located messages, no traceback), 3 a no-go plan,
130 interrupted. Set GOVCTL_DEBUG=1 to see a traceback for an internal error.
"""

from __future__ import annotations

import os
import sys
import traceback

import typer

from govctl import (
    capacity_cmds,
    demo_cmds,
    dr_cmds,
    lab_cmds,
    lab_k8s_cmds,
    model_cmds,
    network_cmds,
    plan_cmds,
    report_cmds,
    rollout_cmds,
    simulate_cmds,
    tenants_cmds,
)
from govctl.common import NoGo, UserError, err
from model import InvalidModel
from model.outputs import OutputError

app = typer.Typer(
    name="govctl",
    help="govcloud: the government cloud and e-government extranet of a city, as code.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

app.command()(model_cmds.validate)
app.command()(model_cmds.kpi)
app.add_typer(model_cmds.model_app, name="model")
app.command()(demo_cmds.demo)
app.add_typer(capacity_cmds.capacity_app, name="capacity")
app.command("exporter")(capacity_cmds.exporter)
app.add_typer(lab_cmds.lab_app, name="lab")
lab_cmds.lab_app.add_typer(lab_k8s_cmds.k8s_app, name="k8s")
app.add_typer(network_cmds.ipv6_app, name="ipv6")
app.add_typer(network_cmds.net_app, name="net")
network_cmds.net_app.command("push")(rollout_cmds.push)
app.add_typer(simulate_cmds.simulate_app, name="simulate")
app.add_typer(tenants_cmds.tenants_app, name="tenants")
app.add_typer(dr_cmds.dr_app, name="dr")
app.command()(plan_cmds.plan)
app.command()(report_cmds.report)


def main(argv: list[str] | None = None) -> int:
    try:
        app(args=argv, standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except InvalidModel as exc:
        sys.stderr.write("".join(f"{e}\n" for e in exc.errors))
        err.print(f"[red]{len(exc.errors)} error(s)[/]; nothing was written")
        return 2
    except (UserError, NoGo, OutputError) as exc:
        err.print(str(exc) if isinstance(exc, NoGo) else f"[red]error:[/] {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]; nothing half-written was left behind")
        return 130
    except Exception as exc:  # the last line of defence: no traceback reaches a user
        if os.environ.get("GOVCTL_DEBUG"):
            traceback.print_exc()
        err.print(
            f"[red]internal error:[/] {type(exc).__name__}: {exc} (GOVCTL_DEBUG=1 shows the traceback)"
        )
        return 1
    return 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
