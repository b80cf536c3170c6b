"""The lab's topology, its IPv4-only boot config, the inventory builder and `govctl lab` edges (no root needed)."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess

import pytest

from govctl.app import main
from lab import extranet, topology
from model import load_city
from network.plan import plan_city
from network.render import RenderSettings, device_context, render_device
from playbooks import inventory as inv
from tests.helpers import ROOT, SAMPLE_CITY

LAB_V4 = ipaddress.IPv4Network("198.18.0.0/15")
LAB_RENDER = RenderSettings(**extranet.OSPF_TIMERS)
GOLDEN = ROOT / "tests" / "golden" / "ipv6"


@pytest.fixture(scope="module")
def topo():
    return topology.build(load_city(SAMPLE_CITY))


def test_default_topology_is_fifteen_nodes_with_dual_county_links(topo):
    levels = [n.level for n in topo.nodes]
    assert (
        len(topo.nodes) == 15 and len(topo.links) == 14 + 2
    )  # one per child node, a second per county
    assert [levels.count(lv) for lv in ("city", "county", "township", "village")] == [1, 2, 4, 8]
    assert all(n.netns == f"gc-{n.name}" and len(n.netns) <= 255 for n in topo.nodes)
    devices = topo.model.devices_by_hostname
    assert {d.platform.value for d, _ in devices.values()} == {"linux_frr"}
    for node in topo.nodes[1:]:  # every uplink names its interface and points at its parent node
        mine = [lk for lk in topo.links if lk.child == node.name]
        dev, _ = devices[node.name]
        assert [(u.peer, u.interface) for u in dev.uplinks] == [
            (lk.parent, lk.child_if) for lk in mine
        ]
        assert [lk.n for lk in mine] == ([1, 2] if node.level == "county" else [1])


def test_lab_addresses_stay_in_the_benchmark_range(topo):
    for n in topo.nodes:
        assert (
            ipaddress.IPv4Address(n.mgmt) in topology.MGMT_NET
            and ipaddress.IPv4Address(n.loopback_ipv4) in LAB_V4
        )
    assert len({n.mgmt for n in topo.nodes}) == len(topo.nodes)
    assert topology.MGMT_NET.subnet_of(LAB_V4) and topology.LINK_NET.subnet_of(LAB_V4)


@pytest.mark.parametrize(
    "spec, fewer", [("2x2", None), ("0x1x1", None), ("1x1x99", "villages"), ("99x1x1", "counties")]
)
def test_bad_topologies_are_refused_with_a_reason(spec, fewer):
    with pytest.raises(topology.TopologyError) as exc:
        topology.build(load_city(SAMPLE_CITY), spec)
    if fewer:
        assert fewer in str(exc.value)


def test_other_sizes(topo):
    small = topology.build(load_city(SAMPLE_CITY), "1x1x3")
    assert len(small.nodes) == 6 and [n.level for n in small.nodes].count("village") == 3


def test_parents_ends_are_named_as_the_renderer_names_them(topo, tmp_path):
    plan = extranet.lab_plan(topo, tmp_path)
    for lk in topo.links:
        down = {
            (d["peer"], d["n"]): d["name"]
            for d in device_context(topo.model, plan, lk.parent)["downlinks"]
        }
        assert down[lk.child, lk.n] == lk.parent_if
    assert len({(lk.parent, lk.parent_if) for lk in topo.links}) == len(topo.links)


def test_boot_config_is_ipv4_only(topo, tmp_path):
    extranet.lab_plan(topo, tmp_path)
    core = topo.nodes[0]
    text = extranet.initial_config(core, topo)
    assert "ipv6" not in text and f"hostname {core.name}" in text
    assert text.count("interface dn") == 4  # two links to each of the two counties


def test_inventory_groups_levels_and_carries_the_rollout_facts(topo):
    plan = plan_city(topo.model)
    data = inv.build_inventory(
        topo.model,
        plan,
        host_vars={"core-01": {"lab_netns": "gc-core-01"}},
        group_vars={"net_username": "u"},
    )
    groups = data["all"]["children"]
    assert [len(groups[lv]["hosts"]) for lv in ("city", "county", "township", "village")] == [
        1,
        2,
        4,
        8,
    ]
    assert set(groups["platform_linux_frr"]["hosts"]) == {n.name for n in topo.nodes}
    hosts = {h["name"]: h for h in inv.hosts(data)}
    village = next(n for n in topo.nodes if n.level == "village")
    hv = hosts[village.name]
    assert (
        hv["parent"] == village.parent and hv["parent_loopback"] == plan.loopback_of[village.parent]
    )
    assert (
        hv["netmiko_device_type"] == "cisco_ios"
        and hv["uplinks"] == ["up0"]
        and hv["net_username"] == "u"
    )
    assert (
        hosts["core-01"]["parent_loopback"] is None
        and hosts["core-01"]["lab_netns"] == "gc-core-01"
    )
    county = next(n for n in topo.nodes if n.level == "county")
    assert hosts[county.name]["uplinks"] == [
        "up0",
        "up1",
    ]  # the post-check waits for both adjacencies
    assert [h["level"] for h in inv.hosts(data)] == sorted(
        (h["level"] for h in inv.hosts(data)), key=("city", "county", "township", "village").index
    )


def test_dual_links_have_own_prefixes_and_are_configured_and_rolled_back(topo, tmp_path):
    plan = extranet.lab_plan(topo, tmp_path)
    county = next(n for n in topo.nodes if n.level == "county").name
    ups = device_context(topo.model, plan, county, LAB_RENDER)["uplinks"]
    assert [(u["name"], u["peer"], u["n"], u["area"]) for u in ups] == [
        ("up0", "core-01", 1, "0.0.0.0"),
        ("up1", "core-01", 2, "0.0.0.0"),
    ]
    assert len({u["prefix"] for u in ups}) == 2
    r = render_device(topo.model, plan, county, LAB_RENDER)
    for u in ups:
        block = r.config.split(f"interface {u['name']}\n", 1)[1].split("exit\n", 1)[0]
        assert (
            f" ipv6 address {u['address']}/127" in block and " ipv6 ospf6 hello-interval 1" in block
        )
        assert (
            f" no ipv6 address {u['address']}/127"
            in r.rollback.split(f"interface {u['name']}\n", 1)[1]
        )
    core = render_device(topo.model, plan, "core-01", LAB_RENDER).config
    assert all(f"ipv6 address {u['peer_address']}/127" in core for u in ups)
    for suffix, text in (
        (".cfg", r.config),
        (".rollback.cfg", r.rollback),
    ):  # the lab county, both links
        path = GOLDEN / f"lab_county_linux_frr{suffix}"
        if os.environ.get("UPDATE_GOLDEN"):
            path.write_text(text, encoding="utf-8")
        assert text == path.read_text(encoding="utf-8"), (
            f"{path.name} differs (UPDATE_GOLDEN=1 rewrites it)"
        )


@pytest.mark.skipif(
    shutil.which("vtysh") is None, reason="FRR's vtysh is not installed (apt-get install frr)"
)
def test_lab_configs_with_fast_timers_parse_in_frr(topo, tmp_path):
    plan = extranet.lab_plan(topo, tmp_path)
    for block in ("config", "rollback"):
        path = tmp_path / f"lab.{block}"
        path.write_text(
            "".join(
                getattr(render_device(topo.model, plan, n.name, LAB_RENDER), block)
                for n in topo.nodes
            )
        )
        run = subprocess.run(
            ["vtysh", "--dryrun", "-f", str(path)], capture_output=True, text=True, timeout=60
        )
        assert run.returncode == 0, run.stdout + run.stderr


def test_inventory_plugin_config_builds_from_a_real_model(tmp_path):
    cfg = tmp_path / "extranet.govcloud.yml"
    cfg.write_text(
        f"plugin: govcloud_extranet\nmodel: {SAMPLE_CITY}\nvars: {{net_username: netops}}\n"
    )
    hosts = inv.hosts(inv.load(cfg))
    assert len(hosts) == sum(len(s.devices) for s in load_city(SAMPLE_CITY).sites())
    assert {h["netmiko_device_type"] for h in hosts} >= {"huawei"} and hosts[0][
        "net_username"
    ] == "netops"


def test_lab_needs_root_and_says_so(monkeypatch, capsys):
    monkeypatch.setattr(extranet.os, "geteuid", lambda: 1000)
    assert any("root" in r for r in extranet.missing_prerequisites())
    assert main(["lab", "up", "--lab-dir", "/nonexistent-lab"]) == 2
    assert "needs root" in capsys.readouterr().err


def test_status_without_a_lab(tmp_path, capsys):
    assert main(["lab", "status", "--lab-dir", str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["up"] is False and data["nodes"] == [] and data["schema_version"] == 1


def test_bad_topology_flag_is_exit_2(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(extranet, "_require", lambda: None)
    assert main(["lab", "up", "--topology", "three", "--lab-dir", str(tmp_path)]) == 2
    assert "COUNTIESxTOWNSHIPSxVILLAGES" in capsys.readouterr().err


def test_net_push_without_inventory_is_exit_2(tmp_path, capsys):
    assert main(["net", "push", "-i", str(tmp_path / "none.yml")]) == 2
    assert "no inventory" in capsys.readouterr().err
