"""`network/lock.py`: opening the lock (default path, symlinks, foreign locks), the
inter-process lock around read-modify-write, and the checks a lock passes on load."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
from pathlib import Path

import filelock
import pytest

from govctl.app import main
from model import load_city
from network import lock as lock_lib
from tests.helpers import edit_yaml

ROUNDS = 20


def _add_village(city: Path, code: str) -> None:
    def change(d):
        d["counties"][0]["townships"][0]["villages"].append({"code": code, "name": "新村"})

    edit_yaml(city, "network.yaml", change)


def _township(city: Path) -> str:
    return load_city(city).network.counties[0].townships[0].code


def _run_plan(city: str, lock: str, out: str, start) -> None:
    start.wait()
    os._exit(main(["ipv6", "plan", city, "--lock", lock, "--out", out, "--json"]))


def _prefix_of(plan_json: Path, code: str) -> str:
    doc = json.loads(plan_json.read_text(encoding="utf-8"))
    return next(a["prefix"] for a in doc["allocations"] if a["site"] == code)


def test_concurrent_plans_never_hand_out_a_prefix_twice(small_city, tmp_path, capsys):
    """20 rounds of two planners at once, in separate processes, each adding another village to
    the same township of one lock: both succeed, no prefix is given twice and none is lost."""
    base_lock = tmp_path / "base.lock.yaml"
    assert main(["ipv6", "plan", str(small_city), "--lock", str(base_lock)]) == 0
    township = _township(small_city)
    copies = {}
    for side in "ab":
        copies[side] = tmp_path / f"city-{side}"
        shutil.copytree(small_city, copies[side])
    ctx = multiprocessing.get_context("fork")
    capsys.readouterr()
    for r in range(ROUNDS):
        codes = {"a": township[:9] + f"{900 + 2 * r:03d}", "b": township[:9] + f"{901 + 2 * r:03d}"}
        lock = tmp_path / f"round-{r}.lock.yaml"
        shutil.copyfile(base_lock, lock)
        start = ctx.Barrier(2)
        procs = []
        for side in "ab":
            city = tmp_path / f"r{r}-{side}"
            shutil.copytree(copies[side], city)
            _add_village(city, codes[side])
            out = tmp_path / f"r{r}-{side}.json"
            procs.append(
                ctx.Process(target=_run_plan, args=(str(city), str(lock), str(out), start))
            )
        for p in procs:
            p.start()
        for p in procs:
            p.join(120)
        assert [p.exitcode for p in procs] == [0, 0], f"round {r}"
        given = {side: _prefix_of(tmp_path / f"r{r}-{side}.json", codes[side]) for side in "ab"}
        assert given["a"] != given["b"], f"round {r}: both villages got {given['a']}"
        final = lock_lib.load_lock(lock)
        assert final is not None
        for side in "ab":  # the one planned first is kept (reserved: the other copy lacks it)
            entry = final.sites[codes[side]]
            assert lock_lib.fmt_net(entry.net, entry.length) == given[side], f"round {r}"


def test_a_second_planner_waits_then_fails_clearly(small_city, tmp_path, monkeypatch, capsys):
    lock = tmp_path / "ipam.lock.yaml"
    assert main(["ipv6", "plan", str(small_city), "--lock", str(lock)]) == 0
    before = lock.read_text(encoding="utf-8")
    _add_village(small_city, _township(small_city)[:9] + "950")
    monkeypatch.setattr(lock_lib, "WAIT_S", 0.3)
    capsys.readouterr()
    with filelock.FileLock(tmp_path / ".ipam.lock.yaml.flock"):  # another planner holds it
        assert main(["ipv6", "plan", str(small_city), "--lock", str(lock)]) == 2
    err = capsys.readouterr().err
    assert "another govctl has been planning with this lock" in err
    assert lock.read_text(encoding="utf-8") == before
    assert main(["ipv6", "plan", str(small_city), "--lock", str(lock)]) == 0  # released


def test_a_symlinked_lock_is_written_through_to_its_target(small_city, tmp_path, capsys):
    real = tmp_path / "store" / "ipam.lock.yaml"
    real.parent.mkdir()
    assert main(["ipv6", "plan", str(small_city), "--lock", str(real)]) == 0
    link = tmp_path / "ipam.lock.yaml"
    link.symlink_to(real)
    _add_village(small_city, _township(small_city)[:9] + "951")
    assert main(["ipv6", "plan", str(small_city), "--lock", str(link)]) == 0
    assert link.is_symlink()
    found = lock_lib.load_lock(real)
    assert found is not None and _township(small_city)[:9] + "951" in found.sites


@pytest.mark.parametrize("kind", ["dangling", "loop"])
def test_a_broken_symlink_lock_is_an_error_not_no_lock(small_city, tmp_path, capsys, kind):
    link = tmp_path / "ipam.lock.yaml"
    if kind == "dangling":
        link.symlink_to(tmp_path / "missing.yaml")
    else:
        other = tmp_path / "other.yaml"
        link.symlink_to(other)
        other.symlink_to(link)
    for args in (["ipv6", "plan"], ["net", "render", "--out", str(tmp_path / "cfg")]):
        assert main([*args, str(small_city), "--lock", str(link)]) == 2
        err = capsys.readouterr().err
        assert "ipam.lock.yaml" in err and ("does not exist" in err or "loop" in err), err
    assert not (tmp_path / "missing.yaml").exists() and not (tmp_path / "cfg").exists()


def test_the_default_lock_is_found_and_a_foreign_one_refused(small_city, tmp_path, monkeypatch):
    model = load_city(small_city)
    monkeypatch.chdir(tmp_path)
    assert lock_lib.default_lock(model) is None
    (tmp_path / "network").mkdir()
    assert main(["ipv6", "plan", str(small_city)]) == 0  # --lock defaults to DEFAULT_LOCK
    assert lock_lib.default_lock(model) == lock_lib.DEFAULT_LOCK
    edit_yaml(small_city, "city.yaml", lambda d: d["city"].update(ipv6_prefix="2001:db9::/32"))
    other = load_city(small_city)
    assert lock_lib.default_lock(other) is None
    with pytest.raises(lock_lib.LockError, match="planned inside 2001:db8::/32"):
        with lock_lib.open_lock(None, other):
            pass
