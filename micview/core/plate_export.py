"""Per-plate export: one CSV row per drop image with the user's score, the model's scores and where it is.

Columns: ``plate, well, drop, time, <task>`` (the user's score), ``scored_by, scored_at``, ``model_id``,
``<task>_pred, <task>_score`` (the model's top class and its confidence), ``<task>_p_<class>`` for every class
the model scored, then ``file`` (the image path as stored in the project). Rows are in plate order (row-major
wells, then drop, then time point). Written atomically and formula-safe, like every micview CSV.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from micview.core.csv_io import csv_cell, score_classes, write_csv_atomic
from micview.core.plates import DropImage, Plate, PlatePattern, project_plates
from micview.core.store import Project
from micview.core.store.annotations import MODEL, Annotation

TASK = "outcome"


@dataclass(frozen=True, slots=True)
class DropScore:
    """What is known about one drop image: the user's score and the model's, either may be missing."""

    drop: DropImage
    user: Annotation | None
    model: Annotation | None

    @property
    def label(self) -> str | None:
        """The user's score when there is one (it overrides the model), else the model's top class."""
        if self.user is not None:
            return self.user.label
        return self.model.label if self.model is not None else None

    @property
    def confidence(self) -> float | None:
        if self.user is not None:
            return 1.0
        return self.model.score if self.model is not None else None


def plate_scores(project: Project, plate: Plate, task: str = TASK, model_id: str | None = None) -> list[DropScore]:
    """Every drop image of ``plate`` with its current user score and model prediction (of ``model_id``)."""
    user = project.labels.current(task)
    model = project.labels.current(task, MODEL) if model_id is None else _model_current(project, task, model_id)
    return [DropScore(d, user.get(d.image_id), model.get(d.image_id)) for d in plate.drops]


def _model_current(project: Project, task: str, model_id: str) -> dict[int, Annotation]:
    return {i: a for i, a in project.labels.current(task, MODEL).items() if a.model_id == model_id}


def export_plate_csv(
    project: Project,
    plate_name: str,
    out_path: str | Path,
    *,
    pattern: str | PlatePattern | None = None,
    layout: int | None = None,
    task: str = TASK,
    model_id: str | None = None,
) -> int:
    """Write the plate's CSV (see module docstring); returns the number of rows."""
    plate = project_plates(project, pattern, layout).plate(plate_name)
    scores = plate_scores(project, plate, task, model_id)
    classes = score_classes(s.model for s in scores if s.model is not None)
    header = [
        "plate",
        "well",
        "drop",
        "time",
        task,
        "scored_by",
        "scored_at",
        "model_id",
        f"{task}_pred",
        f"{task}_score",
        *(f"{task}_p_{c}" for c in classes),
        "file",
    ]
    write_csv_atomic(Path(out_path), header, (_row(s, classes) for s in scores))
    return len(scores)


def _row(s: DropScore, classes: list[str]) -> list[str]:
    d, u, m = s.drop, s.user, s.model
    probs = (m.scores or {}) if m else {}
    values: list[object] = [
        d.plate,
        d.well,
        d.drop,
        d.time,
        u.label if u else None,
        u.author if u else None,
        u.created_at if u else None,
        m.model_id if m else None,
        m.label if m else None,
        m.score if m else None,
        *(probs.get(c) for c in classes),
        d.path,
    ]
    return [csv_cell(v) for v in values]
