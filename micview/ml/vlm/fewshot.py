"""Few-shot exemplars: k labelled images per class shown (with their answer) before each question.

Exemplars come from the project's user labels of the task, never from the images being evaluated (that would
leak the answer), chosen with a fixed seed so an evaluation is repeatable. The crystallization reference used
one example per class the same way.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence

from micview.core.store import Project
from micview.ml.errors import ModelError
from micview.ml.vlm.inputs import DEFAULT_MAX_SIDE, load_pil
from micview.ml.vlm.prompts import Exemplar


def choose_exemplars(
    project: Project, task: str, options: Sequence[str], k: int, exclude: Collection[int] = (), seed: int = 0
) -> list[tuple[int, int]]:
    """(image id, option index) pairs: up to ``k`` per option, in option order."""
    by_class: dict[str, list[int]] = {}
    for image_id, label in sorted(project.labels.labels(task).items()):
        if label in options and image_id not in exclude:
            by_class.setdefault(label, []).append(image_id)
    if not by_class:
        raise ModelError(
            f"Few-shot examples need images labelled for '{task}' that are not being evaluated; none were found. "
            "Label a few images per class, or use --shots 0."
        )
    rng = random.Random(seed)
    chosen = []
    for index, option in enumerate(options):
        ids = by_class.get(option, [])
        chosen += [(i, index) for i in rng.sample(ids, min(k, len(ids)))]
    return chosen


def load_exemplars(
    project: Project, pairs: Sequence[tuple[int, int]], max_side: int = DEFAULT_MAX_SIDE
) -> list[Exemplar]:
    return [Exemplar(load_pil(project, project.images.get(i), max_side), answer) for i, answer in pairs]
