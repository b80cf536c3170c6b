"""The DR drill: which systems have a warm replica to fail over to, and the failover list.

`govctl dr failover|failback` changes the stack's `govcloud:failover` list and runs `up`;
the program (`infra/plan.py`) then runs that system's DR replica with the model's replica
count, or puts it back to 0. This module is the plain-data half: it refuses systems without
a warm replica (DR level below 5, or sensitive data that stays in the isolated zone) with a
message saying how they recover instead, and computes the new list. No Pulumi here.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra import plan as planner
from model.city import CityModel
from model.drlevels import level as dr_level


class DrillError(ValueError):
    """The system cannot be failed over (the message says why and what recovers it)."""


@dataclass(frozen=True)
class Standby:
    """A system's warm replica in the DR cluster."""

    system: str
    cluster: str
    namespace: str
    kind: str  # Deployment | StatefulSet (as the program makes it: StatefulSet when it holds data)
    replicas: int  # when failed over; 0 otherwise


def standby(m: CityModel, system_id: str, wave: int | None = None) -> Standby:
    """The warm replica of `system_id` in the DR cluster, or DrillError saying why there is none."""
    s = m.systems_by_id.get(system_id)
    if s is None:
        raise DrillError(f"unknown system {system_id!r}: not in {m.city.name}'s systems.yaml")
    p = planner.plan(m, wave)
    if p.dr_cluster in p.placed(s.id):
        return Standby(
            s.id,
            p.dr_cluster,
            m.departments_by_code[s.department].slug,
            "StatefulSet" if s.data_gib > 0 else "Deployment",
            s.replicas,
        )
    lvl = dr_level(s.dr_level)
    if s.id in p.dr_gaps:
        raise DrillError(f"system {s.id} has no warm replica to fail over to: {p.dr_gaps[s.id]}")
    if lvl.mode != "continuous":
        raise DrillError(
            f"system {s.id} has DR level {s.dr_level} ({lvl.name}, {lvl.mode} copies): only levels 5–6 keep a warm "
            f"replica in the DR cluster {p.dr_cluster!r}; this system recovers by a Velero restore from its backups"
        )
    raise DrillError(
        f"system {s.id} is not on the cloud in wave {wave} (state {s.state.value}): "
        "there is no replica of it in the DR cluster"
    )


def failover_list(current: list[str] | tuple[str, ...], system_id: str, active: bool) -> list[str]:
    """The `govcloud:failover` list with `system_id` added (active) or removed, sorted."""
    ids = set(current)
    (ids.add if active else ids.discard)(system_id)
    return sorted(ids)
