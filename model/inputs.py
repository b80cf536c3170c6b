"""One bounded way to read an input file that is not the city model (settings, the lock, a
metrics file, the utilisation history), and the work budget of a computation.

Why: a FIFO, `/dev/zero` or a symlink loop given as a file must be refused, not read forever;
a file is checked to be a regular file of bounded size *before* it is read; YAML aliases
(which the model allows) are refused here, so an alias bomb is never expanded; every
problem is a located `ModelError` (`file:line: field: message`, exit 2) with the offending
value shortened. The types with bounds are the pydantic models of each input (see
`model.schema.Bounded`: finite numbers, no boolean taken for a number).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

from model.errors import InvalidModel, ModelError, display_path
from model.yamlio import yaml_text

SETTINGS_BYTES = 1 << 20
"""A settings file is a few dozen lines; a megabyte is generous."""


def short(value: Any, limit: int = 60) -> str:
    """A value for an error message: never the whole of a huge scalar."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def _fail(path: Path, message: str) -> InvalidModel:
    return InvalidModel([ModelError(display_path(path), 1, "", message)])


def open_regular(path: Path | str, max_bytes: int) -> int:
    """An open file descriptor on a regular file of at most `max_bytes`, or InvalidModel.
    Never blocks on a FIFO (opened non-blocking, checked, then made blocking again)."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise _fail(path, "file is missing") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _fail(path, "is a symlink loop") from None
        raise _fail(path, f"cannot read: {exc.strerror or exc}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise _fail(path, f"is {kind}; expected a file")
    if st.st_size > max_bytes:
        os.close(fd)
        raise _fail(path, f"{st.st_size:,} bytes, more than {max_bytes:,}: not a file of this kind")
    os.set_blocking(fd, True)
    return fd


def read_bytes(path: Path | str, max_bytes: int) -> bytes:
    fd = open_regular(path, max_bytes)
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:  # grew while we read
        raise _fail(Path(path), f"more than {max_bytes:,} bytes")
    return data


def read_yaml_input(path: Path | str, max_bytes: int = SETTINGS_BYTES) -> Any:
    """A bounded YAML input file as line-keeping data (no aliases), or InvalidModel."""
    path = Path(path)
    shown = display_path(path)
    raw = read_bytes(path, max_bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidModel(
            [ModelError(shown, line, "", f"not valid UTF-8 (byte offset {exc.start})")]
        ) from None
    data, errors = yaml_text(text, shown, aliases=False)
    if errors:
        raise InvalidModel(errors)
    return data


def check_budget(
    shown: str, line_of, work: dict[str, tuple[float, str]], budget: float, budget_name: str
) -> None:
    """Refuse a run whose implied work is over `budget`. `work` maps the setting that drives
    each amount (e.g. `capacity.sample_every_h`) to (amount, what is counted); `line_of(field)`
    gives the line of a setting in its file (1 when it is a default)."""
    errors = [
        ModelError(
            shown,
            line_of(name),
            name,
            f"implies {amount:.3g} {what}, over the budget {budget_name} = {budget:.3g}; "
            f"change {name} or raise {budget_name}",
        )
        for name, (amount, what) in work.items()
        if not amount <= budget  # NaN is over too
    ]
    if errors:
        raise InvalidModel(errors)
