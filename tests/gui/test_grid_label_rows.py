"""A label write updates the grid's rows of the images it labelled — dataChanged on those rows, rows that leave
or enter a label filter removed or inserted in place — and never resets the model; the labels shown are right
after a write, undo, redo, an import and a task switch."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_label_import_report import import_and_wait, write_rows

from micview.gui.browser.model import LABEL_ROLE

CLASSES = ["grains", "particles", "lamellae"]


class ModelSignals:
    """Rows named by dataChanged / rowsRemoved / rowsInserted, and the resets, of the grid's model."""

    def __init__(self, model) -> None:
        self.changed: set[int] = set()
        self.removed = 0
        self.inserted = 0
        self.resets = 0
        model.dataChanged.connect(lambda a, b, _roles=(): self.changed.update(range(a.row(), b.row() + 1)))
        model.rowsRemoved.connect(lambda _p, a, b: setattr(self, "removed", self.removed + b - a + 1))
        model.rowsInserted.connect(lambda _p, a, b: setattr(self, "inserted", self.inserted + b - a + 1))
        model.modelReset.connect(lambda: setattr(self, "resets", self.resets + 1))

    def clear(self) -> None:
        self.changed.clear()
        self.removed = self.inserted = self.resets = 0


@pytest.fixture
def labelled(project_window):
    w = project_window
    w.ctl.labelling.define("structure", CLASSES)
    return w


def shown_labels(w) -> dict[int, str | None]:
    """What each visible row of the grid shows as its label, by image id."""
    m = w.browser.model
    return {m.id_at(r): m.data(m.index(r), LABEL_ROLE) for r in range(m.rowCount())}


def stored(w) -> dict[int, str]:
    return w.project.labels.labels("structure")


def test_a_label_write_changes_only_its_rows_and_undo_redo_follow(labelled) -> None:
    w = labelled
    m = w.browser.model
    rows = [1, 2, 7]
    ids = [m.id_at(r) for r in rows]
    signals = ModelSignals(m)
    w.session.selection.set(ids)
    assert w.ctl.labelling.assign(1)
    assert signals.changed == set(rows) and signals.resets == 0
    assert {i: v for i, v in shown_labels(w).items() if v} == dict.fromkeys(ids, "particles") == stored(w)
    signals.clear()
    w.session.selection.set(ids[:1])
    assert w.ctl.labelling.assign(2)
    assert signals.changed == {1} and signals.resets == 0
    assert shown_labels(w)[ids[0]] == "lamellae"
    signals.clear()
    w.session.undo_stack.undo()
    assert signals.changed == {1} and signals.resets == 0
    assert shown_labels(w)[ids[0]] == "particles"
    w.session.undo_stack.undo()
    assert signals.changed == set(rows) and signals.resets == 0
    assert all(v is None for v in shown_labels(w).values()) and stored(w) == {}
    w.session.undo_stack.redo()
    assert {i: v for i, v in shown_labels(w).items() if v} == dict.fromkeys(ids, "particles") == stored(w)
    assert signals.resets == 0 and signals.removed == signals.inserted == 0


def test_rows_leave_and_enter_a_label_filter_in_place(qtbot, labelled) -> None:
    w = labelled
    b, m = w.browser, w.browser.model
    grains = [m.id_at(r) for r in range(0, 8, 2)]  # four images, not next to each other
    w.session.selection.set(grains)
    w.ctl.labelling.assign(0)
    b.label_combo.setCurrentIndex(b.label_combo.findData("grains"))
    assert sorted(shown_labels(w)) == sorted(grains)
    signals = ModelSignals(m)
    w.session.selection.set(grains[1:3])
    w.ctl.labelling.assign(1)  # they are particles now: they leave the "grains" view
    assert list(shown_labels(w)) == [grains[0], grains[3]]
    assert signals.removed == 2 and signals.inserted == 0 and signals.resets == 0
    assert b.count_label.text().startswith("2 of 12")
    assert list(w.session.shown.ids) == [grains[0], grains[3]]
    signals.clear()
    w.session.undo_stack.undo()  # back in, at their places
    assert list(shown_labels(w)) == grains and set(shown_labels(w).values()) == {"grains"}
    assert signals.inserted == 2 and signals.removed == 0 and signals.resets == 0
    selected = {m.id_at(i.row()) for i in b.view.selectionModel().selectedIndexes()}
    assert selected == set(grains[1:3])  # still the session's selection
    w.session.undo_stack.redo()
    assert list(shown_labels(w)) == [grains[0], grains[3]] and signals.resets == 0
    b.label_combo.setCurrentIndex(b.label_combo.findData("particles"))
    assert list(shown_labels(w)) == grains[1:3]


