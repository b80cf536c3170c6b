"""Shared fixtures: small synthetic cities generated once per session, copied per test; and
which folders a run collects (tests/lab_nodes only when asked for).

A run started in the background by a shell without job control (`cmd &` in a script, `nohup`)
inherits SIGINT ignored, and so would every govctl the tests start: the tests of what Ctrl-C
does would then fail for the runner's sake. Python's own Ctrl-C handler is put back first."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from model import load_city
from model.history import load_history
from model.synth import write
from tests.helpers import SAMPLE_CITY, SMALL_SPEC

if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


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


LAB_NODES = Path(__file__).parent / "lab_nodes"


def lab_nodes_asked_for(config: pytest.Config) -> bool:
    """True when tests/lab_nodes (or a file or test in it) is named on the command line, or
    GOVCLOUD_LAB_INVENTORY points at a lab (the rollout tests run it that way)."""
    here = config.invocation_params.dir
    named = (
        (here / str(a).split("::")[0]).resolve().is_relative_to(LAB_NODES) for a in config.args
    )
    return "GOVCLOUD_LAB_INVENTORY" in os.environ or any(named)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """tests/lab_nodes is testinfra against a running lab, not a test of the code: a run that
    does not ask for it does not collect it (no skipped entries); None lets pytest decide."""
    if collection_path.is_relative_to(LAB_NODES) and not lab_nodes_asked_for(config):
        return True
    return None
