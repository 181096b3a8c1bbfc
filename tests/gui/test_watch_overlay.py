"""What watch mode draws on the map: the NEW rings are the map's own exact mark, and the wells' trajectories are
drawn through their images' places on whichever map is shown."""

from __future__ import annotations

import numpy as np

from micview.core.watch.arrival import Arrival
from micview.core.watch.wells import Trajectory
from micview.gui.scatter import ScatterWidget
from micview.gui.session import Session
from micview.gui.state import MapData
from micview.gui.watch_overlay import NEW, WatchOverlay
from micview.gui.watch_state import watch_state


def test_rings_mark_the_new_images_and_trajectories_follow_the_shown_map(qtbot) -> None:
    session = Session()
    scatter = ScatterWidget(session)
    qtbot.addWidget(scatter)
    overlay = WatchOverlay(session, scatter)
    ids = np.arange(1, 201, dtype=np.int64)
    xy = np.random.default_rng(0).normal(size=(200, 2)).astype(np.float32)
    session.map.set_data(MapData(ids, xy, "pca", "m", "PCA"))
    state = watch_state(session)

    state.add([Arrival(7, "/d/a.png", "a.png"), Arrival(9_999, "/d/b.png", "b.png")], [])
    assert scatter.highlighted("new").tolist() == [7], "exactly the new images on the map"
    assert scatter.marks._marks["new"].style == NEW
    session.map.append(np.array([9_999]), np.array([[0.5, 0.5]]))
    assert scatter.highlighted("new").tolist() == [7, 9_999], "a new point is ringed as it is added"

    drop = Trajectory("P1", "A1", "1", np.array([3, 5, 9_999]), xy[[2, 4, 0]], ("t1", "t2", "t3"))
    state.trajectories = [drop]
    state.changed.emit()
    (path,) = overlay.paths
    x, y = path.getData()
    assert np.allclose(np.c_[x, y], [xy[2], xy[4], [0.5, 0.5]])
    session.map.set_data(MapData(ids, xy * 3, "umap", "m", "UMAP"))  # another map: 9 999 is not on it
    (path,) = overlay.paths
    x, y = path.getData()
    assert np.allclose(np.c_[x, y], [xy[2] * 3, xy[4] * 3]), "the same drop, where this map has its images"
    assert scatter.highlighted("new").tolist() == [7]

    state.clear_new()
    assert scatter.highlighted("new").tolist() == []
