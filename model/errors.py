"""Errors are values: every loader collects `ModelError`s; only the CLI turns them into text.

A `ModelError` names the file, the 1-based line, the field (a dotted path such as
`systems[3].vcpu`) and a message, so a user can jump straight to the mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class ModelError:
    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        field = f"{self.field}: " if self.field else ""
        message = " ".join(self.message.split())
        return f"{self.path}:{self.line}: {field}{message}"


class InvalidModel(Exception):
    """Raised at the end of loading when any `ModelError` was collected."""

    def __init__(self, errors: list[ModelError]):
        self.errors = sorted(set(errors))
        super().__init__(f"{len(self.errors)} error(s) in the city model")

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


def field_path(loc: tuple) -> str:
    """Render a location tuple ('systems', 3, 'vcpu') as 'systems[3].vcpu'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def display_path(path: Path) -> str:
    """A path as the user typed it: relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):  # elsewhere, or a symlink loop
        return str(path)
