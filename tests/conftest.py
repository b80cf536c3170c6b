"""Shared fixtures: small synthetic cities generated once per session, copied per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from model import load_city
from model.history import load_history
from model.synth import write
from tests.helpers import SAMPLE_CITY, SMALL_SPEC


@pytest.fixture(scope="session")
def city():
    """The sample city, loaded once per session. Read-only: copy before changing it."""
    return load_city(SAMPLE_CITY)


@pytest.fixture(scope="session")
def history(city):
    """The sample city's 30-day utilisation history."""
    return load_history(city.history_path, set(city.systems_by_id))


@pytest.fixture(scope="session")
def small_city_master(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("small-city")
    write(SMALL_SPEC, out)
    return out


@pytest.fixture
def small_city(small_city_master, tmp_path) -> Path:
    """A fresh, writable copy of a small valid city."""
    dst = tmp_path / "city"
    shutil.copytree(small_city_master, dst)
    return dst
