"""The window on real labelled data (../shared/data/miclib with its manifest's technique and category) at
1280×800, driven as a first-time user would: it fits, every control is reachable, Return searches, the
user's colour-by survives labelling, ``column:value`` finds real columns, and finished jobs free their results.
"""

from __future__ import annotations

import gc
import shutil
import weakref
from pathlib import Path

import pytest
from gui_helpers import wait_job
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QWidget

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]
SIZE = (1280, 800)


@pytest.fixture(scope="session")
def miclib_project(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """miclib imported (images stay where they are), its manifest's labels, and default-model vectors."""
    from micview.core.csv_io import import_labels
    from micview.core.importer import add_folder
    from micview.core.store import Project
    from micview.core.tasks import run_task
    from micview.ml.embedding import embed_project

    path = tmp_path_factory.mktemp("miclib") / "miclib.micview"
    with Project.create(path) as project:
        run_task(add_folder(project, shared_data / "miclib" / "images"))
        import_labels(project, shared_data / "miclib" / "manifest.csv", tasks=["technique", "category"])
        run_task(embed_project(project, "effnet-lite0"))
    return path


@pytest.fixture
def miclib_window(qtbot, window, miclib_project: Path, tmp_path: Path):
    copy = Path(shutil.copy(miclib_project, tmp_path / "miclib.micview"))
    window.resize(*SIZE)
    assert window.open_project(copy)
    window.ctl.labelling.set_task("technique")
    qtbot.waitUntil(lambda: window.session.map.data is not None, timeout=60_000)
    qtbot.waitUntil(lambda: not window.session.jobs.jobs, timeout=60_000)
    QApplication.processEvents()
    return window


def visible_in(widget: QWidget, window: QWidget) -> bool:
    """Whether all of ``widget`` is inside ``window`` and inside every scroll area's viewport around it."""
    rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
    if not window.rect().contains(rect):
        return False
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        if isinstance(parent, QAbstractScrollArea):
            port = parent.viewport()
            if not QRect(port.mapTo(window, QPoint(0, 0)), port.size()).contains(rect):
                return False
        parent = parent.parentWidget()
    return True


def test_miclib_fits_1280x800_and_every_control_is_reachable(qtbot, miclib_window) -> None:
    w = miclib_window
    s = w.session
    assert len(s.task.classes) == 20 and max(map(len, s.task.classes)) > 60
    assert w.minimumSizeHint().width() <= SIZE[0] and w.width() <= SIZE[0]
    assert w.side_dock.width() >= 250  # the Details dock is not squeezed
    for k, button in enumerate(w.label_bar.key_buttons):  # keys 1-9 stay visible, with their numbers
        assert button.isVisible() and visible_in(button, w) and button.text().startswith(f"{k + 1} ")
    assert w.label_bar.more_button.isVisible()  # classes 10-20 are one click away
    for tab, names in (("Classify", ("task_box", "model_box", "run_button", "eval_button", "suggest_button",
                                     "accept_button", "status")),
                       ("VQA", ("model_box", "load_button", "unload_button", "question", "ask_button",
                                "stop_button", "describe_button", "status"))):  # fmt: skip
        index = next(i for i in range(w.side_panel.count()) if w.side_panel.tabText(i) == tab)
        w.side_panel.setCurrentIndex(index)
        QApplication.processEvents()
        panel = w.side_panel.panel(index)
        for name in names:
            control = getattr(panel, name)
            assert visible_in(control, w), f"{tab}.{name} is outside the visible area"
            assert control.width() >= min(control.minimumSizeHint().width(), 60), f"{tab}.{name} is squeezed"
    w.ctl.labelling.set_task("category")
    QApplication.processEvents()
    assert w.minimumSizeHint().width() <= SIZE[0] and w.width() <= SIZE[0]


def test_return_searches_in_the_search_box_and_opens_the_viewer_from_the_grid(qtbot, miclib_window) -> None:
    w = miclib_window
    s = w.session
    w.search_bar.edit.setFocus()
    qtbot.keyClicks(w.search_bar.edit, "dendrites")
    qtbot.keyClick(w.search_bar.edit, Qt.Key.Key_Return)
    assert s.errors.last is not None and "image-only" in s.errors.last.message  # the search ran (default model)
    assert w.viewer is None  # Return did not open the viewer
    w.browser.text_edit.setFocus()
    qtbot.keyClicks(w.browser.text_edit, "000001")
    qtbot.keyClick(w.browser.text_edit, Qt.Key.Key_Return)
    assert len(w.browser.model.visible) == 1 and w.viewer is None  # the filter applied at once, no viewer
    w.browser.view.setFocus()
    s.selection.set([w.browser.model.id_at(0)])
    qtbot.keyClick(w.browser.view, Qt.Key.Key_Return)
    assert w.viewer is not None and w.viewer.image_id == w.browser.model.id_at(0)


def test_colour_by_survives_labelling_and_undo(qtbot, miclib_window) -> None:
    w = miclib_window
    combo = w.scatter.color_combo
    assert combo.currentText() == "Label: technique"  # follows the active task until the user picks
    combo.setCurrentIndex(combo.findText("Label: category"))
    combo.activated.emit(combo.currentIndex())  # what a user's pick emits
    ids = [r.id for r in w.session.catalog.rows[:3]]
    w.session.selection.set(ids)
    qtbot.keyClick(w, Qt.Key.Key_2)
    assert w.project.labels.labels("technique")[ids[0]] == w.session.task.classes[1]
    assert combo.currentText() == "Label: category"
    w.session.undo_stack.undo()
    w.ctl.labelling.set_task("category")
    assert combo.currentText() == "Label: category"


def test_column_filters_find_labels_metadata_and_say_why_not(qtbot, miclib_window, shared_data: Path) -> None:
    import csv

    w = miclib_window
    b = w.browser
    with (shared_data / "miclib" / "manifest.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))

    def shown(text: str) -> int:
        b.text_edit.setText(text)
        b.text_edit.returnPressed.emit()
        return len(b.model.visible)

    sem = sum("sem" in r["technique"].lower() for r in rows)
    assert sem > 0 and shown("technique:SEM") == sem
    assert shown('technique:"reflected light"') == sum("reflected light" in r["technique"].lower() for r in rows)
    assert shown("contributor:clyne") == sum("clyne" in r["contributor"].lower() for r in rows) > 0
    assert shown("category=ceramic") == sum(r["category"].lower() == "ceramic" for r in rows) > 0
    assert shown("width>400") == sum((r.width or 0) > 400 for r in w.session.catalog.rows)
    assert shown("technique:xyz") == 0 and "technique" in b.hint.text() and b.hint.isVisibleTo(w)
    assert shown("colour:red") == 0 and "No column named “colour”" in b.hint.text()
    assert shown("") == len(rows) and not b.hint.isVisibleTo(w)


def test_a_finished_jobs_result_is_freed(qtbot, miclib_window) -> None:
    w = miclib_window
    s = w.session
    row = s.catalog.rows[0]
    refs: list[weakref.ref] = []
    job = w.ctl.viewer.read_frame(w.ctl.viewer.path_of(row.id), 0, lambda arr: refs.append(weakref.ref(arr)),
                                  lambda msg, _d: pytest.fail(msg))  # fmt: skip
    wait_job(qtbot, job)
    assert job.result is None and job not in s.jobs.jobs and s.jobs.history[0].title == job.title
    gc.collect()
    assert len(refs) == 1 and refs[0]() is None  # the full-resolution frame went with the job
