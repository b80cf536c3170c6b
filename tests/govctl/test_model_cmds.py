"""KPIs from the model, the synthetic-city generator, the history file, and their commands."""

from __future__ import annotations

import gzip
import json

import pytest
import yaml

from capacity import kpi
from govctl.app import main
from model import InvalidModel, load_city
from model.history import load_history
from model.synth import SynthSpec, generate, write
from tests.helpers import edit_yaml


def raw(city, name):
    return yaml.safe_load((city / name).read_text(encoding="utf-8"))


def test_kpis_match_a_count_of_the_raw_yaml(small_city):
    systems = raw(small_city, "systems.yaml")["systems"]
    bound = [s for s in systems if s["classification"] != "classified" and s["state"] != "retired"]
    rooms = raw(small_city, "machine_rooms.yaml")["machine_rooms"]
    data = kpi.compute(load_city(small_city))
    assert data["schema_version"] == 1
    assert data["cloud_adoption_rate"] == pytest.approx(
        sum(s["state"] == "on_cloud" for s in bound) / len(bound), abs=1e-6
    )
    may_consolidate = [r for r in rooms if "stays" not in r]
    assert len(may_consolidate) < len(rooms)  # rooms that must stay leave the denominator
    assert data["machine_room_consolidation_rate"] == pytest.approx(
        sum(r["state"] == "consolidated" for r in may_consolidate) / len(may_consolidate), abs=1e-6
    )
    nets = [n for n in raw(small_city, "private_networks.yaml")["private_networks"]]
    to_migrate = [n for n in nets if n["state"] != "kept"]
    assert data["private_network_migration_rate"] == pytest.approx(
        sum(n["state"] == "migrated" for n in to_migrate) / len(to_migrate), abs=1e-6
    )
    villages = [
        v
        for c in raw(small_city, "network.yaml")["counties"]
        for t in c["townships"]
        for v in t["villages"]
    ]
    covered = [v for v in villages if v["devices"]]
    assert data["extranet_coverage"]["village"] == pytest.approx(
        len(covered) / len(villages), abs=1e-6
    )
    assert data["ipv6_rollout"]["village"] == pytest.approx(
        sum(v["ipv6"] == "dual_stack" for v in covered) / len(covered), abs=1e-6
    )


def test_adoption_after_a_wave_counts_the_wave(small_city):
    m = load_city(small_city)
    before = kpi.cloud_adoption_rate(m)
    wave = m.next_wave
    after = kpi.cloud_adoption_rate(m, wave=3)
    assert wave is not None and after > before
    assert set(kpi.blocking_systems(m, wave=3)) < set(kpi.blocking_systems(m))


def test_all_on_cloud_is_full_adoption(small_city):
    def change(d):
        for s in d["systems"]:
            if s["classification"] != "classified" and s["state"] != "retired":
                s["state"] = "on_cloud"
                s.pop("location", None)
                s.setdefault(
                    "target_zone", "isolated" if s["classification"] == "sensitive" else "shared"
                )

    edit_yaml(small_city, "systems.yaml", change)
    assert kpi.compute(load_city(small_city))["cloud_adoption_rate"] == 1.0


