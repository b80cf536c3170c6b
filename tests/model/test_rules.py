"""Each validation rule, one mutation at a time, checked for its located message."""

from __future__ import annotations

import pytest

from model import InvalidModel, load_city
from model.schema import LEVELS
from tests.helpers import edit_yaml


def errors_after(city, name, change):
    edit_yaml(city, name, change)
    with pytest.raises(InvalidModel) as info:
        load_city(city)
    return info.value.errors


def find(errors, field_suffix, text):
    hits = [e for e in errors if e.field.endswith(field_suffix) and text in e.message]
    assert hits, f"no error on {field_suffix!r} mentioning {text!r}; got:\n" + "\n".join(
        map(str, errors)
    )
    return hits[0]


def first(data, key, pred):
    return next(x for x in data[key] if pred(x))


def test_small_city_is_valid(small_city):
    m = load_city(small_city)
    assert len(m.systems) == 40
    assert {s.level for s in m.sites()} == set(LEVELS)


def test_sample_city_is_valid():
    from tests.helpers import SAMPLE_CITY

    m = load_city(SAMPLE_CITY)
    assert len(m.departments) == 45 and len(m.systems) == 400 and len(m.machine_rooms) == 30
    assert sum(1 for s in m.sites() if s.level == "village") == 1512


# --- city.yaml ---------------------------------------------------------------------


def test_duplicate_zone_name(small_city):
    errs = errors_after(
        small_city, "city.yaml", lambda d: d["city"]["zones"].append(dict(d["city"]["zones"][0]))
    )
    e = find(errs, "zones[3].name", "duplicate zone name")
    assert e.path.endswith("city.yaml") and e.line > 1


def test_two_primary_sites(small_city):
    def change(d):
        d["city"]["sites"][1]["role"] = "primary"
        del d["city"]["sites"][1]["link_mbps"]

    find(
        errors_after(small_city, "city.yaml", change),
        "sites",
        "exactly one site must have role primary",
    )


def test_secondary_site_needs_link(small_city):
    find(
        errors_after(small_city, "city.yaml", lambda d: d["city"]["sites"][2].pop("link_mbps")),
        "sites[2].link_mbps",
        "needs link_mbps",
    )


def test_zone_site_must_exist(small_city):
    find(
        errors_after(
            small_city, "city.yaml", lambda d: d["city"]["zones"][0].update(site="nowhere")
        ),
        "zones[0].site",
        "unknown site 'nowhere'",
    )


def test_ipv6_prefix_must_parse(small_city):
    find(
        errors_after(
            small_city, "city.yaml", lambda d: d["city"].update(ipv6_prefix="2001:db8::1/32")
        ),
        "city.ipv6_prefix",
        "host bits",
    )


def test_city_code_is_six_digits(small_city):
    find(
        errors_after(small_city, "city.yaml", lambda d: d["city"].update(code="36")),
        "city.code",
        "pattern",
    )


def test_overlapping_ipv4_space(small_city):
    find(
        errors_after(
            small_city, "city.yaml", lambda d: d["city"]["ipv4_legacy"].append("198.18.4.0/24")
        ),
        "ipv4_legacy[1]",
        "overlaps",
    )


# --- departments.yaml ----------------------------------------------------------------


def test_duplicate_department_code(small_city):
    def change(d):
        d["departments"][1]["code"] = d["departments"][0]["code"]

    find(
        errors_after(small_city, "departments.yaml", change),
        "departments[1].code",
        "duplicate department code",
    )


def test_department_zone_must_exist(small_city):
    find(
        errors_after(
            small_city, "departments.yaml", lambda d: d["departments"][0].update(zone="mars")
        ),
        "departments[0].zone",
        "unknown zone 'mars'",
    )


def test_sensitive_owner_must_be_isolated(small_city):
    m = load_city(small_city)
    owner = next(
        s.department
        for s in m.systems
        if s.classification.value == "sensitive" and s.state.value != "retired"
    )

    def change(d):
        first(d, "departments", lambda x: x["code"] == owner)["zone"] = "shared"

    find(errors_after(small_city, "departments.yaml", change), ".zone", "owns sensitive systems")


def test_mlps_level_is_2_or_3(small_city):
    find(
        errors_after(
            small_city, "departments.yaml", lambda d: d["departments"][0].update(mlps_level=4)
        ),
        "departments[0].mlps_level",
        "2 or 3",
    )


