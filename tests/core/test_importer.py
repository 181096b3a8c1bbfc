"""Importing folders: what is read, what is refused and why, re-scans, cancel, and a kill mid-import."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from micview.core.errors import Cancelled
from micview.core.importer import add_folder, rescan, scan_folder
from micview.core.store import Project
from micview.core.tasks import run_task


def make_images(folder: Path, n: int, seed: int = 0, prefix: str = "img") -> list[Path]:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        arr = rng.integers(0, 255, size=(40 + i % 7, 60, 3), dtype=np.uint8)
        p = folder / f"{prefix}_{i:04d}.{'png' if i % 2 else 'jpg'}"
        Image.fromarray(arr).save(p)
        out.append(p)
    return out


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    make_images(root / "run1", 6)
    make_images(root / "run1" / "sub", 3, seed=1, prefix="sub")
    tifffile.imwrite(root / "run1" / "deep.tif", (np.arange(64 * 48, dtype=np.uint16) * 7).reshape(48, 64))
    (root / "run1" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    (root / "run1" / "notes.txt").write_text("not an image")
    (root / "run1" / ".hidden.png").write_bytes(b"")
    shutil.copyfile(root / "run1" / "img_0000.jpg", root / "run1" / "copy_of_0.jpg")
    return root


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project.create(tmp_path / "p.micview")
    yield p
    p.close()


def test_scan_filters_by_extension_and_skips_hidden(folder: Path) -> None:
    names = [p.name for p in scan_folder(folder)]
    assert "notes.txt" not in names and ".hidden.png" not in names
    assert len(names) == 6 + 3 + 3
    assert len(scan_folder(folder / "run1", recursive=False)) == 9
    assert [p.suffix for p in scan_folder(folder, extensions=[".tif"])] == [".tif"]


@pytest.mark.parametrize("workers", [0, 2])
def test_add_folder_reads_records_and_reports(project: Project, folder: Path, workers: int) -> None:
    summary = run_task(add_folder(project, folder, workers=workers))
    assert summary.added == 12 and summary.unchanged == 0
    assert [Path(p).name for p, _ in summary.errors] == ["broken.jpg"]
    assert "broken.jpg" in summary.errors[0][1]
    assert [{Path(a).name, Path(b).name} for a, b in summary.duplicates] == [{"img_0000.jpg", "copy_of_0.jpg"}]
    rows = {r.name: r for r in project.images.all()}
    deep = rows["deep.tif"]
    assert (deep.width, deep.height, deep.bit_depth, deep.dtype, deep.format) == (64, 48, 16, "uint16", "TIFF")
    assert rows["broken.jpg"].status == "error" and project.images.thumbnail(rows["broken.jpg"].id) is None
    thumb = project.images.thumbnail(rows["img_0001.png"].id)
    assert thumb is not None and thumb.format == "jpeg" and max(thumb.width, thumb.height) == 60
    assert rows["img_0000.jpg"].content_hash == rows["copy_of_0.jpg"].content_hash
    assert len(project.images.duplicates()) == 1


def test_rescan_finds_new_changed_and_missing(project: Project, folder: Path) -> None:
    run_task(add_folder(project, folder, workers=0))
    again = run_task(rescan(project, workers=0))
    assert (again.added, again.updated, again.unchanged, again.missing) == (0, 0, 12, [])
    changed = folder / "run1" / "img_0002.jpg"
    Image.new("RGB", (10, 10), "red").save(changed)
    os.utime(changed, (time.time() + 10, time.time() + 10))
    (folder / "run1" / "img_0003.png").rename(folder / "moved_away.bin")
    make_images(folder / "run2", 1, seed=5, prefix="new")
    s = run_task(rescan(project, workers=0))
    assert (s.added, s.updated) == (1, 1) and [Path(m).name for m in s.missing] == ["img_0003.png"]
    assert project.images.by_path(changed).width == 10  # type: ignore[union-attr]
    (folder / "moved_away.bin").rename(folder / "run1" / "img_0003.png")
    run_task(rescan(project, workers=0))
    assert project.images.count(status="missing") == 0


def test_skip_duplicates(project: Project, folder: Path) -> None:
    s = run_task(add_folder(project, folder, workers=0, skip_duplicates=True))
    assert s.skipped_duplicates == 1 and project.images.count() == 11


def test_cancel_keeps_what_was_read_and_a_rerun_completes(project: Project, folder: Path) -> None:
    seen = []
    with pytest.raises(Cancelled):
        run_task(add_folder(project, folder, workers=0), on_progress=seen.append,
                 should_cancel=lambda: seen[-1].done >= 4)  # fmt: skip
    assert project.images.count() == 4  # read before the cancel, committed by it
    s = run_task(add_folder(project, folder, workers=0))
    assert (s.added, s.unchanged) == (8, 4) and project.images.count() == 12


def test_killed_import_loses_at_most_a_batch_and_resumes(tmp_path: Path) -> None:
    images = tmp_path / "many"
    make_images(images, 300)
    proj = tmp_path / "k.micview"
    Project.create(proj).close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "micview", "add", str(proj), str(images), "--workers", "1", "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    count = 0
    while time.monotonic() < deadline and proc.poll() is None:
        con = sqlite3.connect(proj, timeout=10)
        count = con.execute("SELECT count(*) FROM images").fetchone()[0]
        con.close()
        if count >= 64:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate()
    assert proc.returncode == -signal.SIGKILL, f"the import ended by itself before it was killed: {err.decode()}"
    assert 0 < count < 300
    with Project.open(proj) as p:
        assert p.con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        kept = p.images.count()
        assert kept >= count and kept % 32 == 0  # whole batches only
        assert p.con.execute("SELECT count(*) FROM thumbnails").fetchone()[0] == kept
        s = run_task(add_folder(p, images, workers=0))
        assert (s.added, s.unchanged) == (300 - kept, kept)
        assert p.images.count() == 300
