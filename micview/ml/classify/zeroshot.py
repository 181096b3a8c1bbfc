"""Zero-shot classification with CLIP-family models: cosine to prompt-ensemble class vectors, softmax.

Scores follow CLIP: ``softmax(logit_scale · cos(image, class))`` with the logit scale CLIP learnt (100), so
they are comparable with published zero-shot numbers. (SigLIP was trained with a sigmoid and its own scale;
the softmax over its cosines still ranks classes the same way.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from micview.ml.classify.fewshot import log_softmax
from micview.ml.classify.prompts import PromptSet, class_text_embeddings
from micview.ml.errors import NoTextTowerError

if TYPE_CHECKING:
    from micview.ml.embedder import Embedder

LOGIT_SCALE = 100.0


def zero_shot_log_proba(images: np.ndarray, class_vectors: np.ndarray, scale: float = LOGIT_SCALE) -> np.ndarray:
    """``(n, n_classes)`` log-probabilities from unit image vectors and unit class vectors."""
    return log_softmax(scale * (images @ class_vectors.T).astype(np.float64))


def zero_shot(
    embedder: Embedder, images: np.ndarray, prompts: PromptSet, classes: list[str] | None = None
) -> tuple[list[str], np.ndarray]:
    """Class names and ``(n, n_classes)`` probabilities of ``images`` (vectors from the same model)."""
    if not embedder.has_text:
        raise NoTextTowerError(
            f"{embedder.id} has no text tower, so it cannot classify from prompts (zero-shot). Label a few "
            "images of each class and classify from your labels, or add a CLIP/SigLIP model (micview models add)."
        )
    classes = classes or prompts.class_names
    vectors = class_text_embeddings(embedder, prompts, classes)
    return classes, np.exp(zero_shot_log_proba(images, vectors))
