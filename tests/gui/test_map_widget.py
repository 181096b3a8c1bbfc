"""The map widget at scale: exact selection and picking against brute force, density vs every point, colours,
and the hooks other views use (highlight, overlays, positions)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage

from micview.gui.map import colouring, density
from micview.gui.map.colouring import NONE_COLOUR
from micview.gui.map.density import Binned, ColourIndex, Grid, categorical_image, numeric_image
from micview.gui.map.marks import MarkStyle
from micview.gui.map.point_index import PointPicker, RowIndex
from micview.gui.map.points_item import EXACT_LIMIT
from micview.gui.map.region import in_polygon, ray_cast
from micview.gui.palette import SELECTED, color_for, ramp
from micview.gui.scatter import ScatterWidget
from micview.gui.session import Session

CLASSES = ["a", "b"]


def brute_force(xy: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    return ray_cast(xy[:, 0].astype(np.float64), xy[:, 1].astype(np.float64), np.asarray(polygon, np.float64))


def star(cx: float = 0.0, cy: float = 0.0, r: float = 2.0) -> np.ndarray:
    """A self-intersecting pentagram: its centre is outside under the even-odd rule."""
    angles = np.pi / 2 + np.arange(5) * 4 * np.pi / 5
    return np.c_[cx + r * np.cos(angles), cy + r * np.sin(angles)]


def wavy_lasso(n: int = 300) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = 1.2 + 0.4 * np.sin(7 * t)
    return np.c_[r * np.cos(t) + 0.1, r * np.sin(t) - 0.2]


@pytest.mark.parametrize(
    "polygon",
    [
        wavy_lasso(),
        star(),
        np.array([[-3, -3], [3, -3], [0, 0.5], [3, 3], [-3, 3]]),  # concave
        np.c_[np.linspace(-3, 3, 81), np.where(np.arange(81) % 2, 2.5, -2.5)],  # zig-zag: every cell on an edge
        np.array([[0, 0], [1, 1], [2, 2], [0, 0]]),  # degenerate: no area
        np.array([[0.1, 0.1], [0.1, 0.1], [0.3, 0.1], [0.3, 0.4], [0.3, 0.4]]),  # repeated vertices
    ],
)
def test_lasso_equals_the_brute_force_ray_cast(polygon: np.ndarray) -> None:
    xy = np.random.default_rng(0).normal(size=(100_000, 2)).astype(np.float32)
    fast = in_polygon(xy[:, 0], xy[:, 1], polygon)
    assert np.array_equal(fast, brute_force(xy, polygon))


def test_a_point_exactly_on_a_lasso_vertex_or_edge_is_decided_as_the_ray_cast_decides() -> None:
    grid = np.mgrid[-2:2:0.25, -2:2:0.25].reshape(2, -1).T.astype(np.float32)  # many points on the edges
    xy = np.vstack([grid, np.random.default_rng(1).uniform(-2, 2, (20_000, 2)).astype(np.float32)])
    polygon = np.array([[-1.5, -1.5], [1.0, -1.5], [1.0, 0.0], [0.0, 0.0], [0.0, 1.25], [-1.5, 1.25]])
    assert np.array_equal(in_polygon(xy[:, 0], xy[:, 1], polygon), brute_force(xy, polygon))


def test_a_box_includes_its_edges() -> None:
    xy = np.array([[0, 0], [1, 1], [0.5, 0.5], [1.0001, 0.5], [-0.0001, 0.2]], np.float32)
    box = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float64)
    assert in_polygon(xy[:, 0], xy[:, 1], box).tolist() == [True, True, True, False, False]


@pytest.fixture
def scatter(qtbot) -> ScatterWidget:
    widget = ScatterWidget(Session())
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    return widget


def two_clusters(n: int) -> tuple[np.ndarray, np.ndarray]:
    """n points: the first half around (-5, 0) in class "a", the rest around (5, 0) in class "b"."""
    rng = np.random.default_rng(2)
    xy = rng.normal(scale=0.8, size=(n, 2)).astype(np.float32)
    xy[: n // 2, 0] -= 5
    xy[n // 2 :, 0] += 5
    return np.arange(1, n + 1, dtype=np.int64), xy


def colour_by_cluster(widget: ScatterWidget, ids: np.ndarray) -> None:
    values = {int(i): ("a" if k < len(ids) // 2 else "b") for k, i in enumerate(ids)}
    widget.set_color_options(["Label: cluster"], lambda _name: (values, CLASSES), "Label: cluster")


def pixel_at(widget: ScatterWidget, image: QImage, x: float, y: float) -> QColor:
    point = widget.plot.mapFromScene(widget.vb.mapViewToScene(QPointF(x, y)))
    return image.pixelColor(point.x(), point.y())


def nearer(colour: QColor, a: QColor, b: QColor) -> bool:
    def dist(p: QColor, q: QColor) -> int:
        return sum((u - v) ** 2 for u, v in zip(p.getRgb()[:3], q.getRgb()[:3], strict=True))

    return dist(colour, a) < dist(colour, b)


def test_zoomed_out_is_a_density_picture_and_zoomed_in_every_point(qtbot, scatter: ScatterWidget) -> None:
    ids, xy = two_clusters(200_000)
    scatter.set_map(ids, xy)
    colour_by_cluster(scatter, ids)
    a, b = color_for("a", CLASSES), color_for("b", CLASSES)
    image = scatter.plot.grab().toImage()
    assert scatter.points.last_mode == "density"
    assert nearer(pixel_at(scatter, image, -5, 0), a, b) and nearer(pixel_at(scatter, image, 5, 0), b, a)
    background = pixel_at(scatter, image, 0, 0)  # between the clusters, six deviations from either
    assert background.getRgb()[:3] == QColor("#17181b").getRgb()[:3]
    far = ids[np.argmax(xy[:, 0])]  # the outermost point of cluster b, alone when zoomed in
    x, y = xy[far - 1]
    scatter.vb.setRange(QRectF(x - 0.05, y - 0.05, 0.1, 0.1), padding=0)
    image = scatter.plot.grab().toImage()
    assert scatter.points.last_mode == "points"
    assert pixel_at(scatter, image, x, y).getRgb()[:3] == b.getRgb()[:3]


def test_density_colours_a_bin_by_its_labelled_majority() -> None:
    # one bin per data unit; bin (0, 0): 3 without a value and 1 "b"; bin (1, 0): 2 "a" and 1 "b"
    x = np.array([0.5, 0.5, 0.5, 0.5, 1.5, 1.5, 1.5], np.float32)
    y = np.full(7, 0.5, np.float32)
    values = {1: None, 2: None, 3: None, 4: "b", 5: "a", 6: "b", 7: "a"}
    found = colouring.categorical(RowIndex(np.arange(1, 8)), values, CLASSES)
    grid = Grid(u0=0, v0=0, w=2, h=1, size=1, x0=0.0, y0=1.0, sx=1.0, sy=1.0)
    image = categorical_image(Binned.of(grid, x, y), ColourIndex(found))
    assert tuple(image[0, 0, :3]) == color_for("b", CLASSES).getRgb()[:3]
    assert tuple(image[0, 1, :3]) == color_for("a", CLASSES).getRgb()[:3]
    assert image[0, 0, 3] == 255 and 128 <= image[0, 1, 3] < 255  # the fullest bin is opaque


def test_density_counted_in_one_pass_equals_counting_colour_by_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    # a small grid crowded with points of 30 classes (the palette cycles: 24 colours + no value), many ties
    rng = np.random.default_rng(7)
    n, classes = 20_000, [f"c{k}" for k in range(30)]
    x, y = rng.uniform(0, 40, n).astype(np.float32), rng.uniform(0, 30, n).astype(np.float32)
    values = {int(i): (None if rng.random() < 0.3 else classes[rng.integers(30)]) for i in range(n)}
    found = colouring.categorical(RowIndex(np.arange(n)), values, classes)
    binned = Binned.of(Grid(u0=0, v0=0, w=40, h=30, size=1, x0=0.0, y0=30.0, sx=1.0, sy=1.0), x, y)
    one_pass = categorical_image(binned, ColourIndex(found))
    monkeypatch.setattr(density, "COUNTS_MOST", 0)
    by_colour = categorical_image(binned, ColourIndex(found))
    assert np.array_equal(one_pass, by_colour)
    # and a bin's colour is its most frequent labelled class's colour, the first one in palette order on a tie
    colour_of = {tuple(found.lut[code]) for code in range(found.none)}
    bins, codes = binned.bins, found.codes
    for b in rng.choice(np.flatnonzero(binned.total), 50, replace=False):
        labelled = codes[(bins == b) & (codes != found.none)]
        assert len(colour_of) == 24
        if not len(labelled):
            assert tuple(one_pass.reshape(-1, 4)[b, :3]) == NONE_COLOUR.getRgb()[:3]
            continue
        rgb = [tuple(c) for c in found.lut[labelled][:, :3].tolist()]
        counts = {c: rgb.count(c) for c in rgb}
        top = max(counts.values())
        palette = [tuple(c) for c in np.unique(found.lut, axis=0)[:, :3].tolist()]
        winner = min((c for c in counts if counts[c] == top), key=palette.index)
        assert tuple(one_pass.reshape(-1, 4)[b, :3]) == winner


def test_recolouring_gives_each_point_its_class_colour_and_each_number_its_ramp_colour(scatter: ScatterWidget) -> None:
    rng = np.random.default_rng(11)
    n = 3_000
    ids = rng.permutation(np.arange(100, 100 + 2 * n))[:n]  # sparse, unordered ids
    scatter.set_map(ids, rng.normal(size=(n, 2)).astype(np.float32))
    classes = ["alpha", "beta", "gamma"]
    kinds = [*classes, "delta (not a class)", None]
    label = {int(i): kinds[k] for i, k in zip(ids, rng.integers(0, 5, n), strict=True) if rng.random() < 0.8}
    label[10**9] = "alpha"  # an image not on the map
    size = {int(i): float(v) for i, v in zip(ids, rng.gamma(2.0, 1.5, n), strict=True) if rng.random() < 0.9}
    columns = {"Label: kind": (label, classes), "Field: size": (size, None)}
    scatter.set_color_options(list(columns), columns.__getitem__, "Label: kind")
    scatter.color_combo.setCurrentText("Field: size")
    scatter.forget_colours()
    scatter.color_combo.setCurrentText("Label: kind")  # shown the first time since forgetting
    shown = scatter.points.colouring
    rgba = shown.lut[shown.codes]
    for row, image_id in enumerate(ids.tolist()):
        value = label.get(image_id)
        expected = NONE_COLOUR if value is None else color_for(value, classes)
        assert tuple(rgba[row]) == expected.getRgb(), (image_id, value)
    assert scatter.legend.texts() == [*classes, "delta (not a class)", "(none)"]
    scatter.color_combo.setCurrentText("Field: size")
    shown = scatter.points.colouring
    rgba = shown.lut[shown.codes]
    known = np.array([size[i] for i in ids.tolist() if i in size])
    lo, hi = np.percentile(known, [1, 99])
    for row, image_id in enumerate(ids.tolist()):
        if image_id not in size:
            assert tuple(rgba[row]) == NONE_COLOUR.getRgb()
            continue
        step = round(float(np.clip((size[image_id] - lo) / (hi - lo), 0, 1)) * (colouring.RAMP_STEPS - 1))
        assert tuple(rgba[row]) == ramp(step / (colouring.RAMP_STEPS - 1)).getRgb(), image_id


def test_numeric_density_is_the_mean_of_each_bins_values() -> None:
    x = np.array([0.5, 0.5, 0.5, 1.5, 1.5], np.float32)
    y = np.full(5, 0.5, np.float32)
    found = colouring.numeric(RowIndex(np.arange(5)), {k: float(k) for k in range(5)} | {2: None})
    grid = Grid(u0=0, v0=0, w=2, h=1, size=1, x0=0.0, y0=1.0, sx=1.0, sy=1.0)
    image = numeric_image(Binned.of(grid, x, y), found)
    assert found.level is not None
    for b, rows in ((0, [0, 1]), (1, [3, 4])):  # row 2 has no value: not in the mean
        step = round(float(np.mean(found.level[rows])) * (colouring.RAMP_STEPS - 1))
        assert tuple(image[0, b, :3]) == ramp(step / (colouring.RAMP_STEPS - 1)).getRgb()[:3]


def test_categorical_colouring_with_other_values_missing_ids_and_ids_not_on_the_map() -> None:
    index = RowIndex(np.array([30, 10, 20, 40]))
    found = colouring.categorical(index, {10: "b", 20: "zz", 99: "a", 40: None}, CLASSES)
    assert [text for text, _ in found.entries] == ["b", "zz", "(none)"]  # "a" is only on an image not shown
    lut = found.lut[found.codes]
    assert tuple(lut[1][:3]) == color_for("b", CLASSES).getRgb()[:3]
    assert tuple(lut[0]) == tuple(lut[3]) == NONE_COLOUR.getRgb()


def test_numeric_colouring_spans_the_1st_to_99th_percentile_and_tolerates_text() -> None:
    ids = np.arange(1, 1002)
    values: dict[int, object] = {int(i): float(i) for i in ids[:1000]}
    values[1001] = "n/a"
    found = colouring.numeric(RowIndex(ids), values)
    assert found.numeric and found.level is not None and np.isnan(found.level[-1])
    assert found.codes[-1] == found.none and found.entries[-1][0] == "(none)"
    assert float(found.entries[0][0]) == pytest.approx(np.percentile(np.arange(1, 1001), 1), rel=1e-3)
    assert found.codes[0] == 0 and found.codes[999] == found.none - 1


def test_row_index_finds_rows_of_unsorted_ids_and_skips_unknown_ones() -> None:
    index = RowIndex(np.array([50, 7, 300, 12]))
    assert index.rows([12, 999, 50, 7]).tolist() == [3, 0, 1]
    found, rows = index.lookup(np.array([300, 1]))
    assert found.tolist() == [True, False] and rows[0] == 2
    assert RowIndex(np.zeros(0, np.int64)).rows([1, 2]).tolist() == []
    dense = RowIndex(np.array([105, 103, 104, 101]))  # nearly consecutive ids: a table, not a search
    assert dense.rows([101, 102, 105, 0, 10**12]).tolist() == [3, 0]
    assert dense.lookup(np.array([-5, 104]))[0].tolist() == [False, True]


def test_pick_is_the_nearest_point_on_screen_whatever_the_aspect_ratio() -> None:
    rng = np.random.default_rng(4)
    xy = rng.uniform(0, [100, 1], size=(50_000, 2))  # x spans 100x more than y
    picker = PointPicker(xy)
    pixel = (0.05, 0.02)  # data units per pixel: very different from the data's own aspect
    for qx, qy in rng.uniform(0, [100, 1], size=(200, 2)):
        d = np.hypot((xy[:, 0] - qx) / pixel[0], (xy[:, 1] - qy) / pixel[1])
        expected = int(np.argmin(d)) if d.min() <= 8 else None
        assert picker.nearest(qx, qy, pixel, 8.0) == expected


def test_box_selection_marks_points_and_a_selection_made_elsewhere_is_marked(scatter: ScatterWidget) -> None:
    ids, xy = two_clusters(2_000)
    scatter.set_map(ids, xy)
    box = np.array([[-10, -10], [0, -10], [0, 10], [-10, 10]], np.float64)
    scatter.vb.region_selected.emit(box, Qt.KeyboardModifier.NoModifier)
    assert set(scatter.session.selection.ids) == set(ids[: len(ids) // 2].tolist())
    assert scatter.highlighted("selection").tolist() == ids[: len(ids) // 2].tolist()
    scatter.session.selection.set([5, 999_999, 1_500])  # from the grid; an id not on the map is ignored
    assert scatter.highlighted("selection").tolist() == [5, 1_500]
    right = box + np.array([10.0, 0.0])
    scatter.vb.region_selected.emit(right, Qt.KeyboardModifier.ControlModifier)  # adds to the selection
    added = ids[(xy[:, 0] >= 0) & (xy[:, 0] <= 10) & (np.abs(xy[:, 1]) <= 10)]
    assert set(scatter.session.selection.ids) == {5, 999_999, 1_500} | set(added.tolist())  # kept: not its to drop


def test_highlight_overlay_and_positions_hooks(scatter: ScatterWidget) -> None:
    ids, xy = two_clusters(1_000)
    scatter.set_map(ids, xy)
    style = MarkStyle("#00ff00", pad=13, width=3)  # a few points in view are drawn 8 px wide: a 21 px ring
    scatter.highlight([7, 8, 123_456], style, key="new")
    assert scatter.highlighted("new").tolist() == [7, 8]
    x, y = xy[6]
    scatter.vb.setRange(QRectF(x - 0.5, y - 0.5, 1.0, 1.0), padding=0)
    image = scatter.plot.grab().toImage()
    centre = scatter.plot.mapFromScene(scatter.vb.mapViewToScene(QPointF(float(x), float(y))))
    ring = [image.pixelColor(centre.x() + dx, centre.y()).getRgb()[:3] for dx in range(7, 13)]
    assert (0, 255, 0) in ring  # the ring is drawn around the point, ~10 px from its centre
    before = scatter.vb.childrenBounds()
    line = pg.PlotCurveItem(x=[100.0, 200.0], y=[100.0, 200.0])
    scatter.add_overlay(line)
    assert line.getViewBox() is scatter.vb and scatter.vb.childrenBounds() == before  # the fit ignores it
    scatter.remove_overlay(line)
    assert line.scene() is None
    found, where = scatter.positions([3, 99_999])
    assert found.tolist() == [True, False] and where[0].tolist() == pytest.approx(xy[2].tolist())
    scatter.highlight([], key="new")
    assert scatter.highlighted("new").tolist() == []


def test_many_marked_points_are_drawn_as_a_tint_not_one_ring_each(qtbot, scatter: ScatterWidget) -> None:
    ids, xy = two_clusters(200_000)
    scatter.set_map(ids, xy)
    scatter.session.selection.set(ids[: len(ids) // 2].tolist())
    image = scatter.plot.grab().toImage()
    assert len(scatter.highlighted("selection")) == len(ids) // 2 > EXACT_LIMIT
    assert pixel_at(scatter, image, -5, 0) != pixel_at(scatter, image, 5, 0)  # the selected cluster is tinted


def test_dragging_a_box_and_a_lasso_selects(qtbot, scatter: ScatterWidget) -> None:
    rate = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOptions(mouseRateLimit=-1)  # the scene drops moves closer than 1/100 s: these come at once
    try:
        _drag_box_and_lasso(scatter)
    finally:
        pg.setConfigOptions(mouseRateLimit=rate)


def _drag_box_and_lasso(scatter: ScatterWidget) -> None:
    ids, xy = two_clusters(4_000)
    scatter.set_map(ids, xy)
    scatter.plot.grab()

    def at(x: float, y: float) -> QPointF:
        return QPointF(scatter.plot.mapFromScene(scatter.vb.mapViewToScene(QPointF(x, y))))

    def drag(points: list[QPointF]) -> None:
        from PySide6.QtGui import QMouseEvent
        from PySide6.QtWidgets import QApplication

        viewport = scatter.plot.viewport()
        kinds = [QMouseEvent.Type.MouseButtonPress] + [QMouseEvent.Type.MouseMove] * (len(points) - 2)
        kinds.append(QMouseEvent.Type.MouseButtonRelease)
        for kind, p in zip(kinds, points, strict=True):
            moving, release = kind == QMouseEvent.Type.MouseMove, kind == QMouseEvent.Type.MouseButtonRelease
            button = Qt.MouseButton.NoButton if moving else Qt.MouseButton.LeftButton
            held = Qt.MouseButton.NoButton if release else Qt.MouseButton.LeftButton
            event = QMouseEvent(kind, p, viewport.mapToGlobal(p), button, held, Qt.KeyboardModifier.NoModifier)
            QApplication.sendEvent(viewport, event)

    scatter.set_mode("rect")
    drag([at(-6, -2), at(-5, -1), at(-2, 2), at(-1, 2), at(-1, 2)])  # inside the view
    box = scatter.session.selection.ids
    inside = (xy[:, 0] >= -6) & (xy[:, 0] <= -1) & (xy[:, 1] >= -2) & (xy[:, 1] <= 2)
    assert box and abs(len(box) - inside.sum()) <= inside.sum() * 0.02  # the drag's ends are whole pixels
    scatter.set_mode("lasso")
    t = np.linspace(0, 2 * np.pi, 60)
    drag([at(5 + 2 * np.cos(a), 2 * np.sin(a)) for a in t])
    lasso = set(scatter.session.selection.ids)
    near_b = np.hypot(xy[:, 0] - 5, xy[:, 1]) < 1.9
    assert set(ids[near_b].tolist()) <= lasso and all(i > len(ids) // 2 for i in lasso)


@pytest.mark.slow
def test_selection_at_a_million_points_is_exact(qtbot, scatter: ScatterWidget) -> None:
    rng = np.random.default_rng(5)
    n = 1_000_000
    xy = rng.normal(size=(n, 2)).astype(np.float32)
    ids = rng.permutation(np.arange(10, 10 + 3 * n, 3))[:n].astype(np.int64)  # unsorted, gappy ids
    scatter.set_map(ids, xy)
    lasso = wavy_lasso(400)
    scatter.vb.region_selected.emit(lasso, Qt.KeyboardModifier.NoModifier)
    expected = ids[brute_force(xy, lasso)]
    assert len(expected) > 400_000
    assert np.array_equal(np.sort(scatter.session.selection.as_array()), np.sort(expected))
    assert np.array_equal(np.sort(scatter.highlighted("selection")), np.sort(expected))
    box = np.array([[-0.3, -2.0], [0.4, -2.0], [0.4, 1.0], [-0.3, 1.0]])
    scatter.vb.region_selected.emit(box, Qt.KeyboardModifier.NoModifier)
    inside = (xy[:, 0] >= -0.3) & (xy[:, 0] <= 0.4) & (xy[:, 1] >= -2.0) & (xy[:, 1] <= 1.0)
    assert np.array_equal(np.sort(scatter.session.selection.as_array()), np.sort(ids[inside]))
    scatter.plot.grab()
    assert scatter.points.last_mode == "density"


def test_switching_back_to_a_column_shows_labels_changed_meanwhile(scatter: ScatterWidget) -> None:
    ids, xy = two_clusters(1_000)
    scatter.set_map(ids, xy)
    task = dict.fromkeys(ids.tolist(), "a")
    columns = {"Label: task": (task, CLASSES), "Folder": (dict.fromkeys(ids.tolist(), "f"), ["f"])}
    scatter.set_color_options(list(columns), columns.__getitem__, "Label: task")
    scatter.color_combo.setCurrentText("Folder")
    task.update(dict.fromkeys(ids[:10].tolist(), "b"))  # labelled while the map shows another column
    scatter.session.labels_changed.emit("task")
    scatter.color_combo.setCurrentText("Label: task")
    assert scatter.legend.texts() == ["a", "b"]


def test_a_dense_selection_zoomed_in_fills_the_selected_points(scatter: ScatterWidget) -> None:
    ids, xy = two_clusters(20_000)
    scatter.set_map(ids, xy)
    near = np.hypot(xy[:, 0] + 5, xy[:, 1]) < 0.6  # ~2,400 points of cluster a's core: rings would overlap
    scatter.session.selection.set(ids[near])
    scatter.vb.setRange(QRectF(-7.0, -2.0, 4.0, 4.0), padding=0)
    image = scatter.plot.grab().toImage()
    assert scatter.points.last_mode == "points"
    red = QColor(SELECTED).getRgb()[:3]
    hits = [pixel_at(scatter, image, float(x), float(y)).getRgb()[:3] == red for x, y in xy[near][:50]]
    assert sum(hits) >= 45  # every selected point is drawn in the selection's colour (a few under others)
    outside = xy[np.hypot(xy[:, 0] + 5, xy[:, 1]) > 0.8][:50]
    assert not any(pixel_at(scatter, image, float(x), float(y)).getRgb()[:3] == red for x, y in outside)
