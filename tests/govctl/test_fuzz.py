"""A fuzz corpus against the CLI, in-process: hostile locks, settings and special files.

Every case runs `govctl.app.main` with a time bound and must end with exit 0, 2 or 3 — never
"internal error" — with a located message for 2 and nothing written on failure. The number
of examples is kept modest for `make test` (HYPOTHESIS_PROFILE=fuzz runs more)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govctl.app import main

settings.register_profile(
    "fuzz", max_examples=500, deadline=None, suppress_health_check=list(HealthCheck)
)
EXAMPLES = 500 if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else 40
CASE_SECONDS = 60


def run(argv: list[str], capsys) -> tuple[int, str]:
    """main(argv) within CASE_SECONDS (a hang fails the test), with its stderr."""
    result: list[int] = []
    t = threading.Thread(target=lambda: result.append(main(argv)), daemon=True)
    t.start()
    t.join(CASE_SECONDS)
    assert result, f"govctl {' '.join(argv)} did not finish in {CASE_SECONDS} s"
    err = capsys.readouterr().err
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
