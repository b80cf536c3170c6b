"""Which systems a simulation covers: one meaning of `--wave` for every model.

`wave=N` is the cloud after migration wave N: the systems on the cloud (or migrating) now
plus the legacy systems of waves up to N; `wave=None` is the cloud after every planned
wave. The capacity model brings the legacy ones in on their wave's schedule; the backup
model backs all of them up from the first night (the nights after the migration).
"""

from __future__ import annotations

from model.city import CityModel
from model.schema import System


def last_wave(model: CityModel, wave: int | None) -> int | None:
    """`wave`, or the last planned wave when None (None when no wave is planned)."""
    if wave is not None:
        return wave
    pending = model.pending_waves
    return pending[-1] if pending else None


def systems(model: CityModel, wave: int | None) -> list[System]:
    """The systems on the cloud after `wave` (every planned wave when None)."""
    return model.on_cloud_systems(last_wave(model, wave))
