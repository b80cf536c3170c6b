"""The 30-day utilisation history that ships beside a city model.

Format (`utilisation.csv.gz`, gzip-compressed CSV, UTF-8, one header line):

    timestamp,system,cpu_cores,memory_bytes
    2026-10-01T00:00:00Z,gaj-001,1.234,3221225472

- `timestamp`: ISO 8601, the start of the sample interval (hourly in the sample city); UTC
  (`Z`) as written here, or with an explicit offset (`+08:00`); a time without an offset is
  UTC too, whatever the reading machine's time zone;
- `system`: a system id from `systems.yaml`;
- `cpu_cores`: mean CPU usage over the interval, in cores;
- `memory_bytes`: mean working-set memory over the interval, in bytes.

Rows may come in any order; a system's samples are sorted on load, one per timestamp, and
all samples lie within `MAX_SPAN_DAYS` (400) of each other. Problems come back as located
`ModelError`s, like the YAML files.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import os
import random
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from model.errors import InvalidModel, ModelError, display_path
from model.inputs import open_regular, short
from model.yamlio import write_atomic

COLUMNS = ["timestamp", "system", "cpu_cores", "memory_bytes"]
MAX_FILE_BYTES = 1 << 30
MAX_TEXT_BYTES = 4 << 30
"""Bounds of a history file (compressed) and its text: 20,000 systems × 30 days hourly is
about 1 GB of CSV; a gzip bomb stops at the bound instead of filling the memory."""
MAX_SPAN_DAYS = 400
"""Most days between a history's first and last sample: it is the recent past (30 days in
the sample city); a stray timestamp years away would make the load tables that bin it by
hour (simulate/load.py) take gigabytes."""
HISTORY_START = datetime(2026, 10, 1, tzinfo=UTC)
GIB = 1024**3


@dataclass(frozen=True)
class Series:
    """One system's samples: epoch seconds, CPU cores and memory bytes, time-sorted."""

    t: np.ndarray
    cpu: np.ndarray
    memory: np.ndarray

    @property
    def days(self) -> float:
        if len(self.t) < 2:
            return 0.0
        step = float(np.median(np.diff(self.t)))
        return (float(self.t[-1] - self.t[0]) + step) / 86400


def _profile(hour: int, weekday: int) -> float:
    business = 9 <= hour < 18
    if weekday >= 5:
        return 0.35 if business else 0.25
    return 1.0 if business else (0.55 if 7 <= hour < 22 else 0.3)


