"""Instrument metadata: numbers checked by hand against the raw tags of the sample files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from micview.core.imaging import probe
from micview.core.imaging.metadata import (
    combine_date_time,
    jsonable,
    length_to_nm,
    parse_magnification,
)


def _meta(shared_data: Path, name: str):  # type: ignore[no-untyped-def]
    return probe(shared_data / "formats" / name)


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["FEI-Helios-Ebeam-16bits.tif", "FEI-Helios-Ebeam-8bits.tif"])
def test_fei_helios(shared_data: Path, name: str) -> None:
    info = _meta(shared_data, name)
    m = info.instrument
    assert m.pixel_size_nm == pytest.approx(3372.4)  # Scan.PixelWidth = 3.3724e-06 m
    assert m.pixel_size_y_nm is None
    assert m.voltage_kv == pytest.approx(5.0)  # Beam.HV = 5000 V
    assert m.working_distance_mm == pytest.approx(4.03466)  # EBeam.WD = 0.00403466 m
    assert m.hfw_um == pytest.approx(1726.67)  # Scan.HorFieldsize = 0.00172667 m
    assert m.magnification == pytest.approx(120.0)  # MagCanvasRealWidth 0.2072 m / HFW
    assert m.detector == "ETD (SE)"
    assert m.instrument == "Helios NanoLab 660"
    assert m.acquired_at == "2016-06-13T17:06:40"  # User.Date 06/13/2016, Time 05:06:40 PM
    assert info.raw_metadata["FEI"]["EBeam"]["HV"] == 5000


@pytest.mark.shared_data
def test_zeiss_sem_pixel_size_is_field_width_over_image_width(shared_data: Path) -> None:
    m = _meta(shared_data, "test_tiff_Zeiss_SEM_512pix.tif").instrument
    # ap_pixel_size says 5.825 nm for the 1024 px store resolution; the 512 px image spans
    # ap_width = 5.965 µm, so one pixel is 11.65 nm (rosettasciio: 0.011649976 µm).
    assert m.pixel_size_nm == pytest.approx(11.649976, rel=1e-6)
    assert m.hfw_um == pytest.approx(5.965)
    assert m.voltage_kv == pytest.approx(5.0)
    assert m.magnification == pytest.approx(50_000)  # "50.00 K X"
    assert m.working_distance_mm == pytest.approx(3.9)
    assert m.detector == "InLens"
    assert m.instrument == "ULTRA 55-36-06"
    assert m.acquired_at == "2018-09-25T08:20:42"


@pytest.mark.shared_data
def test_other_tiff_vendors(shared_data: Path) -> None:
    tvips = _meta(shared_data, "TVIPS_bin4.tif").instrument
    assert tvips.pixel_size_nm == pytest.approx(1.4208037)
    assert (tvips.voltage_kv, tvips.magnification, tvips.detector) == (99.0, 32000.0, "F416")
    sis = _meta(shared_data, "olympus_SIS.tif").instrument
    assert sis.pixel_size_nm == pytest.approx(0.023927918)  # pixelsizex 2.3928e-11 m
    assert sis.magnification == 600_000
    imagej = _meta(shared_data, "test_loading_image_saved_with_imageJ_stack.tif").instrument
    assert imagej.pixel_size_nm == pytest.approx(1e3 / 5.928571)  # unit micron, 5.928571 px/µm


@pytest.mark.shared_data
def test_dm_files(shared_data: Path) -> None:
    stem = _meta(shared_data, "test_STEM_image.dm3")
    m = stem.instrument
    assert m.pixel_size_nm == pytest.approx(0.248538, rel=1e-5)
    assert (m.voltage_kv, m.magnification, m.instrument) == (200.0, 225_000.0, "FEI Titan")
    assert m.acquired_at == "2016-08-08T16:26:37"
    assert stem.raw_metadata["axes"][-1]["units"] == "nm"
    multi = _meta(shared_data, "multi_signal.dm3").instrument
    assert multi.pixel_size_nm == pytest.approx(0.0177516, rel=1e-5)
    assert (multi.voltage_kv, multi.magnification) == (300.0, 1e7)
    cl = _meta(shared_data, "test-MonarcCL_mono-image.dm4").instrument
    assert cl.pixel_size_nm == pytest.approx(18325.35, rel=1e-6)  # 18.325 µm
    assert (cl.voltage_kv, cl.magnification, cl.instrument) == (3.0, 2500.0, "Zeiss SEM COM")


@pytest.mark.shared_data
def test_dm_different_x_and_y_pixel_size(shared_data: Path) -> None:
    m = _meta(shared_data, "dmTest_float32_nonSquare_diffPixelSize.dm4").instrument
    assert m.pixel_size_nm == pytest.approx(1.0)  # x: 1 nm
    assert m.pixel_size_y_nm == pytest.approx(0.2)  # y: 2 Å


@pytest.mark.shared_data
def test_diffraction_pattern_has_no_real_space_pixel_size(shared_data: Path) -> None:
    info = _meta(shared_data, "test_diffraction_pattern.dm3")
    assert info.instrument.pixel_size_nm is None
    axis = info.raw_metadata["axes"][-1]
    assert axis["units"] == "1/nm" and axis["scale"] == pytest.approx(0.174433, rel=1e-5)
    assert info.instrument.voltage_kv == 200.0


@pytest.mark.shared_data
def test_emd_and_ser(shared_data: Path) -> None:
    ceta = _meta(shared_data, "Camera Ceta Imaging Micro.emd").instrument
    assert ceta.pixel_size_nm == pytest.approx(3.138837, rel=1e-6)
    assert (ceta.voltage_kv, ceta.detector, ceta.instrument) == (300.0, "BM-Ceta", "Titan")
    assert ceta.magnification == pytest.approx(26996.349)  # Optics.NominalMagnification
    assert ceta.acquired_at == "2020-07-29T16:48:19+00:00"
    haadf = _meta(shared_data, "STEM HAADF Diffraction Micro.emd").instrument
    assert haadf.pixel_size_nm == pytest.approx(87.370796, rel=1e-6)  # 0.0874 µm
    assert (haadf.magnification, haadf.detector) == (7100.0, "HAADF")
    berkeley = _meta(shared_data, "Acquisition_18.emd").instrument
    assert berkeley.pixel_size_nm == pytest.approx(0.0122465, rel=1e-5)  # unit spelled "n_m"
    assert (berkeley.voltage_kv, berkeley.instrument) == (200.0, "TEAM 0.5")
    ser = _meta(shared_data, "16_STOimage_1.ser").instrument  # voltage etc. from the .emi beside it
    assert ser.pixel_size_nm == pytest.approx(0.0100127, rel=1e-5)
    assert (ser.voltage_kv, ser.magnification) == (80.0, 13_500_000.0)
    assert ser.instrument == "TitanCubed D3147 S-Twin"
    assert ser.acquired_at == "2011-10-18T18:18:46"


@pytest.mark.shared_data
def test_raw_metadata_is_json_and_capped(shared_data: Path) -> None:
    for name in ("test_loading_image_saved_with_imageJ_stack.tif", "test-MonarcCL_mono-image.dm4"):
        raw = _meta(shared_data, name).raw_metadata
        assert len(json.dumps(raw)) < 80_000


def test_dpi_is_not_a_calibration(tmp_path: Path) -> None:
    tif = tmp_path / "scan.tif"
    tifffile.imwrite(tif, np.zeros((8, 8), np.uint8), resolution=(2400, 2400), resolutionunit="INCH")
    jpg = tmp_path / "photo.jpg"
    Image.new("RGB", (8, 8)).save(jpg, dpi=(300, 300))
    assert probe(tif).instrument.pixel_size_nm is None
    assert probe(jpg).instrument.pixel_size_nm is None


def test_imagej_calibration_from_synthetic_tiff(tmp_path: Path) -> None:
    path = tmp_path / "ij.tif"
    tifffile.imwrite(path, np.zeros((4, 4), np.uint8), imagej=True, resolution=(1 / 0.25, 1 / 0.5),
                     metadata={"unit": "um"})  # fmt: skip
    m = probe(path).instrument
    assert m.pixel_size_nm == pytest.approx(250.0)
    assert m.pixel_size_y_nm == pytest.approx(500.0)


@pytest.mark.parametrize(
    ("value", "unit", "nm"),
    [
        (3.3724e-06, "m", 3372.4),
        (3.9, "mm", 3.9e6),
        (0.5, "µm", 500.0),  # U+00B5 micro sign
        (0.5, "μm", 500.0),  # U+03BC Greek mu
        (0.5, "um", 500.0),
        (0.5, "micron", 500.0),
        (2.0, "nm", 2.0),
        (0.0122, "n_m", 0.0122),
        (2.0, "A", 0.2),
        (2.0, "Å", 0.2),
        (8.0, "pm", 0.008),
        ("1.5", "nm", 1.5),
    ],
)
def test_length_to_nm(value: object, unit: str, nm: float) -> None:
    assert length_to_nm(value, unit) == pytest.approx(nm)


@pytest.mark.parametrize(
    ("value", "unit"),
    [(0.17, "1/nm"), (0.17, "nm^-1"), (1.0, ""), (1.0, None), (1.0, "px"), (0.0, "nm"), (-1, "nm"),
     (float("nan"), "nm"), ("abc", "nm"), (72.0, "inch")],
)  # fmt: skip
def test_length_to_nm_refuses(value: object, unit: str | None) -> None:
    assert length_to_nm(value, unit) is None


@pytest.mark.parametrize(
    ("text", "mag"),
    [("50.00 K X", 50_000.0), ("10Mx", 1e7), ("13500000 X", 1.35e7), (225000.0, 225000.0), ("2.5kx", 2500.0)],
)
def test_parse_magnification(text: object, mag: float) -> None:
    assert parse_magnification(text) == pytest.approx(mag)


def test_dates() -> None:
    assert combine_date_time("06/13/2016", "05:06:40 PM") == "2016-06-13T17:06:40"
    assert combine_date_time("25 Sep 2018", "8:20:42") == "2018-09-25T08:20:42"
    assert combine_date_time("12/10/2019", None) == "2019-12-10"
    assert combine_date_time("not a date", "1:00") is None


def test_jsonable_converts_and_caps() -> None:
    raw = {
        "np": np.float32(1.5),
        "arr": np.arange(4),
        "big": np.zeros((100, 100)),
        "bytes": b"text",
        "blob": bytes(range(256)) * 100,
        "tuple": ("Mag", "50.00 K X"),
        "nan": float("nan"),
        "huge": "x" * 1_000_000,
        **{f"k{i}": "y" * 1000 for i in range(200)},
    }
    out = jsonable(raw)
    text = json.dumps(out, allow_nan=False)
    assert len(text) < 70_000
    assert out["np"] == 1.5 and out["arr"] == [0, 1, 2, 3] and out["bytes"] == "text"
    assert out["big"].startswith("<array") and out["blob"] == "<25600 bytes>"
    assert out["tuple"] == ["Mag", "50.00 K X"] and out["nan"] == "nan"
    assert "truncated" in out["huge"] and "truncated" in out["…"]
