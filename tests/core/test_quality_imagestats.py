"""Image statistics, the perceptual hash and the pixel check on constructed pictures with known answers."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from micview.core.quality.imagestats import grey_stats, hamming, image_stats, phash
from micview.core.quality.verify import grey_views, match_score


def encoded(pixels: np.ndarray, fmt: str = "PNG", **kw: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format=fmt, **kw)
    return buf.getvalue()


def texture(seed: int, h: int = 192, w: int = 256) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    img = sum(np.sin(x * rng.uniform(0.02, 0.3) + y * rng.uniform(0.02, 0.3) + rng.uniform(0, 6)) for _ in range(5))
    blobs = sum(np.exp(-((x - rng.uniform(0, w)) ** 2 + (y - rng.uniform(0, h)) ** 2) / 300) for _ in range(8))
    return np.clip(110 + 25 * img + 90 * blobs, 0, 255).astype(np.uint8)


def test_grey_stats_of_constructed_images() -> None:
    flat = np.full((40, 40), 128, np.uint8)
    assert grey_stats(flat) == pytest.approx((0.0, 128 / 255, 0.0, 0.0))
    half = np.zeros((40, 40), np.uint8)
    half[:, 20:] = 255  # one bit of entropy, half the pixels clipped, one sharp edge
    blur, brightness, saturation, entropy = grey_stats(half)
    assert (brightness, saturation, entropy) == pytest.approx((0.5, 0.5, 1.0))
    # the Laplacian is ±1 on the two columns beside the edge (38 of 38·38 inner pixels each), 0 elsewhere
    assert blur == pytest.approx(2 * 38 / (38 * 38))
    cells = ((np.random.default_rng(1).random((48, 64)) > 0.5) * 200 + 30).astype(np.uint8)
    sharp = np.asarray(Image.fromarray(cells).resize((256, 192), Image.Resampling.NEAREST))  # crisp edges
    smooth = np.asarray(Image.fromarray(cells).resize((32, 24)).resize((256, 192), Image.Resampling.BICUBIC))
    assert grey_stats(smooth)[0] < 0.2 * grey_stats(sharp)[0]


def test_phash_survives_resizing_recompression_and_brightening_not_other_images() -> None:
    base = texture(2)
    h0 = phash(np.asarray(Image.fromarray(base).resize((32, 32), Image.Resampling.BOX)))
    copies = [
        image_stats(encoded(np.asarray(Image.fromarray(base).resize((128, 96))))).phash,
        image_stats(encoded(base, "JPEG", quality=30)).phash,
        image_stats(encoded(np.asarray(ImageEnhance.Brightness(Image.fromarray(base)).enhance(1.2)))).phash,
    ]
    others = [image_stats(encoded(texture(s))).phash for s in range(10, 16)]
    near = hamming(np.array(copies, np.uint64), np.full(3, h0, np.uint64))
    far = hamming(np.array(others, np.uint64), np.full(6, h0, np.uint64))
    assert near.max() <= 6 and far.min() >= 14


def test_pixel_check_finds_crops_and_brightened_copies_not_other_images() -> None:
    base = texture(3, 240, 320)
    crop = base[24:-24, 32:-32]  # 80 % of each side
    corner = base[:192, :256]  # an 80 % corner crop
    bright = np.clip(base.astype(int) * 1.2 + 10, 0, 255).astype(np.uint8)
    v = grey_views(encoded(base, "JPEG", quality=85))
    for copy in (crop, corner, bright):
        assert match_score(v, grey_views(encoded(copy, "JPEG", quality=60))) > 0.9
    for seed in range(20, 25):
        assert match_score(v, grey_views(encoded(texture(seed, 240, 320)))) < 0.8


def test_unreadable_thumbnail_raises_a_plain_error() -> None:
    with pytest.raises((OSError, ValueError)):
        image_stats(b"not an image")
