"""Image reading on the real sample formats (../shared/data/formats) and on synthetic files."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from micview.core.errors import ImageReadError
from micview.core.imaging import (
    SUPPORTED_EXTENSIONS,
    probe,
    read_display,
    read_frame,
    read_summary,
)


class Expected(NamedTuple):
    width: int
    height: int
    frames: int
    channels: int
    dtype: str
    bit_depth: int


# Hand-written from manifest.csv (its shape column is rows x cols, stacks first, and loose in places).
PICTURES: dict[str, Expected] = {
    "FEI-Helios-Ebeam-16bits.tif": Expected(512, 471, 1, 1, "uint16", 16),
    "FEI-Helios-Ebeam-8bits.tif": Expected(512, 471, 1, 1, "uint8", 8),
    "test_tiff_Zeiss_SEM_512pix.tif": Expected(512, 384, 1, 1, "uint8", 8),
    "test_hamamatsu_streak_FOCUS.tif": Expected(672, 508, 1, 1, "uint16", 16),
    "TVIPS_bin4.tif": Expected(1024, 1024, 1, 1, "uint8", 8),
    # 2 pages, but two different series: the RGB picture and a 16-bit raw page (not a stack).
    "olympus_SIS.tif": Expected(112, 101, 1, 3, "uint8", 8),
    "test_rgba16.tif": Expected(128, 128, 3, 4, "uint16", 16),
    "test_loading_image_saved_with_imageJ_stack.tif": Expected(68, 68, 2, 1, "float32", 32),
    "test_loading_image_saved_with_DM_stack.tif": Expected(68, 68, 2, 1, "float32", 32),
    "test_loading_image_saved_with_DM.tif": Expected(68, 68, 1, 1, "int32", 32),
    "optical_Zeiss_AxioVision_BW.tif": Expected(13, 10, 1, 1, "uint8", 8),
    "multi_signal.dm3": Expected(512, 512, 1, 1, "uint16", 16),
    "test_STEM_image.dm3": Expected(68, 68, 1, 1, "uint32", 32),
    "test_diffraction_pattern.dm3": Expected(87, 87, 1, 1, "int32", 32),
    "test_stackbuilder_imagestack.dm3": Expected(16, 2, 3, 1, "uint32", 32),
    "test-MonarcCL_mono-image.dm4": Expected(2, 2, 1, 1, "uint16", 16),
    "test_fft_packed_complex8.dm4": Expected(4, 5, 1, 1, "complex64", 64),
    "fei_example_tem_stack.emd": Expected(3, 3, 2, 1, "int16", 16),
    "example_image.emd": Expected(3, 3, 1, 1, "int32", 32),
    "Acquisition_18.emd": Expected(1024, 1024, 1, 1, "uint16", 16),
    "Camera Ceta Imaging Micro.emd": Expected(512, 512, 1, 1, "int16", 16),
    "STEM HAADF Diffraction Micro.emd": Expected(128, 128, 1, 1, "uint16", 16),
    "dmTest_float32_nonSquare_diffPixelSize.dm4": Expected(128, 64, 1, 1, "float32", 32),
    "16_STOimage_1.ser": Expected(1024, 1024, 1, 1, "uint16", 16),
    "cell.png": Expected(550, 660, 1, 1, "uint8", 8),
    "logo.png": Expected(500, 500, 1, 4, "uint8", 8),
    "palette_color.png": Expected(10, 10, 1, 1, "uint8", 8),
    "chessboard_GRAY_U16.tif": Expected(200, 200, 1, 1, "uint16", 16),
    "chessboard_GRAY_U16B.tif": Expected(200, 200, 1, 1, "uint16", 16),
    "_blobs_3d_fiji_skeleton.tif": Expected(32, 32, 30, 1, "uint8", 8),
    "multipage_rgb.tif": Expected(10, 10, 2, 3, "float64", 64),
    "no_time_for_that_tiny.gif": Expected(14, 25, 24, 1, "uint8", 8),
    "doitpoms_000850.bmp": Expected(350, 249, 1, 3, "uint8", 8),
    "doitpoms_000152_gif_named.jpg": Expected(455, 435, 1, 1, "uint8", 8),
    "doitpoms_000772.gif": Expected(711, 501, 1, 1, "uint8", 8),
    "doitpoms_000845_progressive.jpg": Expected(600, 437, 1, 3, "uint8", 8),
    "doitpoms_000872_icc_fullres.jpg": Expected(1280, 832, 1, 3, "uint8", 8),
    "HAADFscan.mrc": Expected(16, 16, 1, 1, "uint16", 16),
    "EMD-3197.map": Expected(20, 20, 20, 1, "float32", 32),  # a volume: its 20 sections are the frames
    "Hitachi_TM3030Plus.bcf": Expected(320, 240, 1, 1, "uint16", 16),  # the SEM image, not the EDS hypermap
}
NOT_PICTURES: dict[str, str] = {
    "08_carbon.dm3": "holds a 1-D EELS spectrum (2048 channels), not a picture",
    "EELS_SI.dm4": "holds a spectrum image (3-D signal with 1-D spectra",
    "16_STOimage.emi": "metadata half of a TIA EMI/SER pair; open the data file 16_STOimage_1.ser",
    "truncated.jpg": "the JPEG file is truncated or corrupt (Pillow:",
}
MANIFEST_FILES = sorted([*PICTURES, *NOT_PICTURES])


def _manifest(shared_data: Path) -> dict[str, dict[str, str]]:
    with open(shared_data / "formats" / "manifest.csv", newline="", encoding="utf-8") as fh:
        return {row["file"]: row for row in csv.DictReader(fh)}


@pytest.mark.shared_data
def test_every_manifest_file_has_an_expectation(shared_data: Path) -> None:
    assert sorted(_manifest(shared_data)) == MANIFEST_FILES


@pytest.mark.shared_data
@pytest.mark.parametrize("name", sorted(PICTURES))
def test_real_picture(shared_data: Path, name: str) -> None:
    path = shared_data / "formats" / name
    expected = PICTURES[name]
    shape_numbers = [int(n) for n in re.findall(r"\d+", _manifest(shared_data)[name]["shape"])]
    assert expected.height in shape_numbers and expected.width in shape_numbers

    summary = read_summary(path, thumb_size=64)
    info = summary.info
    got = (info.width, info.height, info.frames, info.channels, info.dtype, info.bit_depth)
    assert got == tuple(expected)
    assert probe(path) == info

    thumb = summary.thumbnail
    assert thumb.dtype == np.uint8
    assert thumb.ndim == 2 or (thumb.ndim == 3 and thumb.shape[2] == 3)
    assert max(thumb.shape[:2]) == min(64, max(expected.width, expected.height))
    shown = read_display(path, expected.frames - 1, max_size=32)
    assert shown.dtype == np.uint8 and max(shown.shape[:2]) <= 32
    frame = read_frame(path, expected.frames - 1)
    assert frame.shape[:2] == (expected.height, expected.width)
    assert frame.dtype.isnative


@pytest.mark.shared_data
@pytest.mark.parametrize("name", sorted(NOT_PICTURES))
def test_real_file_refused_with_reason(shared_data: Path, name: str) -> None:
    path = shared_data / "formats" / name
    for call in (probe, read_summary, read_frame):
        with pytest.raises(ImageReadError) as err:
            call(path)
        assert str(err.value).startswith(f"{name}: ")
        assert NOT_PICTURES[name] in str(err.value)


@pytest.mark.shared_data
def test_multi_signal_dm3_takes_the_image_not_the_plot(shared_data: Path) -> None:
    frame = read_frame(shared_data / "formats" / "multi_signal.dm3")
    assert frame.shape == (512, 512)
    assert frame.std() > 0


@pytest.mark.shared_data
def test_palette_tiff_keeps_coloured_annotations(shared_data: Path) -> None:
    info = probe(shared_data / "formats" / "test_tiff_Zeiss_SEM_512pix.tif")
    frame = read_frame(shared_data / "formats" / "test_tiff_Zeiss_SEM_512pix.tif")
    assert info.mode == "P"
    assert frame.shape == (384, 512, 3)  # gray ramp + a few coloured data-bar entries
    gray = read_frame(shared_data / "formats" / "optical_Zeiss_AxioVision_BW.tif")
    assert gray.shape == (10, 13)  # all-gray palette stays gray


@pytest.mark.shared_data
def test_stack_frames_differ(shared_data: Path) -> None:
    path = shared_data / "formats" / "_blobs_3d_fiji_skeleton.tif"
    frames = [read_frame(path, i) for i in (0, 15, 29)]
    assert not all(np.array_equal(frames[0], f) for f in frames[1:])
    with pytest.raises(ImageReadError, match="has 30 frame"):
        read_frame(path, 30)


@pytest.mark.shared_data
def test_miclib_jpegs_sample(shared_data: Path) -> None:
    paths = sorted((shared_data / "miclib" / "images").glob("*.jpg"))[::25]
    assert paths
    for path in paths:
        summary = read_summary(path)
        assert max(summary.thumbnail.shape[:2]) <= 256
        assert summary.info.width > 0 and summary.info.frames == 1


@pytest.mark.shared_data
def test_cryo_em_and_eds_containers_keep_their_calibration(shared_data: Path) -> None:
    """The manifest's calibrations: 56.79 Å (5.679 nm) per pixel, 11.4 Å voxels; the BCF's SEM header."""
    mrc = probe(shared_data / "formats" / "HAADFscan.mrc")
    assert mrc.instrument.pixel_size_nm == pytest.approx(5.679, abs=1e-3)
    assert (mrc.instrument.voltage_kv, mrc.instrument.instrument, mrc.instrument.detector) == (300, "Spectra", "HAADF")
    assert mrc.instrument.acquired_at == "2022-12-05T12:13:07"
    ext = mrc.raw_metadata["extended_header"]  # 909 KB of FEI2 records, summarised
    assert (ext["type"], ext["bytes"], ext["records"]) == ("FEI2", 909312, 1024)
    assert ext["first_record"]["Application"] == "Velox" and len(json.dumps(mrc.raw_metadata)) < 8000
    volume = probe(shared_data / "formats" / "EMD-3197.map")
    assert volume.format == "MAP" and volume.instrument.pixel_size_nm == pytest.approx(1.14, abs=1e-4)
    assert "EMD-3197" in volume.raw_metadata["labels"][0]
    bcf = probe(shared_data / "formats" / "Hitachi_TM3030Plus.bcf")
    assert bcf.format == "BCF" and bcf.instrument.pixel_size_nm is None  # axes in pixels: no calibration stored
    assert (bcf.instrument.voltage_kv, bcf.instrument.magnification) == (15, 600)
    assert bcf.instrument.working_distance_mm == 8.6


@pytest.mark.shared_data
def test_bcf_listing_never_decodes_the_eds_hypermap(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rsciio.bruker._api as bruker

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the EDS hypermap was decoded")

    monkeypatch.setattr(bruker.BCF_reader, "parse_hypermap", refuse)
    summary = read_summary(shared_data / "formats" / "Hitachi_TM3030Plus.bcf")
    assert summary.thumbnail.shape == (192, 256) and summary.thumbnail.std() > 0


def test_supported_extensions() -> None:
    expected = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".dm3", ".dm4", ".emd", ".ser", ".bcf",
                ".mrc", ".mrcs", ".map", ".nd2", ".czi", ".lif"}  # fmt: skip
    assert expected <= SUPPORTED_EXTENSIONS
    assert ".emi" not in SUPPORTED_EXTENSIONS
    assert all(ext == ext.lower() and ext.startswith(".") for ext in SUPPORTED_EXTENSIONS)


def test_import_does_not_load_rsciio() -> None:
    code = "import sys, micview.core.imaging; print([m for m in ('rsciio', 'h5py', 'dask') if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
