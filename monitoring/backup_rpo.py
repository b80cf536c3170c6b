"""Per-system RPO from the backup simulation's JSON report, for the exporter.

It reads what `govctl simulate backup` writes (`backup.json`): a `systems` list whose items
carry `id`, `rpo_s` (the worst recovery point achieved) and `rpo_bound_s` (the bound of the
system's GB/T 20988 level; when absent or null, taken from `model/drlevels.py`). Items of
systems the city does not have are skipped; anything malformed is a `ValueError` naming the
file and the item, which the exporter reports as its `backup` collector being down.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from model import drlevels
from model.city import CityModel


def read_rpo(path: Path, model: CityModel) -> dict[str, tuple[float, float]]:
    """{system: (achieved RPO seconds, target RPO seconds)} for the systems of `model`."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
    items = data.get("systems") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected an object with a 'systems' list")
    out = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValueError(f"{path}: systems[{i}]: expected an object")
        system, achieved = item.get("id"), item.get("rpo_s")
        if achieved is None or system not in model.systems_by_id:
            continue
        target = item.get("rpo_bound_s")
        if target is None:
            target = drlevels.level(model.systems_by_id[system].dr_level).rpo_bound_s
        try:
            achieved, target = float(achieved), float(target)
        except (TypeError, ValueError):
            raise ValueError(f"{path}: systems[{i}]: RPO values must be numbers") from None
        if not (math.isfinite(achieved) and math.isfinite(target)) or achieved < 0 or target < 0:
            raise ValueError(f"{path}: systems[{i}]: RPO values must be finite and ≥ 0")
        out[system] = (achieved, target)
    return out
