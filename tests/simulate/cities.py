"""Hand-checkable cities for the simulation tests, made from the sample city's model."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from model.city import CityModel
from model.schema import System, SystemState, Zone, ZoneKind


def with_(m: CityModel, systems=None, sites=None, zones=None, source: Path | None = None):
    """A copy of `m` with other systems, sites, zones or source folder (for its history)."""
    city = m.city.model_copy(
        update={k: v for k, v in (("sites", sites), ("zones", zones)) if v is not None}
    )
    return dataclasses.replace(
        m,
        city=city,
        systems=systems if systems is not None else m.systems,
        source=source or m.source,
        _cache={},
    )


def zone(
    name="z", nodes=4, vcpu=64, mem=512, overcommit=1.0, kind=ZoneKind.shared, site="primary-dc"
):
    return Zone(
        name=name,
        kind=kind,
        site=site,
        nodes=nodes,
        node_vcpu=vcpu,
        node_memory_gib=mem,
        cpu_overcommit=overcommit,
    )


def system(m: CityModel, sid: str, **update) -> System:
    """A copy of the sample city's first on-cloud system with a new id and `update`."""
    base = next(s for s in m.systems if s.state == SystemState.on_cloud)
    fields = {"id": sid, "replicas": 1, "wave": None, "location": None}
    fields.update(update)
    return base.model_copy(update=fields)
