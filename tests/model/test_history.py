"""`model/history.py`: a hostile utilisation history is a located error, never a crash."""

from __future__ import annotations

import gzip
import os
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.errors import InvalidModel
from model.history import load_history

HEADER = "timestamp,system,cpu_cores,memory_bytes\n"
ROW = "2026-10-01T00:00:00Z,fgw-001,1.5,1000\n"


def _write(tmp_path, text: str | bytes, gz: bool = True):
    path = tmp_path / ("h.csv.gz" if gz else "h.csv")
    data = text.encode() if isinstance(text, str) else text
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEADER + ROW.replace("1.5", "inf"), ":2: usage must be a finite number"),
        (HEADER + ROW.replace("1000", "nan"), ":2: usage must be a finite number"),
        (HEADER + ROW.replace("1.5", "1e400"), ":2: usage must be a finite number"),
        (HEADER + ROW.replace("1.5", "²"), ":2: cpu_cores: not a number"),
        (HEADER + ROW.replace("2026", "99999"), ":2: timestamp: not an ISO 8601 time"),
        (HEADER + "x," + "a" * 200_000 + ",1,1\n", ":2: not CSV: field larger than field limit"),
        (HEADER + ROW + ROW, ":3: timestamp: duplicate sample of 'fgw-001' (first at line 2)"),
        (
            HEADER + ROW + ROW.replace("2026-10-01", "2126-10-01") + ROW.replace("T00", "T01"),
            ":3: timestamp: the samples span 36,524 days, more than 400",
        ),
        (
            HEADER + ROW.replace("2026-10-01", "1970-01-01") + ROW + ROW.replace("T00", "T01"),
            ":2: timestamp: the samples span",
        ),
        (HEADER + ROW.replace("fgw-001", "s" * 10_000), "characters)"),
    ],
)
def test_bad_rows_are_located(tmp_path, text, expected):
    with pytest.raises(InvalidModel) as info:
        load_history(_write(tmp_path, text), {"fgw-001"})
    assert expected in str(info.value) and len(str(info.value)) < 1000, str(info.value)


def test_a_bom_is_accepted_as_in_yaml(tmp_path):
    usage = load_history(_write(tmp_path, "\ufeff" + HEADER + ROW))
    assert list(usage) == ["fgw-001"]


def test_corrupt_gzip_and_special_files(tmp_path):
    bad = tmp_path / "bad.csv.gz"
    bad.write_bytes(gzip.compress((HEADER + ROW).encode())[:-6])
    fifo = tmp_path / "fifo.csv.gz"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.csv.gz"
    loop.symlink_to(loop)
    for path, expected in ((bad, "gzip"), (fifo, "not a regular file"), (loop, "loop")):
        with pytest.raises(InvalidModel, match=expected):
            load_history(path)


@pytest.fixture
def shanghai(monkeypatch):
    """The process's local zone is UTC+8 for the test, and the machine's again after it."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    moment=st.datetimes(
        min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
    offset_h=st.integers(min_value=-12, max_value=14),
)
def test_a_time_without_an_offset_is_utc_not_the_local_zone(tmp_path, shanghai, moment, offset_h):
    """The same instant written with `Z`, with no offset and with another offset loads as one
    epoch second, whatever the machine's zone (Asia/Shanghai here, UTC+8)."""
    assert time.timezone == -8 * 3600  # the fixture's zone is in force
    other = moment.astimezone(timezone(timedelta(hours=offset_h)))
    stamps = [
        moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        moment.replace(tzinfo=None).isoformat(),
        other.isoformat(),
    ]
    rows = "".join(f"{s},sys-{i},1,1\n" for i, s in enumerate(stamps))
    usage = load_history(_write(tmp_path, HEADER + rows))
    assert [float(usage[f"sys-{i}"].t[0]) for i in range(3)] == [moment.timestamp()] * 3
