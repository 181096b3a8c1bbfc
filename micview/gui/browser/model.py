"""The image list as a Qt item model: filter and sort in plain Python over rows, thumbnails on demand.

Why not a QSortFilterProxyModel: at 100k rows its per-row virtual calls dominate; filtering and sorting a
list of indices in Python takes tens of milliseconds and the view only ever asks for the visible rows.
Thumbnails come from the session's shared cache, read and decoded only when the view paints them.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QPixmap

from micview.core.store import ImageRow
from micview.gui.browser.filtering import ColumnLookup, RowMatcher, parse

Index = QModelIndex | QPersistentModelIndex
ID_ROLE = Qt.ItemDataRole.UserRole + 1
LABEL_ROLE = Qt.ItemDataRole.UserRole + 2
PRED_ROLE = Qt.ItemDataRole.UserRole + 3
SCORE_ROLE = Qt.ItemDataRole.UserRole + 4
LABEL_ROLES = [LABEL_ROLE, Qt.ItemDataRole.ToolTipRole]  # what a label write changes in a row
MAX_RUNS = 64  # more separate places than this in one label write: one covering range, or a reset
ANY, NONE = "", "\0none"  # filter values: no filter / "has no label"
SORT_KEYS = {
    "Order added": "id", "Name": "name", "Folder": "folder", "Label": "label", "Prediction": "prediction",
    "Prediction score": "score", "Magnification": "magnification", "Pixel size": "pixel_size_nm",
    "Acquired": "acquired_at", "File size": "size_bytes", "Width": "width",
}  # fmt: skip


@dataclass
class Filter:
    """What the browser shows; ``text`` matches names, and ``column:value`` tokens match metadata."""

    folder: str = ANY
    label: str = ANY
    prediction: str = ANY
    text: str = ""
    sort: str = "id"
    descending: bool = False
    ranking: list[int] = field(default_factory=list)  # search results, best first: shown in this order only


class ImageListModel(QAbstractListModel):
    """``thumbnail(id)`` gives a row's picture; ``columns(name)`` the values of a filter column (see
    :mod:`micview.gui.browser.filtering`); after a refilter, ``matcher`` is the text filter that ran."""

    def __init__(
        self, thumbnail: Callable[[int], QPixmap | None] | None = None, columns: ColumnLookup | None = None
    ) -> None:
        super().__init__()
        self.thumbnail: Callable[[int], QPixmap | None] = thumbnail or (lambda _i: None)
        self.columns: ColumnLookup = columns or (lambda _c: None)
        self.rows: list[ImageRow] = []
        self._row_of_id: dict[int, int] = {}
        self.visible: list[int] = []  # indices into rows, in display order
        self.labels: dict[int, str] = {}
        self.predictions: dict[int, tuple[str, float | None]] = {}
        self.scores: dict[int, float] = {}
        self.filter = Filter()
        self.matcher = RowMatcher([], self.columns)
        self._rank = np.zeros(0, np.int64)  # row index → its place in the sorted (or ranked) order; -1: not in it
        self._pos: np.ndarray | None = None  # row index → its view row (-1: hidden); built when first needed

    # -- data in --------------------------------------------------------------------------------------------
    def set_rows(self, rows: list[ImageRow]) -> None:
        """Show these rows (the session's catalog) through the current filter."""
        self.rows = rows
        self._row_of_id = {r.id: i for i, r in enumerate(self.rows)}
        self.refilter()

    def set_annotations(self, labels: dict[int, str], predictions: dict[int, tuple[str, float | None]]) -> None:
        self.labels, self.predictions = labels, predictions
        needs_refilter = self.filter.label or self.filter.prediction or self.filter.sort in ("label", "prediction")
        if needs_refilter:
            self.refilter()
        elif self.visible:
            self.dataChanged.emit(self.index(0), self.index(len(self.visible) - 1), [LABEL_ROLE, PRED_ROLE])

    def update_labels(
        self, labels: Mapping[int, str | None], *, shown: bool = True, filtered: bool = False
    ) -> LabelUpdate:
        """User labels of some images were written: update those rows only.

        ``labels``: image id → its label now (``None``: none). ``shown``: they belong to the task the grid shows
        (:attr:`labels`); ``filtered``: the text filter names their task's column (its values, shared with the
        filter columns, are already updated). Rows whose label changed get ``dataChanged``; with a filter on
        the label, rows that leave or enter the view are removed or inserted in place. Only a sort by label
        (rows move) or changes scattered over more than :data:`MAX_RUNS` places reset the model.
        """
        update = LabelUpdate()
        if shown:
            for image_id, label in labels.items():
                update.before[image_id] = self.labels.get(image_id)
                if label is None:
                    self.labels.pop(image_id, None)
                else:
                    self.labels[image_id] = label
        flt = self.filter
        if shown and flt.sort == "label" and not flt.ranking:
            update.reset = True
            self.refilter()  # rows move: their new places are a new sort
            return update
        row_indices = [ri for i in labels if (ri := self._row_of_id.get(i)) is not None]
        refiltering = (shown and bool(flt.label)) or filtered
        pos = self._positions()
        changed: list[int] = []  # view rows whose label changed and that stay
        leave: list[int] = []  # view rows that no longer pass the filter
        enter: list[int] = []  # row indices that now pass it
        for ri in row_indices:
            at = int(pos[ri])
            keep = not refiltering or (self._rank[ri] >= 0 and self._keep(self.rows[ri], flt))
            if at >= 0 and keep:
                changed.append(at)
            elif at >= 0:
                leave.append(at)
            elif keep:
                enter.append(ri)
        if shown and changed:
            runs = row_runs(sorted(changed))
            if len(runs) > MAX_RUNS:  # one range that covers them: the view repaints what it shows
                runs = [(runs[0][0], runs[-1][1])]
            for start, stop in runs:
                self.dataChanged.emit(self.index(start), self.index(stop), LABEL_ROLES)
        if leave or enter:
            self._move(leave, enter, update)
        return update

    def _move(self, leave: list[int], enter: list[int], update: LabelUpdate) -> None:
        """Remove view rows ``leave`` and insert rows ``enter`` at their places in the order."""
        rank = self._rank
        update.removed = [self.rows[self.visible[r]].id for r in leave]
        update.inserted = [self.rows[ri].id for ri in enter]
        gone = row_runs(sorted(leave))
        enter.sort(key=lambda ri: int(rank[ri]))
        places = [bisect.bisect_left(self.visible, int(rank[ri]), key=lambda v: int(rank[v])) for ri in enter]
        if len(gone) + len(set(places)) > MAX_RUNS:  # scattered: one reset costs less than thousands of moves
            leaving = {self.visible[r] for r in leave}
            kept = [v for v in self.visible if v not in leaving]
            update.reset = True
            self.beginResetModel()
            self.visible = list(heapq.merge(kept, enter, key=lambda v: int(rank[v])))
            self._pos = None
            self.endResetModel()
            return
        for start, stop in reversed(gone):  # from the end, so the earlier rows keep their numbers
            self.beginRemoveRows(QModelIndex(), start, stop)
            del self.visible[start : stop + 1]
            self._pos = None
            self.endRemoveRows()
        i = 0
        while i < len(enter):
            j = i
            while j + 1 < len(enter) and places[j + 1] == places[i]:
                j += 1
            run = enter[i : j + 1]
            at = bisect.bisect_left(self.visible, int(rank[run[0]]), key=lambda v: int(rank[v]))
            self.beginInsertRows(QModelIndex(), at, at + len(run) - 1)
            self.visible[at:at] = run
            self._pos = None
            self.endInsertRows()
            i = j + 1

    def _positions(self) -> np.ndarray:
        if self._pos is None or len(self._pos) != len(self.rows):
            pos = np.full(len(self.rows), -1, np.int64)
            if self.visible:
                pos[np.asarray(self.visible, np.int64)] = np.arange(len(self.visible), dtype=np.int64)
            self._pos = pos
        return self._pos

    def set_filter(self, flt: Filter) -> None:
        self.filter = flt
        self.refilter()

    def set_ranking(self, ids: list[int], scores: list[float]) -> None:
        self.scores = dict(zip(ids, scores, strict=True))
        self.filter.ranking = list(ids)
        self.refilter()

    def folders(self) -> list[str]:
        return sorted({r.folder for r in self.rows})

    # -- filtering --------------------------------------------------------------------------------------------
    def refilter(self) -> None:
        self.beginResetModel()
        flt = self.filter
        if flt.ranking:
            order = [self._row_of_id[i] for i in flt.ranking if i in self._row_of_id]
        else:
            order = self._sorted(list(range(len(self.rows))))
        self.matcher = RowMatcher(parse(flt.text), self.columns)
        self.visible = [i for i in order if self._keep(self.rows[i], flt)] if self._filtering(flt) else order
        self._rank = np.full(len(self.rows), -1, np.int64)
        if order:
            self._rank[np.asarray(order, np.int64)] = np.arange(len(order), dtype=np.int64)
        self._pos = None
        self.endResetModel()

    def _filtering(self, flt: Filter) -> bool:
        return bool(flt.folder or flt.label or flt.prediction or self.matcher.terms)

    def _keep(self, row: ImageRow, flt: Filter) -> bool:
        if flt.folder and row.folder != flt.folder:
            return False
        if flt.label and self.labels.get(row.id) != (None if flt.label == NONE else flt.label):
            return False
        pred = self.predictions.get(row.id, (None, None))[0]
        if flt.prediction and pred != (None if flt.prediction == NONE else flt.prediction):
            return False
        return self.matcher(row)

    def _sorted(self, order: list[int]) -> list[int]:
        key = self.filter.sort
        if key == "id":
            return order[::-1] if self.filter.descending else order
        values = [self._sort_value(self.rows[i], key) for i in order]
        missing = [i for i, v in zip(order, values, strict=True) if v is None]
        present = sorted(((v, i) for i, v in zip(order, values, strict=True) if v is not None),
                         reverse=self.filter.descending)  # fmt: skip
        return [i for _, i in present] + missing  # unknown values last, whatever the direction

    def _sort_value(self, row: ImageRow, key: str) -> Any:
        if key == "label":
            return self.labels.get(row.id)
        if key == "prediction":
            return self.predictions.get(row.id, (None, None))[0]
        if key == "score":
            return self.predictions.get(row.id, (None, None))[1]
        value = getattr(row, key)
        return value.lower() if isinstance(value, str) else value

    # -- Qt model API -----------------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.visible)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.visible):
            return None
        row = self.rows[self.visible[index.row()]]
        if role == Qt.ItemDataRole.DisplayRole:
            return row.name
        if role == ID_ROLE:
            return row.id
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbnail(row.id)
        if role == LABEL_ROLE:
            return self.labels.get(row.id)
        if role == PRED_ROLE:
            return self.predictions.get(row.id)
        if role == SCORE_ROLE:
            return self.scores.get(row.id) if self.filter.ranking else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(row, self.labels.get(row.id))
        return None

    # -- ids <-> rows -----------------------------------------------------------------------------------------
    def id_at(self, view_row: int) -> int:
        return self.rows[self.visible[view_row]].id

    def view_rows_of(self, ids: set[int] | frozenset[int]) -> list[int]:
        """Visible rows of ``ids`` in display order (ids filtered out are simply not there)."""
        if not ids:
            return []
        if len(ids) * 4 < len(self.visible):
            pos = self._positions()
            return sorted(int(p) for i in ids if (ri := self._row_of_id.get(i)) is not None and (p := pos[ri]) >= 0)
        return [r for r, vi in enumerate(self.visible) if self.rows[vi].id in ids]

    def visible_ids(self) -> np.ndarray:
        return np.fromiter((self.rows[i].id for i in self.visible), np.int64, len(self.visible))

    def row_for_id(self, image_id: int) -> ImageRow | None:
        i = self._row_of_id.get(image_id)
        return self.rows[i] if i is not None else None


@dataclass
class LabelUpdate:
    """What :meth:`ImageListModel.update_labels` did: the labels the images had (shown task only), the ids that
    left and entered the view, and whether it had to reset the model."""

    before: dict[int, str | None] = field(default_factory=dict)
    removed: list[int] = field(default_factory=list)
    inserted: list[int] = field(default_factory=list)
    reset: bool = False


def row_runs(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted rows → contiguous (start, stop) ranges, so a 100k selection or write is a handful of Qt ranges."""
    out: list[tuple[int, int]] = []
    for r in rows:
        if out and r == out[-1][1] + 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


def _tooltip(row: ImageRow, label: str | None) -> str:
    parts = [f"<b>{row.name}</b>", row.folder or ".", f"{row.width} × {row.height} px, {row.mode}, {row.format}"]
    if row.pixel_size_nm:
        parts.append(f"pixel {row.pixel_size_nm:.3g} nm")
    if row.instrument or row.detector:
        parts.append(" · ".join(v for v in (row.instrument, row.detector) if v))
    if label:
        parts.append(f"label: {label}")
    return "<br>".join(parts)
