"""Hypothesis properties of the allocator under random add / remove / release sequences, with
county and township devices switching between one uplink and two parallel links.

Small nibble steps (a /32 cut into /36 counties, /40 townships, /44 villages: 16 slots a
block) make full blocks and released-space reuse reachable within a few operations.
"""

from __future__ import annotations

import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from network.lock import load_lock, write_lock
from network.plan import PlanError, plan_sites
from network.settings import PlanSettings
from tests.ipv6_util import CITY, soundness_problems, tree

AGG = "2001:db8::/32"
SMALL = PlanSettings(36, 40, 44, {"county": 0.0, "township": 0.125, "village": 0.125})

ops = st.lists(
    st.tuples(
        st.sampled_from(["add", "add", "add", "remove", "release", "dual"]),
        st.integers(1, 2),
        st.integers(1, 3),
        st.integers(1, 16),
    ),
    min_size=1,
    max_size=25,
)


def _codes(state):
    return {
        f"3699{c:02d}{t:03d}{v:03d}"
        for c, towns in state.items()
        for t, vs in towns.items()
        for v in vs
    }


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops)
def test_random_histories_stay_sound_and_stable(tmp_path, history):
    state: dict[int, dict[int, list[int]]] = {}
    removed: set[str] = set()
    parallel: dict[str, int] = {}  # county / township device -> its number of parallel uplinks
    lock, ever = None, {}  # ever: site code -> the prefix it was given
    ever_links: dict[
        tuple[str, str, int], int
    ] = {}  # (upstream, downstream, n) -> its /127, as an int
    released_prefixes: set[str] = set()
    for step, (op, c, t, v) in enumerate(history):
        code = f"3699{c:02d}{t:03d}{v:03d}"
        release = []
        if op == "add":
            villages = state.setdefault(c, {}).setdefault(t, [])
            if v not in villages:
                villages.append(v)
                villages.sort()
        elif op == "remove":
            villages = state.get(c, {}).get(t, [])
            if v in villages:
                villages.remove(v)
                removed.add(code)
        elif op == "dual":  # v odd: the county's device, even: the township's; 1 <-> 2 links
            host = f"c{c}-agg" if v % 2 else f"c{c}t{t}-acc"
            parallel[host] = 3 - parallel.get(host, 1)
        elif code in removed and code not in _codes(state):
            release = [code]
            removed.discard(code)
        if not state:
            continue
        try:
            plan = plan_sites(CITY, AGG, tree(state, parallel), SMALL, lock, release)
        except PlanError as exc:
            assert "is full" in str(exc) and "village_len" in str(exc)
            state[c][t].remove(v)  # the add that did not fit
            continue
        assert soundness_problems(plan) == []
        for a in plan.allocations + plan.reserved:
            net = ipaddress.IPv6Network(a.prefix)
            assert net.prefixlen % 4 == 0
            if a.site in ever and a.site not in release:
                assert a.prefix == ever[a.site], f"{a.site} moved from {ever[a.site]} to {a.prefix}"
        fresh = {a.site: a.prefix for a in plan.allocations if a.site not in ever}
        for site, prefix in fresh.items():
            if prefix in released_prefixes:
                parent = next(a.parent for a in plan.allocations if a.site == site)
                siblings = [a for a in plan.allocations + plan.reserved if a.parent == parent]
                usable = 15 - int(16 * SMALL.reserve["village"])
                assert len(siblings) >= usable, (
                    "released space reused while never-used slots remained"
                )
        for key, ln in plan.lock.links.items():  # a link's /127 never moves while it is in the lock
            assert ever_links.setdefault(key, ln.net) == ln.net, f"link {key} moved"
        active = {(ln.a, ln.b, ln.n) for ln in plan.links}
        for site in tree(state, parallel):  # one /127 per uplink, parallel ones numbered 1, 2
            for host, peers in site.devices:
                assert sorted(k[2] for k in active if k[1] == host) == list(
                    range(1, len(peers) + 1)
                ), host
        for code_ in release:
            released_prefixes.add(ever.pop(code_))
            cpe = f"c{int(code_[4:6])}t{int(code_[6:9])}v{int(code_[9:])}-cpe"
            ever_links = {k: v for k, v in ever_links.items() if cpe not in k[:2]}
        ever.update({a.site: a.prefix for a in plan.allocations + plan.reserved})
        if step % 5 == 0:  # the lock also survives a trip through its file
            path = tmp_path / "lock.yaml"
            write_lock(path, plan.lock)
            lock = load_lock(path)
        else:
            lock = plan.lock