def synth_history(systems: list[dict], seed: int, days: int = 30) -> list[tuple]:
    """Hourly samples for each system: a daily/weekly profile around its own level.

    About a third of systems idle below 20% of their request all month: the ones a
    capacity report should name for compression.
    """
    rng = random.Random(seed * 7919 + 17)
    rows = []
    hours = days * 24
    profile = [
        _profile((i % 24), ((HISTORY_START + timedelta(hours=i)).weekday())) for i in range(hours)
    ]
    stamps = [
        (HISTORY_START + timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%SZ") for i in range(hours)
    ]
    for s in systems:
        low = rng.random() < 0.33
        level = rng.uniform(0.03, 0.12) if low else rng.uniform(0.25, 0.75)
        mem_level = rng.uniform(0.1, 0.25) if low else rng.uniform(0.4, 0.85)
        vcpu = s["vcpu"] * s.get("replicas", 1)
        mem = s["memory_gib"] * s.get("replicas", 1) * GIB
        for i in range(hours):
            cpu = vcpu * level * profile[i] * max(0.2, rng.gauss(1.0, 0.15))
            m = mem * mem_level * (0.9 + 0.1 * profile[i]) * max(0.5, rng.gauss(1.0, 0.03))
            rows.append((stamps[i], s["id"], round(cpu, 4), int(m)))
    return rows


def write_history(path: Path, rows: list[tuple]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    w.writerows(rows)
    write_atomic(path, gzip.compress(buf.getvalue().encode("utf-8"), compresslevel=9, mtime=0))


def _epoch(stamp: str) -> float:
    """Epoch seconds of an ISO 8601 time; without an offset it is UTC, never the local zone."""
    t = datetime.fromisoformat(stamp)
    return (t if t.tzinfo is not None else t.replace(tzinfo=UTC)).timestamp()


def load_history(path: Path, known_systems: set[str] | None = None) -> dict[str, Series]:
    """Read a history file; raise InvalidModel with every bad row located by line."""
    shown = display_path(path)
    fd = open_regular(path, MAX_FILE_BYTES)  # a regular file of bounded size, or InvalidModel
    try:
        with os.fdopen(fd, "rb") as fh:
            if str(path).endswith(".gz"):
                with gzip.GzipFile(fileobj=fh) as gz:
                    raw = gz.read(MAX_TEXT_BYTES + 1)
            else:
                raw = fh.read(MAX_TEXT_BYTES + 1)
        if len(raw) > MAX_TEXT_BYTES:
            raise InvalidModel(
                [ModelError(shown, 1, "", f"more than {MAX_TEXT_BYTES:,} bytes of history")]
            )
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise InvalidModel([ModelError(shown, 1, "", f"not a readable gzip file: {exc}")]) from None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidModel([ModelError(shown, line, "", "not valid UTF-8")]) from None
    reader = csv.reader(io.StringIO(text))
    try:
        return _parse(shown, reader, known_systems)
    except csv.Error as exc:  # a field over csv's limit, a NUL…: at the line it is on
        line = max(reader.line_num, 1)
        raise InvalidModel([ModelError(shown, line, "", f"not CSV: {str(exc)[:120]}")]) from None


def _parse(shown: str, reader, known_systems: set[str] | None) -> dict[str, Series]:
    header = next(reader, None)
    if header != COLUMNS:
        raise InvalidModel(
            [
                ModelError(
                    shown,
                    1,
                    "header",
                    f"expected columns {','.join(COLUMNS)}, got {','.join(header or [])}",
                )
            ]
        )
    errors: list[ModelError] = []
    acc: dict[str, tuple[list, list, list, list]] = {}
    stamp_cache: dict[str, float] = {}
    for lineno, row in enumerate(reader, start=2):
        if len(row) != 4:
            errors.append(ModelError(shown, lineno, "", f"expected 4 columns, got {len(row)}"))
            continue
        stamp, system, cpu, mem = row
        try:
            t = stamp_cache.get(stamp)
            if t is None:
                t = stamp_cache[stamp] = _epoch(stamp)
        except (ValueError, OverflowError, OSError):
            errors.append(
                ModelError(shown, lineno, "timestamp", f"not an ISO 8601 time: {short(stamp)}")
            )
            continue
        try:
            c, m = float(cpu), float(mem)
        except ValueError:
            errors.append(
                ModelError(
                    shown,
                    lineno,
                    "cpu_cores" if not _isnum(cpu) else "memory_bytes",
                    "not a number",
                )
            )
            continue
        if not (0 <= c < math.inf and 0 <= m < math.inf):
            errors.append(ModelError(shown, lineno, "", "usage must be a finite number ≥ 0"))
            continue
        if known_systems is not None and system not in known_systems:
            errors.append(ModelError(shown, lineno, "system", f"unknown system {short(system)}"))
            continue
        ts, cs, ms, ls = acc.setdefault(system, ([], [], [], []))
        ts.append(t)
        cs.append(c)
        ms.append(m)
        ls.append(lineno)
    if errors:
        raise InvalidModel(errors[:200])
    out = {}
    ends: list[tuple[float, int]] = []  # (time, line) of each system's first and last sample
    for system, (ts, cs, ms, ls) in acc.items():
        times = np.asarray(ts)
        order = np.argsort(times, kind="stable")
        times = times[order]
        same = np.flatnonzero(np.diff(times) == 0)
        for k in same[:20].tolist():
            first, again = ls[order[k]], ls[order[k + 1]]
            errors.append(
                ModelError(
                    shown,
                    max(first, again),
                    "timestamp",
                    f"duplicate sample of {short(system)} (first at line {min(first, again)})",
                )
            )
        out[system] = Series(times, np.asarray(cs)[order], np.asarray(ms)[order])
        ends += [(float(times[0]), ls[order[0]]), (float(times[-1]), ls[order[-1]])]
    errors += _span_errors(shown, out, ends)
    if errors:
        raise InvalidModel(errors[:200])
    return out


def _span_errors(
    shown: str, out: dict[str, Series], ends: list[tuple[float, int]]
) -> list[ModelError]:
    """The samples lie within MAX_SPAN_DAYS; else one error at the sample farthest from the
    middle of the history (the stray one)."""
    if not ends:
        return []
    lo, hi = min(ends), max(ends)
    span = (hi[0] - lo[0]) / 86400
    if span <= MAX_SPAN_DAYS:
        return []
    middle = float(np.median(np.concatenate([s.t for s in out.values()])))
    stray = lo if middle - lo[0] > hi[0] - middle else hi
    return [
        ModelError(
            shown,
            int(stray[1]),
            "timestamp",
            f"the samples span {span:,.0f} days, more than {MAX_SPAN_DAYS}; this one is "
            f"{abs(stray[0] - middle) / 86400:,.0f} days from the middle of the history",
        )
    ]


def _isnum(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False
