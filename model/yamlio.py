"""YAML in, plain data out — with the line of every key and item kept for error messages.

PyYAML's C parser does the heavy lifting; mappings and sequences are built as `LineDict`
and `LineList`, which remember where each key or item stood. Duplicate keys, which YAML
silently collapses, are reported as errors. Writers are in `model/outputs.py`.
"""

from __future__ import annotations

import gc
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import yaml

from model.errors import ModelError, display_path
from model.outputs import StagedDir, write_atomic  # noqa: F401  (the writers live there)

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MODEL_FILE_BYTES = 1 << 30
"""A 20,000-village network.yaml is about 15 MB; a file over this is not a model file."""


class LineDict(dict):
    """A dict that knows its own line and the line of each key (1-based)."""

    __slots__ = ("line", "key_lines")
    line: int
    key_lines: dict[Any, int]


class LineList(list):
    """A list that knows its own line and the line of each item (1-based)."""

    __slots__ = ("line", "item_lines")
    line: int
    item_lines: list[int]


_PLAIN_NULL = frozenset(("", "~", "null", "Null", "NULL"))
_PLAIN_BOOL = {v: True for v in ("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")} | {
    v: False for v in ("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")
}
_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_FLOAT = re.compile(
    r"^([-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?|\.[0-9][0-9_]*([eE][-+][0-9]+)?)$"
)  # YAML 1.1, as PyYAML
_SPECIAL_FLOAT = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}
_SPECIAL_FIRST = frozenset(
    v[:1] for v in (*_PLAIN_NULL, *_PLAIN_BOOL, *_SPECIAL_FLOAT, ".INF", ".NaN", "+.Inf", "-.Inf")
)
_NUMBER_FIRST = frozenset("0123456789+-.")
_TAGGED = {
    "tag:yaml.org,2002:str": str,
    "tag:yaml.org,2002:int": int,
    "tag:yaml.org,2002:float": float,
}


