"""Files dropped on the window go through the importer's own path: a FIFO is listed as skipped (never opened,
nothing hangs), a name that is not UTF-8 imports and reads as written, a moved file keeps its record and labels."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from urllib.parse import quote_from_bytes

import pytest
from image_files import save_image
from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QDropEvent

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and POSIX file names")


def drop(qtbot, w, paths: list[Path]):
    """Drop ``paths`` as a file manager does (a text/uri-list of percent-encoded bytes) and wait for the import."""
    mime = QMimeData()
    mime.setData("text/uri-list", b"".join(b"file://" + quote_from_bytes(bytes(p)).encode() + b"\r\n" for p in paths))
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)  # fmt: skip
    with qtbot.waitSignal(w.session.import_finished, timeout=60_000) as got:
        w.dropEvent(event)
    return got.args[0]


@posix_only
def test_a_fifo_and_a_name_that_is_not_utf8_dropped_on_the_window(qtbot, project_window, tmp_path: Path) -> None:
    w = project_window
    folder = tmp_path / "dropped"
    folder.mkdir()
    bad = save_image(Path(os.fsdecode(bytes(folder) + b"/bad\xff.png")), 1)
    good = save_image(folder / "good.png", 2)
    fifo = folder / "pipe.jpg"
    os.mkfifo(fifo)
    try:
        summary = drop(qtbot, w, [bad, fifo, good])
    finally:  # had anything opened the FIFO, this would release it
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert (summary.added, summary.errors) == (2, []) and len(w.session.catalog) == 14
    stored = {r.name: r for r in w.project.images.all()}
    assert stored["bad\\xff.png"].status == "ok" and w.project.images.abspath(stored["bad\\xff.png"]) == bad
    (fifo_stored, why), *_ = summary.skipped
    assert fifo_stored.endswith("dropped/pipe.jpg") and "FIFO" in why and len(summary.skipped) == 1
    assert w.session.jobs.history[0].title == "Import bad\\xff.png and 2 more"  # readable, nothing dropped
    notice = w.notice_bar
    assert "Imported 2 new images" in notice.label.text() and "1 skipped" in notice.label.text()
    notice.buttons[0].click()
    table = w.import_errors_dialog.table
    rows = [(table.item(r, 0).text(), table.item(r, 1).text()) for r in range(table.rowCount())]
    assert rows == [(fifo_stored, why)]
    w.import_errors_dialog.close()
    w.ctl.project.close()  # the skipped files belong to this project's imports only
    assert w.ctl.project.import_errors() == []


def test_a_moved_file_dropped_is_reported_as_moved_with_its_labels(qtbot, project_window, images: Path) -> None:
    w = project_window
    row = w.project.images.by_path(images / "grains" / "grains_00.tif")
    w.ctl.labelling.define("kind", ["grains", "particles"])
    w.ctl.labelling.write("kind", {row.id: "grains"}, "label")
    moved = images / "grains" / "renamed.tif"
    (images / "grains" / "grains_00.tif").rename(moved)
    summary = drop(qtbot, w, [moved])
    assert summary.moved == [("grains/grains_00.tif", "grains/renamed.tif")] and summary.added == 0
    assert "1 moved (labels kept)" in w.notice_bar.label.text()
    assert w.project.images.get(row.id).path == "grains/renamed.tif" and len(w.session.catalog) == 12
    assert w.project.labels.labels("kind") == {row.id: "grains"}
