"""MRC stacks and volumes, the light-microscopy readers, and listing big stacks from headers only.

Every file here is generated (mrcfile and tifffile write them, pylibCZIrw writes CZI, `_lif_bytes` a minimal
Leica LIF). Nothing writes ND2, so for it the dispatch and the missing-reader message are tested.
"""

from __future__ import annotations

import struct
import sys
import tracemalloc
from pathlib import Path

import mrcfile
import numpy as np
import pytest
import tifffile

from micview.core.errors import ImageReadError
from micview.core.imaging import probe, read_display, read_frame, read_summary


def _mrc(path: Path, data: np.ndarray, voxel: float = 2.5, *, stack: bool = True) -> Path:
    with mrcfile.new(path, overwrite=True) as m:
        m.set_data(data)
        m.voxel_size = voxel
        if data.ndim == 3:
            m.set_image_stack() if stack else m.set_volume()
        m.add_label("micview test")
    return path


def test_mrc_stack_frames_and_calibration(tmp_path: Path) -> None:
    data = np.arange(7 * 30 * 40, dtype=np.float32).reshape(7, 30, 40)
    path = _mrc(tmp_path / "movie.mrcs", data, voxel=1.25)
    info = probe(path)
    assert (info.format, info.width, info.height, info.frames, info.dtype, info.mode) == (
        "MRCS",
        40,
        30,
        7,
        "float32",
        "F",
    )
    assert info.instrument.pixel_size_nm == pytest.approx(0.125)  # 1.25 Å
    assert info.raw_metadata["ispg"] == 0 and info.raw_metadata["labels"][-1] == "micview test"
    assert info.raw_metadata["extended_header"] is None
    for k in (0, 3, 6):
        assert np.array_equal(read_frame(path, k), data[k])
    assert read_display(path, 6, max_size=20).shape == (15, 20)
    with pytest.raises(ImageReadError, match="has 7 frame"):
        read_frame(path, 7)


def test_mrc_volume_sections_are_frames(tmp_path: Path) -> None:
    data = np.random.default_rng(0).integers(-100, 100, (5, 12, 12), dtype=np.int16)
    path = _mrc(tmp_path / "map.map", data, voxel=11.4, stack=False)
    summary = read_summary(path, thumb_size=8)
    assert summary.info.format == "MAP" and summary.info.frames == 5 and summary.thumbnail.shape == (8, 8)
    assert summary.info.raw_metadata["ispg"] == 1
    assert np.array_equal(read_frame(path, 4), data[4])


def test_single_mrc_image(tmp_path: Path) -> None:
    path = _mrc(tmp_path / "one.mrc", np.full((9, 11), 7, np.uint16), voxel=0)
    info = probe(path)
    assert (info.frames, info.width, info.height, info.bit_depth) == (1, 11, 9, 16)
    assert info.instrument.pixel_size_nm is None  # a zero voxel size means "not calibrated"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"\x00" * 100, "too short for an MRC file"),
        (b"\x01" * 2000, "the MRC header is invalid"),
    ],
)
def test_bad_mrc_files_are_refused_with_a_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.mrc"
    path.write_bytes(content)
    for call in (probe, read_summary, read_frame):
        with pytest.raises(ImageReadError, match=reason):
            call(path)


def test_truncated_mrc_stack_is_refused(tmp_path: Path) -> None:
    path = _mrc(tmp_path / "cut.mrc", np.zeros((10, 8, 6), np.uint16))
    with path.open("r+b") as f:
        f.truncate(1024 + 8 * 6 * 2 * 3)  # three of ten frames left
    with pytest.raises(ImageReadError, match="shorter than its header says"):
        read_summary(path)


@pytest.mark.parametrize("suffix", [".mrc", ".tif"])
def test_listing_a_big_stack_decodes_one_frame(tmp_path: Path, suffix: str) -> None:
    """read_summary (the importer's call) of a 64-frame, 32 MB stack allocates about one frame's worth."""
    data = np.random.default_rng(1).integers(0, 4000, (64, 512, 512), dtype=np.uint16)
    path = tmp_path / f"stack{suffix}"
    _mrc(path, data) if suffix == ".mrc" else tifffile.imwrite(path, data)
    read_summary(path)  # first call imports the readers outside the measurement
    tracemalloc.start()
    try:
        summary = read_summary(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.info.frames == 64
    assert peak < data.nbytes / 4, f"{peak / 1e6:.1f} MB allocated to list a {data.nbytes / 1e6:.0f} MB stack"


@pytest.mark.parametrize(("suffix", "module", "magic", "how"), [
    (".nd2", "nd2", b"\xda\xce\xbe\x0a", r"pip install 'micview\[nd2\]'"),
    (".czi", "pylibCZIrw", b"ZISRAWFILE", r"pip install 'micview\[czi\]'"),
    (".lif", "liffile", b"\x70\x00\x00\x00", r"reinstall micview \(or pip install liffile\)"),
])  # fmt: skip
def test_missing_reader_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               suffix: str, module: str, magic: bytes, how: str) -> None:  # fmt: skip
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed: importing it raises ImportError
    path = tmp_path / f"cells{suffix}"
    path.write_bytes(magic + b"\x00" * 64)
    for call in (probe, read_summary, read_frame):
        with pytest.raises(ImageReadError, match=rf"^cells\{suffix}: .*needs the reader '{module}'.*{how}"):
            call(path)


