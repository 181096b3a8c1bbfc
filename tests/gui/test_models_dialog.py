"""The Models dialog: the built-in default listed as installed, a tiny open_clip folder added (text search becomes
available in the search bar and the Classify tab) and removed, a folder that is not a model, downloading offline
or without a connection (a clear message at once), and downloading from a local stand-in for the hub with
progress, cancel and the sha256 check."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest
from gui_helpers import wait_job

ML_TESTS = Path(__file__).resolve().parents[1] / "ml"


def _ml_helper(name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_for_gui", ML_TESTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny_oc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random open_clip model folder named tiny-oc (built as a user's folder would be)."""
    return _ml_helper("tiny_models").build_open_clip(tmp_path_factory.mktemp("models") / "tiny-oc")


def _dialog(qtbot, w):
    w.show_models_dialog()
    qtbot.waitUntil(lambda: w.models_dialog.isVisible())
    return w.models_dialog


def _row(table, model_id: str) -> int:
    return next(r for r in range(table.rowCount()) if table.item(r, 0).data(0x0100) == model_id)


def _texts(table, row: int) -> list[str]:
    return [table.item(row, c).text() for c in range(table.columnCount())]


def _combo_ids(combo) -> list[str]:
    return [combo.itemData(i) for i in range(combo.count())]


def test_the_menu_opens_it_and_the_default_is_installed_offline(qtbot, project_window) -> None:
    w = project_window
    images_menu = next(a.menu() for a in w.menuBar().actions() if a.text() == "&Images")
    next(a for a in images_menu.actions() if a.text() == "Models…").trigger()
    d = w.models_dialog
    qtbot.waitUntil(d.isVisible)
    table = d.installed_table
    row = _row(table, "effnet-lite0")
    _model, use, family, size, here, marks = _texts(table, row)
    assert (use, family, here) == ("image only", "effnet", "✓ offline")
    assert size.endswith("MB") and float(size.split()[0]) > 1
    assert "default" in marks and "in use" in marks
    assert row == 0  # what is on this computer comes first
    siglip = _texts(table, _row(table, "siglip-b16-224"))
    assert siglip[1] == "text + image" and siglip[3] == "—" and siglip[4] == "not downloaded"
    table.selectRow(row)
    assert not d.remove_button.isEnabled() and "Built-in" in d.remove_button.toolTip()
    assert not d.use_button.isEnabled()  # already in use
    rec = d.recommended_table
    assert rec.rowCount() == 4 and _texts(rec, 0)[:3] == ["siglip-b16-224", "~812 MB", "not yet"]
    assert "offline" in d.offline_note.text()  # the tests run with HF_HUB_OFFLINE=1


def test_adding_a_tiny_open_clip_folder_makes_text_search_available(qtbot, project_window, tiny_oc) -> None:
    w = project_window
    s, bar = w.session, w.search_bar
    classify = w.side_panel.panel_named("Classify")
    assert bar.text_model_button.isVisibleTo(w) and "tiny-oc" not in _combo_ids(bar.model_combo)
    d = _dialog(qtbot, w)
    with qtbot.waitSignal(s.models_changed, timeout=60_000):
        job = d.add_folder(tiny_oc)
        assert d.progress_row.isVisibleTo(d) and d.progress_label.text()
    wait_job(qtbot, job)
    # the search bar offers it, marked as a text model, and uses it (the model in use was image-only)
    i = bar.model_combo.findData("tiny-oc")
    assert i >= 0 and bar.model_combo.itemText(i).endswith("· text")
    assert s.model_id == "tiny-oc" and bar.model_id == "tiny-oc" and not bar.text_model_button.isVisibleTo(w)
    assert classify.model_box.findText("tiny-oc") >= 0
    assert "Compute embeddings" in [b.text() for b in w.notice_bar.buttons]
    assert "done" in d.message_text and not d.progress_row.isVisibleTo(d)
    row = _row(d.installed_table, "tiny-oc")
    assert _texts(d.installed_table, row)[1:5] == ["text + image", "open_clip", _texts(d.installed_table, row)[3],
                                                   "✓ offline"]  # fmt: skip
    assert "in use" in _texts(d.installed_table, row)[5]
    # search by text now works (after embedding with it)
    wait_job(qtbot, w.ctl.maps.embed())
    with qtbot.waitSignal(s.results.changed, timeout=60_000):
        assert w.ctl.search.text("lamellar eutectic") is not None
    assert len(s.results.ids) == 12

    # removing it removes it everywhere, and the default takes over
    d.installed_table.selectRow(_row(d.installed_table, "tiny-oc"))
    assert d.remove_button.isEnabled()
    d.remove_button.click()
    assert "tiny-oc" not in _combo_ids(bar.model_combo) and s.model_id == "effnet-lite0"
    assert bar.text_model_button.isVisibleTo(w)  # (Classify still lists it: the project keeps its vectors)
    assert all(d.installed_table.item(r, 0).text() != "tiny-oc" for r in range(d.installed_table.rowCount()))
    assert tiny_oc.is_dir()  # its files stay


