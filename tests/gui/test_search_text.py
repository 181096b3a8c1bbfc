"""Plain-language search in the window with a tiny random open_clip model (built offline by the ml tests' helper)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from gui_helpers import wait_job


def _tiny_models():
    path = Path(__file__).resolve().parents[1] / "ml" / "tiny_models.py"
    spec = importlib.util.spec_from_file_location("tiny_models_for_gui", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_text_search_with_a_clip_family_model(qtbot, project_window, tmp_path: Path) -> None:
    from micview.ml.registry import register_folder

    w = project_window
    register_folder(_tiny_models().build_open_clip(tmp_path / "tiny-oc"), "tiny-oc")
    w.search_bar.set_models(w.ctl.maps.model_choices(), w.session.model_id)
    w.search_bar.model_combo.setCurrentIndex(w.search_bar.model_combo.findData("tiny-oc"))
    assert w.session.model_id == "tiny-oc" and w.settings.model_id == "tiny-oc"
    wait_job(qtbot, w.ctl.maps.embed())
    qtbot.waitUntil(lambda: len(w.scatter.ids) == 12, timeout=30_000)
    with qtbot.waitSignal(w.session.results.changed, timeout=60_000):
        job = w.ctl.search.text("bright round particles")
    assert job is not None and job.state == "done"
    assert len(w.session.results.ids) == 12 and w.session.results.query == "“bright round particles”"
    assert list(w.session.results.scores) == sorted(w.session.results.scores, reverse=True)
    assert w.browser.model.visible_ids().tolist() == w.session.results.ids.tolist()
