"""The side panel: an Info tab for the current image, and the tabs features plug into.

Plug-in point for Classify, VQA and Analysis: call :func:`register_panel` at import time with a factory
``(session) -> QWidget``; :class:`SidePanel` builds every registered tab when the window is made, in
registration order, replacing the placeholder of the same name. The panel receives the
:class:`~micview.gui.session.Session` (typed) — never the main window — observes it, and acts through
controllers (:mod:`micview.gui.controllers`). Tabs sit in vertical scroll areas: a panel is given the dock's
width and must fit it (wrap text, scroll tables); it can never widen the window.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHeaderView, QLabel, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from micview.core.store import Project
from micview.gui.session import Session
from micview.gui.viewer.metadata import MetadataTree
from micview.gui.widgets import wrapping_label

PanelFactory = Callable[[Session], QWidget]
RESERVED = {
    "Classify": "Train and run classifiers on your labels.",
    "VQA": "Ask a vision-language model about the selected images.",
    "Analysis": "Prompt groups, labels and similarity in the embeddings; data quality.",
}
_REGISTRY: dict[str, PanelFactory] = {}
# micview's own panels, imported when the first window is built (Qt-only modules; models load on use).
_BUILTIN_PANELS = (
    "micview.gui.panels.classify_panel", "micview.gui.panels.vqa_panel", "micview.gui.panels.watch_panel",
    "micview.gui.panels.analysis_panel",
)  # fmt: skip


def _register_builtin() -> None:
    import importlib

    for module in _BUILTIN_PANELS:
        importlib.import_module(module).register()


def register_panel(name: str, factory: PanelFactory) -> None:
    """Add (or replace) a side-panel tab; ``factory(session)`` makes its widget when a window is created."""
    _REGISTRY[name] = factory


def _placeholder(text: str) -> QWidget:
    w = QWidget()
    label = QLabel(text, wordWrap=True, alignment=Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet("color: #8a9099; padding: 24px;")
    QVBoxLayout(w).addWidget(label)
    return w


class InfoTab(QWidget):
    """The current image: name, thumbnail, file facts, instrument metadata and the raw metadata tree."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.title = wrapping_label("No image selected", "font-weight: bold; padding: 4px;")
        self.empty = wrapping_label(
            "Click a thumbnail or a point of the map to see the image's file facts, instrument metadata (pixel size, "
            "voltage, magnification, detector) and everything else its file holds. Double-click opens the viewer.",
            "color: #8a9099; padding: 4px;",
        )
        self.picture = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumHeight(0)
        self.tree = MetadataTree()
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.tree.setColumnWidth(0, 130)
        col = QVBoxLayout(self)
        col.setContentsMargins(4, 4, 4, 4)
        col.addWidget(self.title)
        col.addWidget(self.empty)
        col.addWidget(self.picture)
        col.addWidget(self.tree, 1)
        col.addStretch(0)
        session.selection.changed.connect(self._on_selection_changed)
        session.project_changed.connect(lambda _p: self._on_selection_changed(None))
        session.fields_changed.connect(lambda: self._on_selection_changed(None))
        session.labels_changed.connect(lambda _task: self._on_selection_changed(None))

    def _on_selection_changed(self, _source: object) -> None:
        s = self.session
        image_id = s.selection.current
        row = s.catalog.row(image_id) if image_id is not None else None
        self.empty.setVisible(row is None)
        self.tree.setVisible(row is not None)
        if row is None or s.project is None:
            self.title.setText("No image selected")
            self.picture.clear()
            self.tree.show_row(None, {})
            return
        more = f"  (+{len(s.selection) - 1} more selected)" if len(s.selection) > 1 else ""
        self.title.setText(row.name + more)
        pixmap = s.thumbnails.get(row.id)
        if pixmap is not None:
            self.picture.setPixmap(pixmap.scaled(220, 220, Qt.AspectRatioMode.KeepAspectRatio,
                                                 Qt.TransformationMode.SmoothTransformation))  # fmt: skip
        project = s.project
        self.tree.show_row(
            row, project.images.metadata(row.id), current_labels(project, row.id), project.fields.of_image(row.id)
        )


def current_labels(project: Project, image_id: int) -> dict[str, str]:
    """Task → "label" (the user's), with "model: class 87 %" beside it where a model predicted one."""
    user: dict[str, str | None] = {}
    model: dict[str, str] = {}
    for a in project.labels.history(image_id):  # oldest first: the last row per task wins
        if a.source == "model":
            model[a.task] = f"{a.label} {a.score:.0%}" if a.score is not None and a.label else a.label or ""
        else:
            user[a.task] = a.label
    out = {t: v for t, v in user.items() if v}
    for task, pred in model.items():
        if pred:
            out[task] = f"{out[task]}  ·  model: {pred}" if task in out else f"model: {pred}"
    return out


class SidePanel(QTabWidget):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.setUsesScrollButtons(True)
        self.setElideMode(Qt.TextElideMode.ElideRight)
        self.info = InfoTab(session)
        self.addTab(self.info, "Info")
        _register_builtin()
        names = [*RESERVED, *[n for n in _REGISTRY if n not in RESERVED]]
        for name in names:
            factory = _REGISTRY.get(name)
            self.add_tab(name, factory(session) if factory else _placeholder(RESERVED[name]))

    def add_tab(self, name: str, widget: QWidget) -> QWidget:
        """Add a tab (or replace the one named ``name``) and return the widget.

        Plug-in panels sit in a vertical scroll area as wide as the dock, so a wide panel cannot force the whole
        window wider; it has to wrap its text and scroll its tables instead.
        """
        scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
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

    def panel_named(self, name: str) -> QWidget | None:
        for i in range(self.count()):
            if self.tabText(i) == name:
                return self.panel(i)
        return None
