"""The plans' key figures as the plans define them, by year, county and department.

Every indicator of `model.registers.INDICATORS` is a ratio over *units* — systems, machine
rooms, private networks, data-centre sites, extranet sites or projects — and each unit
carries its department and county. A figure is the sum of its units' numerators over the
sum of their denominators, so the city-wide figure is exactly the sum of any breakdown's
groups (`--by county|department`): nothing is averaged twice.

What each indicator counts (the plans' meaning, `shared/seeds/`):

- `cloud_adoption_rate` 上云率 — non-classified, non-retired systems running on the cloud;
- `machine_room_consolidation_rate` 机房整合率 — consolidated rooms over the rooms that may
  consolidate: rooms that must stay (`stays: classified | exception`) are left out, and
  counted in `rooms_staying`;
- `private_network_migration_rate` 专网迁移率 — private networks of `private_networks.yaml`
  migrated into the extranet over those to migrate (kept, interconnected ones left out);
- `ipv6_ready_systems_rate`, `ipv6_datacentre_rate`, `ipv6_rollout.<level>` — IPv6 of the
  systems, the data-centre sites, the covered extranet sites of a level;
- `extranet_coverage.<level>` — extranet sites of a level that have a device;
- `mlps_coverage_rate` 等保覆盖率 — important systems (graded level 3+, or ungraded in a
  level-3 department) filed and assessed within the last year (level 3 is assessed yearly);
- `crypto_assessment_rate` 密评 — important systems that passed the commercial-crypto
  assessment;
- `security_spend_share` — security spend over the year's IT project spend (万元).

Targets come from the city's `targets.yaml` (per year, binding or expected); a city
without one is compared against `DEFAULT_TARGETS`, the plans' 2025 figures. The KPI
history (`kpi_history.jsonl` beside the model) gives the trend: the pace of the last year
projected to the end of the target year flags indicators that will miss it.

The bureau reports monthly and quarterly (`periods`): per month or quarter, each indicator's
last recorded value in it against the plan-year path at the period's end — the straight
line from one year's target (reached on 31 December) to the next year's — so a quarter
behind the path shows before the year is lost.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from model.city import CityModel
from model.errors import InvalidModel, ModelError, display_path
from model.outputs import dumps_json
from model.registers import INDICATORS, PrivateNetworkState
from model.schema import LEVELS, Ipv6State, RoomStays, SystemState

SCHEMA_VERSION = 2
HISTORY_SCHEMA_VERSION = 1
HISTORY_FILE = "kpi_history.jsonl"
CITY_LEVEL = "city"  # the group of units that belong to no county (市本级)
BREAKDOWNS = ("county", "department")
MLPS_VALID_DAYS = 365


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    target: float
    source: str


TARGETS = [
    Target(
        "cloud_adoption_rate",
        INDICATORS["cloud_adoption_rate"],
        0.80,
        "Xiangtan 14th FYP; Nanchang 2023 plan",
    ),
    Target(
        "machine_room_consolidation_rate",
        INDICATORS["machine_room_consolidation_rate"],
        0.80,
        "Xiangtan 14th FYP",
    ),
    Target(
        "private_network_migration_rate",
        INDICATORS["private_network_migration_rate"],
        0.80,
        "Xiangtan 14th FYP; Jiujiang 2025",
    ),
]
"""The three headline rates and their 2025 figures (kept for callers of the single
snapshot: the plan gate, the tenants program)."""
LEVEL_TARGETS = {"ipv6_rollout": 1.0, "extranet_coverage": 1.0}
DEFAULT_TARGETS: dict[str, float] = (
    {t.key: t.target for t in TARGETS}
    | {f"{k}.{lvl}": v for k, v in LEVEL_TARGETS.items() for lvl in LEVELS}
    | {
        "ipv6_ready_systems_rate": 1.0,
        "ipv6_datacentre_rate": 1.0,
        "mlps_coverage_rate": 1.0,
        "crypto_assessment_rate": 1.0,
        "security_spend_share": 0.10,
    }
)
"""The plans' 2025 figures, for a city without `targets.yaml`."""


