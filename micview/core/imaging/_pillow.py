"""JPEG, PNG, BMP and GIF through Pillow.

Pillow state is set in exactly one place, here, at import:

* ``Image.MAX_IMAGE_PIXELS = MAX_PIXELS`` (1 gigapixel instead of Pillow's 89 megapixels, which
  stitched light-microscope mosaics exceed). Pillow then raises ``DecompressionBombError`` above twice
  that and warns between the two; micview refuses anything above `MAX_PIXELS` itself, right after
  the header is read, so only the warning may still appear for 1–2 gigapixel headers.
* ``ImageFile.LOAD_TRUNCATED_IMAGES`` is set to ``False`` before every decode we do, so a truncated
  file is an error and never a silently grey-padded picture, even if other code flipped it.

JPEG thumbnails use ``Image.draft``: the decoder scales by 1/2, 1/4 or 1/8 in the DCT domain, so an
8000 × 6000 photo is decoded as 1000 × 750 for a 256 px thumbnail — several times faster and 64 × less
memory than a full decode. At import (:func:`read_summary`) plain RGB and grey JPEGs are decoded by
libjpeg-turbo through simplejpeg instead, which scales by any n/8: a 640 × 480 micrograph decodes straight to
a 240 × 180 thumbnail with no resampling (Pillow: 320 × 240, then a resize); about twice as fast per
thumbnail. Anything that path does not take (CMYK, MPO, a warning from the decoder) goes through Pillow as
before, so errors and their messages are Pillow's.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from PIL import (  # the plugins are imported so that they are registered for Image.open(formats=…)
    BmpImagePlugin,  # noqa: F401
    ExifTags,
    GifImagePlugin,  # noqa: F401
    Image,
    ImageCms,
    ImageFile,
    ImageOps,
    JpegImagePlugin,  # noqa: F401
    MpoImagePlugin,  # noqa: F401
    PngImagePlugin,  # noqa: F401
    UnidentifiedImageError,
)

from micview.core.imaging._common import MAX_PIXELS, check_frame, check_pixels, describe, fail
from micview.core.imaging.display import resize_longest, to_display
from micview.core.imaging.metadata import clean_text, jsonable, parse_datetime
from micview.core.imaging.types import ImageInfo, ImageSummary, InstrumentMetadata

Image.MAX_IMAGE_PIXELS = MAX_PIXELS
PILLOW_FORMATS = ("JPEG", "PNG", "BMP", "DIB", "GIF")  # JPEG also yields MPO (multi-picture JPEG)

# mode -> (channels, dtype, bits per sample)
_MODES: dict[str, tuple[int, str, int]] = {
    "1": (1, "uint8", 1),
    "L": (1, "uint8", 8),
    "P": (1, "uint8", 8),
    "LA": (2, "uint8", 8),
    "PA": (2, "uint8", 8),
    "RGB": (3, "uint8", 8),
    "RGBA": (4, "uint8", 8),
    "CMYK": (4, "uint8", 8),
    "YCbCr": (3, "uint8", 8),
    "I;16": (1, "uint16", 16),
    "I;16L": (1, "uint16", 16),
    "I;16B": (1, "uint16", 16),
    "I;16N": (1, "uint16", 16),
    "I": (1, "int32", 32),
    "F": (1, "float32", 32),
}
_TRANSPOSED = {5, 6, 7, 8}  # EXIF orientations that swap width and height
_TRUNCATED_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError)


@contextmanager
def _open(path: Path) -> Iterator[Image.Image]:
    try:
        im = Image.open(path, formats=PILLOW_FORMATS)
    except UnidentifiedImageError:
        fail(path, f"not a recognised image (content is not JPEG, PNG, BMP or GIF despite '{path.suffix}')")
    except Image.DecompressionBombError as exc:
        fail(path, f"header size is above micview's limit of {MAX_PIXELS:,} pixels ({describe(exc)})")
    except _TRUNCATED_ERRORS as exc:
        kind = path.suffix.lstrip(".").upper().replace("JPG", "JPEG") or "image"
        fail(path, f"the {kind} file is truncated or corrupt (Pillow: {describe(exc)})")
    with im:
        check_pixels(path, im.width, im.height)
        yield im


def _load(im: Image.Image, path: Path) -> None:
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        im.load()
    except _TRUNCATED_ERRORS as exc:
        fail(path, f"the {im.format or 'image'} file is truncated or corrupt (Pillow: {describe(exc)})")


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # a broken EXIF block must not make the picture unreadable
        return 1
    return value if isinstance(value, int) else 1


def _info(im: Image.Image, path: Path) -> ImageInfo:
    channels, dtype, bits = _MODES.get(im.mode, (len(im.getbands()), "uint8", 8))
    width, height = im.size
    if _orientation(im) in _TRANSPOSED:
        width, height = height, width
    raw = _raw_metadata(im)
    return ImageInfo(
        format="JPEG" if im.format == "MPO" else (im.format or "unknown"),
        width=width,
        height=height,
        frames=int(getattr(im, "n_frames", 1)),
        channels=channels,
        dtype=dtype,
        bit_depth=bits,
        mode=im.mode,
        instrument=_instrument(raw.get("exif", {})),
        raw_metadata=raw,
    )


def _raw_metadata(im: Image.Image) -> dict[str, Any]:
    raw: dict[str, Any] = {str(k): v for k, v in im.info.items() if k not in ("exif", "icc_profile")}
    if "icc_profile" in im.info:
        raw["icc_profile"] = f"<{len(im.info['icc_profile'] or b'')} bytes>"
    try:
        exif = im.getexif()
        tags = {str(ExifTags.TAGS.get(k, k)): v for k, v in exif.items()}
        tags.update({str(ExifTags.TAGS.get(k, k)): v for k, v in exif.get_ifd(ExifTags.IFD.Exif).items()})
    except Exception:  # corrupt EXIF: keep the picture, lose the tags
        tags = {}
    if tags:
        raw["exif"] = tags
    return jsonable(raw)


def _instrument(exif: dict[str, Any]) -> InstrumentMetadata:
    """Camera make/model and date from EXIF. DPI is never a micrograph calibration, so no pixel size."""
    make, model = clean_text(exif.get("Make")), clean_text(exif.get("Model"))
    instrument = " ".join(dict.fromkeys(p for p in (make, model) if p)) or None
    when = parse_datetime(exif.get("DateTimeOriginal")) or parse_datetime(exif.get("DateTime"))
    return InstrumentMetadata(instrument=instrument, acquired_at=when)


def _decode(im: Image.Image, path: Path, frame: int, max_size: int | None) -> Image.Image:
    """Seek, draft (JPEG, when shrinking), load and orient one frame."""
    check_frame(path, frame, int(getattr(im, "n_frames", 1)))
    if frame:
        try:
            im.seek(frame)
        except _TRUNCATED_ERRORS as exc:
            fail(path, f"frame {frame} is truncated or corrupt (Pillow: {describe(exc)})")
    if max_size is not None and im.format in ("JPEG", "MPO"):
        # DCT-domain downscaling: decodes at 1/2, 1/4 or 1/8 size. Landing up to 10 % under max_size is
        # allowed (the contract is "longest side <= max_size"): a 500 px JPEG then decodes straight to a
        # 250 px thumbnail with no resampling at all, 3-4x faster than decoding and resizing.
        # Pillow keeps both requested sides, so ask for the aspect-preserving box of the longest side.
        scale = max_size * 0.9 / max(im.size)
        box = (max(1, int(im.width * scale)), max(1, int(im.height * scale)))
        im.draft(im.mode if im.mode in ("RGB", "L") else None, box)
    _load(im, path)
    ImageOps.exif_transpose(im, in_place=True)
    return im


def _frame_array(im: Image.Image) -> np.ndarray:
    """Pixels in their native dtype; palettes expanded, exotic colour spaces made RGB."""
    if im.mode in ("P", "PA"):
        im = _expand_palette(im)
    elif im.mode == "1":
        im = im.convert("L")
    elif im.mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        im = im.convert("RGB")
    elif im.mode in ("RGBa", "La"):
        im = im.convert(im.mode.upper())
    arr = np.asarray(im)
    return arr.astype(arr.dtype.newbyteorder("="), copy=False) if arr.dtype.byteorder == ">" else arr


def _expand_palette(im: Image.Image) -> Image.Image:
    has_alpha = im.mode == "PA" or "transparency" in im.info
    if has_alpha:
        return im.convert("RGBA")
    palette = np.asarray(im.getpalette("RGB") or [], dtype=np.uint8).reshape(-1, 3)
    gray = palette.size > 0 and bool((palette == palette[:, :1]).all())
    return im.convert("L" if gray else "RGB")


def _to_srgb(im: Image.Image) -> Image.Image:
    """Apply an embedded ICC profile for display (skipped when it is sRGB already or broken)."""
    icc = im.info.get("icc_profile")
    if not icc or im.mode not in ("RGB", "L"):
        return im
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in (ImageCms.getProfileDescription(profile) or "").lower():
            return im
        srgb = ImageCms.createProfile("sRGB")
        converted = ImageCms.profileToProfile(im, profile, srgb, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return im
    return converted if converted is not None else im


def _display(im: Image.Image, path: Path, frame: int, max_size: int | None) -> np.ndarray:
    decoded = _to_srgb(_decode(im, path, frame, max_size))
    return resize_longest(to_display(_frame_array(decoded)), max_size)


def probe(path: Path) -> ImageInfo:
    with _open(path) as im:
        return _info(im, path)


def read_frame(path: Path, frame: int = 0) -> np.ndarray:
    with _open(path) as im:
        return _frame_array(_decode(im, path, frame, None))


def read_display(path: Path, frame: int = 0, max_size: int | None = None) -> np.ndarray:
    with _open(path) as im:
        return _display(im, path, frame, max_size)


def read_summary(path: Path, thumb_size: int = 256) -> ImageSummary:
    with _open(path) as im:
        info = _info(im, path)
        thumbnail = _jpeg_thumbnail(im, path, thumb_size)
        if thumbnail is None:
            thumbnail = _display(im, path, 0, thumb_size)
        return ImageSummary(info=info, thumbnail=thumbnail)


def _jpeg_thumbnail(im: Image.Image, path: Path, max_size: int) -> np.ndarray | None:
    """A baseline or progressive RGB/grey JPEG decoded at the n/8 scale nearest above 90 % of ``max_size``
    (simplejpeg), then oriented, colour-managed and shrunk as :func:`_display` does; None: use Pillow."""
    if im.format != "JPEG" or im.mode not in ("RGB", "L"):
        return None
    import simplejpeg

    try:
        data = path.read_bytes()
        height, width, colorspace, _ = simplejpeg.decode_jpeg_header(data)
        if (colorspace == "Gray") != (im.mode == "L") or (width, height) != im.size:
            return None
        floor = int(max_size * 0.9) + 1  # the longest side lands in (0.9 max_size, ...]: as _decode allows
        wide = width >= height
        pixels = simplejpeg.decode_jpeg(
            data, colorspace="GRAY" if im.mode == "L" else "RGB",
            min_width=floor if wide else 0, min_height=0 if wide else floor, strict=True,
        )  # fmt: skip
    except (OSError, ValueError):  # truncated or odd: Pillow decodes it, or says what is wrong
        return None
    decoded = Image.fromarray(pixels[:, :, 0] if im.mode == "L" else pixels, im.mode)
    decoded.info = dict(im.info)  # EXIF orientation and ICC profile, read by the steps below
    ImageOps.exif_transpose(decoded, in_place=True)
    return resize_longest(to_display(_frame_array(_to_srgb(decoded))), max_size)
