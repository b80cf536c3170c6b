"""Utilisation sources: the metrics file format, the Prometheus client's queries and errors.

The Prometheus source is checked here against a small stdlib HTTP server that records the
queries and answers like Prometheus does; the real server is exercised by
tests/monitoring/test_exporter_prometheus.py.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from capacity.metrics_file import CPU_METRIC, MEMORY_METRIC, read_metrics_file, write_metrics_file
from capacity.sources import (
    HistorySource,
    MetricsFileSource,
    PrometheusSource,
    SourceError,
    choose,
    parse_duration,
)
from model import InvalidModel

CITY = str(Path(__file__).resolve().parents[2] / "examples/sample-city")


def test_metrics_file_round_trip(city, history, tmp_path):
    subset = {k: history[k] for k in sorted(history)[:12]}
    path = tmp_path / "usage.om"
    n = write_metrics_file(path, subset)
    assert n == 2 * sum(len(s.t) for s in subset.values())
    text = path.read_text()
    assert text.endswith("# EOF\n") and f"# UNIT {CPU_METRIC} cores" in text
    back = MetricsFileSource(path).fetch(city)
    assert set(back) == set(subset)
    for k, s in subset.items():
        np.testing.assert_array_equal(back[k].t, s.t)
        np.testing.assert_allclose(back[k].cpu, s.cpu, rtol=1e-5)
        np.testing.assert_allclose(back[k].memory, s.memory, rtol=0, atol=0.5)


def test_metrics_file_errors_are_located(city, tmp_path):
    path = tmp_path / "bad.om"
    path.write_text(
        "\n".join(
            [
                f"# TYPE {CPU_METRIC} gauge",
                f'{CPU_METRIC}{{system="fgw-001"}} 1.5 1000',  # 2 ok
                f'{CPU_METRIC}{{system="nope-001"}} 1.5 1000',  # 3 unknown system
                f'{CPU_METRIC}{{system="fgw-001"}} -1 2000',  # 4 negative
                f'{CPU_METRIC}{{sys="fgw-001"}} 1 3000',  # 5 no system label
                f'{CPU_METRIC}{{system="fgw-001"}} abc 4000',  # 6 not a number
                "garbage",  # 7 not a sample
                f'{MEMORY_METRIC}{{system="fgw-001"}} 100 1000',  # 8 ok, pairs with line 2
                f'{CPU_METRIC}{{system="fgw-001"}} 1.5 1000',  # 9 duplicate of line 2
                "# EOF",
            ]
        )
        + "\n"
    )
    with pytest.raises(InvalidModel) as exc:
        read_metrics_file(path, known_systems=set(city.systems_by_id))
    lines = {(e.line, e.field) for e in exc.value.errors}
    assert lines == {
        (3, "system"),
        (4, "value"),
        (5, "system"),
        (6, "value"),
        (7, ""),
        (9, "timestamp"),
    }
    assert all(e.path.endswith("bad.om") for e in exc.value.errors)


def test_metrics_file_needs_eof_and_paired_samples(tmp_path):
    path = tmp_path / "noeof.om"
    path.write_text(
        f'{CPU_METRIC}{{system="fgw-001"}} 1 1000\n{MEMORY_METRIC}{{system="fgw-001"}} 1 1000\n'
    )
    with pytest.raises(InvalidModel, match="EOF"):
        read_metrics_file(path)
    path.write_text(
        f'{CPU_METRIC}{{system="fgw-001"}} 1 1000\n{CPU_METRIC}{{system="fgw-001"}} 1 2000\n'
        f'{MEMORY_METRIC}{{system="fgw-001"}} 1 1000\n# EOF\n'
    )
    with pytest.raises(InvalidModel) as exc:
        read_metrics_file(path)
    assert [(e.line, e.field) for e in exc.value.errors] == [(2, "timestamp")]
    with pytest.raises(InvalidModel, match="missing"):
        read_metrics_file(tmp_path / "absent.om")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30d", 2592000), ("5m", 300), ("1h30m", 5400), ("15s", 15), ("250ms", 0.25)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "m", "5x", "-5m", "0s"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError):
        parse_duration(text)


class _FakePrometheus(BaseHTTPRequestHandler):
    """Answers /api/v1/query_range like Prometheus, from `self.server.answers` by query kind."""

    def do_POST(self):  # noqa: N802
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.server.seen.append({k: v[0] for k, v in form.items()})
        status, body = self.server.answer(form["query"][0], form)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_prometheus():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakePrometheus)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _matrix(series: dict[str, list[tuple[float, float]]]) -> dict:
    return {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                {"metric": {"label_govcloud_system": k}, "values": [[t, str(v)] for t, v in pts]}
                for k, pts in series.items()
            ],
        },
    }


def test_prometheus_source_queries_and_pairs_samples(city, fake_prometheus):
    def answer(query, form):
        if "container_cpu_usage_seconds_total" in query:
            return 200, _matrix(
                {
                    "fgw-001": [(3600, 1.5), (7200, 2.5)],
                    "unknown-9": [(3600, 9)],
                    "gaj-001": [(3600, 1)],
                }
            )
        return 200, _matrix({"fgw-001": [(3600, 1e9), (7200, 2e9), (10800, 3e9)]})

    fake_prometheus.answer = answer
    url = f"http://127.0.0.1:{fake_prometheus.server_port}"
    src = PrometheusSource(url, window="3h", step="1h", rate="10m")
    usage = src.fetch(city, now=10800 + 100)
    assert set(usage) == {"fgw-001"}  # unknown systems and systems without memory are dropped
    np.testing.assert_array_equal(usage["fgw-001"].t, [3600, 7200])
    np.testing.assert_array_equal(usage["fgw-001"].cpu, [1.5, 2.5])
    np.testing.assert_array_equal(usage["fgw-001"].memory, [1e9, 2e9])
    cpu_q, mem_q = (s["query"] for s in fake_prometheus.seen)
    assert "rate(container_cpu_usage_seconds_total{" in cpu_q and "[10m]" in cpu_q
    assert "container_memory_working_set_bytes{" in mem_q
    for q in (cpu_q, mem_q):
        assert (
            'container!="POD"' in q
            and "kube_pod_labels" in q
            and "sum by (label_govcloud_system)" in q
        )
    assert {s["start"] for s in fake_prometheus.seen} == {"3600.000"} and fake_prometheus.seen[0][
        "end"
    ] == "10800.000"


def test_prometheus_source_errors(city, fake_prometheus):
    fake_prometheus.answer = lambda q, f: (
        400,
        {"status": "error", "errorType": "bad_data", "error": "parse error at char 3"},
    )
    url = f"http://127.0.0.1:{fake_prometheus.server_port}"
    with pytest.raises(SourceError, match="HTTP 400: parse error at char 3"):
        PrometheusSource(url).fetch(city)
    with pytest.raises(SourceError, match="11,000 points"):
        PrometheusSource(url, window="30d", step="1m").fetch(city)
    with pytest.raises(SourceError, match="duration"):
        PrometheusSource(url, window="forever").fetch(city)
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    with pytest.raises(SourceError, match="cannot query Prometheus"):
        PrometheusSource(f"http://127.0.0.1:{closed}", timeout_s=2).fetch(city)


def test_choose():
    assert isinstance(choose(), HistorySource)
    assert isinstance(choose(metrics_file=Path("x.om")), MetricsFileSource)
    src = choose("http://127.0.0.1:9090", window="7d", step=None)
    assert isinstance(src, PrometheusSource) and src.window == "7d" and src.step == "1h"
    with pytest.raises(SourceError, match="at most one"):
        choose("http://127.0.0.1:9090", Path("x.om"))
    with pytest.raises(SourceError, match="URL"):
        choose("127.0.0.1:9090")


@pytest.mark.parametrize(
    "body",
    [
        [],
        "a string",
        {"status": "success", "data": {"resultType": "matrix", "result": None}},
        {"status": "success", "data": {"resultType": "vector", "result": []}},
        {"status": "success", "data": []},
        {"status": "success", "data": {"resultType": "matrix", "result": [{"values": "x"}]}},
        _matrix({"fgw-001": [(3600, "not-a-number")]}),
        {"status": "success", "data": {"resultType": "matrix", "result": [{"values": [[1]]}]}},
    ],
)
def test_prometheus_answers_of_the_wrong_shape_are_url_errors(city, fake_prometheus, body):
    fake_prometheus.answer = lambda q, f: (200, body)
    url = f"http://127.0.0.1:{fake_prometheus.server_port}"
    with pytest.raises(SourceError) as info:
        PrometheusSource(url, window="3h", step="1h").fetch(city, now=10900)
    assert str(info.value).startswith((url, "Prometheus series")) and len(str(info.value)) < 600


@pytest.mark.parametrize(
    "bad", ["http://[::1", "http://host:99999", "http://", "ftp://h/", "x" * 500]
)
def test_choose_refuses_malformed_urls(bad):
    with pytest.raises(SourceError) as info:
        choose(bad)
    assert len(str(info.value)) < 300
