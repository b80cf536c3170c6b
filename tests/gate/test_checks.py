"""The go/no-go gate (`govctl plan`): the sample city is a go; crafted cities that do not
fit are a no-go (exit 3) with their reasons named — never a validation error (exit 2)."""

from __future__ import annotations

import json

import pytest

from govctl.app import main
from model.synth import SynthSpec, write
from tests.helpers import SAMPLE_CITY, edit_yaml


def plan(capsys, city, *extra) -> tuple[int, dict]:
    # two replications inline: a finding that always occurs has p = 1, one that never does 0
    code = main(["plan", str(city), "--json", "--replications", "2", "--jobs", "1", *extra])
    out = capsys.readouterr().out
    return code, json.loads(out)


def checks_of(data, check):
    return [r for r in data["reasons"] if r["check"] == check]


def test_sample_city_is_a_go(capsys):
    code, data = plan(capsys, SAMPLE_CITY)
    assert code == 0 and data["decision"] == "go", data["reasons"]
    assert data["schema_version"] == 2 and data["wave"] == 1
    assert all(c["status"] == "pass" for c in data["checks"].values())
    assert data["adoption_after_wave"] > data["kpi"]["cloud_adoption_rate"]
    assert set(data["capacity"]) == {"shared", "isolated", "xinchuang"}


def big_wave(d, zone: str, dept: str, room: str, n: int, vcpu: int, memory: int) -> None:
    for i in range(n):
        d["systems"].append(
            {
                "id": f"bulk-{i:03d}",
                "department": dept,
                "name": f"批量迁移系统{i}",
                "classification": "non_classified",
                "state": "legacy",
                "location": room,
                "target_zone": zone,
                "wave": 1,
                "vcpu": vcpu,
                "memory_gib": memory,
                "storage_gib": 100.0,
                "data_gib": 10.0,
                "daily_change_ratio": 0.01,
                "dr_level": 2,
                "ipv6_ready": True,
                "network": "extranet",
            }
        )


def xinchuang_dept(city):
    import yaml

    depts = yaml.safe_load((city / "departments.yaml").read_text(encoding="utf-8"))["departments"]
    rooms = yaml.safe_load((city / "machine_rooms.yaml").read_text(encoding="utf-8"))[
        "machine_rooms"
    ]
    dept = next(d["code"] for d in depts if d["zone"] == "xinchuang")
    room = next(r["id"] for r in rooms if r["state"] == "active")
    return dept, room


def test_a_wave_too_big_for_its_zone_is_a_no_go(small_city, tmp_path, capsys):
    dept, room = xinchuang_dept(small_city)
    edit_yaml(
        small_city,
        "systems.yaml",
        lambda d: big_wave(d, "xinchuang", dept, room, n=60, vcpu=16, memory=64),
    )
    code, data = plan(capsys, small_city, "--lock", str(tmp_path / "lock.yaml"))
    assert code == 3 and data["decision"] == "no-go"
    subjects = {(r["check"], r["subject"]) for r in data["reasons"]}
    assert ("quota_exceeded", dept) in subjects
    assert {("zone_capacity", "xinchuang"), ("zone_peak", "xinchuang")} & subjects
    assert not {s for c, s in subjects if c in ("zone_peak", "zone_capacity") and s != "xinchuang"}
    peak = next(r for r in data["reasons"] if r["check"] in ("zone_peak", "zone_capacity"))
    assert peak["value"] > peak["limit"]


def test_a_system_larger_than_any_node_is_a_no_go_not_an_input_error(small_city, tmp_path, capsys):
    dept, room = xinchuang_dept(small_city)
    edit_yaml(
        small_city,
        "systems.yaml",
        lambda d: big_wave(d, "xinchuang", dept, room, n=1, vcpu=1000, memory=4000),
    )
    assert main(["validate", str(small_city)]) == 0
    capsys.readouterr()
    code, data = plan(
        capsys, small_city, "--lock", str(tmp_path / "lock.yaml"), "--skip", "capacity"
    )
    assert code == 3
    (r,) = checks_of(data, "system_exceeds_node")
    assert r["subject"] == "bulk-000"


def test_an_offsite_link_too_slow_for_the_rpo_is_a_no_go(small_city, tmp_path, capsys):
    def slow(d):
        for site in d["city"]["sites"]:
            if site["role"] == "backup_offsite":
                site["link_mbps"] = 1

    edit_yaml(small_city, "city.yaml", slow)
    code, data = plan(capsys, small_city, "--lock", str(tmp_path / "lock.yaml"))
    assert code == 3
    rpo = checks_of(data, "rpo")
    assert rpo, data["reasons"]
    assert all(r["value"] > r["limit"] for r in rpo)
    assert (
        data["checks"]["backup"]["status"] == "fail"
        and data["checks"]["capacity"]["status"] == "pass"
    )


def test_an_exhausted_ipv6_block_is_a_no_go(tmp_path, capsys):
    city = tmp_path / "city"
    write(
        SynthSpec(
            seed=3,
            counties=1,
            townships_per=1,
            villages_per=20,
            departments=8,
            systems=20,
            history_days=1,
        ),
        city,
    )
    edit_yaml(city, "city.yaml", lambda d: d["city"].update(ipv6_prefix="2001:db8::/48"))
    code, data = plan(capsys, city, "--lock", str(tmp_path / "lock.yaml"), "--skip", "tenants")
    assert code == 3
    (r,) = checks_of(data, "ipv6_block_exhausted")
    assert "township" in r["message"]
    assert not (tmp_path / "lock.yaml").exists(), "a plan is a dry run: no lock is written"


