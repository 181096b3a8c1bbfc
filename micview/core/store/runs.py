"""Computed results with their recipe (FiftyOne Brain's ``RunInfo`` idea).

Every embedding set, 2-D map, classifier or analysis is recorded with the method, its parameters, the model id
and weights hash, the app version and the time, so it can be found again, explained and recomputed. Arrays it
produced are stored as ``.npy`` bytes (never pickles, never JSON lists).

A run is stored with the process that started it (:mod:`~micview.core.store.owners`), so a ``running`` run whose
process was killed is found and marked ``interrupted`` when the project is next opened for writing.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from micview import __version__
from micview.core.store.owners import current_owner, owner_is_gone
from micview.core.store.project import utc_now

if TYPE_CHECKING:
    from micview.core.store.project import Project


@dataclass(slots=True, frozen=True)
class RunInfo:
    id: int
    key: str
    kind: str
    method: str
    params: dict[str, Any]
    model_id: str | None
    weights_hash: str | None
    app_version: str
    created_at: str
    status: str
    notes: str | None


_COLS = "id, key, kind, method, params_json, model_id, weights_hash, app_version, created_at, status, notes"


def _to_info(r: tuple[Any, ...]) -> RunInfo:
    return RunInfo(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], r[7], r[8], r[9], r[10])


class Runs:
    def __init__(self, project: Project) -> None:
        self._p = project

    def record(
        self,
        kind: str,
        key: str,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        model_id: str | None = None,
        weights_hash: str | None = None,
        status: str = "done",
        notes: str | None = None,
    ) -> int:
        with self._p.transaction() as con:
            cur = con.execute(
                f"INSERT INTO runs ({_COLS[4:]}, owner) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (key, kind, method, json.dumps(params or {}, sort_keys=True), model_id, weights_hash,
                 __version__, utc_now(), status, notes, current_owner()),
            )  # fmt: skip
            return int(cur.lastrowid or 0)

    def mark_interrupted(self) -> list[int]:
        """Mark ``interrupted`` every ``running`` run whose process has ended (killed, crashed); return their ids.

        Runs of live processes, this one included, and of processes on other computers are left as they are.
        """
        rows = self._p.con.execute("SELECT id, owner FROM runs WHERE status = 'running'").fetchall()
        dead = [int(rid) for rid, owner in rows if owner_is_gone(owner)]
        if dead:
            with self._p.transaction() as con:
                con.executemany(
                    "UPDATE runs SET status = 'interrupted' WHERE id = ? AND status = 'running'", ((i,) for i in dead)
                )
        return dead

    def set_status(self, run_id: int, status: str) -> None:
        with self._p.transaction() as con:
            con.execute("UPDATE runs SET status = ? WHERE id = ?", (status, run_id))

    def get(self, run_id: int) -> RunInfo:
        row = self._p.con.execute(f"SELECT {_COLS} FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(run_id)
        return _to_info(row)

    def latest(self, key: str, *, status: str = "done") -> RunInfo | None:
        row = self._p.con.execute(
            f"SELECT {_COLS} FROM runs WHERE key = ? AND status = ? ORDER BY id DESC LIMIT 1", (key, status)
        ).fetchone()
        return _to_info(row) if row else None

    def all(self, kind: str | None = None) -> list[RunInfo]:
        sql = f"SELECT {_COLS} FROM runs" + (" WHERE kind = ?" if kind else "") + " ORDER BY id"
        return [_to_info(r) for r in self._p.con.execute(sql, (kind,) if kind else ())]

    def save_array(self, run_id: int, name: str, array: np.ndarray) -> None:
        buf = io.BytesIO()
        np.save(buf, np.asarray(array), allow_pickle=False)
        with self._p.transaction() as con:
            con.execute("INSERT OR REPLACE INTO run_arrays VALUES (?, ?, ?)", (run_id, name, buf.getvalue()))

    def load_array(self, run_id: int, name: str) -> np.ndarray:
        row = self._p.con.execute(
            "SELECT data FROM run_arrays WHERE run_id = ? AND name = ?", (run_id, name)
        ).fetchone()
        if row is None:
            raise KeyError((run_id, name))
        return np.load(io.BytesIO(row[0]), allow_pickle=False)  # type: ignore[no-any-return]