def test_a_folder_that_is_not_a_model_is_refused_clearly(qtbot, window, tmp_path: Path) -> None:
    w = window
    d = _dialog(qtbot, w)
    (tmp_path / "micrographs").mkdir()
    (tmp_path / "micrographs" / "a.tif").write_bytes(b"II*\x00")
    job = d.add_folder(tmp_path / "micrographs")
    with qtbot.waitSignal(job.finished, timeout=10_000):
        pass
    assert job.state == "failed" and "no weights file" in d.message_text
    assert "ff8a80" in d.message.text()  # in red
    assert d.installed_table.rowCount() == len(w.ctl.maps.model_choices())  # nothing was added


def test_download_offline_says_at_once_what_to_do(qtbot, window) -> None:
    d = _dialog(qtbot, window)
    d.recommended_table.selectRow(0)
    start = time.monotonic()
    d.pull_button.click()
    qtbot.waitUntil(lambda: d.job is None, timeout=10_000)
    assert time.monotonic() - start < 5
    text = d.message_text
    assert "offline mode is on" in text
    assert "micview models pull siglip-b16-224 --to siglip-base-patch16-224" in text
    assert "hf download google/siglip-base-patch16-224" in text and "Add folder" in text
    assert window.session.jobs.history[-1].state == "failed"
    assert d.copy_button.isVisibleTo(d)  # the commands are for another computer: one click copies them
    d.copy_button.click()
    from PySide6.QtWidgets import QApplication

    assert QApplication.clipboard().text() == text


def test_download_with_the_network_blocked_says_so(qtbot, window, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    import huggingface_hub.constants as hf

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(hf, "HF_HUB_OFFLINE", False)

    def blocked(self, address):
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(socket.socket, "connect", blocked)
    d = _dialog(qtbot, window)
    d.recommended_table.selectRow(0)
    d.pull_button.click()
    qtbot.waitUntil(lambda: d.job is None, timeout=30_000)
    assert "Cannot download google/siglip-base-patch16-224" in d.message_text
    assert "Check the internet connection" in d.message_text and "hf download" in d.message_text


def test_download_from_the_hub_with_progress_cancel_and_sha256(qtbot, window, tiny_oc, tmp_path, monkeypatch) -> None:
    """A local stand-in for huggingface.co serves the tiny model as openclip-vit-b-32-laion2b's repository."""
    import huggingface_hub.constants as hf

    fake_hub = _ml_helper("fake_hub")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(hf, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hf, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(hf, "DOWNLOAD_CHUNK_SIZE", 1 << 14)
    files = {p.name: p.read_bytes() for p in tiny_oc.iterdir()}
    w, s = window, window.session
    d = _dialog(qtbot, w)
    d.recommended_table.selectRow(_row(d.recommended_table, "openclip-vit-b-32-laion2b"))
    with fake_hub.FakeHub(files, {"open_clip_model.safetensors"}, delay_s=0.05) as hub:
        monkeypatch.setattr(hf, "ENDPOINT", hub.endpoint)  # as HF_ENDPOINT (a mirror) would set both
        monkeypatch.setattr(
            hf, "HUGGINGFACE_CO_URL_TEMPLATE", hub.endpoint + "/{repo_id}/resolve/{revision}/{filename}"
        )
        d.pull_button.click()
        job = d.job
        qtbot.waitUntil(lambda: job.progress.done > 0 or "safetensors" in d.progress_label.text(), timeout=30_000)
        assert d.progress_row.isVisibleTo(d) and not d.pull_button.isEnabled()
        d.cancel_button.click()
        qtbot.waitUntil(lambda: job.done, timeout=10_000)
        assert job.state == "cancelled" and "Cancelled" in d.message_text
        assert _texts(d.installed_table, _row(d.installed_table, "openclip-vit-b-32-laion2b"))[4] == "not downloaded"
        hub.delay_s = 0
        d.pull_button.click()
        wait_job(qtbot, d.job, 60_000)
    row = _texts(d.installed_table, _row(d.installed_table, "openclip-vit-b-32-laion2b"))
    assert row[4] == "✓ offline" and row[3] != "—"
    assert _texts(d.recommended_table, _row(d.recommended_table, "openclip-vit-b-32-laion2b"))[2] == "✓ yes"
    assert s.model_id == "openclip-vit-b-32-laion2b"  # a text model arrived while an image-only one was in use
    assert "Downloaded openclip-vit-b-32-laion2b" in w.notice_bar.label.text()


def test_image_only_search_leads_to_the_models_dialog(qtbot, project_window) -> None:
    w = project_window
    assert w.ctl.search.text("grain boundaries") is None
    button = next(b for b in w.notice_bar.buttons if b.text() == "Add a text model…")
    button.click()
    qtbot.waitUntil(lambda: w.models_dialog.isVisible())
    w.models_dialog.close()
    w.search_bar.text_model_button.click()
    qtbot.waitUntil(lambda: w.models_dialog.isVisible())
