"""`simulate/settings.py` through the bounded input reader: hostile settings files are located
errors (exit 2), never a hang or an internal error; the work budget names the setting."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govctl.app import main
from model.errors import InvalidModel
from simulate.settings import load_settings

BAD = {
    "infinity": ("capacity:\n  years: .inf\n", "settings.yaml:2: capacity.years:"),
    "nan": ("backup:\n  compression: .nan\n", "settings.yaml:2: backup.compression:"),
    "boolean": ("rollout:\n  forks: true\n", "rollout: forks: expected a number"),
    "huge int": ("backup:\n  days: " + "9" * 4300 + "\n", "settings.yaml:2: backup.days:"),
    "tiny step": (
        "capacity:\n  sample_every_h: 1.0e-9\n",
        "settings.yaml:2: capacity.sample_every_h: implies",
    ),
    "tiny mtbf": (
        "capacity:\n  node_mtbf_days: 1.0e-300\n",
        "settings.yaml:2: capacity.node_mtbf_days: implies",
    ),
    "tiny batch": (
        "backup:\n  batch_interval_h: 1.0e-9\n",
        "settings.yaml:2: backup.batch_interval_h: implies",
    ),
    "alias bomb": (
        "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n",
        "settings.yaml:2: YAML aliases (*a) are not allowed here",
    ),
    "wrong shape": ("- capacity\n- backup\n", "settings.yaml:1:"),
    "unicode digit": ("backup:\n  days: ²\n", "settings.yaml:2: backup.days:"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_hostile_settings_are_located_errors(tmp_path, capsys, case):
    text, expected = BAD[case]
    path = tmp_path / "settings.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidModel) as info:
        load_settings(path)
    shown = str(info.value)
    assert expected in shown.replace(str(tmp_path) + "/", ""), shown
    assert len(shown) < 2000  # never the expansion or the whole scalar


def test_the_budget_can_be_raised_on_purpose(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("capacity:\n  sample_every_h: 0.01\nbudget:\n  max_events: 1.0e+6\n")
    with pytest.raises(InvalidModel, match="budget.max_events"):
        load_settings(path)
    path.write_text("capacity:\n  sample_every_h: 0.01\nbudget:\n  max_events: 1.0e+9\n")
    assert load_settings(path).capacity.sample_every_h == 0.01


def test_the_commands_options_are_budget_checked_with_the_file(tmp_path):
    """`--days` over a file: the file's own 30 nights are within its budget, 3660 are not."""
    path = tmp_path / "s.yaml"
    path.write_text("budget:\n  max_events: 3.0e+4\n")
    assert load_settings(path, {"backup.days": None}).backup.days == 30  # None: not given
    assert load_settings(path, {"backup.days": 300}).backup.days == 300
    with pytest.raises(InvalidModel) as info:
        load_settings(path, {"backup.days": 3660})
    assert "s.yaml:1: backup.outage_mean_h: implies 4.39e+04 outage ends per link" in str(
        info.value
    )
    assert "(with backup.days = 3660 from the command line)" in str(info.value)
    with pytest.raises(InvalidModel, match=r"rollout.forks: .* \(with rollout.forks = 0 from"):
        load_settings(None, {"rollout.forks": 0})  # the fields' bounds hold for options too


def test_the_plans_backup_nights_count_in_the_budget(tmp_path):
    """The gate simulates `gate.backup_days` nights whatever `backup.days` says."""
    path = tmp_path / "s.yaml"
    path.write_text("backup:\n  days: 1\n  batch_interval_h: 1.0e-5\ngate:\n  backup_days: 366\n")
    with pytest.raises(InvalidModel, match="s.yaml:3: backup.batch_interval_h: implies 8.78e"):
        load_settings(path)


def _special_files(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * (1 << 20) + "\n")
    return {
        "a FIFO": fifo,
        "/dev/zero": Path("/dev/zero"),
        "a directory": tmp_path,
        "a symlink loop": loop,
        "too big": big,
    }


def test_special_files_as_settings_never_hang(tmp_path, capsys):
    for what, path in _special_files(tmp_path).items():
        result: list[int] = []
        t = threading.Thread(
            target=lambda p=path, result=result: result.append(
                main(["simulate", "capacity", "--settings", str(p), "--out", str(tmp_path / "o")])
            ),
            daemon=True,
        )
        t.start()
        t.join(20)
        assert result == [2], what
        err = capsys.readouterr().err
        assert str(path).split("/")[-1] in err and "internal error" not in err, (what, err)


_numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from(["²", "١٢", "1e999", "true", "null", "[]", "{}", "'x'"]),
)
_fields = st.sampled_from(
    [
        ("capacity", "years"),
        ("capacity", "sample_every_h"),
        ("capacity", "growth_step_days"),
        ("capacity", "node_mtbf_days"),
        ("backup", "days"),
        ("backup", "batch_interval_h"),
        ("backup", "window_h"),
        ("rollout", "replications"),
        ("rollout", "forks"),
        ("gate", "target_utilisation"),
        ("budget", "max_events"),
    ]
)


@settings(
    max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(field=_fields, value=_numbers)
def test_fuzzed_settings_load_or_fail_located(tmp_path, field, value):
    section, key = field
    text = value if isinstance(value, str) else repr(value).replace("inf", ".inf")
    text = {"nan": ".nan", "-.inf": "-.inf"}.get(text, text)
    path = tmp_path / "fuzz.yaml"
    path.write_text(f"{section}:\n  {key}: {text}\n", encoding="utf-8")
    try:
        loaded = load_settings(path)
    except InvalidModel as exc:
        assert all(e.line >= 1 and e.path.endswith("fuzz.yaml") for e in exc.errors)
        return
    for amount, _ in loaded.work().values():  # what loads is finite and within the budget
        assert amount <= loaded.budget.max_events
