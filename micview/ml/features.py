"""Feature variants for classification: higher resolution, test-time augmentation, texture statistics.

Why: a network's 224-px centre-crop vector describes *what* is in a photo; what tells a technique or a
microstructure apart is mostly texture, contrast and noise at fine scale, which a 224-px crop of a 2000-px
micrograph throws away, and micrographs have no canonical orientation. Measured on the DoITPoMS miclib DEV
split (technique, 4 groups, 10 labels per class, logistic regression; ``scripts/bench_classify.py``), each
option below raised balanced accuracy over the plain 224-px vector.

A variant is named by suffixes on the base model id, so its vectors are stored and reused like any other
model's: ``effnet-lite0+448px+tta+texture``; ``+texture`` alone means ``+448px+texture``. The classification
default is ``effnet-lite0+native+texture`` (chosen by nested, specimen-grouped selection: docs/classification.md).

* ``+<N>px`` — input side ``N`` (centre square of the image resized so its shorter side is ``N``);
* ``+native`` — CNN backbones only: the whole image at its own size (longest side ≤ 640 px), its burnt-in
  data bar cut off, one image per forward pass (:mod:`micview.ml.whole_image`); ``+<N>px`` does not apply;
* ``+tta`` — mean of the unit vectors of the four rotations by 90° (exactly invariant to them; micrographs
  have no canonical orientation). It costs 4× the time and moved miclib's 10-shot balanced accuracy by only
  ~0.01, so the preset leaves it out;
* ``+texture`` — CNN backbones only: mean and standard deviation of the activations of several depths
  (blocks 3–6 and the head; Gatys-style texture statistics, as in FV-CNN/"deep filter banks" for
  material recognition), each signed-square-rooted and L2-normalised per block before concatenation, so
  shallow and deep layers weigh alike.

Use: ``embed_project(project, fid, embedder=load_feature_embedder(fid))``; the wrapper offers what
:func:`~micview.ml.embedding.embed_project` needs of an :class:`~micview.ml.embedder.Embedder`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from micview.ml.embedder import Embedder, Preprocess, l2_normalise
from micview.ml.errors import ModelError
from micview.ml.registry import ModelSpec, get_spec, load_embedder, require

TEXTURE_BLOCKS = (3, 4, 5, 6)
TEXTURE_SIZE = 448


@dataclass(frozen=True, slots=True)
class EmbedOptions:
    """How to turn an image into a vector beyond the model's default (see the module docstring)."""

    size: int | None = None
    tta: bool = False
    texture: bool = False
    native: bool = False

    @property
    def suffix(self) -> str:
        parts = [f"{self.size}px"] if self.size else []
        parts += ["native"] * self.native + ["tta"] * self.tta + ["texture"] * self.texture
        return "".join("+" + p for p in parts)

    @property
    def is_default(self) -> bool:
        return not (self.size or self.tta or self.texture or self.native)


def parse_feature_id(model_id: str) -> tuple[str, EmbedOptions]:
    """``'effnet-lite0+448px+tta'`` → ``('effnet-lite0', EmbedOptions(448, True, False))``."""
    base, *parts = model_id.split("+")
    size, flags = None, set()
    for p in parts:
        if p.endswith("px") and p[:-2].isdigit():
            size = int(p[:-2])
        elif p in ("tta", "texture", "native"):
            flags.add(p)
        else:
            raise ModelError(f"{model_id}: unknown feature option '+{p}' (use +<N>px, +native, +tta, +texture).")
    if "native" in flags and size:
        raise ModelError(f"{model_id}: +native takes the whole image at its own size; leave out +{size}px.")
    if parts == ["texture"]:  # the preset
        size = TEXTURE_SIZE
    return base, EmbedOptions(size, "tta" in flags, "texture" in flags, "native" in flags)


def feature_id(base: str, options: EmbedOptions) -> str:
    return base + options.suffix


def base_spec(model_id: str) -> ModelSpec:
    """The registry entry of the model under a feature id (e.g. to ask whether it has a text tower)."""
    base, options = parse_feature_id(model_id)
    spec = get_spec(base)
    return replace(spec, id=model_id, has_text=spec.has_text and not (options.texture or options.native))


