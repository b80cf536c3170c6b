"""Capacity model: will each cloud zone hold the systems the migration waves bring?

Processes over resources, in hours of simulated time (t=0 is a Monday, 00:00):
- each zone is a `NodePool` (node vCPU × the zone's overcommit, node memory);
- systems already on the cloud are placed at t=0; legacy systems arrive with their wave,
  wave w starting `first_wave_day + (w - first) × wave_interval_days`, spread uniformly over
  `wave_spread_days`; each replica is a VM, placed best-fit with anti-affinity (replicas of
  one system never share a node);
- every `growth_step_days` each VM's request grows by the yearly rate (resized in place,
  moved if its node is full, or left as it was — a placement failure);
- node failures are a Poisson process per zone with exponential repairs; a failed node's
  VMs are re-placed elsewhere or wait (pending) for capacity;
- a per-zone collector samples what is in use: each system's hour-of-week load profile
  (from the city's utilisation history, else a business-hours default) × its request.

`run(model, settings, seed, wave=None) -> dict` is plain data; `govctl plan` reads
`zones[z].peak_utilisation` and `placement_failures` from it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from model.city import CityModel
from model.history import GIB, load_history
from model.schema import System, SystemState
from simulate.engine import CountingEnvironment, NodePool
from simulate.settings import CapacitySettings

SCHEMA_VERSION = 1
WEEK_H = 168
EPOCH_MONDAY_H = (
    96  # 1970-01-01 was a Thursday: hour-of-week of the epoch, counted from Monday 00:00
)


def _default_profile() -> tuple[np.ndarray, np.ndarray]:
    """Business-hours shape for systems without history: fraction of the request in use."""
    cpu = np.empty(WEEK_H)
    for h in range(WEEK_H):
        day, hour = divmod(h, 24)
        if day >= 5:
            cpu[h] = 0.35 if 9 <= hour < 18 else 0.25
        else:
            cpu[h] = 1.0 if 9 <= hour < 18 else (0.55 if 7 <= hour < 22 else 0.3)
    return cpu * 0.45, np.full(WEEK_H, 0.6)


@lru_cache(maxsize=4)
def _history(path: str, mtime: float) -> dict:
    return load_history(Path(path))


def profiles(model: CityModel) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Hour-of-week (CPU, memory) use as a fraction of each system's request, from history."""
    path = model.history_path
    if not path.exists():
        return {}
    out = {}
    for sid, series in _history(str(path), path.stat().st_mtime).items():
        s = model.systems_by_id.get(sid)
        if s is None or len(series.t) == 0:
            continue
        bins = ((series.t // 3600).astype(np.int64) + EPOCH_MONDAY_H) % WEEK_H
        count = np.bincount(bins, minlength=WEEK_H)
        if (count == 0).any():
            continue
        cpu = np.bincount(bins, series.cpu, WEEK_H) / count / (s.vcpu * s.replicas)
        mem = np.bincount(bins, series.memory, WEEK_H) / count / (s.memory_gib * s.replicas * GIB)
        out[sid] = (cpu, mem)
    return out


def arrivals(
    model: CityModel, settings: CapacitySettings, rng: random.Random, wave: int | None
) -> list[tuple[float, System]]:
    """(hour, system) for every system on the cloud by the end: now, or by its wave."""
    waves = [s.wave for s in model.systems if s.state == SystemState.legacy and s.wave is not None]
    last = wave if wave is not None else (max(waves) if waves else None)
    first = min(waves) if waves else 0
    out = []
    for s in model.on_cloud_systems(last):
        if s.target_zone is None or s.target_zone not in model.zones:
            continue
        if s.state == SystemState.legacy:
            day = (
                settings.first_wave_day
                + (s.wave - first) * settings.wave_interval_days
                + rng.uniform(0, settings.wave_spread_days)
            )
            out.append((day * 24, s))
        else:
            out.append((0.0, s))
    out.sort(key=lambda p: (p[0], p[1].id))
    return out


class ZoneSim:
    """One zone: its node pool, the VMs it holds or owes, and its collector."""

    def __init__(self, zone, settings: CapacitySettings):
        self.zone = zone
        self.pool = NodePool(zone.nodes, zone.node_vcpu * zone.cpu_overcommit, zone.node_memory_gib)
        self.use = np.zeros((2, WEEK_H))  # placed VMs: cores and GiB in use, by hour of week
        self.want_use = np.zeros((2, WEEK_H))  # every arrived VM, placed or not
        self.req = [0.0, 0.0]  # placed requests: vCPU, GiB
        self.want_req = [0.0, 0.0]
        self.want: dict[tuple, list[float]] = {}  # vm -> wanted [cpu, mem]
        self.prof: dict[tuple, np.ndarray] = {}  # vm -> (2, 168) use fractions
        self.siblings: dict[tuple, list[tuple]] = {}
        self.pending: set[tuple] = set()
        self.failures = {"arrival": 0, "evacuation": 0, "growth": 0}
        self.first_failure_h: float | None = None  # first arrival or growth that did not fit
        self.max_down = 0
        self.samples: list[tuple] = []
        self._lists: tuple | None = None
        self.step = settings.sample_every_h

    def _account(self, vm: tuple, cpu: float, mem: float, sign: float) -> None:
        prof = self.prof[vm]
        self.use[0] += prof[0] * (cpu * sign)
        self.use[1] += prof[1] * (mem * sign)
        self.req[0] += sign * cpu
        self.req[1] += sign * mem
        self._lists = None

    def _want(self, vm: tuple, d_cpu: float, d_mem: float) -> None:
        prof = self.prof[vm]
        self.want_use[0] += prof[0] * d_cpu
        self.want_use[1] += prof[1] * d_mem
        self.want_req[0] += d_cpu
        self.want_req[1] += d_mem
        self._lists = None

    def _fail(self, kind: str, now: float) -> None:
        self.failures[kind] += 1
        if self.first_failure_h is None and kind != "evacuation":
            self.first_failure_h = now

    def _avoid(self, vm: tuple) -> set[int]:
        where = self.pool.where
        return {where[s] for s in self.siblings[vm] if s != vm and s in where}

    def _try_place(self, vm: tuple) -> bool:
        cpu, mem = self.want[vm]
        if self.pool.place(vm, cpu, mem, self._avoid(vm)) is None:
            return False
        self._account(vm, cpu, mem, 1.0)
        return True

    def arrive(
        self, vms: list[tuple], cpu: float, mem: float, prof: np.ndarray, now: float
    ) -> None:
        for vm in vms:
            self.want[vm] = [cpu, mem]
            self.prof[vm] = prof
            self.siblings[vm] = vms
            self._want(vm, cpu, mem)
            if not self._try_place(vm):
                self.pending.add(vm)
                self._lists = None
                self._fail("arrival", now)

    def node_down(self, node: int, now: float) -> None:
        for vm, cpu, mem in self.pool.fail(node):
            self._account(vm, cpu, mem, -1.0)
            if not self._try_place(vm):
                self.pending.add(vm)
                self._fail("evacuation", now)
        self.max_down = max(self.max_down, self.pool.nodes - self.pool.nodes_up)
        self._lists = None

    def node_up(self, node: int) -> None:
        self.pool.repair(node)
        self._lists = None
        self.retry()

    def retry(self) -> None:
        for vm in sorted(self.pending):
            if self._try_place(vm):
                self.pending.discard(vm)
                self._lists = None

    def grow(self, factor: float, now: float) -> None:
        """Every VM wants `factor` times more. The sums scale at once; a node that can hold
        all its VMs grown is updated in one step; the others move VMs one by one (best fit)
        or leave them as they were (a growth failure) — the sums are corrected for those."""
        pool = self.pool
        self.use *= factor
        self.want_use *= factor
        self.req = [r * factor for r in self.req]
        self.want_req = [r * factor for r in self.want_req]
        self._lists = None
        for want in self.want.values():
            want[0] *= factor
            want[1] *= factor
        done = set()
        for node in range(pool.nodes):
            old = {vm: size for vm, size in pool.vms[node].items() if vm not in done}
            if not old:
                continue
            done.update(old)
            if pool.resize_all(node, {vm: tuple(self.want[vm]) for vm in old}):
                moved = [(vm, True) for vm in old]
            else:
                moved = [
                    (vm, pool.resize(vm, *self.want[vm], self._avoid(vm)) is not None) for vm in old
                ]
            for vm, ok in moved:
                (cpu, mem), (want_cpu, want_mem) = old[vm], self.want[vm]
                if not ok:
                    self._fail("growth", now)
                    self._account(
                        vm, cpu * (factor - 1), mem * (factor - 1), -1.0
                    )  # it kept its old size
                elif abs(want_cpu - cpu * factor) > 1e-9 or abs(want_mem - mem * factor) > 1e-9:
                    self._account(
                        vm, want_cpu - cpu * factor, want_mem - mem * factor, 1.0
                    )  # caught up on an old failure
        self.retry()

    def state(self) -> tuple:
        """The zone's state as the collector keeps it; rebuilt only after a change.

        The state changes rarely (arrivals, growth, failures) and is sampled hourly, so a
        sample is a reference to the current state; `_report` reads the hour out of it."""
        if self._lists is None:
            self._lists = (
                *self.use.tolist(),
                self.req[0],
                self.req[1],
                self.pool.nodes_up,
                *self.want_use.tolist(),
                self.want_req[0],
                self.want_req[1],
                len(self.pending),
            )
        return self._lists

    def table(self) -> np.ndarray:
        """Samples as rows (t, cpu, mem, req cpu, req mem, nodes up, want cpu, want mem, want req cpu, want req mem, pending)."""
        rows = []
        for k, st in enumerate(self.samples):
            t = k * self.step
            h = int(t) % WEEK_H
            rows.append(
                (
                    t,
                    st[0][h],
                    st[1][h],
                    st[2],
                    st[3],
                    st[4],
                    st[5][h],
                    st[6][h],
                    st[7],
                    st[8],
                    st[9],
                )
            )
        return np.array(rows, dtype=float)


def _report(z: ZoneSim, settings: CapacitySettings) -> dict:
    zone = z.zone
    a = z.table()
    t, cpu, mem, req_cpu, req_mem, up = a[:, 0], a[:, 1], a[:, 2], a[:, 3], a[:, 4], a[:, 5]
    up_safe = np.maximum(up, 1e-9)
    util_cpu = cpu / (up_safe * zone.node_vcpu)
    util_mem = mem / (up_safe * zone.node_memory_gib)
    util = np.maximum(util_cpu, util_mem)
    alloc_cpu = req_cpu / (up_safe * zone.node_vcpu * zone.cpu_overcommit)
    alloc_mem = req_mem / (up_safe * zone.node_memory_gib)
    target = settings.target_utilisation
    need = np.maximum.reduce(
        [
            a[:, 6] / (target * zone.node_vcpu),
            a[:, 7] / (target * zone.node_memory_gib),
            a[:, 8] / (zone.node_vcpu * zone.cpu_overcommit),
            a[:, 9] / zone.node_memory_gib,
        ]
    )
    max_replicas = max((len(v) for v in z.siblings.values()), default=1)
    nodes_needed = max(int(math.ceil(float(need.max()) - 1e-9)), max_replicas) + z.max_down
    over = np.nonzero(util > target)[0]
    days = int(math.ceil(t[-1] / 24 + 1e-9)) if len(t) else 0
    day_idx = (t // 24).astype(int)
    daily_peak = np.zeros(days)
    np.maximum.at(daily_peak, day_idx, util)
    return {
        "kind": zone.kind.value,
        "nodes": zone.nodes,
        "vms": len(z.want),
        "peak_utilisation": round(float(util.max()), 6),
        "p95_utilisation": round(float(np.percentile(util, 95)), 6),
        "peak_cpu_utilisation": round(float(util_cpu.max()), 6),
        "peak_memory_utilisation": round(float(util_mem.max()), 6),
        "peak_cpu_allocation": round(float(alloc_cpu.max()), 6),
        "peak_memory_allocation": round(float(alloc_mem.max()), 6),
        "first_over_target_day": round(float(t[over[0]]) / 24, 3) if len(over) else None,
        "exhaustion_day": round(z.first_failure_h / 24, 3)
        if z.first_failure_h is not None
        else None,
        "placement_failures": dict(z.failures, total=sum(z.failures.values())),
        "pending_at_end": len(z.pending),
        "max_nodes_down": z.max_down,
        "nodes_needed": nodes_needed,
        "extra_nodes_needed": max(0, nodes_needed - zone.nodes),
        "daily_peak_utilisation": [round(float(x), 4) for x in daily_peak],
    }


def run(
    model: CityModel,
    settings: CapacitySettings | None = None,
    seed: int = 1,
    wave: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> dict:
    """Simulate the zones over `settings.years`; return the per-zone report as plain data.

    `wave=N` brings only waves up to N (the systems `model.on_cloud_systems(N)`);
    None brings every planned wave.
    """
    settings = settings or CapacitySettings()
    env, zones, plan, arrived = simulate(model, settings, seed, wave, progress)
    reports = {name: _report(z, settings) for name, z in zones.items()}
    target = settings.target_utilisation
    return {
        "schema_version": SCHEMA_VERSION,
        "simulation": "capacity",
        "city": model.city.name,
        "seed": seed,
        "wave": wave,
        "settings": settings.model_dump(),
        "horizon_days": round(settings.years * 365, 3),
        "events": env.scheduled,
        "systems": {
            "planned": len(plan),
            "arrived": arrived,
            "beyond_horizon": len(plan) - arrived,
        },
        "zones": reports,
        "zones_over_target": sorted(
            n for n, r in reports.items() if r["peak_utilisation"] > target
        ),
        "zones_with_placement_failures": sorted(
            n for n, r in reports.items() if r["placement_failures"]["total"]
        ),
    }


def simulate(
    model: CityModel,
    settings: CapacitySettings,
    seed: int,
    wave: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> tuple[CountingEnvironment, dict[str, ZoneSim], list, int]:
    """Run the model; return (env, zones, arrival plan, systems arrived) for reports and tests."""
    rng = random.Random(seed)
    env = CountingEnvironment()
    horizon = settings.years * 8760.0  # 365-day years
    zones = {name: ZoneSim(zone, settings) for name, zone in model.zones.items()}
    profs = profiles(model)
    default = np.vstack(_default_profile())
    plan = arrivals(model, settings, rng, wave)
    arrived = [0]

    def arrival_process():
        for hour, s in plan:
            if hour >= horizon:
                return
            if hour > env.now:
                yield env.timeout(hour - env.now)
            prof = np.vstack(profs[s.id]) if s.id in profs else default
            vms = [(s.id, r) for r in range(s.replicas)]
            zones[s.target_zone].arrive(vms, s.vcpu, s.memory_gib, prof, env.now)
            arrived[0] += 1

    def growth_process(z: ZoneSim):
        step = settings.growth_step_days * 24
        factor = (1 + settings.growth_per_year) ** (settings.growth_step_days / 365)
        while True:
            yield env.timeout(step)
            z.grow(factor, env.now)

    def failure_process(z: ZoneSim, frng: random.Random):
        rate = z.zone.nodes / (settings.node_mtbf_days * 24)
        while True:
            yield env.timeout(frng.expovariate(rate))
            up = [i for i, ok in enumerate(z.pool.up) if ok]
            if not up:
                continue
            node = frng.choice(up)
            z.node_down(node, env.now)
            env.timeout(frng.expovariate(1 / settings.repair_mean_h)).callbacks.append(
                lambda _e, n=node, zz=z: zz.node_up(n)
            )

    def sampler(z: ZoneSim):
        step = settings.sample_every_h
        append, state, timeout = z.samples.append, z.state, env.timeout
        while True:  # sample k is taken at k × step
            append(z._lists or state())
            yield timeout(step)

    env.process(arrival_process())
    for i, z in enumerate(zones.values()):
        env.process(growth_process(z))
        env.process(failure_process(z, random.Random(rng.randrange(2**63) + i)))
    # samplers start after the arrivals of t=0 are placed
    env.run(until=1e-9)
    for z in zones.values():
        env.process(sampler(z))
    chunks = 50
    for k in range(1, chunks + 1):
        env.run(until=horizon * k / chunks)
        if progress:
            progress(k / chunks)

    return env, zones, plan, arrived[0]
