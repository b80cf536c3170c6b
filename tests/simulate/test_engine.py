"""The shared engine: node pool invariants (property-based), best fit, max-min fair links."""

from __future__ import annotations

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from simulate.engine import NodePool
from simulate.flows import Link

ops = st.lists(
    st.tuples(
        st.sampled_from(["place", "release", "resize", "fail", "repair"]),
        st.integers(0, 30),
        st.floats(0.5, 12),
        st.floats(1, 64),
    ),
    max_size=80,
)


@settings(max_examples=150, deadline=None)
@given(ops)
def test_pool_books_balance_and_no_node_overfills(sequence):
    pool = NodePool(5, cpu=16.0, memory=128.0)
    for op, key, cpu, mem in sequence:
        vm = key % 12
        siblings = {
            pool.where[v] for v in (vm ^ 1,) if v in pool.where
        }  # pairs (0,1), (2,3)… are replicas
        if op == "place" and vm not in pool.where:
            node = pool.place(vm, cpu, mem, siblings)
            if node is None:
                assert all(
                    not pool.up[n]
                    or pool.free_cpu[n] < cpu
                    or pool.free_mem[n] < mem
                    or n in siblings
                    for n in range(pool.nodes)
                ), "a fitting node was missed"
            else:
                assert node not in siblings
        elif op == "release" and vm in pool.where:
            pool.release(vm)
        elif op == "resize" and vm in pool.where:
            pool.resize(vm, cpu, mem, siblings)
        elif op == "fail":
            evicted = pool.fail(key % pool.nodes)
            assert all(v not in pool.where for v, _, _ in evicted)
        elif op == "repair":
            pool.repair(key % pool.nodes)
        pool.check()
        for a in range(0, 12, 2):
            if a in pool.where and a + 1 in pool.where:
                assert pool.where[a] != pool.where[a + 1], "replicas share a node"


def test_best_fit_picks_the_tightest_node_that_fits():
    pool = NodePool(3, cpu=10.0, memory=100.0)
    pool.put("a", 0, 6.0, 10.0)  # node 0: 4 CPU free
    pool.put("b", 1, 3.0, 95.0)  # node 1: 7 CPU free but only 5 GiB
    assert pool.place("c", 4.0, 10.0) == 0
    assert pool.place("d", 5.0, 10.0) == 2  # node 1 lacks memory
    assert pool.place("e", 5.0, 10.0, avoid={2}) is None
    with pytest.raises(ValueError):
        pool.put("f", 0, 1.0, 1.0)  # node 0 is full


def _run_link(capacity, flows, outages=()):
    env = simpy.Environment()
    link = Link(env, "l", capacity)
    done = {}

    def start(name, at, size, cap):
        yield env.timeout(at)
        f = link.transfer(size, cap)
        yield f.done
        done[name] = env.now

    def outage(at, length):
        yield env.timeout(at)
        link.set_up(False)
        yield env.timeout(length)
        link.set_up(True)

    for name, at, size, cap in flows:
        env.process(start(name, at, size, cap))
    for at, length in outages:
        env.process(outage(at, length))
    env.run()
    return done, link


def test_one_transfer_takes_size_over_capacity():
    done, link = _run_link(125e6, [("a", 0, 1e12, None)])
    assert done["a"] == pytest.approx(1e12 / 125e6)
    assert link.delivered == pytest.approx(1e12)


def test_flows_share_and_finish_times_are_recomputed_when_the_set_changes():
    # a alone for 10 s (1000 B), then a and b share 50/50; b (500 B) ends at t=20, a has 9000-500 left
    done, link = _run_link(100.0, [("a", 0, 10_000, None), ("b", 10, 500, None)])
    assert done["b"] == pytest.approx(20.0)
    assert done["a"] == pytest.approx(20.0 + (10_000 - 1000 - 500) / 100)
    assert link.delivered == pytest.approx(10_500)


def test_capped_flow_gets_its_cap_and_the_rest_goes_to_the_others():
    done, _ = _run_link(100.0, [("slow", 0, 100, 10.0), ("fast", 0, 900, None)])
    assert done["slow"] == pytest.approx(10.0)
    assert done["fast"] == pytest.approx(10.0)  # 90 B/s while slow runs: 900 B in 10 s


def test_an_outage_delays_a_transfer_by_its_length():
    done, _ = _run_link(100.0, [("a", 0, 1000, None)], outages=[(3.0, 7.5)])
    assert done["a"] == pytest.approx(10.0 + 7.5)


def test_small_transfers_a_year_into_the_run_still_finish():
    # at t ≈ 3e7 s float time steps are ~4e-9 s: completion must not hinge on finer tolerances
    flows = [(f"f{i}", 3.15e7 + i * 0.37, 1234.5 + i * 7919.0, None) for i in range(40)]
    done, link = _run_link(2e9 / 8, flows)
    assert len(done) == 40
    assert link.delivered == pytest.approx(sum(size for *_, size, _ in flows), abs=40.0)