def rotated_views(pixels: np.ndarray) -> list[np.ndarray]:
    """The four rotations by 90° of ``(B, S, S, 3)`` squares (a group, so the mean is exactly invariant)."""
    return [np.rot90(pixels, k, axes=(1, 2)) for k in range(4)]


class FeatureEmbedder:
    """An :class:`Embedder` look-alike that adds test-time augmentation around another embedder."""

    def __init__(self, inner: Embedder, spec: ModelSpec, tta: bool) -> None:
        self.inner = inner
        self.spec = spec
        self.tta = tta

    id = property(lambda self: self.spec.id)
    preprocess = property(lambda self: self.inner.preprocess)
    weights_hash = property(lambda self: self.inner.weights_hash)
    device = property(lambda self: self.inner.device)
    precision = property(lambda self: self.inner.precision)
    has_text = property(lambda self: self.inner.has_text and self.spec.has_text)

    def encode_pixels(self, pixels: np.ndarray) -> np.ndarray:
        views = rotated_views(pixels) if self.tta else [pixels]
        out = np.mean([self.inner.encode_pixels(np.ascontiguousarray(v)) for v in views], axis=0)
        return l2_normalise(out)

    def encode_text(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.encode_text(texts)


def load_feature_embedder(model_id: str, *, device: str | None = None, precision: str | None = None) -> Any:
    """An embedder for a feature id (a plain model id gives the plain embedder)."""
    base, options = parse_feature_id(model_id)
    if options.is_default:
        return load_embedder(base, device=device, precision=precision)
    spec = base_spec(model_id)
    if options.native:
        return _native_embedder(spec, base, options, device, precision)
    if options.texture:
        inner = _texture_embedder(spec, base, options.size or TEXTURE_SIZE)
        from micview.ml.device import choose

        inner.place(*choose(device, precision))
    else:
        inner = load_embedder(base, device=device, precision=precision)
        if options.size:
            inner.preprocess = replace(inner.preprocess, size=options.size)
    return FeatureEmbedder(inner, spec, options.tta)


def _native_embedder(
    spec: ModelSpec, base: str, options: EmbedOptions, device: str | None, precision: str | None
) -> Any:
    from micview.ml.device import choose
    from micview.ml.whole_image import WholeImageEmbedder

    if options.texture:
        inner = _texture_embedder(spec, base, TEXTURE_SIZE, option="+native")
    else:
        _require_cnn(base, "+native")
        inner = load_embedder(base, device=device, precision=precision)
    inner.place(*choose(device, precision))
    return WholeImageEmbedder(inner, spec, tta=options.tta)


def _require_cnn(base: str, option: str) -> ModelSpec:
    base_model = get_spec(base)
    if base_model.family != "effnet":
        raise ModelError(
            f"{option} needs a convolutional backbone (effnet-lite0); {base} is a {base_model.family} model."
        )
    return base_model


def _texture_embedder(spec: ModelSpec, base: str, size: int, option: str = "+texture") -> Embedder:
    base_model = _require_cnn(base, option)
    from micview.ml.families.effnet import PREPROCESS, WEIGHTS_FILE, build_classifier
    from micview.ml.weights import weights_hash

    where = require(base_model)
    weights = where / WEIGHTS_FILE if where.is_dir() else where
    model = build_classifier(weights)
    forward = texture_forward(model, TEXTURE_BLOCKS)
    pre = Preprocess(size, PREPROCESS.mean, PREPROCESS.std)
    return Embedder(replace(spec, dim=None), pre, [model], forward, None, weights_hash([weights]), channels_last=True)


def texture_forward(model: Any, blocks: Sequence[int]) -> Any:
    """A forward function returning per-block [mean, std] activation statistics of a timm EfficientNet."""
    import torch

    def stats(x: Any) -> list[Any]:
        f = x.float().flatten(2)
        out = []
        for s in (f.mean(2), f.std(2)):
            s = torch.sign(s) * torch.sqrt(torch.abs(s))
            out.append(torch.nn.functional.normalize(s, dim=1))
        return out

    def forward(x: Any) -> Any:
        parts: list[Any] = []
        for i, block in enumerate(model.blocks):
            x = block(x if i else model.bn1(model.conv_stem(x)))
            if i in blocks:
                parts += stats(x)
        parts += stats(model.bn2(model.conv_head(x)))
        return torch.cat(parts, 1)

    return forward