# --- units and ratios -----------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """One thing an indicator counts: its groups, and what it adds to num / den."""

    department: str | None
    county: str
    num: float
    den: float


@dataclass(frozen=True)
class Ratio:
    num: float
    den: float

    @property
    def value(self) -> float | None:
        return round(self.num / self.den, 6) if self.den else None

    def __add__(self, other: Ratio) -> Ratio:
        return Ratio(self.num + other.num, self.den + other.den)

    def as_dict(self) -> dict:
        return {"value": self.value, "numerator": _num(self.num), "denominator": _num(self.den)}


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(x, 4)


def _ratio(num: int, den: int) -> float | None:
    return Ratio(num, den).value


def _county(code: str | None) -> str:
    return code or CITY_LEVEL


def important(model: CityModel, s) -> bool:
    """An important system (重要信息系统): graded 3 or above, or not yet graded in a
    level-3 department. Classified systems follow the classified scheme (分级保护), not MLPS."""
    if not s.cloud_bound:
        return False
    if s.mlps_level is not None:
        return s.mlps_level >= 3
    d = model.departments_by_code.get(s.department)
    return d is not None and d.mlps_level == 3


def mlps_covered(s, as_of: date) -> bool:
    """Graded 3+, filed, and assessed within the last year (level 3 is assessed yearly)."""
    return bool(
        (s.mlps_level or 0) >= 3
        and s.mlps_filed is not None
        and s.mlps_filed <= as_of
        and s.mlps_assessed is not None
        and 0 <= (as_of - s.mlps_assessed).days <= MLPS_VALID_DAYS
    )


def _systems(m: CityModel, done: Callable) -> Iterator[Unit]:
    for s in m.systems:
        if s.cloud_bound:
            yield Unit(s.department, _county(s.county), 1.0 if done(s) else 0.0, 1.0)


def _rooms(m: CityModel) -> Iterator[Unit]:
    for r in m.machine_rooms:
        if r.stays is None:
            yield Unit(
                r.department, _county(r.county), 1.0 if r.state.value == "consolidated" else 0.0, 1
            )


def _private_networks(m: CityModel) -> Iterator[Unit]:
    for n in m.private_networks:
        if n.state != PrivateNetworkState.kept:
            migrated = n.state == PrivateNetworkState.migrated
            yield Unit(n.owner, _county(n.county), 1.0 if migrated else 0.0, 1.0)


def _datacentres(m: CityModel) -> Iterator[Unit]:
    for s in m.city.sites:
        yield Unit(None, CITY_LEVEL, 1.0 if s.ipv6 == Ipv6State.dual_stack else 0.0, 1.0)


def _net_sites(m: CityModel, level: str, what: str) -> Iterator[Unit]:
    for site in m.sites():
        if site.level != level:
            continue
        if what == "coverage":
            yield Unit(None, _county(site.county), 1.0 if site.covered else 0.0, 1.0)
        elif site.covered:
            yield Unit(None, _county(site.county), 1.0 if site.ipv6 == "dual_stack" else 0.0, 1.0)


def _important(m: CityModel, done: Callable) -> Iterator[Unit]:
    for s in m.systems:
        if important(m, s):
            yield Unit(s.department, _county(s.county), 1.0 if done(s) else 0.0, 1.0)


def _projects(m: CityModel, year: int) -> Iterator[Unit]:
    for p in m.projects:
        if p.year == year:
            yield Unit(p.department, _county(p.county), p.security_wan, p.total_wan)


def units(m: CityModel, key: str, as_of: date, year: int) -> Iterable[Unit]:
    """The units of one indicator (a key of `INDICATORS`)."""
    if key == "cloud_adoption_rate":
        return _systems(m, lambda s: s.state == SystemState.on_cloud)
    if key == "ipv6_ready_systems_rate":
        return _systems(m, lambda s: s.ipv6_ready)
    if key == "machine_room_consolidation_rate":
        return _rooms(m)
    if key == "private_network_migration_rate":
        return _private_networks(m)
    if key == "ipv6_datacentre_rate":
        return _datacentres(m)
    if key.startswith(("ipv6_rollout.", "extranet_coverage.")):
        kind, level = key.split(".")
        return _net_sites(m, level, "coverage" if kind == "extranet_coverage" else "ipv6")
    if key == "mlps_coverage_rate":
        return _important(m, lambda s: mlps_covered(s, as_of))
    if key == "crypto_assessment_rate":
        return _important(m, lambda s: s.crypto_assessment.value == "passed")
    if key == "security_spend_share":
        return _projects(m, year)
    raise KeyError(key)


