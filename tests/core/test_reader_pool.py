"""Worker processes: a stalled read times out per file, a crash costs one file, nothing outlives the pool."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
import slow_readers

from micview.core.reader_pool import ReaderPool, ReadFailure, call_with_timeout

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
