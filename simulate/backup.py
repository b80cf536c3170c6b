"""Backup and DR model: do the nightly backups fit their window and meet every RPO and RTO?

Processes over resources, in seconds (t=0 is midnight before the first night):
- each DR link (`city.sites[].link_mbps` of the `dr_same_city` and `backup_offsite` sites)
  is a `flows.Link` shared max-min fair by its transfers, with `streams` parallel backup
  streams (processes taking the link's queue of jobs in order) and path failures: a link of n paths sees path failures
  at 1/`link_mtbf_days` in all (each path at 1/(n × MTBF)), exponential repairs; it loses
  capacity with each path down and is down only when every path is;
- every night each system backs up to the off-site site, scheduled as operators do it: jobs
  queue for the streams in priority order (higher DR level first, then larger systems first); a full
  every `full_every_days` nights, the fulls staggered so each night carries about the same
  full bytes (largest first onto the lightest night), incremental otherwise; a job still
  running when the next night opens makes that night's job skip;
- what else a system gets depends on its GB/T 20988 level (`model.drlevels`):
  `batch` levels send their changes to the same-city DR site every `batch_interval_h`;
  `continuous` levels replicate in real time: a fluid queue on the DR link (writes in at
  the data's change rate, the link's capacity out — see `flows.Link`), whose lag carries
  through outages and path failures;
- sizes grow with the data (`data_growth_per_year`): data_gib at t=0, × compression × dedup
  for backups; an incremental holds the changes since its chain's last snapshot.

RPO achieved per system is the worst data loss a disaster could cause at any moment: the
largest gap between a moment and the newest snapshot restorable by then, a copy counting
only when its chain (its full and every incremental since) is complete; for continuous
levels, also at most the replication's largest lag. A DR link whose capacity is below the
write rate it must carry is reported with the shortfall in Mbit/s.

RTO per system comes from the city-wide disaster at the end of the run (`simulate.failover`):
every system recovers at once at the DR site, from its newest restorable copy over that
copy's path, if the DR cluster has room for it; a restore that fails its verification is
read again, and a system whose every attempt failed is not recovered at all.

`run(model, settings, seed, wave=None) -> dict` is plain data for `govctl plan`.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Set
from dataclasses import dataclass
from typing import Any

import numpy as np

from model import drlevels
from model.city import CityModel
from model.schema import System
from simulate import failover, replicate, waves
from simulate.engine import CountingEnvironment
from simulate.flows import Link
from simulate.settings import BackupSettings

SCHEMA_VERSION = 2
GIB = 1024**3
DAY = 86400.0
ROLES = ("dr_same_city", "backup_offsite", "backup_isolated")
RESTORE_PATH = {
    "dr_same_city": "dr_storage",
    "backup_offsite": "offsite",
    "backup_isolated": "isolated",
}


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
    """The role holding a level's DR copy, falling back to another site if it is absent."""
    want = drlevels.level(level).copy_site
    return want if want in roles else next(r for r in ROLES if r in roles)


def nightly_role(s: System, roles, sensitive: Set[str]) -> str:
    """Where a system's nightly backup goes: the off-site city, except for departments
    owning sensitive data, whose backups stay in the isolated site in the city."""
    if s.department in sensitive and "backup_isolated" in roles:
        return "backup_isolated"
    return "backup_offsite" if "backup_offsite" in roles else copy_role(s.dr_level, roles)


def full_nights(systems: list[System], every: int) -> dict[str, int]:
    """Each system's full-backup night modulo `every`: largest first onto the night with the
    fewest full bytes so far, so the fulls spread evenly over the cycle."""
    load = [0.0] * every
    out = {}
    for s in sorted(systems, key=lambda s: (-s.data_gib, s.id)):
        night = min(range(every), key=lambda n: (load[n], n))
        load[night] += s.data_gib
        out[s.id] = night
    return out


@dataclass
class Copy:
    """One backup or DR batch of one system at one site."""

    snapshot: float
    started: float
    full: bool
    nbytes: float  # bytes read back by a restore (compressed, not deduplicated)
    completed: float | None = None


def restore_point(chain: list[Copy], t: float) -> tuple[float, float] | None:
    """(snapshot, bytes to read) of the newest copy restorable at `t`: complete by then with
    its full and every incremental between them. None if nothing is."""
    best, base_bytes, intact = None, 0.0, False
    for c in chain:  # in the order they were taken
        done = c.completed is not None and c.completed <= t
        if c.full:
            intact, base_bytes = done, c.nbytes if done else 0.0
        elif intact and done:
            base_bytes += c.nbytes
        else:
            intact = False
        if intact and done:
            best = (c.snapshot, base_bytes)
    return best