def figures(m: CityModel, as_of: date, year: int, by: str | None = None) -> dict:
    """{key: Ratio} city-wide, or {group: {key: Ratio}} when `by` is county or department.
    Indicators without a department (extranet, data centres) are absent from that breakdown."""
    if by is not None and by not in BREAKDOWNS:
        raise ValueError(f"breakdown {by!r} is not one of {', '.join(BREAKDOWNS)}")
    city: dict[str, Ratio] = {}
    groups: dict[str, dict[str, Ratio]] = {}
    for key in INDICATORS:
        total = Ratio(0.0, 0.0)
        for u in units(m, key, as_of, year):
            r = Ratio(u.num, u.den)
            total = total + r
            if by is not None:
                g = u.county if by == "county" else u.department
                if g is None:
                    continue
                row = groups.setdefault(g, {})
                row[key] = row.get(key, Ratio(0.0, 0.0)) + r
        city[key] = total
    return groups if by is not None else city


def group_names(m: CityModel, by: str) -> dict[str, str]:
    if by == "county":
        return {CITY_LEVEL: "市本级 city level"} | {c.code: c.name for c in m.network.counties}
    return {d.code: d.name for d in m.departments}


SHORT = {
    "cloud_adoption_rate": "上云率 cloud",
    "machine_room_consolidation_rate": "机房 rooms",
    "private_network_migration_rate": "专网 private nets",
    "ipv6_ready_systems_rate": "IPv6 systems",
    "ipv6_datacentre_rate": "IPv6 DCs",
    "mlps_coverage_rate": "等保 MLPS",
    "crypto_assessment_rate": "密评 crypto",
    "security_spend_share": "安全投入 security",
} | {
    f"{k}.{lvl}": f"{'IPv6' if k == 'ipv6_rollout' else 'coverage'} {lvl}"
    for k in LEVEL_TARGETS
    for lvl in LEVELS
}
"""Column headings for the breakdown tables."""
BREAKDOWN_COLUMNS = {
    "county": [
        "cloud_adoption_rate",
        "machine_room_consolidation_rate",
        "private_network_migration_rate",
        "ipv6_ready_systems_rate",
        "ipv6_rollout.township",
        "ipv6_rollout.village",
        "extranet_coverage.village",
        "mlps_coverage_rate",
    ],
    "department": [
        "cloud_adoption_rate",
        "machine_room_consolidation_rate",
        "private_network_migration_rate",
        "ipv6_ready_systems_rate",
        "mlps_coverage_rate",
        "crypto_assessment_rate",
        "security_spend_share",
    ],
}
"""The indicators each breakdown's table shows (the JSON carries all of them)."""


# --- targets and trend ------------------------------------------------------------------


def default_year(m: CityModel, as_of: date) -> int:
    """This year if the city has targets for it, else the plans' last year (or this year)."""
    years = {t.year for t in m.targets.targets}
    if not years or as_of.year in years:
        return as_of.year
    return max(years)


def targets_for(m: CityModel, year: int) -> dict[str, dict]:
    """{indicator: {target, kind, source, year}} for `year` (the defaults without a targets.yaml)."""
    if not m.targets.targets:
        return {
            k: {"target": v, "kind": "binding", "source": "plans' 2025 figures", "year": 2025}
            for k, v in DEFAULT_TARGETS.items()
        }
    return {
        t.indicator: _target(t) for t in m.targets.targets if t.year == year and t.group is None
    }


def _target(t) -> dict:
    return {"target": t.target, "kind": t.kind.value, "source": t.source, "year": t.year}


