"""Where utilisation comes from: one interface, three implementations.

A source turns a city model into `{system_id: Series}` (epoch seconds, CPU cores, memory
bytes — see `model.history.Series`). The assessment never knows which one it was given.

- `HistorySource` — the 30-day history committed beside the model (`utilisation.csv.gz`),
  the default: offline and reproducible.
- `PrometheusSource` — a real Prometheus server's HTTP API (`/api/v1/query_range`), PromQL
  over the cAdvisor and kube-state-metrics series a Kubernetes cluster exposes:

  | series (exporter)                                     | labels used                         |
  |-------------------------------------------------------|-------------------------------------|
  | `container_cpu_usage_seconds_total` (cAdvisor)        | `namespace`, `pod`, `container`     |
  | `container_memory_working_set_bytes` (cAdvisor)       | `namespace`, `pod`, `container`     |
  | `kube_pod_labels` (kube-state-metrics)                | `namespace`, `pod`, `label_govcloud_system` |

  Workloads carry the pod label `govcloud/system: <system id>`; kube-state-metrics exports it
  as `label_govcloud_system` when started with `--metric-labels-allowlist=pods=[govcloud/system]`.
  Container usage is summed per system across pods and namespaces (`container!=""` and
  `container!="POD"` drop the pod-level and pause-container series).
- `MetricsFileSource` — an exported OpenMetrics file (`capacity/metrics_file.py`).

Failures of a source are `SourceError`s (a message the CLI shows, exit 2) or, for files,
`InvalidModel` with located lines.
"""

from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from capacity.metrics_file import read_metrics_file
from model.city import CityModel
from model.history import Series, load_history
from model.inputs import short

SYSTEM_LABEL = "label_govcloud_system"
PROMETHEUS_MAX_POINTS = 11_000  # the server refuses longer query_range results
PROMETHEUS_MAX_BYTES = 1 << 30
"""An answer is read up to this many bytes (20,000 systems × 720 points is about 0.5 GB)."""


class SourceError(Exception):
    """A source could not deliver (server down, bad answer): the caller decides what to do."""


class UtilisationSource(Protocol):
    @property
    def name(self) -> str: ...

    def describe(self) -> str: ...

    def fetch(self, model: CityModel) -> dict[str, Series]: ...


@dataclass(frozen=True)
class HistorySource:
    """The history file beside the city model (or another path in the same format)."""

    path: Path | None = None
    name: str = "history"

    def describe(self) -> str:
        return f"history {self.path or 'utilisation.csv.gz'}"

    def fetch(self, model: CityModel) -> dict[str, Series]:
        return load_history(self.path or model.history_path, known_systems=set(model.systems_by_id))


@dataclass(frozen=True)
class MetricsFileSource:
    path: Path
    name: str = "metrics_file"

    def describe(self) -> str:
        return f"metrics file {self.path}"

    def fetch(self, model: CityModel) -> dict[str, Series]:
        return read_metrics_file(self.path, known_systems=set(model.systems_by_id))