def test_kpi_json_command(small_city, capsys):
    assert main(["kpi", str(small_city), "--json", "--year", "2025", "--as-of", "2025-06-30"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] == 2 and data["year"] == 2025
    rows = {i["key"]: i for i in data["indicators"]}
    assert {f"ipv6_rollout.{lvl}" for lvl in ("city", "county", "township", "village")} <= set(rows)
    adoption = rows["cloud_adoption_rate"]
    assert adoption["target"] == 0.8 and adoption["kind"] == "binding"
    assert "Nanchang" in adoption["source"]
    assert [p["year"] for p in adoption["path"]] == [2023, 2024, 2025]


def test_kpi_by_county_and_bad_flags(small_city, capsys):
    assert main(["kpi", str(small_city), "--json", "--by", "county"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["by"] == "county" and data["groups"][0]["group"] == "city"
    assert main(["kpi", str(small_city), "--by", "township"]) == 2
    assert "--by wants one of county, department" in capsys.readouterr().err
    assert main(["kpi", str(small_city), "--as-of", "yesterday"]) == 2


def test_kpi_by_quarter(small_city, capsys):
    args = ["kpi", str(small_city), "--period", "quarter", "--as-of", "2025-06-30"]
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["period"] == "quarter" and len(data["periods"]) == len(data["indicators"])
    assert [c["period"] for c in data["periods"][0]["periods"]][-2:] == ["2025-Q1", "2025-Q2"]
    assert main(args) == 0
    assert "by quarter, against the plan-year path" in capsys.readouterr().out
    assert main(["kpi", str(small_city), "--period", "week"]) == 2
    assert "--period wants one of month, quarter" in capsys.readouterr().err


def test_kpi_record_appends_dated_rows(small_city, capsys):
    history = small_city / "kpi_history.jsonl"
    assert main(["kpi", str(small_city), "--record", "--as-of", "2025-03-31"]) == 0
    first = history.read_bytes()
    capsys.readouterr()
    assert main(["kpi", str(small_city), "--record", "--as-of", "2025-06-30", "--json"]) == 0
    after = history.read_bytes()
    assert after.startswith(first)  # earlier rows are never rewritten
    rows = [json.loads(line) for line in after.decode().splitlines()]
    assert [r["date"] for r in rows] == ["2025-03-31", "2025-06-30"]
    assert all(r["schema_version"] == 1 for r in rows)
    data = json.loads(capsys.readouterr().out)
    adoption = next(i for i in data["indicators"] if i["key"] == "cloud_adoption_rate")
    assert [h["date"] for h in adoption["history"]][:1] == ["2025-03-31"]


def test_kpi_history_bad_row_is_located(small_city, capsys):
    history = small_city / "kpi_history.jsonl"
    assert main(["kpi", str(small_city), "--record", "--as-of", "2025-03-31"]) == 0
    with history.open("a", encoding="utf-8") as fh:
        fh.write('{"schema_version": 1, "date": "2025-13-01"}\n')
    before = history.read_bytes()
    assert main(["kpi", str(small_city), "--record"]) == 2
    err = capsys.readouterr().err
    assert "kpi_history.jsonl:2: date:" in err
    assert history.read_bytes() == before  # nothing appended after a bad row
    assert main(["validate", str(small_city)]) == 2


def test_kpi_table_command(small_city, capsys):
    assert main(["kpi", str(small_city)]) == 0
    out = capsys.readouterr().out
    assert "上云率" in out and "80.0%" in out
    assert "machine rooms that stay" in out


def test_synth_is_deterministic_and_seed_sensitive():
    spec = SynthSpec(seed=3, counties=2, townships_per=2, villages_per=2, departments=8, systems=30)
    assert generate(spec) == generate(spec)
    assert generate(spec) != generate(SynthSpec(**{**spec.__dict__, "seed": 4}))


@pytest.mark.parametrize("counties,townships,villages", [(1, 1, 1), (3, 2, 5), (101, 1, 1)])
def test_synth_sizes_validate(tmp_path, counties, townships, villages):
    spec = SynthSpec(
        seed=counties,
        counties=counties,
        townships_per=townships,
        villages_per=villages,
        departments=60,
        systems=120,
        machine_rooms=10,
        history_days=2,
    )
    counts = write(spec, tmp_path)
    m = load_city(tmp_path)
    assert (
        counts["villages"]
        == counties * townships * villages
        == sum(1 for s in m.sites() if s.level == "village")
    )
    assert len(m.departments) == 60 and len({d.slug for d in m.departments}) == 60


def test_synth_command_writes_a_valid_city(tmp_path, capsys):
    out = tmp_path / "c"
    code = main(
        [
            "model",
            "synth",
            "--out",
            str(out),
            "--seed",
            "5",
            "--counties",
            "2",
            "--townships-per",
            "2",
            "--villages-per",
            "2",
            "--departments",
            "6",
            "--systems",
            "20",
            "--machine-rooms",
            "4",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert main(["validate", str(out)]) == 0
    assert not list(tmp_path.glob(".c.staging-*")), "staging folder left behind"


def test_synth_rejects_bad_flags(tmp_path, capsys):
    assert main(["model", "synth", "--out", str(tmp_path), "--counties", "0"]) == 2


def test_history_covers_on_cloud_systems(small_city):
    m = load_city(small_city)
    hist = load_history(m.history_path, set(m.systems_by_id))
    on_cloud = {s.id for s in m.systems if s.state.value == "on_cloud"}
    assert set(hist) == on_cloud
    series = next(iter(hist.values()))
    assert series.days == pytest.approx(30.0)
    assert (series.cpu >= 0).all() and (series.memory > 0).all()


def test_history_bad_rows_are_located(small_city):
    m = load_city(small_city)
    lines = gzip.decompress(m.history_path.read_bytes()).decode().splitlines()
    lines[5] = "2026-10-01T05:00:00Z,nobody-001,1.0,100"
    lines[9] = "yesterday,x,1,1"
    m.history_path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    with pytest.raises(InvalidModel) as info:
        load_history(m.history_path, set(m.systems_by_id))
    assert [(e.line, e.field) for e in info.value.errors] == [(6, "system"), (10, "timestamp")]
