"""Worker processes: a stalled read times out per file, a crash costs one file, nothing outlives the pool."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
import slow_readers

from micview.core.reader_pool import ReaderPool, ReaderStartError, ReadFailure, call_with_timeout

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, size in [("a.bin", 10), ("b.bin", 2000), ("c.bin", 0)]:
        out[name] = tmp_path / name
        out[name].write_bytes(b"x" * size)
    out["stall.jpg"] = tmp_path / "stall.jpg"
    os.mkfifo(out["stall.jpg"])  # opening it for reading blocks until a writer comes: none will
    return out


def test_a_stalled_read_times_out_and_the_other_files_are_read(files: dict[str, Path]) -> None:
    jobs = [(str(files[n]), 1.5) for n in ("stall.jpg", "a.bin", "b.bin", "c.bin")]
    start = time.monotonic()
    with ReaderPool(slow_readers.read_bytes, workers=2) as pool:
        results = dict(pool.imap(jobs))
        processes = [w.process for w in pool._workers]
    assert time.monotonic() - start < 60
    stalled = results.pop(str(files["stall.jpg"]))
    assert isinstance(stalled, ReadFailure) and "longer than 1.5 s" in stalled.reason
    assert results == {str(files["a.bin"]): 10, str(files["b.bin"]): 2000, str(files["c.bin"]): 0}
    assert processes and all(not p.is_alive() for p in processes)  # closed: no worker left behind


def test_a_worker_that_dies_costs_one_file(files: dict[str, Path], tmp_path: Path) -> None:
    crash = tmp_path / "crash.bin"
    crash.write_bytes(b"boom")
    jobs = [(str(p), 30.0) for p in (files["a.bin"], crash, files["b.bin"], files["c.bin"])]
    with ReaderPool(slow_readers.read_or_crash, workers=2) as pool:
        results = dict(pool.imap(jobs))
    failure = results.pop(str(crash))
    assert isinstance(failure, ReadFailure) and "exit code 7" in failure.reason
    assert results == {str(files["a.bin"]): 10, str(files["b.bin"]): 2000, str(files["c.bin"]): 0}


def test_workers_that_cannot_start_raise_instead_of_respawning(files: dict[str, Path]) -> None:
    jobs = [(str(files[n]), 30.0) for n in ("a.bin", "b.bin", "c.bin")]
    with (
        ReaderPool(slow_readers.read_bytes, workers=2, initializer=slow_readers.exit_at_start) as pool,
        pytest.raises(ReaderStartError, match=r"cannot start \(exit code 3\)"),
    ):
        list(pool.imap(jobs))


def test_in_process_reads_give_up_on_a_stall_too(files: dict[str, Path]) -> None:
    start = time.monotonic()
    result = call_with_timeout(slow_readers.read_bytes, str(files["stall.jpg"]), 0.5)
    assert isinstance(result, ReadFailure) and time.monotonic() - start < 10
    assert call_with_timeout(slow_readers.read_bytes, str(files["b.bin"]), 10) == 2000
    # unblock the abandoned thread so it does not linger for the rest of the session
    fd = os.open(files["stall.jpg"], os.O_WRONLY | os.O_NONBLOCK)
    os.close(fd)


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_closing_a_pool_mid_way_kills_the_busy_workers(files: dict[str, Path]) -> None:
    pool = ReaderPool(slow_readers.read_bytes, workers=2)
    results = pool.imap([(str(files["stall.jpg"]), 600.0), (str(files["a.bin"]), 600.0)])
    assert next(results) == (str(files["a.bin"]), 10)
    processes = [w.process for w in pool._workers]
    results.close()
    pool.close()  # a cancelled import: the worker stuck on the FIFO is killed, not waited for
    assert all(not p.is_alive() for p in processes)


def _children(pid: int) -> list[int]:
    """Live children of ``pid`` (from any of its threads), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            state, ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        if entry.name.isdigit() and int(ppid) == pid and state != "Z":
            found.append(int(entry.name))
    return found


_PARENT = """
import sys, threading, time
sys.path.insert(0, {tests!r})
import slow_readers
from micview.core.reader_pool import ReaderPool

def read():  # like the GUI: the import runs on a worker thread of the window's process
    with ReaderPool(slow_readers.read_bytes, 2) as pool:
        list(pool.imap([({fifo!r}, 600.0), ({fifo!r}, 600.0)]))

threading.Thread(target=read, daemon=True).start()
time.sleep(600)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_workers_blocked_in_a_read_end_when_their_parent_is_killed(files: dict[str, Path], tmp_path: Path) -> None:
    """The GUI crashing mid-import: its reader processes, stuck on a stalled file, must not stay behind."""
    import signal
    import subprocess

    code = _PARENT.format(tests=str(Path(__file__).parent), fifo=str(files["stall.jpg"]))
    parent = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.DEVNULL)
    try:
        children: list[int] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(children) < 2:
            children = _children(parent.pid)
            time.sleep(0.1)
        time.sleep(3)  # let both workers start, pick up the FIFO and block on it
        children = _children(parent.pid)
        assert len(children) >= 2
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()

    def alive(pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(c) for c in children):
        time.sleep(0.1)
    left = [c for c in children if alive(c)]
    for c in left:
        os.kill(c, signal.SIGKILL)
    assert left == []
