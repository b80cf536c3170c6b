"""Rollout duration: how long does pushing a change to every extranet device take?

Devices are pushed level by level (city core, then counties, townships, villages — a level
starts when the one above is done), `forks` at a time (a SimPy Resource, as Ansible's
forks). One attempt takes the SSH connect time plus a log-normal push time (median
`push_median_s`, overridable per platform); it fails with probability `failure_rate` and is
retried after `retry_backoff_s` up to `retries` times, holding its fork, as an Ansible task
with `retries`/`delay` does. Independent replications give the distribution of the total.

The push-time defaults are placeholders until measured lab pushes replace them
(`rollout.platform_push_median_s` in a settings file).
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable

import numpy as np
import simpy

from model.city import CityModel
from model.schema import LEVELS
from simulate import replicate
from simulate.replicate import mean_ci
from simulate.settings import RolloutSettings

SCHEMA_VERSION = 1


def devices_by_level(model: CityModel) -> list[tuple[str, list[str]]]:
    """[(level, [platform of each device])] in rollout order, empty levels left out."""
    per: dict[str, list[str]] = {lvl: [] for lvl in LEVELS}
    for site in model.sites():
        per[site.level].extend(d.platform.value for d in site.devices)
    return [(lvl, per[lvl]) for lvl in LEVELS if per[lvl]]


def replication(args: tuple, seed: int) -> dict:
    """One rollout: (levels, settings as a dict) → total and per-level durations in seconds."""
    levels, cfg = args
    rs = RolloutSettings(**cfg)
    rng = random.Random(seed)
    env = simpy.Environment()
    forks = simpy.Resource(env, capacity=rs.forks)
    medians = rs.platform_push_median_s
    stats = {"attempts": 0, "failed_devices": 0}

    def push(platform: str):
        mu = math.log(medians.get(platform, rs.push_median_s))
        with forks.request() as req:
            yield req
            for attempt in range(rs.retries + 1):
                stats["attempts"] += 1
                yield env.timeout(rs.connect_s + rng.lognormvariate(mu, rs.push_sigma))
                if rng.random() >= rs.failure_rate:
                    return
                if attempt < rs.retries:
                    yield env.timeout(rs.retry_backoff_s)
            stats["failed_devices"] += 1

    per_level = {}

    def rollout():
        for level, platforms in levels:
            began = env.now
            yield env.all_of([env.process(push(p)) for p in platforms])
            per_level[level] = env.now - began

    env.run(env.process(rollout()))
    return {"total_s": env.now, "levels_s": per_level, **stats}


def run(
    model: CityModel,
    settings: RolloutSettings | None = None,
    seed: int = 1,
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """The distribution of the rollout's total duration over `settings.replications` runs."""
    settings = settings or RolloutSettings()
    levels = devices_by_level(model)
    reps = replicate.run(
        replication,
        (levels, settings.model_dump()),
        seed,
        settings.replications,
        jobs=jobs,
        scheduler=scheduler,
        progress=progress,
    )
    totals = np.array([r["total_s"] for r in reps]) / 3600
    q = {f"p{p}": round(float(np.percentile(totals, p)), 4) for p in (5, 50, 90, 95, 99)}
    ci = mean_ci(list(totals)) if len(totals) > 1 else {"ci95": [None, None]}
    return {
        "schema_version": SCHEMA_VERSION,
        "simulation": "rollout",
        "city": model.city.name,
        "seed": seed,
        "settings": settings.model_dump(),
        "devices": {lvl: len(p) for lvl, p in levels},
        "total_h": {
            "mean": round(float(totals.mean()), 4),
            "ci95": [None if x is None else round(x, 4) for x in ci["ci95"]],
            "sd": round(statistics.stdev(totals), 4) if len(totals) > 1 else 0.0,
            "min": round(float(totals.min()), 4),
            "max": round(float(totals.max()), 4),
            **q,
        },
        "levels_h": {
            lvl: round(statistics.fmean(r["levels_s"][lvl] for r in reps) / 3600, 4)
            for lvl, _ in levels
        },
        "attempts_mean": round(statistics.fmean(r["attempts"] for r in reps), 2),
        "failed_devices_mean": round(statistics.fmean(r["failed_devices"] for r in reps), 3),
        "totals_h": [round(float(x), 4) for x in totals],
    }
