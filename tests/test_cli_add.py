"""`micview add` as a user runs it: killed mid-way, special files, odd names, single files."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from micview.core.store import Project

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="inspects /proc and uses FIFOs")


def micview(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "micview", *map(str, args)], capture_output=True, timeout=timeout)


def make_images(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(folder / f"img_{i:04d}.png")


def descendants(pid: int) -> set[int]:
    """Live (non-zombie) processes whose parent chain leads to ``pid``."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@linux_only
@pytest.mark.slow
def test_no_worker_outlives_a_killed_add(tmp_path: Path) -> None:
    images = tmp_path / "many"
    make_images(images, 400)
    proj = tmp_path / "k.micview"
    Project.create(proj).close()
    log = (tmp_path / "stderr.txt").open("wb")  # not a pipe: children that outlive the parent would hold it open
    proc = subprocess.Popen(
        [sys.executable, "-m", "micview", "add", str(proj), str(images), "--workers", "2", "-q"],
        stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    deadline, count, children = time.monotonic() + 120, 0, set()
    while time.monotonic() < deadline and proc.poll() is None:
        children = descendants(proc.pid)
        con = sqlite3.connect(proj, timeout=10)
        count = con.execute("SELECT count(*) FROM images").fetchone()[0]
        con.close()
        if count >= 32 and len(children) >= 2:
            break
        time.sleep(0.05)
    children = descendants(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    log.close()
    err = (tmp_path / "stderr.txt").read_text(errors="replace")
    assert proc.returncode == -signal.SIGKILL, f"the import ended by itself before it was killed: {err}"
    assert len(children) >= 2, "the reader processes never started"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(c) for c in children):
        time.sleep(0.1)
    left = [c for c in children if alive(c)]
    for c in left:  # do not leave them behind for the rest of the test session
        os.kill(c, signal.SIGKILL)
    assert left == [], f"{len(left)} of {len(children)} child processes outlived the killed `micview add`"


@linux_only
def test_add_skips_a_fifo_and_finishes(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    make_images(folder, 2)
    os.mkfifo(folder / "x.jpg")
    proj = tmp_path / "p.micview"
    Project.create(proj).close()
    r = micview("add", proj, folder, "-q")  # hung forever before; the timeout turns a hang into a failure
    assert r.returncode == 0, r.stderr.decode()
    out = r.stdout.decode()
    assert "2 added" in out and "1 skipped" in out and "skipped: d/x.jpg: a named pipe (FIFO)" in out


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX byte file names")
def test_add_imports_a_name_that_is_not_utf8_and_reruns_cleanly(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    make_images(folder, 3)
    os.rename(folder / "img_0001.png", os.fsdecode(bytes(folder) + b"/bad\xff.png"))
    proj = tmp_path / "p.micview"
    Project.create(proj).close()
    first = micview("add", proj, folder, "-q")
    assert first.returncode == 0 and "3 added" in first.stdout.decode(), first.stderr.decode()
    again = micview("add", proj, folder, "-q")
    assert again.returncode == 0 and "0 added" in again.stdout.decode() and "3 unchanged" in again.stdout.decode()
    info = micview("info", proj, "--json")
    assert info.returncode == 0 and '"images": 3' in info.stdout.decode()


def test_add_accepts_single_files(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    make_images(folder, 4)
    proj = tmp_path / "p.micview"
    Project.create(proj).close()
    r = micview("add", proj, folder / "img_0000.png", folder / "img_0002.png", "-q")
    assert r.returncode == 0 and "2 added" in r.stdout.decode(), r.stderr.decode()
    with Project.open(proj) as p:
        assert sorted(row.name for row in p.images.all()) == ["img_0000.png", "img_0002.png"]
    r = micview("add", proj, folder / "nothere.png")
    assert r.returncode == 1 and "no such folder or file" in r.stderr.decode() and "Traceback" not in r.stderr.decode()
