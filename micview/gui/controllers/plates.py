"""Crystallization plates from the window: keyboard scores (undoable), MARCO scoring, learning the lab's
scores, and per-plate exports. The plate view observes the session and calls these.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from micview.core.plate_export import TASK
from micview.gui.controllers.labelling import SetLabels, describe
from micview.gui.controllers.safety import refuse_write
from micview.gui.session import Session
from micview.gui.workers import Job, TaskFactory


class ScoreWell(SetLabels):
    """Score (or clear, ``label`` None) the drops of ``well``; undo also calls ``go_to(well)``."""

    def __init__(
        self, session: Session, well: str, ids: list[int], label: str | None, go_to: Callable[[str], None]
    ) -> None:
        super().__init__(session, TASK, dict.fromkeys(ids, label), describe(len(ids), label))
        self.well, self.go_to = well, go_to
        self.setText(f"score well {well} “{label}”" if label else f"clear the score of well {well}")

    def undo(self) -> None:
        super().undo()
        self.go_to(self.well)


class PlatesController:
    def __init__(self, session: Session) -> None:
        self.session = session

    def score_well(self, well: str, ids: list[int], label: str | None, go_to: Callable[[str], None]) -> bool:
        """Score every drop image ``ids`` of ``well`` with ``label`` as one undoable step (false: not done)."""
        if refuse_write(self.session, f"Scoring well {well}", popup=False):
            return False
        self.session.undo_stack.push(ScoreWell(self.session, well, ids, label, go_to))
        return True

    def start(self, title: str, factory: TaskFactory, on_result: Callable[[Any], None]) -> Job:
        """A plate job on the model pool; its result goes to ``on_result``, and the plate predictions changed."""

        def done(result: Any) -> None:
            self.session.labels_changed.emit(TASK)
            on_result(result)

        return self.session.jobs.start(
            title, factory, pool="model", on_result=done,
            on_error=lambda msg, details: self.session.errors.report(f"{title} failed", msg, details),
        )  # fmt: skip

    def score_with_marco(self, plate: str, pattern: str, factory: Any, on_result: Callable[[Any], None]) -> Job | None:
        if refuse_write(self.session, f"Scoring plate {plate} with MARCO"):
            return None
        path = self.session.require_project().path
        return self.start(f"Score plate {plate} with MARCO", lambda: factory(path, plate, pattern), on_result)

    def learn_scores(self, model_id: str, on_result: Callable[[Any], None]) -> Job | None:
        from micview.gui.plates import scoring

        if refuse_write(self.session, "Learning your plate scores"):
            return None
        path = self.session.require_project().path
        return self.start("Learn my plate scores", lambda: scoring.recalibrate_task(path, model_id), on_result)

    def export_csv(self, plate: str, out: str | Path, pattern: str) -> int:
        from micview.core.plate_export import export_plate_csv

        return export_plate_csv(self.session.require_project(), plate, out, pattern=pattern)

    def export_png(self, plate: str, out: str | Path, pattern: str) -> Path:
        from micview.core.plate_map import export_plate_png

        return export_plate_png(self.session.require_project(), plate, out, pattern=pattern)
