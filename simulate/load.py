"""What the systems use, hour by hour of simulated time: days of the history, resampled.

A zone's peak is the peak of a sum of systems that are busy together, on busy days and on
quiet ones. A mean hour-of-week profile averages the busy days away (on the sample city's
history by 5–12% at the zone peak, ~20% for single systems), so the capacity model draws
its load from the history itself: a **block bootstrap over days**. Simulated time is cut
into blocks of `block_days` days; each block is a run of consecutive history days starting
on a day of the same weekday, drawn at random — the same history days for every system, so
the correlation between systems (the city's busy Monday is everyone's busy Monday) and the
weekly shape inside a block are kept, and every replication sees different days.

Days are local days in the history's time zone (`history_timezone`, Asia/Shanghai by
default): the history's timestamps are UTC, the city's office hours are not. Hours missing
from the history (a partial first or last local day) take that system's mean of the same
hour of the same weekday. Systems without history use a business-hours default (45% of
their CPU request at office hours, 60% of memory) in the same local time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from model.city import CityModel
from model.history import GIB, load_history

DAY_S = 86400
WEEK_H = 168
EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


def default_profile() -> np.ndarray:
    """(2, 168) business-hours shape by local hour of week: fraction of the request in use."""
    cpu = np.empty(WEEK_H)
    for h in range(WEEK_H):
        day, hour = divmod(h, 24)
        if day >= 5:
            cpu[h] = 0.35 if 9 <= hour < 18 else 0.25
        else:
            cpu[h] = 1.0 if 9 <= hour < 18 else (0.55 if 7 <= hour < 22 else 0.3)
    return np.vstack([cpu * 0.45, np.full(WEEK_H, 0.6)])


@dataclass(frozen=True)
class LoadTable:
    """Fractions of each system's request in use, by hour of the history (local days).

    Row 0 is the default profile; `rows` maps the systems with history to theirs."""

    rows: dict[str, int]
    frac: np.ndarray  # (rows, 2, days × 24): CPU and memory
    weekday: np.ndarray  # (days,): weekday of each history day, Monday = 0

    @property
    def days(self) -> int:
        return len(self.weekday)

    def row(self, system_id: str) -> int:
        return self.rows.get(system_id, 0)


def _offset_s(moment: datetime) -> float:
    offset = moment.utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


def _default_rows(weekday: np.ndarray) -> np.ndarray:
    how = (weekday[:, None] * 24 + np.arange(24)[None, :]).ravel()
    return default_profile()[:, how]


@lru_cache(maxsize=8)
def _table(path: str, mtime: float, tz: str, requests: tuple) -> LoadTable:
    req = dict((sid, (cpu, mem)) for sid, cpu, mem in requests)
    history = load_history(Path(path)) if Path(path).exists() else {}
    series = {sid: s for sid, s in history.items() if sid in req and len(s.t)}
    if not series:
        weekday = np.arange(7)
        return LoadTable({}, _default_rows(weekday)[None], weekday)
    zone = ZoneInfo(tz)
    stamps = np.unique(np.concatenate([s.t for s in series.values()]))
    offsets = np.array([_offset_s(datetime.fromtimestamp(float(t), zone)) for t in stamps])
    local = {sid: s.t + offsets[np.searchsorted(stamps, s.t)] for sid, s in series.items()}
    first = min(int(v.min() // DAY_S) for v in local.values())
    last = max(int(v.max() // DAY_S) for v in local.values())
    days = last - first + 1
    weekday = (np.arange(first, last + 1) + EPOCH_WEEKDAY) % 7
    cell_how = (weekday[:, None] * 24 + np.arange(24)[None, :]).ravel()
    rows: dict[str, int] = {}
    fracs = [_default_rows(weekday)]
    for sid in sorted(series):
        s, t = series[sid], local[sid]
        cell = ((t // DAY_S).astype(np.int64) - first) * 24 + ((t % DAY_S) // 3600).astype(np.int64)
        count = np.bincount(cell, minlength=days * 24)
        how_count = np.bincount(cell_how[cell], minlength=WEEK_H)
        if (how_count == 0).any():
            continue  # not a whole week of history: the default profile is a better guess
        cpu_req, mem_req = req[sid]
        out = np.empty((2, days * 24))
        for k, (values, scale) in enumerate(((s.cpu, cpu_req), (s.memory, mem_req * GIB))):
            sums = np.bincount(cell, values, days * 24)
            how_mean = np.bincount(cell_how[cell], values, WEEK_H) / how_count
            out[k] = np.where(count > 0, sums / np.maximum(count, 1), how_mean[cell_how]) / scale
        rows[sid] = len(fracs)
        fracs.append(out)
    return LoadTable(rows, np.stack(fracs), weekday)


def table(model: CityModel, tz: str = "Asia/Shanghai") -> LoadTable:
    """The load table of the city's history (cached while the file is unchanged)."""
    path = model.history_path
    mtime = path.stat().st_mtime if path.exists() else 0.0
    requests = tuple((s.id, s.vcpu * s.replicas, s.memory_gib * s.replicas) for s in model.systems)
    return _table(str(path), mtime, tz, requests)


def bootstrap_days(
    load: LoadTable, n_days: int, block_days: int, rng: np.random.Generator
) -> np.ndarray:
    """The history day each simulated day (day 0 a Monday) takes its load from."""
    days, weekday = load.days, load.weekday
    out = np.empty(n_days, dtype=np.int64)
    by_weekday = [np.nonzero(weekday == w)[0] for w in range(7)]
    for start in range(0, n_days, block_days):
        span = min(block_days, n_days - start)
        pool = by_weekday[start % 7] if days >= 7 else np.arange(days)
        first = int(pool[rng.integers(len(pool))])
        for i in range(span):
            d = first + i
            if d >= days:  # wrap back by whole weeks, keeping the weekday
                d = d % days if days < 7 else d - 7 * math.ceil((d - days + 1) / 7)
            out[start + i] = d
        # (a block never runs past the history's start: `first` is inside it)
    return out


def columns(src_days: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """History column (day × 24 + hour) of each simulated hour, given the drawn days."""
    h = hours.astype(np.int64)
    return src_days[h // 24] * 24 + h % 24
