"""The city-wide disaster: the primary site is lost and every system recovers at once.

What recovery takes, per system, in the order operators recover (higher GB/T 20988 level
first, then larger systems first):
- **a place to run**: the DR cluster (`city.sites[].node_groups` of the `dr_same_city` site)
  must hold the system's replicas, on nodes of its arch (the 信创 zone's systems need arm64
  nodes), replicas on distinct nodes. Systems of levels with standby equipment (4–6) hold
  their place in advance, so they are placed first; a system that finds no room cannot be
  recovered at the DR site (no RTO at all — a violation whatever its level);
- **its data**, for levels without standby: its newest restorable copy is read over the path
  it really takes — a copy at the DR site from the DR storage into the DR cluster
  (`dr_restore_mbps`), an off-site copy from the other city to the DR site
  (`offsite_restore_mbps`, by default the smaller of the two sites' links; likewise from the
  isolated backup site that keeps sensitive departments' backups) — every restore
  at once, sharing those paths (max-min fair, `streams` at a time, by priority);
- then the level's takeover time (switch-over and checks).

`recover(model, settings, needs) -> {system id: Outcome}` is plain data for `backup.run`.
"""

from __future__ import annotations

from dataclasses import dataclass

import simpy

from model import drlevels
from model.city import CityModel
from model.schema import System
from simulate.engine import NodePool
from simulate.flows import Link
from simulate.settings import BackupSettings

PATHS = ("dr_storage", "offsite", "isolated")


@dataclass(frozen=True)
class Need:
    """What one system needs to recover: bytes to read, and over which path (None: none)."""

    system: System
    restore_bytes: float
    path: str | None


@dataclass(frozen=True)
class Outcome:
    rto_s: float | None  # None: it cannot be recovered at the DR site
    host_problem: str | None
    restore_s: float


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
    arches = {g.arch for g in groups}
    standby = sorted((s for s in systems if drlevels.level(s.dr_level).standby), key=_priority)
    rest = sorted((s for s in systems if not drlevels.level(s.dr_level).standby), key=_priority)
    out: dict[str, str | None] = {}
    where = site.name if site is not None else "the DR site"
    for s in standby + rest:
        arch = model.zones[s.target_zone].arch if s.target_zone in model.zones else "amd64"
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


def recover(model: CityModel, settings: BackupSettings, needs: list[Need]) -> dict[str, Outcome]:
    """RTO of every system when all recover at once after the primary site is lost."""
    problems = place(model, [n.system for n in needs])
    env = simpy.Environment()
    caps = path_capacities(model, settings)
    links = {p: Link(env, p, bps) for p, bps in caps.items()}
    streams = {p: simpy.Resource(env, capacity=settings.streams) for p in PATHS}
    stream_cap = settings.stream_mbps * 1e6 / 8 if settings.stream_mbps else None
    restored: dict[str, float] = {}

    def restore(need: Need, path: str):
        with streams[path].request() as req:  # requested in priority order
            yield req
            yield links[path].transfer(need.restore_bytes, stream_cap).done
        restored[need.system.id] = env.now

    for need in sorted(needs, key=lambda n: _priority(n.system)):
        if problems[need.system.id] is None and need.path is not None:
            env.process(restore(need, need.path))
    env.run()
    out = {}
    for need in needs:
        s = need.system
        takeover = drlevels.level(s.dr_level).takeover_h * 3600
        problem = problems[s.id]
        done = restored.get(s.id, 0.0)
        out[s.id] = Outcome(None if problem else done + takeover, problem, done)
    return out
