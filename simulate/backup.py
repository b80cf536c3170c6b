"""Backup and DR model: do the nightly backups fit their window and meet every RPO?

Processes over resources, in seconds (t=0 is midnight before the first night):
- each DR link (`city.sites[].link_mbps` of the `dr_same_city` and `backup_offsite` sites)
  is a `flows.Link` shared max-min fair by its transfers, with `streams` parallel backup
  streams (a SimPy Resource) and link outages (Poisson, exponential durations);
- every night each system backs up to the off-site site (a full every `full_every_days`
  nights, staggered by system, incremental otherwise); a job still running when the next
  night opens makes that night's job skip;
- what else a system gets depends on its GB/T 20988 level (`simulate.drlevels`):
  `batch` levels send their changes to the same-city DR site every `batch_interval_h`;
  `continuous` levels replicate in real time (their write rate is reserved on the link;
  after an outage the backlog is sent as a catch-up flow);
- sizes: data_gib (full) or data_gib × daily_change_ratio × days since the chain's last
  snapshot (incremental), × compression × dedup.

RPO achieved per system is the worst data loss a disaster could cause at any moment: the
largest gap between a moment and the snapshot of the newest copy complete by then. RTO per
system comes from a second run: the primary site is lost and every system without a
standby restores its DR copy (data × compression) over its link at once, higher levels
first; plus the level's takeover time.

`run(model, settings, seed, wave=None) -> dict` is plain data for `govctl plan`
(`rpo_violations`, `window.nights_over`).
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable

import numpy as np
import simpy

from model.city import CityModel
from model.schema import System
from simulate import drlevels
from simulate.engine import CountingEnvironment
from simulate.flows import Link
from simulate.settings import BackupSettings

SCHEMA_VERSION = 1
GIB = 1024**3
DAY = 86400.0
ROLES = ("dr_same_city", "backup_offsite")


class NoDrLinks(ValueError):
    """The city has no site with a link to back up to."""


def link_capacities(model: CityModel) -> dict[str, tuple[str, float]]:
    """role -> (site name, bytes/s) for the DR sites that have a link."""
    out = {}
    for role in ROLES:
        site = model.site(role)
        if site is not None and site.link_mbps:
            out[role] = (site.name, site.link_mbps * 1e6 / 8)
    if not out:
        raise NoDrLinks(
            "the city has no dr_same_city or backup_offsite site with link_mbps: nothing to back up to"
        )
    return out


def copy_role(level: int, roles) -> str:
    """The role holding a level's DR copy, falling back to the other site if it is absent."""
    want = drlevels.level(level).copy_site
    return want if want in roles else next(r for r in ROLES if r in roles)


def _stagger(system_id: str, every: int) -> int:
    return zlib.crc32(system_id.encode()) % every


class _Chain:
    """One copy chain of one system (off-site nightly, or DR batches)."""

    __slots__ = ("last_snapshot", "running")

    def __init__(self):
        self.last_snapshot = 0.0
        self.running = False


def _worst_gap(copies: list[tuple[float, float]], end: float) -> float:
    """Largest (moment − snapshot of newest copy complete at that moment), copy at t=0 assumed."""
    worst, newest = 0.0, 0.0
    for snapshot, completed in sorted(copies, key=lambda c: c[1]):
        worst = max(worst, completed - newest)
        newest = max(newest, snapshot)
    return max(worst, end - newest)


