"""Exports of a part of the project write only that part (core's ``export_csv(image_ids=)`` and File ▸ Export
labels ▸ Selected / Shown); the Info tab shows the image's imported columns; the MARCO message names the command."""

from __future__ import annotations

import csv
from pathlib import Path

from gui_helpers import wait_job
from PySide6.QtCore import Qt

from micview.core.csv_io import export_csv
from micview.core.store import Project


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def test_export_csv_of_some_images_has_only_their_rows_and_every_column(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.micview") as project:
        ids = [project.images.upsert(tmp_path / f"img{i}.png", {"status": "ok"}) for i in range(6)]
        project.labels.set(ids, "kind", "grain")
        project.fields.set_many({ids[0]: {"operator": "ann"}})
        assert export_csv(project, tmp_path / "all.csv") == 6
        assert export_csv(project, tmp_path / "part.csv", image_ids=[ids[4], ids[1], 9999]) == 2  # 9999: no image
        assert export_csv(project, tmp_path / "none.csv", image_ids=[]) == 0
    all_header, _ = read_rows(tmp_path / "all.csv")
    header, rows = read_rows(tmp_path / "part.csv")
    assert header == all_header and "operator" in header  # the columns of a full export, so parts line up
    assert [r["file"] for r in rows] == ["img1.png", "img4.png"] and all(r["kind"] == "grain" for r in rows)
    assert read_rows(tmp_path / "none.csv") == (all_header, [])


def test_export_selected_and_shown_images_from_the_window(qtbot, project_window, tmp_path: Path) -> None:
    w, s = project_window, project_window.session
    chosen = [s.catalog.rows[k] for k in (7, 2)]
    s.selection.set([r.id for r in chosen])
    wait_job(qtbot, w.ctl.label_files.export(tmp_path / "selected.csv", "selection"))
    _, rows = read_rows(tmp_path / "selected.csv")
    assert sorted(r["file"] for r in rows) == sorted(r.path for r in chosen)
    assert "Wrote 2 rows" in w.notice_bar.label.text()

    w.browser.text_edit.setText("grains")  # the filter: only the grain images are shown
    w.browser.text_edit.returnPressed.emit()
    qtbot.waitUntil(lambda: s.shown.filtering)
    shown = {s.catalog.row(int(i)).path for i in s.shown.ids}
    assert 0 < len(shown) < len(s.catalog)
    wait_job(qtbot, w.ctl.label_files.export(tmp_path / "shown.csv", "shown"))
    _, rows = read_rows(tmp_path / "shown.csv")
    assert {r["file"] for r in rows} == shown and len(rows) == len(shown)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_the_info_tab_shows_the_images_imported_columns(qtbot, project_window, tmp_path: Path) -> None:
    w, s = project_window, project_window.session
    row = s.catalog.rows[3]
    labels = tmp_path / "labels.csv"
    labels.write_text(f"file,description,contributor\n{row.path},Lamellar eutectic,D. Hudson\n", encoding="utf-8")
    wait_job(qtbot, w.ctl.label_files.import_labels(labels, []))
    s.selection.set([row.id])
    tree = w.side_panel.info.tree
    group = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                 if tree.topLevelItem(i).text(0) == "Imported columns")  # fmt: skip
    values = {group.child(i).text(0): group.child(i).text(1) for i in range(group.childCount())}
    assert values == {"description": "Lamellar eutectic", "contributor": "D. Hudson"}
    assert s.project.fields.of_image(row.id) == values
    s.selection.set([s.catalog.rows[0].id])  # an image without imported columns: no empty group
    assert not tree.findItems("Imported columns", Qt.MatchFlag.MatchExactly)


def test_the_marco_missing_message_names_the_command_that_adds_it() -> None:
    from micview.gui.plates import scoring
    from micview.ml.marco import ADD_HINT

    assert ADD_HINT in scoring.MARCO_MISSING and "micview models add marco --python PATH" in scoring.MARCO_MISSING
