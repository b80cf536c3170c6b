"""Rendered device configs: golden files, addresses equal to the plan, FRR's own parser."""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess

import pytest
from ciscoconfparse2 import CiscoConfParse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import load_city
from model.synth import SynthSpec, write
from network.plan import plan_city
from network.platforms import FAMILIES, PLATFORMS, family_of
from network.render import (
    RenderCheckFailed,
    RenderSettings,
    check_rendered,
    device_context,
    render_all,
    render_device,
)
from tests.helpers import ROOT, SAMPLE_CITY, edit_yaml

GOLDEN = ROOT / "tests" / "golden" / "ipv6"
ADDRESS = re.compile(r"^\s*ipv6 address (\S+)", re.M)
UNDO_ADDRESS = re.compile(r"^\s*(?:no|undo) ipv6 address (\S+)", re.M)


@pytest.fixture(scope="module")
def sample():
    m = load_city(SAMPLE_CITY)
    return m, plan_city(m)


def expected_addresses(m, plan, hostname) -> set[str]:
    """What the plan gives a device: loopback /128, its end of every link, its LAN ::1/64."""
    out = {f"{plan.loopback_of[hostname]}/128"}
    out |= {f"{ln.address_of(hostname)}/127" for ln in plan.links_of[hostname]}
    _, site = m.devices_by_hostname[hostname]
    if site.level in ("township", "village") and site.devices[0].hostname == hostname:
        lan = ipaddress.IPv6Network(plan.infra(site.code)["lan"])
        out.add(f"{lan.network_address + 1}/64")
    if site.level == "city":  # the NOC /64: ::1, ::2 … on the city core devices
        lan = ipaddress.IPv6Network(plan.infra(site.code)["lan"])
        index = [d.hostname for d in site.devices].index(hostname)
        out.add(f"{lan.network_address + 1 + index}/64")
    return out


def first_of_each_platform(m) -> dict[str, str]:
    out: dict[str, str] = {}
    for host, (d, _) in m.devices_by_hostname.items():
        out.setdefault(d.platform.value, host)
    return out


