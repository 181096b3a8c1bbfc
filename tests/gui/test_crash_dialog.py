"""An uncaught error in the window: a dialog with the error and the log's path, the traceback in the logs."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from micview.gui import crash


@pytest.fixture
def installed(qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MICVIEW_LOG_DIR", str(tmp_path))
    monkeypatch.setattr(crash, "_installed", {})
    monkeypatch.setattr(crash, "_fault_file", lambda: None)  # pytest keeps its own faulthandler
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    log = crash.install_crash_dialog(["p.micview"])
    assert log == tmp_path / "micview.log"
    yield log
    for handler in list(crash.logging.getLogger("micview").handlers):
        if getattr(handler, "baseFilename", None) == str(log):
            crash.logging.getLogger("micview").removeHandler(handler)
            handler.close()


def _dialogs() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def _raise(message: str) -> None:
    try:
        raise RuntimeError(message)
    except RuntimeError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)


def test_error_on_the_gui_thread(qtbot, installed: Path, tmp_path: Path) -> None:
    _raise("boom in a slot")
    qtbot.waitUntil(lambda: len(_dialogs()) == 1)
    box = _dialogs()[0]
    (crash_log,) = tmp_path.glob("crash-*.log")
    assert "boom in a slot" in box.text() and str(crash_log) in box.informativeText()
    assert "Traceback" in box.detailedText()
    report = crash_log.read_text()
    assert "RuntimeError: boom in a slot" in report and "command: micview p.micview" in report
    assert "boom in a slot" in installed.read_text() and "started" in installed.read_text()
    box.close()


def test_error_in_a_worker_thread_reaches_the_gui_thread(qtbot, installed: Path) -> None:
    def work() -> None:
        raise ValueError("bad value in a worker")

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: len(_dialogs()) == 1)
    assert "ValueError: bad value in a worker" in _dialogs()[0].text()
    _dialogs()[0].close()


def test_repeated_errors_do_not_bury_the_screen(qtbot, installed: Path, tmp_path: Path) -> None:
    for i in range(5):
        _raise(f"repaint error {i}")
    qtbot.wait(50)
    assert len(_dialogs()) == 1  # one at a time; every error is still logged
    assert len(list(tmp_path.glob("crash-*.log"))) == 5
    _dialogs()[0].close()
