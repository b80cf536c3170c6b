"""`model/outputs.py`: outputs are checked before work, land only on regular files, and are
whole — a staged folder is swapped in at once, and SIGINT/SIGTERM leave no staging behind."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from govctl.app import main
from model.outputs import OutputError, StagedDir, check_dir, check_file, dumps_json, write_atomic
from tests.helpers import ROOT, SAMPLE_CITY


def _specials(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    sock = tmp_path / "sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(sock))
    s.close()
    afile = tmp_path / "afile"
    afile.write_text("x")
    (tmp_path / "adir").mkdir()
    return {
        "a directory": tmp_path / "adir",
        "a FIFO": fifo,
        "a socket": sock,
        "a character device": Path("/dev/null"),
        "under /proc": Path("/proc/p.json"),
        "under /sys": Path("/sys/p.json"),
        "not a directory": afile / "p.json",
    }


def test_file_outputs_refuse_everything_but_regular_files(tmp_path):
    before = os.stat("/dev/null")
    for what, path in _specials(tmp_path).items():
        with pytest.raises(OutputError) as info:
            write_atomic(path, "{}\n")
        assert str(info.value).startswith(str(path)) or what in str(info.value), what
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_read_only_directory_is_refused_before_work(tmp_path):
    """Without root, a directory without write permission; as root (which ignores permission
    bits), a read-only tmpfs mounted for the test, which root cannot write either."""
    ro = tmp_path / "ro"
    ro.mkdir()
    mounted = False
    if os.geteuid() == 0:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "govcloud-test-ro", str(ro)], check=True
        )
        mounted = True
    else:
        ro.chmod(0o500)
    try:
        assert not os.access(ro, os.W_OK)
        with pytest.raises(OutputError, match="cannot write into"):
            check_file(ro / "x.json")
    finally:
        if mounted:
            subprocess.run(["umount", str(ro)], check=True)
        else:
            ro.chmod(0o700)


def test_symlinked_outputs_are_written_through_and_broken_links_refused(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "nowhere" / "x.json")
    with pytest.raises(OutputError, match="does not exist"):
        check_file(dangling)
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(OutputError, match="loop"):
        check_file(loop)


def test_folder_outputs_must_be_folders(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for path in (afile, Path("/dev/null"), Path("/proc/out"), afile / "sub"):
        with pytest.raises(OutputError):
            check_dir(path)


def test_a_staged_folder_is_swapped_in_whole(tmp_path):
    out = tmp_path / "out"
    with StagedDir(out) as stage:
        write_atomic(stage / "a.txt", "1")
        write_atomic(stage / "sub" / "b.txt", "1")
    assert (out / "a.txt").read_text() == "1" and (out / "sub" / "b.txt").read_text() == "1"
    (out / "kept.txt").write_text("other writer")
    inode = os.stat(out).st_ino
    with StagedDir(out) as stage:
        write_atomic(stage / "a.txt", "2")
        assert (out / "a.txt").read_text() == "1"  # nothing visible before the swap
    assert os.stat(out).st_ino != inode  # one swap, not file-by-file moves
    assert (out / "a.txt").read_text() == "2" and (out / "kept.txt").read_text() == "other writer"
    with StagedDir(out, keep=False) as stage:
        write_atomic(stage / "only.txt", "3")
    assert sorted(p.name for p in out.iterdir()) == ["only.txt"]
    with pytest.raises(RuntimeError):
        with StagedDir(out) as stage:
            write_atomic(stage / "only.txt", "4")
            raise RuntimeError("a step failed")
    assert (out / "only.txt").read_text() == "3"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging left


def _stage_then_wait(out: str, ready) -> None:
    try:
        with StagedDir(Path(out)) as stage:
            for i in range(50):
                write_atomic(stage / f"{i}.txt", "x")
            ready.set()
            time.sleep(30)
    except KeyboardInterrupt as exc:  # Terminated is one too
        os._exit(130 if type(exc) is KeyboardInterrupt else 143)
    os._exit(0)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_removes_the_staging_folder(tmp_path, signum):
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    out = tmp_path / "out"
    p = ctx.Process(target=_stage_then_wait, args=(str(out), ready))
    p.start()
    assert ready.wait(30)
    os.kill(p.pid, signum)
    p.join(30)
    assert p.exitcode == (130 if signum == signal.SIGINT else 143)
    assert list(tmp_path.iterdir()) == []  # neither the output nor its staging folder


def test_json_writers_refuse_non_finite_numbers():
    assert dumps_json({"a": 1.5}) == '{"a": 1.5}\n'
    for bad in (float("inf"), float("-inf"), float("nan")):
        with pytest.raises(ValueError, match=r"\.b\[1\] is"):
            dumps_json({"b": [0, bad]})


def test_ipv6_plan_checks_out_before_writing_the_lock(small_city, tmp_path, capsys):
    lock = tmp_path / "ipam.lock.yaml"
    for out in ("/proc/p.json", "/dev/null", str(tmp_path)):
        assert main(["ipv6", "plan", str(small_city), "--lock", str(lock), "--out", out]) == 2
        assert out in capsys.readouterr().err
        assert not lock.exists()
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_net_render_to_a_file_fails_before_rendering(small_city, tmp_path, capsys):
    lock = tmp_path / "ipam.lock.yaml"
    assert main(["ipv6", "plan", str(small_city), "--lock", str(lock)]) == 0
    afile = tmp_path / "configs"
    afile.write_text("not a folder")
    capsys.readouterr()
    assert main(["net", "render", str(small_city), "--lock", str(lock), "--out", str(afile)]) == 2
    captured = capsys.readouterr()
    assert "not a directory" in captured.err and "rendering" not in captured.err


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_net_render_leaves_the_old_folder_or_the_new(tmp_path, signum):
    """`net render` of the sample city (1,565 devices) interrupted while it renders: the
    output folder is absent (first run) and no staging folder is left, and no traceback
    (the one line saying so is the CLI's top-level handler's, govctl/app.py)."""
    lock = ROOT / "network" / "ipam.lock.yaml"
    out = tmp_path / "configs"
    govctl = Path(sys.executable).with_name("govctl")
    cmd = [str(govctl), "net", "render", str(SAMPLE_CITY), "--lock", str(lock), "--out", str(out)]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(tmp_path.glob(".configs.staging-*/*.cfg")):
        time.sleep(0.05)
    os.kill(proc.pid, signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, err  # 130 for SIGINT, 143 for SIGTERM
    assert not out.exists() and not list(tmp_path.glob(".configs.*"))
    lines = [ln for ln in err.splitlines() if ln.strip() and "rendering" not in ln]
    assert len(lines) <= 1 and "Traceback" not in err, err


def test_a_worker_thread_inside_cleanup_does_not_keep_the_main_thread_from_its_handler():
    """The orchestrator's pool writes stack config files through `write_atomic` while the
    main thread may write too: the main thread still gets its SIGTERM handler."""
    import threading

    from model import outputs

    inside, leave = threading.Event(), threading.Event()

    def worker() -> None:
        with outputs.cleanup_on_signals():
            inside.set()
            leave.wait(10)

    t = threading.Thread(target=worker)
    t.start()
    try:
        assert inside.wait(10)
        before = signal.getsignal(signal.SIGTERM)
        with outputs.cleanup_on_signals():
            assert signal.getsignal(signal.SIGTERM) is outputs._on_term
        assert signal.getsignal(signal.SIGTERM) is before
    finally:
        leave.set()
        t.join()
