"""The plans' KPIs (capacity/kpi.py): what each counts, targets by year, trend, breakdowns."""

from __future__ import annotations

import dataclasses
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capacity import kpi
from model import load_city
from model.registers import INDICATORS
from model.schema import RoomState, SystemState
from model.synth import SynthSpec, write
from tests.helpers import SAMPLE_CITY

AS_OF = date(2026, 10, 31)


@pytest.fixture(scope="module")
def sample():
    return load_city(SAMPLE_CITY)


def test_consolidation_leaves_out_rooms_that_stay_and_is_reachable(sample):
    f = kpi.figures(sample, AS_OF, 2025)["machine_room_consolidation_rate"]
    staying = [r for r in sample.machine_rooms if r.stays]
    assert f.den == len(sample.machine_rooms) - len(staying) and staying
    done = [
        r.model_copy(update={"state": RoomState.consolidated}) if r.stays is None else r
        for r in sample.machine_rooms
    ]
    after = dataclasses.replace(sample, machine_rooms=done)
    rate = kpi.figures(after, AS_OF, 2025)["machine_room_consolidation_rate"].value
    target = kpi.targets_for(sample, 2025)["machine_room_consolidation_rate"]["target"]
    assert rate == 1.0 >= target


def test_private_network_rate_counts_networks_not_systems(sample):
    f = kpi.figures(sample, AS_OF, 2025)["private_network_migration_rate"]
    nets = sample.private_networks
    assert f.den == sum(1 for n in nets if n.state.value != "kept")
    assert f.num == sum(1 for n in nets if n.state.value == "migrated")


def test_mlps_coverage_needs_a_current_assessment(sample):
    important = [s for s in sample.systems if kpi.important(sample, s)]
    covered = [s for s in important if kpi.mlps_covered(s, AS_OF)]
    assert 0 < len(covered) < len(important)
    s = covered[0]
    assert not kpi.mlps_covered(s, date(s.mlps_assessed.year + 2, 1, 1))  # a year out of date
    assert all(s.classification.value != "classified" for s in important)


def test_security_share_is_spend_weighted_for_the_year(sample):
    projects = [p for p in sample.projects if p.year == 2025]
    f = kpi.figures(sample, AS_OF, 2025)["security_spend_share"]
    assert f.num == pytest.approx(sum(p.security_wan for p in projects))
    assert f.den == pytest.approx(sum(p.total_wan for p in projects))


def test_targets_by_year_and_default_year(sample):
    t23 = kpi.targets_for(sample, 2023)["cloud_adoption_rate"]
    t25 = kpi.targets_for(sample, 2025)["cloud_adoption_rate"]
    assert t23["target"] < t25["target"] == 0.8
    assert t23["kind"] == "expected" and t25["kind"] == "binding"
    assert kpi.default_year(sample, date(2024, 5, 1)) == 2024
    assert kpi.default_year(sample, AS_OF) == 2025  # the plans end in 2025
    assert kpi.targets_for(sample, 2030) == {}


def test_city_without_targets_uses_the_plans_2025_figures(sample):
    from model.registers import TargetsFile

    bare = dataclasses.replace(sample, targets=TargetsFile())
    assert kpi.targets_for(bare, 2026)["cloud_adoption_rate"]["target"] == 0.8
    assert set(kpi.targets_for(bare, 2026)) == set(INDICATORS)


def test_projection_and_status():
    points = [(date(2025, 1, 1), 0.5), (date(2025, 7, 2), 0.6)]
    pace, projected = kpi.projection(points, date(2025, 7, 2), 2025)
    assert pace == pytest.approx(0.2, abs=0.01) and projected == pytest.approx(0.7, abs=0.01)
    assert kpi.status(0.6, 0.8, projected, date(2025, 7, 2), 2025) == "at_risk"
    assert kpi.status(0.6, 0.65, projected, date(2025, 7, 2), 2025) == "on_track"
    assert kpi.status(0.9, 0.8, projected, date(2025, 7, 2), 2025) == "met"
    assert kpi.status(0.6, 0.8, None, date(2026, 1, 5), 2025) == "missed"
    assert kpi.projection(points[:1], date(2025, 7, 2), 2025) == (None, None)


