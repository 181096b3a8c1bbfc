"""Prompts as chat conversations (the processor's chat template turns them into each model's format).

A conversation is a list of ``{"role", "content"}`` messages whose content is a list of ``{"type": "image",
"image": PIL.Image}`` and ``{"type": "text", "text": ...}`` items: the format transformers' processors accept
for every family, so no prompt string is written per model.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

LETTERS = string.ascii_uppercase
MAX_OPTIONS = len(LETTERS)
MCQ_INSTRUCTION = "Answer with the letter of the correct option only."
PROMPT_VERSION = 1  # bump when the wording changes: it is part of an evaluation's recipe

# The question asked for a label task when none is given (the reference project's wording, made explicit).
TASK_QUESTIONS = {
    "technique": "Which microscopy technique was used to acquire this image?",
    "categories": "Which category of material does this micrograph show?",
    "category": "Which category of material does this micrograph show?",
}

DESCRIBE_PROMPT = (
    "Describe this microscopy image for a searchable catalogue. Reply in four short lines:\n"
    "Technique: the imaging technique (e.g. SEM, TEM, AFM, optical), with the evidence.\n"
    "Features: the microstructure or objects visible (grains, phases, particles, cracks, ...).\n"
    "Scale: the size of the main features{scale_hint}.\n"
    "Defects: any defects or artefacts, or 'none visible'."
)

Conversation = list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Exemplar:
    """A labelled example image shown before the question (few-shot), with its correct option index."""

    image: Any  # PIL.Image.Image
    answer: int


def task_question(task: str) -> str:
    return TASK_QUESTIONS.get(task.lower(), f"Which {task} does this image show?")


def mcq_text(question: str, options: Sequence[str]) -> str:
    """The question followed by lettered options and the instruction to answer with one letter."""
    if not 2 <= len(options) <= MAX_OPTIONS:
        raise ValueError(f"a multiple-choice question needs 2 to {MAX_OPTIONS} options, got {len(options)}")
    lines = [question.strip(), *(f"{LETTERS[i]}. {opt}" for i, opt in enumerate(options)), MCQ_INSTRUCTION]
    return "\n".join(lines)


def _user(image: Any, text: str) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"type": "image", "image": image}] if image is not None else []
    return {"role": "user", "content": [*content, {"type": "text", "text": text}]}


def _assistant(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": [{"type": "text", "text": text}]}


def question_conversation(image: Any, question: str) -> Conversation:
    return [_user(image, question)]


def mcq_conversation(
    image: Any, question: str, options: Sequence[str], exemplars: Sequence[Exemplar] = ()
) -> Conversation:
    """The MCQ prompt; each exemplar is an earlier user turn with its image and the correct letter as reply."""
    text = mcq_text(question, options)
    turns: Conversation = []
    for ex in exemplars:
        turns += [_user(ex.image, text), _assistant(LETTERS[ex.answer])]
    return [*turns, _user(image, text)]


def scale_hint(pixel_size_nm: float | None, width: int | None, height: int | None) -> str:
    """Turn the calibration into words the model can use (or nothing when the image is not calibrated)."""
    if not pixel_size_nm or not width or not height:
        return ""
    w_um, h_um = width * pixel_size_nm / 1000, height * pixel_size_nm / 1000
    return (
        f"; the image is calibrated: {pixel_size_nm:.4g} nm per pixel, so the field of view is "
        f"{w_um:.3g} × {h_um:.3g} µm"
    )


def describe_conversation(image: Any, hint: str = "") -> Conversation:
    return [_user(image, DESCRIBE_PROMPT.format(scale_hint=hint))]


_LETTER_RE = re.compile(r"(?<![A-Za-z])\(?([A-Z])[).:]?(?![A-Za-z])")


def parse_choice(text: str, options: Sequence[str]) -> int | None:
    """The option a generated answer names: a standalone letter first, else an option's text; ``None`` if neither."""
    n = len(options)
    for m in _LETTER_RE.finditer(text.strip()):
        idx = LETTERS.index(m.group(1))
        if idx < n:
            return idx
    low = text.lower()
    hits = [i for i, opt in enumerate(options) if opt.lower() in low]
    return hits[0] if len(hits) == 1 else None
