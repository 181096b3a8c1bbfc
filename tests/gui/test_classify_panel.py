"""The Classify tab on a real embedded project: run, scores of the current image, accept (undoable), suggest,
evaluate, and what it says after a cancel or an empty suggestion list."""

from __future__ import annotations

from gui_helpers import wait_until


def test_classify_panel_round_trip(qtbot, embedded_window) -> None:
    from micview.gui.panels.classify_panel import ClassifyPanel

    w = embedded_window
    s, project = w.session, w.project
    rows = project.images.all()
    kind = {r.id: r.name.rsplit("_", 1)[0] for r in rows}
    labelled = {i: k for n, (i, k) in enumerate(sorted(kind.items())) if n % 3 != 2}  # 8 of 12 labelled
    project.labels.set_many("kind", labelled)
    s.tasks_changed.emit()
    w.ctl.labelling.set_task("kind")  # the grid shows the active task's labels
    panel = ClassifyPanel(s)
    qtbot.addWidget(panel)
    panel.task_box.setCurrentText("kind")
    panel.model_box.setCurrentText("effnet-lite0")
    panel.run_button.click()
    assert panel.status.text() == "Classifying…" and not panel.run_button.isEnabled()
    qtbot.waitUntil(lambda: "8 labels" in panel.status.text(), timeout=60_000)
    assert panel.run_button.isEnabled()
    unlabelled = [i for i in kind if i not in labelled]
    s.selection.set(unlabelled, current=unlabelled[0])
    assert panel.scores.rowCount() == 3 and float(panel.scores.item(0, 1).text()) >= 1 / 3
    panel.suggest_button.click()
    qtbot.waitUntil(lambda: panel.suggestions.rowCount() == 4, timeout=30_000)  # the 4 unlabelled images
    panel.suggestions.selectRow(0)
    assert s.selection.current in unlabelled
    panel.live.setChecked(True)
    s.classify.update(scores=None)
    s.labels_changed.emit("kind")  # what a labelling action emits: retrain quietly, in memory
    qtbot.waitUntil(lambda: s.classify.scores is not None, timeout=30_000)
    s.selection.set(unlabelled, current=unlabelled[0])
    assert not set(unlabelled) & set(w.browser.model.labels)
    panel.accept_button.click()
    assert set(project.labels.labels("kind")) == set(kind)  # predictions became labels for the selection
    assert set(w.browser.model.labels) == set(kind)  # and the grid shows them at once
    s.undo_stack.undo()
    assert set(project.labels.labels("kind")) == set(labelled)  # one Ctrl+Z takes them back
    assert panel.eval_button.isEnabled(), panel.status.text()
    panel.eval_button.click()
    wait_until(qtbot, lambda: panel.confusion.rowCount() == 3, 180_000,
               lambda: f"status {panel.status.text()!r}, jobs {[(j.title, j.state) for j in s.jobs.jobs]}")  # fmt: skip
    assert "balanced" in panel.status.text()
    s.jobs.wait(30_000)
    qtbot.waitUntil(lambda: not s.jobs.jobs)
    assert all(r.state == "done" for r in s.jobs.history), list(s.jobs.history)


def test_cancel_and_empty_suggestions_say_so(qtbot, embedded_window) -> None:
    import threading

    from micview.core.tasks import Progress
    from micview.gui.controllers.classify import Request, suggest_status
    from micview.gui.panels.classify_panel import ClassifyPanel

    w = embedded_window
    s = w.session
    panel = ClassifyPanel(s)
    qtbot.addWidget(panel)
    gate = threading.Event()

    def slow():
        for i in range(100):
            gate.wait(0.05)
            yield Progress(i, 100)

    s.classify.update(busy="Classifying…", status="Classifying…")
    job = panel.ctl._start("Classify", slow, lambda _r: None)
    job.cancel()
    with qtbot.waitSignal(job.finished, timeout=10_000):
        gate.set()
    assert panel.status.text() == "Cancelled." and panel.run_button.isEnabled()
    w.project.labels.set_many("kind", {r.id: "a" for r in w.project.images.all()})
    text = suggest_status([], s, Request("kind", "effnet-lite0"))
    assert "all 12 images" in text and "labelled" in text
    assert "no image has other-model vectors" in suggest_status([], s, Request("kind", "other-model"))
