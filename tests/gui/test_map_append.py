"""Points added to a shown map (watch mode's new images): nothing else moves, the zoom stays, colours, picking,
selection and marks stay exact — checked against a map made whole from the start."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage

from micview.gui.map import colouring
from micview.gui.map.density import Binned
from micview.gui.map.marks import MarkStyle
from micview.gui.map.point_index import PointPicker, RowIndex
from micview.gui.palette import color_for
from micview.gui.scatter import ScatterWidget
from micview.gui.session import Session
from micview.gui.state import MapData

CLASSES = ["a", "b"]


@pytest.fixture
def scatter(qtbot) -> ScatterWidget:
    widget = ScatterWidget(Session())
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    return widget


def two_clusters(n: int, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xy = rng.normal(scale=0.8, size=(n, 2)).astype(np.float32)
    xy[: n // 2, 0] -= 5
    xy[n // 2 :, 0] += 5
    return np.arange(1, n + 1, dtype=np.int64), xy


def pixel_at(widget: ScatterWidget, image: QImage, x: float, y: float) -> QColor:
    point = widget.plot.mapFromScene(widget.vb.mapViewToScene(QPointF(x, y)))
    return image.pixelColor(point.x(), point.y())


class Column:
    """A "Colour by" column whose values can grow, with the part provider the map panel gives the scatter."""

    def __init__(self, values: dict[int, object], classes: list[str] | None) -> None:
        self.values, self.classes, self.reads, self.parts = values, classes, 0, 0

    def whole(self, _name: str) -> tuple[dict[int, object], list[str] | None]:
        self.reads += 1
        return dict(self.values), self.classes

    def part(self, _name: str, ids: np.ndarray) -> dict[int, object]:
        self.parts += 1
        return {int(i): self.values[int(i)] for i in ids if int(i) in self.values}


def coloured(scatter: ScatterWidget, ids: np.ndarray, classes: list[str] | None = CLASSES) -> Column:
    column = Column({int(i): ("a" if i <= len(ids) // 2 else "b") for i in ids[::3]}, classes)
    scatter.columns_of = column.part
    scatter.set_color_options(["Label: cluster"], column.whole, "Label: cluster")
    return column


def test_appended_points_keep_the_zoom_every_other_point_and_its_colour(scatter: ScatterWidget) -> None:
    ids, xy = two_clusters(20_000)
    scatter.set_map(ids, xy)
    column = coloured(scatter, ids)
    scatter.vb.setRange(QRectF(3.0, -1.0, 2.0, 1.5), padding=0)  # zoomed into cluster b
    view = np.array(scatter.vb.viewRange())
    x, y, codes = scatter.points.x.copy(), scatter.points.y.copy(), scatter.points.colouring.codes.copy()
    reads = column.reads

    new_ids = np.array([30_001, 30_002, 30_003], np.int64)
    new_xy = np.array([[4.0, -0.5], [20.0, 20.0], [3.5, 0.0]], np.float32)  # one far outside the map
    column.values.update({30_001: "b", 30_003: "a"})
    scatter.append_points(new_ids, new_xy)

    assert np.array_equal(np.array(scatter.vb.viewRange()), view), "the zoom stays"
    assert np.array_equal(scatter.points.x[: len(ids)], x) and np.array_equal(scatter.points.y[: len(ids)], y)
    assert np.array_equal(scatter.points.colouring.codes[: len(ids)], codes)
    assert scatter.ids[len(ids) :].tolist() == new_ids.tolist() and np.array_equal(scatter.xy[len(ids) :], new_xy)
    assert column.reads == reads and column.parts == 1, "only the new points' values were read"
    whole = colouring.categorical(RowIndex(scatter.ids), column.values, CLASSES)
    assert np.array_equal(scatter.points.colouring.codes, whole.codes), "as if the map had them from the start"
    assert scatter.legend.texts() == [t for t, _ in whole.entries]
    image = scatter.plot.grab().toImage()
    assert pixel_at(scatter, image, 4.0, -0.5).getRgb()[:3] == color_for("b", CLASSES).getRgb()[:3]
    assert pixel_at(scatter, image, 3.5, 0.0).getRgb()[:3] == color_for("a", CLASSES).getRgb()[:3]


def test_a_value_the_map_has_no_colour_for_colours_the_whole_column_again(scatter: ScatterWidget) -> None:
    ids, xy = two_clusters(2_000)
    scatter.set_map(ids, xy)
    column = coloured(scatter, ids)
    reads = column.reads
    column.values[5_001] = "c"  # a class no point had
    scatter.append_points(np.array([5_001]), np.array([[0.0, 0.0]]))
    assert column.reads == reads + 1
    assert "c" in scatter.legend.texts()
    assert np.array_equal(
        scatter.points.colouring.codes, colouring.categorical(RowIndex(scatter.ids), column.values, CLASSES).codes
    )


def test_a_numeric_column_is_read_again_and_a_plain_map_needs_nothing(scatter: ScatterWidget) -> None:
    ids, xy = two_clusters(1_000)
    scatter.set_map(ids, xy)
    column = Column({int(i): float(i) for i in ids}, None)
    scatter.columns_of = column.part
    scatter.set_color_options(["Field: size"], column.whole, "Field: size")
    column.values[1_001] = 5000.0
    scatter.append_points(np.array([1_001]), np.array([[0.0, 0.0]]))
    assert column.reads == 2  # the ramp's ends may move
    assert np.array_equal(scatter.points.colouring.codes, colouring.numeric(RowIndex(scatter.ids), column.values).codes)

    plain = ScatterWidget(Session())
    plain.set_map(ids, xy)
    plain.append_points(np.array([1_001]), np.array([[0.0, 0.0]]))
    assert len(plain.points.colouring.codes) == 1_001 and not plain.points.colouring.codes.any()


def test_picking_selecting_and_marking_stay_exact_after_appends(scatter: ScatterWidget) -> None:
    ids, xy = two_clusters(20_000)
    scatter.set_map(ids, xy)
    rng = np.random.default_rng(7)
    new_ids = np.arange(100_001, 100_301, dtype=np.int64)
    new_xy = rng.uniform(-8, 8, (300, 2)).astype(np.float32)
    for k in range(0, 300, 30):  # ten arrivals
        scatter.append_points(new_ids[k : k + 30], new_xy[k : k + 30])
    every = np.vstack([xy, new_xy]).astype(np.float64)
    pixel = (0.01, 0.02)
    picker = scatter._picker
    assert picker is not None
    for qx, qy in np.vstack([new_xy[:100], rng.uniform(-8, 8, (100, 2))]):
        d = np.hypot((every[:, 0] - qx) / pixel[0], (every[:, 1] - qy) / pixel[1])
        assert picker.nearest(float(qx), float(qy), pixel, 8.0) == (int(np.argmin(d)) if d.min() <= 8 else None)

    box = np.array([[-1.0, -8.0], [8.0, -8.0], [8.0, 8.0], [-1.0, 8.0]])
    scatter.vb.region_selected.emit(box, Qt.KeyboardModifier.NoModifier)
    inside = (every[:, 0] >= -1) & (every[:, 0] <= 8) & (np.abs(every[:, 1]) <= 8)
    assert set(scatter.session.selection.ids) == set(scatter.ids[inside].tolist())

    scatter.highlight([*new_ids[::50].tolist(), 7, 999_999], MarkStyle("#ffb020", pad=12), key="new")
    assert scatter.highlighted("new").tolist() == [7, *new_ids[::50].tolist()]
    found, where = scatter.positions(new_ids[:3])
    assert found.all() and np.array_equal(where, new_xy[:3])


def test_a_picker_rebuilds_its_tree_once_many_points_were_added() -> None:
    rng = np.random.default_rng(1)
    base = PointPicker(rng.uniform(0, 1, (1_000, 2)))
    grown = base.append(rng.uniform(0, 1, (PointPicker.EXTRA_MOST, 2)))
    assert grown._in_tree == 1_000 and base.xy.shape == (1_000, 2)  # the old picker is left as it was
    rebuilt = grown.append(rng.uniform(0, 1, (1, 2)))
    assert rebuilt._in_tree == len(rebuilt.xy) == 1_000 + PointPicker.EXTRA_MOST + 1


def test_zoomed_out_the_density_picture_counts_the_appended_points(scatter: ScatterWidget) -> None:
    ids, xy = two_clusters(200_000)
    scatter.set_map(ids, xy)
    coloured(scatter, ids)
    scatter.plot.grab()
    assert scatter.points.last_mode == "density"
    far = np.random.default_rng(3).normal([0.0, 6.0], 0.3, (2_000, 2)).astype(np.float32)
    scatter.append_points(np.arange(300_001, 302_001), far)
    image = scatter.plot.grab().toImage()
    binned = scatter.points._binned
    assert binned is not None
    whole = Binned.of(binned.grid, scatter.points.x, scatter.points.y)
    assert np.array_equal(binned.bins, whole.bins) and np.array_equal(binned.total, whole.total)
    assert np.array_equal(binned.alpha, whole.alpha)
    assert pixel_at(scatter, image, 0.0, 6.0).getRgb()[:3] != (0x17, 0x18, 0x1B), "the new points are drawn"


def test_the_session_map_grows_by_appended_not_changed(scatter: ScatterWidget, qtbot) -> None:
    ids, xy = two_clusters(1_000)
    state = scatter.session.map
    state.set_data(MapData(ids, xy, "umap", "m", "UMAP"))
    scatter.vb.setRange(QRectF(-6.0, -1.0, 2.0, 2.0), padding=0)
    view = np.array(scatter.vb.viewRange())
    changed: list[int] = []
    state.changed.connect(lambda: changed.append(1))
    with qtbot.waitSignal(state.appended):
        state.append(np.array([2_001, 2_002]), np.array([[0.0, 0.0], [1.0, 1.0]]), "UMAP · 2 new")
    assert not changed and len(state.data.ids) == len(scatter.ids) == 1_002
    assert np.array_equal(np.array(scatter.vb.viewRange()), view) and np.array_equal(scatter.xy[:1_000], xy)
    assert "2 new" in scatter.status.text()
