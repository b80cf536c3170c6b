"""YAML in, plain data out — with the line of every key and item kept for error messages.

PyYAML's C parser does the heavy lifting; mappings and sequences are built as `LineDict`
and `LineList`, which remember where each key or item stood. Duplicate keys, which YAML
silently collapses, are reported as errors. Writers here are atomic (temp file + rename).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from model.errors import ModelError, display_path

_UMASK = os.umask(0)
os.umask(_UMASK)
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineDict(dict):
    """A dict that knows its own line and the line of each key (1-based)."""

    __slots__ = ("line", "key_lines")


class LineList(list):
    """A list that knows its own line and the line of each item (1-based)."""

    __slots__ = ("line", "item_lines")


class _Loader(_BaseLoader):
    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[int, str]] = []


def _construct_mapping(loader: _Loader, node: yaml.MappingNode):
    data = LineDict()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            key = str(key)
        line = key_node.start_mark.line + 1
        if key in data.key_lines:
            loader.duplicates.append((line, f"duplicate key {key!r} (first at line {data.key_lines[key]})"))
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = line


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode):
    data = LineList()
    data.line = node.start_mark.line + 1
    data.item_lines = [child.start_mark.line + 1 for child in node.value]
    yield data
    data.extend(loader.construct_object(child, deep=True) for child in node.value)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def parse_yaml(text: str) -> tuple[Any, list[tuple[int, str]]]:
    """Parse YAML text; return (data, [(line, problem)]) — problems are duplicate keys."""
    loader = _Loader(text)
    try:
        data = loader.get_single_data()
        return data, loader.duplicates
    finally:
        loader.dispose()


def read_yaml(path: Path) -> tuple[Any, list[ModelError]]:
    """Read one YAML file. Never raises for bad input: problems come back as ModelErrors."""
    shown = display_path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, [ModelError(shown, 1, "", "file is missing")]
    except IsADirectoryError:
        return None, [ModelError(shown, 1, "", "is a directory, expected a YAML file")]
    except OSError as exc:
        return None, [ModelError(shown, 1, "", f"cannot read file: {exc.strerror}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [ModelError(shown, line, "", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})")]
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        data, duplicates = parse_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        context = exc.context
        if context and exc.context_mark and mark and exc.context_mark.line != mark.line:
            context = f"{context} (line {exc.context_mark.line + 1})"
        problem = " ".join(p for p in (context, exc.problem) if p) or "invalid YAML"
        return None, [ModelError(shown, line, "", f"YAML syntax error: {problem}")]
    except yaml.YAMLError as exc:  # reader errors (control characters) and the like
        mark = getattr(exc, "position", None)
        line = text[: mark].count("\n") + 1 if isinstance(mark, int) else 1
        return None, [ModelError(shown, line, "", f"YAML error: {exc}")]
    errors = [ModelError(shown, line, "", msg) for line, msg in duplicates]
    if data is None:
        errors.append(ModelError(shown, 1, "", "file is empty"))
    return data, errors


def line_of(data: Any, loc: Iterable) -> int:
    """The line of the deepest key or item of `loc` that exists in a LineDict/LineList tree."""
    line = getattr(data, "line", 1)
    node = data
    for part in loc:
        if isinstance(node, LineDict) and part in node.key_lines:
            line = node.key_lines[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
        else:
            break
        node = node[part]
    return line


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write a file so readers see the old content or the new, never half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


class StagedDir:
    """Write many files into `target` all-or-nothing: files go to a hidden staging folder
    beside it and are moved in only when every one was written.

        with StagedDir(out) as stage:
            write_atomic(stage / "a.yaml", ...)
    """

    def __init__(self, target: Path):
        self.target = Path(target)

    def __enter__(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.stage = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.staging-", dir=self.target.parent))
        return self.stage

    def __exit__(self, exc_type, exc, tb) -> None:
        import shutil

        try:
            if exc_type is None:
                self.target.mkdir(parents=True, exist_ok=True)
                for item in sorted(self.stage.rglob("*")):
                    rel = item.relative_to(self.stage)
                    if item.is_dir():
                        (self.target / rel).mkdir(parents=True, exist_ok=True)
                    else:
                        (self.target / rel).parent.mkdir(parents=True, exist_ok=True)
                        os.replace(item, self.target / rel)
        finally:
            shutil.rmtree(self.stage, ignore_errors=True)


def dump_yaml(data: Any) -> str:
    """Plain data to block-style YAML, keys in insertion order, Chinese kept readable."""
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False, width=120)


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    pass


_Dumper.add_representer(LineDict, lambda d, v: d.represent_dict(v))
_Dumper.add_representer(LineList, lambda d, v: d.represent_list(v))