def group_targets(m: CityModel, year: int, by: str) -> dict[str, dict[str, dict]]:
    """{group code: {indicator: target}} of the targets assigned to a county or department
    for `year`; a group without its own target is held to the city's."""
    out: dict[str, dict[str, dict]] = {}
    for t in m.targets.targets:
        if t.year == year and t.group is not None and t.group[0] == by:
            out.setdefault(t.group[1], {})[t.indicator] = _target(t)
    return out


def target_path(m: CityModel) -> dict[str, list[tuple[int, float]]]:
    """Each indicator's plan-year path: [(year, target)] sorted by year."""
    out: dict[str, list[tuple[int, float]]] = {}
    for t in sorted(m.targets.targets, key=lambda t: t.year):
        if t.group is None:
            out.setdefault(t.indicator, []).append((t.year, t.target))
    return out


class HistoryRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = Field(ge=1, le=HISTORY_SCHEMA_VERSION)
    date: date
    recorded_at: str
    city: str
    indicators: dict[str, float | None]
    numerators: dict[str, float] = Field(default_factory=dict)
    denominators: dict[str, float] = Field(default_factory=dict)


def history_path(m: CityModel) -> Path:
    return m.source / HISTORY_FILE


def read_history(path: Path) -> list[HistoryRow]:
    """The recorded snapshots, oldest first. Bad rows are `file:line: field: message`."""
    if not path.exists():
        return []
    shown = display_path(path)
    rows: list[HistoryRow] = []
    errors: list[ModelError] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidModel(
            [ModelError(shown, 1, "", f"cannot read the KPI history: {exc}")]
        ) from None
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(ModelError(shown, n, "", f"not a JSON object: {exc.msg}"))
            continue
        try:
            rows.append(HistoryRow.model_validate(data))
        except ValidationError as exc:
            for e in exc.errors(include_url=False):
                field = ".".join(str(p) for p in e["loc"])
                errors.append(ModelError(shown, n, field, e["msg"]))
    if errors:
        raise InvalidModel(errors)
    rows.sort(key=lambda r: r.date)
    return rows


def projection(
    points: list[tuple[date, float]], as_of: date, year: int
) -> tuple[float | None, float | None]:
    """(pace per year, value projected to 31 December of `year`) by least squares over the
    points of the last year up to `as_of`; (None, None) with fewer than two distinct days."""
    recent = [(d, v) for d, v in points if 0 <= (as_of - d).days <= 366]
    days = {d for d, _ in recent}
    if len(days) < 2:
        return None, None
    xs = [(d - as_of).days for d, _ in recent]
    ys = [v for _, v in recent]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var
    latest = max(recent)[1]
    end = (date(year, 12, 31) - as_of).days
    if end < 0:
        return round(slope * 365, 6), None  # the year is over: nothing left to project
    projected = min(1.0, max(0.0, latest + slope * end))
    return round(slope * 365, 6), round(projected, 6)


def status(value: float | None, target: float | None, projected, as_of: date, year: int) -> str:
    if value is None or target is None:
        return "no_data" if value is None else "no_target"
    if value >= target:
        return "met"
    if as_of > date(year, 12, 31):
        return "missed"
    if projected is None:
        return "no_trend"
    return "on_track" if projected >= target else "at_risk"


# --- the report -------------------------------------------------------------------------


