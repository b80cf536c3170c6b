"""A fuzz corpus against the CLI, in-process: hostile locks, utilisation histories, metrics
files, simulation settings and special files.

Every case runs `govctl.app.main` with a time bound and must end with exit 0, 2 or 3 — never
"internal error" — with a located message for 2 and nothing written on failure. The number
of examples is kept modest for `make test` (HYPOTHESIS_PROFILE=fuzz runs more)."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from govctl.app import main

settings.register_profile(
    "fuzz", max_examples=500, deadline=None, suppress_health_check=list(HealthCheck)
)
EXAMPLES = 500 if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else 40
CASE_SECONDS = 60


RUN_OUT: list[str] = []
"""The stdout of the last `run(..., keep_out=True)`."""


def run(argv: list[str], capsys, keep_out: bool = False) -> tuple[int, str]:
    """main(argv) within CASE_SECONDS (a hang fails the test), with its stderr."""
    result: list[int] = []
    t = threading.Thread(target=lambda: result.append(main(argv)), daemon=True)
    t.start()
    t.join(CASE_SECONDS)
    assert result, f"govctl {' '.join(argv)} did not finish in {CASE_SECONDS} s"
    captured = capsys.readouterr()
    err = captured.err
    if keep_out:
        RUN_OUT[:] = [captured.out]
    assert result[0] in (0, 2, 3), (result[0], err)
    assert "internal error" not in err and "Traceback" not in err, err
    return result[0], err


HOSTILE = [
    "inf",
    ".inf",
    "-.inf",
    ".nan",
    "1e308",
    "1e-300",
    "0",
    "-1",
    "²",
    "١٢",
    "9" * 4300,
    "::/0",
    "fe80::%eth0/64",
    "ff00::/8",
    "2001:db8::1/128",
    "*a",
    "&a x",
    "[]",
    "{}",
    "null",
    "true",
    "removed",
    "x" * 5000,
    "'",
    "- - -",
]


@pytest.fixture(scope="module")
def planned(tmp_path_factory, small_city_master):
    """A city and its valid lock, planned once."""
    lock = tmp_path_factory.mktemp("lock") / "ipam.lock.yaml"
    assert main(["ipv6", "plan", str(small_city_master), "--lock", str(lock)]) == 0
    return small_city_master, lock.read_text(encoding="utf-8")


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_fuzzed_locks(planned, tmp_path_factory, capsys, data):
    city, text = planned
    lines = text.splitlines()
    i = data.draw(st.integers(0, len(lines) - 1), label="line")
    how = data.draw(st.sampled_from(["token", "delete", "duplicate", "truncate"]), label="how")
    if how == "token":
        words = lines[i].split(" ")
        j = data.draw(st.integers(0, len(words) - 1), label="word")
        words[j] = data.draw(st.sampled_from(HOSTILE), label="token")
        lines[i] = " ".join(words)
    elif how == "delete":
        del lines[i]
    elif how == "duplicate":
        lines.insert(i, lines[i])
    else:
        lines = lines[:i]
    folder = tmp_path_factory.mktemp("fuzz")
    lock, out = folder / "ipam.lock.yaml", folder / "plan.json"
    mutated = "\n".join(lines) + "\n"
    lock.write_text(mutated, encoding="utf-8")
    code, err = run(["ipv6", "plan", str(city), "--lock", str(lock), "--out", str(out)], capsys)
    if code == 2:
        assert "ipam.lock.yaml:" in err or "error:" in err, err
        assert not out.exists() and lock.read_text(encoding="utf-8") == mutated
    code, err = run(
        ["net", "render", str(city), "--lock", str(lock), "--out", str(folder / "cfg")], capsys
    )
    if code == 2:
        assert not (folder / "cfg").exists()
    assert not [p for p in folder.iterdir() if ".staging-" in p.name or p.suffix == ".tmp"]


def _special(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    return {
        "fifo": fifo,
        "zero": Path("/dev/zero"),
        "dir": tmp_path,
        "loop": loop,
        "dangling": dangling,
    }


@pytest.mark.parametrize("kind", ["fifo", "zero", "dir", "loop", "dangling"])
@pytest.mark.parametrize(
    "option",
    ["--settings", "--lock", "--metrics-file", "model file"],
)
def test_special_files_as_inputs(small_city, tmp_path, capsys, kind, option):
    path = _special(tmp_path)[kind]
    if option == "--settings":
        argv = ["simulate", "backup", str(small_city), "--settings", str(path)]
        argv += ["--out", str(tmp_path / "o")]
    elif option == "--lock":
        argv = ["ipv6", "plan", str(small_city), "--lock", str(path)]
    elif option == "--metrics-file":
        argv = ["capacity", "report", str(small_city), "--metrics-file", str(path), "--json"]
    else:
        (small_city / "systems.yaml").unlink()
        (small_city / "systems.yaml").symlink_to(path)
        argv = ["validate", str(small_city)]
    code, err = run(argv, capsys)
    assert code == 2 and err.strip(), err
    assert not (tmp_path / "o").exists()


# --- the utilisation history, the metrics file and the simulation settings ---------------
#
# Each case writes one hostile version of the input, runs the commands that read it and
# asserts: exit 0 or 2 (never "internal error"), for 2 every message located in that file
# (`name:line: [field: ]message`), and nothing written — no output file, no JSON on stdout.

SMALL_EXAMPLES = 200 if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else 25

CSV_HOSTILE = [
    *HOSTILE,
    "",
    "x" * 140_000,  # over csv's field limit (131,072)
    "\x00",
    '"',
    "\ufeff1",
    "2026-13-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00+23:59",
    "1e400",
    "0x10",
    "1_000",
    "ｱ",
]


def _located(err: str, name: str) -> None:
    """Every line of a refusal names the file and a line in it, or is the summary."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines, "exit 2 without a message"
    for ln in lines:
        if re.fullmatch(r"\d+ error\(s\); nothing was written", ln):
            continue
        assert re.match(rf"^(error: )?\S*{re.escape(name)}:\d+: \S", ln), ln


