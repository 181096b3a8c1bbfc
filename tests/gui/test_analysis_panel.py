"""The Analysis tab as a user drives it: choose labels (and prompt groups), Analyse, read the figures, click a
matrix cell, a bar, a histogram bin or a prompt and get exactly those images selected."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import numpy as np
import pytest
from gui_helpers import wait_job
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from micview.gui.panels.analysis_concept import ConceptSection
from micview.gui.panels.analysis_panel import NO_GROUPS, AnalysisPanel
from micview.gui.panels.analysis_sections import ImageSideSection, MatrixSection

SEED_LAYOUT = {"experiment_name": "Patterns", "prompt_pairs": [
    {"pair_id": 1, "striped": "a striped pattern", "blobby": "round blobs"},
    {"pair_id": 2, "striped": "parallel lines", "blobby": "a spotted texture"},
    {"pair_id": 3, "striped": "a grating", "blobby": "soft round spots"}]}  # fmt: skip


def label_by_folder(w, task: str = "kind") -> dict[int, str]:
    s = w.session
    labels = {r.id: r.folder for r in s.catalog.rows}
    s.project.labels.set_many(task, labels)
    s.tasks_changed.emit()
    s.labels_changed.emit(task)
    return labels


def analysis_panel(w) -> AnalysisPanel:
    panel = w.side_panel.panel_named("Analysis")
    assert isinstance(panel, AnalysisPanel)
    w.side_panel.setCurrentIndex(next(i for i in range(w.side_panel.count()) if w.side_panel.tabText(i) == "Analysis"))
    return panel


def analyse(qtbot, panel: AnalysisPanel) -> None:
    panel.run_button.click()
    assert panel.job is not None, panel.status.text()
    job = panel.job
    wait_job(qtbot, job)
    qtbot.waitUntil(lambda: panel.job is None and panel.result is not None)


def click(qtbot, plot, pos: QPointF, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """A real left click on a pyqtgraph plot (press and release on its viewport)."""
    QTest.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, modifier, pos.toPoint())
    qtbot.wait(20)


def selected(w) -> set[int]:
    return set(w.session.selection.ids)


def test_the_tab_analyses_labels_and_clicks_select_images(qtbot, embedded_window) -> None:
    w = embedded_window
    labels = label_by_folder(w)
    panel = analysis_panel(w)
    panel.task_box.setCurrentText("kind")
    panel.groups_box.setCurrentText(NO_GROUPS)
    assert not panel.hint.isVisibleTo(panel)  # no groups: nothing to warn about
    analyse(qtbot, panel)
    r = panel.result
    assert r is not None and r.task == "kind" and r.concept is None
    assert sorted(r.image_side.classes) == ["grains", "lamellae", "particles"]
    assert panel.section(ImageSideSection) is not None and panel.section(ConceptSection) is None

    # the image-image matrix: ordered by label; a click selects the two images of that cell
    m = panel.section(MatrixSection)
    ids, groups = m.m.image_ids, m.m.groups
    assert len(ids) == 12 and groups == sorted(groups) and [labels[int(i)] for i in ids] == groups
    w.resize(1280, 800)
    qtbot.wait(50)
    r_, k_ = 1, 9  # a grain against a particle
    click(qtbot, m.plot, m.plot.cell_centre(r_, k_))
    assert selected(w) == {int(ids[r_]), int(ids[k_])}
    # Shift+click: every image of the two blocks
    click(qtbot, m.plot, m.plot.cell_centre(r_, k_), Qt.KeyboardModifier.ShiftModifier)
    assert selected(w) == {i for i, lab in labels.items() if lab in (groups[r_], groups[k_])}

    # the spread bars: a click selects that class
    side = panel.section(ImageSideSection)
    k = side.side.classes.index("lamellae")
    click(qtbot, side.spread.plot, side.spread.plot.bar_centre(k))
    assert selected(w) == {i for i, lab in labels.items() if lab == "lamellae"}

    # the neighbour matrix: 4 images per class, 5 neighbours each: at most 3 of 5 share the class, as here
    share = side.side.neighbour_share
    assert np.allclose(share.sum(1), 1) and np.allclose(np.diag(share), 0.6)
    a, b = side.side.classes.index("grains"), side.side.classes.index("particles")
    click(qtbot, side.neighbours.plot, side.neighbours.plot.cell_centre(a, b))
    assert selected(w) == {i for i, lab in labels.items() if lab in ("grains", "particles")}

    # a new project clears what was shown
    w.session.set_project(None)
    assert panel.result is None and panel.section(MatrixSection) is None


def _tiny_models():
    path = Path(__file__).resolve().parents[1] / "ml" / "tiny_models.py"
    spec = importlib.util.spec_from_file_location("tiny_models_for_analysis", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_prompt_groups_imported_and_compared_with_a_tiny_clip(qtbot, project_window, tmp_path: Path) -> None:
    from micview.ml.registry import register_folder

    w = project_window
    register_folder(_tiny_models().build_open_clip(tmp_path / "tiny-oc"), "tiny-oc")
    w.session.models_changed.emit()
    label_by_folder(w)
    panel = analysis_panel(w)
    seed = tmp_path / "groups.json"
    seed.write_text(json.dumps(SEED_LAYOUT), encoding="utf-8")
    panel.import_groups(str(seed))
    assert panel.groups_box.currentText() == "Patterns" and "3 prompt pairs" in panel.status.text()
    panel.model_box.setCurrentText("tiny-oc")
    panel.task_box.setCurrentText("kind")
    assert not panel.hint.isVisibleTo(panel)  # a text tower: no warning
    analyse(qtbot, panel)  # computes the missing tiny-oc vectors first
    c = panel.result.concept
    assert c is not None and c.groups == ["striped", "blobby"] and c.pair_margins is not None
    section = panel.section(ConceptSection)
    assert section is not None and section.between is not None

    # a margin bin: exactly the images whose margin falls in it
    plot = section.margin.plot
    lo, hi = plot.bin_of(float(c.margin[0]))
    click(qtbot, plot, plot.view_to_widget((lo + hi) / 2, 0.2))
    want = {int(i) for i, v in zip(c.image_ids, c.margin, strict=True) if lo <= v <= hi}
    assert want and selected(w) == want

    # a prompt on the prompt map: the images whose nearest prompt it is
    nearest = c.prompt_sims.argmax(1)
    k = int(np.bincount(nearest).argmax())
    xy = c.text_pca[k]
    pmap = section.prompt_plot
    click(qtbot, pmap, pmap.view_to_widget(float(xy[0]), float(xy[1])))
    assert selected(w) == {int(i) for i in c.image_ids[nearest == k]}

    # a cell of the prompt-prompt matrix: the images nearest to either prompt
    other = (k + 3) % len(c.prompts)
    tm = section.text_matrix.plot
    click(qtbot, tm, tm.cell_centre(k, other))
    assert selected(w) == {int(i) for i in c.image_ids[np.isin(nearest, [k, other])]}


def test_prompt_groups_dialog_and_bad_files(qtbot, project_window, tmp_path: Path, monkeypatch) -> None:
    from micview.gui.panels.prompt_groups_dialog import PromptGroupsDialog
    from micview.ml.analysis import saved_group_names

    w = project_window
    panel = analysis_panel(w)
    dialog = PromptGroupsDialog(panel)
    qtbot.addWidget(dialog)
    save = dialog.buttons.button(dialog.buttons.StandardButton.Save)
    assert not save.isEnabled() and "name" in dialog.problem.text()
    dialog.name_edit.setText("drops")
    dialog.list.item(0).setText("crystals")
    dialog.list.setCurrentRow(0)
    dialog.editor.setPlainText("needle crystals\n\nplate crystals\n")
    assert not save.isEnabled() and "group B has no prompts" in dialog.problem.text()
    dialog.list.setCurrentRow(1)
    dialog.editor.setPlainText("brown precipitate")
    assert save.isEnabled(), dialog.problem.text()
    dialog.setResult(dialog.DialogCode.Accepted)
    groups = dialog.groups()
    assert groups is not None and groups.groups == {"crystals": ["needle crystals", "plate crystals"],
                                                   "group B": ["brown precipitate"]}  # fmt: skip
    assert panel.ctl.save_groups(groups) and saved_group_names(w.session.project) == ["drops"]

    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\xff\xfe not json")
    panel.import_groups(str(bad))
    assert w.session.errors.last is not None and "not a readable JSON file" in w.session.errors.last.message
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"only": ["a prompt"]}), encoding="utf-8")
    panel.import_groups(str(one))
    assert "at least two groups" in w.session.errors.last.message
    assert saved_group_names(w.session.project) == ["drops"]  # nothing half-imported


def test_what_the_tab_says_without_images_or_project(qtbot, window, tmp_path: Path) -> None:
    panel = analysis_panel(window)
    panel.run_button.click()
    assert panel.job is None and panel.status.text() == "Open a project first."
    assert window.ctl.project.create(tmp_path / "empty.micview")
    panel.run_button.click()
    assert panel.job is None and "Add images first" in panel.status.text()
    view = panel.show_quality()
    qtbot.addWidget(view)
    assert "No quality check yet" in view.summary.text() and view.duplicates.empty.text() == "No quality check yet."
    view.run_button.click()
    assert view.job is None and "Add images first" in view.message.text()


def test_a_result_for_a_closed_project_is_not_shown(qtbot, embedded_window) -> None:
    w = embedded_window
    label_by_folder(w)
    panel = analysis_panel(w)
    panel.task_box.setCurrentText("kind")
    panel.run_button.click()
    job = panel.job
    assert job is not None
    end = time.monotonic() + 60
    while job.final_state == "queued" and time.monotonic() < end:  # the worker finishes; its result not yet delivered
        time.sleep(0.02)
    assert job.final_state == "done"
    w.ctl.project.close()  # then the project closes, before the result reaches the window
    qtbot.waitUntil(lambda: job.done, timeout=60_000)
    qtbot.wait(50)
    assert panel.result is None and panel.sections == [] and panel.run_button.text() == "Analyse"


def test_cancel_an_analysis_and_a_quality_check(qtbot, project_window) -> None:
    w = project_window
    panel = analysis_panel(w)
    panel.run_button.click()
    job = panel.job
    assert job is not None and panel.run_button.text() == "Cancel"
    panel.run_button.click()  # Cancel
    qtbot.waitUntil(lambda: job.done, timeout=60_000)
    assert job.state == "cancelled" and panel.status.text() == "Cancelled." and panel.run_button.text() == "Analyse"
    view = panel.show_quality()
    qtbot.addWidget(view)
    view.run_button.click()
    job = view.job
    assert job is not None and view.run_button.text() == "Cancel"
    view.run_button.click()
    qtbot.waitUntil(lambda: job.done, timeout=60_000)
    assert job.state == "cancelled" and view.run_button.text() == "Check quality" and not view.progress.isVisible()
    assert "Cancelled" in view.message.text() and view.found is None