def test_report_flags_indicators_at_risk_from_the_history(sample):
    data = kpi.report(sample, as_of=date(2025, 6, 30), year=2025)
    rows = {i["key"]: i for i in data["indicators"]}
    assert all(i["history"] for i in data["indicators"])  # the sample's recorded trend
    statuses = {i["status"] for i in data["indicators"]}
    assert statuses <= {"met", "on_track", "at_risk", "no_trend", "no_target", "no_data"}
    assert rows["cloud_adoption_rate"]["target"] == 0.8
    assert data["notes"]["rooms_staying"]["classified"] > 0


def test_report_by_county_names_every_county(sample):
    data = kpi.report(sample, as_of=AS_OF, year=2025, by="county", history=[])
    names = {g["group"]: g["name"] for g in data["groups"]}
    assert set(names) == {"city"} | {c.code for c in sample.network.counties}
    assert names["city"].startswith("市本级")


# --- the breakdowns sum to the city ------------------------------------------------------


def _sums_hold(m, as_of, year) -> None:
    city = kpi.figures(m, as_of, year)
    for by in kpi.BREAKDOWNS:
        groups = kpi.figures(m, as_of, year, by)
        for key in INDICATORS:
            parts = [g[key] for g in groups.values() if key in g]
            has_department = any(u.department for u in kpi.units(m, key, as_of, year))
            if by == "department" and not has_department:
                assert not parts  # extranet sites and data centres belong to no department
                continue
            assert sum(p.num for p in parts) == pytest.approx(city[key].num), (by, key)
            assert sum(p.den for p in parts) == pytest.approx(city[key].den), (by, key)


_CITIES: dict[tuple, object] = {}


def _city(seed: int, counties: int, systems: int):
    key = (seed, counties, systems)
    if key not in _CITIES:
        with tempfile.TemporaryDirectory() as tmp:
            spec = SynthSpec(
                seed=seed,
                counties=counties,
                townships_per=2,
                villages_per=2,
                departments=12,
                systems=systems,
                machine_rooms=8,
            )
            write(spec, Path(tmp), history=False)
            _CITIES[key] = load_city(tmp)
    return _CITIES[key]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(1, 6),
    counties=st.integers(1, 4),
    systems=st.sampled_from([30, 60]),
    flips=st.lists(
        st.tuples(st.integers(0, 10_000), st.sampled_from(list(SystemState))), max_size=20
    ),
    rooms=st.lists(st.integers(0, 10_000), max_size=6),
    year=st.integers(2023, 2026),
)
def test_breakdowns_sum_to_the_city(seed, counties, systems, flips, rooms, year):
    m = _city(seed, counties, systems)
    syss = list(m.systems)
    for i, state in flips:  # move systems between states (the figures, not the rules, matter)
        s = syss[i % len(syss)]
        syss[i % len(syss)] = s.model_copy(update={"state": state})
    rms = list(m.machine_rooms)
    for i in rooms:
        r = rms[i % len(rms)]
        rms[i % len(rms)] = r.model_copy(update={"state": RoomState.consolidated})
    _sums_hold(dataclasses.replace(m, systems=syss, machine_rooms=rms), date(year, 6, 30), year)


def test_sample_breakdowns_sum_to_the_city(sample):
    _sums_hold(sample, AS_OF, 2025)


# --- monthly and quarterly reporting ------------------------------------------------------


