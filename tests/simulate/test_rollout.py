"""Rollout model: closed forms, retries, determinism by seed."""

from __future__ import annotations

import math

import pytest

from simulate import rollout
from simulate.settings import RolloutSettings

# --- rollout -------------------------------------------------------------------------


def test_rollout_without_randomness_matches_the_closed_form(city):
    cfg = RolloutSettings(
        forks=7, push_sigma=0, failure_rate=0, replications=2, push_median_s=40, connect_s=5
    )
    r = rollout.run(city, cfg, seed=1, jobs=1)
    expected = sum(math.ceil(n / 7) * 45.0 for n in r["devices"].values()) / 3600
    assert r["total_h"]["min"] == pytest.approx(expected, abs=1e-4) and r["total_h"][
        "max"
    ] == pytest.approx(expected, abs=1e-4)
    assert r["devices"] == {"city": 2, "county": 18, "township": 108, "village": 1437}


def test_rollout_failures_add_retries_and_time(city):
    base = RolloutSettings(forks=50, replications=6)
    calm = rollout.run(city, base.model_copy(update={"failure_rate": 0.0}), seed=2, jobs=1)
    rough = rollout.run(city, base.model_copy(update={"failure_rate": 0.3}), seed=2, jobs=1)
    assert (
        calm["attempts_mean"] == sum(calm["devices"].values()) and calm["failed_devices_mean"] == 0
    )
    assert (
        rough["attempts_mean"] > calm["attempts_mean"]
        and rough["total_h"]["mean"] > calm["total_h"]["mean"]
    )
    assert rough == rollout.run(city, base.model_copy(update={"failure_rate": 0.3}), seed=2, jobs=1)