def _fresh(tmp_path_factory, master: Path) -> Path:
    city = tmp_path_factory.mktemp("fuzzcity") / "city"
    shutil.copytree(master, city)
    return city


def _mutate_lines(data, lines: list[str], tokens: list[str], sep: str) -> list[str]:
    lines = list(lines)
    i = data.draw(st.integers(0, len(lines) - 1), label="line")
    how = data.draw(
        st.sampled_from(["token", "delete", "duplicate", "truncate", "extra", "blank"]),
        label="how",
    )
    if how == "token":
        words = lines[i].split(sep)
        j = data.draw(st.integers(0, len(words) - 1), label="word")
        words[j] = data.draw(st.sampled_from(tokens), label="token")
        lines[i] = sep.join(words)
    elif how == "delete":
        del lines[i]
    elif how == "duplicate":
        lines.insert(i, lines[i])
    elif how == "truncate":
        lines = lines[:i]
    elif how == "extra":
        lines[i] += sep + data.draw(st.sampled_from(tokens), label="extra")
    else:
        lines.insert(i, "")
    return lines


@pytest.fixture(scope="module")
def history_lines(small_city_master) -> list[str]:
    raw = gzip.decompress((small_city_master / "utilisation.csv.gz").read_bytes())
    return raw.decode("utf-8").splitlines()


