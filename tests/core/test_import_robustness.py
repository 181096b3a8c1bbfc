"""One bad file never stops a folder: odd names, special files, stalled reads; moved files keep their record."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest
from image_files import save_image

from micview.core.csv_io import export_csv, read_csv
from micview.core.importer import ImportSummary, add_folder, rescan
from micview.core.store import Project
from micview.core.tasks import run_task

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file names and FIFOs")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project.create(tmp_path / "p.micview")
    yield p
    p.close()


# -- names that are not valid UTF-8 ----------------------------------------------------------------------------
@posix_only
@pytest.mark.parametrize("workers", [0, 2])
def test_a_name_that_is_not_utf8_imports_losslessly(project: Project, tmp_path: Path, workers: int) -> None:
    folder = tmp_path / "d"
    bad = Path(os.fsdecode(bytes(folder) + b"/bad\xff.jpg"))
    odd = Path(os.fsdecode(bytes(folder) + b"/sub\xe9/x\\xff.jpg"))  # a real backslash-x-f-f, in a Latin-1 folder
    for i, p in enumerate([bad, odd, *(folder / f"ok{i}.png" for i in range(8))]):
        save_image(p, i)
    s = run_task(add_folder(project, folder, workers=workers))
    assert (s.added, s.errors) == (10, [])
    rows = {r.path: r for r in project.images.all()}
    assert set(rows) >= {"d/bad\\xff.jpg", "d/sub\\xe9/x\\\\xff.jpg"}  # readable, and valid UTF-8
    bad_row = rows["d/bad\\xff.jpg"]
    assert bad_row.name == "bad\\xff.jpg" and bad_row.status == "ok"
    assert project.images.abspath(bad_row) == bad and bytes(project.images.abspath(bad_row)).endswith(b"bad\xff.jpg")
    assert project.images.abspath(rows["d/sub\\xe9/x\\\\xff.jpg"]) == odd
    # Every reader of the stored path (embedding, search, viewer, VLM, MARCO) goes through Project.resolve.
    assert project.resolve(bad_row.path) == bad and project.resolve(bad_row.path).is_file()
    assert project.to_stored(bad) == bad_row.path
    assert project.images.by_path(bad) is not None and project.images.thumbnail(bad_row.id) is not None
    again = run_task(rescan(project, workers=workers))  # lossless: the same files are recognised
    assert (again.added, again.unchanged, again.missing) == (0, 10, [])
    out = tmp_path / "out.csv"
    export_csv(project, out)
    assert "d/bad\\xff.jpg" in {r["file"] for r in read_csv(out)[1]}


@posix_only
def test_an_unreadable_file_with_an_odd_name_is_reported_not_fatal(project: Project, tmp_path: Path) -> None:
    folder = tmp_path / "d"
    save_image(folder / "good.png", 1)
    broken = Path(os.fsdecode(bytes(folder) + b"/broken\xfe.jpg"))
    broken.write_bytes(b"not a jpeg at all")
    s = run_task(add_folder(project, folder, workers=0))
    assert s.added == 2 and [p for p, _ in s.errors] == ["d/broken\\xfe.jpg"]
    assert "broken\\xfe.jpg" in s.errors[0][1]


# -- special files and stalled reads ---------------------------------------------------------------------------
@posix_only
def test_special_files_are_skipped_without_being_opened(project: Project, tmp_path: Path) -> None:
    folder = tmp_path / "d"
    save_image(folder / "a.png", 1)
    os.mkfifo(folder / "x.jpg")  # opening this for reading would block the import forever
    (folder / "gone.tif").symlink_to(folder / "nothing-here.tif")
    result: list[ImportSummary] = []

    def add() -> None:
        with Project.open(project.path) as own:  # a connection for this thread
            result.append(run_task(add_folder(own, folder, workers=0)))

    thread = threading.Thread(target=add)
    thread.start()
    thread.join(60)
    if thread.is_alive():  # it hangs on the FIFO: give it an end-of-file so the thread ends, then fail
        os.close(os.open(folder / "x.jpg", os.O_WRONLY | os.O_NONBLOCK))
        thread.join(10)
        pytest.fail("the import blocked on a FIFO")
    s = result[0]
    assert s.added == 1 and s.errors == []
    skipped = dict(s.skipped)
    assert "FIFO" in skipped["d/x.jpg"] and "link to nothing" in skipped["d/gone.tif"]
    # named on its own, a FIFO is refused the same way
    s = run_task(add_folder(project, folder / "x.jpg", workers=0))
    assert s.added == 0 and "FIFO" in dict(s.skipped)["d/x.jpg"]


def test_a_stalled_read_times_out_per_file(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import micview.core.imaging as imaging

    folder = tmp_path / "d"
    for i in range(3):
        save_image(folder / f"img{i}.png", i)
    real = imaging.read_summary

    def stalls_on_img1(path: Path, *args: object, **kw: object) -> object:
        if path.name == "img1.png":
            time.sleep(30)  # a network drive that stopped answering
        return real(path, *args, **kw)

    monkeypatch.setattr(imaging, "read_summary", stalls_on_img1)
    start = time.monotonic()
    s = run_task(add_folder(project, folder, workers=0, read_timeout=0.5))
    assert time.monotonic() - start < 15
    assert s.added == 3 and [p for p, _ in s.errors] == ["d/img1.png"]
    assert "took longer than 0.5 s" in s.errors[0][1]
    row = project.images.by_path(folder / "img1.png")
    assert row is not None and row.status == "error" and row.size_bytes is None  # so a re-scan tries again
    monkeypatch.setattr(imaging, "read_summary", real)
    again = run_task(rescan(project, workers=0))
    assert (again.updated, again.errors) == (1, []) and project.images.by_path(folder / "img1.png").status == "ok"  # type: ignore[union-attr]


# -- single files ------------------------------------------------------------------------------------------------
def test_single_files_can_be_added_and_rescanned(project: Project, tmp_path: Path) -> None:
    one = save_image(tmp_path / "loose" / "one.png", 1)
    save_image(tmp_path / "loose" / "other.png", 2)
    s = run_task(add_folder(project, one, workers=0))
    assert s.added == 1 and [r.name for r in project.images.all()] == ["one.png"]
    assert run_task(rescan(project, workers=0)).unchanged == 1  # the file is its own root, not its folder
    save_image(one, 9)
    os.utime(one, (time.time() + 5, time.time() + 5))
    assert run_task(rescan(project, workers=0)).updated == 1
    one.unlink()
    assert run_task(rescan(project, workers=0)).missing == ["loose/one.png"]


# -- moved and renamed files -----------------------------------------------------------------------------------
@pytest.fixture
def labelled(project: Project, tmp_path: Path) -> tuple[Project, Path, int]:
    root = tmp_path / "data"
    for i in range(3):
        save_image(root / "plateA" / f"{i:06d}.jpg", i)
    run_task(add_folder(project, root, workers=0))
    row = project.images.by_path(root / "plateA" / "000001.jpg")
    assert row is not None
    project.labels.set([row.id], "outcome", "crystals", author="ann")
    project.labels.set([row.id], "outcome", "precipitate", author="bob")
    project.fields.set_note(row.id, "check again")
    project.fields.add_tags([row.id], "review")
    project.con.execute(
        "INSERT INTO embeddings VALUES ('m', ?, 2, 'float32', x'0000803f00000040', NULL)", (row.content_hash,)
    )
    return project, root, row.id


def test_a_moved_file_keeps_its_record_labels_and_history(labelled: tuple[Project, Path, int]) -> None:
    project, root, image_id = labelled
    (root / "plateB").mkdir()
    (root / "plateA" / "000001.jpg").rename(root / "plateB" / "renamed.jpg")
    s = run_task(rescan(project, workers=0))
    assert s.moved == [("data/plateA/000001.jpg", "data/plateB/renamed.jpg")]
    assert (s.added, s.missing, s.duplicates) == (0, [], [])
    row = project.images.get(image_id)
    assert (row.path, row.name, row.folder, row.status) == (
        "data/plateB/renamed.jpg",
        "renamed.jpg",
        "data/plateB",
        "ok",
    )
    assert project.labels.labels("outcome") == {image_id: "precipitate"}
    assert [a.author for a in project.labels.history(image_id)] == ["ann", "bob"]
    assert project.fields.note(image_id) == "check again" and project.fields.tags() == {image_id: ["review"]}
    assert project.embeddings.models() and project.images.count() == 3
    assert run_task(rescan(project, workers=0)).unchanged == 3  # and it stays put


def test_a_file_moved_to_a_newly_added_folder_keeps_its_record(
    labelled: tuple[Project, Path, int], tmp_path: Path
) -> None:
    project, root, image_id = labelled
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.move(root / "plateA" / "000001.jpg", elsewhere / "000001.jpg")
    s = run_task(add_folder(project, elsewhere, workers=0))
    assert s.moved == [("data/plateA/000001.jpg", "elsewhere/000001.jpg")] and s.added == 0
    assert project.images.get(image_id).path == "elsewhere/000001.jpg"


def test_a_copy_is_a_duplicate_not_a_move(labelled: tuple[Project, Path, int]) -> None:
    project, root, image_id = labelled
    shutil.copy2(root / "plateA" / "000001.jpg", root / "plateA" / "copy.jpg")
    s = run_task(rescan(project, workers=0))
    assert s.moved == [] and s.added == 1 and s.duplicates == [("data/plateA/copy.jpg", "data/plateA/000001.jpg")]
    assert project.images.get(image_id).path == "data/plateA/000001.jpg"


def test_a_copy_never_takes_the_record_of_a_file_on_an_unreachable_drive(
    labelled: tuple[Project, Path, int], tmp_path: Path
) -> None:
    project, root, image_id = labelled
    local = tmp_path / "local"
    local.mkdir()
    shutil.copy2(root / "plateA" / "000001.jpg", local / "000001.jpg")
    root.rename(tmp_path / "unmounted")  # the whole drive is gone, not the file: nothing says it moved
    s = run_task(add_folder(project, local, workers=0))
    assert s.moved == [] and s.added == 1
    assert project.images.get(image_id).path == "data/plateA/000001.jpg"
    assert project.labels.labels("outcome") == {image_id: "precipitate"}


@posix_only
def test_a_folder_whose_own_name_is_not_utf8_can_be_added_and_rescanned(project: Project, tmp_path: Path) -> None:
    root = Path(os.fsdecode(bytes(tmp_path) + b"/run\xff"))
    save_image(root / "a.png", 1)
    s = run_task(add_folder(project, root, workers=0))
    assert s.added == 1 and [r.path for r in project.images.all()] == ["run\\xff/a.png"]
    assert [r.params["folder"] for r in project.runs.all("import")] == ["run\\xff"]
    (root / "a.png").unlink()
    assert run_task(rescan(project, workers=0)).missing == ["run\\xff/a.png"]
