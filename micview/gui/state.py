"""The observable parts of the :class:`~micview.gui.session.Session` (besides Selection and Results).

Each part is a small QObject with one ``changed`` signal; setters that change nothing emit nothing. Only
controllers (and the session) write to them; views read them and listen.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from micview.core.store import ImageRow
from micview.core.store.integrity import damage_error

if TYPE_CHECKING:
    from micview.core.store import Project


class ImageCatalog(QObject):
    """The project's readable images (``status = 'ok'``) in insertion order, with an id → row index."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[ImageRow] = []
        self._index: dict[int, int] = {}
        self.error: BaseException | None = None  # the list could not be read: the project file is damaged there

    def reload(self, project: Project | None) -> None:
        """Re-read the list from ``project`` (after opening it, an import, a re-scan).

        Where the list lies on a damaged page of the file it is empty and ``error`` says why (gui/safety.py tells
        the user); the window stays usable."""
        self.error = None
        try:
            rows = project.images.all(status="ok") if project is not None else []
        except sqlite3.DatabaseError as exc:
            if damage_error(exc) is None:
                raise
            rows, self.error = [], exc
        self.set_rows(rows)

    def set_rows(self, rows: list[ImageRow]) -> None:
        self.rows = rows
        self._index = {r.id: i for i, r in enumerate(rows)}
        self.changed.emit()

    def row(self, image_id: int) -> ImageRow | None:
        i = self._index.get(int(image_id))
        return self.rows[i] if i is not None else None

    def position(self, image_id: int) -> int | None:
        return self._index.get(int(image_id))

    def name(self, image_id: int) -> str:
        row = self.row(image_id)
        return row.name if row is not None else str(image_id)

    def __len__(self) -> int:
        return len(self.rows)


class ActiveTask(QObject):
    """The labelling task the number keys write to, and its classes in key order (``""``: no task)."""

    changed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = ""
        self.classes: list[str] = []

    def set(self, name: str, classes: list[str]) -> None:
        if name == self.name and classes == self.classes:
            return
        self.name, self.classes = name, list(classes)
        self.changed.emit(name)


class ShownImages(QObject):
    """The ids the browser shows, in its display order (filters and search ranking applied).

    Written by the browser after each refilter; read by "Export filtered" and the viewer's previous/next keys.
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ids = np.zeros(0, np.int64)
        self.filtering = False  # a filter or a ranking hides some images

    def set(self, ids: np.ndarray, filtering: bool) -> None:
        self.ids, self.filtering = np.asarray(ids, np.int64), filtering
        self.changed.emit()


@dataclass(frozen=True)
class MapData:
    """One 2-D map of the embeddings: row ``i`` of ``xy`` is image ``ids[i]``."""

    ids: np.ndarray
    xy: np.ndarray
    method: str
    model_id: str
    title: str


class MapState(QObject):
    """The map the scatter shows, the method the user chose, and what to say when there is none.

    ``message`` is shown instead of an empty map (e.g. "No embeddings yet"); ``action`` names what the empty
    state's button does (``"embed"``) or is empty. ``generation`` counts requests: a map computed for an older
    request is dropped when it arrives. ``changed()`` means a new map (or none); ``appended(ids, xy)`` means
    points were added to the shown one, whose other points did not change (views add them, keeping the zoom).
    """

    changed = Signal()
    appended = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data: MapData | None = None
        self.method = "umap"
        self.message = ""
        self.action = ""
        self.progress = ""
        self.generation = 0
        self.embedding = False  # vectors are being computed (the map will follow)

    def set_data(self, data: MapData | None, progress: str = "") -> None:
        self.data, self.progress = data, progress
        if data is not None:
            self.message, self.action = "", ""
        self.changed.emit()

    def append(self, ids: np.ndarray, xy: np.ndarray, title: str = "") -> None:
        """Add images to the shown map (``ids`` not on it yet, ``xy`` their ``(n, 2)`` places on it)."""
        data = self.data
        ids, xy = np.asarray(ids, np.int64).ravel(), np.asarray(xy, np.float32).reshape(-1, 2)
        if data is None or not len(ids):
            return
        grown_xy = np.concatenate([data.xy, xy.astype(data.xy.dtype)])
        self.data = MapData(np.concatenate([data.ids, ids]), grown_xy, data.method, data.model_id, title or data.title)
        self.appended.emit(ids, xy)

    def set_empty(self, message: str, action: str = "") -> None:
        self.data, self.message, self.action, self.progress = None, message, action, ""
        self.changed.emit()

    def set_progress(self, text: str) -> None:
        if text != self.progress:
            self.progress = text
            self.changed.emit()


@dataclass(frozen=True)
class Scores:
    """Class scores of a classifier for images: ``proba[i]`` are the scores of ``image_ids[i]``."""

    task: str  # the task the labels are written to (``<task>_group`` for grouped tasks)
    image_ids: np.ndarray
    proba: np.ndarray
    classes: list[str]

    def of(self, image_id: int) -> list[tuple[str, float]]:
        """(class, score) of one image, best first; empty when it has no scores."""
        hit = np.flatnonzero(self.image_ids == image_id)
        if not len(hit):
            return []
        p = self.proba[hit[0]]
        return [(self.classes[k], float(p[k])) for k in np.argsort(-p)]

    def predicted(self, ids: list[int]) -> dict[int, str]:
        row = {int(i): r for r, i in enumerate(self.image_ids.tolist())}
        return {i: self.classes[int(self.proba[row[i]].argmax())] for i in ids if i in row}


class ClassifyState(QObject):
    """What the Classify tab shows: the last scores, its status line, whether a job of it runs."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.scores: Scores | None = None
        self.status = ""
        self.busy = ""  # what runs now ("Classifying…"), empty when idle

    def update(self, **values: Any) -> None:
        for key, value in values.items():
            if not hasattr(self, key):
                raise AttributeError(key)
            setattr(self, key, value)
        self.changed.emit()


@dataclass(frozen=True)
class ErrorEntry:
    title: str
    message: str
    details: str = ""  # a traceback for a bug, empty for a MicviewError
    popup: bool = True  # whether the window shows a message box (else only the status bar)


class ErrorLog(QObject):
    """Every error of this session, newest last; ``reported(entry)`` lets the window show it."""

    reported = Signal(object)
    LIMIT = 200

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.entries: list[ErrorEntry] = []

    def report(self, title: str, message: str, details: str = "", *, popup: bool = True) -> ErrorEntry:
        entry = ErrorEntry(title, message, details, popup)
        self.entries = [*self.entries[-self.LIMIT + 1 :], entry]
        self.reported.emit(entry)
        return entry

    @property
    def last(self) -> ErrorEntry | None:
        return self.entries[-1] if self.entries else None


@dataclass(frozen=True)
class Notice:
    """A status-bar message that stays until the next one, with one-click actions.

    ``actions``: ``(button text, action id)`` pairs; the window knows the ids (``"import_errors"`` shows the
    files that could not be read, ``"embed"`` computes embeddings, ``"undo"`` undoes the last label change).
    """

    text: str
    actions: tuple[tuple[str, str], ...] = ()
