"""MLPS level-3 evidence per system (capacity/compliance.py): controls are looked up in the
objects the tenants program renders; a control with nothing behind it is a gap."""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest

from capacity.compliance import CONTROLS, evidence
from govctl.app import main
from infra import encryption as enc
from infra.render import render
from infra.settings import StackSettings
from model import load_city
from tests.helpers import SAMPLE_CITY, edit_yaml

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
        crypt = c["encryption"]
        assert crypt["status"] == "provided", (s["system"], crypt["note"])
        kinds = {e["kind"] for e in crypt["evidence"]}
        assert {"BackupStorageLocation", "Namespace", "NetworkPolicy"} <= kinds
        assert all(
            e["key"].startswith(enc.BACKUP_KEY_SECRET + "/")
            for e in crypt["evidence"]
            if e["kind"] == "BackupStorageLocation"
        )
        assert s["crypto_requirements"]["storage"] == "应"  # every listed system is level 3+


def test_a_volume_claim_names_its_encrypted_class(report):
    with_volume = [
        s
        for s in report["systems"]
        if s["cluster"]
        and any(
            e["kind"] == "PersistentVolumeClaim"
            for c in s["controls"]
            if c["id"] == "encryption"
            for e in c["evidence"]
        )
    ]
    assert with_volume
    for s in with_volume:
        ev = next(c for c in s["controls"] if c["id"] == "encryption")["evidence"]
        assert {"kind": "StorageClass", "name": enc.storage_class_name(s["cluster"])}.items() <= (
            next(e for e in ev if e["kind"] == "StorageClass").items()
        )


def _strip_volume(objs: list[dict], sid: str, ns: str) -> None:
    for o in objs:
        if o["kind"] == "PersistentVolumeClaim" and o["metadata"]["name"] == f"{sid}-data":
            o["spec"].pop("storageClassName")


def _strip_backup_key(objs: list[dict], sid: str, ns: str) -> None:
    for o in objs:
        if o["kind"] == "BackupStorageLocation":
            o["spec"]["config"].pop("customerKeyEncryptionFile")


def _strip_mesh(objs: list[dict], sid: str, ns: str) -> None:
    for o in objs:
        if o["kind"] == "Namespace" and o["metadata"]["name"] == ns:
            o["metadata"]["annotations"].pop(enc.INBOUND_POLICY)


@pytest.mark.parametrize(
    "strip, says",
    [
        (_strip_volume, "not on an encrypted storage class"),
        (_strip_backup_key, "are not encrypted"),
        (_strip_mesh, "not in the mesh"),
    ],
)
def test_a_tenant_rendered_without_encryption_fails(small_city_master, strip, says):
    """The check reads the rendered objects: take one piece of encryption out of them and
    the system that relied on it has a gap (and the others keep theirs)."""
    m = load_city(small_city_master)
    objects = render(m, StackSettings(model=str(small_city_master))).objects
    whole = evidence(m, AS_OF, rendered=objects)
    target = next(
        s for s in whole["systems"] if s["cluster"] and m.systems_by_id[s["system"]].storage_gib > 0
    )
    ns = m.departments_by_code[target["department"]].slug
    broken = copy.deepcopy(objects)
    strip(broken[target["cluster"]], target["system"], ns)
    after = _by_id(evidence(m, AS_OF, rendered=broken))
    row = after[target["system"]]["encryption"]
    assert whole["summary"]["encryption"]["gap"] == 0
    assert row["status"] == "gap" and says in row["note"], row["note"]


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


def test_the_warm_replicas_volume_is_checked_on_the_dr_cluster():
    """A level-5+ system's replica holds its data on the DR cluster: an unencrypted claim
    there is a gap even when the primary's is encrypted."""
    m = load_city(SAMPLE_CITY)
    objects = render(m, StackSettings(model=str(SAMPLE_CITY))).objects
    whole = _by_id(evidence(m, AS_OF, rendered=objects))
    sid = next(
        s
        for s, c in whole.items()
        if c["redundancy"]["status"] == "provided" and m.systems_by_id[s].storage_gib > 0
    )
    dr = next(e["cluster"] for e in whole[sid]["redundancy"]["evidence"])
    assert dr in {e["cluster"] for e in whole[sid]["encryption"]["evidence"]}
    broken = copy.deepcopy(objects)
    _strip_volume(broken[dr], sid, "")
    row = _by_id(evidence(m, AS_OF, rendered=broken))[sid]["encryption"]
    assert row["status"] == "gap" and f"on {dr} is not on an encrypted" in row["note"]


def test_the_table_names_each_systems_crypto_level(small_city, capsys, monkeypatch):
    from govctl.common import console

    monkeypatch.setattr(console, "_width", 300)  # one line per row; restored exactly after
    assert main(["compliance", str(small_city), "--as-of", "2026-10-31"]) == 0
    lines = capsys.readouterr().out.splitlines()
    data = evidence(load_city(small_city), AS_OF)
    assert any("密码" in line and "encryption" in line for line in lines)
    for s in data["systems"]:
        row = next(line for line in lines if f" {s['system']} " in line)
        assert f" {s['crypto_level']} " in row, row