def test_thresholds_are_settings(small_city, tmp_path, capsys):
    settings = tmp_path / "gate.yaml"
    settings.write_text("gate:\n  target_utilisation: 0.01\n", encoding="utf-8")
    code, data = plan(
        capsys,
        small_city,
        "--lock",
        str(tmp_path / "lock.yaml"),
        "--settings",
        str(settings),
        "--skip",
        "tenants",
        "--skip",
        "backup",
    )
    assert code == 3 and checks_of(data, "zone_peak")
    assert data["settings"]["target_utilisation"] == 0.01


@pytest.mark.parametrize("argv", [["--skip", "nothing"], ["--settings", "missing.yaml"]])
def test_bad_flags_are_exit_2(small_city, capsys, argv):
    assert main(["plan", str(small_city), *argv]) == 2


def test_a_dr_cluster_too_small_for_a_city_wide_failover_is_a_no_go(small_city, tmp_path, capsys):
    def tiny_dr(d):
        for site in d["city"]["sites"]:
            if site["role"] == "dr_same_city":
                site["node_groups"] = [
                    {"arch": "amd64", "nodes": 1, "node_vcpu": 8, "node_memory_gib": 16}
                ]

    edit_yaml(small_city, "city.yaml", tiny_dr)
    code, data = plan(
        capsys, small_city, "--lock", str(tmp_path / "lock.yaml"), "--skip", "tenants"
    )
    assert code == 3
    lost = checks_of(data, "dr_capacity")
    assert lost and all(r["probability"] == 1.0 for r in lost)
    assert any("no arm64 nodes" in r["message"] for r in lost)  # the 信创 zone's systems
    assert any("no room" in r["message"] for r in lost)


def test_a_dr_link_below_the_replication_write_rate_is_a_no_go(small_city, tmp_path, capsys):
    def thin(d):
        for site in d["city"]["sites"]:
            if site["role"] == "dr_same_city":
                site["link_mbps"] = 1

    edit_yaml(small_city, "city.yaml", thin)
    code, data = plan(
        capsys, small_city, "--lock", str(tmp_path / "lock.yaml"), "--skip", "tenants"
    )
    assert code == 3
    (r,) = checks_of(data, "replication")
    assert r["subject"] == "dr-dc" and r["value"] > 0 and "Mbit/s short" in r["message"]
    assert data["backup"]["replication_violations"][0]["shortfall_mbps"] == r["value"]


def test_restores_that_fail_make_the_rto_a_no_go_and_verified_copies_a_go(
    small_city, tmp_path, capsys
):
    # every restore attempt finds its copy unreadable: the systems that restore (levels 1–3)
    # cannot be recovered in the city-wide failover, in every replication
    def run(rate):
        settings = tmp_path / f"restore-{rate}.yaml"
        settings.write_text(f"backup:\n  restore_failure_rate: {rate}\n", encoding="utf-8")
        return plan(
            capsys,
            small_city,
            "--lock",
            str(tmp_path / "lock.yaml"),
            "--skip",
            "tenants",
            "--settings",
            str(settings),
        )

    code, data = run(1.0)
    assert code == 3 and data["checks"]["backup"]["status"] == "fail"
    failed = checks_of(data, "restore_failed")
    assert failed and all(r["probability"] == 1.0 for r in failed)
    assert all("restore failed 3 time(s)" in r["message"] for r in failed)
    assert {r["subject"] for r in failed} <= set(data["backup"]["rto_violations"])
    # the same city with copies that verify (restore tests passed): a go
    code, data = run(0.0)
    assert code == 0 and data["decision"] == "go", data["reasons"]
    assert not checks_of(data, "restore_failed") and data["backup"]["rto_violations"] == []


def test_a_zone_whose_storage_fills_past_its_target_is_a_no_go(small_city, tmp_path, capsys):
    # the shared zone's storage sized at 90% of what its systems hold after the next wave:
    # the fit check passes (it fits), the simulated capacity check refuses it (above 85%);
    # sized at twice the demand, it holds through the year's growth
    from model import load_city

    m = load_city(small_city)
    demand = sum(
        s.storage_gib for s in m.on_cloud_systems(m.next_wave) if s.target_zone == "shared"
    )

    def size(gib):
        def edit(d):
            for z in d["city"]["zones"]:
                if z["name"] == "shared":
                    z["storage_gib"] = gib

        edit_yaml(small_city, "city.yaml", edit)
        return plan(capsys, small_city, "--lock", str(tmp_path / "lock.yaml"), "--skip", "tenants")

    code, data = size(round(demand / 0.9, 1))
    assert code == 3 and data["checks"]["fit"]["status"] == "pass"
    (r,) = checks_of(data, "zone_storage")
    assert r["subject"] == "shared" and r["probability"] == 1.0
    assert r["value"] > r["limit"] == 0.85 and data["capacity"]["shared"]["storage_gib"] > demand
    code, data = size(round(demand * 2, 1))
    assert code == 0 and not checks_of(data, "zone_storage"), data["reasons"]
    assert data["capacity"]["shared"]["peak_storage_allocation"] < 0.85
