"""Labels and predictions per task, kept as an append-only history.

Nothing a user labelled is ever overwritten: a new label, a removal (``label=None``) or an undo is a new row,
and the current value is the newest row per (image, task, source). Model output uses the same table with
``source='model'``, its per-class scores and the run that produced it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from micview.core.store.project import utc_now

if TYPE_CHECKING:
    from micview.core.store.project import Project

USER = "user"
MODEL = "model"


@dataclass(slots=True, frozen=True)
class Annotation:
    image_id: int
    task: str
    label: str | None
    source: str
    score: float | None
    scores: dict[str, float] | None
    model_id: str | None
    run_id: int | None
    author: str | None
    created_at: str


@dataclass(slots=True, frozen=True)
class Prediction:
    """One model output for one image, ready to be stored."""

    image_id: int
    label: str
    score: float | None = None
    scores: Mapping[str, float] | None = None


@dataclass(slots=True, frozen=True)
class LabelTask:
    name: str
    classes: list[str]
    groups: dict[str, str]
    description: str


_CHUNK = 900  # ids per query: under SQLite's oldest limit on bound parameters (999)
_COLS = "image_id, task, label, source, score, scores_json, model_id, run_id, author, created_at"


def _row_to_annotation(r: Sequence[Any]) -> Annotation:
    scores = json.loads(r[5]) if r[5] else None
    return Annotation(r[0], r[1], r[2], r[3], r[4], scores, r[6], r[7], r[8], r[9])


class Annotations:
    """Access to labels (``source='user'``) and predictions (``source='model'``)."""

    def __init__(self, project: Project) -> None:
        self._p = project

    # -- writing -----------------------------------------------------------------------------------------
    def set(self, image_ids: Iterable[int], task: str, label: str | None, *, author: str | None = None) -> None:
        """Give ``image_ids`` the user label ``label`` for ``task`` (``None`` removes it); saved at once."""
        now = utc_now()
        rows = [(i, task, label, USER, None, None, None, None, author, now) for i in image_ids]
        with self._p.transaction() as con:
            con.executemany(f"INSERT INTO annotations ({_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)

    def set_many(self, task: str, labels: Mapping[int, str | None], *, author: str | None = None) -> None:
        """Several user labels in one transaction (a CSV import, an undo of a mixed selection)."""
        now = utc_now()
        rows = [(i, task, lab, USER, None, None, None, None, author, now) for i, lab in labels.items()]
        with self._p.transaction() as con:
            con.executemany(f"INSERT INTO annotations ({_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)

    def add_predictions(
        self, task: str, predictions: Iterable[Prediction], *, model_id: str, run_id: int | None = None
    ) -> None:
        now = utc_now()
        rows = [
            (
                p.image_id, task, p.label, MODEL, p.score,
                json.dumps(dict(p.scores)) if p.scores is not None else None,
                model_id, run_id, None, now,
            )
            for p in predictions
        ]  # fmt: skip
        with self._p.transaction() as con:
            con.executemany(f"INSERT INTO annotations ({_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)

    # -- reading -----------------------------------------------------------------------------------------
    def current(self, task: str, source: str = USER) -> dict[int, Annotation]:
        """Newest value per image for ``task``; images whose newest row removed the label are left out."""
        sql = (
            f"SELECT {_COLS} FROM annotations WHERE id IN (SELECT max(id) FROM annotations "
            "WHERE task = ? AND source = ? GROUP BY image_id)"
        )
        out = {}
        for r in self._p.con.execute(sql, (task, source)):
            if r[2] is not None:
                out[int(r[0])] = _row_to_annotation(r)
        return out

    def labels(self, task: str) -> dict[int, str]:
        """Current user labels of ``task`` as ``{image_id: label}``."""
        return {i: a.label for i, a in self.current(task).items() if a.label is not None}

    def labels_of(self, task: str, image_ids: Iterable[int]) -> dict[int, str]:
        """Current user labels of ``task`` for ``image_ids`` only (unlabelled ones are left out).

        What an undoable write needs to remember: :meth:`labels` reads every image of the task (a third of a
        second at 100 000 images), this reads the ids asked for through the (task, source, image_id) index.
        """
        ids = sorted({int(i) for i in image_ids})
        out: dict[int, str] = {}
        for start in range(0, len(ids), _CHUNK):
            part = ids[start : start + _CHUNK]
            sql = (
                "SELECT image_id, label FROM annotations WHERE id IN (SELECT max(id) FROM annotations "
                f"WHERE task = ? AND source = ? AND image_id IN ({','.join('?' * len(part))}) GROUP BY image_id)"
            )
            for image_id, label in self._p.con.execute(sql, (task, USER, *part)):
                if label is not None:
                    out[int(image_id)] = label
        return out

    def has_labels(self, task: str) -> bool:
        """Whether any image has a user label of ``task`` now (``bool(labels(task))`` without reading them)."""
        sql = (
            "SELECT 1 FROM annotations a WHERE a.task = ? AND a.source = ? AND a.label IS NOT NULL AND a.id = "
            "(SELECT max(id) FROM annotations b WHERE b.task = a.task AND b.source = a.source "
            "AND b.image_id = a.image_id) LIMIT 1"
        )
        return self._p.con.execute(sql, (task, USER)).fetchone() is not None

    def history(self, image_id: int, task: str | None = None) -> list[Annotation]:
        sql = f"SELECT {_COLS} FROM annotations WHERE image_id = ?"
        args: tuple[Any, ...] = (image_id,)
        if task is not None:
            sql += " AND task = ?"
            args += (task,)
        return [_row_to_annotation(r) for r in self._p.con.execute(sql + " ORDER BY id", args)]

    def task_names(self) -> list[str]:
        """Every task that has a definition, a label or a prediction."""
        sql = "SELECT name FROM label_tasks UNION SELECT DISTINCT task FROM annotations ORDER BY 1"
        return [r[0] for r in self._p.con.execute(sql)]

    # -- task definitions --------------------------------------------------------------------------------
    def define_task(
        self,
        name: str,
        classes: Sequence[str] = (),
        groups: Mapping[str, str] | None = None,
        description: str = "",
    ) -> None:
        with self._p.transaction() as con:
            con.execute(
                "INSERT INTO label_tasks (name, classes_json, groups_json, description, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET classes_json = excluded.classes_json, "
                "groups_json = excluded.groups_json, description = excluded.description",
                (name, json.dumps(list(classes)), json.dumps(dict(groups or {})), description, utc_now()),
            )

    def task(self, name: str) -> LabelTask | None:
        row = self._p.con.execute(
            "SELECT name, classes_json, groups_json, description FROM label_tasks WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            return None
        return LabelTask(row[0], json.loads(row[1]), json.loads(row[2]), row[3])
