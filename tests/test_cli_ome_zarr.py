"""`micview add` with OME-Zarr folders, as a user runs it: a folder image given alone, moved, or among others."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ome_zarr_files import pyramid, write_ome_zarr

from micview.core.store import Project

pytest.importorskip("zarr")


def micview(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "micview", *map(str, args)], capture_output=True, text=True, timeout=180
    )


def test_add_a_single_ome_zarr_folder_then_move_it(tmp_path: Path) -> None:
    image = write_ome_zarr(tmp_path / "scans" / "cells.ome.zarr", pyramid(), scale_yx=(0.325, 0.325))
    proj = tmp_path / "p.micview"
    Project.create(proj).close()
    r = micview("add", proj, image, "-q")
    assert r.returncode == 0 and "1 added" in r.stdout and "0 could not be read" in r.stdout, r.stdout + r.stderr
    with Project.open(proj) as p:
        (row,) = p.images.all()
        assert (row.name, row.format, row.width, row.height) == ("cells.ome.zarr", "OME-Zarr", 48, 64)
        assert row.pixel_size_nm == pytest.approx(325.0) and p.images.thumbnail(row.id) is not None
    again = micview("add", proj, image, "-q")
    assert "0 added" in again.stdout and "1 unchanged" in again.stdout, again.stdout
    image.rename(tmp_path / "scans" / "cells-renamed.ome.zarr")
    moved = micview("rescan", proj, "-q")
    assert moved.returncode == 0, moved.stderr
    assert "missing: scans/cells.ome.zarr" in moved.stdout  # a file root that is gone is reported missing
    r = micview("add", proj, tmp_path / "scans" / "cells-renamed.ome.zarr", "-q")
    assert "moved: scans/cells.ome.zarr -> scans/cells-renamed.ome.zarr" in r.stdout, r.stdout
    with Project.open(proj) as p:
        assert [(i.name, i.status) for i in p.images.all()] == [("cells-renamed.ome.zarr", "ok")]


def test_add_a_folder_of_ome_zarr_images_in_worker_processes(tmp_path: Path) -> None:
    data = tmp_path / "plate"
    for i in range(8):  # enough for the reader pool
        write_ome_zarr(data / f"well{i}.ome.zarr", pyramid(seed=i), zarr_format=2 + i % 2)
    import zarr

    zarr.open_group(str(data / "labels.zarr"), mode="w").create_array("x", shape=(2, 2), dtype="uint8")
    (data / "notes.zarr").write_text("a file, not a folder")
    proj = tmp_path / "p.micview"
    Project.create(proj).close()
    r = micview("add", proj, data, "--workers", "2", "-q")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert "9 added" in r.stdout and "1 could not be read" in r.stdout and "1 skipped" in r.stdout, (
        r.stdout
    )  # 8 + notes
    assert "skipped: plate/labels.zarr: a Zarr folder without OME-NGFF image metadata" in r.stdout
    assert "not imported: plate/notes.zarr: notes.zarr: is not a folder" in r.stdout
    with Project.open(proj) as p:
        ok = p.images.all(status="ok")
        assert len(ok) == 8 and {i.width for i in ok} == {48}
        assert len({i.content_hash for i in ok}) == 8 and all(p.images.thumbnail(i.id) for i in ok)
