"""Helpers the tests share: where the sample city is, how to edit a city's YAML, and one
department and one system of the model to vary (`department(**changes)`, `system(**changes)`)."""

from __future__ import annotations

from pathlib import Path

import yaml

from model.schema import Department, System
from model.synth import SynthSpec

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CITY = ROOT / "examples" / "sample-city"
SMALL_SPEC = SynthSpec(
    seed=7, counties=2, townships_per=2, villages_per=3, departments=10, systems=40, machine_rooms=6
)


def edit_yaml(city: Path, name: str, change) -> None:
    """Load one YAML file of a city, let `change(data)` mutate it, write it back."""
    path = city / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def department(**changes) -> Department:
    """A level-2 department on the shared zone, with `changes` applied."""
    base = dict(
        code="FGW",
        slug="fgw",
        name="市发展和改革委员会",
        mlps_level=2,
        zone="shared",
        quota={"cpu": 20.5, "memory_gib": 64, "storage_gib": 1000},
    )
    return Department.model_validate(base | changes)


def system(**changes) -> System:
    """A non-classified system of that department on the cloud, with `changes` applied."""
    base = dict(
        id="fgw-001",
        department="FGW",
        name="办公自动化系统",
        classification="non_classified",
        state="on_cloud",
        target_zone="shared",
        vcpu=2,
        memory_gib=4.5,
        storage_gib=100,
        data_gib=0,
        daily_change_ratio=0.05,
        dr_level=3,
        ipv6_ready=True,
        network="extranet",
    )
    return System.model_validate(base | changes)
