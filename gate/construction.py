"""The plans' new-construction rule (原则上), with its approved exceptions.

From the plans' start (`targets.yaml: plan_start`, Nanchang: Feb 2023) new non-classified
systems deploy on the government cloud, departments build no new machine rooms (nor enlarge
old ones) and no new private lines: the cloud centre provides them (Tongjiang, Nanchang).
"In principle" — so each may go ahead when `exceptions.yaml` lists it with its reason and
approval, and the approval has not expired. What is neither is a no-go of `govctl plan`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from model.city import CityModel
from model.registers import ExceptionKind, PrivateNetworkState
from model.schema import RoomState, SystemState


@dataclass(frozen=True)
class Breach:
    kind: str  # an ExceptionKind value
    subject: str
    since: date
    message: str


def _approved(m: CityModel, kind: ExceptionKind, subject: str, as_of: date) -> str | None:
    """None when an unexpired exception covers it, else why not."""
    e = next((e for e in m.exceptions if e.kind == kind and e.subject == subject), None)
    if e is None:
        return "no exception in exceptions.yaml"
    if e.expires is not None and e.expires < as_of:
        return f"its exception expired on {e.expires}"
    return None


def breaches(m: CityModel, as_of: date | None = None) -> list[Breach]:
    """Everything new since the plans' start that the rule forbids and no exception covers."""
    start = m.targets.plan_start
    if start is None:
        return []
    as_of = as_of or date.today()
    out: list[Breach] = []
    for s in m.systems:
        if (
            s.introduced is not None
            and s.introduced > start
            and s.cloud_bound
            and s.state == SystemState.legacy
        ):
            why = _approved(m, ExceptionKind.system_off_cloud, s.id, as_of)
            if why:
                out.append(
                    Breach(
                        ExceptionKind.system_off_cloud.value,
                        s.id,
                        s.introduced,
                        f"system {s.id} went into service on {s.introduced}, after the plans' start "
                        f"{start}, in machine room {s.location} instead of on the cloud; {why}",
                    )
                )
    for r in m.machine_rooms:
        if r.state != RoomState.active:
            continue
        for what, day in (("built", r.introduced), ("enlarged", r.enlarged)):
            if day is not None and day > start:
                why = _approved(m, ExceptionKind.room, r.id, as_of)
                if why:
                    out.append(
                        Breach(
                            ExceptionKind.room.value,
                            r.id,
                            day,
                            f"machine room {r.id} of {r.department} was {what} on {day}, after the "
                            f"plans' start {start}; {why}",
                        )
                    )
                break
    for n in m.private_networks:
        if (
            n.introduced is not None
            and n.introduced > start
            and n.state != PrivateNetworkState.migrated
        ):
            why = _approved(m, ExceptionKind.private_line, n.id, as_of)
            if why:
                out.append(
                    Breach(
                        ExceptionKind.private_line.value,
                        n.id,
                        n.introduced,
                        f"private network {n.id} of {n.owner} was set up on {n.introduced}, after the "
                        f"plans' start {start}, instead of using the extranet; {why}",
                    )
                )
    return out
