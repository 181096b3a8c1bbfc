"""MARCO's pooled features (1056-d, before the logits) as an embedder: a "crystal-aware" map and few-shot.

The registry loader for ``family='marco'`` (``FAMILY_LOADERS['marco'] = "micview.ml.marco.family:load"``).
:class:`MarcoEmbedder` offers what :func:`micview.ml.embedding.embed_project` and search use of
:class:`~micview.ml.embedder.Embedder` (``id``, ``spec``, ``preprocess``, ``weights_hash``, ``device``,
``precision``, ``place``, ``encode_pixels``, ``has_text``), running onnxruntime instead of torch.

``embed_project`` feeds uint8 squares from :func:`micview.ml.preprocess.load_square` (centre crop, bicubic);
``Preprocess(599, 0.5, 0.5)`` then gives the graph's ``(x/255 - 0.5) * 2``. Only the resize kernel differs
from MARCO's own (legacy bilinear); scores (:mod:`.score`) always use the exact pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from micview.ml.embedder import Preprocess, l2_normalise
from micview.ml.errors import NoTextTowerError
from micview.ml.marco.preprocess import SIZE
from micview.ml.marco.runtime import MarcoModel, load_folder
from micview.ml.registry import ModelSpec

PREPROCESS = Preprocess(SIZE, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))


class MarcoEmbedder:
    """MARCO features through onnxruntime; always float32 (the precision asked for is recorded, not used)."""

    def __init__(self, spec: ModelSpec, model: MarcoModel) -> None:
        self.spec = spec
        self.model = model
        self.preprocess = PREPROCESS
        self.weights_hash = model.weights_hash
        self.device = model.device
        self.precision = "float32"

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def has_text(self) -> bool:
        return False

    def place(self, device: str, precision: str) -> MarcoEmbedder:
        """Re-open the session on ``device`` when it differs; precision stays float32."""
        if device != self.device:
            self.model = load_folder(self.model.folder, self.model.model_id, device)
            self.device = self.model.device
        return self

    def encode_pixels(self, pixels: np.ndarray) -> np.ndarray:
        """(B, 599, 599, 3) uint8 → (B, 1056) float32, unit length."""
        x = (pixels.astype(np.float32) * np.float32(1.0 / 255.0) - np.float32(0.5)) * np.float32(2.0)
        return l2_normalise(self.model.run(x)[1])

    def encode_tensor(self, x: Any) -> Any:
        return self.model.run(np.asarray(x))[1]

    def encode_text(self, texts: Sequence[str]) -> np.ndarray:
        raise NoTextTowerError(f"{self.id} is image-only (a crystallization classifier); it cannot search by text.")


def load(spec: ModelSpec, where: Path) -> MarcoEmbedder:
    """Registry loader: ``where`` is the converted model's cache folder."""
    return MarcoEmbedder(spec, load_folder(where, spec.id, device="cpu"))
