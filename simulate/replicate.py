"""Independent replications: seeds, parallel runs (processes or Dask) and confidence intervals.

Replication `i` of a run with seed `s` always gets the same seed (numpy's SeedSequence
spawned from `s`), whatever runs it — inline, a process pool or a Dask cluster — and the
results come back in replication order, so the same seed gives the same report anywhere.

`fn(args, seed) -> plain data` must be a module-level function (it is pickled).
"""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import numpy as np

# two-sided 95% quantiles of Student's t by degrees of freedom (a lower df is conservative)
_T975 = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    12: 2.179,
    15: 2.131,
    20: 2.086,
    25: 2.060,
    30: 2.042,
    40: 2.021,
    60: 2.000,
    120: 1.980,
}


def t975(df: int) -> float:
    if df < 1:
        return math.inf
    return _T975[max(k for k in _T975 if k <= df)] if df < 1000 else 1.960


def seeds(seed: int, n: int) -> list[int]:
    """`n` independent 63-bit seeds derived from `seed`."""
    return [
        int(child.generate_state(1, np.uint64)[0] >> np.uint64(1))
        for child in np.random.SeedSequence(seed).spawn(n)
    ]


def mean_ci(values: Sequence[float]) -> dict:
    """Mean and 95% confidence interval (Student's t over independent replications)."""
    n = len(values)
    mean = statistics.fmean(values)
    half = t975(n - 1) * statistics.stdev(values) / math.sqrt(n) if n > 1 else math.inf
    return {"mean": mean, "ci95": [mean - half, mean + half], "half_width": half, "n": n}


def describe(values: Sequence[float]) -> dict:
    """Mean with its 95% interval, and the spread: p5, p50, p95, min, max."""
    a = np.asarray(values, dtype=float)
    out = mean_ci(list(a)) if len(a) > 1 else {"mean": float(a[0]), "ci95": None, "n": 1}
    out = {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in out.items()
    }
    out.pop("half_width", None)
    for q in (5, 50, 95):
        out[f"p{q}"] = float(np.percentile(a, q))
    out["min"], out["max"] = float(a.min()), float(a.max())
    return out


def proportion(k: int, n: int) -> dict:
    """k of n replications: the estimate and its 95% Wilson score interval."""
    z = 1.959964
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {"k": k, "n": n, "p": p, "ci95": [max(0.0, centre - half), min(1.0, centre + half)]}


def _run_chunk(fn: Callable, args: Any, chunk: list[tuple[int, int]]) -> list[tuple[int, Any]]:
    return [(i, fn(args, s)) for i, s in chunk]


_WORKER_ARGS: Any = None  # a pool worker's args, sent once when it starts


def _keep_args(args: Any) -> None:
    global _WORKER_ARGS
    _WORKER_ARGS = args


def _run_chunk_kept(fn: Callable, chunk: list[tuple[int, int]]) -> list[tuple[int, Any]]:
    return _run_chunk(fn, _WORKER_ARGS, chunk)


def run(
    fn: Callable[[Any, int], Any],
    args: Any,
    seed: int,
    n: int,
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
    first: int = 0,
) -> list[Any]:
    """Run `n` replications of `fn(args, seed_i)`; results in replication order.

    jobs=1 runs inline; otherwise a process pool of `jobs` workers (default: CPU count).
    `scheduler` (a dask.distributed address) runs them on that cluster instead.
    `progress(k)` is called as k more replications finish. `first` skips that many
    replications: replications first … first+n−1 get the seeds they have in one longer run
    (so a run can be extended round by round).
    """
    if n <= 0:
        return []
    pairs = list(enumerate(seeds(seed, first + n)[first:]))
    workers = jobs or os.cpu_count() or 1
    if scheduler is None and (workers == 1 or n == 1):
        out = []
        for _, s in pairs:
            out.append(fn(args, s))
            if progress:
                progress(1)
        return out
    size = max(1, math.ceil(n / (workers * 4)))
    chunks = [pairs[k : k + size] for k in range(0, n, size)]
    results: dict[int, Any] = {}
    if scheduler is not None:
        _on_dask(scheduler, fn, args, chunks, results, progress)
    else:
        # the args (the city model) go to each worker once, not with every chunk; a worker
        # keeps what it computed from them (caches) for its next chunks
        with ProcessPoolExecutor(
            max_workers=min(workers, len(chunks)), initializer=_keep_args, initargs=(args,)
        ) as pool:
            futures = [pool.submit(_run_chunk_kept, fn, chunk) for chunk in chunks]
            for fut in as_completed(futures):
                done = fut.result()
                results.update(done)
                if progress:
                    progress(len(done))
    return [results[i] for i in range(n)]


def _on_dask(address: str, fn, args, chunks, results: dict, progress) -> None:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise RuntimeError(
            "--scheduler needs dask.distributed: pip install 'govcloud[dask]'"
        ) from None
    with Client(address, set_as_default=False) as client:
        shared = client.scatter(args, broadcast=True)
        futures = client.map(
            _run_chunk, [fn] * len(chunks), [shared] * len(chunks), chunks, pure=False
        )
        for fut in dask_completed(futures, loop=client.loop):
            done = fut.result()
            results.update(done)
            if progress:
                progress(len(done))
