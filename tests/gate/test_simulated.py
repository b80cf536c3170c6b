"""The gate's simulated checks decided on replications: probabilities, their intervals,
the threshold, and the same decision from the same seeds however the replications run."""

from __future__ import annotations

import pytest

from gate import checks, simulated
from model import load_city
from simulate import replicate
from simulate.settings import Settings
from tests.helpers import SAMPLE_CITY


def _finding(subject="z", nogo=True, value=1.0):
    return simulated.Finding("zone_peak", subject, value, 0.8, f"zone {subject} over", nogo)


def test_a_finding_is_a_no_go_only_above_the_threshold():
    # 3 of 20 replications: p = 0.15 > 0.05, a reason; 1 of 20: p = 0.05, not above, a warning
    reps = [[_finding("a", value=0.9 + k / 100)] if k < 3 else [] for k in range(20)]
    reps[5].append(_finding("b"))
    decided = {f.subject: (f, p) for f, p in simulated.decide(reps, 0.05)}
    fa, pa = decided["a"]
    assert (pa["k"], pa["n"], pa["p"], pa["nogo"]) == (3, 20, 0.15, True)
    assert fa.value == pytest.approx(0.92)  # the worst replication's value
    # Wilson score interval of 3/20 (z = 1.96): 0.0524 to 0.3604
    assert pa["ci95"] == pytest.approx([0.0524, 0.3604], abs=1e-4)
    assert decided["b"][1]["p"] == 0.05 and decided["b"][1]["nogo"] is False
    # a finding that is a warning by kind never stops the plan, however often it is seen
    always_warn = [[_finding("c", nogo=False)] for _ in range(4)]
    ((_, p),) = simulated.decide(always_warn, 0.05)
    assert p["p"] == 1.0 and p["nogo"] is False


def test_proportion_interval_is_inside_zero_one_and_covers_the_estimate():
    for k, n in ((0, 1), (0, 20), (20, 20), (7, 13)):
        p = replicate.proportion(k, n)
        assert 0 <= p["ci95"][0] <= p["p"] <= p["ci95"][1] <= 1


def test_same_seeds_same_decision_inline_or_in_processes():
    m = load_city(SAMPLE_CITY)
    s = Settings.model_validate(
        {"gate": {"replications": 3, "backup_days": 2, "capacity_years": 0.2}}
    )
    skip = {"ipv6", "tenants"}
    a = checks.summary(checks.evaluate(m, None, s, 5, None, skip, jobs=1))
    b = checks.summary(checks.evaluate(m, None, s, 5, None, skip, jobs=2))
    for d in (a, b):
        for part in ("checks",):
            for c in d[part].values():
                c.pop("seconds")
    assert a == b
    reps = a["replications"]
    assert reps["capacity"]["replications"] == 3 and len(set(reps["capacity"]["seeds"])) == 3
    shared = reps["capacity"]["zones"]["shared"]
    dist = shared["peak_utilisation"]
    assert dist["min"] <= dist["p50"] <= dist["max"] and len(shared["peaks"]) == 3
    assert reps["backup"]["p_any_nogo_finding"]["n"] == 3