def _lif_bytes(data: np.ndarray, pixel_m: float) -> bytes:
    """A minimal Leica LIF (version 2): XML header, an empty root memory block, one uint16 Z-stack."""
    nz, ny, nx = data.shape
    dims = [(1, nx, pixel_m * (nx - 1), 2), (2, ny, pixel_m * (ny - 1), 2 * nx), (3, nz, 1e-6 * (nz - 1), 2 * nx * ny)]
    dim_xml = "".join(f'<DimensionDescription DimID="{i}" NumberOfElements="{n}" Origin="0" Length="{length}" '
                      f'Unit="m" BytesInc="{inc}" BitInc="0"/>' for i, n, length, inc in dims)  # fmt: skip
    channel = ('<ChannelDescription DataType="0" ChannelTag="0" Resolution="16" NameOfMeasuredQuantity="" Min="0" '
               'Max="65535" Unit="" LUTName="Gray" IsLUTInverted="0" BytesInc="0" BitInc="0"/>')  # fmt: skip
    xml = ('<LMSDataContainerHeader Version="2"><Element Name="t.lif"><Data><Experiment/></Data>'
           '<Memory Size="0" MemoryBlockID="MemBlock_0"/><Children><Element Name="cells"><Data><Image>'
           f'<ImageDescription><Channels>{channel}</Channels><Dimensions>{dim_xml}</Dimensions></ImageDescription>'
           f'</Image></Data><Memory Size="{data.nbytes}" MemoryBlockID="MemBlock_1"/><Children/></Element>'
           "</Children></Element></LMSDataContainerHeader>")  # fmt: skip
    text = xml.encode("utf-16-le")
    out = struct.pack("<IIBI", 0x70, len(text) + 5, 0x2A, len(xml)) + text
    for block, payload in (("MemBlock_0", b""), ("MemBlock_1", data.astype("<u2").tobytes())):
        out += struct.pack("<IIBQBI", 0x70, 0, 0x2A, len(payload), 0x2A, len(block)) + block.encode("utf-16-le")
        out += payload
    return out


def test_lif_z_stack_frames_and_calibration(tmp_path: Path) -> None:
    pytest.importorskip("liffile")
    data = np.random.default_rng(2).integers(0, 60000, (3, 30, 40), dtype=np.uint16)
    path = tmp_path / "confocal.lif"
    path.write_bytes(_lif_bytes(data, pixel_m=0.1e-6))
    info = probe(path)
    assert (info.format, info.width, info.height, info.frames, info.dtype) == ("LIF", 40, 30, 3, "uint16")
    assert info.instrument.pixel_size_nm == pytest.approx(100)
    assert info.raw_metadata["name"] == "cells"
    assert np.array_equal(read_frame(path, 2), data[2])
    assert read_summary(path, thumb_size=20).thumbnail.shape == (15, 20)
    path.write_bytes(_lif_bytes(data, 0.1e-6)[:200])  # cut inside the XML header
    with pytest.raises(ImageReadError, match=r"confocal\.lif: cannot be read as a Leica LIF file"):
        probe(path)


@pytest.mark.parametrize("suffix", [".nd2", ".czi", ".lif"])
def test_optional_format_with_wrong_content(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"x{suffix}"
    path.write_bytes(b"\xff\xd8\xff\xe0 a JPEG renamed")
    with pytest.raises(ImageReadError, match=f"not a valid {suffix[1:].upper()} file"):
        probe(path)


def test_czi_planes_calibration_and_colour(tmp_path: Path) -> None:
    pyczi = pytest.importorskip("pylibCZIrw.czi")
    path = tmp_path / "cells.czi"
    with pyczi.create_czi(str(path), exist_ok=True) as w:
        for z in range(3):
            for c in range(2):
                w.write(np.full((40, 60), 10 * z + c, np.uint16), plane={"T": 0, "Z": z, "C": c})
        w.write_metadata(document_name="cells", channel_names={0: "DAPI", 1: "GFP"}, scale_x=0.1e-6, scale_y=0.1e-6)
    info = probe(path)
    assert (info.format, info.width, info.height, info.frames, info.dtype) == ("CZI", 60, 40, 6, "uint16")
    assert info.instrument.pixel_size_nm == pytest.approx(100)
    assert read_frame(path, 5)[0, 0] == 21  # z = 2, channel 1
    assert read_summary(path, thumb_size=30).thumbnail.shape == (20, 30)

    rgb = tmp_path / "brightfield.czi"
    bgr = np.zeros((20, 30, 3), np.uint8)
    bgr[..., 2] = 200  # libCZI stores blue, green, red
    with pyczi.create_czi(str(rgb), exist_ok=True) as w:
        w.write(bgr, plane={"T": 0, "Z": 0, "C": 0})
    assert probe(rgb).channels == 3
    assert read_frame(rgb)[0, 0].tolist() == [200, 0, 0]


def test_corrupt_czi_is_a_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("pylibCZIrw")
    path = tmp_path / "broken.czi"
    path.write_bytes(b"ZISRAWFILE" + b"\x00" * 100)
    with pytest.raises(ImageReadError, match=r"broken\.czi: cannot be read as a Zeiss CZI file"):
        read_summary(path)


def test_listing_a_many_page_tiff_parses_few_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Metadata readers look at the first pages only: a 300-page stack is not walked page by page."""
    path = tmp_path / "timelapse.tif"
    tifffile.imwrite(path, np.zeros((300, 16, 16), np.uint8))
    parsed = []
    real_init = tifffile.TiffPage.__init__

    def counting_init(self: tifffile.TiffPage, *args: object, **kwargs: object) -> None:
        parsed.append(1)
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tifffile.TiffPage, "__init__", counting_init)
    assert read_summary(path).info.frames == 300
    assert len(parsed) <= 5, f"{len(parsed)} of 300 pages parsed to list the file"
