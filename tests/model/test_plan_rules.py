"""The plans' cross-file rules (model/plan_rules.py), one mutation at a time, and the
bureau's registers failing cleanly with `file:line: field: message`."""

from __future__ import annotations

import pytest

from govctl.app import main
from model import InvalidModel, load_city
from tests.helpers import SAMPLE_CITY, edit_yaml
from tests.model.test_rules import errors_after, find


def _first(items, pred):
    return next(i for i, x in enumerate(items) if pred(x))


def test_sample_city_carries_the_registers():
    m = load_city(SAMPLE_CITY)
    assert m.targets.plan_start is not None and len(m.targets.targets) >= 40
    assert {t.year for t in m.targets.targets} == {2023, 2024, 2025}
    assert {n.state.value for n in m.private_networks} >= {"kept", "migrated", "to_migrate"}
    assert {e.kind.value for e in m.exceptions} == {"system_off_cloud", "room", "private_line"}
    assert {p.year for p in m.projects} >= {2023, 2024, 2025}
    assert sum(1 for r in m.machine_rooms if r.stays) >= 10
    assert any(s.role.value == "backup_isolated" for s in m.city.sites)


def test_missing_registers_read_as_empty(small_city):
    for name in ("targets.yaml", "private_networks.yaml", "exceptions.yaml", "projects.yaml"):
        (small_city / name).unlink()

    def unstay(d):
        for r in d["machine_rooms"]:
            if r.get("stays") == "exception":
                del r["stays"]

    edit_yaml(small_city, "machine_rooms.yaml", unstay)
    m = load_city(small_city)
    assert m.private_networks == [] and m.exceptions == [] and m.targets.targets == []


def test_classified_system_on_the_extranet(small_city):
    def change(d):
        i = _first(d["systems"], lambda s: s["classification"] == "classified")
        d["systems"][i]["network"] = "extranet"

    find(errors_after(small_city, "systems.yaml", change), ".network", "never runs on the extranet")


def test_offsite_site_in_the_same_city(small_city):
    def change(d):
        i = _first(d["city"]["sites"], lambda s: s["role"] == "backup_offsite")
        d["city"]["sites"][i]["city"] = d["city"]["sites"][0]["city"]

    find(errors_after(small_city, "city.yaml", change), ".city", "must be in another city")


def test_sensitive_backups_need_an_isolated_site_in_the_city(small_city):
    def drop(d):
        d["city"]["sites"] = [s for s in d["city"]["sites"] if s["role"] != "backup_isolated"]

    find(errors_after(small_city, "city.yaml", drop), "sites", "need a backup_isolated site")


def test_isolated_backup_site_in_another_city(small_city):
    def move(d):
        i = _first(d["city"]["sites"], lambda s: s["role"] == "backup_isolated")
        d["city"]["sites"][i]["city"] = "邻江市"

    find(errors_after(small_city, "city.yaml", move), ".city", "keeps sensitive data in the city")


def test_room_stays_classified_without_a_classified_system(small_city):
    def change(d):
        i = _first(d["machine_rooms"], lambda r: r.get("stays") == "exception")
        d["machine_rooms"][i]["stays"] = "classified"

    find(errors_after(small_city, "machine_rooms.yaml", change), ".stays", "holds no classified")


def test_room_stays_by_exception_needs_the_exception(small_city):
    edit_yaml(
        small_city,
        "exceptions.yaml",
        lambda d: d.update(exceptions=[e for e in d["exceptions"] if e["kind"] != "room"]),
    )
    with pytest.raises(InvalidModel) as info:
        load_city(small_city)
    find(info.value.errors, ".stays", "has no room exception")


def test_private_network_rules(small_city):
    def change(d):
        nets = d["private_networks"]
        pending = _first(nets, lambda n: n["state"] in ("to_migrate", "migrating"))
        del nets[pending]["target_date"]
        nets[_first(nets, lambda n: n["state"] == "migrated")]["systems"].append("nope-001")
        nets.append(dict(nets[0]))

    errs = errors_after(small_city, "private_networks.yaml", change)
    find(errs, ".target_date", "needs the target_date")
    find(errs, "", "unknown system 'nope-001'")
    find(errs, ".id", "duplicate private network id")


