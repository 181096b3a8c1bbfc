"""The ``+native`` feature option: whole images at their own size, the data bar cut off, one vector per file
whichever path embeds it (project, watched folder, "more like this" for an outside file)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from micview.core.store import Project
from micview.core.tasks import run_task
from micview.ml.databar import data_bar_rows, without_data_bar
from micview.ml.embedding import embed_project
from micview.ml.errors import ModelError, NoTextTowerError
from micview.ml.features import base_spec, load_feature_embedder, parse_feature_id
from micview.ml.search import embed_file
from micview.ml.whole_image import MAX_SIDE, MIN_SIDE, fit_whole, load_whole


def textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A mid-grey micrograph-like texture (values 60–200), no flat band anywhere."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = 130 + 50 * np.sin(x / 7.0 + rng.uniform(0, 6)) * np.cos(y / 11.0) + rng.normal(0, 10, (h, w))
    return np.clip(base, 60, 200).astype(np.uint8)


def with_band(img: np.ndarray, rows: int, colour: int) -> np.ndarray:
    """``img`` with a flat band of ``rows`` at the bottom holding a little 'text' (a scale bar, digits)."""
    out = img.copy()
    out[-rows:] = colour
    out[-rows + 5 : -rows + 9, 10:80] = 255 - colour  # a scale bar
    out[-rows + 12 : -rows + 20 : 2, 100:160] = 255 - colour  # text: a few rows of marks
    return out


def test_native_feature_ids() -> None:
    base, opts = parse_feature_id("effnet-lite0+native+texture")
    assert base == "effnet-lite0" and opts.native and opts.texture and opts.size is None
    assert opts.suffix == "+native+texture" and not opts.is_default
    assert not base_spec("effnet-lite0+native").has_text  # a texture/whole-image vector cannot be searched by text
    with pytest.raises(ModelError, match="leave out"):
        parse_feature_id("effnet-lite0+native+448px")


@pytest.mark.parametrize("colour", [0, 255])
def test_a_burnt_in_data_bar_is_found_and_cut(colour: int) -> None:
    img = with_band(textured(300, 400), 36, colour)
    assert data_bar_rows(img) == 36
    assert without_data_bar(img).shape == (264, 400)
    rgb = np.repeat(img[:, :, None], 3, axis=2)
    assert data_bar_rows(rgb) == 36


def test_a_dark_background_reaching_the_bottom_is_not_a_data_bar() -> None:
    rng = np.random.default_rng(1)
    dark = rng.integers(0, 30, (300, 400)).astype(np.uint8)  # e.g. a TEM hole: dark, but everywhere
    assert data_bar_rows(dark) == 0
    fading = textured(300, 400).astype(np.float32)
    fading[200:] *= np.linspace(1.0, 0.05, 100)[:, None]  # a picture that darkens gradually: no sharp edge
    assert data_bar_rows(fading.astype(np.uint8)) == 0
    assert data_bar_rows(textured(300, 400)) == 0
    assert data_bar_rows(with_band(textured(300, 400), 150, 0)) == 0  # half the image is not a data bar


def test_fit_whole_keeps_the_shape_within_limits() -> None:
    assert fit_whole(textured(480, 640)).shape == (480, 640, 3)  # as it is
    big = fit_whole(textured(1500, 2000))
    assert max(big.shape[:2]) == MAX_SIDE and big.shape[:2] == (480, 640)
    assert min(fit_whole(textured(30, 40)).shape[:2]) == MIN_SIDE
    strip = fit_whole(textured(50, 2000))  # a line scan: its middle, 8:1
    assert strip.shape[1] / strip.shape[0] == pytest.approx(8, rel=0.05)
    assert fit_whole(np.zeros((100, 100, 4), np.uint8)).shape == (100, 100, 3)  # RGBA → RGB


def test_load_whole_cuts_the_bar_of_a_file(tmp_path: Path) -> None:
    path = tmp_path / "sem.png"
    Image.fromarray(with_band(textured(300, 400), 36, 0)).save(path)
    assert load_whole(path).shape == (264, 400, 3)
    assert load_whole(path, crop_data_bar=False).shape == (300, 400, 3)


def test_native_vectors_in_a_project_match_every_other_path(tmp_path: Path) -> None:
    """Images of three sizes embed in one run; the stored vector equals the one "more like this" computes
    for the same file, and +tta makes it exactly invariant to 90° rotations of a non-square image."""
    folder = tmp_path / "img"
    folder.mkdir()
    shapes = {"wide.png": (120, 300), "tall.png": (260, 90), "small.png": (40, 50)}
    for n, (name, (h, w)) in enumerate(shapes.items()):
        Image.fromarray(with_band(textured(h, w, seed=n), 12, 0) if h >= 100 else textured(h, w, n)).save(folder / name)
    Image.fromarray(textured(100, 100)).save(folder / "broken.png")
    from micview.core.importer import add_folder

    model_id = "effnet-lite0+native"
    model = load_feature_embedder(model_id, device="cpu", precision="float32")
    with Project.create(tmp_path / "p.micview") as p:
        run_task(add_folder(p, folder, workers=1))
        (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated since")  # e.g. overwritten
        summary = run_task(embed_project(p, model_id, embedder=model, batch_size=2))
        ids, vectors = p.embeddings.for_images(model_id)
        names = {r.id: r.name for r in p.images.all()}
        assert sorted(names[int(i)] for i in ids) == sorted(shapes)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-3)
        assert summary.embedded == 3 and len(summary.failed) == 1  # the broken file is reported, not fatal
        by_name = {names[int(i)]: v for i, v in zip(ids, vectors, strict=True)}
        outside = embed_file(folder / "tall.png", model)
        assert np.allclose(outside, by_name["tall.png"], atol=2e-3)  # stored as float16
        assert not np.allclose(by_name["wide.png"], by_name["tall.png"], atol=0.05)
    with pytest.raises(NoTextTowerError):
        model.encode_text(["SEM of a fracture surface"])

    tta = load_feature_embedder("effnet-lite0+native+tta", device="cpu", precision="float32")
    img = fit_whole(textured(120, 300, seed=5))
    a, b = tta.encode_pixels([img, np.ascontiguousarray(np.rot90(img))])
    assert np.allclose(a, b, atol=1e-4)
    plain = load_feature_embedder(model_id, device="cpu", precision="float32")
    c, d = plain.encode_pixels([img, np.ascontiguousarray(np.rot90(img))])
    assert not np.allclose(c, d, atol=1e-3)  # without +tta a rotation does change the vector


def test_native_texture_and_refusals(tiny: dict[str, Path]) -> None:
    model = load_feature_embedder("effnet-lite0+native+texture", device="cpu", precision="float32")
    out = model.encode_pixels([fit_whole(textured(200, 300)), fit_whole(textured(90, 400, 3))])
    plain = load_feature_embedder("effnet-lite0+native", device="cpu", precision="float32")
    assert out.shape[0] == 2 and out.shape[1] > plain.encode_pixels([fit_whole(textured(200, 300))]).shape[1]
    with pytest.raises(ModelError, match="convolutional backbone"):
        load_feature_embedder("tiny-oc+native", device="cpu", precision="float32")
