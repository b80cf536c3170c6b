"""`govctl simulate …`: flags, exit codes and the files written."""

from __future__ import annotations

import json
import threading

from govctl.app import main

CITY = "examples/sample-city"


def test_rollout_writes_json_markdown_and_plot(tmp_path, capsys):
    out = tmp_path / "sim"
    assert (
        main(
            [
                "simulate",
                "rollout",
                CITY,
                "--out",
                str(out),
                "--seed",
                "3",
                "--forks",
                "40",
                "--replications",
                "4",
                "--jobs",
                "1",
            ]
        )
        == 0
    )
    data = json.loads((out / "rollout.json").read_text())
    assert (
        data["schema_version"] == 1
        and data["settings"]["forks"] == 40
        and len(data["totals_h"]) == 4
    )
    assert (out / "rollout.md").read_text().startswith("# Rollout duration")
    assert (out / "rollout-duration.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "rollout of 1,565 devices" in capsys.readouterr().out


def test_backup_and_capacity_write_their_reports(tmp_path):
    out = tmp_path / "sim"
    assert main(["simulate", "backup", CITY, "--out", str(out), "--days", "2"]) == 0
    assert main(["simulate", "capacity", CITY, "--out", str(out), "--years", "0.2"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {
        "backup.json",
        "backup.md",
        "backup-window.png",
        "backup-rpo.png",
        "capacity.json",
        "capacity.md",
        "capacity-shared.png",
    } <= names
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], (
        "no staging folder left behind"
    )


def test_bad_settings_file_is_located_and_nothing_is_written(tmp_path, capsys):
    cfg = tmp_path / "s.yaml"
    cfg.write_text("backup:\n  streams: 4\n  compresion: 0.5\n")
    out = tmp_path / "sim"
    assert main(["simulate", "backup", CITY, "--out", str(out), "--settings", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "s.yaml:3: backup.compresion: unknown key" in err
    assert not out.exists()


def test_days_over_the_settings_budget_is_refused_not_run(tmp_path, capsys):
    """`--days` goes through the settings' validation and work budget like the file's `days`:
    a located error and exit 2 at once, instead of 3660 nights simulated."""
    cfg = tmp_path / "s.yaml"
    cfg.write_text("budget:\n  max_events: 3.0e+4\n")  # the file's own 30 nights are within it
    out = tmp_path / "sim"
    argv = ["simulate", "backup", CITY, "--out", str(out), "--settings", str(cfg), "--days", "3660"]
    result: list[int] = []
    t = threading.Thread(target=lambda: result.append(main(argv)), daemon=True)
    t.start()
    t.join(60)
    assert result == [2]
    err = " ".join(capsys.readouterr().err.split())
    assert "s.yaml:1: backup.outage_mean_h: implies 4.39e+04 outage ends per link" in err, err
    assert "(with backup.days = 3660 from the command line)" in err
    assert not out.exists()


def test_validate_prints_json_with_the_closed_form(capsys):
    assert (
        main(
            [
                "simulate",
                "validate",
                "--model",
                "erlang-b",
                "--servers",
                "3",
                "--load",
                "2",
                "--replications",
                "3",
                "--customers",
                "2000",
                "--jobs",
                "1",
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] == 1 and 0 < data["p_block"] < 1
    assert abs(data["p_block_exact"] - 0.210526) < 1e-6  # Erlang B(3, 2) = 4/19


def test_validate_rejects_an_unstable_queue(capsys):
    assert (
        main(["simulate", "validate", "--model", "erlang-c", "--servers", "2", "--load", "2"]) == 2
    )
    assert "load < servers" in capsys.readouterr().err


def test_validate_precision_runs_until_the_half_width_is_met(capsys):
    argv = ["simulate", "validate", "--model", "erlang-b", "--servers", "3", "--load", "2"]
    argv += ["--replications", "3", "--customers", "4000", "--jobs", "1", "--precision", "0.05"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "precision 5.00% met after" in out
    assert main([*argv[:-2], "--precision", "0", "--json"]) == 2  # out of range: a flag error


def test_capacity_replications_give_the_peaks_distribution(tmp_path):
    out = tmp_path / "sim"
    argv = ["simulate", "capacity", CITY, "--out", str(out), "--years", "0.1"]
    assert main([*argv, "--replications", "3", "--jobs", "1"]) == 0
    data = json.loads((out / "capacity.json").read_text())
    shared = data["replications"]["zones"]["shared"]
    assert data["replications"]["replications"] == 3 and len(shared["peaks"]) == 3
    assert shared["peak_utilisation"]["min"] == min(shared["peaks"])
    assert data["zones"]["shared"]["peak_utilisation"] == shared["peaks"][0]
    assert (out / "capacity-peaks.png").exists() and "Across 3 replications" in (
        out / "capacity.md"
    ).read_text()
