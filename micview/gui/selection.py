"""Two parts of the :class:`~micview.gui.session.Session`: which images are selected, and the search results.

Why shared objects and not widget-to-widget calls (architecture.md, napari EventedModel / glue Hub): the
thumbnail grid, the map, the side panel and the Classify tab all observe the same :class:`Selection`, so
adding a new view never means wiring it to every other one. Setters ignore no-op changes, which is what
breaks the grid → selection → grid feedback loop.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import QObject, Signal


class Selection(QObject):
    """The selected image ids (ordered as set) and the *current* image (the one the Info tab shows).

    ``changed`` carries the object that made the change (or ``None``) so a view can skip its own echo.
    """

    changed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids: tuple[int, ...] = ()
        self._set: frozenset[int] = frozenset()
        self._current: int | None = None

    @property
    def ids(self) -> tuple[int, ...]:
        return self._ids

    @property
    def id_set(self) -> frozenset[int]:
        return self._set

    @property
    def current(self) -> int | None:
        return self._current

    def as_array(self) -> np.ndarray:
        return np.fromiter(self._ids, np.int64, len(self._ids))

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, image_id: object) -> bool:
        return image_id in self._set

    def set(self, ids: Iterable[int] | np.ndarray, source: object = None, current: int | None = None) -> None:
        """Replace the selection; ``current`` defaults to the first id (or keeps the old one if still in).

        An integer array is the fast way in (a box over half of a million-point map): ~4x quicker than a list.
        """
        listed = ids.astype(np.int64).ravel().tolist() if isinstance(ids, np.ndarray) else [int(i) for i in ids]
        new_set = frozenset(listed)
        new = tuple(listed) if len(new_set) == len(listed) else tuple(dict.fromkeys(listed))
        if current is None:
            current = self._current if self._current in new_set else (new[0] if new else None)
        if new_set == self._set and current == self._current:
            return
        self._ids, self._set, self._current = new, new_set, current
        self.changed.emit(source)

    def clear(self, source: object = None) -> None:
        self.set((), source)


class Results(QObject):
    """The ranked result of the last search (ids best first, with scores); empty means "no search"."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ids = np.zeros(0, np.int64)
        self.scores = np.zeros(0, np.float32)
        self.query = ""

    def set(self, ids: np.ndarray, scores: np.ndarray, query: str) -> None:
        self.ids, self.scores, self.query = np.asarray(ids, np.int64), np.asarray(scores, np.float32), query
        self.changed.emit()

    def clear(self) -> None:
        if len(self.ids) or self.query:
            self.set(np.zeros(0, np.int64), np.zeros(0, np.float32), "")

    @property
    def active(self) -> bool:
        return bool(self.query)
