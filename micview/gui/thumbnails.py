"""Decoded thumbnails for every view (grid, map hover card, Info tab, plate drops), in one LRU of QPixmaps.

Thumbnails are JPEG BLOBs in the project; one is read and decoded only when a view first paints it, on the GUI
thread (a few hundred microseconds each) — with the project's GUI-thread connection.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QPixmap

from micview.core.store.integrity import damage_error

if TYPE_CHECKING:
    from micview.core.store import Project


class ThumbnailCache:
    """``get(image_id)`` → the thumbnail as a QPixmap, or ``None`` when the image has none."""

    def __init__(self, project: Callable[[], Project | None], size: int = 2000) -> None:
        self._project = project
        self.size = size
        self._cache: OrderedDict[int, QPixmap | None] = OrderedDict()
        # Told when a thumbnail lies on a damaged page of the file (that image then shows none; see gui/safety.py).
        self.on_damaged: Callable[[BaseException], object] | None = None

    def get(self, image_id: int) -> QPixmap | None:
        if image_id in self._cache:
            self._cache.move_to_end(image_id)
            return self._cache[image_id]
        pixmap = self._decode(image_id)
        self._cache[image_id] = pixmap
        if len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return pixmap

    def clear(self) -> None:
        self._cache.clear()

    def _decode(self, image_id: int) -> QPixmap | None:
        project = self._project()
        try:
            thumb = project.images.thumbnail(image_id) if project is not None else None
        except sqlite3.DatabaseError as exc:
            if damage_error(exc) is None:
                raise
            if self.on_damaged is not None:
                self.on_damaged(exc)
            return None
        if thumb is None:
            return None
        pixmap = QPixmap()
        return pixmap if pixmap.loadFromData(thumb.data) else None
