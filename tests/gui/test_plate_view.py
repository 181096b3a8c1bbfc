"""The Plates tab: grid colours from scores and predictions, drops over time, keyboard scoring with undo,
review queue order and filters, MARCO job cancel and the not-installed message, per-plate exports.

Predictions are written directly (model id ``test``): the real MARCO model never runs here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from plate_images import all_wells, write_plate_series
from PySide6.QtCore import Qt

from micview.core.store.annotations import Prediction
from micview.core.tasks import Progress

DAY1, DAY2 = "2024-01-05", "2024-01-12"


@pytest.fixture(scope="session")
def plate_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """P96: all 96 wells on DAY2 (A1–B12 also on DAY1), one drop; P2: every 5th well, 2 drops, both days."""
    from micview.core.importer import add_folder
    from micview.core.store import Project
    from micview.core.tasks import run_task

    root = tmp_path_factory.mktemp("plates") / "imgs"
    wells = all_wells()
    write_plate_series(root, "P96", wells[:24], days=(DAY1,))
    write_plate_series(root, "P96", wells, days=(DAY2,))
    write_plate_series(root, "P2", wells[::5], drops=2, days=(DAY1, DAY2))
    with Project.create(root / "plates.micview") as project:
        run_task(add_folder(project, root, workers=1))
    return root


@pytest.fixture
def plates(qtbot, window, tmp_path: Path, plate_project: Path):
    """The window on a copy of the plate project, Plates tab shown, with predictions written."""
    root = Path(shutil.copytree(plate_project, tmp_path / "imgs"))
    assert window.open_project(root / "plates.micview")
    ids = _ids(window.project)
    preds = [Prediction(i, "clear", 0.9, {"clear": 0.9}) for (plate, _w, _d, day), i in ids.items() if day == DAY2]
    preds += [
        Prediction(ids["P96", "A1", "1", DAY2], "crystals", 0.95, {"crystals": 0.95}),
        Prediction(ids["P96", "A2", "1", DAY2], "crystals", 0.6, {"crystals": 0.6}),
        Prediction(ids["P96", "A3", "1", DAY2], "clear", 0.3, {"clear": 0.3}),
        Prediction(ids["P96", "A4", "1", DAY2], "precipitate", 0.9, {"precipitate": 0.9}),
        Prediction(ids["P96", "A5", "1", DAY1], "clear", 0.8, {"clear": 0.8}),
        Prediction(ids["P96", "A5", "1", DAY2], "precipitate", 0.7, {"precipitate": 0.7}),
        Prediction(ids["P96", "A6", "1", DAY1], "clear", 0.9, {"clear": 0.9}),  # same as DAY2: unchanged
    ]
    window.project.labels.add_predictions("outcome", preds, model_id="test")
    window.central_tabs.setCurrentWidget(window.plate_view)
    view = window.plate_view
    view.reload()
    view.plate_combo.setCurrentText("P96")
    qtbot.waitUntil(lambda: len(view.states) == 96)
    view.ids = ids
    return view


def _ids(project) -> dict[tuple[str, str, str, str], int]:
    from micview.core.plates import project_plates

    index = project_plates(project, "generic")
    return {(d.plate, d.well, d.drop, d.time): d.image_id for p in index.plates.values() for d in p.drops}


def _hue(color) -> float:
    return color.getHsvF()[0]


def test_grid_layout_colours_and_missing_wells(plates):
    from micview.gui.plates.grid import class_color, well_color

    view = plates
    assert [view.plate_combo.itemText(i) for i in range(view.plate_combo.count())] == ["P2", "P96"]
    assert view.grid.layout_size == 96 and "H12" in view.states
    a1, a3 = view.states["A1"], view.states["A3"]
    assert (a1.label, a1.scored) == ("crystals", False)
    crystals = well_color(a1, view.classes)
    assert abs(_hue(crystals) - _hue(class_color("crystals", view.classes))) < 0.01
    assert well_color(a3, view.classes).saturationF() < crystals.saturationF()  # low confidence is paler
    view.session.project.labels.set([view.ids["P96", "A1", "1", DAY2]], "outcome", "precipitate")
    view.session.labels_changed.emit("outcome")
    assert (view.states["A1"].label, view.states["A1"].scored) == ("precipitate", True)  # the user wins
    assert well_color(view.states["A1"], view.classes) == class_color("precipitate", view.classes)
    assert "Scored by you: <b>1</b> · unscored: <b>95</b>" in view.review.legend.text()
    view.plate_combo.setCurrentText("P2")
    assert len(view.states) == 20 and view.grid.layout_size == 96
    assert "A2" not in view.states and "76 without images" in view.summary.text()


def test_clicking_a_well_shows_its_drops_over_time(qtbot, plates):
    view = plates
    view.plate_combo.setCurrentText("P2")
    centre = view.grid.well_rect("A6").center().toPoint()
    qtbot.mouseClick(view.grid, Qt.MouseButton.LeftButton, pos=centre)
    assert view.current == "A6"
    tiles = view.drops.tiles
    assert len(tiles) == 4  # 2 drops × 2 time points
    assert [t.text().split("\n")[0] for t in tiles] == [DAY1, DAY2, DAY1, DAY2]  # newest last, per drop
    assert "clear 90% (model)" in tiles[1].text() and "not scored" in tiles[0].text()
    assert tiles[0].icon().isNull() is False
    qtbot.mouseDClick(view.grid, Qt.MouseButton.LeftButton, pos=centre)
    assert view.window().viewer is not None and view.window().viewer.isVisible()


def test_keyboard_scoring_96_keystrokes_score_96_wells_and_undo(qtbot, plates):
    view = plates
    view.set_scoring(True)
    assert view.current == "A1" and view.grid.scoring
    for _ in range(96):
        qtbot.keyClick(view.grid, Qt.Key.Key_2)  # "crystals", the second MARCO key
    assert view.keystrokes == 96
    labels = view.session.project.labels.labels("outcome")
    latest = [view.ids["P96", w, "1", DAY2] for w in view.states]
    assert all(labels.get(i) == "crystals" for i in latest)  # 96 keystrokes scored all 96 wells
    assert view.ids["P96", "A1", "1", DAY1] not in labels  # older time points are left alone
    assert all(s.scored for s in view.states.values())
    edit = next(a for a in view.window().menuBar().actions() if a.text() == "&Edit").menu()
    undo = next(a for a in edit.actions() if a.text().startswith("Undo"))
    assert undo.shortcut().toString() == "Ctrl+Z" and "H12" in undo.text()  # the window's one undo stack
    undo.trigger()
    assert view.states["H12"].scored is False and view.states["H11"].scored is True
    assert view.current == "H12"  # undo returns to the well
    qtbot.keyClick(view.grid, Qt.Key.Key_1)
    assert view.session.project.labels.labels("outcome")[view.ids["P96", "H12", "1", DAY2]] == "clear"
    view.go_to("A1")
    qtbot.keyClick(view.grid, Qt.Key.Key_0)  # clears, moves on
    assert view.states["A1"].scored is False and view.current == "A2"


def test_lab_scale_gives_its_own_keys(qtbot, plates):
    view = plates
    view.session.project.labels.define_task("outcome", ["clear", "skin", "microcrystals", "crystals", "phase"])
    view.reload()
    view.set_scoring(True)
    assert "<b>5</b> phase" in view.keys_hint.text()
    qtbot.keyClick(view.grid, Qt.Key.Key_5)
    assert view.states["A1"].label == "phase"


def test_review_order_puts_likely_crystals_then_low_confidence_first(plates):
    view = plates
    view.review.order_combo.setCurrentText("Review order")
    assert view.review.wells[:4] == ["A1", "A2", "A3", "A5"]  # crystals .95, .6; then clear .3, precipitate .7
    view.review.filter_combo.setCurrentText("Predicted crystals")
    assert view.review.wells == ["A1", "A2"]
    assert view.grid.highlighted == {"A1", "A2"}
    view.set_scoring(True)
    view.score_current(3)  # "other" on A1: scored wells go last in review order
    view.review.filter_combo.setCurrentText("Unscored")
    assert "A1" not in view.review.wells and view.review.wells[0] == "A2"


def test_changed_since_previous_time_point(plates):
    view = plates
    view.review.filter_combo.setCurrentText("Changed since previous time point")
    assert view.review.wells == ["A5"]  # prediction clear → precipitate; A6 stayed clear
    labels = view.session.project.labels
    labels.set([view.ids["P96", "B1", "1", DAY1]], "outcome", "clear")
    labels.set([view.ids["P96", "B1", "1", DAY2]], "outcome", "crystals")
    view.session.labels_changed.emit("outcome")
    view.review.rebuild()
    assert view.review.wells == ["A5", "B1"]


def test_scoring_job_progress_and_cancel(qtbot, plates):
    import threading

    release = threading.Event()

    def slow(path, plate, pattern):
        for i in range(200):
            yield Progress(i, 200, f"drop {i}")
            release.wait(0.05)
        return None

    view = plates
    view.score_factory = slow
    job = view.score_with_marco()
    assert job is not None and job.pool == "model" and not view.cancel_button.isHidden()
    qtbot.waitUntil(lambda: job.progress.done >= 1, timeout=5_000)
    with qtbot.waitSignal(job.finished, timeout=5_000):
        qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    assert job.state == "cancelled" and view.cancel_button.isHidden() and view.marco_button.isEnabled()
    assert "cancelled" in view.summary.text()


def test_marco_not_installed_names_the_command(plates):
    view = plates
    assert view.score_with_marco() is None
    assert "micview models add marco" in view.session.errors.last.message


def test_exports_csv_and_png(tmp_path, plates):
    view = plates
    assert view.export_csv(tmp_path / "p96.csv") == 120
    assert (tmp_path / "p96.csv").read_text(encoding="utf-8-sig").startswith("plate,well,drop,time,outcome")
    assert view.export_png(tmp_path / "p96.png").stat().st_size > 1000


def test_window_opens_plates_from_the_view_menu(qtbot, project_window):
    w = project_window  # the generated sample: its names hold no wells
    view_menu = next(a for a in w.menuBar().actions() if a.text() == "&View").menu()
    next(a for a in view_menu.actions() if a.text() == "Plates").trigger()
    assert w.central_tabs.currentWidget() is w.plate_view
    assert "No plates" in w.plate_view.summary.text() and not w.plate_view.marco_button.isEnabled()


def test_learn_my_scores_repredicts_every_drop_from_the_users_scores(qtbot, plates):
    """The recalibration job: few-shot on the user's scores, through the job system, on real features.

    MARCO itself is not available here, so the offline default model's features stand in for its 1056-d ones
    (the code path is the same: embed with the model, then the classify machinery).
    """
    view = plates
    project = view.session.project
    ids = view.ids
    scored = {ids["P96", w, "1", DAY2]: lab for w, lab in [("A1", "crystals"), ("A2", "crystals"), ("B1", "clear"),
                                                            ("B2", "clear"), ("C1", "clear")]}  # fmt: skip
    project.labels.set_many("outcome", scored)
    view.recalibrate_model = "effnet-lite0"
    job = view.learn_scores()
    assert job is not None and job.pool == "model"
    with qtbot.waitSignal(job.finished, timeout=120_000):
        pass
    assert job.state == "done", view.session.errors.last
    preds = project.labels.current("outcome", "model")
    assert len(preds) == project.images.count()  # every drop, every time point
    assert {p.model_id for p in preds.values()} == {"effnet-lite0"}
    assert all(set(p.scores or {}) == {"clear", "crystals"} for p in preds.values())
    assert project.labels.labels("outcome") == scored  # the user's scores are untouched
    assert "Learnt from 5 scored drops" in view.summary.text()
