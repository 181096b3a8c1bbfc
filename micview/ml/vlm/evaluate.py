"""Batch multiple-choice evaluation: resumable, cancellable, every batch saved before progress is reported.

The run is identified by its recipe (model + weights hash, method, shots, image size, prompt version, the
question set): running the same command again finds the run and skips the questions already answered, so a
cancel or a crash costs at most one batch. Questions are sorted by image so one batch holds the questions
about the same image together. With letter scoring each question is one forward pass whatever the number of
options; with ``method='generate'`` the answer is generated and parsed (for models where scoring is not
possible), and an unparseable answer counts as wrong.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from micview.core.store import Project
from micview.core.store.answers import MCQ, NewAnswer
from micview.core.tasks import Progress, Task
from micview.ml.vlm.fewshot import choose_exemplars, load_exemplars
from micview.ml.vlm.generate import GenerationSettings, generate_texts
from micview.ml.vlm.inputs import DEFAULT_MAX_SIDE, load_pil
from micview.ml.vlm.items import McqItem, McqSet
from micview.ml.vlm.metrics import McqMetrics, run_metrics, seconds_per_image
from micview.ml.vlm.model import VisionLanguageModel
from micview.ml.vlm.prompts import PROMPT_VERSION, Exemplar, mcq_conversation, parse_choice
from micview.ml.vlm.scoring import score_letters

METHODS = ("letters", "generate")


@dataclass(frozen=True, slots=True)
class EvalSettings:
    method: str = "letters"
    shots: int = 0
    batch_size: int = 8
    max_side: int = DEFAULT_MAX_SIDE
    max_new_tokens: int = 8  # generate-and-parse only
    seed: int = 0


@dataclass
class McqReport:
    run_id: int
    model_id: str
    total: int
    answered_now: int = 0
    already_done: int = 0
    exemplars: list[tuple[int, int]] = field(default_factory=list)
    seconds: float = 0.0  # wall time of this session
    metrics: McqMetrics | None = None
    seconds_per_image: float = float("nan")


def _find_or_record(project: Project, vlm: VisionLanguageModel, params: dict[str, Any]) -> int:
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    key = f"vqa-mcq:{vlm.id}:{digest}"
    same = [r for r in project.runs.all(kind="vqa_mcq") if r.key == key]
    if same:
        project.runs.set_status(same[-1].id, "running")
        return same[-1].id
    return project.runs.record(
        "vqa_mcq", key, params["method"], params, model_id=vlm.id, weights_hash=vlm.weights_hash, status="running"
    )


def evaluate_mcq(
    project: Project, questions: McqSet, vlm: VisionLanguageModel, settings: EvalSettings | None = None
) -> Task[McqReport]:
    """Answer every question of ``questions`` not answered yet by this recipe, then score the whole run."""
    s = settings or EvalSettings()
    if s.method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    pairs: list[tuple[int, int]] = []
    if s.shots > 0 and questions.items:
        exclude = {i.image_id for i in questions.items}
        pairs = choose_exemplars(project, questions.task or "", questions.items[0].options, s.shots, exclude, s.seed)
    params = {**asdict(s), "task": questions.task, "questions": questions.digest(), "exemplars": pairs,
              "prompt_version": PROMPT_VERSION, "weights_hash": vlm.weights_hash}  # fmt: skip
    params.pop("batch_size")  # does not change answers, so a resume may use another batch size
    run_id = _find_or_record(project, vlm, {**params, "model_type": vlm.info.model_type})
    report = McqReport(run_id, vlm.id, len(questions.items), exemplars=pairs)
    done = project.answers.done_keys(run_id)
    todo = sorted((i for i in questions.items if i.key not in done), key=lambda i: (i.image_id, i.key))
    report.already_done = len(questions.items) - len(todo)
    exemplars = load_exemplars(project, pairs, s.max_side)
    start = time.perf_counter()
    try:
        for first in range(0, len(todo), s.batch_size):
            batch = todo[first : first + s.batch_size]
            project.answers.add_many(_answer_batch(project, vlm, batch, exemplars, s, run_id))
            report.answered_now += len(batch)
            yield Progress(report.already_done + report.answered_now, report.total, f"{len(batch)} answered")
    except GeneratorExit:
        project.runs.set_status(run_id, "cancelled")
        raise
    report.seconds = time.perf_counter() - start
    project.runs.set_status(run_id, "done")
    report.metrics = run_metrics(project, run_id)
    report.seconds_per_image = seconds_per_image(project, run_id)
    project.runs.save_array(run_id, "confusion_matrix", report.metrics.confusion)
    return report


def _answer_batch(
    project: Project,
    vlm: VisionLanguageModel,
    batch: list[McqItem],
    exemplars: list[Exemplar],
    s: EvalSettings,
    run_id: int,
) -> list[NewAnswer]:
    images = {i.image_id: load_pil(project, project.images.get(i.image_id), s.max_side) for i in batch}
    convs = [mcq_conversation(images[i.image_id], i.question, i.options, exemplars) for i in batch]
    start = time.perf_counter()
    if s.method == "letters":
        choices = score_letters(vlm, convs, [len(i.options) for i in batch])
        picks: list[int | None] = [c.index for c in choices]
        scores: list[list[float] | None] = [c.probs.tolist() for c in choices]
    else:
        texts = generate_texts(vlm, convs, GenerationSettings(max_new_tokens=s.max_new_tokens))
        picks = [parse_choice(t, i.options) for t, i in zip(texts, batch, strict=True)]
        scores = [None] * len(batch)
    per_item = (time.perf_counter() - start) / len(batch)
    return [
        NewAnswer(
            i.image_id, MCQ, i.question, i.options[p] if p is not None else "", options=i.options, scores=sc,
            truth=i.options[i.answer] if i.answer is not None else None, item_key=i.key, model_id=vlm.id,
            run_id=run_id, seconds=per_item,
        )
        for i, p, sc in zip(batch, picks, scores, strict=True)
    ]  # fmt: skip
