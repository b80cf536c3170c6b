"""MLPS level-3 evidence per system (capacity/compliance.py): controls are looked up in the
objects the tenants program renders; a control with nothing behind it is a gap."""

from __future__ import annotations

import json
from datetime import date

import pytest

from capacity.compliance import CONTROLS, evidence
from govctl.app import main
from model import load_city
from tests.helpers import edit_yaml

AS_OF = date(2026, 10, 31)


@pytest.fixture(scope="module")
def report(small_city_master):
    return evidence(load_city(small_city_master), AS_OF)


def _by_id(report):
    return {s["system"]: {c["id"]: c for c in s["controls"]} for s in report["systems"]}


def test_every_level_3_system_is_listed_with_every_control(report, small_city_master):
    m = load_city(small_city_master)
    graded = {s.id for s in m.systems if (s.mlps_level or 0) >= 3}
    listed = {s["system"] for s in report["systems"]}
    assert graded <= listed and report["schema_version"] == 1
    for s in report["systems"]:
        assert [c["id"] for c in s["controls"]] == [c.id for c in CONTROLS]


def test_platform_controls_name_the_rendered_objects(report):
    on_cloud = [s for s in report["systems"] if s["cluster"]]
    assert on_cloud
    for s in on_cloud:
        c = {r["id"]: r for r in s["controls"]}
        assert c["network_policy"]["status"] == "provided"
        assert "default-deny" in {e["name"] for e in c["network_policy"]["evidence"]}
        assert c["isolation"]["evidence"][0]["kind"] == "Namespace"
        assert c["backup"]["evidence"] and all(
            e["kind"] == "Schedule" for e in c["backup"]["evidence"]
        )
        assert c["encryption"]["status"] == "gap"  # nothing rendered for it yet: said so


def test_sensitive_backups_are_evidenced_in_the_city(report, small_city_master):
    m = load_city(small_city_master)
    home = m.site("primary").city
    sensitive = [
        s for s in report["systems"] if s["cluster"] and s["classification"] == "sensitive"
    ]
    assert sensitive
    for s in sensitive:
        backup = next(c for c in s["controls"] if c["id"] == "backup")
        assert backup["status"] == "provided" and f"({home})" in backup["note"]
        assert "leaves the city" not in backup["note"]


def test_systems_off_the_platform_are_not_credited(report):
    off = [s for s in report["systems"] if not s["cluster"]]
    assert off
    for s in off:
        c = {r["id"]: r["status"] for r in s["controls"]}
        assert c["isolation"] == c["backup"] == "not_on_platform"


def test_unfiled_system_is_a_filing_gap(small_city, capsys):
    picked = {}

    def unfile(d):
        s = next(
            s
            for s in d["systems"]
            if s.get("mlps_level") == 3 and s.get("mlps_filed") and not s.get("mlps_assessed")
        )
        del s["mlps_filed"]
        picked["id"] = s["id"]

    edit_yaml(small_city, "systems.yaml", unfile)
    assert main(["compliance", str(small_city), "--json", "--as-of", "2026-10-31"]) == 0
    data = json.loads(capsys.readouterr().out)
    row = next(s for s in data["systems"] if s["system"] == picked["id"])
    assert "filing" in row["gaps"]
    assert data["summary"]["filing"]["gap"] >= 1
