"""The Classify tab on a real embedded project: run, scores of the current image, accept, suggest, evaluate."""

from __future__ import annotations


def test_classify_panel_round_trip(qtbot, embedded_window) -> None:
    from micview.gui.panels.classify_panel import ClassifyPanel

    w = embedded_window
    project = w.project
    rows = project.images.all()
    kind = {r.id: r.name.rsplit("_", 1)[0] for r in rows}
    labelled = {i: k for n, (i, k) in enumerate(sorted(kind.items())) if n % 3 != 2}  # 8 of 12 labelled
    project.labels.set_many("kind", labelled)
    panel = ClassifyPanel(w)
    qtbot.addWidget(panel)
    panel.refresh()
    panel.task_box.setCurrentText("kind")
    panel.model_box.setCurrentText("effnet-lite0")
    panel.run_button.click()
    qtbot.waitUntil(lambda: "8 labels" in panel.status.text(), timeout=60_000)
    unlabelled = [i for i in kind if i not in labelled]
    w.selection.set(unlabelled, current=unlabelled[0])
    assert panel.scores.rowCount() == 3 and float(panel.scores.item(0, 1).text()) >= 1 / 3
    panel.suggest_button.click()
    qtbot.waitUntil(lambda: panel.suggestions.count() == 4, timeout=30_000)  # the 4 unlabelled images
    panel.suggestions.itemActivated.emit(panel.suggestions.item(0))
    assert w.selection.current in unlabelled
    panel.live.setChecked(True)
    panel._scores = None
    w.labels.labels_changed.emit("kind")  # what a labelling action emits: retrain quietly, in memory
    qtbot.waitUntil(lambda: panel._scores is not None, timeout=30_000)
    w.selection.set(unlabelled, current=unlabelled[0])
    panel.accept_button.click()
    assert set(project.labels.labels("kind")) == set(kind)  # predictions became labels for the selection
    panel.eval_button.click()
    qtbot.waitUntil(lambda: panel.confusion.rowCount() == 3, timeout=60_000)
    assert "balanced" in panel.status.text()
    w.jobs.wait(30_000)
    assert all(j.state == "done" for j in w.jobs.jobs), [j.error for j in w.jobs.jobs]