def test_private_system_needs_a_carrier(small_city):
    def change(d):
        nets = d["private_networks"]
        i = _first(nets, lambda n: n["state"] != "migrated" and n["systems"])
        nets[i]["systems"] = nets[i]["systems"][1:]

    find(
        errors_after(small_city, "private_networks.yaml", change), ".network", "carries it on none"
    )


def test_exception_subject_and_dates(small_city):
    def change(d):
        d["exceptions"][0]["subject"] = "ghost-999"
        d["exceptions"][1]["expires"] = "2000-01-01"

    errs = errors_after(small_city, "exceptions.yaml", change)
    find(errs, "exceptions[0].subject", "unknown")
    find(errs, "exceptions[1].expires", "expires before it was approved")


def test_project_security_exceeds_total(small_city):
    def change(d):
        p = d["projects"][0]
        p["security_wan"] = p["total_wan"] + 1

    find(errors_after(small_city, "projects.yaml", change), ".security_wan", "exceeds")


def test_unknown_indicator_and_duplicate_target(small_city):
    def change(d):
        d["targets"][0]["indicator"] = "happiness_rate"
        d["targets"].append(dict(d["targets"][1]))

    errs = errors_after(small_city, "targets.yaml", change)
    find(errs, "targets[0].indicator", "unknown indicator 'happiness_rate'")
    find(errs, ".year", "duplicate target")


def test_targets_assigned_to_a_county_or_department(small_city):
    def change(d):
        ts = d["targets"]
        county = _first(ts, lambda t: "county" in t)
        dept = _first(ts, lambda t: "department" in t)
        ts.append(dict(ts[county]))  # the same county's target twice
        ts[county]["department"] = ts[dept]["department"]  # both: refused
        ts[dept]["department"] = "NOPE"
        ts.append({**ts[0], "county": "369999000000"})

    errs = errors_after(small_city, "targets.yaml", change)
    find(errs, ".department", "one county or one department, not both")
    find(errs, ".department", "unknown department 'NOPE'")
    find(errs, ".county", "unknown county 369999000000")
    find(errs, ".year", "duplicate target: a second one for ipv6_rollout.village of county")
    assert all(e.line > 1 for e in errs)  # file:line: field: message, as every register


def test_mlps_level_above_the_tenant(small_city):
    def change(d):
        i = _first(
            d["systems"],
            lambda s: s.get("mlps_level") == 2 and s["state"] == "on_cloud",
        )
        d["systems"][i]["mlps_level"] = 4

    find(
        errors_after(small_city, "systems.yaml", change), ".mlps_level", "cannot run in department"
    )


def test_crypto_date_without_verdict(small_city):
    def change(d):
        i = _first(d["systems"], lambda s: s.get("crypto_assessment") == "passed")
        d["systems"][i]["crypto_assessment"] = "not_assessed"

    find(errors_after(small_city, "systems.yaml", change), ".crypto_assessed", "give both")


def test_unknown_county(small_city):
    def change(d):
        d["systems"][0]["county"] = "369999000000"

    find(errors_after(small_city, "systems.yaml", change), "systems[0].county", "unknown county")


@pytest.mark.parametrize(
    "name,text,field",
    [
        (
            "targets.yaml",
            "targets:\n- indicator: cloud_adoption_rate\n  year: 2025\n  target: 80\n",
            "target",
        ),
        ("projects.yaml", "projects:\n- id: P1\n  name: x\n  year: twenty\n", "year"),
        (
            "exceptions.yaml",
            "exceptions:\n- kind: room\n  subject: MR-X\n  approved_on: soon\n",
            "approved_on",
        ),
        ("private_networks.yaml", "private_networks:\n- id: PN-1\n  kind: satellite\n", "kind"),
    ],
)
def test_bad_register_is_located_and_exit_2(small_city, capsys, name, text, field):
    (small_city / name).write_text(text, encoding="utf-8")
    assert main(["validate", str(small_city)]) == 2
    err = capsys.readouterr().err
    hits = [
        ln for ln in err.splitlines() if ln.startswith(f"{small_city}/{name}:") or f"{name}:" in ln
    ]
    assert any(f".{field}:" in ln and ":" in ln.split(name, 1)[1] for ln in hits), err
    line = next(ln for ln in hits if f".{field}:" in ln)
    number = int(line.split(f"{name}:", 1)[1].split(":", 1)[0])
    assert f"{field}:" in text.splitlines()[number - 1]
