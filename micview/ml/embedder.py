"""One loaded embedding model, whatever its family: images (and text) in, L2-normalised vectors out.

Families differ only in how they build the network, read their preprocessing constants and tokenize text;
the loaders in :mod:`micview.ml.families` hand this class two callables and the constants. Everything a
batch goes through after decoding (uint8 → float, normalise, precision, device) is here, once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from micview.ml.errors import NoTextTowerError
from micview.ml.registry import ModelSpec


@dataclass(frozen=True, slots=True)
class Preprocess:
    """How an image becomes the model's input: square ``size`` crop, then ``(x/255 - mean) / std``."""

    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def as_params(self) -> dict[str, Any]:
        return {"size": self.size, "mean": list(self.mean), "std": list(self.std), "aspect": "centre-crop"}


ImageForward = Callable[[Any], Any]  # normalised (B, 3, S, S) tensor -> (B, D) tensor
TextForward = Callable[[Sequence[str], Any], Any]  # (texts, device) -> (N, D) tensor


def l2_normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    out: np.ndarray = (x / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


class Embedder:
    """A model ready to embed. Call :meth:`place` before use (the registry does)."""

    def __init__(
        self,
        spec: ModelSpec,
        preprocess: Preprocess,
        modules: Sequence[Any],
        image_forward: ImageForward,
        text_forward: TextForward | None,
        weights_hash: str,
        channels_last: bool = False,
    ) -> None:
        self.spec = spec
        self.preprocess = preprocess
        self.weights_hash = weights_hash
        self._modules = list(modules)
        self._image = image_forward
        self._text = text_forward
        self._channels_last = channels_last
        self.device = "cpu"
        self.precision = "float32"

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def has_text(self) -> bool:
        return self._text is not None

    def place(self, device: str, precision: str) -> Embedder:
        """Move weights to ``device`` and cast them to ``precision`` (faster than autocast on CPU)."""
        import torch

        from micview.ml.device import torch_dtype

        dtype = torch_dtype(precision)
        for m in self._modules:
            m.to(device=device, dtype=dtype).eval()
            if self._channels_last:
                m.to(memory_format=torch.channels_last)
        self.device, self.precision = device, precision
        return self

    def _to_input(self, pixels: np.ndarray) -> Any:
        """(B, S, S, 3) uint8 numpy → normalised (B, 3, S, S) tensor in the model's dtype on its device."""
        import torch

        from micview.ml.device import torch_dtype

        pixels = np.ascontiguousarray(pixels)
        if not pixels.flags.writeable:  # torch warns on read-only memory (e.g. np.asarray of a PIL image)
            pixels = pixels.copy()
        x = torch.from_numpy(pixels).to(self.device, non_blocking=True)
        x = x.permute(0, 3, 1, 2).float().div_(255.0)
        mean = torch.tensor(self.preprocess.mean, device=self.device).view(1, 3, 1, 1)
        std = torch.tensor(self.preprocess.std, device=self.device).view(1, 3, 1, 1)
        x = ((x - mean) / std).to(torch_dtype(self.precision))
        memory_format = torch.channels_last if self._channels_last else torch.contiguous_format
        return x.contiguous(memory_format=memory_format)

    def encode_pixels(self, pixels: np.ndarray) -> np.ndarray:
        """Embed a batch of preprocessed images, ``(B, S, S, 3)`` uint8 → ``(B, D)`` float32, unit length."""
        import torch

        with torch.inference_mode():
            out = self._image(self._to_input(pixels))
        return l2_normalise(out.float().cpu().numpy())

    def encode_tensor(self, x: Any) -> Any:
        """Pure forward on an already normalised tensor (benchmarks compare against this)."""
        import torch

        with torch.inference_mode():
            return self._image(x)

    def encode_text(self, texts: Sequence[str]) -> np.ndarray:
        """Embed text prompts, ``(N, D)`` float32, unit length; only models with a text tower."""
        import torch

        if self._text is None:
            raise NoTextTowerError(
                f"{self.id} is image-only, so it cannot search by text. Add a CLIP or SigLIP model with "
                "`micview models add PATH` (or `micview models pull ID` when online) and pass --model ID."
            )
        with torch.inference_mode():
            out = self._text(list(texts), self.device)
        return l2_normalise(out.float().cpu().numpy())