@settings(
    max_examples=SMALL_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzzed_utilisation_history(
    small_city_master, history_lines, tmp_path_factory, capsys, data
):
    city = _fresh(tmp_path_factory, small_city_master)
    lines = _mutate_lines(data, history_lines, CSV_HOSTILE, ",")
    raw = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    form = data.draw(
        st.sampled_from(["gzip", "plain", "cut gzip", "flipped byte", "utf-16"])
        | st.just("gzip"),  # half the cases reach the rows
        label="form",
    )
    if form == "utf-16":
        raw = raw.decode("utf-8").encode("utf-16")
    packed = gzip.compress(raw, compresslevel=1, mtime=0)
    if form == "plain":
        packed = raw
    elif form == "cut gzip":
        packed = packed[: data.draw(st.integers(0, len(packed) - 1), label="cut")]
    elif form == "flipped byte":
        k = data.draw(st.integers(0, len(packed) - 1), label="byte")
        packed = packed[:k] + bytes([packed[k] ^ 0xFF]) + packed[k + 1 :]
    (city / "utilisation.csv.gz").write_bytes(packed)
    code, err = run(["capacity", "report", str(city), "--json"], capsys, keep_out=True)
    event(f"capacity report: exit {code}")
    if code == 2:
        _located(err, "utilisation.csv.gz")
        assert RUN_OUT[-1] == "", "JSON printed by a refused run"
    out = city.parent / "usage.om"
    code, err = run(["capacity", "export", str(city), "--out", str(out)], capsys)
    if code == 2:
        _located(err, "utilisation.csv.gz")
        assert not out.exists()
    else:  # accepted: the capacity model bins it by hour too (a stray year once took GiBs)
        sim = city.parent / "sim"
        argv = ["simulate", "capacity", str(city), "--years", "0.05", "--out", str(sim)]
        code, err = run(argv, capsys)
        if code == 2:
            _located(err, "utilisation.csv.gz")
            assert not sim.exists()
    assert {p.name for p in city.parent.iterdir()} <= {"city", "usage.om", "sim"}


@pytest.fixture(scope="module")
def metrics_lines(small_city_master, tmp_path_factory) -> list[str]:
    path = tmp_path_factory.mktemp("metrics") / "usage.om"
    assert main(["capacity", "export", str(small_city_master), "--out", str(path)]) == 0
    return path.read_text(encoding="utf-8").splitlines()


METRICS_HOSTILE = [
    *CSV_HOSTILE,
    "govcloud_system_cpu_usage_cores",
    'govcloud_system_cpu_usage_cores{system=""}',
    'govcloud_system_memory_usage_bytes{system="nope"}',
    '{system="fgw-001"}',
    "# EOF",
    "NaN",
    "+Inf",
    "-0",
]


@settings(
    max_examples=SMALL_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzzed_metrics_file(small_city_master, metrics_lines, tmp_path_factory, capsys, data):
    folder = tmp_path_factory.mktemp("fuzzmetrics")
    lines = _mutate_lines(data, metrics_lines, METRICS_HOSTILE, " ")
    metrics, out = folder / "usage.om", folder / "again.om"
    metrics.write_text("\n".join(lines) + "\n", encoding="utf-8")
    city = str(small_city_master)
    code, err = run(
        ["capacity", "report", city, "--metrics-file", str(metrics), "--json"],
        capsys,
        keep_out=True,
    )
    event(f"capacity report: exit {code}")
    if code == 2:
        _located(err, "usage.om")
        assert RUN_OUT[-1] == "", "JSON printed by a refused run"
    code, err = run(
        ["capacity", "export", city, "--metrics-file", str(metrics), "--out", str(out)], capsys
    )
    if code == 2:
        _located(err, "usage.om")
        assert not out.exists()
    assert {p.name for p in folder.iterdir()} <= {"usage.om", "again.om"}


def _default_settings() -> str:
    from simulate.settings import Settings

    return yaml.safe_dump(Settings().model_dump(mode="json"), sort_keys=False)


SETTINGS_HOSTILE = [
    *HOSTILE,
    "1e-9",
    "5e-324",
    "-0.0",
    "0.0000001",
    "1e12",
    "2147483648",
    "Asia/Nowhere",
    "../../etc/passwd",
    "{huawei_vrp: 0}",
    "{huawei_vrp: .inf}",
    "[1, 2]",
    "!!binary aGVsbG8=",
    "!!python/object:os.system x",
]
SECTION_COMMAND = {  # the simulation a section's values drive, run small
    "capacity": ["simulate", "capacity", "{city}", "--years", "0.05"],
    "backup": ["simulate", "backup", "{city}", "--days", "1"],
}


@settings(
    max_examples=SMALL_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzzed_simulation_settings(small_city_master, tmp_path_factory, capsys, data):
    """Each case: one value, key or line of a full settings file made hostile. Every command
    reading the file validates all of it (rollout, the fastest, first); where it is accepted,
    the simulation its section drives runs too."""
    lines = _default_settings().splitlines()
    i = data.draw(st.integers(0, len(lines) - 1), label="line")
    how = data.draw(st.sampled_from(["value", "key", "delete", "duplicate", "shape"]))
    key, _, value = lines[i].partition(":")
    token = data.draw(st.sampled_from(SETTINGS_HOSTILE), label="token")
    if how == "value" and value.strip():
        lines[i] = f"{key}: {token}"
    elif how == "key":
        lines[i] = f"{key.rstrip()}x:{value}" if key.startswith(" ") else f"{key}x:"
    elif how == "delete":
        del lines[i]
    elif how == "duplicate":
        lines.insert(i, lines[i])
    else:
        lines[i] = f"{key}: [{value.strip() or token}]"
    section = next(
        (ln.rstrip(":") for ln in reversed(lines[: i + 1]) if ln and not ln.startswith(" ")),
        "",
    )
    note(f"{how} at line {i + 1} of section {section!r}: {lines[i] if i < len(lines) else ''!r}")
    folder = tmp_path_factory.mktemp("fuzzsettings")
    path, out = folder / "settings.yaml", folder / "out"
    text = "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")
    city = str(small_city_master)
    argv = ["simulate", "rollout", city, "--replications", "2", "--jobs", "1"]
    commands = [argv, *([SECTION_COMMAND[section]] if section in SECTION_COMMAND else [])]
    for command in commands:
        argv = [a.format(city=city) for a in command]
        code, err = run([*argv, "--settings", str(path), "--out", str(out)], capsys)
        event(f"{argv[1]}: exit {code}")
        if code == 2:
            _located(err, "settings.yaml")
            assert not out.exists()
            break
    assert path.read_text(encoding="utf-8") == text
    assert not [p for p in folder.iterdir() if ".staging-" in p.name or p.suffix == ".tmp"]


@pytest.mark.parametrize(
    "line",
    [
        "stream_mbps: 1e-300",  # found by the fuzz above: the first night never ended
        "dr_restore_mbps: 0.0000001",
        "offsite_restore_mbps: 5e-324",
    ],
)
def test_settings_that_hung_the_backup_simulation_are_refused(small_city, tmp_path, capsys, line):
    path, out = tmp_path / "settings.yaml", tmp_path / "out"
    path.write_text(f"backup:\n  {line}\n", encoding="utf-8")
    argv = ["simulate", "backup", str(small_city), "--days", "1", "--settings", str(path)]
    code, err = run([*argv, "--out", str(out)], capsys)
    assert code == 2
    _located(err, "settings.yaml")
    assert f"settings.yaml:2: backup.{line.split(':')[0]}: " in err and not out.exists()
