"""Assessment and rightsizing: what each system uses, what it should request, what to compress.

Per system over the window: p50/p90/p95/max of CPU (cores) and memory (bytes), the request
(the model's `vcpu`/`memory_gib` × `replicas`), and a recommendation in the style of the
Kubernetes VPA recommender and KRR's simple strategy:

- CPU: a high percentile of usage (`cpu_percentile`, KRR's default 95) × (1 + `cpu_margin`);
- memory: the peak (`memory_percentile` 100) × (1 + `memory_margin`) — running out of memory
  kills, running out of CPU only throttles;
- both × a short-history factor `(1 + confidence_multiplier / days) ** confidence_exponent`,
  the VPA's confidence scaling: one day of history doubles the margin, 30 days add 3%;
- floors per replica (`min_cpu_cores`, `min_memory_bytes`, the VPA's 25m and 250 MiB), and
  rounding up to `cpu_step_cores` / `memory_step_bytes`.

A system is a **compression candidate** when its CPU usage stays below `compress_threshold`
(20%) of its request — its `compress_percentile` (p99: a few hours of spikes in a month do not
count) — over at least `compress_days` (30) of history. The resources freed are request minus
recommendation. Totals are kept per department and per zone (a system's `target_zone`, else
its department's zone). Every threshold above is a field of `Settings`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from pydantic import ConfigDict, Field

from model.city import CityModel
from model.history import GIB, Series
from model.schema import Bounded

MIB = 1024**2
STATS = (50, 90, 95, 100)  # reported as p50, p90, p95, max


class Settings(Bounded):
    """Every knob of the assessment, with the defaults the municipal plans and the VPA imply.
    Finite numbers only, never a boolean for a number (`model.schema.Bounded`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    cpu_percentile: float = Field(
        95, gt=0, le=100, description="usage percentile the CPU request covers"
    )
    cpu_margin: float = Field(0.15, ge=0, le=10, description="safety margin on the CPU percentile")
    memory_percentile: float = Field(
        100, gt=0, le=100, description="usage percentile the memory request covers"
    )
    memory_margin: float = Field(0.15, ge=0, le=10, description="safety margin on the memory peak")
    confidence_multiplier: float = Field(
        1.0, ge=0, le=100, description="short-history margin: (1 + m/days)^e"
    )
    confidence_exponent: float = Field(1.0, ge=0, le=10)
    min_cpu_cores: float = Field(0.025, ge=0, description="floor per replica")
    min_memory_bytes: float = Field(250 * MIB, ge=0, description="floor per replica")
    cpu_step_cores: float = Field(0.001, gt=0, description="recommendations round up to this")
    memory_step_bytes: float = Field(MIB, gt=0)
    compress_threshold: float = Field(
        0.20, gt=0, le=1, description="CPU usage below this share of request…"
    )
    compress_percentile: float = Field(
        99, gt=0, le=100, description="…at this percentile of the window…"
    )
    compress_days: float = Field(30, gt=0, description="…over at least this many days of history")
    history_tolerance: float = Field(
        0.02, ge=0, lt=1, description="share of compress_days a window may miss"
    )


@dataclass
class SystemAssessment:
    system: str
    department: str
    zone: str
    replicas: int
    days: float
    samples: int
    cpu_request: float
    memory_request_bytes: float
    cpu: dict[str, float]  # p50, p90, p95, max, last
    memory: dict[str, float]
    cpu_recommended: float
    memory_recommended_bytes: float
    compress: bool
    reason: str

    @property
    def cpu_freed(self) -> float:
        return max(0.0, self.cpu_request - self.cpu_recommended) if self.compress else 0.0

    @property
    def memory_freed_bytes(self) -> float:
        return (
            max(0.0, self.memory_request_bytes - self.memory_recommended_bytes)
            if self.compress
            else 0.0
        )


TOTAL_FIELDS = (
    "cpu_request_cores",
    "cpu_usage_cores",
    "cpu_recommended_cores",
    "cpu_freed_cores",
    "memory_request_bytes",
    "memory_usage_bytes",
    "memory_recommended_bytes",
    "memory_freed_bytes",
)


@dataclass
class Assessment:
    systems: list[SystemAssessment]
    settings: Settings
    unmeasured: list[str] = field(default_factory=list)  # on the cloud, but no usage data

    @property
    def candidates(self) -> list[SystemAssessment]:
        return [s for s in self.systems if s.compress]

    def totals_by(self, key: str) -> dict[str, dict]:
        """Totals per `department` or `zone`: requests, current usage, recommendations, freed."""
        out: dict[str, dict] = {}
        for s in self.systems:
            t = out.setdefault(
                getattr(s, key),
                {"systems": 0, "compress_candidates": 0} | {f: 0.0 for f in TOTAL_FIELDS},
            )
            t["systems"] += 1
            t["compress_candidates"] += int(s.compress)
            for f, v in _contribution(s).items():
                t[f] += v
        return {k: _rounded(v) for k, v in sorted(out.items())}

    def city_totals(self) -> dict:
        t = {"systems": len(self.systems), "compress_candidates": len(self.candidates)} | {
            f: 0.0 for f in TOTAL_FIELDS
        }
        for s in self.systems:
            for f, v in _contribution(s).items():
                t[f] += v
        return _rounded(t)


def _contribution(s: SystemAssessment) -> dict[str, float]:
    return {
        "cpu_request_cores": s.cpu_request,
        "cpu_usage_cores": s.cpu["last"],
        "cpu_recommended_cores": s.cpu_recommended,
        "cpu_freed_cores": s.cpu_freed,
        "memory_request_bytes": s.memory_request_bytes,
        "memory_usage_bytes": s.memory["last"],
        "memory_recommended_bytes": s.memory_recommended_bytes,
        "memory_freed_bytes": s.memory_freed_bytes,
    }


def _rounded(t: dict) -> dict:
    return {
        k: (round(v, 3) if k.startswith("cpu") else round(v)) if isinstance(v, float) else v
        for k, v in t.items()
    }


def _round_up(x: float, step: float) -> float:
    return math.ceil(x / step - 1e-9) * step


def confidence_factor(days: float, settings: Settings) -> float:
    """VPA-style: more margin the shorter the history (days floored at one hour)."""
    return (1 + settings.confidence_multiplier / max(days, 1 / 24)) ** settings.confidence_exponent


def _stats(values: np.ndarray, *extra: float) -> tuple[dict[str, float], list[float]]:
    """p50/p90/p95/max/last of `values`, and the `extra` percentiles, in one pass."""
    p = np.percentile(values, (*STATS, *extra)).tolist()
    return {"p50": p[0], "p90": p[1], "p95": p[2], "max": p[3], "last": float(values[-1])}, p[
        len(STATS) :
    ]


def assess_system(system, zone: str, series: Series, settings: Settings) -> SystemAssessment:
    """One system: statistics, recommendation and the compression verdict."""
    replicas = system.replicas
    cpu_req = system.vcpu * replicas
    mem_req = system.memory_gib * GIB * replicas
    days = series.days
    conf = confidence_factor(days, settings)
    cpu, (cpu_p, comp_p) = _stats(series.cpu, settings.cpu_percentile, settings.compress_percentile)
    memory, (mem_p,) = _stats(series.memory, settings.memory_percentile)
    cpu_rec = _round_up(
        max(cpu_p * (1 + settings.cpu_margin) * conf, settings.min_cpu_cores * replicas),
        settings.cpu_step_cores,
    )
    mem_rec = _round_up(
        max(mem_p * (1 + settings.memory_margin) * conf, settings.min_memory_bytes * replicas),
        settings.memory_step_bytes,
    )
    share = comp_p / cpu_req
    long_enough = days >= settings.compress_days * (1 - settings.history_tolerance)
    compress = long_enough and share < settings.compress_threshold
    pct = f"p{settings.compress_percentile:g}"
    if compress:
        reason = (
            f"CPU {pct} {comp_p:.3g} of {cpu_req:g} cores requested ({share:.1%}) stayed below "
            f"{settings.compress_threshold:.0%} for {days:.1f} days"
        )
    elif not long_enough:
        reason = f"only {days:.1f} of {settings.compress_days:g} days of history"
    else:
        reason = f"CPU {pct} at {share:.1%} of request"
    return SystemAssessment(
        system=system.id,
        department=system.department,
        zone=zone,
        replicas=replicas,
        days=round(days, 3),
        samples=len(series.t),
        cpu_request=float(cpu_req),
        memory_request_bytes=float(mem_req),
        cpu=cpu,
        memory=memory,
        cpu_recommended=round(cpu_rec, 6),
        memory_recommended_bytes=float(mem_rec),
        compress=bool(compress),
        reason=reason,
    )


def system_zone(model: CityModel, system) -> str:
    return system.target_zone or model.departments_by_code[system.department].zone


def assess(
    model: CityModel, usage: dict[str, Series], settings: Settings | None = None
) -> Assessment:
    """Assess every system that runs on the cloud and has usage data."""
    settings = settings or Settings()
    systems, unmeasured = [], []
    for s in model.on_cloud_systems():
        series = usage.get(s.id)
        if series is None or len(series.t) == 0:
            unmeasured.append(s.id)
            continue
        systems.append(assess_system(s, system_zone(model, s), series, settings))
    return Assessment(systems, settings, unmeasured)