def report(
    m: CityModel,
    as_of: date | None = None,
    year: int | None = None,
    by: str | None = None,
    history: list[HistoryRow] | None = None,
    period: str | None = None,
) -> dict:
    """The bureau's KPI report: each indicator against its year's target, with its trend;
    with `by`, the same figures per county or department (groups sum to the city); with
    `period` (month, quarter), the last periods against the plan-year path."""
    as_of = as_of or date.today()
    year = year or as_of.year
    city = figures(m, as_of, year)
    targets = targets_for(m, year)
    path = target_path(m)
    rows = history if history is not None else read_history(history_path(m))
    rooms_staying = {s.value: sum(1 for r in m.machine_rooms if r.stays == s) for s in RoomStays}
    indicators = []
    for key, label in INDICATORS.items():
        r = city[key]
        t = targets.get(key)
        points: list[tuple[date, float]] = [
            (h.date, v)
            for h in rows
            if (v := h.indicators.get(key)) is not None and h.date <= as_of
        ]
        if r.value is not None:
            points.append((as_of, r.value))
        pace, projected = projection(points, as_of, year)
        indicators.append(
            {
                "key": key,
                "label": label,
                **r.as_dict(),
                "target": t["target"] if t else None,
                "kind": t["kind"] if t else None,
                "source": t["source"] if t else None,
                "pace_per_year": pace,
                "projected": projected,
                "status": status(r.value, t["target"] if t else None, projected, as_of, year),
                "path": [{"year": y, "target": v} for y, v in path.get(key, [])],
                "history": [{"date": d.isoformat(), "value": v} for d, v in points],
            }
        )
    out = {
        "schema_version": SCHEMA_VERSION,
        "city": m.city.name,
        "as_of": as_of.isoformat(),
        "year": year,
        "indicators": indicators,
        "notes": {
            "rooms_staying": rooms_staying,
            "private_networks_kept": sum(
                1 for n in m.private_networks if n.state == PrivateNetworkState.kept
            ),
            "plan_start": m.targets.plan_start.isoformat() if m.targets.plan_start else None,
        },
    }
    if by is not None:
        out["by"] = by
        out["groups"] = breakdown(m, as_of, year, by)
    if period is not None:
        out["period"] = period
        out["periods"] = periods(m, as_of, period, rows)
    return out


# --- monthly and quarterly reporting ------------------------------------------------------

PERIODS = {"month": 1, "quarter": 3}


def period_of(d: date, period: str) -> tuple[str, date, date]:
    """(label, first day, last day) of the month or quarter `d` falls in."""
    months = PERIODS[period]
    first_month = (d.month - 1) // months * months + 1
    start = date(d.year, first_month, 1)
    nxt = (
        date(d.year + 1, 1, 1)
        if first_month + months > 12
        else date(d.year, first_month + months, 1)
    )
    label = f"{d.year}-Q{(first_month - 1) // 3 + 1}" if period == "quarter" else f"{d:%Y-%m}"
    return label, start, nxt - timedelta(days=1)


def path_value(path: list[tuple[int, float]], day: date) -> float | None:
    """The plan-year path on `day`: each year's target holds on its 31 December, straight
    lines between; the last target holds after its year (a figure reached is kept); None
    before the first target's year end (nothing to start the line from)."""
    points = [(date(y, 12, 31), t) for y, t in sorted(path)]
    if not points or day < points[0][0]:
        return None
    for (d0, t0), (d1, t1) in zip(points, points[1:], strict=False):
        if d0 <= day <= d1:
            return round(t0 + (t1 - t0) * (day - d0).days / (d1 - d0).days, 6)
    return points[-1][1]


def periods(
    m: CityModel,
    as_of: date,
    period: str,
    history: list[HistoryRow] | None = None,
    last: int = 8,
) -> list[dict]:
    """Per indicator, its `last` months or quarters up to `as_of`: the last value recorded in
    each (today's figure for the current one), the plan path at the period's end, and
    `ahead` / `behind` / `no_path` / `no_data`."""
    rows = history if history is not None else read_history(history_path(m))
    today = figures(m, as_of, as_of.year)
    paths = target_path(m)
    labels: list[tuple[str, date, date]] = []
    day = as_of
    while len(labels) < last:
        label, start, end = period_of(day, period)
        labels.append((label, start, end))
        day = start - timedelta(days=1)
    labels.reverse()
    out = []
    for key, name in INDICATORS.items():
        seen = sorted(
            [
                (h.date, v)
                for h in rows
                if (v := h.indicators.get(key)) is not None and h.date <= as_of
            ]
            + ([(as_of, today[key].value)] if today[key].value is not None else [])
        )
        cells = []
        for label, start, end in labels:
            inside = [v for d, v in seen if start <= d <= end]
            value = inside[-1] if inside else None
            expected = path_value(paths.get(key, []), min(end, as_of))
            state = (
                "no_data"
                if value is None
                else "no_path"
                if expected is None
                else "ahead"
                if value >= expected
                else "behind"
            )
            cells.append(
                {
                    "period": label,
                    "end": end.isoformat(),
                    "value": value,
                    "expected": expected,
                    "status": state,
                }
            )
        out.append({"key": key, "label": name, "periods": cells})
    return out