def run(
    model: CityModel,
    settings: BackupSettings | None = None,
    seed: int = 1,
    wave: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> dict:
    """Simulate `settings.days` nights of backups of the systems on the cloud (after `wave`)."""
    settings = settings or BackupSettings()
    caps = link_capacities(model)
    paths = {role: model.site(role).link_paths for role in caps}
    systems = sorted(model.on_cloud_systems(wave), key=lambda s: s.id)
    rng = random.Random(seed)
    env = CountingEnvironment()
    ratio = settings.compression * settings.dedup
    cont = {role: [] for role in caps}
    for s in systems:
        if drlevels.level(s.dr_level).mode == "continuous":
            cont[copy_role(s.dr_level, caps)].append(s)
    write_rate = {
        s.id: s.data_gib * GIB * s.daily_change_ratio / DAY * settings.compression
        for ss in cont.values()
        for s in ss
    }
    links = {
        role: Link(env, role, bps, reserved=sum(write_rate[s.id] for s in cont[role]))
        for role, (_, bps) in caps.items()
    }
    streams = {role: simpy.Resource(env, capacity=settings.streams) for role in caps}
    stream_cap = settings.stream_mbps * 1e6 / 8 if settings.stream_mbps else None
    offsite_role = "backup_offsite" if "backup_offsite" in caps else "dr_same_city"
    end = settings.days * DAY

    copies: dict[str, list[tuple[float, float]]] = {s.id: [] for s in systems}
    catchups: dict[str, dict[float, float]] = {s.id: {} for s in systems}  # outage start -> lag
    nightly = {s.id: _Chain() for s in systems}
    batch = {s.id: _Chain() for s in systems}
    nights = [
        {"night": d, "jobs": 0, "done": 0, "last_done": None, "skipped": 0, "bytes": 0.0}
        for d in range(settings.days)
    ]
    outages: dict[str, list[tuple[float, float]]] = {role: [] for role in caps}
    down_since: dict[str, float | None] = {role: None for role in caps}

    def job(s: System, role: str, chain: _Chain, full: bool, night: dict | None):
        chain.running = True
        with streams[role].request() as req:
            yield req
            snapshot = env.now
            change = s.data_gib * min(
                1.0, s.daily_change_ratio * (snapshot - chain.last_snapshot) / DAY
            )
            size = (s.data_gib if full else change) * GIB * ratio
            flow = links[role].transfer(size, stream_cap)
            yield flow.done
        chain.last_snapshot = snapshot
        chain.running = False
        copies[s.id].append((snapshot, env.now))
        if night is not None:
            night["done"] += 1
            night["bytes"] += size
            night["last_done"] = env.now

    def nightly_process():
        for d in range(settings.days):
            opens = d * DAY + settings.window_start_h * 3600
            yield env.timeout(opens - env.now)
            night = nights[d]
            for s in systems:
                chain = nightly[s.id]
                if chain.running:
                    night["skipped"] += 1
                    continue
                night["jobs"] += 1
                full = (
                    d + _stagger(s.id, settings.full_every_days)
                ) % settings.full_every_days == 0
                env.process(job(s, offsite_role, chain, full, night))

    def batch_process():
        batched = [s for s in systems if drlevels.level(s.dr_level).mode == "batch"]
        if not batched:
            return
        step = settings.batch_interval_h * 3600
        t = settings.window_start_h * 3600
        while t < end:
            yield env.timeout(t - env.now)
            for s in batched:
                if not batch[s.id].running:
                    env.process(job(s, copy_role(s.dr_level, caps), batch[s.id], False, None))
            t += step

    def catch_up(s: System, role: str, began: float, nbytes: float):
        flow = links[role].transfer(nbytes)
        yield flow.done
        catchups[s.id][began] = env.now - began

    paths_up = {role: paths[role] for role in caps}
    path_outages = {role: 0 for role in caps}

    def path_process(role: str, orng: random.Random):
        """One physical path of a link: Poisson failures, exponential repairs. The link
        loses capacity with each path down and is down only when every path is."""
        link = links[role]
        full, n = caps[role][1], paths[role]
        while True:
            yield env.timeout(orng.expovariate(1 / (settings.link_mtbf_days * DAY)))
            path_outages[role] += 1
            paths_up[role] -= 1
            if paths_up[role] == 0:
                down_since[role] = env.now
                link.set_up(False)
            else:
                link.set_capacity(full * paths_up[role] / n)
            yield env.timeout(orng.expovariate(1 / (settings.outage_mean_h * 3600)))
            paths_up[role] += 1
            link.set_capacity(full * paths_up[role] / n)
            if paths_up[role] == 1:
                began = down_since[role]
                down_since[role] = None
                link.set_up(True)
                outages[role].append((began, env.now))
                for s in cont[role]:
                    env.process(catch_up(s, role, began, write_rate[s.id] * (env.now - began)))

    env.process(nightly_process())
    env.process(batch_process())
    if settings.link_outages:
        for i, role in enumerate(caps):
            for k in range(paths[role]):
                env.process(path_process(role, random.Random(rng.randrange(2**63) + i * 8 + k)))
    chunks = min(50, settings.days)
    for k in range(1, chunks + 1):
        env.run(until=end * k / chunks)
        if progress:
            progress(k / chunks)

    rto = restore_times(model, systems, caps, settings)
    rows = []
    for s in systems:
        lvl = drlevels.level(s.dr_level)
        if lvl.mode == "continuous":
            # lag after each outage; a catch-up unfinished (or a link still down) at the end
            # has lost everything since its outage began
            role = copy_role(s.dr_level, caps)
            lags = [catchups[s.id].get(b, end - b) for b, _ in outages[role]]
            if down_since[role] is not None:
                lags.append(end - down_since[role])
            worst = max(lags, default=0.0)
        else:
            worst = _worst_gap(copies[s.id], end)
        rows.append(
            {
                "id": s.id,
                "department": s.department,
                "dr_level": s.dr_level,
                "mode": lvl.mode,
                "copy_site": caps[copy_role(s.dr_level, caps)][0],
                "data_gib": s.data_gib,
                "rpo_s": round(worst, 3),
                "rpo_bound_s": lvl.rpo_bound_s,
                "rpo_ok": drlevels.rpo_ok(s.dr_level, worst),
                "rto_s": round(rto[s.id], 3),
                "rto_bound_s": lvl.rto_bound_s,
                "rto_ok": drlevels.rto_ok(s.dr_level, rto[s.id]),
            }
        )
    windows = [
        (
            (n["last_done"] - (n["night"] * DAY + settings.window_start_h * 3600)) / 3600
            if n["done"] == n["jobs"] and n["last_done"] is not None
            else None
        )
        for n in nights
    ]
    finished = [w for w in windows if w is not None]
    over = sum(1 for w in windows if w is None or w > settings.window_h)
    return {
        "schema_version": SCHEMA_VERSION,
        "simulation": "backup",
        "city": model.city.name,
        "seed": seed,
        "wave": wave,
        "settings": settings.model_dump(),
        "events": env.scheduled,
        "links": {
            role: {
                "site": caps[role][0],
                "capacity_mbps": caps[role][1] * 8 / 1e6,
                "reserved_mbps": round(links[role].reserved * 8 / 1e6, 3),
                "paths": paths[role],
                "path_outages": path_outages[role],
                "outages": len(outages[role]),
                "outage_h": round(sum(e - b for b, e in outages[role]) / 3600, 3),
                "delivered_gib": round(links[role].delivered / GIB, 3),
                "busy_fraction": round(links[role].busy_s / end, 6),
            }
            for role in caps
        },
        "window": {
            "window_h": settings.window_h,
            "nights": settings.days,
            "nights_over": over,
            "max_h": round(max(finished), 4) if finished else None,
            "p95_h": round(float(np.percentile(finished, 95)), 4) if finished else None,
            "mean_h": round(float(np.mean(finished)), 4) if finished else None,
        },
        "nights": [
            {
                "night": n["night"],
                "window_h": None if w is None else round(w, 6),
                "jobs": n["jobs"],
                "skipped": n["skipped"],
                "gib": round(n["bytes"] / GIB, 3),
            }
            for n, w in zip(nights, windows, strict=True)
        ],
        "systems": rows,
        "rpo_violations": [r["id"] for r in rows if not r["rpo_ok"]],
        "rto_violations": [r["id"] for r in rows if r["rto_ok"] is False],
        "by_level": {
            str(lv): {
                "systems": sum(1 for r in rows if r["dr_level"] == lv),
                "rpo_violations": sum(1 for r in rows if r["dr_level"] == lv and not r["rpo_ok"]),
                "worst_rpo_s": max((r["rpo_s"] for r in rows if r["dr_level"] == lv), default=None),
                "rpo_bound_s": drlevels.level(lv).rpo_bound_s,
            }
            for lv in drlevels.LEVELS
        },
    }


def restore_times(
    model: CityModel, systems: list[System], caps: dict, settings: BackupSettings
) -> dict[str, float]:
    """RTO per system when the primary site is lost and all recover at once."""
    env = simpy.Environment()
    links = {role: Link(env, role, bps) for role, (_, bps) in caps.items()}
    streams = {role: simpy.Resource(env, capacity=settings.streams) for role in caps}
    stream_cap = settings.stream_mbps * 1e6 / 8 if settings.stream_mbps else None
    out: dict[str, float] = {}

    def restore(s: System, role: str, takeover: float):
        with streams[role].request() as req:
            yield req
            flow = links[role].transfer(s.data_gib * GIB * settings.compression, stream_cap)
            yield flow.done
        out[s.id] = env.now + takeover

    for s in sorted(systems, key=lambda s: (-s.dr_level, s.id)):
        lvl = drlevels.level(s.dr_level)
        if lvl.standby:
            out[s.id] = lvl.takeover_h * 3600
        else:
            env.process(restore(s, copy_role(s.dr_level, caps), lvl.takeover_h * 3600))
    env.run()
    return out