class YamlShapeError(ValueError):
    """A YAML construct the model files have no use for (complex keys, unknown tags)."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


def _scalar(ev: yaml.ScalarEvent, line: int):
    value = ev.value
    tag = ev.tag
    if tag and tag != "!":
        conv = _TAGGED.get(tag)
        if conv is None:
            raise YamlShapeError(line, f"unsupported YAML tag {tag}")
        try:
            return conv(value)
        except ValueError:
            raise YamlShapeError(
                line, f"{value!r} is not a valid {tag.rsplit(':', 1)[-1]}"
            ) from None
    if not ev.implicit[0]:  # quoted: always a string
        return value
    first = value[:1]
    if first in _SPECIAL_FIRST:
        if value in _PLAIN_NULL:
            return None
        if value in _PLAIN_BOOL:
            return _PLAIN_BOOL[value]
        low = value.lower()
        if low in _SPECIAL_FLOAT:
            return _SPECIAL_FLOAT[low]
    if first in _NUMBER_FIRST:
        if _INT.match(value):
            return int(value.replace("_", ""))
        if _FLOAT.match(value):
            return float(value.replace("_", ""))
    return value


def parse_yaml(text: str, aliases: bool = True) -> tuple[Any, list[tuple[int, str]]]:
    """Parse one YAML document; return (data, [(line, problem)]) — problems are duplicate keys.
    `aliases=False` refuses anchors and aliases (files other than the model have no use for
    them, and an alias bomb must not be expanded into an error message).

    Built straight from libyaml's event stream (no node graph, no generic resolver), with
    the garbage collector paused: a 20,000-village network file parses in about a second.
    """
    duplicates: list[tuple[int, str]] = []
    anchors: dict[str, Any] = {}
    stack: list[list] = []  # [container, pending_key, pending_key_line, awaiting_key]
    root: Any = None
    docs = 0
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for ev in yaml.parse(text, Loader=_BaseLoader):
            kind = type(ev)
            line = ev.start_mark.line + 1 if ev.start_mark else 1
            value: Any
            if kind is yaml.ScalarEvent:
                value = _scalar(cast(yaml.ScalarEvent, ev), line)
            elif kind is yaml.MappingStartEvent:
                value = LineDict()
                value.line = line
                value.key_lines = {}
            elif kind is yaml.SequenceStartEvent:
                value = LineList()
                value.line = line
                value.item_lines = []
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                stack.pop()
                continue
            elif kind is yaml.AliasEvent:
                alias = cast(yaml.AliasEvent, ev).anchor
                if not aliases:
                    raise YamlShapeError(line, f"YAML aliases (*{alias}) are not allowed here")
                if alias not in anchors:
                    raise YamlShapeError(line, f"unknown alias *{alias}")
                value = anchors[alias]
            elif kind is yaml.DocumentStartEvent:
                docs += 1
                if docs > 1:
                    raise YamlShapeError(
                        line, "expected one YAML document, found more (remove the extra '---')"
                    )
                continue
            else:
                continue
            anchor = getattr(ev, "anchor", None)
            if anchor and kind is not yaml.AliasEvent:
                anchors[anchor] = value
            if not stack:
                root = value
            else:
                top = stack[-1]
                parent = top[0]
                if type(parent) is LineList:
                    parent.append(value)
                    parent.item_lines.append(line)
                elif top[3]:  # awaiting a key
                    if kind is not yaml.ScalarEvent and kind is not yaml.AliasEvent:
                        raise YamlShapeError(line, "a mapping or list cannot be a key")
                    top[1], top[2], top[3] = value, line, False
                else:
                    key, key_line = top[1], top[2]
                    top[3] = True
                    if key == "<<" and isinstance(value, dict):
                        for k, v in value.items():
                            parent.setdefault(k, v)
                            parent.key_lines.setdefault(k, key_line)
                    else:
                        try:
                            hash(key)
                        except TypeError:
                            key = str(key)
                        if key in parent.key_lines:
                            duplicates.append(
                                (
                                    key_line,
                                    f"duplicate key {key!r} (first at line {parent.key_lines[key]})",
                                )
                            )
                        parent[key] = value
                        parent.key_lines[key] = key_line
            if kind is yaml.MappingStartEvent:
                stack.append([value, None, 0, True])
            elif kind is yaml.SequenceStartEvent:
                stack.append([value, None, 0, False])
    finally:
        if gc_was:
            gc.enable()
    return root, duplicates


def read_yaml(path: Path, aliases: bool = True) -> tuple[Any, list[ModelError]]:
    """Read one YAML file. Never raises for bad input: problems come back as ModelErrors."""
    from model.errors import InvalidModel
    from model.inputs import read_bytes  # bounded: a regular file, never a FIFO or a device

    shown = display_path(path)
    try:
        raw = read_bytes(path, MODEL_FILE_BYTES)
    except InvalidModel as exc:
        return None, exc.errors
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [
            ModelError(
                shown,
                line,
                "",
                f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            )
        ]
    return yaml_text(text, shown, aliases)


def yaml_text(text: str, shown: str, aliases: bool = True) -> tuple[Any, list[ModelError]]:
    """Parse YAML text read from `shown`; problems come back as ModelErrors."""
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        data, duplicates = parse_yaml(text, aliases)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        context = exc.context
        if context and exc.context_mark and mark and exc.context_mark.line != mark.line:
            context = f"{context} (line {exc.context_mark.line + 1})"
        problem = " ".join(p for p in (context, exc.problem) if p) or "invalid YAML"
        return None, [ModelError(shown, line, "", f"YAML syntax error: {problem}")]
    except YamlShapeError as exc:
        return None, [ModelError(shown, exc.line, "", str(exc))]
    except yaml.reader.ReaderError as exc:  # control characters and the like
        line = text[: exc.position].count("\n") + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        return None, [
            ModelError(
                shown,
                line,
                "",
                f"character U+{ord(char):04X} is not allowed in YAML ({exc.reason})",
            )
        ]
    except yaml.YAMLError as exc:
        return None, [ModelError(shown, 1, "", f"YAML error: {exc}")]
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


def dump_yaml(data: Any) -> str:
    """Plain data to block-style YAML, keys in insertion order, Chinese kept readable."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=120,
    )


if TYPE_CHECKING:  # the C dumper has the same interface; the stubs cannot say "either"
    _DumperBase = yaml.SafeDumper
else:
    _DumperBase = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_DumperBase):
    pass


_Dumper.add_representer(LineDict, lambda d, v: d.represent_dict(v))
_Dumper.add_representer(LineList, lambda d, v: d.represent_list(v))
