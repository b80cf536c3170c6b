"""Whole outputs only: every file and folder govctl writes goes through this module.

Why it exists: a write must leave either the old output or the new one, never half of it,
and must never land on something that is not a regular file — an atomic rename over
`/dev/null` once replaced the device with a regular file and broke every later daemon start.
So, before any work starts, `check_file`/`check_dir` refuse a path that is a directory,
device, FIFO or socket, lies under /proc, /sys or /dev, or whose parent is not a writable
directory (`OutputError`, exit 2). Single files are written to a temp file beside the target
and renamed over it (`write_atomic`, `write_all` for several files that belong together);
folders are built in a staging folder beside the target and swapped in with one atomic
exchange (`StagedDir`). SIGINT and SIGTERM during a write remove the temp file or staging
folder (SIGTERM is turned into `Terminated`, a `KeyboardInterrupt`, so the CLI's handler
prints its one line and exits 143, the shell's 128 + SIGTERM). Output paths are checked
together, against the command's inputs, by `check_outputs`. JSON writers refuse NaN and infinity (`dumps_json`).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import math
import os
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from model.errors import display_path

_UMASK = os.umask(0)
os.umask(_UMASK)
FORBIDDEN = (Path("/proc"), Path("/sys"), Path("/dev"))
"""Never written to, whatever the permissions say."""


class OutputError(Exception):
    """An output path that cannot be written as asked (`path: message`): exit 2."""

    exit_code = 2

    def __init__(self, path: Path | str, message: str):
        self.path = display_path(Path(path))
        super().__init__(f"{self.path}: {message}")


class Terminated(KeyboardInterrupt):
    """SIGTERM while a command ran: cleaned up like Ctrl-C, but the exit code is the
    shell's for SIGTERM, 128 + 15 = 143 (Ctrl-C's is 128 + 2 = 130; see `signal_exit`)."""

    signum = signal.SIGTERM


def signal_exit(exc: BaseException) -> tuple[int, str]:
    """The exit code and the word for a command stopped by `exc`: (130, "interrupted") for
    Ctrl-C (SIGINT), (143, "terminated") for SIGTERM. The signal is looked for along the
    exceptions `exc` was raised from (a handler may re-raise the interrupt as another)."""
    signum = signal.SIGINT
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, Terminated):
            signum = seen.signum
            break
        seen = seen.__cause__ or seen.__context__
    return 128 + int(signum), "terminated" if signum == signal.SIGTERM else "interrupted"


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _resolve(path: Path) -> Path:
    """The path with symlinks followed (written through to their target); a dangling or
    looping symlink is refused rather than replaced."""
    path = Path(path)
    try:
        real = Path(os.path.realpath(path, strict=False))
    except (OSError, RuntimeError) as exc:
        raise OutputError(path, f"cannot resolve the path ({exc})") from None
    if path.is_symlink() or real != Path(os.path.abspath(path)):
        try:
            os.stat(path)
        except FileNotFoundError:
            if path.is_symlink():
                raise OutputError(path, f"is a symlink to {real}, which does not exist") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise OutputError(path, "is a symlink loop") from None
    for root in FORBIDDEN:
        if real == root or root in real.parents:
            raise OutputError(path, f"is under {root}: govctl never writes there")
    return real


def _check_parent(path: Path, real: Path) -> None:
    """The nearest existing ancestor must be a directory we may write into."""
    parent = real.parent
    while not parent.exists():
        if parent.is_symlink():
            raise OutputError(path, f"{parent} is a dangling symlink")
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(path, f"{parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(
            path, f"cannot write into {parent} (permissions or a read-only filesystem)"
        )


def check_file(path: Path | str) -> Path:
    """Where a file output will land (symlinks followed), or `OutputError`: call it before
    the work starts. The target must be absent or a regular file."""
    path = Path(path)
    real = _resolve(path)
    try:
        mode = os.stat(real).st_mode
    except (FileNotFoundError, NotADirectoryError):  # the parent check says which
        mode = None
    except OSError as exc:
        raise OutputError(path, exc.strerror or str(exc)) from None
    if mode is not None and not stat.S_ISREG(mode):
        raise OutputError(path, f"is {_kind(mode)}; give the path of a regular file")
    _check_parent(path, real)
    return real


def check_dir(path: Path | str) -> Path:
    """Where a folder output will land, or `OutputError`: absent or a directory."""
    path = Path(path)
    real = _resolve(path)
    if real.exists() and not real.is_dir():
        raise OutputError(path, f"is {_kind(os.stat(real).st_mode)}, not a directory")
    _check_parent(path, real)
    return real


def check_outputs(
    files: Iterable[Path | str | None] = (),
    dirs: Iterable[Path | str | None] = (),
    inputs: Iterable[Path | str | None] = (),
) -> None:
    """Every output path of a command, checked before any work starts (the one place a
    command asks): each file with `check_file`, each folder with `check_dir`, and none of
    them the same as an input, inside an input folder, or a folder holding an input (the
    city folder, a settings file, the lock): writing there would change or swap away what
    the command reads. A folder output is never the working directory or one above it (its
    swap would pull the folder from under the shell). None entries (an option not given)
    are skipped. The first problem is an `OutputError` (`path: message`, exit 2)."""
    sources = [(Path(p), Path(os.path.realpath(p))) for p in inputs if p is not None]
    here = Path(os.path.realpath(os.getcwd()))
    outputs = [(Path(p), check_file(p)) for p in files if p is not None]
    for p in dirs:
        if p is None:
            continue
        real = check_dir(p)
        if real == here or real in here.parents:
            raise OutputError(p, "is the working directory or above it; give a folder of its own")
        outputs.append((Path(p), real))
    for shown, real in outputs:
        for given, source in sources:
            if real == source:
                raise OutputError(shown, f"is the input {display_path(given)}; give another path")
            if source in real.parents:
                raise OutputError(
                    shown,
                    f"is inside the input {display_path(given)}; write outside what is read",
                )
            if real in source.parents:
                raise OutputError(
                    shown,
                    f"holds the input {display_path(given)}; writing it would replace what is read",
                )


# --- signals -------------------------------------------------------------------------


_depth = 0


def _on_term(signum, frame) -> None:
    raise Terminated(f"signal {signum}")


@contextlib.contextmanager
def cleanup_on_signals() -> Iterator[None]:
    """While inside, SIGTERM raises `Terminated` (SIGINT already raises KeyboardInterrupt),
    so `finally` blocks remove temp files and staging folders. Main thread only: signals are
    delivered there, so other threads (the orchestrator's pool writing stack config files)
    pass straight through and never touch the nesting count."""
    global _depth
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = None
    if _depth == 0:
        with contextlib.suppress(ValueError):
            previous = signal.signal(signal.SIGTERM, _on_term)
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and previous is not None:
            signal.signal(signal.SIGTERM, previous)


def quiet_worker() -> None:
    """Initializer of forked worker processes: the parent cleans up, workers just stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


# --- files ---------------------------------------------------------------------------


def _encode(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def _stage_file(real: Path, data: bytes) -> str:
    real.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


def _replace(tmp: str, real: Path, shown: Path) -> None:
    """Rename onto a regular file or nothing, never onto a device, FIFO or directory."""
    with contextlib.suppress(FileNotFoundError):
        mode = os.lstat(real).st_mode
        if not stat.S_ISREG(mode):
            raise OutputError(shown, f"became {_kind(mode)} while writing; nothing was replaced")
    os.replace(tmp, real)


def write_all(files: Mapping[Path, str | bytes]) -> None:
    """Write several files that belong together: every one is checked and written to a temp
    file first; only then are they renamed into place. Nothing is left on failure."""
    targets = [(Path(p), check_file(p), _encode(c)) for p, c in files.items()]
    staged: list[tuple[str, Path, Path]] = []
    with cleanup_on_signals():
        try:
            for shown, real, data in targets:
                staged.append((_stage_file(real, data), real, shown))
            for tmp, real, shown in staged:
                _replace(tmp, real, shown)
        except OSError as exc:
            raise OutputError(
                getattr(exc, "filename", None) or targets[0][0], exc.strerror or str(exc)
            ) from None
        finally:
            for tmp, _, _ in staged:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)


def write_atomic(path: Path | str, content: str | bytes) -> None:
    """Write a file so readers see the old content or the new, never half of it."""
    write_all({Path(path): content})


def dumps_json(data: Any, **kwargs: Any) -> str:
    """JSON text with a final newline; NaN and infinity (which JSON has not) are refused."""
    kwargs.setdefault("ensure_ascii", False)
    try:
        return json.dumps(data, allow_nan=False, **kwargs) + "\n"
    except ValueError as exc:
        raise ValueError(f"refusing to write invalid JSON: {exc} ({_first_bad(data)})") from None


def _first_bad(data: Any, where: str = "") -> str:
    if isinstance(data, float) and not math.isfinite(data):
        return f"{where or 'value'} is {data}"
    if isinstance(data, dict):
        items: Any = data.items()
    elif isinstance(data, list | tuple):
        items = enumerate(data)
    else:
        return ""
    for k, v in items:
        found = _first_bad(v, f"{where}.{k}" if isinstance(k, str) else f"{where}[{k}]")
        if found:
            return found
    return ""


# --- folders -------------------------------------------------------------------------

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_renameat2: Callable[..., int] | None
try:
    _renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
except (OSError, AttributeError):  # not glibc ≥ 2.28 / not Linux
    _renameat2 = None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one atomic step (Linux renameat2 RENAME_EXCHANGE)."""
    if _renameat2 is None:
        return False
    rc = _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    if ctypes.get_errno() in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(b))


class StagedDir:
    """Write a folder all-or-nothing: files go to a hidden staging folder beside `target`,
    which then takes the target's place in one atomic exchange; the old folder is removed.

        with StagedDir(out) as stage:
            write_atomic(stage / "a.yaml", ...)

    `keep=True` (the default) starts the staging folder as a hard-linked copy of the
    existing target, so files other writers put there survive; `keep=False` makes the folder
    exactly what was written. Ctrl-C or SIGTERM inside removes the staging folder."""

    def __init__(self, target: Path | str, keep: bool = True):
        self.shown = Path(target)
        self.target = check_dir(target)
        self.keep = keep
        self._signals = cleanup_on_signals()

    def __enter__(self) -> Path:
        self._signals.__enter__()
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            self.stage = Path(
                tempfile.mkdtemp(prefix=f".{self.target.name}.staging-", dir=self.target.parent)
            )
            if self.keep and self.target.is_dir():
                shutil.copytree(
                    self.target,
                    self.stage,
                    symlinks=True,
                    copy_function=os.link,
                    dirs_exist_ok=True,
                )
        except OSError as exc:
            self._signals.__exit__(None, None, None)
            raise OutputError(self.shown, exc.strerror or str(exc)) from None
        except BaseException:
            self._signals.__exit__(None, None, None)
            raise
        return self.stage

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self._swap_in()
        except OSError as e:
            raise OutputError(self.shown, e.strerror or str(e)) from None
        finally:
            shutil.rmtree(self.stage, ignore_errors=True)
            self._signals.__exit__(None, None, None)

    def _swap_in(self) -> None:
        os.chmod(self.stage, 0o777 & ~_UMASK)
        if not self.target.exists():
            os.rename(self.stage, self.target)
            return
        if _exchange(self.stage, self.target):
            return  # the old folder is now at self.stage, removed by __exit__
        old = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.old-", dir=self.target.parent))
        os.rename(self.target, old / "d")
        os.rename(self.stage, self.target)
        shutil.rmtree(old, ignore_errors=True)
