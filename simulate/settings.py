"""The knobs of the three simulations and of the plan gate, with defaults, and their optional YAML file.

A settings file (`--settings FILE`) has up to four sections, each optional:

    gate:     {target_utilisation: 0.8, backup_days: 14}   # govctl plan's thresholds
    capacity: {growth_per_year: 0.2, node_mtbf_days: 180}
    backup:   {compression: 0.6, streams: 8}
    rollout:  {push_median_s: 35, forks: 50}

Unknown keys and bad values are located errors (file, line, field), like the city model;
numbers are finite and a boolean is never a number (`model.schema.Bounded`). The file is read
with the bounded input reader (`model/inputs.py`: a regular file of at most 1 MiB, no YAML
aliases). A `budget:` section bounds the work the settings imply (`Settings.work`): a run
whose settings would make one zone, system or device generate more than `budget.max_events`
events is refused naming the setting, instead of running for ever. A command's options
(`govctl simulate backup --days N` …) override the file through `load_settings(path,
overrides)`, so what runs is validated and budget-checked the same way as the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, Field, ValidationError, field_validator

from model.errors import InvalidModel, display_path
from model.inputs import check_budget, read_yaml_input
from model.loader import validation_errors
from model.schema import Bounded
from model.yamlio import line_of


class _Strict(Bounded):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class BudgetSettings(_Strict):
    max_events: float = Field(
        1e8,
        gt=0,
        le=1e12,
        description="most events one zone, system or device may generate in a simulation",
    )


class CapacitySettings(_Strict):
    years: float = Field(3.0, gt=0, le=20, description="simulated horizon")
    first_wave_day: float = Field(30.0, ge=0, description="day the first migration wave starts")
    wave_interval_days: float = Field(
        120.0, gt=0, description="days between the starts of successive waves"
    )
    wave_spread_days: float = Field(
        30.0, ge=0, description="a wave's systems arrive uniformly over this many days"
    )
    growth_per_year: float = Field(
        0.15, ge=-0.5, le=5, description="yearly growth of every system's resources and load"
    )
    growth_step_days: float = Field(
        30.0, gt=0, description="growth is applied in steps of this many days"
    )
    node_mtbf_days: float = Field(
        365.0, gt=0, description="mean time between failures of one node (Poisson)"
    )
    repair_mean_h: float = Field(
        24.0, gt=0, description="mean repair time of a failed node (exponential)"
    )
    sample_every_h: float = Field(1.0, gt=0, le=24, description="utilisation sampling interval")
    target_utilisation: float = Field(
        0.8, gt=0, le=1, description="peak utilisation the nodes-needed figure keeps under"
    )
    target_storage_utilisation: float = Field(
        0.85,
        gt=0,
        le=1,
        description="share of a zone's storage its demand keeps under (Ceph's default "
        "mon_osd_nearfull_ratio, 0.85: Red Hat Ceph Storage 5 troubleshooting guide, Nearfull OSDs)",
    )
    spare_failures: int = Field(
        1,
        ge=0,
        le=100,
        description="concurrent node failures nodes_needed keeps the target through",
    )
    bootstrap_block_days: int = Field(
        7,
        ge=1,
        le=366,
        description="load is resampled from the history in blocks of this many days",
    )
    history_timezone: str = Field(
        "Asia/Shanghai", description="time zone of the city's days and office hours (IANA name)"
    )

    @field_validator("history_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (an IANA name like Asia/Shanghai)"
            ) from None
        return value


class BackupSettings(_Strict):
    days: int = Field(30, ge=1, le=3660, description="nights simulated")
    window_start_h: float = Field(
        1.0, ge=0, lt=24, description="hour of the night the backup window opens"
    )
    window_h: float = Field(6.0, gt=0, le=24, description="length of the backup window")
    compression: float = Field(
        0.5, gt=0, le=1, description="bytes after compression / bytes before"
    )
    dedup: float = Field(
        0.7,
        gt=0,
        le=1,
        description="bytes after deduplication / bytes before (backups only, not restores)",
    )
    streams: int = Field(16, ge=1, le=1024, description="parallel backup streams per link")
    stream_mbps: float | None = Field(
        None,
        ge=1,
        description="throughput cap of one stream, at least 1 Mbit/s (None: only the link "
        "limits; a stream of 1e-300 Mbit/s never finished its first night)",
    )
    full_every_days: int = Field(
        7,
        ge=1,
        le=366,
        description="a full backup every N nights (staggered by system), incremental otherwise",
    )
    batch_interval_h: float = Field(
        6.0, gt=0, le=24, description="interval of the DR batches of levels with mode 'batch'"
    )
    link_mtbf_days: float = Field(
        30.0,
        gt=0,
        description="mean time between path failures of one link, whatever its paths (Poisson)",
    )
    outage_mean_h: float = Field(2.0, gt=0, description="mean outage duration (exponential)")
    link_outages: bool = Field(True, description="simulate link outages at all")
    data_growth_per_year: float = Field(
        0.15, ge=-0.5, le=5, description="yearly growth of every system's data (and its changes)"
    )
    dr_restore_mbps: float = Field(
        10_000.0,
        ge=1,
        description="DR storage into the DR cluster: the path of a DR copy's restore (≥ 1 Mbit/s)",
    )
    offsite_restore_mbps: float | None = Field(
        None,
        ge=1,
        description="off-site site to the DR site, ≥ 1 Mbit/s (None: the smaller of the two "
        "sites' links)",
    )
    restore_failure_rate: float = Field(
        0.02,
        ge=0,
        le=1,
        description="probability a restore attempt fails its verification (a corrupted or "
        "unreadable copy; placeholder until the DR drills' restore tests measure it)",
    )
    restore_attempts: int = Field(
        3, ge=1, le=100, description="attempts at a restore before the system is given up"
    )


class RolloutSettings(_Strict):
    forks: int = Field(
        20, ge=1, le=10_000, description="devices pushed in parallel (Ansible forks)"
    )
    push_median_s: float = Field(
        40.0,
        gt=0,
        description="median push time of one device (placeholder until lab pushes are measured)",
    )
    platform_push_median_s: dict[str, float] = Field(
        default_factory=dict,
        description="median push time by platform (huawei_vrp, …), overriding push_median_s",
    )
    push_sigma: float = Field(0.5, ge=0, le=3, description="log-normal shape of push times")
    connect_s: float = Field(3.0, ge=0, description="SSH connect and login time per attempt")
    failure_rate: float = Field(0.03, ge=0, lt=1, description="probability one push attempt fails")
    retries: int = Field(2, ge=0, le=20, description="retries after a failed attempt")
    retry_backoff_s: float = Field(30.0, ge=0, description="wait before a retry")
    replications: int = Field(
        200, ge=1, le=1_000_000, description="independent runs for the duration distribution"
    )


class GateSettings(_Strict):
    """Thresholds of `govctl plan`'s go/no-go decision (section `gate:`)."""

    target_utilisation: float = Field(
        0.8, gt=0, le=1, description="a zone's simulated peak above this is a no-go"
    )
    target_storage_utilisation: float = Field(
        0.85,
        gt=0,
        le=1,
        description="a zone's simulated storage demand above this share is a no-go",
    )
    capacity_years: float = Field(
        1.0, gt=0, le=20, description="horizon of the plan's capacity simulation"
    )
    backup_days: int = Field(14, ge=1, le=366, description="nights of the plan's backup simulation")
    replications: int = Field(
        20, ge=1, le=10_000, description="independent replications of each simulated check"
    )
    max_violation_probability: float = Field(
        0.05,
        ge=0,
        lt=1,
        description="a no-go finding seen in more than this share of replications stops the plan",
    )
    rto_is_nogo: bool = Field(
        True, description="a simulated RTO above the DR level's bound is a no-go (else a warning)"
    )
    backup_window_is_nogo: bool = Field(
        False, description="a night over the backup window is a no-go (else a warning)"
    )
    evacuation_failures_are_nogo: bool = Field(
        False,
        description="VMs that could not be re-placed after a node failure are a no-go (else a warning)",
    )


