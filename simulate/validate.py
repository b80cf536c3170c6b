"""Validation mode: the capacity model's engine run as a textbook queue, against Erlang.

Customers arrive as a Poisson process of rate A (service rate 1, so the offered load is A
erlangs) and each is placed, like a VM, on a `NodePool` of c nodes with one slot each.

- `erlang-b` (M/M/c/c): a customer who finds no free node is lost; estimate P(block).
- `erlang-c` (M/M/c): a customer who finds no free node waits in a FIFO queue and is
  placed when a node is released; estimate P(wait) and the mean wait Wq.

Each replication discards a warm-up and then measures `customers` arrivals; the estimate
is the mean over independent replications with a 95% Student-t interval.
"""

from __future__ import annotations

import math
import random
from collections import deque

from simulate.engine import CountingEnvironment, NodePool
from simulate.replicate import mean_ci
from simulate.replicate import run as run_replications

SCHEMA_VERSION = 1
MODELS = ("erlang-b", "erlang-c")


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of M/M/c/c (stable recursion)."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in M/M/c (needs a < c)."""
    if a >= c:
        return 1.0
    b = erlang_b(c, a)
    return c * b / (c - a * (1 - b))


def erlang_c_wait(c: int, a: float, mu: float = 1.0) -> float:
    """Mean wait in queue Wq of M/M/c."""
    return erlang_c(c, a) / (c * mu - a * mu)


def exact(model: str, c: int, a: float) -> dict:
    if model == "erlang-b":
        return {"p_block": erlang_b(c, a)}
    return {"p_wait": erlang_c(c, a), "mean_wait": erlang_c_wait(c, a)}


def replication(args: tuple, seed: int) -> dict:
    """One replication: (model, c, a, warmup, customers) → its estimates."""
    model, c, a, warmup, customers = args
    rng = random.Random(seed)
    expo = rng.expovariate
    env = CountingEnvironment()
    pool = NodePool(c, 1.0, 1.0)
    queue: deque[tuple[int, float]] = deque()  # (vm, arrived) waiting for a node
    queued = model == "erlang-c"
    stats = {"arrivals": 0, "blocked": 0, "waited": 0, "wait": 0.0}
    total = warmup + customers

    def start(vm: int, arrived: float, node: int) -> None:
        pool.put(vm, node, 1.0, 1.0)
        if vm >= warmup:
            wait = env.now - arrived
            if wait > 0:
                stats["waited"] += 1
                stats["wait"] += wait
        env.timeout(expo(1.0)).callbacks.append(lambda _ev: depart(vm))

    def depart(vm: int) -> None:
        pool.release(vm)
        if queue:
            vm, arrived = queue.popleft()
            node = pool.best_fit(1.0, 1.0)
            assert node is not None  # the VM just released left a one-slot hole
            start(vm, arrived, node)

    def arrivals():
        for vm in range(total):
            yield env.timeout(expo(a))
            if vm >= warmup:
                stats["arrivals"] += 1
            node = pool.best_fit(1.0, 1.0)
            if node is not None:
                start(vm, env.now, node)
            elif queued:
                queue.append((vm, env.now))
            elif vm >= warmup:
                stats["blocked"] += 1

    env.run(env.process(arrivals()))
    n = stats["arrivals"]
    if queued:
        return {
            "p_wait": stats["waited"] / n,
            "mean_wait": stats["wait"] / n,
            "events": env.scheduled,
        }
    return {"p_block": stats["blocked"] / n, "events": env.scheduled}


# Run lengths that bring the 95% half-width under 2% at c=10, A=8 (P(block) ≈ 0.12,
# Wq ≈ 0.2 at 80% load: queue waits are strongly autocorrelated and need ~8M customers).
DEFAULT_RUN = {"erlang-b": (10, 60_000), "erlang-c": (20, 400_000)}


def run(
    model: str,
    servers: int,
    load: float,
    seed: int,
    *,
    replications: int | None = None,
    customers: int | None = None,
    warmup: int = 5_000,
    jobs: int | None = None,
    scheduler: str | None = None,
    progress=None,
    precision: float | None = None,
    max_replications: int = 2000,
) -> dict:
    """Estimate the model's figures; return them with their intervals and the closed forms.

    With `precision` (e.g. 0.02), replications are added round by round until every
    figure's 95% half-width is within that fraction of its estimate (rare blocking needs
    more), or `max_replications` is reached (`precision_met` says which)."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}, not {model!r}")
    if servers < 1 or load <= 0:
        raise ValueError("servers must be ≥ 1 and load > 0")
    if model == "erlang-c" and load >= servers:
        raise ValueError(
            f"erlang-c needs load < servers for a steady state (got load {load} ≥ {servers} servers)"
        )
    replications = replications or DEFAULT_RUN[model][0]
    customers = customers or DEFAULT_RUN[model][1]
    if replications < 2:
        raise ValueError("at least 2 replications are needed for a confidence interval")
    if precision is not None and not 0 < precision < 1:
        raise ValueError(
            f"precision must be between 0 and 1 (a relative half-width), not {precision}"
        )
    truth = exact(model, servers, load)
    args = (model, servers, load, warmup, customers)
    reps: list[dict] = []
    want = replications
    while True:  # rounds: the first `replications`, then as many more as the spread asks for
        reps += run_replications(
            replication,
            args,
            seed,
            want - len(reps),
            jobs=jobs,
            scheduler=scheduler,
            progress=progress,
            first=len(reps),
        )
        if precision is None:
            break
        widths = _relative_half_widths(reps, truth)
        worst = max(widths.values())
        if worst <= precision or len(reps) >= max_replications:
            break
        # the half-width shrinks as 1/sqrt(n): aim 10% past the estimate, at least one more
        need = math.ceil(len(reps) * (worst / precision) ** 2 * 1.1)
        want = min(max_replications, max(need, len(reps) + 1))
    replications = len(reps)
    out: dict = {
        "schema_version": SCHEMA_VERSION,
        "model": model,
        "servers": servers,
        "load": load,
        "seed": seed,
        "replications": replications,
        "customers_per_replication": customers,
        "warmup": warmup,
    }
    for key, true_value in truth.items():
        est = mean_ci([r[key] for r in reps])
        out[key] = est["mean"]
        out[f"{key}_ci95"] = est["ci95"]
        out[f"{key}_exact"] = true_value
        out[f"{key}_rel_error"] = abs(est["mean"] - true_value) / true_value if true_value else None
    out["events"] = sum(r["events"] for r in reps)
    widths = _relative_half_widths(reps, truth)
    out["relative_half_width"] = widths
    out["precision"] = precision
    out["precision_met"] = None if precision is None else max(widths.values()) <= precision
    return out


def _relative_half_widths(reps: list[dict], truth: dict) -> dict[str, float]:
    """95% half-width over the estimate, per figure."""
    out = {}
    for key in truth:
        est = mean_ci([r[key] for r in reps])
        out[key] = est["half_width"] / est["mean"] if est["mean"] else math.inf
    return out
