"""Robustness of image reading on files made on the fly: bombs, truncation, lies, orientation."""

from __future__ import annotations

import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image, JpegImagePlugin

from micview.core.errors import ImageReadError
from micview.core.imaging import (
    MAX_PIXELS,
    probe,
    read_display,
    read_frame,
    read_summary,
    to_display,
)
from micview.core.imaging import _tiff as tiff_backend


def _png_with_header(path: Path, width: int, height: int) -> Path:
    """A tiny PNG whose IHDR claims *width* × *height* (a decompression bomb header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


def _raises(call, path: Path, *args: object, match: str) -> ImageReadError:  # type: ignore[no-untyped-def]
    with pytest.raises(ImageReadError, match=match) as err:
        call(path, *args)
    assert str(err.value).startswith(f"{path.name}: ")
    return err.value


def test_png_bomb_refused(tmp_path: Path) -> None:
    path = _png_with_header(tmp_path / "bomb.png", 100_000, 100_000)
    assert path.stat().st_size < 200
    for call in (probe, read_frame, read_summary):
        _raises(call, path, match="above micview's limit")


def test_png_between_one_and_two_gigapixels_refused_by_micview(tmp_path: Path) -> None:
    path = _png_with_header(tmp_path / "big.png", 50_000, 30_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        err = _raises(probe, path, match=r"1\.5 gigapixels .* above micview's limit")
    assert f"{MAX_PIXELS:,}" in str(err)


def test_tiff_bomb_header_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.tif"
    tifffile.imwrite(path, np.zeros((2, 2), np.uint8))
    with tifffile.TiffFile(path) as tif:
        offsets = [tif.pages.first.tags[name].valueoffset for name in ("ImageWidth", "ImageLength")]
        kinds = [tif.pages.first.tags[name].dtype for name in ("ImageWidth", "ImageLength")]
    data = bytearray(path.read_bytes())
    for offset, kind in zip(offsets, kinds, strict=True):
        fmt = "<H" if kind == 3 else "<I"
        struct.pack_into(fmt, data, offset, 65_535 if kind == 3 else 200_000)
    path.write_bytes(bytes(data))
    for call in (probe, read_frame, read_summary):
        _raises(call, path, match="above micview's limit")


def test_truncated_png(tmp_path: Path) -> None:
    path = tmp_path / "cut.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (128, 128, 3), dtype=np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    for call in (read_frame, read_summary, read_display):
        _raises(call, path, match="truncated or corrupt")


@pytest.mark.parametrize("compression", [None, "zlib"])
def test_truncated_tiff(tmp_path: Path, compression: str | None) -> None:
    path = tmp_path / "cut.tif"
    rng = np.random.default_rng(1)
    tifffile.imwrite(path, rng.integers(0, 65535, (256, 256), dtype=np.uint16), compression=compression)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    for call in (read_frame, read_summary):
        _raises(call, path, match="truncated|corrupt")


def test_random_bytes_named_tif(tmp_path: Path) -> None:
    path = tmp_path / "noise.tif"
    path.write_bytes(np.random.default_rng(2).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    _raises(probe, path, match="not a recognised image")


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("empty.jpg", b"", r"the file is empty \(0 bytes\)"),
        ("notes.png", b"just some text, not a picture\n", "not a recognised image"),
        ("x.xyz", b"whatever", r"unknown image format \(\.xyz\)"),
        ("fake.dm3", b"garbage garbage garbage", "not a valid DM3 file"),
        ("fake.emd", b"garbage garbage garbage", "not a valid EMD file"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, content: bytes, match: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    for call in (probe, read_frame, read_summary, read_display):
        _raises(call, path, match=match)


def test_missing_file(tmp_path: Path) -> None:
    _raises(probe, tmp_path / "gone.png", match="file not found")


def test_content_wins_over_extension(tmp_path: Path) -> None:
    gif = tmp_path / "really_a_gif.jpg"
    Image.new("L", (30, 20), 99).save(gif, format="GIF")
    tif = tmp_path / "really_a_tiff.png"
    tifffile.imwrite(tif, np.full((20, 30), 7, np.uint16))
    assert probe(gif).format == "GIF"
    assert probe(tif).format == "TIFF" and probe(tif).dtype == "uint16"
    assert read_frame(tif).shape == (20, 30)


def test_exif_orientation_6_swaps_width_and_height(tmp_path: Path) -> None:
    path = tmp_path / "rotated.jpg"
    img = np.zeros((20, 40, 3), np.uint8)
    img[:, :20] = 255  # left half white as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    Image.fromarray(img).save(path, exif=exif.tobytes(), quality=95)
    info = probe(path)
    assert (info.width, info.height) == (20, 40)
    shown = read_display(path)
    assert shown.shape == (40, 20, 3)
    assert shown[:10].mean() > 200 and shown[-10:].mean() < 50  # stored left half is now on top
    assert read_frame(path).shape == (40, 20, 3)
    assert read_summary(path, thumb_size=10).thumbnail.shape == (10, 5, 3)


def test_sixteen_bit_tiff_gets_percentile_stretch(tmp_path: Path) -> None:
    path = tmp_path / "sixteen.tif"
    data = np.tile(np.arange(1000, 2000, dtype=np.uint16), (100, 1))
    data[0, 0] = 65535  # one hot pixel must not make everything black
    tifffile.imwrite(path, data)
    shown = read_display(path)
    assert shown.dtype == np.uint8 and shown.shape == (100, 1000)
    np.testing.assert_array_equal(shown, to_display(data))
    assert shown[50, 0] == 0 and shown[50, -1] == 255 and shown[0, 0] == 255
    assert 120 <= shown[50, 500] <= 135


def test_big_jpeg_thumbnail_uses_draft(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.jpg"
    ramp = np.linspace(0, 255, 8000, dtype=np.float32).astype(np.uint8)
    Image.fromarray(np.broadcast_to(ramp, (6000, 8000))).save(path, quality=70)
    decoded_sizes: list[tuple[int, int]] = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):  # type: ignore[no-untyped-def]
        result = original(self, mode, size)
        decoded_sizes.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    shown = read_display(path, max_size=256)
    assert shown.shape == (192, 256)
    assert decoded_sizes == [(1000, 750)]  # DCT-domain 1/8 decode, not 48 megapixels
    assert abs(int(shown[:, 128].mean()) - 128) < 8

    import simplejpeg  # the import's thumbnails: simplejpeg's n/8 scaled decode, also 1/8 here

    decode = simplejpeg.decode_jpeg

    def decode_spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = decode(*args, **kwargs)
        decoded_sizes.append(out.shape)
        return out

    monkeypatch.setattr(simplejpeg, "decode_jpeg", decode_spy)
    summary = read_summary(path)
    assert (summary.info.width, summary.info.height) == (8000, 6000)
    assert summary.thumbnail.shape == (192, 256)
    assert decoded_sizes[1:] == [(750, 1000, 1)]
    assert abs(int(summary.thumbnail[:, 128].mean()) - 128) < 8


def test_tiny_image_is_never_enlarged(tmp_path: Path) -> None:
    path = tmp_path / "tiny.png"
    Image.new("RGB", (3, 2), (10, 20, 30)).save(path)
    assert read_summary(path).thumbnail.shape == (2, 3, 3)


def test_rgba_png_composited_on_white(tmp_path: Path) -> None:
    path = tmp_path / "alpha.png"
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[:2, :, 3] = 255  # top opaque black, bottom fully transparent
    Image.fromarray(rgba).save(path)
    shown = read_display(path)
    assert shown.shape == (4, 4, 3)
    assert (shown[:2] == 0).all() and (shown[2:] == 255).all()


def test_animated_gif_frames(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    frames = [Image.new("L", (8, 6), v) for v in (0, 100, 200)]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    assert probe(path).frames == 3
    assert int(read_frame(path, 2).mean()) == 200
    with pytest.raises(ImageReadError, match="has 3 frame"):
        read_frame(path, 3)


def test_multipage_and_planar_tiff(tmp_path: Path) -> None:
    path = tmp_path / "planar.tif"
    data = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    tifffile.imwrite(path, data, photometric="rgb", planarconfig="separate")
    info = probe(path)
    assert (info.width, info.height, info.frames, info.channels, info.bit_depth) == (5, 4, 2, 3, 64)
    np.testing.assert_array_equal(read_frame(path, 1), np.moveaxis(data[1], 0, -1))


def test_tiff_pyramid_level_used_for_display(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "pyramid.ome.tif"
    base = np.random.default_rng(3).integers(0, 255, (1024, 1024), dtype=np.uint8)
    with tifffile.TiffWriter(path, ome=True) as tif:
        tif.write(base, subifds=2, tile=(256, 256))
        tif.write(base[::2, ::2], subfiletype=1, tile=(256, 256))
        tif.write(base[::4, ::4], subfiletype=1, tile=(256, 256))
    decoded: list[tuple[int, ...]] = []
    original = tiff_backend._page_array

    def spy(page, path):  # type: ignore[no-untyped-def]
        arr = original(page, path)
        decoded.append(arr.shape)
        return arr

    monkeypatch.setattr(tiff_backend, "_page_array", spy)
    assert read_display(path, max_size=200).shape == (200, 200)
    assert decoded == [(256, 256)]
    assert read_summary(path, thumb_size=600).thumbnail.shape == (600, 600)
    assert decoded[-1] == (1024, 1024)
