"""Helpers the tests share: where the sample city is, and how to edit a city's YAML."""

from __future__ import annotations

from pathlib import Path

import yaml

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
