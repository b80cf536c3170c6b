"""Shared fixtures: small synthetic cities generated once per session, copied per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from model.synth import SynthSpec, write

from tests.helpers import SMALL_SPEC


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
