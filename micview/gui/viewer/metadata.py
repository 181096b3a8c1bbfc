"""The metadata tree of an image: typed instrument columns first (what one filters by), then the raw tree."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from micview.core.store import ImageRow
from micview.core.store.images import INSTRUMENT_COLUMNS


class MetadataTree(QTreeWidget):
    """Typed instrument columns first (what one filters by), then the file's raw metadata as a tree."""

    def __init__(self) -> None:
        super().__init__()
        self.setHeaderLabels(["Field", "Value"])
        self.setColumnWidth(0, 170)
        self.setAlternatingRowColors(True)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a long path keeps its file name

    def show_row(
        self,
        row: ImageRow | None,
        raw: dict[str, Any],
        labels: dict[str, str] | None = None,
        fields: dict[str, str | None] | None = None,
    ) -> None:
        """The image's facts; ``labels`` (task → text), when given, come first: what one labels and filters by;
        then ``fields``, the columns the user imported for it (description, contributor…)."""
        self.clear()
        if row is None:
            return
        if labels:
            self._group("Labels", labels).setExpanded(True)
        shown = {k: v for k, v in (fields or {}).items() if v not in (None, "")}
        if shown:
            self._group("Imported columns", shown).setExpanded(True)
        image = self._group("Image", {
            "file": row.path, "format": row.format, "size": f"{row.width} × {row.height} px",
            "frames": row.frames, "pixel type": f"{row.dtype}, {row.bit_depth}-bit, {row.mode}",
            "file size": f"{(row.size_bytes or 0) / 1e6:.2f} MB",
        })  # fmt: skip
        self._group("Instrument", {c: getattr(row, c) for c in INSTRUMENT_COLUMNS if getattr(row, c) is not None})
        raw_item = self._group("Raw metadata", {})
        _fill(raw_item, raw)
        image.setExpanded(True)
        self.findItems("Instrument", Qt.MatchFlag.MatchExactly)[0].setExpanded(True)

    def _group(self, title: str, values: dict[str, Any]) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self, [title])
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        for key, value in values.items():
            child = QTreeWidgetItem(item, [key, _fmt(value)])
            child.setToolTip(1, str(value))
        if not values and title == "Instrument":
            QTreeWidgetItem(item, ["", "(none in this file)"])
        return item


def _fmt(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _fill(parent: QTreeWidgetItem, value: Any, depth: int = 0) -> None:
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in list(items)[:500]:
        node = QTreeWidgetItem(parent, [str(key)])
        if isinstance(child, dict | list) and depth < 8:
            _fill(node, child, depth + 1)
        else:
            node.setText(1, _fmt(child))
            node.setToolTip(1, str(child))
