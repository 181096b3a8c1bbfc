"""The Quality view on a small project with a planted copy and a flipped label: it runs as a job, lists both,
accepting the suggested label writes it and Ctrl+Z undoes it, tags are undoable, and the map offers every
quality column to colour by."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from gui_helpers import wait_job
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from micview.core.sample_data import write_sample
from micview.gui.panels.analysis_panel import AnalysisPanel
from micview.gui.panels.quality_view import QualityView

FLIPPED = "grains_01.png"


@pytest.fixture(scope="module")
def planted_images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """15 generated images (5 grains, 5 lamellae, 5 particles); in copies/ a byte-identical copy of one and a copy
    of another resized to 3/4."""
    folder = write_sample(tmp_path_factory.mktemp("planted") / "images", per_kind=5, size=96)
    (folder / "copies").mkdir()
    shutil.copy2(folder / "particles" / "particles_02.png", folder / "copies" / "particles_02_copy.png")
    with Image.open(folder / "lamellae" / "lamellae_04.png") as im:
        im.resize((im.width * 3 // 4, im.height * 3 // 4), Image.Resampling.LANCZOS).save(
            folder / "copies" / "small.png"
        )
    return folder


@pytest.fixture
def quality_window(qtbot, window, planted_images: Path, tmp_path: Path):
    images = Path(shutil.copytree(planted_images, tmp_path / "images"))
    wait_job(qtbot, window.ctl.project.new_from_folder(images))
    qtbot.waitUntil(lambda: len(window.session.catalog) == 17)
    s = window.session
    labels = {r.id: r.folder for r in s.catalog.rows if r.folder != "copies"}
    flipped = next(r.id for r in s.catalog.rows if r.name == FLIPPED)
    labels[flipped] = "lamellae"
    s.project.labels.set_many("kind", labels)
    s.tasks_changed.emit()
    return window


def open_quality(w) -> QualityView:
    panel = w.side_panel.panel_named("Analysis")
    assert isinstance(panel, AnalysisPanel)
    panel.refresh()
    panel.task_box.setCurrentText("kind")
    return panel.show_quality()


def run_quality(qtbot, view: QualityView) -> None:
    view.run_button.click()
    assert view.job is not None, view.message.text()
    assert view.run_button.text() == "Cancel" and view.progress.isVisible()
    wait_job(qtbot, view.job)
    qtbot.waitUntil(lambda: view.job is None and view.found is not None)


@pytest.mark.slow
def test_quality_view_lists_the_copy_and_the_flipped_label_and_undoes_fixes(qtbot, quality_window) -> None:
    w, s = quality_window, quality_window.session
    view = open_quality(w)
    qtbot.addWidget(view)
    assert view.task_box.currentText() == "kind" and view.found is None
    assert "No quality check yet" in view.summary.text()
    run_quality(qtbot, view)  # embeds the 17 images with the default model first
    name = {r.id: r.name for r in s.catalog.rows}

    # the planted copy: a group of its own, original and copy side by side, a leak across folders
    groups = {tuple(sorted(name[i] for i in r.ids)): r for r in view.duplicates.rows}
    planted = groups[("particles_02.png", "particles_02_copy.png")]
    assert "leak across folders" in planted.text and not view.duplicates.table.isHidden()

    # the flipped label: listed with the label it should have
    issues = {name[r.ids[0]]: r for r in view.mislabels.rows}
    assert FLIPPED in issues, [r.text for r in view.mislabels.rows]
    assert "label: lamellae  →  suggested: grains" in issues[FLIPPED].text
    flipped = issues[FLIPPED].ids[0]

    # accept it (the row selected selects the image), then Ctrl+Z in the view undoes it
    view.tabs.setCurrentWidget(view.mislabels)
    view.mislabels.select_rows([view.mislabels.rows.index(issues[FLIPPED])])
    assert s.selection.ids == [flipped] or set(s.selection.ids) == {flipped}
    assert view.accept_button.isEnabled()
    view.accept_button.click()
    assert s.project.labels.labels("kind")[flipped] == "grains"
    assert "✓ now labelled grains" in next(r.text for r in view.mislabels.rows if r.ids == [flipped])
    view.activateWindow()
    QTest.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert s.project.labels.labels("kind")[flipped] == "lamellae"
    assert s.undo_stack.canRedo()

    # tag the copy "duplicate": byte-identical, so the first imported is kept; undo removes the tag
    view.tabs.setCurrentWidget(view.duplicates)
    row = view.duplicates.rows.index(planted)
    view.duplicates.select_rows([row])
    _first, second = sorted(planted.ids)
    view.duplicates.action_buttons[0].click()
    assert s.project.fields.tags() == {second: ["duplicate"]}
    assert "tags: duplicate" in view.duplicates.rows[row].text
    s.undo_stack.undo()
    assert s.project.fields.tags() == {}
    # the resized copy: found, and it is the one tagged (the original has more pixels though imported later)
    resized = groups[("lamellae_04.png", "small.png")]
    view.duplicates.select_rows([view.duplicates.rows.index(resized)])
    view.duplicates.action_buttons[1].click()
    assert {name[i]: t for i, t in s.project.fields.tags().items()} == {"small.png": ["exclude"]}

    # the vectors the check computed make the map; it offers every quality column to colour by
    qtbot.waitUntil(lambda: len(w.scatter.ids) == 17, timeout=30_000)
    combo = w.scatter.color_combo
    names = [combo.itemText(i) for i in range(combo.count())]
    for col in ("Quality: outlier score", "Quality: uniqueness", "Quality: label issue", "Quality: cluster",
                "Quality: near duplicate", "Quality: blur"):  # fmt: skip
        assert col in names, names
    combo.setCurrentText("Quality: cluster")
    assert set(w.scatter.legend.texts()) <= {*view.found.cluster_names, "(none)"}
    combo.setCurrentText("Quality: near duplicate")
    assert w.scatter.legend.texts() == ["yes", "no"]


def test_quality_columns_values(qtbot, project_window) -> None:
    """Without a stored result there are no quality columns; with one, each column maps ids to values."""
    import numpy as np

    from micview.core.quality import QualityResult, save_quality
    from micview.gui.columns import column_names, column_values
    from micview.gui.quality_columns import quality_column_names

    s = project_window.session
    p = s.project
    assert quality_column_names(p) == [] and not any(n.startswith("Quality") for n in column_names(p))
    ids = np.array([r.id for r in s.catalog.rows], np.int64)
    n = len(ids)
    cols = {name: np.zeros(n) for name in ("duplicate_distance", "uniqueness", "outlier_score", "blur")}
    cols |= {"duplicate_group": np.array([0, 0] + [-1] * (n - 2)), "cluster": np.arange(n) % 2,
             "is_outlier": np.arange(n) == 3, "leak": np.array([1, 1] + [0] * (n - 2))}  # fmt: skip
    save_quality(p, QualityResult("effnet-lite0", None, ids, cols, cluster_names=["dots", "stripes"]))
    names = column_names(p)
    assert {"Quality: uniqueness", "Quality: cluster", "Quality: outlier", "Quality: leak"} <= set(names)
    assert "Quality: label issue" not in names  # not stored without labels
    values, classes = column_values(p, s.catalog.rows, "Quality: cluster")
    assert classes == ["dots", "stripes"] and values[int(ids[1])] == "stripes"
    values, classes = column_values(p, s.catalog.rows, "Quality: outlier")
    assert classes == ["yes", "no"] and values[int(ids[3])] == "yes" and values[int(ids[0])] == "no"
    values, classes = column_values(p, s.catalog.rows, "Quality: leak")
    assert values[int(ids[0])] == "across folders" and values[int(ids[5])] == "no"
    values, classes = column_values(p, s.catalog.rows, "Quality: uniqueness")
    assert classes is None and len(values) == n