def breakdown(m: CityModel, as_of: date, year: int, by: str) -> list[dict]:
    """[{group, name, indicators: {key: {value, numerator, denominator, target, assigned,
    status}}}], city level first. A group is held to the target assigned to it in
    `targets.yaml`, else to the city's (`assigned` says which); `status` is `met`, `below`,
    `no_target` or `no_data`."""
    names = group_names(m, by)
    groups = figures(m, as_of, year, by)
    city = targets_for(m, year)
    own = group_targets(m, year, by)

    def row(g: str, k: str, r: Ratio) -> dict:
        t = own.get(g, {}).get(k) or city.get(k)
        target = t["target"] if t else None
        state = (
            "no_data"
            if r.value is None
            else "no_target"
            if target is None
            else "met"
            if r.value >= target
            else "below"
        )
        return {**r.as_dict(), "target": target, "assigned": k in own.get(g, {}), "status": state}

    return [
        {
            "group": g,
            "name": names.get(g, g),
            "indicators": {k: row(g, k, v) for k, v in groups[g].items()},
        }
        for g in sorted(groups, key=lambda g: (g != CITY_LEVEL, g))
    ]


def bureau_view(m: CityModel, as_of: date | None = None) -> dict:
    """What the city report shows the bureau: the KPI report for the plan year with its last
    eight quarters against the plan-year path, and the figures by county and by department."""
    as_of = as_of or date.today()
    data = report(m, as_of=as_of, year=default_year(m, as_of), period="quarter")
    data["by_county"] = breakdown(m, as_of, data["year"], "county")
    data["by_department"] = breakdown(m, as_of, data["year"], "department")
    data["columns"] = {
        by: [{"key": k, "label": SHORT[k]} for k in keys] for by, keys in BREAKDOWN_COLUMNS.items()
    }
    return data


def compute(model: CityModel, as_of: date | None = None) -> dict:
    """The single city-wide snapshot other parts show (gate, report, exporter, demo)."""
    as_of = as_of or date.today()
    f = figures(model, as_of, as_of.year)
    bound = model.cloud_bound_systems
    per_level = {lvl: sum(1 for s in model.sites() if s.level == lvl) for lvl in LEVELS}
    return {
        "schema_version": 1,
        "city": model.city.name,
        "cloud_adoption_rate": f["cloud_adoption_rate"].value,
        "machine_room_consolidation_rate": f["machine_room_consolidation_rate"].value,
        "private_network_migration_rate": f["private_network_migration_rate"].value,
        "ipv6_ready_systems_rate": f["ipv6_ready_systems_rate"].value,
        "ipv6_datacentre_rate": f["ipv6_datacentre_rate"].value,
        "mlps_coverage_rate": f["mlps_coverage_rate"].value,
        "crypto_assessment_rate": f["crypto_assessment_rate"].value,
        "security_spend_share": f["security_spend_share"].value,
        "ipv6_rollout": {lvl: f[f"ipv6_rollout.{lvl}"].value for lvl in LEVELS},
        "extranet_coverage": {lvl: f[f"extranet_coverage.{lvl}"].value for lvl in LEVELS},
        "counts": {
            "systems": len(model.systems),
            "non_classified_systems": len(bound),
            "on_cloud": sum(1 for s in bound if s.state == SystemState.on_cloud),
            "migrating": sum(1 for s in bound if s.state == SystemState.migrating),
            "machine_rooms": len(model.machine_rooms),
            "machine_rooms_staying": sum(1 for r in model.machine_rooms if r.stays),
            "private_networks": len(model.private_networks),
            "sites": per_level,
        },
        "targets": {t.key: t.target for t in TARGETS} | LEVEL_TARGETS,
    }