class Settings(_Strict):
    gate: GateSettings = GateSettings()
    capacity: CapacitySettings = CapacitySettings()
    backup: BackupSettings = BackupSettings()
    rollout: RolloutSettings = RolloutSettings()
    budget: BudgetSettings = BudgetSettings()

    def work(self) -> dict[str, tuple[float, str]]:
        """The events the settings imply per simulated item, keyed by the setting that drives
        them (the budget's mechanics: `model.inputs.check_budget`)."""
        c, b, r = self.capacity, self.backup, self.rollout
        days = max(c.years, self.gate.capacity_years) * 365
        nights = max(b.days, self.gate.backup_days)  # the plan's backup run has its own nights
        return {
            "capacity.sample_every_h": (days * 24 / c.sample_every_h, "samples per zone"),
            "capacity.growth_step_days": (days / c.growth_step_days, "growth steps per system"),
            "capacity.node_mtbf_days": (days / c.node_mtbf_days, "failures per node"),
            "capacity.repair_mean_h": (days * 24 / c.repair_mean_h, "repairs per node"),
            "backup.batch_interval_h": (nights * 24 / b.batch_interval_h, "DR batches per system"),
            "backup.link_mtbf_days": (nights / b.link_mtbf_days, "outages per link"),
            "backup.outage_mean_h": (nights * 24 / b.outage_mean_h, "outage ends per link"),
            "rollout.replications": (r.replications * (r.retries + 1), "pushes per device"),
        }


def load_settings(path: Path | None, overrides: Mapping[str, object] | None = None) -> Settings:
    """Defaults, overridden by a YAML file, then by a command's options (`overrides`, dotted
    names: {"backup.days": 400}); raise InvalidModel with located errors. The overridden
    settings are validated and budget-checked as a whole, and their errors say which values
    came from the command line."""
    data = read_yaml_input(Path(path)) if path is not None else {}
    shown = display_path(Path(path)) if path is not None else "settings (the defaults)"
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise InvalidModel(validation_errors(exc, data, shown)) from None
    given = {name: value for name, value in (overrides or {}).items() if value is not None}
    try:
        if given:
            merged = settings.model_dump()
            for name, value in given.items():
                section, key = name.split(".")
                merged[section][key] = value
            settings = Settings.model_validate(merged)
        check_budget(
            shown,
            lambda name: line_of(data, tuple(name.split("."))),
            settings.work(),
            settings.budget.max_events,
            "budget.max_events",
        )
    except ValidationError as exc:
        raise _with_given(InvalidModel(validation_errors(exc, data, shown)), given) from None
    except InvalidModel as exc:
        raise _with_given(exc, given) from None
    return settings


def _with_given(exc: InvalidModel, given: Mapping[str, object]) -> InvalidModel:
    if not given:
        return exc
    note = ", ".join(f"{name} = {value}" for name, value in given.items())
    return InvalidModel(
        [replace(e, message=f"{e.message} (with {note} from the command line)") for e in exc.errors]
    )