@pytest.mark.parametrize(
    "day, period, want",
    [
        (date(2025, 11, 5), "quarter", ("2025-Q4", date(2025, 10, 1), date(2025, 12, 31))),
        (date(2025, 1, 1), "quarter", ("2025-Q1", date(2025, 1, 1), date(2025, 3, 31))),
        (date(2024, 2, 29), "month", ("2024-02", date(2024, 2, 1), date(2024, 2, 29))),
        (date(2025, 12, 31), "month", ("2025-12", date(2025, 12, 1), date(2025, 12, 31))),
    ],
)
def test_period_of(day, period, want):
    assert kpi.period_of(day, period) == want


@given(
    targets=st.lists(st.floats(0, 1), min_size=1, max_size=4),
    start=st.integers(2020, 2030),
    offset=st.integers(-400, 2000),
)
def test_the_plan_path_meets_each_years_target_on_31_december(targets, start, offset):
    path = [(start + i, t) for i, t in enumerate(targets)]
    for y, t in path:
        assert kpi.path_value(path, date(y, 12, 31)) == pytest.approx(t, abs=1e-6)
    day = date(start, 12, 31) + timedelta(days=offset)
    v = kpi.path_value(path, day)
    if offset < 0:
        assert v is None  # nothing to draw the line from
    else:
        assert min(targets) - 1e-6 <= v <= max(targets) + 1e-6  # rounded to 6 places
        if day > date(path[-1][0], 12, 31):
            assert v == pytest.approx(targets[-1])  # the last target holds


def _row(day: date, value: float) -> kpi.HistoryRow:
    return kpi.HistoryRow(
        schema_version=1,
        date=day,
        recorded_at="test",
        city="x",
        indicators={"cloud_adoption_rate": value},
    )


def test_a_quarter_shows_its_last_recorded_value_against_the_path(sample):
    history = [
        _row(date(2025, 1, 15), 0.10),
        _row(date(2025, 3, 30), 0.99),  # the quarter's last row wins
        _row(date(2025, 8, 1), 0.20),
    ]
    as_of = date(2025, 11, 30)
    rows = {r["key"]: r for r in kpi.periods(sample, as_of, "quarter", history, last=4)}
    cells = {c["period"]: c for c in rows["cloud_adoption_rate"]["periods"]}
    assert list(cells) == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    path = kpi.target_path(sample)["cloud_adoption_rate"]
    q1 = cells["2025-Q1"]
    assert q1["value"] == 0.99 and q1["expected"] == kpi.path_value(path, date(2025, 3, 31))
    assert q1["status"] == "ahead" and cells["2025-Q3"]["status"] == "behind"
    assert cells["2025-Q2"] == {**cells["2025-Q2"], "value": None, "status": "no_data"}
    today = kpi.figures(sample, as_of, 2025)["cloud_adoption_rate"].value
    assert cells["2025-Q4"]["value"] == today  # the current quarter is today's figure
    assert cells["2025-Q4"]["expected"] == kpi.path_value(path, as_of)


def test_a_group_is_held_to_its_assigned_target_else_the_citys(sample):
    assigned = {t.department for t in sample.targets.targets if t.department}
    assert assigned  # the sample city assigns some (model/synth.py)
    groups = {g["group"]: g for g in kpi.breakdown(sample, AS_OF, 2025, "department")}
    city = kpi.targets_for(sample, 2025)["cloud_adoption_rate"]["target"]
    own = kpi.group_targets(sample, 2025, "department")
    for code, g in groups.items():
        r = g["indicators"]["cloud_adoption_rate"]
        want = own[code]["cloud_adoption_rate"]["target"] if code in assigned else city
        assert r["target"] == want and r["assigned"] == (code in assigned)
        if r["value"] is not None:
            assert r["status"] == ("met" if r["value"] >= want else "below")
    # assigned targets never leak into the city's own row or path
    assert kpi.targets_for(sample, 2025)["cloud_adoption_rate"]["target"] == 0.8
    assert [y for y, _ in kpi.target_path(sample)["cloud_adoption_rate"]] == [2023, 2024, 2025]
