"""Import thumbnails of JPEGs decoded at an n/8 scale (simplejpeg) match what Pillow's path shows: the same
orientation, colours and size bound; what that path does not take falls back to Pillow with Pillow's errors."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from micview.core.errors import ImageReadError
from micview.core.imaging import _pillow

THUMB = 256


def _scene(width: int, height: int, grey: bool = False) -> Image.Image:
    """Smooth gradients and a bright block off-centre, so orientation and colour errors both show."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 255 // width, y * 255 // height, (x + y) * 127 // (width + height)], axis=2).astype(np.uint8)
    rgb[: height // 4, : width // 3] = (250, 240, 30)
    img = Image.fromarray(rgb)
    return img.convert("L") if grey else img


def _pillow_thumbnail(path: Path) -> np.ndarray:
    with _pillow._open(path) as im:
        return _pillow._display(im, path, 0, THUMB)


def _close(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference after both are box-shrunk to 32 px wide (sub-pixel phase does not count)."""
    size = (32, max(1, round(32 * b.shape[0] / b.shape[1])))
    small = [np.asarray(Image.fromarray(v).resize(size, Image.Resampling.BOX), np.float32) for v in (a, b)]
    return float(np.abs(small[0] - small[1]).mean())


def _fast(path: Path) -> np.ndarray:
    with _pillow._open(path) as im:
        out = _pillow._jpeg_thumbnail(im, path, THUMB)
    assert out is not None, "the simplejpeg path should take this file"
    return out


@pytest.mark.parametrize(("width", "height", "grey"), [(640, 480, False), (3000, 2000, False), (480, 640, True)])
def test_thumbnail_matches_pillows_within_the_size_bound(tmp_path: Path, width: int, height: int, grey: bool) -> None:
    path = tmp_path / "scene.jpg"
    _scene(width, height, grey).save(path, quality=92)
    thumb = _pillow.read_summary(path, THUMB).thumbnail
    assert np.array_equal(thumb, _fast(path))
    assert THUMB * 0.9 < max(thumb.shape[:2]) <= THUMB
    assert thumb.ndim == (2 if grey else 3) and thumb.dtype == np.uint8
    assert _close(thumb, _pillow_thumbnail(path)) < 3.0


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown rotated 90° clockwise: portrait
    _scene(640, 480).save(path, quality=92, exif=exif.tobytes())
    thumb = _pillow.read_summary(path, THUMB).thumbnail
    assert thumb.shape[0] > thumb.shape[1]
    assert _close(thumb, _pillow_thumbnail(path)) < 3.0
    h, w = thumb.shape[0] // 5, thumb.shape[1] // 5
    assert thumb[:h, -w:, 0].mean() > 200 and thumb[:h, :w, 0].mean() < 100  # the yellow block is top right


def test_cmyk_and_truncated_jpegs_go_through_pillow(tmp_path: Path) -> None:
    cmyk = tmp_path / "cmyk.jpg"
    _scene(400, 300).convert("CMYK").save(cmyk, quality=90)
    with _pillow._open(cmyk) as im:
        assert _pillow._jpeg_thumbnail(im, cmyk, THUMB) is None
    assert _pillow.read_summary(cmyk, THUMB).thumbnail.shape == (192, 256, 3)

    buf = io.BytesIO()
    _scene(400, 300).save(buf, format="JPEG", quality=90)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageReadError, match="truncated or corrupt"):
        _pillow.read_summary(cut, THUMB)


@pytest.mark.shared_data
def test_real_jpegs_with_icc_profile_and_progressive_coding(shared_data: Path) -> None:
    for name in ("doitpoms_000872_icc_fullres.jpg", "doitpoms_000845_progressive.jpg"):
        path = shared_data / "formats" / name
        assert _close(_fast(path), _pillow_thumbnail(path)) < 3.0, name
