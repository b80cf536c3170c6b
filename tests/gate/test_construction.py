"""The plans' new-construction rule in `govctl plan` (gate/construction.py), and zone storage
in the fit check."""

from __future__ import annotations

import dataclasses
from datetime import date

from gate.checks import evaluate
from gate.construction import breaches
from model import load_city
from tests.gate.test_checks import checks_of, plan
from tests.helpers import SAMPLE_CITY, edit_yaml

FAST = ["--skip", "tenants", "--skip", "capacity", "--skip", "backup", "--skip", "ipv6"]


def test_sample_exceptions_cover_its_new_construction():
    m = load_city(SAMPLE_CITY)
    assert breaches(m, date(2026, 11, 1)) == []
    stripped = dataclasses.replace(m, exceptions=[])
    kinds = {b.kind for b in breaches(stripped, date(2026, 11, 1))}
    assert kinds == {"system_off_cloud", "room", "private_line"}


def test_new_system_off_the_cloud_is_a_no_go(small_city, capsys):
    picked = {}

    def legacy_new(d):
        s = next(
            s
            for s in d["systems"]
            if s["state"] == "legacy" and s["classification"] == "non_classified"
        )
        s["introduced"] = "2024-05-01"
        picked["id"] = s["id"]

    edit_yaml(small_city, "systems.yaml", legacy_new)
    edit_yaml(
        small_city,
        "exceptions.yaml",
        lambda d: d.update(exceptions=[e for e in d["exceptions"] if e["subject"] != picked["id"]]),
    )
    code, data = plan(capsys, small_city, *FAST)
    assert code == 3 and data["decision"] == "no-go"
    hits = [r for r in checks_of(data, "new_construction") if r["subject"] == picked["id"]]
    assert hits and "no exception in exceptions.yaml" in hits[0]["message"]
    assert hits[0]["limit"] == "system_off_cloud" and hits[0]["value"] == "2024-05-01"

    edit_yaml(  # approved, then expired
        small_city,
        "exceptions.yaml",
        lambda d: d["exceptions"].append(
            {
                "kind": "system_off_cloud",
                "subject": picked["id"],
                "reason": "试点",
                "approved_by": "市大数据局",
                "approved_on": "2024-04-01",
                "expires": "2024-12-31",
            }
        ),
    )
    code, data = plan(capsys, small_city, *FAST)
    hits = [r for r in checks_of(data, "new_construction") if r["subject"] == picked["id"]]
    assert code == 3 and "expired on 2024-12-31" in hits[0]["message"]


def test_enlarged_room_and_new_private_line(small_city):
    def enlarge(d):
        r = next(
            r
            for r in d["machine_rooms"]
            if r["state"] == "active" and r.get("stays") != "exception"
        )
        r["enlarged"] = "2025-03-01"

    edit_yaml(small_city, "machine_rooms.yaml", enlarge)

    def new_line(d):
        n = next(n for n in d["private_networks"] if n["state"] != "migrated")
        n["introduced"] = "2024-08-08"

    edit_yaml(small_city, "private_networks.yaml", new_line)
    edit_yaml(
        small_city,
        "exceptions.yaml",
        lambda d: d.update(exceptions=[e for e in d["exceptions"] if e["kind"] == "room"]),
    )
    found = {b.kind for b in breaches(load_city(small_city), date(2026, 1, 1))}
    assert {"room", "private_line"} <= found


def test_no_plan_start_no_rule(small_city):
    edit_yaml(small_city, "targets.yaml", lambda d: d.pop("plan_start"))
    edit_yaml(
        small_city,
        "exceptions.yaml",
        lambda d: d.update(exceptions=[e for e in d["exceptions"] if e["kind"] == "room"]),
    )
    assert breaches(load_city(small_city)) == []


def test_zone_storage_capacity_is_a_fit_no_go(small_city):
    edit_yaml(
        small_city,
        "city.yaml",
        lambda d: [z.update(storage_gib=100) for z in d["city"]["zones"] if z["name"] == "shared"],
    )
    run = evaluate(load_city(small_city), skip={"tenants", "capacity", "backup", "ipv6"})
    storage = [r for r in run.reasons if r.check == "zone_capacity" and "storage" in r.message]
    assert storage and storage[0].subject == "shared" and storage[0].limit == 100
