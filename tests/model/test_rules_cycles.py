"""Uplink cycles in the site tree (`model.rules._uplink_cycles`): a located error naming the
cycle, on the real loader and over random trees with injected cycles (Hypothesis)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from model import InvalidModel, load_city, rules
from model.schema import NetworkFile
from tests.helpers import edit_yaml


def _errors(city):
    with pytest.raises(InvalidModel) as info:
        load_city(city)
    return [e for e in info.value.errors if "uplink cycle" in e.message]


def test_an_upstream_naming_a_county_device_closes_a_cycle_through_the_core(small_city):
    """The parent-site rule passes here (the core's peer is in `upstream`), so only the
    cycle rule sees it: core → county → core."""

    def change(d):
        d["upstream"].append(d["counties"][0]["devices"][0]["hostname"])
        d["city_core"]["devices"][0]["uplinks"][0]["peer"] = d["upstream"][-1]

    edit_yaml(small_city, "network.yaml", change)
    errors = _errors(small_city)
    assert len(errors) == 1, errors
    e = errors[0]
    core, county = e.message.split("uplink cycle: ")[1].split(";")[0].split(" → ")[:2]
    assert e.path.endswith("network.yaml") and e.line > 1
    assert e.field == "city_core.devices[0].uplinks[0].peer"
    assert core.startswith("city ") and county.startswith("county ")
    assert e.message.count(core) == 2  # the cycle ends where it starts
    assert f"network.yaml:{e.line}: city_core.devices[0].uplinks[0].peer: uplink cycle" in str(e)


def test_a_township_uplinking_to_its_village_is_a_cycle(small_city):
    def change(d):
        t = d["counties"][0]["townships"][0]
        t["devices"][0]["uplinks"][0]["peer"] = t["villages"][0]["devices"][0]["hostname"]

    edit_yaml(small_city, "network.yaml", change)
    (e,) = _errors(small_city)
    assert e.field == "counties[0].townships[0].devices[0].uplinks[0].peer"
    assert " → village " in e.message


def test_the_valid_city_has_no_cycle(small_city):
    m = load_city(small_city)  # would raise on any error
    assert m.network.city_core.devices


# --- random trees ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def base(small_city_master):
    return load_city(small_city_master)


def _device(name: str, parents: list[str], role: str) -> dict:
    return {
        "hostname": name,
        "platform": "linux_frr",
        "role": role,
        "mgmt_ipv4": "198.18.0.1",
        "uplinks": [{"peer": p, "bandwidth_mbps": 100} for p in parents],
    }


@st.composite
def trees(draw):
    """A network: shape (townships per county, villages per township), 1–2 devices a site,
    each device uplinked to its parent site's devices. Returns the network dict and, per
    site in walk order, (level, code, parent index, location, hostnames)."""
    shape = draw(
        st.lists(st.lists(st.integers(0, 3), max_size=3), min_size=1, max_size=3), label="shape"
    )
    sites: list[tuple[str, str, int | None, tuple, list[str]]] = []

    def site(level, code, parent, loc, role):
        n = draw(st.integers(1, 2))
        names = [f"d{len(sites)}-{j}" for j in range(n)]
        above = sites[parent][4] if parent is not None else ["prov-a", "prov-b"]
        sites.append((level, code, parent, loc, names))
        return {
            "code": code,
            "name": f"site {len(sites)}",
            "devices": [_device(h, above, role) for h in names],
        }

    net = {"upstream": ["prov-a", "prov-b"]}
    net["city_core"] = site("city", "369900000000", None, ("city_core",), "core")
    net["counties"] = []
    for ci, townships in enumerate(shape):
        ck = len(sites)
        c = site("county", f"3699{ci + 1:02d}000000", 0, ("counties", ci), "aggregation")
        c["townships"] = []
        for ti, villages in enumerate(townships):
            tk = len(sites)
            tcode = f"3699{ci + 1:02d}{ti + 1:03d}"
            t = site(
                "township", f"{tcode}000", ck, c_loc := ("counties", ci, "townships", ti), "access"
            )
            t["villages"] = [
                site("village", f"{tcode}{vi + 1:03d}", tk, (*c_loc, "villages", vi), "cpe")
                for vi in range(villages)
            ]
            c["townships"].append(t)
        net["counties"].append(c)
    return net, sites


def _descends(sites, b: int, a: int) -> bool:
    """Is site b strictly below site a in the tree?"""
    p = sites[b][2]
    while p is not None:
        if p == a:
            return True
        p = sites[p][2]
    return False


def _node(net: dict, loc: tuple) -> dict:
    node = net
    for key in loc:
        node = node[key]
    return node


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=trees(), data=st.data())
def test_random_trees_with_an_injected_uplink(base, tree, data):
    """Rewire one device of site A to a device of site B: a cycle exactly when B is below
    A, and then the error is at that uplink and names A → B → B's parent → … → A."""
    net, sites = tree
    if data.draw(st.booleans(), label="aim at a cycle"):  # A above B (A is never a leaf)
        b = data.draw(st.integers(1, len(sites) - 1), label="b")
        above = [k for k in range(len(sites)) if _descends(sites, b, k)]
        a = data.draw(st.sampled_from(above), label="a")
    else:
        a = data.draw(st.integers(0, len(sites) - 1), label="a")
        b = data.draw(st.integers(0, len(sites) - 1), label="b")
    inject = data.draw(st.integers(0, 3), label="inject") > 0 and a != b
    loc = (*sites[a][3], "devices", 0, "uplinks", 0, "peer")
    if inject:
        _node(net, sites[a][3])["devices"][0]["uplinks"][0]["peer"] = sites[b][4][-1]
    m = dataclasses.replace(base, network=NetworkFile.model_validate(net), _cache={})
    found: list[tuple[tuple, str]] = []
    rules.check(
        m, lambda key, where, msg: found.append((where, msg)) if "uplink cycle" in msg else None
    )
    event("cycle" if inject and _descends(sites, b, a) else "no cycle")
    if not (inject and _descends(sites, b, a)):
        assert found == []
        return
    assert len(found) == 1, found
    where, message = found[0]
    assert where == loc
    path = [b]
    while path[-1] != a:
        path.append(sites[path[-1]][2])
    expected = " → ".join(f"{sites[i][0]} {sites[i][1]}" for i in [a, *path])
    assert f"uplink cycle: {expected};" in message
