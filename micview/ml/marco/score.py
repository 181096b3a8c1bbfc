"""Auto-scoring crystallization drops with MARCO: every image of a project (or of one plate) gets a prediction.

Scores go into the ``outcome`` task as model predictions with every class's score, so the CSV export gives
``outcome_pred``, ``outcome_score`` and ``outcome_p_<class>``. Which images still need scores is decided per
model *and* weights hash: a re-run scores only images without a prediction from the same converted weights,
so a cancelled run resumes, and a different MARCO SavedModel scores everything again. Each batch is stored
in one transaction before progress is yielded (a cancel loses at most the batch in flight).
"""

from __future__ import annotations

import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from micview.core.store import ImageRow, Project
from micview.core.store.annotations import MODEL, Prediction
from micview.core.tasks import Progress, Task
from micview.ml.marco import CLASSES, MODEL_ID, TASK
from micview.ml.marco.runtime import MarcoModel, load_model
from micview.ml.prefetch import Outcome, batched, prefetch

BATCH = 8  # 599² inputs: 8 images are ~35 MB of input and keep the CPU busy; GPUs gain little beyond


@dataclass
class ScoreSummary:
    model_id: str
    scored: int = 0
    already: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    run_id: int | None = None
    device: str = ""
    seconds: float = 0.0

    @property
    def images_per_s(self) -> float:
        return self.scored / self.seconds if self.seconds else 0.0


def _scored_ids(project: Project, model_id: str, weights_hash: str) -> set[int]:
    sql = (
        "SELECT DISTINCT a.image_id FROM annotations a JOIN runs r ON r.id = a.run_id "
        "WHERE a.task = ? AND a.source = ? AND a.model_id = ? AND r.weights_hash = ?"
    )
    return {int(r[0]) for r in project.con.execute(sql, (TASK, MODEL, model_id, weights_hash))}


def todo_rows(project: Project, model: MarcoModel, image_ids: set[int] | None) -> tuple[list[ImageRow], int]:
    """Readable images (of ``image_ids`` when given) without a score from these weights; and how many have one."""
    rows = [r for r in project.images.all(status="ok") if image_ids is None or r.id in image_ids]
    done = _scored_ids(project, model.model_id, model.weights_hash)
    todo = [r for r in rows if r.id not in done]
    return todo, len(rows) - len(todo)


def score_project(
    project: Project,
    model: str | MarcoModel = MODEL_ID,
    plate: str | None = None,
    *,
    pattern: str | None = None,
    device: str | None = None,
    batch_size: int = BATCH,
    workers: int = 2,
) -> Task[ScoreSummary]:
    """Score every image (or those of ``plate``, found with the plate ``pattern``) not yet scored by ``model``."""
    yield Progress(0, 0, "Finding drops to score")
    marco = model if isinstance(model, MarcoModel) else load_model(model, device)
    summary = ScoreSummary(marco.model_id, device=marco.device)
    rows, summary.already = todo_rows(project, marco, _plate_ids(project, plate, pattern))
    if not rows:
        return summary
    summary.run_id = _record_run(project, marco, plate, batch_size)
    start = time.perf_counter()
    try:
        yield from _run(project, marco, rows, summary, batch_size, workers)
    except GeneratorExit:
        project.runs.set_status(summary.run_id, "cancelled")
        raise
    summary.seconds = time.perf_counter() - start
    project.runs.set_status(summary.run_id, "done")
    return summary


def _plate_ids(project: Project, plate: str | None, pattern: str | None) -> set[int] | None:
    if plate is None:
        return None
    from micview.core.plates import project_plates

    return {d.image_id for d in project_plates(project, pattern).plate(plate).drops}


def _record_run(project: Project, model: MarcoModel, plate: str | None, batch_size: int) -> int:
    params = {
        "task": TASK,
        "classes": list(model.classes),
        "plate": plate,
        "batch_size": batch_size,
        "device": model.device,
        "runtime": "onnxruntime",
        "decode": "simplejpeg fastdct (= TF default)",
        "preprocess": "centre square, TF1 bilinear 599, (x-0.5)*2",
        "converted_with": {k: model.meta.get(k) for k in ("tensorflow", "tf2onnx", "opset")},
    }
    return project.runs.record(
        "classification",
        f"marco:{model.model_id}",
        "marco_score",
        params,
        model_id=model.model_id,
        weights_hash=model.weights_hash,
        status="running",
    )


def _run(
    project: Project, model: MarcoModel, rows: list[ImageRow], summary: ScoreSummary, batch_size: int, workers: int
) -> Task[None]:
    from micview.ml.marco.preprocess import load

    def read(row: ImageRow) -> np.ndarray:
        return load(project.resolve(row.path))

    done = 0
    with closing(prefetch(rows, read, workers=workers, window=2 * batch_size + workers)) as outcomes:
        for batch in batched(outcomes, lambda: batch_size):
            _score_batch(project, model, batch, summary)
            done += len(batch)
            yield Progress(done, len(rows), Path(batch[-1].item.path).name)


def _score_batch(
    project: Project, model: MarcoModel, batch: list[Outcome[ImageRow, np.ndarray]], summary: ScoreSummary
) -> None:
    ok = [o for o in batch if o.error is None]
    summary.failed += [(o.item.path, str(o.error)) for o in batch if o.error is not None]
    if not ok:
        return
    probs, _ = model.run(np.stack([o.value for o in ok]))  # type: ignore[misc]
    preds = [_prediction(o.item.id, p, model.classes) for o, p in zip(ok, probs, strict=True)]
    project.labels.add_predictions(TASK, preds, model_id=model.model_id, run_id=summary.run_id)
    summary.scored += len(ok)


def _prediction(image_id: int, probs: np.ndarray, classes: tuple[str, ...] = CLASSES) -> Prediction:
    scores = {c: round(float(p), 6) for c, p in zip(classes, probs, strict=True)}
    top = int(np.argmax(probs))
    return Prediction(image_id, classes[top], scores[classes[top]], scores)
