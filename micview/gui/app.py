"""Start the application: ``micview`` (welcome page) or ``micview PROJECT.micview`` (that project).

Imports only Qt, pyqtgraph and the light core here; the ml layer (torch, umap) loads when first used, so the
window appears in about a second. ``MICVIEW_SMOKE_TEST=1`` shows the window and quits with 0 (the frozen-app
check in CI), printing the time to the first shown window.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

_START = time.perf_counter()


def create_app(argv: list[str]) -> object:
    from PySide6.QtWidgets import QApplication

    from micview.gui.settings import APPLICATION, ORGANISATION
    from micview.gui.theme import apply_dark_theme

    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    apply_dark_theme(app)  # type: ignore[arg-type]
    return app


def run_app(argv: list[str]) -> int:
    """Open the main window (and the project named in ``argv``); returns the exit code."""
    app = create_app(argv)
    from PySide6.QtCore import QTimer

    from micview.gui.crash import install_crash_dialog

    install_crash_dialog(argv)  # an uncaught error: a dialog with the log's path, never a vanished window

    from micview.gui.main_window import MainWindow

    window = MainWindow()
    if window.settings.geometry is not None:
        window.restoreGeometry(window.settings.geometry)
    window.show()
    projects = [a for a in argv if a.endswith(".micview")]
    if projects:
        QTimer.singleShot(0, lambda: window.ctl.project.open_async(Path(projects[0])))  # the window stays live
    if os.environ.get("MICVIEW_SMOKE_TEST"):
        app.processEvents()  # type: ignore[attr-defined]
        print(f"first window shown after {time.perf_counter() - _START:.3f} s (at {time.time():.6f})")
        QTimer.singleShot(0, window.close)
    return int(app.exec())  # type: ignore[attr-defined]