def test_a_column_filter_on_the_task_follows_a_write(qtbot, labelled) -> None:
    w = labelled
    b, m = w.browser, w.browser.model
    first = [m.id_at(r) for r in (0, 5)]
    w.session.selection.set(first)
    w.ctl.labelling.assign(2)
    b.text_edit.setText("structure:lamellae")
    b.text_edit.returnPressed.emit()
    assert list(shown_labels(w)) == first
    signals = ModelSignals(m)
    later = [r.id for r in m.rows if r.id not in first][:3]
    w.session.selection.set(later)
    w.ctl.labelling.assign(2)  # they enter the view, in the grid's order
    order = [r.id for r in m.rows]
    assert list(shown_labels(w)) == sorted([*first, *later], key=order.index)
    assert signals.inserted == 3 and signals.resets == 0
    w.session.selection.set(first[:1])
    w.ctl.labelling.remove()
    assert first[0] not in shown_labels(w) and signals.removed == 1 and signals.resets == 0
    assert w.browser.hint.isHidden()


def test_another_task_written_leaves_the_grid_alone_and_a_switch_shows_its_labels(labelled) -> None:
    w = labelled
    m = w.browser.model
    ids = [m.id_at(r) for r in range(3)]
    w.ctl.labelling.define("quality", ["good", "poor"])  # now the active task
    w.session.selection.set(ids)
    w.ctl.labelling.assign(1)
    signals = ModelSignals(m)
    w.ctl.labelling.write("structure", dict.fromkeys(ids[:2], "grains"), "label 2 images")
    assert signals.changed == set() and signals.resets == 0
    assert {i: v for i, v in shown_labels(w).items() if v} == dict.fromkeys(ids, "poor")
    w.ctl.labelling.set_task("structure")
    assert {i: v for i, v in shown_labels(w).items() if v} == dict.fromkeys(ids[:2], "grains")


def test_an_import_and_its_undo_update_the_rows(qtbot, labelled, tmp_path: Path) -> None:
    w = labelled
    m = w.browser.model
    by_path = {r.path: r.id for r in w.project.images.all()}
    paths = sorted(by_path)[:3]
    src = write_rows(tmp_path / "labels.csv", ["file", "structure"], [[p, "lamellae"] for p in paths])
    w.session.selection.set([by_path[paths[0]]])
    w.ctl.labelling.assign(0)
    import_and_wait(qtbot, w, src, ["structure"])
    expect = {by_path[p]: "lamellae" for p in paths}
    assert {i: v for i, v in shown_labels(w).items() if v} == expect == stored(w)
    signals = ModelSignals(m)
    w.session.undo_stack.undo()  # the import: the first image is grains again, the others unlabelled
    assert {i: v for i, v in shown_labels(w).items() if v} == {by_path[paths[0]]: "grains"} == stored(w)
    assert signals.resets == 0 and signals.changed
    w.session.undo_stack.redo()
    assert {i: v for i, v in shown_labels(w).items() if v} == expect


def test_a_new_label_outside_the_classes_joins_the_label_filter_and_leaves_it(labelled) -> None:
    w = labelled
    combo, m = w.browser.label_combo, w.browser.model
    ids = [m.id_at(0)]
    w.ctl.labelling.write("structure", dict.fromkeys(ids, "twinned"), "label 1 image")
    assert combo.findData("twinned") >= 0
    w.session.undo_stack.undo()
    assert combo.findData("twinned") < 0 and combo.findData("grains") >= 0