def cloud_adoption_rate(model: CityModel, wave: int | None = None) -> float | None:
    """Share of non-classified, non-retired systems on the cloud (after `wave`, if given)."""
    bound = model.cloud_bound_systems
    on = {s.id for s in model.on_cloud_systems(wave)} if wave is not None else None
    done = sum(
        1 for s in bound if (s.id in on if on is not None else s.state == SystemState.on_cloud)
    )
    return _ratio(done, len(bound))


def blocking_systems(model: CityModel, wave: int | None = None) -> list[str]:
    """Non-classified systems not yet on the cloud (after `wave`): what stands between the
    city and its adoption target."""
    on = {s.id for s in model.on_cloud_systems(wave)} if wave is not None else set()
    return [
        s.id
        for s in model.cloud_bound_systems
        if s.state != SystemState.on_cloud and s.id not in on
    ]


# --- recording ----------------------------------------------------------------------------


def snapshot_row(m: CityModel, as_of: date) -> dict:
    f = figures(m, as_of, as_of.year)
    return {
        "schema_version": HISTORY_SCHEMA_VERSION,
        "date": as_of.isoformat(),
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "city": m.city.name,
        "indicators": {k: r.value for k, r in f.items()},
        "numerators": {k: _num(r.num) for k, r in f.items()},
        "denominators": {k: _num(r.den) for k, r in f.items()},
    }


def record(m: CityModel, as_of: date | None = None, path: Path | None = None) -> dict:
    """Append one dated snapshot to the KPI history: one `write` of one whole line to a
    file opened for appending, under a lock, after checking the earlier rows (which are
    never rewritten). Returns the row."""
    from filelock import FileLock

    path = path or history_path(m)
    row = snapshot_row(m, as_of or date.today())
    line = dumps_json(row).encode("utf-8")
    with FileLock(str(path.parent / f".{path.name}.lock")):
        read_history(path)  # refuses to append after a corrupt row
        if path.exists() and path.stat().st_size:
            with path.open("rb") as fh:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    raise InvalidModel(
                        [
                            ModelError(
                                display_path(path),
                                path.read_bytes().count(b"\n") + 1,
                                "",
                                "the last row of the KPI history is cut short; fix it before recording",
                            )
                        ]
                    )
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if os.write(fd, line) != len(line):
                raise OSError("short write to the KPI history")
            os.fsync(fd)
        finally:
            os.close(fd)
    return row


def synthetic_history(m: CityModel, as_of: date, quarters: int, seed: int) -> list[dict]:
    """Quarterly snapshots leading up to `as_of` for a synthetic city (the sample's trend):
    each indicator's numerator walks back by a few points a quarter. Marked `synthetic`."""
    import random

    rng = random.Random(f"{seed}/kpi-history")
    f = figures(m, as_of, as_of.year)
    step = {k: rng.uniform(0.01, 0.05) for k in f}
    rows = []
    for q in range(quarters, 0, -1):
        month = as_of.month - 3 * q
        year, month = as_of.year + (month - 1) // 12, (month - 1) % 12 + 1
        day = date(year, month, 1) - timedelta(days=1)
        nums = {}
        for k, r in f.items():
            back = r.num - step[k] * q * r.den * rng.uniform(0.8, 1.2)
            nums[k] = max(0.0, min(r.num, round(back) if float(r.den).is_integer() else back))
        rows.append(
            {
                "schema_version": HISTORY_SCHEMA_VERSION,
                "date": day.isoformat(),
                "recorded_at": "synthetic",
                "city": m.city.name,
                "indicators": {k: Ratio(nums[k], r.den).value for k, r in f.items()},
                "numerators": {k: _num(nums[k]) for k in f},
                "denominators": {k: _num(r.den) for k, r in f.items()},
            }
        )
    return rows


def write_history(path: Path, rows: list[dict]) -> None:
    """Write a whole KPI history at once (a new city); appending is `record`'s job."""
    from model.outputs import write_atomic

    write_atomic(path, "".join(dumps_json(r) for r in rows))
