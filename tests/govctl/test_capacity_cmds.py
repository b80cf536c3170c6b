"""`govctl capacity report|export`: flags, exit codes and output."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from govctl.app import main

CITY = str(Path(__file__).resolve().parents[2] / "examples/sample-city")


def test_report_json_names_the_systems_to_compress(capsys):
    assert main(["capacity", "report", CITY, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] == 1
    assert data["compress"] and all(
        c["cpu_recommended"] < c["cpu_request"] for c in data["compress"]
    )
    assert data["totals"]["city"]["compress_candidates"] == len(data["compress"])


def test_report_settings_change_the_verdict(capsys):
    assert main(["capacity", "report", CITY, "--json", "--set", "compress_threshold=0.05"]) == 0
    strict = json.loads(capsys.readouterr().out)
    assert main(["capacity", "report", CITY, "--json"]) == 0
    default = json.loads(capsys.readouterr().out)
    assert len(strict["compress"]) < len(default["compress"])
    assert strict["totals"]["settings"]["compress_threshold"] == 0.05


def test_report_human_form_writes_the_chart(capsys, tmp_path):
    chart = tmp_path / "out" / "cap.png"
    chart.parent.mkdir()
    assert main(["capacity", "report", CITY, "--chart", str(chart)]) == 0
    out = capsys.readouterr().out
    assert "Systems to compress" in out and f"chart written to {chart}" in out
    assert chart.read_bytes()[:4] == b"\x89PNG"


def test_export_then_report_from_the_file(capsys, tmp_path):
    path = tmp_path / "usage.om"
    assert main(["capacity", "export", CITY, "--out", str(path)]) == 0
    capsys.readouterr()
    assert main(["capacity", "report", CITY, "--metrics-file", str(path), "--json"]) == 0
    from_file = json.loads(capsys.readouterr().out)
    assert main(["capacity", "report", CITY, "--json"]) == 0
    from_history = json.loads(capsys.readouterr().out)
    assert [c["system"] for c in from_file["compress"]] == [
        c["system"] for c in from_history["compress"]
    ]


def test_bad_input_exits_2_without_traceback(capsys, tmp_path):
    assert (
        main(
            [
                "capacity",
                "report",
                CITY,
                "--prometheus",
                "http://127.0.0.1:9",
                "--metrics-file",
                "x.om",
            ]
        )
        == 2
    )
    assert "at most one" in capsys.readouterr().err
    assert main(["capacity", "report", CITY, "--set", "compress_threshold=2"]) == 2
    assert "compress_threshold" in capsys.readouterr().err
    assert main(["capacity", "report", CITY, "--set", "nonsense=1"]) == 2
    assert "nonsense" in capsys.readouterr().err
    bad = tmp_path / "bad.om"
    bad.write_text('govcloud_system_cpu_usage_cores{system="fgw-001"} x 1\n# EOF\n')
    assert main(["capacity", "report", CITY, "--metrics-file", str(bad), "--json"]) == 2
    captured = capsys.readouterr()
    assert "bad.om:1: value: not a number" in captured.err and "Traceback" not in captured.err
    assert captured.out == ""
    assert main(["capacity", "report", CITY, "--prometheus", "http://127.0.0.1:9", "--json"]) == 2
    assert "cannot query Prometheus" in capsys.readouterr().err
    out = tmp_path / "never.om"
    assert main(["capacity", "export", CITY, "--metrics-file", str(bad), "--out", str(out)]) == 2
    assert not out.exists()


def test_exporter_reports_a_busy_port(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["exporter", CITY, "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    assert main(["exporter", CITY, "--port", "0"]) == 2  # out of range: typer's own check


def test_exporter_refuses_an_interval_that_is_not_a_finite_second_to_a_day(capsys):
    for bad in ("inf", "nan", "-1", "0.5", "1e9"):
        assert main(["exporter", CITY, "--refresh-interval", bad, "--port", "1"]) == 2, bad
        assert "--refresh-interval" in capsys.readouterr().err


def test_set_refuses_non_finite_values(capsys):
    for bad in ("inf", "nan", "-inf"):
        assert main(["capacity", "report", CITY, "--set", f"cpu_percentile={bad}"]) == 2
        assert "--set: cpu_percentile" in capsys.readouterr().err
