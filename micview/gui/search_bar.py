"""The search bar: plain-language search (CLIP-family models), "more like this" (any model), and the model.

Return in the search box searches (the viewer opens on Return only when the grid has focus). What a search
cannot do (an image-only model, nothing selected) is said right under the box, where the user looks.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QToolButton, QToolTip, QWidget

from micview.gui.controllers.maps import MapController
from micview.gui.controllers.search import SearchController
from micview.gui.session import Session
from micview.gui.state import ErrorEntry
from micview.gui.widgets import compact_combo


class SearchBar(QWidget):
    models_requested = Signal()  # "Add a text model…": the window opens the Models dialog

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.search = SearchController(session)
        self.maps = MapController(session)
        self.edit = QLineEdit(placeholderText="Search in plain language, e.g. “lamellar eutectic”")
        self.edit.setClearButtonEnabled(True)
        self.edit.setMinimumWidth(160)
        self.search_button = QPushButton("Search")
        self.similar_button = QPushButton("More like this")
        self.similar_button.setToolTip("Images most similar to the selected one (works with every model)")
        self.model_combo = compact_combo(16)
        self.model_combo.setMaximumWidth(260)
        self.model_combo.setToolTip("Embedding model used for the map and for search")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 3)
        row.addWidget(self.search_button)
        row.addWidget(self.similar_button)
        row.addWidget(QLabel("Model"))
        row.addWidget(self.model_combo, 1)
        self.text_model_button = QToolButton(autoRaise=True)
        self.text_model_button.setText("Add a text model…")
        self.text_model_button.setStyleSheet("QToolButton { color: #6ea8ff; }")
        self.text_model_button.setToolTip("The model in use is image-only: search in plain language needs a "
                                          "CLIP or SigLIP model (Models…)")  # fmt: skip
        self.text_model_button.clicked.connect(self.models_requested)
        row.addWidget(self.text_model_button)
        self.edit.returnPressed.connect(self._on_search)
        self.search_button.clicked.connect(self._on_search)
        self.similar_button.clicked.connect(self.search.similar)
        self.model_combo.currentIndexChanged.connect(self._on_model_chosen)
        session.errors.reported.connect(self._on_error)
        session.project_changed.connect(self._on_project_changed)
        session.models_changed.connect(self._on_models_changed)
        session.model_changed.connect(self._on_model_changed)

    @property
    def model_id(self) -> str:
        return str(self.model_combo.currentData() or "")

    def set_models(self, models: list[tuple[str, str, bool]], current: str) -> None:
        """``(id, description, has_text)`` per model; text-capable ones are marked so users know."""
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for model_id, description, has_text in models:
            self.model_combo.addItem(f"{model_id}{'  · text' if has_text else ''}", model_id)
            self.model_combo.setItemData(self.model_combo.count() - 1, description, Qt.ItemDataRole.ToolTipRole)
        if self.model_combo.findData(current) < 0 and current:
            self.model_combo.addItem(current, current)
        self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(current)))
        self.model_combo.blockSignals(False)
        self.text_model_button.setVisible(not any(has_text for m, _, has_text in models if m == current))

    def _on_project_changed(self, project: object) -> None:
        if project is not None:
            self.set_models(self.maps.model_choices(), self.session.model_id)

    def _on_models_changed(self) -> None:
        """A model was added, downloaded or removed: list what there is now."""
        self.set_models(self.maps.model_choices(), self.session.model_id)

    def _on_model_changed(self, model_id: str) -> None:
        if model_id != self.model_id:
            self.set_models(self.maps.model_choices(), model_id)

    def _on_model_chosen(self, _index: int) -> None:
        if self.model_id:
            self.maps.set_model(self.model_id)

    def _on_search(self) -> None:
        self.search.text(self.edit.text())

    def _on_error(self, entry: ErrorEntry) -> None:
        if entry.title == "Search":
            QToolTip.showText(self.mapToGlobal(self.rect().bottomLeft()), entry.message, self)