def test_slug_is_dns_safe(small_city):
    find(
        errors_after(
            small_city, "departments.yaml", lambda d: d["departments"][0].update(slug="Bad_Slug")
        ),
        "departments[0].slug",
        "pattern",
    )


# --- systems.yaml --------------------------------------------------------------------


def test_duplicate_system_id(small_city):
    def change(d):
        d["systems"][3]["id"] = d["systems"][2]["id"]

    find(errors_after(small_city, "systems.yaml", change), "systems[3].id", "duplicate system id")


def test_unknown_department_of_system(small_city):
    find(
        errors_after(
            small_city, "systems.yaml", lambda d: d["systems"][0].update(department="NOPE")
        ),
        "systems[0].department",
        "unknown department",
    )


def test_classified_never_migrates(small_city):
    def change(d):
        s = first(d, "systems", lambda x: x["classification"] == "classified")
        s.update(state="on_cloud", target_zone="shared", wave=1)
        s.pop("location", None)

    errs = errors_after(small_city, "systems.yaml", change)
    find(errs, ".state", "classified systems are never migrated")
    find(errs, ".target_zone", "never have a cloud target")
    find(errs, ".wave", "never in a migration wave")


def test_sensitive_only_isolated(small_city):
    def change(d):
        first(d, "systems", lambda x: x["classification"] == "sensitive" and x.get("target_zone"))[
            "target_zone"
        ] = "shared"

    find(
        errors_after(small_city, "systems.yaml", change),
        ".target_zone",
        "sensitive systems only land in an isolated zone",
    )


def test_on_cloud_needs_target(small_city):
    def change(d):
        first(d, "systems", lambda x: x["state"] == "on_cloud").pop("target_zone")

    find(errors_after(small_city, "systems.yaml", change), ".target_zone", "needs a target_zone")


def test_legacy_needs_known_room(small_city):
    def change(d):
        first(d, "systems", lambda x: x["state"] == "legacy")["location"] = "MR-NOWHERE-01"

    find(errors_after(small_city, "systems.yaml", change), ".location", "unknown machine room")


def test_legacy_not_in_consolidated_room(small_city):
    m = load_city(small_city)
    room = next(r.id for r in m.machine_rooms if r.state.value == "consolidated")

    def change(d):
        first(d, "systems", lambda x: x["state"] == "legacy")["location"] = room

    find(errors_after(small_city, "systems.yaml", change), ".location", "is consolidated")


def test_data_fits_storage(small_city):
    def change(d):
        d["systems"][0].update(storage_gib=10.0, data_gib=20.0)

    find(
        errors_after(small_city, "systems.yaml", change),
        "systems[0].data_gib",
        "exceeds storage_gib",
    )


# --- machine_rooms.yaml --------------------------------------------------------------


def test_room_department_must_exist(small_city):
    find(
        errors_after(
            small_city,
            "machine_rooms.yaml",
            lambda d: d["machine_rooms"][0].update(department="ZZZ"),
        ),
        "machine_rooms[0].department",
        "unknown department",
    )


def test_duplicate_room(small_city):
    find(
        errors_after(
            small_city,
            "machine_rooms.yaml",
            lambda d: d["machine_rooms"].append(dict(d["machine_rooms"][0])),
        ),
        "id",
        "duplicate machine room id",
    )


# --- network.yaml --------------------------------------------------------------------


def county(d):
    return d["counties"][0]


def test_duplicate_hostname(small_city):
    def change(d):
        county(d)["devices"][1]["hostname"] = county(d)["devices"][0]["hostname"]

    find(
        errors_after(small_city, "network.yaml", change),
        "devices[1].hostname",
        "duplicate hostname",
    )


def test_county_needs_dual_uplinks(small_city):
    def change(d):
        county(d)["devices"][0]["uplinks"] = county(d)["devices"][0]["uplinks"][:1]

    find(errors_after(small_city, "network.yaml", change), "devices[0].uplinks", "dual link")


def test_city_core_needs_dual_uplinks(small_city):
    def change(d):
        d["city_core"]["devices"][0]["uplinks"] = []

    find(
        errors_after(small_city, "network.yaml", change),
        "city_core.devices[0].uplinks",
        "dual link",
    )


