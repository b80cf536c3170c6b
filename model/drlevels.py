"""GB/T 20988 disaster-recovery levels: the ONE table of RPO/RTO bounds and DR practice.

GB/T 20988-2007 (信息安全技术 信息系统灾难恢复规范, Appendix A) grades a system's
disaster-recovery capability from 1 to 6 and gives, for each level, the range of recovery
time (RTO) and recovery point (RPO) it corresponds to:

| level | 等级名称 | RTO in the standard | RPO in the standard |
|---|---|---|---|
| 1 | 基本支持 basic support | 2 days or more | 1 to 7 days |
| 2 | 备用场地支持 standby-site support | 24 hours or more | 1 to 7 days |
| 3 | 电子传输和部分设备支持 electronic transfer, partial equipment | 12 hours or more | hours to 1 day |
| 4 | 电子传输及完整设备支持 electronic transfer, complete equipment | hours to 2 days | hours to 1 day |
| 5 | 实时数据传输及完整设备支持 real-time transfer, complete equipment | minutes to 2 days | 0 to 30 minutes |
| 6 | 数据零丢失和远程集群支持 zero data loss, remote cluster | minutes | 0 |

(Source of the ranges: GB/T 20988-2007 Appendix A, "灾难恢复的等级划分"; the same table in
English in Alibaba Cloud's disaster-recovery guide,
https://www.alibabacloud.com/help/doc-detail/97640.htm, "Disaster recovery protection levels".)

A *bound* here is the worst a system of that level may do. Where the standard's range has
an upper end (levels 4–6) the bound is that end; level 6's "minutes" is taken as 15 minutes.
For levels 1–3 the standard's RTO range is open-ended ("2 days or more"): it says how slow
such a level may be expected to be, not how slow it may get, so the bound is **this city's
policy** (`rto_source` says which): a system is recovered within a week (level 1), three days
(level 2) or two days (level 3, no more than level 4's upper end). No bound is None: a
recovery over its bound is a violation at every level.

The `practice` columns say how this city protects a system of each level — what the backup
simulation runs and what the Pulumi DR component provisions:

- `copy_site`: the site role (`city.sites[].role`) that holds the DR copy;
- `mode`: `nightly` (weekly full + nightly incremental), `batch` (nightly plus batches every
  `batch_interval_h` hours, the standard's "每天多次…定时批量传送"), or `continuous`
  (real-time replication; level 6 is synchronous and degrades to asynchronous only while
  its link is down);
- `standby`: complete equipment waits at the DR site, so recovery is a takeover, not a
  restore of the data over the link;
- `takeover_h`: the fixed part of recovery (switch-over, checks), added to any restore.

Every system also gets a nightly backup to the off-site site (异地备份), whatever its level.
Other parts (`infra/` DR component, `govctl plan`) import `LEVELS` / `level()` from here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

HOUR = 3600.0
DAY = 24 * HOUR
STANDARD = "GB/T 20988-2007 Appendix A"
CITY_POLICY = "city policy (the standard's range is open-ended)"


@dataclass(frozen=True)
class DrLevel:
    level: int
    name: str
    name_en: str
    rpo_text: str
    rto_text: str
    rpo_bound_s: float
    rto_bound_s: float
    rto_source: str
    copy_site: str
    mode: str
    standby: bool
    takeover_h: float

    def as_dict(self) -> dict:
        return asdict(self)


LEVELS: dict[int, DrLevel] = {
    d.level: d
    for d in (
        DrLevel(
            1,
            "基本支持",
            "basic support",
            "1–7 days",
            "≥ 2 days",
            7 * DAY,
            7 * DAY,
            CITY_POLICY,
            "backup_offsite",
            "nightly",
            False,
            24.0,
        ),
        DrLevel(
            2,
            "备用场地支持",
            "standby-site support",
            "1–7 days",
            "≥ 24 hours",
            7 * DAY,
            3 * DAY,
            CITY_POLICY,
            "backup_offsite",
            "nightly",
            False,
            12.0,
        ),
        DrLevel(
            3,
            "电子传输和部分设备支持",
            "electronic transfer and partial equipment",
            "hours – 1 day",
            "≥ 12 hours",
            DAY,
            2 * DAY,
            CITY_POLICY,
            "dr_same_city",
            "batch",
            False,
            8.0,
        ),
        DrLevel(
            4,
            "电子传输及完整设备支持",
            "electronic transfer and complete equipment",
            "hours – 1 day",
            "hours – 2 days",
            DAY,
            2 * DAY,
            STANDARD,
            "dr_same_city",
            "batch",
            True,
            4.0,
        ),
        DrLevel(
            5,
            "实时数据传输及完整设备支持",
            "real-time transfer and complete equipment",
            "0 – 30 minutes",
            "minutes – 2 days",
            30 * 60.0,
            2 * DAY,
            STANDARD,
            "dr_same_city",
            "continuous",
            True,
            1.0,
        ),
        DrLevel(
            6,
            "数据零丢失和远程集群支持",
            "zero data loss and remote cluster",
            "0",
            "minutes",
            0.0,
            15 * 60.0,
            STANDARD,
            "dr_same_city",
            "continuous",
            True,
            0.25,
        ),
    )
}


def level(n: int) -> DrLevel:
    """The level `n` (1–6); a KeyError names the bad level."""
    try:
        return LEVELS[n]
    except KeyError:
        raise KeyError(f"GB/T 20988 has levels 1–6, not {n!r}") from None


def rpo_ok(level_n: int, achieved_s: float) -> bool:
    """Does an achieved worst-case RPO meet level `level_n`'s bound?"""
    return achieved_s <= LEVELS[level_n].rpo_bound_s + 1e-9


def rto_ok(level_n: int, achieved_s: float) -> bool:
    """Does an achieved RTO meet the level's bound (the standard's or the city's)?"""
    return achieved_s <= LEVELS[level_n].rto_bound_s + 1e-9


def table() -> list[dict]:
    """The table as plain data, for reports and docs."""
    return [d.as_dict() for d in LEVELS.values()]