def test_every_platform_occurs_in_the_sample_city(sample):
    assert set(first_of_each_platform(sample[0])) == set(PLATFORMS)


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_golden_config_and_rollback(sample, platform):
    m, plan = sample
    host = first_of_each_platform(m)[platform]
    r = render_device(m, plan, host)
    for suffix, text in ((".cfg", r.config), (".rollback.cfg", r.rollback)):
        path = GOLDEN / f"{platform}{suffix}"
        if os.environ.get("UPDATE_GOLDEN"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert text == path.read_text(encoding="utf-8"), (
            f"{path.name} differs (UPDATE_GOLDEN=1 rewrites it)"
        )


def test_every_device_gets_exactly_its_addresses_and_the_rollback_removes_them(sample):
    m, plan = sample
    for host in m.devices_by_hostname:
        r = render_device(m, plan, host)
        want = expected_addresses(m, plan, host)
        assert set(ADDRESS.findall(r.config)) == want, host
        assert len(ADDRESS.findall(r.config)) == len(want), (
            f"{host}: an address is configured twice"
        )
        assert set(UNDO_ADDRESS.findall(r.rollback)) == want, host
        assert set(r.addresses) == want


@pytest.mark.parametrize("platform", ["cisco_ios", "ruijie_os", "linux_frr"])
def test_parsed_interfaces_carry_the_planned_addresses(sample, platform):
    m, plan = sample
    hosts = [h for h, (d, _) in m.devices_by_hostname.items() if d.platform.value == platform]
    assert hosts
    for host in hosts:
        r = render_device(m, plan, host)
        parsed = CiscoConfParse(r.config.splitlines(), syntax="ios")
        found = {}
        for intf in parsed.find_parent_objects(r"^interface ", r"^\s+ipv6 address "):
            for child in intf.children:
                if child.text.strip().startswith("ipv6 address "):
                    found[child.text.split()[-1]] = intf.text.removeprefix("interface ").strip()
        assert set(found) == expected_addresses(m, plan, host)
        assert found[f"{plan.loopback_of[host]}/128"] == PLATFORMS[platform].loopback


def test_ra_only_on_village_lans_and_ospf_area_per_county(sample):
    m, plan = sample
    for host, (d, site) in m.devices_by_hostname.items():
        if d.platform.value != "cisco_ios":
            continue
        r = render_device(m, plan, host)
        # IOS sends RAs on a LAN by default: only LANs other than a village's suppress them,
        # and no rollback turns suppression on
        assert ("ipv6 nd ra suppress all" in r.config) == (site.level != "village")
        assert "\n ipv6 nd ra suppress" not in r.rollback
        area = f"0.0.0.{plan.county_slot(site.county)}"
        assert f"ipv6 ospf 1 area {area}" in r.config


def _vtysh_ok(text: str, tmp_path, name: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    run = subprocess.run(
        ["vtysh", "--dryrun", "-f", str(path)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, f"{name}: {run.stdout}{run.stderr}"


needs_vtysh = pytest.mark.skipif(
    shutil.which("vtysh") is None, reason="FRR's vtysh is not installed (apt-get install frr)"
)


@needs_vtysh
def test_frr_configs_and_rollbacks_parse_in_frr(sample, tmp_path):
    m, plan = sample
    hosts = [h for h, (d, _) in m.devices_by_hostname.items() if d.platform.value == "linux_frr"]
    text = "".join(render_device(m, plan, h).config for h in hosts)
    rollback = "".join(render_device(m, plan, h).rollback for h in hosts)
    _vtysh_ok(text, tmp_path, "all.cfg")
    _vtysh_ok(rollback, tmp_path, "all.rollback.cfg")


@needs_vtysh
def test_vtysh_dryrun_does_reject_a_bad_line(tmp_path):
    path = tmp_path / "bad.cfg"
    path.write_text("interface lo\n ipv6 adress 2001:db8::1/128\nexit\n", encoding="utf-8")
    assert (
        subprocess.run(["vtysh", "--dryrun", "-f", str(path)], capture_output=True).returncode != 0
    )


def test_static_routing_renders_routes_up_and_down(small_city, tmp_path):
    def to_static(data):
        data["routing"] = "static"
        # make one village a linux_frr device so FRR's parser sees static routes too
        data["counties"][0]["townships"][0]["villages"][0]["devices"][0]["platform"] = "linux_frr"

    edit_yaml(small_city, "network.yaml", to_static)
    m = load_city(small_city)
    plan = plan_city(m)
    for host, (d, _) in m.devices_by_hostname.items():
        r = render_device(m, plan, host)
        assert "ospf" not in r.config.lower()
        downs = [ln for ln in plan.links_of[host] if ln.a == host]
        for ln in downs:
            child = plan.by_site[m.devices_by_hostname[ln.b][1].code].prefix
            net, length = child.split("/")
            assert (f"{child} {ln.address_of(ln.b)}" in r.config) or (
                f"{net} {length} {ln.address_of(ln.b)}" in r.config
            )
        if d.uplinks:
            assert re.search(r"(ipv6 route ::/0 |ipv6 route-static :: 0 )", r.config), host
        if d.platform.value == "linux_frr" and shutil.which("vtysh"):
            _vtysh_ok(r.config, tmp_path, f"{host}.cfg")
            _vtysh_ok(r.rollback, tmp_path, f"{host}.rollback.cfg")


def test_render_all_writes_config_and_rollback_per_device(small_city, tmp_path):
    m = load_city(small_city)
    plan = plan_city(m)
    out = tmp_path / "configs"
    seen = []
    n = render_all(m, plan, out, workers=2, progress=seen.append, chunk=3)
    assert n == len(m.devices_by_hostname) == sum(seen)
    for host in m.devices_by_hostname:
        r = render_device(m, plan, host)
        assert (out / f"{host}.cfg").read_text(encoding="utf-8") == r.config
        assert (out / f"{host}.rollback.cfg").read_text(encoding="utf-8") == r.rollback
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".configs.staging")]


def test_uplink_interface_from_the_model_is_used(small_city):
    def name_it(data):
        dev = data["counties"][0]["townships"][0]["villages"][0]["devices"][0]
        dev["platform"] = "linux_frr"
        dev["uplinks"][0]["interface"] = "eth-up7"

    edit_yaml(small_city, "network.yaml", name_it)
    m = load_city(small_city)
    plan = plan_city(m)
    host = next(
        h
        for h, (d, _) in m.devices_by_hostname.items()
        if d.platform.value == "linux_frr" and d.uplinks and d.uplinks[0].interface == "eth-up7"
    )
    parsed = CiscoConfParse(render_device(m, plan, host).config.splitlines(), syntax="ios")
    assert parsed.find_objects(r"^interface eth-up7$")


FAST = RenderSettings(ospf_hello=1, ospf_dead=4, ospf_retransmit=2)
TIMER_LINES = {  # platform → (config lines, rollback lines) the FAST timers add to every OSPFv3 link
    "linux_frr": (
        {
            "ipv6 ospf6 hello-interval 1",
            "ipv6 ospf6 dead-interval 4",
            "ipv6 ospf6 retransmit-interval 2",
        },
        {
            "no ipv6 ospf6 hello-interval 1",
            "no ipv6 ospf6 dead-interval 4",
            "no ipv6 ospf6 retransmit-interval 2",
        },
    ),
    "cisco_ios": (
        {
            "ipv6 ospf hello-interval 1",
            "ipv6 ospf dead-interval 4",
            "ipv6 ospf retransmit-interval 2",
        },
        {
            "no ipv6 ospf hello-interval",
            "no ipv6 ospf dead-interval",
            "no ipv6 ospf retransmit-interval",
        },
    ),
    "ruijie_os": (
        {
            "ipv6 ospf hello-interval 1",
            "ipv6 ospf dead-interval 4",
            "ipv6 ospf retransmit-interval 2",
        },
        {
            "no ipv6 ospf hello-interval",
            "no ipv6 ospf dead-interval",
            "no ipv6 ospf retransmit-interval",
        },
    ),
    "huawei_vrp": (
        {"ospfv3 timer hello 1 conservative", "ospfv3 timer dead 4", "ospfv3 timer retransmit 2"},
        {"undo ospfv3 timer hello", "undo ospfv3 timer dead", "undo ospfv3 timer retransmit"},
    ),
    "h3c_comware": (
        {"ospfv3 timer hello 1", "ospfv3 timer dead 4", "ospfv3 timer retransmit 2"},
        {"undo ospfv3 timer hello", "undo ospfv3 timer dead", "undo ospfv3 timer retransmit"},
    ),
}


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_ospf_timers_are_a_render_setting_on_every_link_and_rolled_back(sample, platform):
    m, plan = sample
    for host in [h for h, (d, _) in m.devices_by_hostname.items() if d.platform.value == platform][
        :20
    ]:
        links = [i for i in device_context(m, plan, host)["interfaces"] if i["area"]]
        plain, timed = render_device(m, plan, host), render_device(m, plan, host, FAST)
        for block, want in zip(("config", "rollback"), TIMER_LINES[platform], strict=True):
            before = getattr(plain, block).splitlines()
            after = getattr(timed, block).splitlines()
            added = [line.strip() for line in after if line not in before]
            assert sorted(added) == sorted(list(want) * len(links)), (
                host,
                block,
            )  # every OSPF link, nothing else
            assert [line for line in after if line.strip() not in want] == before
        assert not any(
            w in plain.config for w in TIMER_LINES[platform][0]
        )  # default: the vendor's timers


def test_render_settings_are_checked():
    assert RenderSettings().problems() == [] and RenderSettings(2).dead == 8
    assert RenderSettings(1, 4).problems() == []
    assert "needs --ospf-hello" in RenderSettings(None, 4).problems()[0]
    assert "longer than the hello" in RenderSettings(5, 5).problems()[0]
    assert "1–65535" in RenderSettings(0).problems()[0]
    assert "1–3600" in RenderSettings(ospf_retransmit=0).problems()[0]
    assert RenderSettings(ospf_retransmit=1).ospf_timers() == {
        "hello": None,
        "dead": None,
        "retransmit": 1,
    }


@needs_vtysh
def test_frr_accepts_the_fast_timers(sample, tmp_path):
    m, plan = sample
    hosts = [h for h, (d, _) in m.devices_by_hostname.items() if d.platform.value == "linux_frr"][
        :50
    ]
    _vtysh_ok("".join(render_device(m, plan, h, FAST).config for h in hosts), tmp_path, "fast.cfg")
    _vtysh_ok(
        "".join(render_device(m, plan, h, FAST).rollback for h in hosts),
        tmp_path,
        "fast.rollback.cfg",
    )


# --- every rendered file against the vendor grammar -------------------------------------


def _parse_back(r) -> tuple[set[str], set[str]]:
    """Addresses the config assigns and the rollback removes, read through the grammar."""
    from network.grammar import load

    g = load(r.platform)
    out = []
    for text in (r.config, r.rollback):
        s = g.session(view=g.config)
        found = set()
        for line in text.splitlines():
            res = s.feed(line)
            assert res.ok, (r.hostname, line, res.error)
            if res.command == "ipv6-address" and res.args:
                found.add(res.args.get("address") or f"{res.args['addr']}/{res.args['len']}")
        out.append(found)
    return out[0], out[1]


def test_every_config_and_rollback_of_the_sample_city_passes_net_check(sample):
    m, plan = sample
    findings = [f for h in m.devices_by_hostname for f in check_rendered(render_device(m, plan, h))]
    assert findings == [], [str(f) for f in findings[:20]]


def _all_families_city(tmp_path, seed=2, routing="ospfv3", **kw):
    spec = dict(counties=6, townships_per=2, villages_per=6, departments=8, systems=30)
    write(SynthSpec(seed=seed, machine_rooms=3, all_families=True, **{**spec, **kw}), tmp_path)
    if routing != "ospfv3":
        edit_yaml(tmp_path, "network.yaml", lambda d: d.update(routing=routing))
    return load_city(tmp_path)


@pytest.mark.parametrize("routing", ["ospfv3", "static"])
def test_every_platform_and_family_at_every_level_passes_net_check(tmp_path, routing):
    m = _all_families_city(tmp_path, routing=routing)
    plan = plan_city(m)
    cover: dict[str, set] = {}
    for host, (d, site) in m.devices_by_hostname.items():
        fam = family_of(d)
        cover.setdefault(site.level, set()).add((fam.platform, fam.name))
        r = render_device(m, plan, host)
        assert check_rendered(r) == [], [str(f) for f in check_rendered(r)]
    assert all(v == set(FAMILIES) for v in cover.values()), cover
    assert set(cover) == {"city", "county", "township", "village"}


def test_family_facts_cover_exactly_the_models_families():
    from model.schema import PLATFORM_FAMILIES

    model_pairs = {(p.value, f.value) for p, fams in PLATFORM_FAMILIES.items() for f in fams}
    assert set(FAMILIES) == model_pairs


def test_render_all_writes_nothing_when_a_config_fails_the_grammar(small_city, tmp_path):
    def bad_port(data):  # an uplink name no Huawei device has
        for t in data["counties"][0]["townships"]:
            for d in t["devices"]:
                d["platform"], d["family"] = "huawei_vrp", "s"
                d["uplinks"][0]["interface"] = "eth0"

    edit_yaml(small_city, "network.yaml", bad_port)
    m = load_city(small_city)
    out = tmp_path / "configs"
    with pytest.raises(RenderCheckFailed) as exc:
        render_all(m, plan_city(m), out, workers=2, chunk=3)
    assert not out.exists()
    assert exc.value.findings and all(f.platform == "huawei_vrp" for f in exc.value.findings)
    assert any("eth0" in f.message for f in exc.value.findings)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(1, 10_000),
    counties=st.integers(1, 3),
    all_families=st.booleans(),
    routing=st.sampled_from(["ospfv3", "static"]),
)
def test_render_check_parse_back_gives_the_planned_addresses(
    tmp_path_factory, seed, counties, all_families, routing
):
    city = tmp_path_factory.mktemp("prop")
    spec = SynthSpec(
        seed=seed,
        counties=counties,
        townships_per=2,
        villages_per=3,
        departments=8,
        systems=20,
        machine_rooms=2,
        all_families=all_families,
    )
    write(spec, city, history=False)
    if routing == "static":
        edit_yaml(city, "network.yaml", lambda d: d.update(routing="static"))
    m = load_city(city)
    plan = plan_city(m)
    for host in m.devices_by_hostname:
        r = render_device(m, plan, host)
        assert check_rendered(r) == []
        configured, removed = _parse_back(r)
        assert configured == removed == expected_addresses(m, plan, host), host


@needs_vtysh
@pytest.mark.parametrize("routing", ["ospfv3", "static"])
def test_frr_at_every_level_parses_in_frr(tmp_path, routing):
    """FRR's own parser on the FRR core (discard route, NOC LAN), county (area range) …"""
    m = _all_families_city(tmp_path / "city", routing=routing)
    plan = plan_city(m)
    hosts = [h for h, (d, _) in m.devices_by_hostname.items() if d.platform.value == "linux_frr"]
    levels = {m.devices_by_hostname[h][1].level for h in hosts}
    assert levels == {"city", "county", "township", "village"}
    for h in hosts:
        r = render_device(m, plan, h)
        _vtysh_ok(r.config, tmp_path, f"{h}.cfg")
        _vtysh_ok(r.rollback, tmp_path, f"{h}.rollback.cfg")
