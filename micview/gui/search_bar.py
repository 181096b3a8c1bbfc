"""The search bar: plain-language search (CLIP-family models) and "more like this" (any model)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget


class SearchBar(QWidget):
    text_search = Signal(str)
    similar_search = Signal()
    model_changed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.edit = QLineEdit(placeholderText="Search in plain language, e.g. “lamellar eutectic”")
        self.edit.setClearButtonEnabled(True)
        self.edit.setMinimumWidth(360)
        self.search_button = QPushButton("Search")
        self.similar_button = QPushButton("More like this")
        self.similar_button.setToolTip("Images most similar to the selected one (works with every model)")
        self.model_combo = QComboBox()
        self.model_combo.setToolTip("Embedding model used for the map and for search")
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.message = QLabel()
        self.message.setStyleSheet("color: #ffb74d;")
        self.message.setWordWrap(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.search_button)
        row.addWidget(self.similar_button)
        row.addWidget(QLabel("Model"))
        row.addWidget(self.model_combo)
        self.edit.returnPressed.connect(self._on_search)
        self.search_button.clicked.connect(self._on_search)
        self.similar_button.clicked.connect(self.similar_search.emit)
        self.model_combo.currentIndexChanged.connect(lambda _i: self.model_changed.emit(self.model_id))

    @property
    def model_id(self) -> str:
        return str(self.model_combo.currentData() or "")

    def set_models(self, models: list[tuple[str, str, bool]], current: str) -> None:
        """``(id, description, has_text)`` per model; text-capable ones are marked so users know."""
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for model_id, description, has_text in models:
            self.model_combo.addItem(f"{model_id}{'  · text' if has_text else ''}", model_id)
            self.model_combo.setItemData(self.model_combo.count() - 1, description, 3)  # ToolTipRole
        self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(current)))
        self.model_combo.blockSignals(False)

    def _on_search(self) -> None:
        text = self.edit.text().strip()
        if text:
            self.text_search.emit(text)
