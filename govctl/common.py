"""What every govctl subcommand shares: consoles, the model argument, errors and JSON out.

User errors are exceptions (`UserError`, `InvalidModel`) that `govctl.app.main` turns into
a message on stderr and exit code 2; commands never call `sys.exit` for them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:  # the model (pydantic) loads when a command reads a city, not for --help
    from model import CityModel

console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DEFAULT_CITY = os.environ.get("GOVCLOUD_CITY", "examples/sample-city")

CityDir = Annotated[
    Path,
    typer.Argument(help="city model directory (city.yaml, departments.yaml, …)", show_default=True),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="print machine-readable JSON on stdout")]

# the options of the commands that run the gate (`govctl plan`, `govctl report`)
WaveOpt = Annotated[
    int | None, typer.Option(help="migration wave to add (default: the next planned wave)")
]
SeedOpt = Annotated[int, typer.Option(help="seed of the simulations")]
GateSettingsOpt = Annotated[
    Path | None, typer.Option("--settings", help="YAML with gate:/capacity:/backup: sections")
]
GateLockOpt = Annotated[
    Path | None,
    typer.Option(help="IPv6 lock file (default network/ipam.lock.yaml when it is this city's)"),
]


class UserError(Exception):
    """A mistake the user can fix (bad flag value, missing tool, corrupt lock): exit 2."""

    exit_code = 2


class NoGo(Exception):
    """A planning verdict, not an error in the input: exit 3."""

    exit_code = 3


def as_of_day(text: str | None) -> date:
    """The day of an `--as-of YYYY-MM-DD` option (today without one)."""
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"--as-of wants a date YYYY-MM-DD, got {text!r}") from None


def load(city_dir: Path) -> CityModel:
    from model import load_city

    return load_city(city_dir)


class KeptInterrupt(KeyboardInterrupt):
    """Ctrl-C inside `keeps`: `kept` says what the interrupted work left in place."""

    def __init__(self, kept: str | None):
        super().__init__(kept)
        self.kept = kept


@contextmanager
def keeps(what: str | Callable[[], str | None]) -> Iterator[None]:
    """Say what stays in place if the user interrupts (Ctrl-C) the work inside: `govctl`
    then prints `interrupted; <what>` instead of `interrupted; nothing was written`. A
    callable is asked at the moment of the interrupt (None: nothing was written yet). An
    inner `keeps` that already said what it kept is the one that counts."""
    try:
        yield
    except KeyboardInterrupt as exc:
        if isinstance(exc, KeptInterrupt) and exc.kept:
            raise
        raise KeptInterrupt(what() if callable(what) else what) from exc


STACK_KEPT = (
    "each stack keeps what Pulumi did before the interrupt, as its state records it; "
    "run the command again to finish"
)


@contextmanager
def engine_errors() -> Iterator[None]:
    """The Pulumi engine's refusals a user can fix (no engine built, no passphrase, a failed
    stack operation, a placement the rules forbid) as `UserError`s: exit 2, one message."""
    from infra import engine  # the engine loads with the command that drives it
    from infra.plan import PlacementError

    try:
        yield
    except (
        engine.EngineMissing,
        engine.PassphraseMissing,
        engine.EngineError,
        PlacementError,
    ) as exc:
        raise UserError(str(exc)) from None


def print_json(data: Any) -> None:
    """JSON on stdout through the one JSON writer (`model.outputs.dumps_json`: no NaN)."""
    from model.outputs import dumps_json

    sys.stdout.write(dumps_json(data, indent=2))


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


@contextmanager
def spinner(label: str) -> Iterator[Callable[[str], None]]:
    """A transient spinner on stderr while long work runs; call the yielded function with
    the name of the step under way."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn(f"{label}: {{task.description}}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("start", total=None)
        yield lambda step: progress.update(task, description=step)
