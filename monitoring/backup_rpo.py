"""Per-system RPO from a backup simulation's JSON report, for the exporter.

The exporter only needs, per system, the worst recovery point it achieved and its target.
It reads a JSON object with a `systems` list (or a `{id: {...}}` mapping) whose items carry:

- `system` (or `id`) — a system id of the city model;
- `rpo_seconds` (or `rpo_s`, `rpo_achieved_seconds`, `achieved_rpo_s`) — worst RPO achieved;
- optionally `rpo_target_seconds` (or `rpo_target_s`, `target_rpo_s`) — the target; when it is
  missing, the target is the upper RPO bound of the system's GB/T 20988 `dr_level`.

Items without an achieved RPO are skipped; anything else malformed is a `ValueError` with a
message naming the file and the item, which the exporter reports as its `backup` collector
being down.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from model.city import CityModel

DAY = 86400
# GB/T 20988-2007, upper bound of each level's RPO: 1–7 days, 1–7 days, hours–1 day,
# hours–1 day, 0–30 minutes, 0.
RPO_TARGET_BY_DR_LEVEL = {1: 7 * DAY, 2: 7 * DAY, 3: DAY, 4: DAY, 5: 1800, 6: 0}
_ACHIEVED = ("rpo_seconds", "rpo_s", "rpo_achieved_seconds", "achieved_rpo_s")
_TARGET = ("rpo_target_seconds", "rpo_target_s", "target_rpo_s")


def _first(item: dict, keys: tuple[str, ...]):
    return next((item[k] for k in keys if item.get(k) is not None), None)


def read_rpo(path: Path, model: CityModel) -> dict[str, tuple[float, float]]:
    """{system: (achieved RPO seconds, target RPO seconds)} for the systems of `model`."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
    items = data.get("systems") if isinstance(data, dict) else None
    if isinstance(items, dict):
        items = [{"system": k} | v for k, v in items.items() if isinstance(v, dict)]
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected an object with a 'systems' list")
    out = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValueError(f"{path}: systems[{i}]: expected an object")
        system = item.get("system") or item.get("id")
        achieved = _first(item, _ACHIEVED)
        if achieved is None or system not in model.systems_by_id:
            continue
        target = _first(item, _TARGET)
        if target is None:
            target = RPO_TARGET_BY_DR_LEVEL[model.systems_by_id[system].dr_level]
        try:
            achieved, target = float(achieved), float(target)
        except (TypeError, ValueError):
            raise ValueError(f"{path}: systems[{i}]: RPO values must be numbers") from None
        if not (math.isfinite(achieved) and math.isfinite(target)) or achieved < 0 or target < 0:
            raise ValueError(f"{path}: systems[{i}]: RPO values must be finite and ≥ 0")
        out[system] = (achieved, target)
    return out