def test_uplink_peer_must_be_parent_device(small_city):
    def change(d):
        county(d)["townships"][0]["devices"][0]["uplinks"][0]["peer"] = "core-01"

    find(
        errors_after(small_city, "network.yaml", change),
        "uplinks[0].peer",
        "is not a device of parent site",
    )


def test_village_code_nests_in_township(small_city):
    def change(d):
        county(d)["townships"][0]["villages"][0]["code"] = "369901999001"

    find(
        errors_after(small_city, "network.yaml", change),
        "villages[0].code",
        "village code is its township's",
    )


def test_duplicate_site_code(small_city):
    def change(d):
        vs = county(d)["townships"][0]["villages"]
        vs[1]["code"] = vs[0]["code"]

    find(
        errors_after(small_city, "network.yaml", change), "villages[1].code", "duplicate site code"
    )


def test_mgmt_address_inside_legacy_space(small_city):
    def change(d):
        county(d)["devices"][0]["mgmt_ipv4"] = "203.0.113.9"

    find(
        errors_after(small_city, "network.yaml", change),
        "devices[0].mgmt_ipv4",
        "outside the city's ipv4_legacy",
    )


def test_duplicate_mgmt_address(small_city):
    def change(d):
        county(d)["devices"][1]["mgmt_ipv4"] = county(d)["devices"][0]["mgmt_ipv4"]

    find(
        errors_after(small_city, "network.yaml", change),
        "devices[1].mgmt_ipv4",
        "duplicate management address",
    )


def test_child_not_dual_stack_before_parent(small_city):
    def change(d):
        c = next(c for c in d["counties"] if c["ipv6"] == "pending")
        t = c["townships"][0]
        t["ipv6"] = "dual_stack"

    find(errors_after(small_city, "network.yaml", change), ".ipv6", "while its parent")


def test_device_role_matches_level(small_city):
    def change(d):
        county(d)["devices"][0]["role"] = "cpe"

    find(
        errors_after(small_city, "network.yaml", change), "devices[0].role", "has role aggregation"
    )


def test_device_family_must_belong_to_its_platform(small_city):
    def change(d):
        dev = county(d)["devices"][0]
        dev["platform"], dev["family"] = "cisco_ios", "ce"

    find(
        errors_after(small_city, "network.yaml", change),
        "devices[0].family",
        "not a cisco_ios family",
    )


def test_unknown_platform(small_city):
    find(
        errors_after(
            small_city, "network.yaml", lambda d: county(d)["devices"][0].update(platform="junos")
        ),
        "devices[0].platform",
        "junos",
    )


def test_every_system_of_a_sensitive_department_is_isolated(small_city):
    m = load_city(small_city)
    owner = next(
        s.department for s in m.systems if s.classification.value == "sensitive" and s.cloud_bound
    )

    def change(d):
        s = first(
            d,
            "systems",
            lambda x: (
                x["department"] == owner
                and x["classification"] == "non_classified"
                and x.get("target_zone")
                and x["state"] != "retired"
            ),
        )
        s["target_zone"] = "shared"

    find(
        errors_after(small_city, "systems.yaml", change),
        ".target_zone",
        "owns sensitive systems, so all its systems",
    )


def test_data_larger_than_a_zero_storage_is_refused(small_city):
    def change(d):
        d["systems"][0].update(storage_gib=0, data_gib=1000)

    edit_yaml(small_city, "systems.yaml", change)
    with pytest.raises(InvalidModel, match=r"systems\[0\].data_gib: data_gib 1000 exceeds"):
        load_city(small_city)


@pytest.mark.parametrize("prefix", ["fe80::%eth0/32", "::/0", "ff00::/8", "2001:db8::/56"])
def test_the_aggregate_is_global_or_ula_and_short_enough(small_city, prefix):
    edit_yaml(small_city, "city.yaml", lambda d: d["city"].update(ipv6_prefix=prefix))
    with pytest.raises(InvalidModel, match=r"city.ipv6_prefix"):
        load_city(small_city)


@pytest.mark.parametrize("value", [True, float("inf"), float("nan")])
def test_numbers_are_finite_and_never_booleans(small_city, value):
    edit_yaml(small_city, "systems.yaml", lambda d: d["systems"][0].update(vcpu=value))
    with pytest.raises(InvalidModel, match=r"systems\[0\]"):
        load_city(small_city)
