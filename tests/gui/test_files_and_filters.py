"""What a first session does with files: label CSVs in and out, drops, import errors, recent projects,
embedding after an import; and the ``column:value`` filter over labels, predictions and imported metadata."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from gui_helpers import wait_job
from PySide6.QtCore import Qt

from micview.core.store.annotations import Prediction


def write_labels(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["file", "kind", "operator"])
        out.writerows(rows)
    return path


def kinds(w) -> dict[str, str]:
    return {r.name: r.folder for r in w.session.catalog.rows}


def test_import_labels_then_export_all_selection_and_shown(qtbot, project_window, tmp_path: Path) -> None:
    w = project_window
    s = w.session
    rows = [(name, kind, "ann" if k % 2 else "bob") for k, (name, kind) in enumerate(sorted(kinds(w).items()))]
    src = write_labels(tmp_path / "labels.csv", [*rows, ("nowhere.png", "grains", "ann")])
    header, guessed, n = w.ctl.label_files.preview(src)
    assert header == ["file", "kind", "operator"] and set(guessed) <= {"kind", "operator"} and n == 13
    wait_job(qtbot, w.ctl.label_files.import_labels(src, ["kind"]))
    assert s.task.name == "kind" and set(s.task.classes) == {"grains", "particles", "lamellae"}
    assert len(w.browser.model.labels) == 12  # the grid shows them without reopening the project
    assert w.label_bar.task_combo.findText("kind") >= 0
    assert "12 of 13 rows matched" in w.notice_bar.label.text() and "nowhere.png" in w.notice_bar.label.text()
    w.browser.text_edit.setText("operator:ann")  # the other column is metadata one can filter by
    w.browser.text_edit.returnPressed.emit()
    assert len(s.shown.ids) == 6 and s.shown.filtering

    wait_job(qtbot, w.ctl.label_files.export(tmp_path / "shown.csv", "shown"))
    s.selection.set([r.id for r in s.catalog.rows[:2]])
    wait_job(qtbot, w.ctl.label_files.export(tmp_path / "selection.csv", "selection"))
    wait_job(qtbot, w.ctl.label_files.export(tmp_path / "all.csv", "all"))
    for name, count in (("shown", 6), ("selection", 2), ("all", 12)):
        with (tmp_path / f"{name}.csv").open(encoding="utf-8-sig") as f:
            got = list(csv.DictReader(f))
        assert len(got) == count and all(r["kind"] for r in got), name
    s.selection.clear()
    assert w.ctl.label_files.export(tmp_path / "none.csv", "selection") is None
    assert "No image is selected" in s.errors.last.message and not (tmp_path / "none.csv").exists()


def test_drop_folder_files_csv_and_junk(qtbot, window, images: Path, tmp_path: Path) -> None:
    w = window
    jobs = w.drop_paths([images])  # no project yet: a folder dropped starts one
    wait_job(qtbot, jobs[0])
    assert len(w.session.catalog) == 12
    extra = tmp_path / "extra"
    extra.mkdir()
    shutil.copy(next(images.rglob("*.png")), extra / "copy_a.png")
    (extra / "notes.txt").write_text("not an image")
    labels = write_labels(tmp_path / "drop.csv", [("grains_00.tif", "grains", "ann")])
    jobs = w.drop_paths([extra / "copy_a.png", extra / "notes.txt", labels])
    for job in jobs:
        wait_job(qtbot, job)
    assert len(w.session.catalog) == 13 and "copy_a.png" in kinds(w)
    dialog = w.label_dialog  # a dropped CSV asks which columns are labels
    assert [dialog.list.item(i).text() for i in range(dialog.list.count())] == ["kind", "operator"]
    dialog.list.item(0).setCheckState(Qt.CheckState.Checked)
    dialog.list.item(1).setCheckState(Qt.CheckState.Unchecked)
    with qtbot.waitSignal(w.session.tasks_changed, timeout=10_000):
        dialog.accept()
    grains_00 = w.project.images.by_path(images / "grains" / "grains_00.tif")
    assert w.project.labels.labels("kind") == {grains_00.id: "grains"}
    assert "notes.txt" in w.session.errors.entries[-1].message or any(
        "notes.txt" in e.message for e in w.session.errors.entries
    )


def test_import_errors_are_listed_and_embedding_is_offered(qtbot, window, images: Path) -> None:
    w = window
    (images / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    wait_job(qtbot, w.ctl.project.new_from_folder(images))
    notice = w.notice_bar
    assert "12 new images" in notice.label.text() and "1 file could not be read" in notice.label.text()
    texts = [b.text() for b in notice.buttons]
    assert texts == ["Show the files that could not be read", "Compute embeddings"]
    notice.buttons[0].click()
    dialog = w.import_errors_dialog
    assert dialog.table.rowCount() == 1 and dialog.table.item(0, 0).text().endswith("broken.jpg")
    assert dialog.table.item(0, 1).text()  # the reason
    dialog.close()
    menu = next(a for a in w.menuBar().actions() if a.text() == "&File").menu()
    assert any(a.text() == "Files that could not be imported…" and a.isEnabled() for a in menu.actions())
    embed = notice.buttons[1]
    embed.click()  # one click computes them
    qtbot.waitUntil(lambda: w.session.map.data is not None, timeout=120_000)


def test_embedding_after_import_when_the_user_chose_it(qtbot, window, images: Path) -> None:
    w = window
    w.settings.embed_after_import = True
    wait_job(qtbot, w.ctl.project.new_from_folder(images))
    qtbot.waitUntil(lambda: w.session.map.data is not None, timeout=120_000)
    assert "Compute embeddings" not in [b.text() for b in w.notice_bar.buttons]


def test_recent_projects_menu(qtbot, project_window, tmp_path: Path) -> None:
    w = project_window
    path = str(w.project.path.resolve())
    w.ctl.project.close()
    titles = [a.text() for a in w.menus.recent.actions()]
    assert path in titles and "Clear the list" in titles
    next(a for a in w.menus.recent.actions() if a.text() == path).trigger()
    qtbot.waitUntil(lambda: w.project is not None)  # opened by a job (open_async), then here
    assert str(w.project.path.resolve()) == path
    next(a for a in w.menus.recent.actions() if a.text() == "Clear the list").trigger()
    assert [a.text() for a in w.menus.recent.actions()] == ["No recent projects"]


def test_filter_on_predictions_and_hint(qtbot, project_window) -> None:
    w = project_window
    s, b = w.session, w.browser
    rows = s.catalog.rows
    w.project.labels.set_many("kind", {r.id: r.folder for r in rows})
    w.project.labels.add_predictions("kind", [Prediction(r.id, "grains", 0.2 + 0.05 * k) for k, r in
                                              enumerate(rows)], model_id="test")  # fmt: skip
    s.labels_changed.emit("kind")

    def shown(text: str) -> int:
        b.text_edit.setText(text)
        b.text_edit.returnPressed.emit()
        return len(b.model.visible)

    assert shown("kind:lamellae") == 4 and shown("KIND=particles") == 4
    assert shown("kind_pred:grains") == 12 and shown("kind_score>0.6") == sum(0.2 + 0.05 * k > 0.6 for k in range(12))
    assert shown("kind:lamellae particles") == 0  # "particles" is a word of the name: none of the lamellae
    assert "no image matches all of them" in b.hint.text()
    assert shown("kind:steel") == 0 and "Its values include: " in b.hint.text() and "lamellae" in b.hint.text()
    assert shown("zzz") == 0 and "No file name contains “zzz”" in b.hint.text()
    assert shown("format:tif") == sum(r.format == "TIFF" for r in rows) > 0
    assert shown("kind:") == 12  # still being typed: no filter yet
