"""The city-wide disaster: the primary site is lost and every system recovers at once.

What recovery takes, per system, in the order operators recover (higher GB/T 20988 level
first, then larger systems first):
- **a place to run**: the DR cluster (`city.sites[].node_groups` of the `dr_same_city` site)
  must hold the system's replicas, on nodes of its arch (`model.schema.PINNED_ARCH`: the 信创
  zone's systems need arm64 nodes), replicas on distinct nodes. Systems of levels with
  standby equipment (4–6) hold their place in advance, so they are placed first; a system
  that finds no room cannot be recovered at the DR site (no RTO at all — a violation
  whatever its level);
- **its data**, for levels without standby: its newest restorable copy is read over the path
  it really takes — a copy at the DR site from the DR storage into the DR cluster
  (`dr_restore_mbps`), an off-site copy from the other city to the DR site
  (`offsite_restore_mbps`, by default the smaller of the two sites' links; likewise from the
  isolated backup site that keeps sensitive departments' backups) — every restore
  at once, sharing those paths (max-min fair, `streams` at a time, by priority);
- **restores that fail**: a restore is verified when its last byte arrives, and an attempt
  fails with `restore_failure_rate` (a corrupted or unverified copy, a broken chain found on
  read-back); it is read again, up to `restore_attempts` attempts — after the last failure the
  system cannot be recovered. The wide-area restore paths (off-site and isolated backup site
  to the DR site) fail and are repaired like the backup links (`link_mtbf_days`,
  `outage_mean_h`, when `link_outages`): a restore waits while its path is down;
- then the level's takeover time (switch-over and checks).

`recover(model, settings, needs, seed) -> {system id: Outcome}` is plain data for
`backup.run`; the failures are drawn per system from the seed, so they do not depend on the
order restores run in.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import simpy

from model import drlevels
from model.city import CityModel
from model.schema import Arch, System
from simulate.engine import NodePool
from simulate.flows import Link
from simulate.settings import BackupSettings

PATHS = ("dr_storage", "offsite", "isolated")
WAN_PATHS = ("offsite", "isolated")  # between cities or sites: they have outages of their own


@dataclass(frozen=True)
class Need:
    """What one system needs to recover: bytes to read, and over which path (None: none)."""

    system: System
    restore_bytes: float
    path: str | None


@dataclass(frozen=True)
class Outcome:
    rto_s: float | None  # None: it cannot be recovered at the DR site
    host_problem: str | None  # no room on the DR cluster
    restore_s: float
    restore_attempts: int = 0
    restore_problem: str | None = None  # every restore attempt failed


def _priority(s: System) -> tuple:
    return (-s.dr_level, -(s.vcpu * s.replicas), s.id)


def place(model: CityModel, systems: list[System]) -> dict[str, str | None]:
    """Place every system's replicas on the DR cluster; the problem of those that find no room."""
    site = model.site("dr_same_city")
    groups = list(site.node_groups) if site is not None else []
    pools = [
        (g.arch, NodePool(g.nodes, g.node_vcpu * g.cpu_overcommit, g.node_memory_gib))
        for g in groups
    ]
    arches = site.arches if site is not None else set()
    standby = sorted((s for s in systems if drlevels.level(s.dr_level).standby), key=_priority)
    rest = sorted((s for s in systems if not drlevels.level(s.dr_level).standby), key=_priority)
    out: dict[str, str | None] = {}
    where = site.name if site is not None else "the DR site"
    for s in standby + rest:
        zone = model.zones.get(s.target_zone or "")
        arch = (zone.arch if zone is not None else Arch.amd64).value
        if arch not in arches:
            out[s.id] = f"{where} has no {arch} nodes"
            continue
        out[s.id] = (
            f"no room for {s.replicas} × ({s.vcpu:g} vCPU, {s.memory_gib:g} GiB) on {where}'s {arch} nodes"
        )
        for group_arch, pool in pools:
            if group_arch != arch:
                continue
            homes: list[tuple[int, int]] = []
            for r in range(s.replicas):
                node = pool.place((s.id, r), s.vcpu, s.memory_gib, {n for _, n in homes})
                if node is None:
                    break
                homes.append((r, node))
            if len(homes) == s.replicas:
                out[s.id] = None
                break
            for r, _ in homes:  # not all replicas fit in this group: undo, try the next
                pool.release((s.id, r))
    return out


