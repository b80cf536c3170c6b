"""The rolled-out lab, node by node: what `pytest tests/lab_nodes` checks after `ipv6_rollout.yml`.

The data plane is checked whatever the platform: on a vendor twin the kernel and FRR under
the vendor CLI carry the addresses and adjacencies, under the kernel names its port map gives."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import testinfra

from network import driver
from tests.lab_nodes.labhosts import NODES, NetnsBackend, kernel_if, vtysh

LAB_V6 = ipaddress.IPv6Network("2001:db8::/32")


def pytest_generate_tests(metafunc):
    for name, pick in (
        ("village", lambda n: n["level"] == "village"),
        ("dual", lambda n: len(n["uplinks"]) > 1),
    ):
        if name in metafunc.fixturenames:
            nodes = [n for n in NODES or [] if pick(n)] or [{"name": "no-lab"}]
            metafunc.parametrize(name, nodes, ids=[n["name"] for n in nodes])


def rendered_interfaces(node) -> dict[str, dict]:
    """kernel interface → its config lines, from the config the rollout pushed to this node."""
    platform = node.get("platform_variant") or node["platform"]
    tree = driver.parse((Path(node["config_dir"]) / f"{node['name']}.cfg").read_text(), platform)
    return {
        kernel_if(node, line.split(" ", 1)[1]): body
        for line, body in tree.items()
        if line.startswith("interface ")
    }


def global_addresses(host) -> dict[str, set[str]]:
    out = json.loads(host.check_output("ip -j -6 addr show scope global"))
    return {
        i["ifname"]: {
            f"{a['local']}/{a['prefixlen']}" for a in i.get("addr_info", []) if "local" in a
        }
        for i in out
    }


def test_ipv6_forwarding_on(host):
    assert host.sysctl("net.ipv6.conf.all.forwarding") == 1


def test_planned_addresses_on_the_right_interfaces(host, node, plan):
    want = {
        name: {line.split()[2] for line in body if line.startswith("ipv6 address ")}
        for name, body in rendered_interfaces(node).items()
    }
    have = global_addresses(host)
    for ifname, addrs in want.items():
        if not addrs:  # a switch's host port (from its port group): nothing to check here
            continue
        assert host.interface(ifname).exists, f"{ifname} missing"
        assert addrs <= have.get(ifname, set()), (
            f"{ifname}: has {sorted(have.get(ifname, ()))}, plan says {sorted(addrs)}"
        )
    planned = {lb["prefix"] for lb in plan["loopbacks"] if lb["device"] == node["name"]}
    for link in plan["links"]:
        if node["name"] in (link["a"], link["b"]):
            net = ipaddress.IPv6Network(link["prefix"])
            planned.add(f"{net[0] if link['a'] == node['name'] else net[1]}/127")
    assert planned <= set().union(*have.values()), "addresses of the plan missing from the node"


def test_ospf6_adjacencies_full(host, node):
    links = [kernel_if(node, u) for u in node["uplinks"]]  # each downlink: from the child
    out = vtysh(host, node, "show ipv6 ospf6 neighbor")
    for ifname in links:
        assert any(
            ifname in line.split()[-1] and "Full/" in line
            for line in out.splitlines()[1:]
            if line.split()
        ), f"no Full OSPFv3 neighbour on {ifname}:\n{out}"


def test_dual_links_both_full_to_the_parent_and_both_carry_traffic(dual):
    """A county's two links: an adjacency Full to its parent on each, and equal-cost routes over both."""
    host = testinfra.host.Host(NetnsBackend(dual["lab_netns"]))
    parent = next(n for n in NODES if n["name"] == dual["parent"])
    out = vtysh(host, dual, "show ipv6 ospf6 neighbor")
    uplinks = [kernel_if(dual, u) for u in dual["uplinks"]]
    for ifname in uplinks:  # Neighbor ID, Pri, DeadTime, State/IfState, Duration, I/F[State]
        rows = [
            line.split()
            for line in out.splitlines()
            if line.split() and line.split()[-1].startswith(f"{ifname}[")
        ]
        assert [(r[0], r[3].split("/")[0]) for r in rows] == [(parent["ansible_host"], "Full")], out
    routes = json.loads(host.check_output("ip -j -6 route show %s", dual["parent_loopback"]))
    assert {nh["dev"] for r in routes for nh in r.get("nexthops", [r])} == set(uplinks), routes


def test_sshd_listening_on_mgmt(host, node):
    assert host.socket(f"tcp://{node['ansible_host']}:22").is_listening


def test_village_reaches_city_core_loopback(village):
    host = testinfra.host.Host(NetnsBackend(village["lab_netns"]))
    core = next(n for n in NODES if n["level"] == "city")
    assert host.run("ping -6 -c 1 -W 2 %s", core["loopback"]).rc == 0


def test_no_ipv6_route_leaves_the_lab(host, node):
    lab_ifs = set(rendered_interfaces(node)) | {"lo"}
    for route in json.loads(host.check_output("ip -j -6 route show table all")):
        dst = route["dst"]
        if route.get("type") in ("multicast", "local", "anycast") or dst.startswith(
            ("fe80:", "ff00:")
        ):
            continue
        assert route.get("dev") in lab_ifs or all(
            nh.get("dev") in lab_ifs for nh in route.get("nexthops", [])
        ), route
        if dst != "default":
            assert ipaddress.IPv6Network(dst).subnet_of(LAB_V6), route
    for addrs in global_addresses(host).values():
        assert all(ipaddress.IPv6Interface(a).ip in LAB_V6 for a in addrs)
    assert host.sysctl("net.ipv6.conf.mgmt0.disable_ipv6") == 1  # management stays IPv4-only
