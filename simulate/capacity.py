"""Capacity model: will each cloud zone hold the systems the migration waves bring?

Processes over resources, in hours of simulated time (t=0 is the model's date, taken as a
Monday 00:00 local time; the model's sizes are those of that day):
- each zone is a `NodePool` (node vCPU × the zone's overcommit, node memory);
- systems already on the cloud are placed at t=0; legacy systems arrive with their wave,
  wave w starting `first_wave_day + (w - first) × wave_interval_days`, spread uniformly over
  `wave_spread_days`, **at the size they have grown to by then**; each replica is a VM,
  placed best-fit with anti-affinity (replicas of one system never share a node);
- every `growth_step_days` each VM's request grows by the yearly rate (resized in place,
  moved if its node is full, or left as it was — a placement failure);
- each zone's storage (`storage_gib`, shared by its nodes) holds every arrived system's
  `storage_gib`, grown like its other resources; the zone's storage demand is recorded at
  each arrival and growth step against that capacity;
- every node fails and is repaired on its own (exponential up times of mean
  `node_mtbf_days`, repairs of mean `repair_mean_h`), so the zone's failure rate is the
  number of nodes still up over the MTBF; a failed node's VMs are re-placed elsewhere or
  wait (pending) for capacity;
- the collector records each change of what is placed or wanted, per load row
  (`simulate.load`), and the hourly samples are computed from that record afterwards
  (a sample is not a SimPy event): use at hour t = Σ request × the fraction in use the
  block bootstrap drew for that hour.

`nodes_needed` comes from a packing, not a division: the smallest number of nodes onto
which the same best-fit policy with anti-affinity places every VM at its largest size, and
whose capacity keeps the simulated peak use under the target, plus `spare_failures` nodes
so the target holds through that many concurrent failures. The packing part does not depend
on the seed; the load part follows the bootstrapped peak (a distribution across
replications).

`run(model, settings, seed, wave=None) -> dict` is plain data; `govctl plan` reads
`zones[z].peak_utilisation` and `placement_failures` from it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Hashable
from functools import lru_cache
from typing import Any

import numpy as np

from model.city import CityModel
from model.schema import System, SystemState, Zone
from simulate import load as load_lib
from simulate import replicate, waves
from simulate.engine import CountingEnvironment, NodePool
from simulate.settings import CapacitySettings

SCHEMA_VERSION = 2


def arrivals(
    model: CityModel, settings: CapacitySettings, rng: random.Random, wave: int | None
) -> list[tuple[float, System]]:
    """(hour, system) for every system on the cloud after `wave`: now, or on its wave."""
    pending = model.pending_waves
    first = pending[0] if pending else 0
    out = []
    for s in waves.systems(model, wave):
        if s.target_zone is None or s.target_zone not in model.zones:
            continue
        if s.state == SystemState.legacy:
            day = (
                settings.first_wave_day
                + ((s.wave or first) - first) * settings.wave_interval_days
                + rng.uniform(0, settings.wave_spread_days)
            )
            out.append((day * 24, s))
        else:
            out.append((0.0, s))
    out.sort(key=lambda p: (p[0], p[1].id))
    return out


def growth_factor(settings: CapacitySettings, hour: float) -> float:
    """How much a request measured at t=0 has grown by `hour` (growth comes in steps)."""
    steps = math.floor(hour / (settings.growth_step_days * 24) + 1e-9)
    return (1 + settings.growth_per_year) ** (steps * settings.growth_step_days / 365)


class ZoneSim:
    """One zone: its node pool, the VMs it holds or owes, and the record of changes."""

    def __init__(self, zone: Zone, env: CountingEnvironment):
        self.zone = zone
        self.env = env
        self.pool = NodePool(zone.nodes, zone.node_vcpu * zone.cpu_overcommit, zone.node_memory_gib)
        self.want: dict[Any, list[float]] = {}  # vm -> wanted [cpu, mem]
        self.row: dict[Any, int] = {}  # vm -> its load row
        self.siblings: dict[Any, list[Any]] = {}
        self.base: dict[Any, tuple[float, float]] = {}  # vm -> size at t=0 (for packing)
        self.pending: set[Any] = set()
        self.failures = {"arrival": 0, "evacuation": 0, "growth": 0}
        self.first_failure_h: float | None = None  # first arrival or growth that did not fit
        self.max_down = 0
        self.growth = 1.0  # factor applied so far
        # the record: (t, row, d placed cpu, d placed mem, d wanted cpu, d wanted mem), or
        # (t, -1, factor, 0, 0, 0) for "everything scales"; and (t, nodes up, pending)
        self.changes: list[tuple] = []
        self.states: list[tuple[float, int, int]] = [(0.0, zone.nodes, 0)]
        self.storage: list[tuple[float, float]] = [(0.0, 0.0)]  # (t, storage wanted GiB)

    def _log(self, vm: Hashable, pc: float, pm: float, wc: float, wm: float) -> None:
        self.changes.append((self.env.now, self.row[vm], pc, pm, wc, wm))

    def _state(self) -> None:
        entry = (self.env.now, self.pool.nodes_up, len(self.pending))
        if self.states[-1][1:] != entry[1:]:
            self.states.append(entry)

    def _store(self, wanted: float) -> None:
        if self.storage[-1][0] == self.env.now:
            self.storage[-1] = (self.env.now, wanted)
        else:
            self.storage.append((self.env.now, wanted))

    def _fail(self, kind: str) -> None:
        self.failures[kind] += 1
        if self.first_failure_h is None and kind != "evacuation":
            self.first_failure_h = self.env.now

    def _avoid(self, vm: Hashable) -> set[int]:
        where = self.pool.where
        return {where[s] for s in self.siblings[vm] if s != vm and s in where}

    def _try_place(self, vm: Hashable) -> bool:
        cpu, mem = self.want[vm]
        if self.pool.place(vm, cpu, mem, self._avoid(vm)) is None:
            return False
        self._log(vm, cpu, mem, 0.0, 0.0)
        return True

    def arrive(
        self, vms: list[tuple], cpu: float, mem: float, row: int, storage: float = 0.0
    ) -> None:
        """VMs of one system, measured at t=0 as (cpu, mem), and its storage (GiB, once for
        the system, on the zone's shared storage): they arrive grown."""
        self._store(self.storage[-1][1] + storage * self.growth)
        for vm in vms:
            self.base[vm] = (cpu, mem)
            self.want[vm] = [cpu * self.growth, mem * self.growth]
            self.row[vm] = row
            self.siblings[vm] = vms
            self._log(vm, 0.0, 0.0, *self.want[vm])
            if not self._try_place(vm):
                self.pending.add(vm)
                self._fail("arrival")
        self._state()

    def node_down(self, node: int) -> None:
        for vm, cpu, mem in self.pool.fail(node):
            self._log(vm, -cpu, -mem, 0.0, 0.0)
            if not self._try_place(vm):
                self.pending.add(vm)
                self._fail("evacuation")
        self.max_down = max(self.max_down, self.pool.nodes - self.pool.nodes_up)
        self._state()

    def node_up(self, node: int) -> None:
        self.pool.repair(node)
        self.retry()

    def retry(self) -> None:
        for vm in sorted(self.pending):
            if self._try_place(vm):
                self.pending.discard(vm)
        self._state()

    def grow(self, factor: float) -> None:
        """Every VM wants `factor` times more. The record scales at once; a node that can
        hold all its VMs grown is updated in one step; the others move VMs one by one (best
        fit) or leave them as they were (a growth failure) — the record is corrected."""
        pool = self.pool
        self.growth *= factor
        self.changes.append((self.env.now, -1, factor, 0.0, 0.0, 0.0))
        self._store(self.storage[-1][1] * factor)
        for want in self.want.values():
            want[0] *= factor
            want[1] *= factor
        done: set[Any] = set()
        for node in range(pool.nodes):
            old: dict[Any, tuple[float, float]] = {
                vm: size for vm, size in pool.vms[node].items() if vm not in done
            }
            if not old:
                continue
            done.update(old)
            sizes = {vm: (self.want[vm][0], self.want[vm][1]) for vm in old}
            left = [] if pool.resize_all(node, sizes) else pool.resize_some(node, sizes)
            failed = {vm for vm in left if pool.resize(vm, *sizes[vm], self._avoid(vm)) is None}
            for vm in old:
                ok = vm not in failed
                (cpu, mem), (want_cpu, want_mem) = old[vm], self.want[vm]
                if not ok:
                    self._fail("growth")
                    self._log(vm, -cpu * (factor - 1), -mem * (factor - 1), 0.0, 0.0)
                elif abs(want_cpu - cpu * factor) > 1e-9 or abs(want_mem - mem * factor) > 1e-9:
                    # caught up on an old growth failure
                    self._log(vm, want_cpu - cpu * factor, want_mem - mem * factor, 0.0, 0.0)
        self.retry()

    def table(self, frac: np.ndarray, cols: np.ndarray, step: float) -> dict[str, np.ndarray]:
        """Hourly samples from the record: sample k at k × step sees every change at t ≤ k × step.

        `frac` (rows, 2, history hours) and `cols` (history column of each sample) come
        from the load bootstrap. Between two changes the requests are constant, so the
        use over that stretch is one matrix product."""
        n = len(cols)
        used = sorted(set(self.row.values()) | {0})  # only this zone's load rows
        local = {r: k for k, r in enumerate(used)}
        frac = frac[used]
        state = np.zeros((4, len(used)))  # placed cpu, placed mem, wanted cpu, wanted mem
        out = {
            k: np.zeros(n)
            for k in ("cpu", "mem", "req_cpu", "req_mem", "want_cpu", "want_mem")
            + ("want_req_cpu", "want_req_mem")
        }
        changes = self.changes
        i, k = 0, 0
        while k < n:
            t_k = k * step
            while i < len(changes) and changes[i][0] <= t_k + 1e-9:
                t, row, a, b, c, d = changes[i]
                if row < 0:
                    state *= a
                else:
                    r = local[row]
                    state[0, r] += a
                    state[1, r] += b
                    state[2, r] += c
                    state[3, r] += d
                i += 1
            nxt = changes[i][0] if i < len(changes) else math.inf
            end = n if nxt == math.inf else min(n, int(math.floor(nxt / step - 1e-9)) + 1)
            end = max(end, k + 1)
            sl = slice(k, end)
            if end - k > frac.shape[2]:  # a long stretch: use per history hour, then look up
                by_hour = np.stack(
                    [state[0] @ frac[:, 0], state[1] @ frac[:, 1], state[2] @ frac[:, 0]]
                    + [state[3] @ frac[:, 1]]
                )
                use = by_hour[:, cols[sl]]
            else:
                fc, fm = frac[:, 0, cols[sl]], frac[:, 1, cols[sl]]
                use = np.stack([state[0] @ fc, state[1] @ fm, state[2] @ fc, state[3] @ fm])
            out["cpu"][sl], out["mem"][sl], out["want_cpu"][sl], out["want_mem"][sl] = use
            out["req_cpu"][sl] = state[0].sum()
            out["req_mem"][sl] = state[1].sum()
            out["want_req_cpu"][sl] = state[2].sum()
            out["want_req_mem"][sl] = state[3].sum()
            k = end
        times = np.arange(n, dtype=float) * step
        st = np.array(self.states)
        idx = np.searchsorted(st[:, 0], times + 1e-9, side="right") - 1
        out["up"] = st[idx, 1]
        out["pending"] = st[idx, 2]
        out["t"] = times
        return out


def pack_nodes(
    vms: list[tuple[tuple, float, float]], node_cpu: float, node_mem: float, at_least: int = 1
) -> int | None:
    """The fewest nodes of (node_cpu, node_mem) onto which best-fit with anti-affinity places
    every VM, in the given order; VMs are (system, cpu, mem). None when a VM is larger than
    a node."""
    if any(c > node_cpu + 1e-9 or m > node_mem + 1e-9 for _, c, m in vms):
        return None
    need_cpu = sum(c for _, c, _ in vms) / node_cpu
    need_mem = sum(m for _, _, m in vms) / node_mem
    n = max(at_least, math.ceil(max(need_cpu, need_mem) - 1e-9), 1)
    while True:
        pool = NodePool(n, node_cpu, node_mem)
        homes: dict = {}
        for k, (system, cpu, mem) in enumerate(vms):
            node = pool.place(k, cpu, mem, homes.get(system, ()))
            if node is None:
                break
            homes.setdefault(system, set()).add(node)
        else:
            return n
        n += 1


def _packing_need(z: ZoneSim, settings: CapacitySettings, order: dict[str, int]) -> int | None:
    """Nodes the zone's VMs need at their largest size over the horizon (seed-independent:
    packed in wave order, then by system id)."""
    zone = z.zone
    top = max(1.0, growth_factor(settings, settings.years * 8760.0))
    vms = sorted(z.base, key=lambda vm: (order.get(vm[0], 0), vm))
    replicas = max((len(v) for v in z.siblings.values()), default=1)
    return _pack_cached(
        tuple((vm[0], z.base[vm][0] * top, z.base[vm][1] * top) for vm in vms),
        zone.node_vcpu * zone.cpu_overcommit,
        zone.node_memory_gib,
        replicas,
    )


@lru_cache(maxsize=64)
def _pack_cached(vms: tuple, node_cpu: float, node_mem: float, at_least: int) -> int | None:
    """`pack_nodes` once per process for the same VMs: the packing does not depend on the
    seed, so the replications a worker runs after the first reuse it."""
    return pack_nodes(list(vms), node_cpu, node_mem, at_least)


def _storage(z: ZoneSim, settings: CapacitySettings) -> dict:
    """The zone's storage: its peak demand against its capacity (None: not declared) and
    the storage target, the first day over each, and the storage the target needs."""
    cap = z.zone.storage_gib
    horizon = settings.years * 8760.0
    record = [(t, g) for t, g in z.storage if t < horizon] or [(0.0, 0.0)]
    peak = max(g for _, g in record)
    target = settings.target_storage_utilisation

    def first_over(limit: float | None) -> float | None:
        hit = next((t for t, g in record if limit is not None and g > limit + 1e-9), None)
        return None if hit is None else round(hit / 24, 3)

    return {
        "storage_gib": cap,
        "peak_storage_gib": round(peak, 3),
        "peak_storage_allocation": None if cap is None else round(peak / cap, 6),
        "storage_over_target_day": first_over(None if cap is None else cap * target),
        "storage_full_day": first_over(cap),
        "storage_needed_gib": round(peak / target, 3),
    }


def _report(z: ZoneSim, a: dict, settings: CapacitySettings, order: dict[str, int]) -> dict:
    zone = z.zone
    t, up = a["t"], a["up"]
    up_safe = np.maximum(up, 1e-9)
    util_cpu = a["cpu"] / (up_safe * zone.node_vcpu)
    util_mem = a["mem"] / (up_safe * zone.node_memory_gib)
    util = np.maximum(util_cpu, util_mem)
    alloc_cpu = a["req_cpu"] / (up_safe * zone.node_vcpu * zone.cpu_overcommit)
    alloc_mem = a["req_mem"] / (up_safe * zone.node_memory_gib)
    target = settings.target_utilisation
    by_load = int(
        math.ceil(
            max(
                float(a["want_cpu"].max()) / (target * zone.node_vcpu),
                float(a["want_mem"].max()) / (target * zone.node_memory_gib),
            )
            - 1e-9
        )
    )
    by_packing = _packing_need(z, settings, order)
    spares = settings.spare_failures
    nodes_needed = None if by_packing is None else max(by_packing, by_load) + spares
    over = np.nonzero(util > target)[0]
    storage = _storage(z, settings)
    days = int(math.ceil(t[-1] / 24 + 1e-9)) if len(t) else 0
    daily_peak = np.zeros(days)
    np.maximum.at(daily_peak, (t // 24).astype(int), util)
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
        "nodes_needed_packing": by_packing,
        "nodes_needed_load": by_load,
        "spare_nodes": spares,
        "extra_nodes_needed": None if nodes_needed is None else max(0, nodes_needed - zone.nodes),
        **storage,
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

    `wave=N` is the cloud after wave N (`simulate.waves`); None brings every planned wave.
    """
    settings = settings or CapacitySettings()
    sim = simulate(model, settings, seed, wave, progress)
    order = {s.id: (s.wave or 0) if s.state == SystemState.legacy else -1 for _, s in sim.plan}
    reports = {
        name: _report(z, z.table(sim.load.frac, sim.cols, settings.sample_every_h), settings, order)
        for name, z in sim.zones.items()
    }
    target = settings.target_utilisation
    return {
        "schema_version": SCHEMA_VERSION,
        "simulation": "capacity",
        "city": model.city.name,
        "seed": seed,
        "wave": wave,
        "settings": settings.model_dump(),
        "horizon_days": round(settings.years * 365, 3),
        "events": sim.env.scheduled,
        "samples": len(sim.cols) * len(sim.zones),
        "history_days": sim.load.days,
        "systems": {
            "planned": len(sim.plan),
            "arrived": sim.arrived,
            "beyond_horizon": len(sim.plan) - sim.arrived,
        },
        "zones": reports,
        "zones_over_target": sorted(
            n for n, r in reports.items() if r["peak_utilisation"] > target
        ),
        "zones_with_placement_failures": sorted(
            n for n, r in reports.items() if r["placement_failures"]["total"]
        ),
        "zones_over_storage_target": sorted(
            n
            for n, r in reports.items()
            if r["peak_storage_allocation"] is not None
            and r["peak_storage_allocation"] > settings.target_storage_utilisation
        ),
    }


class Simulation:
    """What one run leaves for reports and tests."""

    def __init__(self, env, zones, plan, arrived, load, cols):
        self.env: CountingEnvironment = env
        self.zones: dict[str, ZoneSim] = zones
        self.plan: list[tuple[float, System]] = plan
        self.arrived: int = arrived
        self.load: load_lib.LoadTable = load
        self.cols: np.ndarray = cols


def simulate(
    model: CityModel,
    settings: CapacitySettings,
    seed: int,
    wave: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> Simulation:
    """Run the model's processes; the samples are left to `ZoneSim.table`."""
    rng = random.Random(seed)
    env = CountingEnvironment()
    horizon = settings.years * 8760.0  # 365-day years
    zones = {name: ZoneSim(zone, env) for name, zone in model.zones.items()}
    load = load_lib.table(model, settings.history_timezone)
    plan = arrivals(model, settings, rng, wave)
    arrived = [0]

    def arrival_process():
        for hour, s in plan:
            if hour >= horizon:
                return
            if hour > env.now:
                yield env.timeout(hour - env.now)
            vms = [(s.id, r) for r in range(s.replicas)]
            zone = zones[str(s.target_zone)]
            zone.arrive(vms, s.vcpu, s.memory_gib, load.row(s.id), s.storage_gib)
            arrived[0] += 1

    def growth_process(z: ZoneSim):
        step = settings.growth_step_days * 24
        factor = (1 + settings.growth_per_year) ** (settings.growth_step_days / 365)
        while True:
            yield env.timeout(step)
            z.grow(factor)

    def node_process(z: ZoneSim, node: int, nrng: random.Random):
        up_mean, repair_mean = settings.node_mtbf_days * 24, settings.repair_mean_h
        while True:
            yield env.timeout(nrng.expovariate(1 / up_mean))
            z.node_down(node)
            yield env.timeout(nrng.expovariate(1 / repair_mean))
            z.node_up(node)

    env.process(arrival_process())
    for i, z in enumerate(zones.values()):
        env.process(growth_process(z))
        frng = random.Random(rng.randrange(2**63) + i)
        for node in range(z.pool.nodes):
            env.process(node_process(z, node, random.Random(frng.randrange(2**63))))
    chunks = 50
    for k in range(1, chunks + 1):
        env.run(until=horizon * k / chunks)
        if progress:
            progress(k / chunks)
    n_samples = int(math.floor(horizon / settings.sample_every_h - 1e-9)) + 1
    hours = np.arange(n_samples) * settings.sample_every_h
    n_days = int(hours[-1] // 24) + 1
    src = load_lib.bootstrap_days(
        load, n_days, settings.bootstrap_block_days, np.random.default_rng(rng.randrange(2**63))
    )
    return Simulation(env, zones, plan, arrived[0], load, load_lib.columns(src, hours))


def replication(args: tuple, seed: int) -> dict:
    """One replication for `simulate.replicate.run`: args are (model, settings, wave)."""
    model, settings, wave = args
    return run(model, settings, seed, wave)


def distribution(datas: list[dict]) -> dict:
    """Per zone, across replications: the peak, the p95 and nodes needed (mean, interval,
    spread), the probability the peak is over the target, and every replication's peak."""
    target = datas[0]["settings"]["target_utilisation"]
    out = {}
    for name in datas[0]["zones"]:
        zs = [d["zones"][name] for d in datas]
        needed = [z["nodes_needed"] for z in zs if z["nodes_needed"] is not None]
        peaks = [z["peak_utilisation"] for z in zs]
        out[name] = {
            "peak_utilisation": replicate.describe(peaks),
            "p95_utilisation": replicate.describe([z["p95_utilisation"] for z in zs]),
            "nodes_needed": replicate.describe(needed) if needed else None,
            "peak_storage_gib": replicate.describe([z["peak_storage_gib"] for z in zs]),
            "p_over_target": replicate.proportion(sum(p > target for p in peaks), len(peaks)),
            "peaks": peaks,
        }
    return {"replications": len(datas), "seeds": [d["seed"] for d in datas], "zones": out}
