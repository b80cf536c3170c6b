"""Capacity model: invariants on the sample city, and hand-checkable cities whose answers
are computed here by arithmetic (packing, growth on arrival, the failure rate)."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.schema import SystemState
from simulate import capacity
from simulate.engine import NodePool
from simulate.settings import CapacitySettings
from tests.simulate.cities import system, with_, zone

CALM = {"node_mtbf_days": 1e9, "growth_per_year": 0.0}

# one wave arriving on day 400 of a run just past it, 15% growth a year in 30-day steps,
# no node failures: the hand-computed growth and storage tests
ARRIVAL_ON_DAY_400 = CapacitySettings(
    years=401 / 365,
    first_wave_day=400,
    wave_spread_days=0,
    growth_per_year=0.15,
    growth_step_days=30,
    node_mtbf_days=1e9,
)


def test_capacity_run_is_deterministic_by_seed(city):
    cfg = CapacitySettings(years=0.5, node_mtbf_days=30)
    a = capacity.run(city, cfg, seed=3)
    assert a == capacity.run(city, cfg, seed=3)
    assert a != capacity.run(city, cfg, seed=4)
    assert a["schema_version"] == 2 and set(a["zones"]) == set(city.zones)


def test_capacity_never_places_beyond_capacity_and_accounts_for_every_vm(city):
    small = [z.model_copy(update={"nodes": 3}) for z in city.city.zones]
    m = with_(city, zones=small)
    cfg = CapacitySettings(years=1, node_mtbf_days=20, repair_mean_h=48, growth_per_year=0.5)
    sim = capacity.simulate(m, cfg, seed=1)
    total_failures = 0
    for z in sim.zones.values():
        z.pool.check()
        placed = set(z.pool.where)
        assert placed | z.pending == set(z.want) and not placed & z.pending
        # the record replayed to the end equals what the nodes gave away
        a = z.table(sim.load.frac, sim.cols, cfg.sample_every_h)
        used = sum(z.pool.cpu - z.pool.free_cpu[n] for n in range(z.pool.nodes))
        assert a["req_cpu"][-1] == pytest.approx(used, rel=1e-9, abs=1e-6)
        assert a["want_req_cpu"][-1] == pytest.approx(sum(w[0] for w in z.want.values()))
        assert (a["want_req_cpu"] >= a["req_cpu"] - 1e-6).all()
        total_failures += sum(z.failures.values())
    assert total_failures > 0, "3 nodes per zone must run out"
    report = capacity.run(m, cfg, seed=1)
    for r in report["zones"].values():
        assert r["peak_cpu_allocation"] <= 1 + 1e-9 and r["peak_memory_allocation"] <= 1 + 1e-9
        assert r["nodes_needed"] > 3 and r["extra_nodes_needed"] == r["nodes_needed"] - 3


def test_wave_option_brings_only_that_many_waves(city):
    cfg = CapacitySettings(years=3, node_mtbf_days=1e6)
    first = city.next_wave
    one = capacity.run(city, cfg, seed=1, wave=first)
    allw = capacity.run(city, cfg, seed=1)
    assert one["systems"]["planned"] == sum(
        1 for s in city.on_cloud_systems(first) if s.target_zone
    )
    assert one["systems"]["planned"] < allw["systems"]["planned"]
    assert (
        one["zones"]["shared"]["peak_cpu_allocation"]
        < allw["zones"]["shared"]["peak_cpu_allocation"]
    )


def test_a_packing_that_needs_one_node_per_vm(city):
    # five VMs of 40 vCPU on 64-vCPU nodes: 200/64 = 3.1 nodes by division, but no node
    # holds two of them, so five nodes; with four, one VM waits
    systems = [
        system(city, f"big-{i}", vcpu=40.0, memory_gib=8.0, target_zone="z") for i in range(5)
    ]
    m = with_(city, systems=systems, zones=[zone(nodes=4, vcpu=64, mem=512)])
    for spares in (0, 2):
        cfg = CapacitySettings(years=0.1, spare_failures=spares, **CALM)
        z = capacity.run(m, cfg, seed=1)["zones"]["z"]
        assert z["placement_failures"]["arrival"] == 1 and z["pending_at_end"] == 1
        assert z["nodes_needed_packing"] == 5 == math.ceil(5 / math.floor(64 / 40))
        assert z["nodes_needed"] == 5 + spares and z["extra_nodes_needed"] == 1 + spares


def test_packing_keeps_replicas_apart_and_does_not_move_with_the_seed(city):
    # one system of 3 replicas of 4 vCPU: one node holds them all by size, anti-affinity
    # needs three; plus one small system that fits beside
    systems = [
        system(city, "trio", vcpu=4.0, memory_gib=4.0, replicas=3, target_zone="z"),
        system(city, "solo", vcpu=4.0, memory_gib=4.0, target_zone="z"),
    ]
    m = with_(city, systems=systems, zones=[zone(nodes=6, vcpu=64, mem=512)])
    cfg = CapacitySettings(years=0.2, spare_failures=1, node_mtbf_days=5, repair_mean_h=200)
    runs = [capacity.run(m, cfg, seed=s)["zones"]["z"] for s in range(4)]
    assert {r["nodes_needed_packing"] for r in runs} == {3}
    assert {r["nodes_needed"] for r in runs} == {4}
    assert len({r["max_nodes_down"] for r in runs}) > 1  # the failures did vary


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.floats(1, 64), st.floats(1, 256)), min_size=1, max_size=30
    )
)
def test_pack_nodes_places_everything_on_the_nodes_it_returns(vms):
    vms = [(f"s{k}", c, m) for k, c, m in vms]
    n = capacity.pack_nodes(vms, 64.0, 256.0)
    assert n is not None and n >= math.ceil(sum(c for _, c, _ in vms) / 64 - 1e-9)
    pool, homes = NodePool(n, 64.0, 256.0), {}
    for k, (sid, c, m) in enumerate(vms):
        node = pool.place(k, c, m, homes.get(sid, ()))
        assert node is not None
        homes.setdefault(sid, set()).add(node)
    pool.check()
    assert capacity.pack_nodes([("x", 65.0, 1.0)], 64.0, 256.0) is None


def test_a_late_wave_arrives_at_its_grown_size(city):
    legacy = system(
        city,
        "late",
        vcpu=10.0,
        memory_gib=20.0,
        target_zone="z",
        state=SystemState.legacy,
        wave=1,
        location="MR-X-01",
    )
    now = system(city, "now", vcpu=10.0, memory_gib=20.0, target_zone="z")
    m = with_(city, systems=[now, legacy], zones=[zone(nodes=4)])
    cfg = ARRIVAL_ON_DAY_400
    sim = capacity.simulate(m, cfg, seed=1)
    z = sim.zones["z"]
    factor = 1.15 ** (13 * 30 / 365)  # 13 growth steps of 30 days before day 400
    assert z.want[("late", 0)] == pytest.approx([10 * factor, 20 * factor])
    assert z.want[("now", 0)] == pytest.approx([10 * factor, 20 * factor])
    arrival = [c for c in z.changes if c[0] == pytest.approx(400 * 24) and c[4] > 0]
    assert [c[4] for c in arrival] == pytest.approx([10 * factor])


def test_node_failures_come_from_the_nodes_still_up(city):
    # two nodes, MTBF 10 days, repairs of 10 days: each node is up half the time, so over
    # T days the zone sees about T × 2 × 0.5 / 10 failures (a fixed rate of 2/MTBF would
    # give T × 2 / 10 less the time both are down: about 1.5× as many)
    m = with_(city, systems=[system(city, "a", target_zone="z")], zones=[zone(nodes=2)])
    cfg = CapacitySettings(years=20, node_mtbf_days=10, repair_mean_h=240, growth_per_year=0)
    sim = capacity.simulate(m, cfg, seed=5)
    states = sim.zones["z"].states
    failures = sum(1 for a, b in itertools.pairwise(states) if b[1] < a[1])
    expected = 20 * 365 * 2 * 0.5 / 10
    assert abs(failures - expected) < 4 * math.sqrt(expected)


def test_peaks_vary_across_seeds(city):
    cfg = CapacitySettings(years=0.5, **CALM)
    runs = [capacity.run(city, cfg, seed=s)["zones"]["shared"] for s in (1, 2, 3)]
    assert len({r["peak_utilisation"] for r in runs}) > 1
    assert len({r["nodes_needed_packing"] for r in runs}) == 1


def test_zone_storage_counts_every_arrival_and_grows_past_its_target(city):
    # two systems of 400 GiB now, one of 300 GiB arriving on day 400, on 1000 GiB of storage:
    # 800 GiB grows 15%/year in 30-day steps and passes 85% (850 GiB) once
    # 1.15^(30k/365) > 850/800, i.e. at step k = 6: day 180; the arrival fills it on day 400
    def mk(sid, gib, **kw):
        return system(city, sid, vcpu=1.0, memory_gib=1.0, storage_gib=gib, target_zone="z", **kw)

    late = mk("late", 300.0, state=SystemState.legacy, wave=1, location="MR-X-01")
    systems = [mk("a", 400.0), mk("b", 400.0), late]
    store = zone(nodes=4).model_copy(update={"storage_gib": 1000.0})
    m = with_(city, systems=systems, zones=[store])
    cfg = ARRIVAL_ON_DAY_400
    r = capacity.run(m, cfg, seed=1)
    z = r["zones"]["z"]
    k = math.floor(math.log(850 / 800) / math.log(1.15) * 365 / 30) + 1
    assert k == 6 and z["storage_over_target_day"] == pytest.approx(k * 30)
    factor = 1.15 ** (13 * 30 / 365)  # 13 steps by day 400: the late one arrives grown too
    assert z["peak_storage_gib"] == pytest.approx(1100 * factor, rel=1e-6)
    assert z["storage_full_day"] == pytest.approx(400.0)
    assert z["peak_storage_allocation"] == pytest.approx(1.1 * factor, rel=1e-5)
    assert z["storage_needed_gib"] == pytest.approx(1100 * factor / 0.85, rel=1e-5)
    assert r["zones_over_storage_target"] == ["z"]
    # without the late wave and growth, 800 GiB of 1000 stays under the target
    calm = capacity.run(m, cfg.model_copy(update={"growth_per_year": 0.0}), seed=1, wave=0)
    assert calm["zones"]["z"]["peak_storage_allocation"] == pytest.approx(0.8)
    assert calm["zones_over_storage_target"] == []
    # a zone that declares no storage is reported without a share
    bare = with_(city, systems=systems, zones=[zone(nodes=4)])
    z = capacity.run(bare, cfg, seed=1)["zones"]["z"]
    assert z["storage_gib"] is None and z["peak_storage_allocation"] is None
