"""What every govctl subcommand shares: consoles, the model argument, errors and JSON out.

User errors are exceptions (`UserError`, `InvalidModel`) that `govctl.app.main` turns into
a message on stderr and exit code 2; commands never call `sys.exit` for them.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from model import CityModel, load_city

console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DEFAULT_CITY = os.environ.get("GOVCLOUD_CITY", "examples/sample-city")

CityDir = Annotated[
    Path,
    typer.Argument(help="city model directory (city.yaml, departments.yaml, …)", show_default=True),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="print machine-readable JSON on stdout")]


class UserError(Exception):
    """A mistake the user can fix (bad flag value, missing tool, corrupt lock): exit 2."""

    exit_code = 2


class NoGo(Exception):
    """A planning verdict, not an error in the input: exit 3."""

    exit_code = 3


def load(city_dir: Path) -> CityModel:
    return load_city(city_dir)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"
