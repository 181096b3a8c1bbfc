"""Looking after label tasks as a whole: list them with counts, rename one, turn one into metadata, remove one.

A task made by mistake is the usual reason: ``import-labels`` without ``--tasks`` guesses which columns are
labels and may take a metadata column such as ``organisation`` for one. Renaming moves every row of the
task's history (user labels and model predictions) and its definition in one transaction. Removing deletes
them; :func:`backup_rows` gives the caller what to save first (the CLI writes it as a re-importable CSV).
Runs (the recipes of past computations) are history and keep the task name they were made with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from micview.core.errors import MicviewError
from micview.core.store.annotations import MODEL, USER

if TYPE_CHECKING:
    from micview.core.store.project import Project


class TaskError(MicviewError):
    """A task name that does not exist, or a new name that is already taken."""


@dataclass(frozen=True, slots=True)
class TaskSummary:
    """One task: current user labels, current predictions, every history row, and its distinct labels."""

    name: str
    labels: int
    predictions: int
    history: int
    classes: list[str]
    defined: bool


def task_summaries(project: Project) -> list[TaskSummary]:
    """Every task of the project, in name order, with what it holds."""
    out = []
    for name in project.labels.task_names():
        labels = project.labels.labels(name)
        predictions = project.labels.current(name, MODEL)
        (history,) = project.con.execute("SELECT count(*) FROM annotations WHERE task = ?", (name,)).fetchone()
        out.append(
            TaskSummary(
                name, len(labels), len(predictions), int(history), sorted(set(labels.values())),
                project.labels.task(name) is not None,
            )
        )  # fmt: skip
    return out


def require_task(project: Project, name: str) -> None:
    """Raise :class:`TaskError` naming the project's tasks when ``name`` is not one of them."""
    names = project.labels.task_names()
    if name not in names:
        raise TaskError(f"No task '{name}' in {project.path.name}. Its tasks: {', '.join(names) or 'none'}.")


def rename_task(project: Project, old: str, new: str) -> int:
    """Give task ``old`` the name ``new`` (labels, predictions, history, definition); returns the rows moved."""
    require_task(project, old)
    new = new.strip()
    if not new:
        raise TaskError("The new task name is empty.")
    if new in project.labels.task_names():
        raise TaskError(f"There is already a task '{new}'; rename or remove it first (tasks are never merged).")
    with project.transaction() as con:
        moved = con.execute("UPDATE annotations SET task = ? WHERE task = ?", (new, old)).rowcount
        con.execute("UPDATE label_tasks SET name = ? WHERE name = ?", (new, old))
    return int(moved)


def backup_rows(project: Project, name: str) -> tuple[list[str], list[list[str | None]]]:
    """Header and rows (file path, current label, current prediction and score) of task ``name``.

    The columns follow the CSV contract (``file``, ``T``, ``T_pred``, ``T_score``), so ``import-labels
    --tasks T`` brings the labels back.
    """
    require_task(project, name)
    user = project.labels.current(name, USER)
    model = project.labels.current(name, MODEL)
    paths = project.images.ids_by_stored_path()
    rows: list[list[str | None]] = []
    for path, image_id in sorted(paths.items()):
        u, m = user.get(image_id), model.get(image_id)
        if u is None and m is None:
            continue
        score = None if m is None or m.score is None else repr(m.score)
        rows.append([path, u.label if u else None, m.label if m else None, score])
    return ["file", name, f"{name}_pred", f"{name}_score"], rows


def task_to_field(project: Project, name: str) -> int:
    """Copy task ``name``'s current user labels into the metadata column ``name``; returns the images copied.

    For a metadata column taken for a task by mistake; call :func:`remove_task` afterwards to drop the task.
    """
    labels = project.labels.labels(name)
    project.fields.set_many({i: {name: label} for i, label in labels.items()})
    return len(labels)


def remove_task(project: Project, name: str, *, keep_as_field: bool = False) -> int:
    """Delete task ``name``: every label, prediction and history row, and its definition. Returns rows deleted.

    With ``keep_as_field`` the current user labels first become the metadata column ``name`` (same
    transaction), so nothing the user entered leaves the project.
    """
    require_task(project, name)
    with project.transaction() as con:
        if keep_as_field:
            task_to_field(project, name)
        deleted = con.execute("DELETE FROM annotations WHERE task = ?", (name,)).rowcount
        con.execute("DELETE FROM label_tasks WHERE name = ?", (name,))
    return int(deleted)
