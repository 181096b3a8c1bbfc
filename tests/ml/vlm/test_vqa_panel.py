"""The VQA panel drives the ml tasks through the GUI job system: load a tiny model, ask, evaluate."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt")

from micview.core.store import Project


@pytest.fixture
def panel(qtbot, labelled: Project, vlm_dirs: dict):
    from micview.gui.panels.vqa_panel import VqaPanel
    from micview.gui.session import Session
    from micview.ml.model_cache import shared

    session = Session()
    session.set_project(labelled)
    current = next(r.id for r in labelled.images.all() if r.name == "pattern_01.png")
    session.selection.set([current])
    w = VqaPanel(session)
    qtbot.addWidget(w)
    w.model_box.setEditText(str(vlm_dirs["qwen2_vl"]))
    yield w
    session.jobs.cancel_all()
    session.jobs.wait()
    shared().unload("vlm")


def test_load_ask_and_evaluate(qtbot, panel) -> None:
    assert not panel.ask_button.isEnabled()
    panel.load_button.click()
    qtbot.waitUntil(lambda: bool(panel.loaded) and panel.ask_button.isEnabled(), timeout=30_000)
    panel.question.setPlainText("What is it?")
    panel.ask_button.click()
    qtbot.waitUntil(lambda: panel._job is None and "saved" in panel.status.text(), timeout=30_000)
    panel.refresh_tasks()
    panel.task_box.setCurrentText("technique")
    panel.eval_button.click()
    qtbot.waitUntil(lambda: panel.table.rowCount() == 10, timeout=60_000)
    assert "accuracy" in panel.metrics.text()
