"""Each family loads from a folder and embeds: shapes, unit length, determinism, text, precision."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from micview.ml.embedder import Embedder
from micview.ml.errors import NoTextTowerError
from micview.ml.preprocess import decode_size, square
from micview.ml.registry import load_embedder

TINY_IDS = ["tiny-oc", "tiny-clip", "tiny-siglip"]


def pixels(n: int, size: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


@pytest.mark.parametrize("model_id", TINY_IDS)
def test_tiny_families_embed_images_and_text(tiny: dict[str, Path], model_id: str) -> None:
    model = load_embedder(model_id, device="cpu", precision="float32")
    assert model.has_text and model.preprocess.size == 32
    x = pixels(5, model.preprocess.size)
    v = model.encode_pixels(x)
    assert v.shape == (5, model.spec.dim) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert np.array_equal(v, model.encode_pixels(x))  # deterministic
    assert np.allclose(v[2], model.encode_pixels(x[2:3])[0], atol=1e-5)  # batch-independent
    t = model.encode_text(["dendrites in a cast alloy", "grain boundaries"])
    assert t.shape == (2, model.spec.dim) and np.allclose(np.linalg.norm(t, axis=1), 1, atol=1e-5)
    assert not np.allclose(t[0], t[1])
    assert model.weights_hash.startswith("sha256:")


@pytest.mark.parametrize("model_id", ["tiny-oc", "effnet-lite0"])
def test_bfloat16_close_to_float32(tiny: dict[str, Path], model_id: str, real_pixels: np.ndarray) -> None:
    fp32 = load_embedder(model_id, device="cpu", precision="float32")
    bf16 = load_embedder(model_id, device="cpu", precision="bfloat16")
    x = np.stack([square(p, fp32.preprocess.size) for p in real_pixels])
    cos = np.sum(fp32.encode_pixels(x) * bf16.encode_pixels(x), axis=1)
    assert cos.min() > 0.99, cos


def test_default_model_is_image_only(effnet: Embedder) -> None:
    assert not effnet.has_text and effnet.preprocess.size == 224
    with pytest.raises(NoTextTowerError, match=r"effnet-lite0 is image-only.*micview models add PATH"):
        effnet.encode_text(["cat"])


def _imagenet_top5(model: Embedder, img: np.ndarray) -> list[int]:
    import torch

    from micview.ml.families.effnet import WEIGHTS_FILE, build_classifier
    from micview.ml.registry import get_spec, locate

    classifier = build_classifier(locate(get_spec("effnet-lite0")) / WEIGHTS_FILE)  # type: ignore[operator]
    with torch.inference_mode():
        logits = classifier(model._to_input(square(img, 224)[None]).float())
    return logits[0].topk(5).indices.tolist()


def test_real_efficientnet_weights_recognise_cat_and_coffee(effnet: Embedder) -> None:
    """The packaged weights are real ImageNet weights, loaded into the right places."""
    from skimage import data

    assert _imagenet_top5(effnet, data.chelsea())[0] in range(281, 286)  # tabby, tiger cat, Persian, ...
    assert _imagenet_top5(effnet, data.coffee())[0] in (967, 968, 504)  # espresso, cup, coffee mug


def test_decode_size_keeps_short_side() -> None:
    assert decode_size(4000, 1000, 224) == 896
    assert decode_size(None, 10, 224) is None
    out = square(np.zeros((30, 90), np.uint8), 16)
    assert out.shape == (16, 16, 3) and out.dtype == np.uint8


def test_centre_crop_keeps_the_middle() -> None:
    img = np.zeros((100, 300, 3), np.uint8)
    img[:, 100:200] = 255  # the middle square is white, the sides black
    assert square(img, 50)[:, 3:-3].min() > 250  # bicubic blurs only the outermost columns
