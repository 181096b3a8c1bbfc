"""Suggest in the Classify tab: ``micview suggest``'s strategy, a reason per image, never a copy of a labelled
image; the grid shows the suggestions in order, selecting rows selects the images, labelled ones get ticked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from gui_helpers import wait_job


def _project_with_copies(qtbot, window, images: Path) -> dict[str, int]:
    """The 12 generated images plus byte-identical copies of two of them; embedded. Returns name → id."""
    for name in ("grains/grains_01.png", "lamellae/lamellae_02.png"):
        shutil.copy(images / name, images / name.replace("_0", "_copy_0"))
    wait_job(qtbot, window.ctl.project.new_from_folder(images))
    wait_job(qtbot, window.ctl.maps.embed())
    return {r.name: r.id for r in window.project.images.all()}


@pytest.mark.slow
def test_suggest_gives_reasons_never_copies_and_shows_them_in_the_grid(qtbot, window, images: Path) -> None:
    from micview.gui.panels.classify_panel import ClassifyPanel
    from micview.ml.classify import suggest_for_task, task_view

    w, s = window, window.session
    ids = _project_with_copies(qtbot, w, images)
    labelled = {
        ids["grains_01.png"]: "grains",
        ids["lamellae_02.png"]: "lamellae",
        ids["particles_00.tif"]: "particles",
    }
    w.project.labels.set_many("kind", labelled)
    s.tasks_changed.emit()
    panel = ClassifyPanel(s)
    qtbot.addWidget(panel)
    panel.task_box.setCurrentText("kind")
    panel.model_box.setCurrentText("effnet-lite0")
    panel.suggest_button.click()
    qtbot.waitUntil(lambda: panel.suggestions.rowCount() > 0, timeout=60_000)

    suggested = [r.image_id for r in panel.suggested]
    copies = {ids["grains_copy_01.png"], ids["lamellae_copy_02.png"]}
    assert not copies & set(suggested) and not set(labelled) & set(suggested)
    assert len(suggested) == 14 - 3 - 2  # every unlabelled image but the two copies
    # the same strategy as `micview suggest` (the ml function), in the same order, with its reasons
    expected = suggest_for_task(w.project, task_view(w.project, "kind"), "effnet-lite0", n=20)
    assert [(e.image_id, e.reason) for e in expected] == [(r.image_id, r.reason) for r in panel.suggested]
    for row, sug in enumerate(panel.suggested):
        assert panel.suggestions.item(row, 1).text() == sug.reason and sug.reason
        assert sug.reason in panel.suggestions.item(row, 0).toolTip()
    assert {r.kind for r in panel.suggested} <= {"cover", "uncertain"}
    assert "images to label next for kind" in panel.status.text()

    # the grid shows exactly the suggestions, in order
    assert s.results.ids.tolist() == suggested
    assert w.browser.model.visible_ids().tolist() == suggested
    # selecting rows selects those images (the grid follows), ready for a number key
    panel.suggestions.selectRow(0)
    panel.suggestions.selectionModel().select(
        panel.suggestions.model().index(1, 0),
        panel.suggestions.selectionModel().SelectionFlag.Select | panel.suggestions.selectionModel().SelectionFlag.Rows,
    )
    assert list(s.selection.ids) == suggested[:2] and s.selection.current == suggested[0]
    assert sorted(w.browser.model.id_at(i.row()) for i in w.browser.view.selectionModel().selectedIndexes()) == sorted(
        suggested[:2]
    )
    w.ctl.labelling.write("kind", {suggested[0]: "grains"}, "label one suggestion")
    assert panel.suggestions.item(0, 0).text().startswith("✓") and "(grains)" in panel.suggestions.item(0, 0).text()
    assert not panel.suggestions.item(1, 0).text().startswith("✓")


def test_suggest_with_nothing_left_says_why(qtbot, window, images: Path) -> None:
    from micview.gui.panels.classify_panel import ClassifyPanel

    w, s = window, window.session
    ids = _project_with_copies(qtbot, w, images)
    copies = {ids["grains_copy_01.png"], ids["lamellae_copy_02.png"]}
    w.project.labels.set_many("kind", {i: n.split("_")[0] for n, i in ids.items() if i not in copies})
    s.tasks_changed.emit()
    panel = ClassifyPanel(s)
    qtbot.addWidget(panel)
    panel.task_box.setCurrentText("kind")
    panel.model_box.setCurrentText("effnet-lite0")
    panel.suggest_button.click()
    qtbot.waitUntil(lambda: not s.classify.busy, timeout=60_000)
    assert panel.suggestions.rowCount() == 0
    assert "the 2 unlabelled images are near-copies of labelled ones" in panel.status.text()
    assert not s.results.active  # the grid is left as it was