def restorable_since(chain: list[Copy]) -> list[tuple[float, float]]:
    """(moment it became restorable, snapshot) of every copy that did: an incremental once
    it and everything back to its full had completed."""
    out: list[tuple[float, float]] = []
    ready: float | None = None
    for c in chain:  # in the order they were taken
        if c.completed is None:
            ready = None  # everything after it in this chain waits for it
            continue
        if c.full:
            ready = c.completed
        elif ready is None:
            continue
        else:
            ready = max(ready, c.completed)
        out.append((ready, c.snapshot))
    return out


def worst_gap(chains: list[list[Copy]], end: float) -> float:
    """Largest (moment − newest snapshot restorable at that moment) over [0, end]; it is
    largest just before a copy becomes restorable, or at the end."""
    events = sorted(e for ch in chains for e in restorable_since(ch) if e[0] <= end)
    worst, newest = 0.0, None
    for ready, snapshot in events:
        worst = max(worst, ready - (newest if newest is not None else 0.0))
        newest = snapshot if newest is None else max(newest, snapshot)
    return max(worst, end - (newest if newest is not None else 0.0))


def run(
    model: CityModel,
    settings: BackupSettings | None = None,
    seed: int = 1,
    wave: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> dict:
    """Simulate `settings.days` nights of backups of the systems on the cloud after `wave`
    (every planned wave when None, `simulate.waves`), then the city-wide disaster."""
    settings = settings or BackupSettings()
    caps = link_capacities(model)
    paths = {role: model.site(role).link_paths for role in caps}
    systems = sorted(waves.systems(model, wave), key=lambda s: s.id)
    rng = random.Random(seed)
    env = CountingEnvironment()
    end = settings.days * DAY

    def grown(t: float) -> float:
        return (1 + settings.data_growth_per_year) ** (t / (365 * DAY))

    cont: dict[str, list[System]] = {role: [] for role in caps}
    for s in systems:
        if drlevels.level(s.dr_level).mode == "continuous":
            cont[copy_role(s.dr_level, caps)].append(s)

    def write_rate(role: str, t: float) -> float:
        return sum(
            s.data_gib * GIB * s.daily_change_ratio / DAY * settings.compression * grown(t)
            for s in cont[role]
        )

    links = {role: Link(env, role, bps, write_rate(role, 0.0)) for role, (_, bps) in caps.items()}
    stream_cap = settings.stream_mbps * 1e6 / 8 if settings.stream_mbps else None
    sensitive = model.sensitive_departments
    home = {s.id: nightly_role(s, caps, sensitive) for s in systems}
    fulls = full_nights(systems, settings.full_every_days)
    ratio = settings.compression * settings.dedup

    # every chain starts from a complete copy taken just before t=0
    chains: dict[tuple[str, str], list[Copy]] = {}
    for s in systems:
        roles = {home[s.id]}
        if drlevels.level(s.dr_level).mode == "batch":
            roles.add(copy_role(s.dr_level, caps))
        for role in roles:
            seed_copy = Copy(0.0, 0.0, True, s.data_gib * GIB * settings.compression, 0.0)
            chains[(s.id, role)] = [seed_copy]
    running: set[tuple[str, str]] = set()
    nights: list[dict[str, Any]] = [
        {"night": d, "jobs": 0, "done": 0, "last_done": None, "skipped": 0, "bytes": 0.0}
        for d in range(settings.days)
    ]
    outages: dict[str, list[tuple[float, float]]] = {role: [] for role in caps}
    down_since: dict[str, float | None] = {role: None for role in caps}

    queues: dict[str, deque] = {role: deque() for role in caps}
    idle: dict[str, list] = {role: [] for role in caps}

    def submit(s: System, role: str, full: bool, night: dict | None) -> None:
        """Queue a job for the link's streams; an idle stream picks it up at once."""
        running.add((s.id, role))
        queues[role].append((s, full, night))
        if idle[role]:
            idle[role].pop().succeed()

    def stream(role: str):
        """One backup stream of a link: takes the queued jobs in order, one at a time."""
        queue, link = queues[role], links[role]
        while True:
            if not queue:
                wake = env.event()
                idle[role].append(wake)
                yield wake
                continue
            s, full, night = queue.popleft()
            chain = chains[(s.id, role)]
            snapshot = env.now
            data = s.data_gib * GIB * grown(snapshot)
            last = chain[-1].snapshot
            change = (
                data if full else data * min(1.0, s.daily_change_ratio * (snapshot - last) / DAY)
            )
            copy = Copy(snapshot, snapshot, full, change * settings.compression)
            chain.append(copy)
            size = change * ratio
            yield link.transfer(size, stream_cap).done
            copy.completed = env.now
            running.discard((s.id, role))
            if night is not None:
                night["done"] += 1
                night["bytes"] += size
                night["last_done"] = env.now

    def nightly_process():
        order = sorted(systems, key=lambda s: (-s.dr_level, -s.data_gib, s.id))
        for d in range(settings.days):
            opens = d * DAY + settings.window_start_h * 3600
            yield env.timeout(opens - env.now)
            night = nights[d]
            for role in caps:
                links[role].set_write_rate(write_rate(role, env.now))
            for s in order:
                if (s.id, home[s.id]) in running:
                    night["skipped"] += 1
                    continue
                night["jobs"] += 1
                full = (d - fulls[s.id]) % settings.full_every_days == 0
                submit(s, home[s.id], full, night)

    def batch_process():
        batched = [s for s in systems if drlevels.level(s.dr_level).mode == "batch"]
        batched.sort(key=lambda s: (-s.dr_level, -s.data_gib, s.id))
        if not batched:
            return
        step = settings.batch_interval_h * 3600
        t = settings.window_start_h * 3600
        while t < end:
            yield env.timeout(t - env.now)
            for s in batched:
                role = copy_role(s.dr_level, caps)
                if (s.id, role) not in running:
                    submit(s, role, False, None)
            t += step

    paths_up: dict[str, int] = {role: paths[role] for role in caps}
    path_outages = {role: 0 for role in caps}

    def path_process(role: str, orng: random.Random):
        """One physical path of a link: failures at 1/(paths × MTBF), exponential repairs."""
        link = links[role]
        full, n = caps[role][1], paths[role]
        while True:
            yield env.timeout(orng.expovariate(1 / (settings.link_mtbf_days * DAY * n)))
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
                outages[role].append((down_since[role] or 0.0, env.now))
                down_since[role] = None
                link.set_up(True)

    for role in caps:
        for _ in range(settings.streams):
            env.process(stream(role))
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
    for link in links.values():
        link._advance()  # bring the lag and the counters to the end

    rows, needs = _systems(model, settings, systems, caps, chains, links, end)
    recovered = failover.recover(model, settings, needs, seed)
    for r in rows:
        o = recovered[r["id"]]
        lvl = drlevels.level(r["dr_level"])
        r["rto_s"] = None if o.rto_s is None else round(o.rto_s, 3)
        r["restore_s"] = round(o.restore_s, 3)
        r["restore_attempts"] = o.restore_attempts
        r["rto_bound_s"] = lvl.rto_bound_s
        r["dr_host_problem"] = o.host_problem
        r["restore_problem"] = o.restore_problem
        r["rto_ok"] = False if o.rto_s is None else drlevels.rto_ok(r["dr_level"], o.rto_s)
    return _report(
        model, settings, seed, wave, env, caps, paths, links, outages, path_outages, nights, rows
    )


def _systems(model, settings, systems, caps, chains, links, end):
    rows, needs = [], []
    for s in systems:
        lvl = drlevels.level(s.dr_level)
        mine = {role: chains[(s.id, role)] for role in caps if (s.id, role) in chains}
        worst = worst_gap(list(mine.values()), end)
        role = copy_role(s.dr_level, caps)
        lag = None
        if lvl.mode == "continuous":
            lag = links[role].max_lag_s
            worst = min(worst, lag)  # the replica, or a backup when the replica lags further
        # the restore: the newest restorable copy, a DR-site copy on a tie (the nearer one)
        points = {r: restore_point(ch, end) for r, ch in mine.items()}
        best = max(
            ((p[0], r == "dr_same_city", r, p[1]) for r, p in points.items() if p is not None),
            default=None,
        )
        if lvl.standby or best is None:
            needs.append(failover.Need(s, 0.0, None))
        else:
            needs.append(failover.Need(s, best[3], RESTORE_PATH[best[2]]))
        rows.append(
            {
                "id": s.id,
                "department": s.department,
                "dr_level": s.dr_level,
                "mode": lvl.mode,
                "copy_site": caps[role][0],
                "data_gib": s.data_gib,
                "rpo_s": round(worst, 3),
                "rpo_bound_s": lvl.rpo_bound_s,
                "rpo_ok": drlevels.rpo_ok(s.dr_level, worst),
                "replication_lag_s": None if lag is None else round(lag, 3),
                "restore_from": None if lvl.standby or best is None else caps[best[2]][0],
                "restore_gib": 0.0 if lvl.standby or best is None else round(best[3] / GIB, 3),
            }
        )
    return rows, needs


def _report(
    model, settings, seed, wave, env, caps, paths, links, outages, path_outages, nights, rows
):
    end = settings.days * DAY
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
    link_rows = {}
    for role in caps:
        link = links[role]
        shortfall = max(0.0, link.write_rate - caps[role][1]) * 8 / 1e6
        link_rows[role] = {
            "site": caps[role][0],
            "capacity_mbps": caps[role][1] * 8 / 1e6,
            "replication_mbps": round(link.write_rate * 8 / 1e6, 3),
            "replication_shortfall_mbps": round(shortfall, 3),
            "replication_max_lag_s": round(link.max_lag_s, 3),
            "replication_lagging_fraction": round(link.lagging_s / end, 6),
            "paths": paths[role],
            "path_outages": path_outages[role],
            "outages": len(outages[role]),
            "outage_h": round(sum(e - b for b, e in outages[role]) / 3600, 3),
            "delivered_gib": round(link.delivered / GIB, 3),
            "replicated_gib": round(link.replicated / GIB, 3),
            "busy_fraction": round(link.busy_s / end, 6),
        }
    return {
        "schema_version": SCHEMA_VERSION,
        "simulation": "backup",
        "city": model.city.name,
        "seed": seed,
        "wave": wave,
        "settings": settings.model_dump(),
        "events": env.scheduled,
        "links": link_rows,
        "replication_violations": [
            {"link": role, "site": r["site"], "shortfall_mbps": r["replication_shortfall_mbps"]}
            for role, r in link_rows.items()
            if r["replication_shortfall_mbps"] > 0
        ],
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
        "dr_host_problems": {r["id"]: r["dr_host_problem"] for r in rows if r["dr_host_problem"]},
        "restore_failures": {r["id"]: r["restore_problem"] for r in rows if r["restore_problem"]},
        "restore_retries": sum(max(0, r["restore_attempts"] - 1) for r in rows),
        "by_level": {
            str(lv): {
                "systems": sum(1 for r in rows if r["dr_level"] == lv),
                "rpo_violations": sum(1 for r in rows if r["dr_level"] == lv and not r["rpo_ok"]),
                "rto_violations": sum(
                    1 for r in rows if r["dr_level"] == lv and r["rto_ok"] is False
                ),
                "worst_rpo_s": max((r["rpo_s"] for r in rows if r["dr_level"] == lv), default=None),
                "worst_rto_s": max(
                    (r["rto_s"] for r in rows if r["dr_level"] == lv and r["rto_s"] is not None),
                    default=None,
                ),
                "rpo_bound_s": drlevels.level(lv).rpo_bound_s,
                "rto_bound_s": drlevels.level(lv).rto_bound_s,
            }
            for lv in drlevels.LEVELS
        },
    }


def replication(args: tuple, seed: int) -> dict:
    """One replication for `simulate.replicate.run`: args are (model, settings, wave)."""
    model, settings, wave = args
    return run(model, settings, seed, wave)


def distribution(datas: list[dict]) -> dict:
    """Across replications: each level's worst RPO and RTO, and the longest night."""

    def spread(values):
        values = [v for v in values if v is not None]
        return replicate.describe(values) if values else None

    return {
        "replications": len(datas),
        "seeds": [d["seed"] for d in datas],
        "by_level": {
            lv: {
                "worst_rpo_s": spread([d["by_level"][lv]["worst_rpo_s"] for d in datas]),
                "worst_rto_s": spread([d["by_level"][lv]["worst_rto_s"] for d in datas]),
            }
            for lv in datas[0]["by_level"]
        },
        "window_max_h": spread([d["window"]["max_h"] for d in datas]),
    }
