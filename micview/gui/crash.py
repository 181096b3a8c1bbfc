"""When the window meets a bug: a dialog with the error and the log's path, instead of a window that vanishes.

The command line prints a short message and a log path (:mod:`micview.cli`); the window does the same in a
dialog. :func:`install_crash_dialog` sends micview's log records to the session log (``micview.log``, see
:mod:`micview.core.logs`), keeps native crashes' tracebacks (``faulthandler``) beside it, and routes any
uncaught exception — on the GUI thread or a worker thread — to one place that writes a crash log and shows
the dialog on the GUI thread. Work already saved stays saved: the project writes are transactions.
"""

from __future__ import annotations

import faulthandler
import logging
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from micview.core.logs import log_dir, start_session_log, write_crash_log
from micview.core.store.integrity import damage_error

_log = logging.getLogger("micview.gui")
_MAX_DIALOGS = 3  # a bug that repeats on every repaint must not bury the screen in dialogs


class _Reporter(QObject):
    """Lives on the GUI thread; a signal emitted from any thread shows the dialog there."""

    crashed = Signal(str, str, str)  # the error in one line, its traceback, the crash log's path
    damaged = Signal(str)  # a read reached a damaged page of a project file: what to do about it

    def __init__(self, argv: list[str]) -> None:
        super().__init__()
        self.argv = argv
        self.shown = 0
        self.dialog: QMessageBox | None = None
        self.crashed.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self.damaged.connect(self._show_damaged, Qt.ConnectionType.QueuedConnection)

    def report(self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        exc.__traceback__ = tb
        if (damage := damage_error(exc)) is not None:  # not a bug: the project file is damaged there
            logging.getLogger("micview.project").warning(str(damage))
            self.damaged.emit(str(damage))
            return
        _log.error("unexpected error", exc_info=(kind, exc, tb))
        path = write_crash_log(exc, self.argv)
        details = "".join(traceback.format_exception(kind, exc, tb))
        self.crashed.emit(f"{kind.__name__}: {exc}", details, str(path) if path else "")

    def _show_damaged(self, message: str) -> None:
        if self.shown >= _MAX_DIALOGS or (self.dialog is not None and self.dialog.isVisible()):
            return
        self.shown += 1
        self.dialog = QMessageBox(QMessageBox.Icon.Warning, "The project file is damaged", message)
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog.show()

    def _show(self, what: str, details: str, path: str) -> None:
        if self.shown >= _MAX_DIALOGS or (self.dialog is not None and self.dialog.isVisible()):
            return
        self.shown += 1
        self.dialog = crash_dialog(what, details, Path(path) if path else None)
        self.dialog.show()


def crash_dialog(what: str, details: str, log: Path | None, parent: QWidget | None = None) -> QMessageBox:
    """The dialog: what went wrong in one line, where the details are, and the traceback under "Show Details"."""
    box = QMessageBox(QMessageBox.Icon.Critical, "micview: unexpected error", "", QMessageBox.StandardButton.Ok, parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    what = what if len(what) <= 300 else what[:297] + "..."
    box.setText(f"micview met an unexpected error (a bug in micview, not a problem with your data):\n\n{what}")
    where = f"The details are in\n{log}\nPlease send that file with a report." if log else "No log could be written."
    box.setInformativeText(f"Work saved before the error is kept.\n\n{where}")
    box.setDetailedText(details)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if log is not None:
        folder = box.addButton("Open log folder", QMessageBox.ButtonRole.ActionRole)
        folder.clicked.disconnect()  # keep the dialog open: the user may still want to read it
        folder.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(log.parent))))
    return box


_installed: dict[str, Any] = {}


def _fault_file() -> IO[str] | None:
    try:
        log_dir().mkdir(parents=True, exist_ok=True)
        return (log_dir() / "faults.log").open("a", encoding="utf-8")
    except OSError:
        return None


def install_crash_dialog(argv: list[str]) -> Path | None:
    """Log to ``micview.log``, show a dialog for any uncaught exception; returns the session log's path.

    Call once the QApplication exists. Calling it again changes nothing.
    """
    if "reporter" in _installed:
        return _installed.get("log")
    from micview.core.build_info import describe

    app = QApplication.instance()
    reporter = _Reporter(argv)
    if app is not None:
        reporter.moveToThread(app.thread())
    _installed.update(reporter=reporter, log=start_session_log())
    _log.info("%s started", describe())
    sys.excepthook = reporter.report
    threading.excepthook = lambda a: reporter.report(a.exc_type, a.exc_value or a.exc_type(), a.exc_traceback)
    if (faults := _fault_file()) is not None:  # a crash in native code (Qt, torch) leaves its traceback here
        _installed["faults"] = faults
        faulthandler.enable(faults)
    return _installed["log"]  # type: ignore[no-any-return]
