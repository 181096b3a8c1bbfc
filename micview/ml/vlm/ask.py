"""Free questions and descriptions as generator tasks, saved in the project with their recipe.

``ask`` streams: it yields :class:`TextChunk` (a :class:`Progress` that also carries the new text), so the CLI
prints pieces as they come and the GUI appends them to the answer view; closing the task cancels generation
within one token. ``describe`` writes a short structured description per image (batched, not streamed).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from micview.core.store import Project
from micview.core.store.answers import DESCRIPTION, QUESTION, NewAnswer
from micview.core.tasks import Progress, Task
from micview.ml.vlm.generate import Generation, GenerationSettings, generate_texts
from micview.ml.vlm.inputs import DEFAULT_MAX_SIDE, find_image, load_pil
from micview.ml.vlm.model import VisionLanguageModel
from micview.ml.vlm.prompts import PROMPT_VERSION, describe_conversation, question_conversation, scale_hint


@dataclass(frozen=True, slots=True)
class TextChunk(Progress):
    """Progress of a streamed answer: ``text`` is the piece just generated for image ``image_id``."""

    text: str = ""
    image_id: int = 0


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    answer_id: int
    image_id: int
    text: str
    seconds: float
    tokens: int


def vqa_run(project: Project, vlm: VisionLanguageModel, method: str, params: dict[str, Any]) -> int:
    """The run holding this recipe (model, weights, settings): reused while the recipe is the same."""
    params = {**params, **vlm.recipe(), "prompt_version": PROMPT_VERSION}
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    key = f"vqa:{method}:{vlm.id}:{digest}"
    found = project.runs.latest(key)
    if found is not None:
        return found.id
    return project.runs.record("vqa", key, method, params, model_id=vlm.id, weights_hash=vlm.weights_hash)


def ask(
    project: Project,
    images: Sequence[str | int],
    question: str,
    vlm: VisionLanguageModel,
    settings: GenerationSettings | None = None,
    *,
    max_side: int = DEFAULT_MAX_SIDE,
) -> Task[list[StoredAnswer]]:
    """Ask ``question`` about each image in turn (streamed); every finished answer is saved at once."""
    settings = settings or GenerationSettings()
    rows = [find_image(project, name) for name in images]
    run_id = vqa_run(project, vlm, "generate", {**asdict(settings), "max_side": max_side})
    out = []
    for n, row in enumerate(rows):
        conversation = question_conversation(load_pil(project, row, max_side), question)
        start, gen, pieces = time.perf_counter(), Generation(vlm, conversation, settings), []
        try:
            for piece in gen:
                pieces.append(piece)
                yield TextChunk(n, len(rows), row.name, text=piece, image_id=row.id)
        finally:
            gen.cancel()  # a no-op when finished; stops generation when the task was closed
        text, seconds = "".join(pieces).strip(), time.perf_counter() - start
        answer = NewAnswer(row.id, QUESTION, question, text, model_id=vlm.id, run_id=run_id, seconds=seconds)
        out.append(StoredAnswer(project.answers.add(answer), row.id, text, seconds, gen.tokens))
        yield Progress(n + 1, len(rows), row.name)
    return out


def describe(
    project: Project,
    image_ids: Sequence[int],
    vlm: VisionLanguageModel,
    settings: GenerationSettings | None = None,
    *,
    batch_size: int = 4,
    max_side: int = DEFAULT_MAX_SIDE,
) -> Task[list[StoredAnswer]]:
    """A short structured description (technique, features, scale, defects) of each image, saved as
    searchable text (``project.answers.search``). The calibration, where known, goes into the prompt."""
    settings = settings or GenerationSettings(max_new_tokens=160)
    run_id = vqa_run(project, vlm, "describe", {**asdict(settings), "max_side": max_side})
    out: list[StoredAnswer] = []
    rows = [project.images.get(i) for i in image_ids]
    for first in range(0, len(rows), batch_size):
        batch = rows[first : first + batch_size]
        convs = [
            describe_conversation(load_pil(project, r, max_side), scale_hint(r.pixel_size_nm, r.width, r.height))
            for r in batch
        ]
        start = time.perf_counter()
        texts = generate_texts(vlm, convs, settings)
        seconds = (time.perf_counter() - start) / len(batch)
        for r, conv, text in zip(batch, convs, texts, strict=True):
            prompt = conv[-1]["content"][-1]["text"]
            answer = NewAnswer(r.id, DESCRIPTION, prompt, text, model_id=vlm.id, run_id=run_id, seconds=seconds)
            out.append(StoredAnswer(project.answers.add(answer), r.id, text, seconds, 0))
        yield Progress(len(out), len(rows), batch[-1].name)
    return out
