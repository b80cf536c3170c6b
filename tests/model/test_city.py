"""`CityModel`'s shared predicates, each against the rule as the README states it, on the
sample city and on synthetic cities of several seeds."""

from __future__ import annotations

from dataclasses import replace

import pytest

from model import load_city
from model.schema import Classification, SystemState, ZoneKind
from model.synth import write
from tests.helpers import SMALL_SPEC


@pytest.fixture(scope="module", params=[None, 2, 3, 4])
def model(request, tmp_path_factory, city):
    """The sample city, then small synthetic cities of other seeds."""
    if request.param is None:
        return city
    out = tmp_path_factory.mktemp(f"city-{request.param}")
    write(replace(SMALL_SPEC, seed=request.param, systems=120), out)
    return load_city(out)


def test_cloud_bound_is_non_classified_and_not_retired(model):
    expected = [
        s
        for s in model.systems
        if s.classification.value != "classified" and s.state.value != "retired"
    ]
    assert model.cloud_bound_systems == expected
    assert all(s.cloud_bound == (s in expected) for s in model.systems)


def test_sensitive_departments_own_a_cloud_bound_sensitive_system(model):
    owners = {
        s.department
        for s in model.systems
        if s.classification == Classification.sensitive and s.state != SystemState.retired
    }
    assert model.sensitive_departments == owners
    assert owners, "the cities under test have sensitive systems"
    for code in owners:  # the model's rule holds: their tenants live in an isolated zone
        assert model.zone_of(model.departments_by_code[code]).kind == ZoneKind.isolated


def test_must_isolate_is_sensitive_or_of_a_sensitive_department(model):
    for s in model.systems:
        expected = (
            s.classification.value == "sensitive" or s.department in model.sensitive_departments
        )
        assert model.must_isolate(s) == expected
        if expected and s.target_zone and s.cloud_bound:
            assert model.zones[s.target_zone].kind == ZoneKind.isolated, s.id
    assert any(
        model.must_isolate(s) and s.classification != Classification.sensitive
        for s in model.systems
    ), "some non-sensitive system is isolated because of its department"


def test_pending_waves_and_the_next_one(model):
    legacy_waves = {
        s.wave for s in model.systems if s.state.value == "legacy" and s.wave is not None
    }
    assert model.pending_waves == sorted(legacy_waves)
    assert model.next_wave == (min(legacy_waves) if legacy_waves else None)
    on_next = {s.id for s in model.on_cloud_systems(model.next_wave)}
    on_now = {s.id for s in model.on_cloud_systems()}
    assert on_now < on_next, "the next wave brings systems"
    assert on_next <= {s.id for s in model.cloud_bound_systems}
