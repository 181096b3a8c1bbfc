"""The browser model and the scatter at 100k images: filtering, selection sync and picking stay fast."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt

from micview.core.store import ImageRow
from micview.gui.browser.model import Filter, ImageListModel
from micview.gui.browser.view import BrowserWidget
from micview.gui.scatter import ScatterWidget
from micview.gui.scatter_tools import PointPicker, points_in_polygon
from micview.gui.session import Session

N = 100_000


def fake_rows(n: int) -> list[ImageRow]:
    blank = [None, None, None, "ok", *[None] * 18]
    return [ImageRow(i + 1, f"f{i % 7}/img_{i:06d}.tif", f"img_{i:06d}.tif", f"f{i % 7}", *blank) for i in range(n)]


def big_model() -> ImageListModel:
    model = ImageListModel()
    model.rows = fake_rows(N)
    model._row_of_id = {r.id: i for i, r in enumerate(model.rows)}
    model.refilter()
    return model


def test_filter_and_sort_100k_quickly() -> None:
    model = big_model()
    model.labels = {i: "a" if i % 2 else "b" for i in range(1, N + 1, 3)}
    start = time.perf_counter()
    model.set_filter(Filter(folder="f3", label="a", text="img_0"))
    model.set_filter(Filter(sort="label", descending=True))
    assert time.perf_counter() - start < 2.0  # typically ~0.2 s; generous for a loaded 2-core CI box
    assert model.rowCount() == N and model.data(model.index(0), Qt.ItemDataRole.DisplayRole)
    model.set_filter(Filter(folder="f3", label="a"))
    assert all(model.rows[i].folder == "f3" and model.labels[model.rows[i].id] == "a" for i in model.visible)


def test_selection_of_50k_reaches_the_grid_and_back(qtbot) -> None:
    session = Session()
    selection = session.selection
    browser = BrowserWidget(session)
    qtbot.addWidget(browser)
    session.catalog.set_rows(fake_rows(N))
    assert len(session.shown.ids) == N  # what the grid shows is published for exports and the viewer
    start = time.perf_counter()
    selection.set(range(1, N + 1, 2))
    assert time.perf_counter() - start < 3.0
    assert len(browser.view.selectionModel().selectedIndexes()) == N // 2
    assert "50,000 selected" in browser.count_label.text()


def test_scatter_100k_points_pick_and_lasso(qtbot) -> None:
    rng = np.random.default_rng(0)
    xy = rng.normal(size=(N, 2)).astype(np.float32)
    ids = np.arange(1, N + 1)
    session = Session()
    selection = session.selection
    scatter = ScatterWidget(session)
    qtbot.addWidget(scatter)
    start = time.perf_counter()
    scatter.set_map(ids, xy)
    set_map_s = time.perf_counter() - start
    picker = PointPicker(xy)
    start = time.perf_counter()
    for _ in range(100):
        picker.nearest(0.1, 0.2, (0.01, 0.01))
    assert (time.perf_counter() - start) / 100 < 0.005  # KD-tree: well under pointsAt's ~216 ms
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float64)
    mask = points_in_polygon(xy, square)
    assert np.array_equal(mask, (xy[:, 0] >= 0) & (xy[:, 0] <= 1) & (xy[:, 1] >= 0) & (xy[:, 1] <= 1))
    scatter.vb.region_selected.emit(square, Qt.KeyboardModifier.NoModifier)
    assert len(selection) == mask.sum() and len(scatter.highlighted("selection")) == mask.sum()
    assert set_map_s < 5.0


def test_nearest_respects_screen_radius() -> None:
    picker = PointPicker(np.array([[0.0, 0.0], [10.0, 0.0]]))
    assert picker.nearest(0.5, 0.0, (0.1, 0.1), radius_px=8) == 0  # 5 px away
    assert picker.nearest(5.0, 0.0, (0.1, 0.1), radius_px=8) is None  # 50 px from either
