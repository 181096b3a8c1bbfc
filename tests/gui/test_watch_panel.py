"""Watch mode in the window: the toggle, a new image's point and "new" highlight, the alert list, stopping."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image


def watch_panel(window):
    from micview.gui.panels.watch_panel import WatchPanel

    for i in range(window.side_panel.count()):
        if window.side_panel.tabText(i) == "Watch":
            panel = window.side_panel.panel(i)
            assert isinstance(panel, WatchPanel)
            return panel
    raise AssertionError("no Watch tab")


@pytest.mark.slow
def test_toggle_watches_a_folder_highlights_new_images_and_lists_alerts(qtbot, embedded_window, tmp_path):
    from PySide6.QtCore import QRectF, Qt

    from micview.gui.watch_state import watch_state

    w = embedded_window
    project = w.session.project
    rows = project.images.all(status="ok")
    project.labels.set([r.id for r in rows[:3]], "kind", "grains")
    project.labels.set([r.id for r in rows[6:9]], "kind", "lamellae")
    w.session.task.set("kind", ["grains", "lamellae"])
    before = dict(zip(w.scatter.ids.tolist(), w.scatter.xy.tolist(), strict=True))
    x0, y0 = w.scatter.xy.min(axis=0)
    x1, y1 = w.scatter.xy.max(axis=0)
    w.scatter.vb.setRange(QRectF(x0, y0, (x1 - x0) / 2, (y1 - y0) / 2), padding=0)  # zoomed into a corner
    view = w.scatter.vb.viewRange()
    set_maps: list[object] = []
    w.scatter.set_map = lambda *a, **k: set_maps.append(a)  # type: ignore[method-assign]
    state = watch_state(w.session)
    panel = watch_panel(w)
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    panel.folder.setText(str(incoming))
    panel.rules.setText("far>0; grains>=0")
    qtbot.mouseClick(panel.toggle, Qt.MouseButton.LeftButton)
    assert state.running and panel.toggle.text() == "Stop watching"
    qtbot.waitUntil(lambda: state.status.startswith("Watching"), timeout=60_000)

    rng = np.random.default_rng(5)
    Image.fromarray(rng.integers(0, 255, (96, 96, 3), np.uint8)).save(incoming / "fresh.png")
    qtbot.waitUntil(lambda: len(state.new_ids) == 1, timeout=60_000)
    (new_id,) = state.new_ids
    qtbot.waitUntil(lambda: len(w.session.catalog) == 13)  # the grid's rows follow the map's point
    assert w.session.catalog.row(new_id).name == "fresh.png"
    qtbot.waitUntil(lambda: len(w.scatter.ids) == 13)
    after = dict(zip(w.scatter.ids.tolist(), w.scatter.xy.tolist(), strict=True))
    assert all(after[i] == xy for i, xy in before.items()), "existing points never move"
    assert w.scatter.vb.viewRange() == view and not set_maps, "the map was added to, not redrawn: the zoom stays"
    assert w.scatter.highlighted("new").tolist() == [new_id], "the new ring marks exactly the new point"
    arrival = state.arrivals[0]
    assert w.scatter.positions([new_id])[1][0].tolist() == pytest.approx(list(arrival.xy))
    assert len(w.map_panel.watch_overlay.new_points()) == 1
    assert w.browser.delegate.is_new(new_id) and not w.browser.delegate.is_new(rows[0].id)
    assert panel.alerts.count() >= 1 and "fresh.png" in panel.alerts.item(0).text()
    assert "Alert" in w.notice_bar.label.text()
    assert w.session.project.labels.current("kind", "model")[new_id].label in {"grains", "lamellae"}

    panel.alerts.itemDoubleClicked.emit(panel.alerts.item(0))
    assert w.session.selection.ids == (new_id,)
    qtbot.mouseClick(panel.seen, Qt.MouseButton.LeftButton)
    assert not state.new_ids and len(w.map_panel.watch_overlay.new_points()) == 0
    assert w.scatter.highlighted("new").tolist() == []
    assert not w.browser.delegate.is_new(new_id)

    qtbot.mouseClick(panel.toggle, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not state.running, timeout=30_000)
    assert panel.toggle.text() == "Watch"


def test_watch_without_a_folder_or_with_a_bad_rule_says_why(qtbot, project_window):
    from PySide6.QtCore import Qt

    from micview.gui.watch_state import watch_state

    w = project_window
    panel = watch_panel(w)
    qtbot.mouseClick(panel.toggle, Qt.MouseButton.LeftButton)
    assert not watch_state(w.session).running and not panel.toggle.isChecked()
    assert "Choose the folder" in w.session.errors.last.message
    panel.folder.setText(str(w.session.project.path.parent))
    panel.rules.setText("crystals>=7")
    qtbot.mouseClick(panel.toggle, Qt.MouseButton.LeftButton)
    assert not watch_state(w.session).running and "not understood" in w.session.errors.last.message


def test_the_grid_rows_of_new_images_wait_while_the_last_change_was_costly(qtbot, project_window):
    """On a big project a catalog change costs half a second: the next waits so that changes take at most a
    quarter of the GUI thread's time (the map's point does not wait); a closed project's rows never arrive."""
    import time

    from micview.core.watch.arrival import Arrival
    from micview.gui.controllers.watch import WatchController

    w = project_window
    catalog, rows = w.session.catalog, w.session.catalog.rows
    catalog.set_rows(rows[:-2])  # the last two play the images that arrive
    arrivals = [Arrival(r.id, r.path, r.name) for r in rows[-2:]]
    controller = WatchController(w.session)
    controller._rows.add(arrivals[:1])
    qtbot.waitUntil(lambda: len(catalog) == 11)  # cheap so far: at once
    controller._rows.cost, controller._rows.last = 0.5, time.monotonic()
    controller._rows.add(arrivals[1:])
    assert controller._rows.timer.isActive() and controller._rows.timer.remainingTime() > 500  # ~2 s: 0.5 / 0.25
    assert len(catalog) == 11
    qtbot.waitUntil(lambda: len(catalog) == 12, timeout=5_000)
    assert catalog.row(rows[-1].id).name == rows[-1].name

    catalog.set_rows(rows[:-1])
    controller._rows.cost, controller._rows.last = 0.5, time.monotonic()
    controller._rows.add(arrivals[1:])
    w.session.set_project(None)
    qtbot.wait(2_500)
    assert len(catalog) == 0 and not controller._rows.pending