def parse_duration(text: str) -> float:
    """A Prometheus duration ('30d', '5m', '1h30m', '15s') in seconds."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    total, num, i = 0.0, "", 0
    text = text.strip()
    while i < len(text):
        ch = text[i]
        if ch.isdigit():
            num += ch
            i += 1
            continue
        unit = "ms" if text.startswith("ms", i) else ch
        if not num or unit not in units:
            raise ValueError(f"not a duration like 30d, 5m or 1h30m: {text!r}")
        total += int(num) * units[unit]
        num, i = "", i + len(unit)
    if num or total <= 0:
        raise ValueError(f"not a duration like 30d, 5m or 1h30m: {text!r}")
    return total


@dataclass(frozen=True)
class PrometheusSource:
    """Usage per system from a Prometheus server, over `window` ending now, every `step`."""

    url: str
    window: str = "30d"
    step: str = "1h"
    rate: str = "5m"
    namespace_regex: str = ".+"
    timeout_s: float = 30.0
    name: str = "prometheus"

    def describe(self) -> str:
        return f"prometheus {self.url} (window {self.window}, step {self.step})"

    def queries(self) -> dict[str, str]:
        pods = f'max by (namespace, pod, {SYSTEM_LABEL}) (kube_pod_labels{{{SYSTEM_LABEL}!=""}})'
        sel = f'container!="", container!="POD", namespace=~"{self.namespace_regex}"'
        join = f"* on (namespace, pod) group_left ({SYSTEM_LABEL}) {pods}"
        return {
            "cpu": f"sum by ({SYSTEM_LABEL}) (rate(container_cpu_usage_seconds_total{{{sel}}}[{self.rate}]) {join})",
            "memory": f"sum by ({SYSTEM_LABEL}) (container_memory_working_set_bytes{{{sel}}} {join})",
        }

    def fetch(self, model: CityModel, now: float | None = None) -> dict[str, Series]:
        try:
            window, step = parse_duration(self.window), parse_duration(self.step)
            parse_duration(self.rate)
        except ValueError as exc:
            raise SourceError(str(exc)) from None
        if window / step > PROMETHEUS_MAX_POINTS:
            raise SourceError(
                f"window {self.window} / step {self.step} exceeds Prometheus's "
                f"{PROMETHEUS_MAX_POINTS:,} points per series; use a larger step"
            )
        end = math.floor((now if now is not None else time.time()) / step) * step
        start = end - window + step
        matrices = {k: self._query_range(q, start, end, step) for k, q in self.queries().items()}
        known = set(model.systems_by_id)
        cpu = _by_system(matrices["cpu"], known)
        mem = _by_system(matrices["memory"], known)
        out = {}
        for system in sorted(set(cpu) & set(mem)):
            (tc, vc), (tm, vm) = cpu[system], mem[system]
            t, ic, im = np.intersect1d(tc, tm, assume_unique=True, return_indices=True)
            if len(t):
                out[system] = Series(t, vc[ic], vm[im])
        return out

    def _query_range(self, query: str, start: float, end: float, step: float) -> list[_Series]:
        params = urllib.parse.urlencode(
            {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        )
        url = f"{self.url.rstrip('/')}/api/v1/query_range"
        try:
            req = urllib.request.Request(
                url,
                data=params.encode(),
                method="POST",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                raw = resp.read(PROMETHEUS_MAX_BYTES + 1)
        except urllib.error.HTTPError as exc:
            detail = _error_text(exc)
            raise SourceError(f"{url}: HTTP {exc.code}: {str(detail)[:200]}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SourceError(
                f"{url}: cannot query Prometheus: {getattr(exc, 'reason', exc)}"
            ) from None
        if len(raw) > PROMETHEUS_MAX_BYTES:
            raise SourceError(f"{url}: an answer over {PROMETHEUS_MAX_BYTES:,} bytes")
        try:
            answer = _Answer.model_validate_json(raw)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "answer"
            raise SourceError(
                f"{url}: unexpected answer: {where}: {first['msg']} ({short(raw[:200])})"
            ) from None
        return answer.data.result


class _Series(BaseModel):
    metric: dict[str, str] = {}
    values: list[tuple[float, str]] = Field(default_factory=list, max_length=PROMETHEUS_MAX_POINTS)


class _Data(BaseModel):
    resultType: Literal["matrix"]
    result: list[_Series]


class _Answer(BaseModel):
    """The part of a query_range answer we read (Prometheus HTTP API, "Range queries")."""

    status: Literal["success"]
    data: _Data


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read(1 << 16))
        return str(body.get("error", exc.reason) if isinstance(body, dict) else exc.reason)
    except (ValueError, OSError):
        return str(exc.reason)


def _by_system(result: list[_Series], known: set[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Matrix result → {system: (t, values)}; series for systems not in the model are skipped."""
    out = {}
    for series in result:
        system = series.metric.get(SYSTEM_LABEL)
        if system not in known:
            continue
        try:
            pts = np.array([(t, float(v)) for t, v in series.values], dtype=float).reshape(-1, 2)
        except ValueError as exc:
            raise SourceError(f"Prometheus series of {system}: {short(str(exc))}") from None
        pts = pts[np.isfinite(pts[:, 1])]
        out[system] = (pts[:, 0], pts[:, 1])
    return out


def choose(
    prometheus: str | None = None, metrics_file: Path | None = None, **prom_options
) -> UtilisationSource:
    """The source a command line asked for: at most one of `prometheus` and `metrics_file`."""
    if prometheus and metrics_file:
        raise SourceError("give at most one of --prometheus and --metrics-file")
    if prometheus:
        try:
            parts = urllib.parse.urlsplit(prometheus)
            parts.port  # noqa: B018  (raises ValueError on a bad port)
        except ValueError as exc:
            raise SourceError(f"{short(prometheus)}: not a URL ({exc})") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SourceError(f"--prometheus wants an http(s) URL, got {short(prometheus)}")
        return PrometheusSource(
            prometheus, **{k: v for k, v in prom_options.items() if v is not None}
        )
    if metrics_file:
        return MetricsFileSource(metrics_file)
    return HistorySource()
