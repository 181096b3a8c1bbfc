"""Labelling: the active task, its classes, and every label write as an undoable command.

Every change is written to the project at once. Undo writes the *previous* labels back with
``project.labels.set_many`` — a new row in the append-only history, so nothing a user did is ever lost, and
the project file never depends on the in-memory undo stack. Browser keys, plate scores and accepted
predictions all go on the session's one undo stack, so Ctrl+Z undoes them in order.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtGui import QUndoCommand

from micview.core.errors import ProjectError
from micview.gui.controllers.safety import refuse_write
from micview.gui.session import Session


def describe(n: int, label: str | None) -> str:
    images = f"{n} image{'s' * (n != 1)}"
    return f"label {images} “{label}”" if label else f"unlabel {images}"


class SetLabels(QUndoCommand):
    """Write ``labels`` (image id → label, ``None`` removes) for ``task``; undo writes the old ones back."""

    def __init__(
        self,
        session: Session,
        task: str,
        labels: Mapping[int, str | None],
        text: str,
        author: str | None = None,
        before: Mapping[int, str | None] | None = None,
    ) -> None:
        """``before``: the labels the images had, when the caller knows them; else they are read (these images
        only: the whole task costs a third of a second at 100 000 images)."""
        super().__init__(text)
        self.session, self.task, self.author = session, task, author
        self.labels = dict(labels)
        if before is None:
            before = session.require_project().labels.labels_of(task, self.labels)
        self.before: dict[int, str | None] = {i: before.get(i) for i in self.labels}

    def redo(self) -> None:
        self._write(self.labels, self.author)

    def undo(self) -> None:
        self._write(self.before, None)

    def _write(self, labels: Mapping[int, str | None], author: str | None) -> None:
        project = self.session.project
        if project is None:  # the project was closed: the stack is cleared then, this is only a guard
            return
        try:
            project.labels.set_many(self.task, labels, author=author)
        except ProjectError as exc:  # locked for too long, disk full, damage found: nothing was written
            self.setObsolete(True)  # not kept on the undo stack as if it had been done
            self.session.errors.report("The labels were not saved", str(exc))
            if project.read_only:
                from micview.gui.safety import project_safety

                project_safety(self.session).mark_damaged(str(exc))
            return
        self.session.labels_written(self.task, labels)  # views update these images only


class LabellingController:
    """Choose and define tasks; label the selection with class ``k``; write labels undoably."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def tasks(self) -> list[str]:
        project = self.session.project
        return project.labels.task_names() if project is not None else []

    def classes_of(self, task: str) -> list[str]:
        """The task's defined classes in key order, else the labels in use (sorted)."""
        project = self.session.project
        if project is None or not task:
            return []
        definition = project.labels.task(task)
        if definition is not None and definition.classes:
            return list(definition.classes)
        return sorted(set(project.labels.labels(task).values()))

    def set_task(self, name: str) -> None:
        self.session.task.set(name, self.classes_of(name))

    def refresh_task(self) -> None:
        """Re-read the active task's classes (after an import or a redefinition)."""
        self.set_task(self.session.task.name)

    def define(self, name: str, classes: list[str]) -> None:
        """Create or redefine a task (its classes in key order) and make it the active one."""
        if refuse_write(self.session, f"Defining the task “{name}”"):
            return
        self.session.require_project().labels.define_task(name, [c for c in classes if c])
        self.session.tasks_changed.emit()
        self.set_task(name)

    def assign(self, k: int) -> bool:
        """Label the selection with class ``k`` (0-based); false when there is nothing to do."""
        task, ids = self.session.task, list(self.session.selection.ids)
        if not task.name or not ids or not 0 <= k < len(task.classes):
            return False
        label = task.classes[k]
        self.write(task.name, dict.fromkeys(ids, label), describe(len(ids), label))
        return True

    def remove(self) -> bool:
        """Remove the active task's label from the selection."""
        task, ids = self.session.task, list(self.session.selection.ids)
        if not task.name or not ids:
            return False
        self.write(task.name, dict.fromkeys(ids), describe(len(ids), None))
        return True

    def write(self, task: str, labels: Mapping[int, str | None], text: str, author: str | None = None) -> None:
        """Write ``labels`` for ``task`` as one undoable step (a read-only project says why it is not done)."""
        if labels and not refuse_write(self.session, f"Labelling ({text})", popup=False):
            self.session.undo_stack.push(SetLabels(self.session, task, labels, text, author))

    def push(self, command: QUndoCommand) -> None:
        """Put a ready-made command (a subclass of :class:`SetLabels`) on the session's undo stack."""
        if not refuse_write(self.session, command.text().capitalize(), popup=False):
            self.session.undo_stack.push(command)
