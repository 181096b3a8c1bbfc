"""The real window, driven as a user would: project from a folder, embed, map, linked selection, labels, search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gui_helpers import wait_job
from PySide6.QtCore import QPointF, Qt

from micview.core.store import Project


def grid_selected_ids(w) -> set[int]:
    return {w.browser.model.id_at(i.row()) for i in w.browser.view.selectionModel().selectedIndexes()}


def test_welcome_then_project_from_folder(qtbot, window, images: Path) -> None:
    assert window.pages.currentIndex() == 0
    job = window.ctl.project.new_from_folder(images)
    wait_job(qtbot, job)
    qtbot.waitUntil(lambda: len(window.browser.model.rows) == 12)
    assert window.pages.currentIndex() == 1
    assert window.browser.model.thumbnail(window.browser.model.rows[0].id) is not None
    assert str((images / "images.micview").resolve()) in window.settings.recent
    assert "No embeddings" in window.map_panel.empty.message.text()
    assert window.map_panel.empty.button.isVisibleTo(window)


def test_the_sample_opens_labelled_and_embedded(qtbot, window, images: Path) -> None:
    w = window
    job = w.ctl.project.open_sample(images)  # the generated images (their folder holds the sample's LICENCE.txt)
    wait_job(qtbot, job)
    qtbot.waitUntil(lambda: w.session.map.data is not None, timeout=120_000)
    labels = w.project.labels.labels("structure")
    assert w.session.task.name == "structure" and len(labels) == 8  # two images in three
    assert all(labels[r.id] == r.folder for r in w.session.catalog.rows if r.id in labels)
    assert len(w.browser.model.labels) == 8 and w.scatter.color_combo.currentText() == "Label: structure"
    assert "Compute embeddings" not in [b.text() for b in w.notice_bar.buttons]  # it is already computing them


def test_a_task_of_35_classes_with_60_character_names_fits_a_laptop(qtbot, embedded_window) -> None:
    from PySide6.QtWidgets import QApplication

    w = embedded_window
    w.resize(1280, 800)
    classes = [f"class {k:02d} " + "very long microstructure description " * 2 for k in range(35)]
    assert min(map(len, classes)) >= 60
    w.ctl.labelling.define("long", [c[:80] for c in classes])
    w.session.selection.set([w.browser.model.rows[0].id])
    QApplication.processEvents()
    assert w.minimumSizeHint().width() <= 1280 and w.width() <= 1280
    bar = w.label_bar
    assert len(bar.key_buttons) == 9 and all(b.isVisible() and b.text().startswith(f"{k + 1} ")
                                              for k, b in enumerate(bar.key_buttons))  # fmt: skip
    assert bar.more_button.isVisible() and len(bar.more_menu.actions()) == 26
    bar.more_menu.actions()[-1].trigger()  # the 35th class, from the menu
    assert w.project.labels.labels("long") == {w.browser.model.rows[0].id: classes[34][:80]}
    assert w.scatter.color_combo.currentText() == "Label: long" and len(w.scatter.legend.texts()) == 2


def test_rectangle_and_lasso_select_thumbnails(qtbot, embedded_window) -> None:
    w = embedded_window
    xy, ids = w.scatter.xy, w.scatter.ids
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    mid = (lo + hi) / 2
    box = np.array([[lo[0] - 1, lo[1] - 1], [mid[0], lo[1] - 1], [mid[0], hi[1] + 1], [lo[0] - 1, hi[1] + 1]])
    w.scatter.vb.region_selected.emit(box, Qt.KeyboardModifier.NoModifier)
    expected = set(ids[xy[:, 0] <= mid[0]].tolist())
    assert expected and set(w.session.selection.ids) == expected
    assert grid_selected_ids(w) == expected
    lasso = np.array([[lo[0] - 1, lo[1] - 1], [hi[0] + 1, lo[1] - 1], [hi[0] + 1, hi[1] + 1]])  # a triangle
    w.scatter.vb.region_selected.emit(lasso, Qt.KeyboardModifier.NoModifier)
    assert grid_selected_ids(w) == set(w.session.selection.ids) and len(w.session.selection.ids) < 12


def test_grid_selection_highlights_points(qtbot, embedded_window) -> None:
    w = embedded_window
    view = w.browser.view
    rect = view.visualRect(w.browser.model.index(2))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    chosen = w.browser.model.id_at(2)
    assert w.session.selection.ids == (chosen,)
    assert w.scatter.highlighted("selection").tolist() == [chosen]
    assert w.side_panel.info.title.text().startswith(w.browser.model.row_for_id(chosen).name)


def test_click_on_point_picks_it(qtbot, embedded_window) -> None:
    w = embedded_window
    w.scatter.plot.resize(600, 500)
    x, y = w.scatter.xy[3]
    scene_pos = w.scatter.vb.mapViewToScene(QPointF(float(x), float(y)))
    assert w.scatter.pick(scene_pos) == int(w.scatter.ids[3]) or w.scatter.pick(scene_pos) is not None


def test_label_with_keys_and_undo(qtbot, embedded_window) -> None:
    w = embedded_window
    w.ctl.labelling.define("structure", ["grains", "particles", "lamellae"])
    ids = [r.id for r in w.browser.model.rows[:3]]
    w.session.selection.set(ids)
    qtbot.keyClick(w, Qt.Key.Key_2)
    assert w.project.labels.labels("structure") == dict.fromkeys(ids, "particles")
    assert w.browser.model.labels == dict.fromkeys(ids, "particles")
    w.session.selection.set(ids[:1])
    qtbot.keyClick(w, Qt.Key.Key_3)
    assert w.project.labels.labels("structure")[ids[0]] == "lamellae"
    w.session.undo_stack.undo()
    assert w.project.labels.labels("structure")[ids[0]] == "particles"
    w.session.undo_stack.undo()
    assert w.project.labels.labels("structure") == {}
    w.session.undo_stack.redo()
    assert w.project.labels.labels("structure") == dict.fromkeys(ids, "particles")
    assert len(w.project.labels.history(ids[0], "structure")) == 5  # append-only: nothing lost
    with Project.open(w.project.path) as other:  # saved at once, visible to another connection
        assert other.labels.labels("structure") == dict.fromkeys(ids, "particles")
    assert w.scatter.color_combo.currentText() == "Label: structure"


def test_more_like_this_ranks_results_and_rings_points(qtbot, embedded_window) -> None:
    w = embedded_window
    query = w.browser.model.rows[0]
    w.session.selection.set([query.id])
    job = w.ctl.search.similar()
    with qtbot.waitSignal(w.session.results.changed, timeout=60_000):
        pass
    assert job.state == "done"
    assert w.session.results.active and query.id not in w.session.results.ids.tolist()
    assert w.browser.banner.isVisibleTo(w) and w.browser.model.visible_ids().tolist() == w.session.results.ids.tolist()
    assert len(w.scatter.highlighted("results")) == len(w.session.results.ids)
    w.browser.clear_results_button.click()
    assert len(w.browser.model.visible) == 12


def test_text_search_with_image_only_model_says_how_to_add_one(qtbot, embedded_window) -> None:
    w = embedded_window
    assert w.ctl.search.text("grain boundaries") is None
    assert "micview models add PATH" in w.last_error[0]
    assert not w.session.results.active


def test_cancel_a_running_embedding(qtbot, project_window) -> None:
    w = project_window
    job = w.ctl.maps.embed()
    qtbot.waitUntil(lambda: job.progress.total > 0 and job.state == "running", timeout=60_000)
    row = w.jobs_panel.rows[job.id]
    with qtbot.waitSignal(job.finished, timeout=60_000):
        row.cancel_button.click()
    assert job.state == "cancelled"
    assert row.message.text().startswith("cancelled")
    assert w.last_error is None


def test_filters_and_sort(qtbot, embedded_window) -> None:
    w = embedded_window
    b = w.browser
    b.folder_combo.setCurrentIndex(b.folder_combo.findData("lamellae"))
    assert {r.folder for r in (b.model.rows[i] for i in b.model.visible)} == {"lamellae"}
    b.folder_combo.setCurrentIndex(0)
    b.text_edit.setText("particles_0")
    b._apply_filter()
    assert len(b.model.visible) == 4
    b.text_edit.setText("")
    b.sort_combo.setCurrentText("Name")
    b.order_button.setChecked(True)
    names = [b.model.rows[i].name for i in b.model.visible]
    assert names == sorted(names, reverse=True)
    b.size_slider.setValue(200)
    assert w.settings.thumb_size == 200


def test_viewer_shows_16_bit_with_percentile_levels_and_scale_bar(qtbot, project_window) -> None:
    from micview.core.imaging import read_frame
    from micview.core.imaging.display import display_levels

    w = project_window
    row = next(r for r in w.browser.model.rows if r.dtype == "uint16")
    w.ctl.viewer.open(row.id)
    qtbot.waitUntil(lambda: w.viewer.image.size > 0, timeout=20_000)
    raw = read_frame(w.project.images.abspath(row))
    v = w.viewer
    assert v.image.dtype == np.uint16
    assert v.image_view.getImageItem().levels == pytest.approx(display_levels(raw, 0.5, 99.5))
    assert v.scale_bar is not None and row.pixel_size_nm
    assert v.metadata.topLevelItemCount() == 3
    h, width = raw.shape[:2]
    assert f"{width:,} × {h:,} px" in v.info.text() and "pixel" in v.info.text() and "field" in v.info.text()

    # the raw value and the calibrated position under the cursor
    step = row.pixel_size_nm * 1e-9
    scene = v.image_view.getView().mapViewToScene(QPointF(10.5 * step, 20.5 * step))
    assert v.pixel_at(scene) == (10, 20)
    v._on_mouse_moved(scene)
    assert f"value {int(raw[20, 10])}" in v.readout.text() and "x 10, y 20 px" in v.readout.text()
    assert "nm" in v.readout.text() or "µm" in v.readout.text()

    # 1:1 shows one image pixel per screen pixel; Fit shows it whole
    v.resize(900, 700)
    v.actual_size()
    (x0, x1), _ = v.image_view.getView().viewRange()
    assert (x1 - x0) / step == pytest.approx(v.image_view.getView().width(), rel=0.02)
    v.fit()
    (x0, x1), (y0, y1) = v.image_view.getView().viewRange()
    assert x1 - x0 >= width * step * 0.99 or y1 - y0 >= h * step * 0.99

    # a line profile along row 30 reads the raw values there
    v.profile_button.setChecked(True)
    for handle, x in zip(v.line.getHandles(), (0.5, width - 0.5), strict=True):
        v.line.movePoint(handle, QPointF(x * step, 30.5 * step), finish=False, coords="parent")
    _xs, ys = v.profile.curve.getData()
    assert len(ys) >= width - 1 and ys[:5] == pytest.approx(raw[30, :5].astype(float))

    # previous / next follow the grid's order, filter included
    w.browser.folder_combo.setCurrentIndex(w.browser.folder_combo.findData(row.folder))
    order = w.browser.model.visible_ids().tolist()
    v.show_image(order[0])
    qtbot.keyClick(v, Qt.Key.Key_Right)
    assert v.image_id == order[1]
    qtbot.keyClick(v, Qt.Key.Key_Left)
    qtbot.keyClick(v, Qt.Key.Key_Left)  # stays on the first
    assert v.image_id == order[0] and not v.prev_button.isEnabled() and v.position.text() == f"1 of {len(order)}"


def test_viewer_drops_pixels_of_an_image_it_left(qtbot, project_window) -> None:
    w = project_window
    a, b = w.browser.model.rows[0], w.browser.model.rows[1]
    w.ctl.viewer.open(a.id)
    v = w.viewer
    shown: list[tuple[int, ...]] = []
    real = v.set_pixels
    v.set_pixels = lambda arr: (shown.append(arr.shape), real(arr))
    v.show_image(b.id)  # before a's pixels arrived
    w.session.jobs.wait(10_000)
    qtbot.waitUntil(lambda: v.image.size > 0, timeout=20_000)
    qtbot.wait(100)
    assert v.image_id == b.id and len(shown) == 1  # a's frame arrived too, and was dropped


def test_errors_are_reported_not_raised(qtbot, window, tmp_path: Path) -> None:
    bad = tmp_path / "broken.micview"
    bad.write_text("not a database")
    assert window.open_project(bad) is False
    assert "micview project" in window.last_error[0] or "cannot open" in window.last_error[0]
    assert window.last_error[1] == ""  # a MicviewError: a message, no traceback
    assert window.pages.currentIndex() == 0