def path_capacities(model: CityModel, settings: BackupSettings) -> dict[str, float]:
    """Bytes/s of the restore paths: DR storage into the DR cluster; the off-site and the
    isolated backup sites to the DR site (the smaller of the two sites' links, unless
    `offsite_restore_mbps` says otherwise)."""
    dr = model.site("dr_same_city")

    def to_dr(role: str) -> float:
        src = model.site(role)
        links = [x.link_mbps for x in (dr, src) if x is not None and x.link_mbps]
        return min(links) if links else settings.dr_restore_mbps

    offsite = settings.offsite_restore_mbps or to_dr("backup_offsite")
    return {
        "dr_storage": settings.dr_restore_mbps * 1e6 / 8,
        "offsite": offsite * 1e6 / 8,
        "isolated": to_dr("backup_isolated") * 1e6 / 8,
    }


def recover(
    model: CityModel, settings: BackupSettings, needs: list[Need], seed: int = 1
) -> dict[str, Outcome]:
    """RTO of every system when all recover at once after the primary site is lost."""
    problems = place(model, [n.system for n in needs])
    env = simpy.Environment()
    caps = path_capacities(model, settings)
    links = {p: Link(env, p, bps) for p, bps in caps.items()}
    streams = {p: simpy.Resource(env, capacity=settings.streams) for p in PATHS}
    stream_cap = settings.stream_mbps * 1e6 / 8 if settings.stream_mbps else None
    restored: dict[str, float] = {}  # when its restore ended (verified or given up)
    attempts: dict[str, int] = {}
    verified: set[str] = set()

    def restore(need: Need, path: str, draws: random.Random):
        sid = need.system.id
        with streams[path].request() as req:  # requested in priority order
            yield req
            while attempts.get(sid, 0) < settings.restore_attempts:
                attempts[sid] = attempts.get(sid, 0) + 1
                yield links[path].transfer(need.restore_bytes, stream_cap).done
                if draws.random() >= settings.restore_failure_rate:  # verified: restored
                    verified.add(sid)
                    break
        restored[sid] = env.now  # restored, or given up after the last failed attempt

    def outages(link: Link, draws: random.Random):
        while True:
            yield env.timeout(draws.expovariate(1 / (settings.link_mtbf_days * 86400)))
            link.set_up(False)
            yield env.timeout(draws.expovariate(1 / (settings.outage_mean_h * 3600)))
            link.set_up(True)

    procs = []
    for need in sorted(needs, key=lambda n: _priority(n.system)):
        if problems[need.system.id] is None and need.path is not None:
            draws = random.Random(f"{seed}:restore:{need.system.id}")
            procs.append(env.process(restore(need, need.path, draws)))
    if procs and settings.link_outages:
        for p in WAN_PATHS:
            env.process(outages(links[p], random.Random(f"{seed}:outage:{p}")))
    env.run(until=simpy.AllOf(env, procs))
    out = {}
    for need in needs:
        s = need.system
        takeover = drlevels.level(s.dr_level).takeover_h * 3600
        problem = problems[s.id]
        done = restored.get(s.id, 0.0)
        tries = attempts.get(s.id, 0)
        lost = None
        if s.id in restored and s.id not in verified:
            lost = f"its restore failed {tries} time(s) (a corrupted or unreadable copy)"
        rto = None if problem or lost else done + takeover
        out[s.id] = Outcome(rto, problem, done, tries, lost)
    return out
