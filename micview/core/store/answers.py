"""Answers of vision-language models: free questions, multiple-choice picks and image descriptions.

One row per answer, with the question, the model and the run whose recipe (prompt settings, weights hash)
produced it. Multiple-choice rows keep every option's probability; evaluation rows keep the expected answer
and the row's key, so a cancelled evaluation resumes by skipping the keys already answered. Text is searchable
(:meth:`Answers.search`), so a description written by a model is found again like a note.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from micview.core.store.project import utc_now

if TYPE_CHECKING:
    from micview.core.store.project import Project

QUESTION = "question"
MCQ = "mcq"
DESCRIPTION = "description"


@dataclass(slots=True, frozen=True)
class NewAnswer:
    """An answer ready to be stored (``options``/``scores`` only for multiple choice)."""

    image_id: int
    kind: str
    question: str
    answer: str
    options: Sequence[str] | None = None
    scores: Sequence[float] | None = None
    truth: str | None = None
    item_key: str | None = None
    model_id: str | None = None
    run_id: int | None = None
    seconds: float | None = None


@dataclass(slots=True, frozen=True)
class AnswerRow:
    id: int
    image_id: int
    kind: str
    question: str
    answer: str
    options: list[str] | None
    scores: list[float] | None
    truth: str | None
    item_key: str | None
    model_id: str | None
    run_id: int | None
    seconds: float | None
    created_at: str


_COLS = ("image_id, kind, question, answer, options_json, scores_json, truth, item_key, model_id, run_id, "
         "seconds, created_at")  # fmt: skip


def _row(r: Sequence[Any]) -> AnswerRow:
    options = json.loads(r[5]) if r[5] else None
    scores = json.loads(r[6]) if r[6] else None
    return AnswerRow(r[0], r[1], r[2], r[3], r[4], options, scores, *r[7:])


def _values(a: NewAnswer, now: str) -> tuple[Any, ...]:
    options = json.dumps(list(a.options)) if a.options is not None else None
    scores = json.dumps([float(s) for s in a.scores]) if a.scores is not None else None
    return (a.image_id, a.kind, a.question, a.answer, options, scores, a.truth, a.item_key, a.model_id,
            a.run_id, a.seconds, now)  # fmt: skip


class Answers:
    """Access to the ``answers`` table (``project.answers``)."""

    def __init__(self, project: Project) -> None:
        self._p = project

    def add(self, answer: NewAnswer) -> int:
        with self._p.transaction() as con:
            cur = con.execute(
                f"INSERT INTO answers ({_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", _values(answer, utc_now())
            )
            return int(cur.lastrowid or 0)

    def add_many(self, answers: Iterable[NewAnswer]) -> None:
        """Several answers in one transaction (one evaluation batch: all in the file, or none)."""
        now = utc_now()
        rows = [_values(a, now) for a in answers]
        with self._p.transaction() as con:
            con.executemany(f"INSERT INTO answers ({_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)

    def _select(self, where: str, args: tuple[Any, ...]) -> list[AnswerRow]:
        sql = f"SELECT id, {_COLS} FROM answers WHERE {where} ORDER BY id"
        return [_row(r) for r in self._p.con.execute(sql, args)]

    def for_image(self, image_id: int, kind: str | None = None) -> list[AnswerRow]:
        if kind is None:
            return self._select("image_id = ?", (image_id,))
        return self._select("image_id = ? AND kind = ?", (image_id, kind))

    def for_run(self, run_id: int) -> list[AnswerRow]:
        return self._select("run_id = ?", (run_id,))

    def done_keys(self, run_id: int) -> set[str]:
        """Evaluation rows of ``run_id`` already answered (what a resumed run skips)."""
        sql = "SELECT item_key FROM answers WHERE run_id = ? AND item_key IS NOT NULL"
        return {r[0] for r in self._p.con.execute(sql, (run_id,))}

    def latest(self, image_id: int, kind: str) -> AnswerRow | None:
        rows = self.for_image(image_id, kind)
        return rows[-1] if rows else None

    def search(self, text: str, kind: str | None = None) -> list[AnswerRow]:
        """Answers whose question or answer contains ``text`` (case-insensitive), oldest first."""
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where = "(answer LIKE ? ESCAPE '\\' OR question LIKE ? ESCAPE '\\')"
        args: tuple[Any, ...] = (pattern, pattern)
        if kind is not None:
            where += " AND kind = ?"
            args += (kind,)
        return self._select(where, args)
