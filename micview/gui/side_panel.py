"""The side panel: an Info tab for the current image, and reserved tabs other features plug into.

Plug-in point for Classify, VQA and Analysis (their own issues): call :func:`register_panel` at import time
with a factory ``(context) -> QWidget``; :class:`SidePanel` builds every registered tab when the window is
made, in registration order, replacing the placeholder of the same name. ``context`` is the
:class:`~micview.gui.main_window.MainWindow` (it offers ``project``, ``selection``, ``jobs``, ``labels``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHeaderView, QLabel, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from micview.gui.viewer import MetadataTree

PanelFactory = Callable[[Any], QWidget]
RESERVED = {
    "Classify": "Train and run classifiers on your labels (coming in the classification release).",
    "VQA": "Ask a vision-language model about the selected images (coming in the VQA release).",
    "Analysis": "Cluster quality, outliers and label consistency of the embeddings (coming soon).",
}
_REGISTRY: dict[str, PanelFactory] = {}
# micview's own panels, imported when the first window is built (Qt-only modules; models load on use).
_BUILTIN_PANELS = ("micview.gui.panels.classify_panel", "micview.gui.panels.vqa_panel")


def _register_builtin() -> None:
    import importlib

    for module in _BUILTIN_PANELS:
        importlib.import_module(module).register()


def register_panel(name: str, factory: PanelFactory) -> None:
    """Add (or replace) a side-panel tab; call before the main window is created."""
    _REGISTRY[name] = factory


def _placeholder(text: str) -> QWidget:
    w = QWidget()
    label = QLabel(text, wordWrap=True, alignment=Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet("color: #8a9099; padding: 24px;")
    QVBoxLayout(w).addWidget(label)
    return w


class InfoTab(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.title = QLabel("No image selected", wordWrap=True)
        self.title.setStyleSheet("font-weight: bold; padding: 4px;")
        self.picture = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.tree = MetadataTree()
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        col = QVBoxLayout(self)
        col.setContentsMargins(4, 4, 4, 4)
        col.addWidget(self.title)
        col.addWidget(self.picture)
        col.addWidget(self.tree, 1)


class SidePanel(QTabWidget):
    def __init__(self, context: Any) -> None:
        super().__init__()
        self.info = InfoTab()
        self.addTab(self.info, "Info")
        _register_builtin()
        names = [*RESERVED, *[n for n in _REGISTRY if n not in RESERVED]]
        for name in names:
            factory = _REGISTRY.get(name)
            self.add_tab(name, factory(context) if factory else _placeholder(RESERVED[name]))

    def project_changed(self) -> None:
        """Tell plug-in tabs that another project is open: each one with a ``refresh()`` re-reads it."""
        for i in range(self.count()):
            refresh = getattr(self.panel(i), "refresh", None)
            if callable(refresh):
                refresh()

    def add_tab(self, name: str, widget: QWidget) -> QWidget:
        """Add a tab (or replace the one named ``name``) and return the widget.

        Plug-in panels sit in a scroll area, so a wide panel cannot force the whole window wider.
        """
        scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        scroll.setWidget(widget)
        for i in range(self.count()):
            if self.tabText(i) == name:
                self.removeTab(i)
                self.insertTab(i, scroll, name)
                return widget
        self.addTab(scroll, name)
        return widget

    def panel(self, index: int) -> QWidget:
        """The widget of tab ``index`` (inside its scroll area)."""
        w = self.widget(index)
        return w.widget() if isinstance(w, QScrollArea) else w
