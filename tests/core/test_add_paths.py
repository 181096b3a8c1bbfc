"""Several files and folders imported in one pass (a drop on the window, ``add_paths``): one plan and one
summary; special files skipped unopened, paths gone since they were chosen listed, each file read once."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from image_files import save_image

from micview.core.importer import add_paths, rescan
from micview.core.store import Project
from micview.core.tasks import run_task


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project.create(tmp_path / "p.micview")
    yield p
    p.close()


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and POSIX file names")
@pytest.mark.parametrize("workers", [0, 2])
def test_files_folders_a_fifo_and_a_vanished_path_in_one_pass(project: Project, tmp_path: Path, workers: int) -> None:
    d = tmp_path / "d"
    loose = [save_image(tmp_path / "loose" / f"l{i}.png", i) for i in range(8)]  # enough for the reader pool
    bad = Path(os.fsdecode(bytes(tmp_path) + b"/loose/bad\xff.png"))
    save_image(bad, 20)
    inside = save_image(d / "sub" / "a.png", 30)  # given twice: as a file and inside its folder
    os.mkfifo(tmp_path / "loose" / "pipe.jpg")
    gone = tmp_path / "loose" / "gone.png"
    paths = [*loose, bad, d, inside, tmp_path / "loose" / "pipe.jpg", gone]
    s = run_task(add_paths(project, paths, workers=workers))
    assert (s.added, s.errors, s.updated) == (10, [], 0) and project.images.count() == 10
    skipped = dict(s.skipped)
    assert "FIFO" in skipped["loose/pipe.jpg"] and "not found" in skipped["loose/gone.png"]
    assert project.images.by_path(bad) is not None  # a name that is not UTF-8 is stored losslessly
    again = run_task(add_paths(project, paths[:-2], workers=workers))
    assert (again.added, again.unchanged) == (0, 10)
    assert run_task(rescan(project, workers=workers)).unchanged == 10  # every file root re-read in one pass


def test_a_moved_file_given_alone_keeps_its_labels(project: Project, tmp_path: Path) -> None:
    first = save_image(tmp_path / "run1" / "x.png", 1)
    run_task(add_paths(project, [first], workers=0))
    image_id = project.images.by_path(first).id  # type: ignore[union-attr]
    project.labels.set([image_id], "kind", "grains")
    moved = tmp_path / "run1" / "renamed.png"
    first.rename(moved)
    s = run_task(add_paths(project, [moved], workers=0))
    assert s.moved == [("run1/x.png", "run1/renamed.png")] and s.added == 0
    assert project.labels.labels("kind") == {image_id: "grains"}
