"""Builders for the project-safety tests: real projects, damage, read-only places."""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from micview.core.importer import add_folder
from micview.core.store import Project
from micview.core.tasks import run_task


def build_project(path: Path, images: Path | None = None, n: int = 60) -> Path:
    """A project made the way a user makes one: ``add`` of a folder of images, then some labels.

    ``images`` is a folder of real images; without it ``n`` noisy RGB images are written (noise makes large
    thumbnails, so the file has many pages, like a real one).
    """
    if images is None:
        images = path.parent / "images"
        images.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(0)
        for i in range(n):
            Image.fromarray(rng.integers(0, 255, (200, 240, 3), dtype=np.uint8)).save(images / f"img_{i:03d}.png")
    with Project.create(path) as project:
        run_task(add_folder(project, images, workers=1))
        ids = [r.id for r in project.images.all()]
        project.labels.set(ids[::2], "quality", "good", author="test")
        project.labels.set(ids[1::2], "quality", "bad", author="test")
    return path


def damage(path: Path, seed: int = 11, offset: int | None = None) -> int:
    """Write 4 KB of random bytes into the middle of the file (what a failing disk or a bad sync does)."""
    offset = os.path.getsize(path) // 2 if offset is None else offset
    with path.open("r+b") as f:
        f.seek(offset)
        f.write(random.Random(seed).randbytes(4096))
    return offset


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@contextlib.contextmanager
def read_only_folder(folder: Path) -> Iterator[Path]:
    """Make ``folder`` read-only as a user meets it: a read-only mount when root (chmod does not stop root),
    else a folder without write permission."""
    if os.geteuid() == 0:
        ok = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True).returncode == 0
        ok = ok and subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], capture_output=True).returncode == 0
        if not ok:
            pytest.skip("running as root without permission to mount: no way to make a folder read-only")
        try:
            yield folder
        finally:
            subprocess.run(["umount", "-l", str(folder)], check=True)
        return
    mode = folder.stat().st_mode
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        yield folder
    finally:
        folder.chmod(mode)


@contextlib.contextmanager
def read_only_file(path: Path) -> Iterator[Path]:
    """Make one file read-only (immutable attribute when root, mode 0444 otherwise)."""
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
            pytest.skip("running as root where chattr +i is not possible: no way to make a file read-only")
        try:
            yield path
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        return
    mode = path.stat().st_mode
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    try:
        yield path
    finally:
        path.chmod(mode)


def copy_into(src: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(src, folder / src.name))


def first_leaf(path: Path, table: str) -> tuple[int, int]:
    """(page number, page size) of the leaf page that holds a table's first rows, read from the b-tree itself."""
    con = sqlite3.connect(path)
    page = con.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    data = path.read_bytes()
    while True:
        start = (page - 1) * size + (100 if page == 1 else 0)
        if data[start] == 0x0D:  # a table leaf
            return page, size
        assert data[start] == 0x05, "not a table b-tree page"
        first_cell = int.from_bytes(data[start + 12 : start + 14], "big")  # the left-most cell's offset
        page = int.from_bytes(data[(page - 1) * size + first_cell :][:4], "big")
