"""Keyboard scoring of wells and auto-scoring a plate with MARCO: what to score and the job bodies.

A key scores *every drop of the current well at its latest time point* (one keystroke per well: that is how
plates are scored by eye, and the model scores each image; a drop that differs is scored in the browser).
The change goes on the session's one undo stack (:class:`~micview.gui.controllers.plates.ScoreWell`), so
Ctrl+Z undoes plate scores and browser labels alike, in order; undoing also brings the grid back to that well.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from micview.core.errors import MicviewError
from micview.core.plate_export import TASK
from micview.core.store import Project
from micview.core.tasks import Progress
from micview.ml.marco import ADD_HINT

if TYPE_CHECKING:
    from micview.gui.plates.model import WellState

MARCO_MISSING = f"MARCO is not installed on this computer. {ADD_HINT} Then score the plate again."


def scoring_ids(state: WellState) -> list[int]:
    """The images a key press scores: each drop of the well at its latest time point."""
    return [s.drop.image_id for s in state.latest]


def next_well(wells: list[str], current: str | None, step: int = 1) -> str | None:
    """The well after (or before) ``current`` in the queue; stays on the last one at the end."""
    if not wells:
        return None
    if current not in wells:
        return wells[0]
    i = wells.index(current) + step
    return wells[max(0, min(len(wells) - 1, i))]


# -- auto-scoring ------------------------------------------------------------------------------------------------
def marco_available(model_id: str = "marco") -> bool:
    """Whether MARCO is registered and its converted files are here (cheap: reads the model list only)."""
    from micview.ml.registry import get_spec, locate

    try:
        return locate(get_spec(model_id)) is not None
    except MicviewError:
        return False


def score_plate_task(path: Path, plate: str, pattern: str | None) -> Generator[Progress, None, Any]:
    """Job factory body: MARCO scores ``plate`` with its own project connection on the model thread."""
    from micview.ml.marco.score import score_project

    with Project.open(path) as project:
        return (yield from score_project(project, plate=plate, pattern=pattern))


def summary_text(summary: Any) -> str:
    if summary is None:
        return "Scoring stopped."
    failed = f", {len(summary.failed)} could not be read" if getattr(summary, "failed", None) else ""
    return f"MARCO scored {summary.scored} drop images ({summary.already} already scored){failed}."


# -- recalibration on the lab's own scores ----------------------------------------------------------------------
def recalibrate_task(path: Path, model_id: str = "marco") -> Generator[Progress, None, Any]:
    """Job body: learn the user's scores of ``outcome`` on ``model_id``'s features and predict every drop.

    With MARCO this is the lab's own scale (or its judgement of MARCO's four classes) on top of MARCO's
    1056-d penultimate features: the classify machinery (few-shot, calibrated) writes ``outcome``
    predictions, which become the latest model output the grid and the exports show.
    """
    from micview.ml.classify import classify, task_view
    from micview.ml.embedding import embed_project, todo_rows
    from micview.ml.model_cache import shared

    with Project.open(path) as project:
        if todo_rows(project, model_id)[0]:
            yield from embed_project(project, model_id, embedder=shared().embedder(model_id))
        return (yield from classify(project, task_view(project, TASK), model_id, zero_shot=False))


def recalibrate_text(result: Any) -> str:
    if result is None:
        return "Learning stopped."
    counts = ", ".join(f"{c} {n}" for c, n in result.counts().items())
    return f"Learnt from {result.n_labels} scored drops ({result.method}); predictions now: {counts}."
