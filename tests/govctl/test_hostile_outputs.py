"""Every command that writes checks its output paths before any work, through one owner
(`model.outputs.check_outputs`): a bad path is `error: path: message`, exit 2, and nothing is
written. The city given is an empty folder, so a command that did any work before checking
would fail on the model (`city.yaml: file is missing`) instead of on the output."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from govctl.app import main
from tests.helpers import ROOT

LOCK = str(ROOT / "network" / "ipam.lock.yaml")

# command -> (argv given the city and the output, whether the output is a file or a folder)
WRITERS: dict[str, tuple[list[str], str]] = {
    "ipv6 plan": (["ipv6", "plan", "{city}", "--lock", "{lock}", "--out", "{out}"], "file"),
    "net render": (["net", "render", "{city}", "--lock", LOCK, "--out", "{out}"], "dir"),
    "simulate capacity": (["simulate", "capacity", "{city}", "--out", "{out}"], "dir"),
    "simulate backup": (["simulate", "backup", "{city}", "--out", "{out}"], "dir"),
    "simulate rollout": (["simulate", "rollout", "{city}", "--out", "{out}"], "dir"),
    "report": (["report", "{city}", "--out", "{out}"], "dir"),
    "demo": (["demo", "{city}", "--out", "{out}"], "dir"),
    "capacity report": (["capacity", "report", "{city}", "--chart", "{out}"], "file"),
    "capacity export": (["capacity", "export", "{city}", "--out", "{out}"], "file"),
    "tenants render": (["tenants", "render", "{city}", "--out", "{out}"], "dir"),
    "tenants preview": (["tenants", "preview", "{city}", "--render-dir", "{out}"], "dir"),
    "model synth": (["model", "synth", "--out", "{out}"], "dir"),
}


def _bad_outputs(tmp: Path, city: Path, kind: str) -> dict[str, tuple[Path, str]]:
    """name -> (output path, what the message says)."""
    fifo = tmp / "fifo"
    os.mkfifo(fifo)
    afile = tmp / "afile"
    afile.write_text("keep me\n")
    dangling = tmp / "dangling"
    dangling.symlink_to(tmp / "nowhere" / "x")
    cases = {
        "under /proc": (Path("/proc/govctl-out"), "is under /proc"),
        "a FIFO": (fifo, "FIFO" if kind == "file" else "not a directory"),
        "inside the input": (city / "out", "is inside the input"),
        "under a file": (afile / "x", "is not a directory"),
        "a dangling symlink": (dangling, "does not exist"),
        "a device": (Path("/dev/null"), "is under /dev"),
        "the lock": (city.parent / "ipam.lock.yaml", "is the input"),
    }
    if kind == "file":
        cases["a directory"] = (tmp, "is a directory")
    else:
        cases["a file"] = (afile, "not a directory")
        cases["holding the input"] = (city.parent, "holds the input")
        cases["the working directory"] = (Path("."), "working directory")
    return cases


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.lstat().st_mode, p.lstat().st_size)
        for p in sorted(root.rglob("*"))
    }


@pytest.mark.parametrize("command", list(WRITERS))
def test_every_writer_refuses_a_bad_output_before_any_work(command, tmp_path, capsys, monkeypatch):
    argv, kind = WRITERS[command]
    city = tmp_path / "in" / "city"  # an empty folder: no work can start from it
    city.mkdir(parents=True)
    lock = tmp_path / "in" / "ipam.lock.yaml"
    lock.write_text("not read\n")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    for case, (out, says) in _bad_outputs(tmp_path, city, kind).items():
        if command == "model synth" and case in ("inside the input", "holding the input"):
            continue  # synth reads no city
        if case == "the lock" and "{lock}" not in argv:
            continue
        before = _tree(tmp_path)
        args = [a.format(city=city, out=out, lock=lock) for a in argv]
        code = main(args)
        err = capsys.readouterr().err
        assert code == 2, (case, err)
        assert says in err and "error:" in err, (case, err)
        assert "city.yaml" not in err, (case, err)  # the output was checked first
        assert _tree(tmp_path) == before, case
    assert os.path.exists("/dev/null") and not Path("/dev/null").is_file()


def test_kpi_record_checks_the_history_it_appends_to(small_city, capsys):
    history = small_city / "kpi_history.jsonl"
    history.unlink(missing_ok=True)
    history.mkdir()
    assert main(["kpi", str(small_city), "--record"]) == 2
    assert "kpi_history.jsonl" in capsys.readouterr().err
    assert history.is_dir() and not list(history.iterdir())


def test_a_good_output_beside_the_input_is_written(small_city, tmp_path, capsys):
    """The overlap rule refuses only what overlaps: a sibling of the city is fine."""
    out = small_city.parent / "sim"
    argv = ["simulate", "backup", str(small_city), "--out", str(out), "--days", "2"]
    assert main(argv) == 0, capsys.readouterr().err
    assert (out / "backup.json").is_file()


NON_FINITE = [float("inf"), float("-inf"), float("nan")]


@pytest.mark.parametrize("bad", NON_FINITE)
def test_json_on_stdout_refuses_non_finite_numbers(bad, capsys):
    from govctl.common import print_json

    with pytest.raises(ValueError, match=r"\.zones\.a\.peak is"):
        print_json({"zones": {"a": {"peak": bad}}})
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("bad", NON_FINITE)
def test_json_files_refuse_non_finite_numbers_and_write_nothing(bad, tmp_path):
    """The JSON files of the simulations, the tenants and the KPI history all go through
    `model.outputs.dumps_json`: an infinity is refused before anything lands."""
    from capacity import kpi
    from infra.render import Rendered, write
    from simulate import report

    with pytest.raises(ValueError, match="invalid JSON"):
        report.write(tmp_path / "sim", {"simulation": "backup", "worst_rpo_s": bad})
    with pytest.raises(ValueError, match="invalid JSON"):
        write(Rendered(outputs={"adoption_rate": bad}), tmp_path / "tenants")
    with pytest.raises(ValueError, match="invalid JSON"):
        kpi.write_history(tmp_path / "kpi_history.jsonl", [{"value": bad}])
    assert list(tmp_path.iterdir()) == []
