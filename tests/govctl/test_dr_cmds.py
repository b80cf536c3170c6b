"""`govctl dr` and `govctl lab k8s` as shells: refusals and exit codes that need no tools
(the real runs are in tests/infra/test_engine_k8s.py)."""

from __future__ import annotations

import json

from govctl.app import main
from infra import plan as planner
from lab import k8s, kubeconfig
from tests.helpers import SAMPLE_CITY


def test_failover_of_a_system_below_level_5_is_refused_before_the_engine_runs(
    city, tmp_path, capsys
):
    s = next(s for s in city.on_cloud_systems() if s.dr_level < 5)
    code = main(
        [
            "dr",
            "failover",
            str(SAMPLE_CITY),
            "--system",
            s.id,
            "--state",
            str(tmp_path / "st"),
        ]
    )
    assert code == 2
    assert f"system {s.id} has DR level {s.dr_level}" in capsys.readouterr().err
    assert not (tmp_path / "st").exists()


def test_failover_of_a_dr_gap_or_an_unknown_system_is_refused(city, tmp_path, capsys):
    gap = next(iter(planner.plan(city).dr_gaps))
    for system, says in (
        (gap, "stays in the isolated zone"),
        ("nope-001", "unknown system 'nope-001'"),
    ):
        code = main(
            [
                "dr",
                "failback",
                str(SAMPLE_CITY),
                "--system",
                system,
                "--state",
                str(tmp_path / "st"),
            ]
        )
        assert code == 2
        assert says in capsys.readouterr().err.replace("\n", " ")


def test_lab_k8s_status_without_a_lab(tmp_path, capsys):
    assert main(["lab", "k8s", "status", "--lab-dir", str(tmp_path)]) == 0
    assert "no control planes" in capsys.readouterr().out
    assert main(["lab", "k8s", "status", "--lab-dir", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "schema_version": 1,
        "kubeconfig": None,
        "clusters": {},
    }
    assert main(["lab", "k8s", "down", "--lab-dir", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["removed"] == []


def test_lab_k8s_up_without_the_tools_says_to_build_them(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(k8s, "TOOLS_BIN", tmp_path / "empty")
    assert main(["lab", "k8s", "up", "--lab-dir", str(tmp_path / "lab")]) == 2
    assert "make tools" in capsys.readouterr().err
    assert not (tmp_path / "lab").exists()


def test_only_kubeconfigs_the_lab_wrote_count_as_without_nodes(tmp_path):
    lab_made = tmp_path / "lab.kubeconfig"
    kubeconfig.write(lab_made, [])
    other = tmp_path / "prod.kubeconfig"
    other.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    assert k8s.without_nodes(lab_made) and not k8s.without_nodes(other)
    assert not k8s.without_nodes(tmp_path / "missing")
