"""OME-Zarr folders: read as one image (levels, frames, pixel size), listed without decoding full resolution,
imported as one item with a content hash that survives a move, and a clear error for what is broken."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from ome_zarr_files import chunk_files, corrupt_chunks, pyramid, write_ome_zarr
from PIL import Image

from micview.core.errors import ImageReadError
from micview.core.file_scan import scan
from micview.core.folder_image import folder_hash, folder_stat
from micview.core.imaging import probe, read_display, read_frame, read_summary
from micview.core.importer import add_folder, rescan
from micview.core.store import Project
from micview.core.tasks import run_task

pytest.importorskip("zarr")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project.create(tmp_path / "p.micview")
    yield p
    p.close()


@pytest.mark.parametrize(("zarr_format", "version"), [(2, "0.4"), (3, "0.5")])
def test_pyramid_full_size_for_the_viewer_smallest_sufficient_level_for_display(
    tmp_path: Path, zarr_format: int, version: str
) -> None:
    levels = pyramid()
    path = write_ome_zarr(tmp_path / "img.ome.zarr", levels, zarr_format=zarr_format, scale_yx=(0.25, 0.2))
    info = probe(path)
    assert (info.format, info.width, info.height, info.frames, info.channels) == ("OME-Zarr", 48, 64, 1, 1)
    assert info.dtype == "uint16" and info.raw_metadata["ngff_version"] == version
    assert info.raw_metadata["levels"] == [[64, 48], [32, 24]]
    assert info.instrument.pixel_size_nm == pytest.approx(200.0)  # x: 0.2 µm
    assert info.instrument.pixel_size_y_nm == pytest.approx(250.0)
    np.testing.assert_array_equal(read_frame(path), levels[0])
    from micview.core.imaging import to_display

    assert np.array_equal(read_display(path, max_size=32), to_display(levels[1]))  # level 1 reaches 32 px
    small = read_display(path, max_size=40)  # level 1 (32 px) is too small for 40: level 0, resized
    assert small.shape == (40, 30)
    expected = np.asarray(
        Image.fromarray(to_display(levels[0])).resize((30, 40), Image.Resampling.BICUBIC, reducing_gap=2.0)
    )
    np.testing.assert_array_equal(small, expected)


def test_t_and_z_planes_are_frames_and_channels_gray_frames(tmp_path: Path) -> None:
    t, c, z = 2, 2, 3
    data = np.zeros((t, c, z, 32, 32), np.uint8)
    for idx in np.ndindex(t, c, z):
        data[idx] = 10 * idx[0] + 5 * idx[1] + idx[2] + 1  # each plane tells where it came from
    path = write_ome_zarr(tmp_path / "tcz.zarr", [data], axes="tczyx", scale_yx=(0.5, 0.5), unit="nanometer")
    info = probe(path)
    assert info.frames == t * c * z and info.channels == 1
    assert info.instrument.pixel_size_nm == pytest.approx(0.5) and info.instrument.pixel_size_y_nm is None
    for frame in (0, 4, 7, 11):
        idx = np.unravel_index(frame, (t, c, z))
        np.testing.assert_array_equal(read_frame(path, frame), data[idx])
    with pytest.raises(ImageReadError, match="has 12 frame"):
        read_frame(path, 12)


def test_no_unit_means_no_pixel_size_and_ome_zarr_0_1_without_axes(tmp_path: Path) -> None:
    path = write_ome_zarr(tmp_path / "a.zarr", pyramid(), scale_yx=(1.0, 1.0), unit=None, zarr_format=2)
    assert probe(path).instrument.pixel_size_nm is None  # a bare number is not a length
    attrs = json.loads((path / ".zattrs").read_text())
    del attrs["multiscales"][0]["axes"]  # NGFF 0.1/0.2 had none: the last axes are y, x
    (path / ".zattrs").write_text(json.dumps(attrs))
    assert (probe(path).width, probe(path).height) == (48, 64)


def test_listing_and_thumbnails_never_decode_the_full_resolution_level(tmp_path: Path) -> None:
    levels = pyramid(256, 192)
    path = write_ome_zarr(tmp_path / "big.ome.zarr", [levels[0], levels[0][::2, ::2], levels[0][::4, ::4]])
    assert corrupt_chunks(path / "0") == 16 * 12  # level 0 can no longer be decoded at all
    summary = read_summary(path, thumb_size=48)  # level 2 (64 px) serves a 48 px thumbnail
    assert summary.info.width == 192 and summary.thumbnail.shape == (48, 36)
    assert read_display(path, max_size=128).shape == (128, 96)  # level 1, exactly
    with pytest.raises(ImageReadError, match=r"big\.ome\.zarr: the pixel data cannot be read"):
        read_frame(path)  # the viewer's full size reads level 0: a clear error, no crash


def test_bioformats2raw_layout_reads_its_first_image(tmp_path: Path) -> None:
    import zarr

    root = tmp_path / "converted.ome.zarr"
    zarr.open_group(str(root), mode="w", zarr_format=2).attrs["bioformats2raw.layout"] = 3
    write_ome_zarr(root / "0", pyramid(), zarr_format=2)
    info = probe(root)
    assert (info.width, info.raw_metadata["image_group"]) == (48, "0")


def _plain_zarr(path: Path) -> Path:
    import zarr

    zarr.open_group(str(path), mode="w").create_array("data", shape=(4, 4), dtype="uint8")[...] = 1
    return path


def test_scan_lists_an_ome_zarr_folder_as_one_item_and_skips_other_zarr_folders(tmp_path: Path) -> None:
    write_ome_zarr(tmp_path / "d" / "img.ome.zarr", pyramid())
    _plain_zarr(tmp_path / "d" / "table.zarr")
    (tmp_path / "d" / "empty.zarr").mkdir()
    plate = write_ome_zarr(tmp_path / "d" / "plate.zarr", pyramid())
    meta = json.loads((plate / "zarr.json").read_text())
    meta["attributes"]["ome"] = {"version": "0.5", "plate": {"wells": []}}
    (plate / "zarr.json").write_text(json.dumps(meta))
    found = scan(tmp_path / "d")
    assert [f.path.name for f in found.files] == ["img.ome.zarr"]  # not one of its chunk files
    assert found.files[0].size == folder_stat(tmp_path / "d" / "img.ome.zarr")[0] > 0
    reasons = {p.name: why for p, why in found.skipped}
    assert set(reasons) == {"table.zarr", "empty.zarr", "plate.zarr"}
    assert "without OME-NGFF image metadata" in reasons["table.zarr"]
    assert "without Zarr metadata" in reasons["empty.zarr"]
    assert "plate (HCS)" in reasons["plate.zarr"]
    assert scan(tmp_path / "d", extensions=["tif"]).files == []  # not asked for: neither listed nor walked into
    one = scan(tmp_path / "d" / "img.ome.zarr")  # the folder itself given
    assert [f.path.name for f in one.files] == ["img.ome.zarr"]
    if sys.platform != "win32":  # links need privileges there
        (tmp_path / "d" / "link.zarr").symlink_to(tmp_path / "d" / "img.ome.zarr")  # a link to one is one too
        assert [f.path.name for f in scan(tmp_path / "d").files] == ["img.ome.zarr", "link.zarr"]


def test_folder_hash_follows_content_not_place_and_ignores_desktop_litter(tmp_path: Path) -> None:
    a = write_ome_zarr(tmp_path / "a.ome.zarr", pyramid())
    b = tmp_path / "elsewhere" / "renamed.zarr"
    shutil.copytree(a, b)
    (b / ".DS_Store").write_bytes(b"finder")
    assert folder_hash(a) == folder_hash(b)
    chunk = chunk_files(b / "1")[0]
    chunk.write_bytes(chunk.read_bytes() + b"\0")  # one byte more in a low-resolution chunk
    assert folder_hash(a) != folder_hash(b)
    before = folder_stat(a)
    (a / "0" / "zarr.json").write_text((a / "0" / "zarr.json").read_text() + " ")
    assert folder_stat(a)[0] == before[0] + 1


def test_import_rescan_and_move_keep_one_record_per_folder_image(project: Project, tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_ome_zarr(data / "pyr.ome.zarr", pyramid(), zarr_format=2, scale_yx=(0.1, 0.1))
    stack = np.stack([np.full((32, 32), v, np.uint8) for v in (10, 200, 90)])
    write_ome_zarr(data / "run" / "stack.zarr", [stack], axes="zyx")
    _plain_zarr(data / "table.zarr")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(data / "plain.png")
    s = run_task(add_folder(project, data, workers=0))
    assert s.added == 3 and s.errors == [] and [p for p, _ in s.skipped] == ["data/table.zarr"]
    rows = {r.name: r for r in project.images.all()}
    assert set(rows) == {"pyr.ome.zarr", "stack.zarr", "plain.png"}
    pyr, st = rows["pyr.ome.zarr"], rows["stack.zarr"]
    assert (pyr.format, pyr.width, pyr.height, pyr.frames) == ("OME-Zarr", 48, 64, 1)
    assert pyr.pixel_size_nm == pytest.approx(100.0) and st.frames == 3 and st.pixel_size_nm is None
    thumb = project.images.thumbnail(pyr.id)
    assert thumb is not None and (thumb.width, thumb.height) == (48, 64)
    assert (
        pyr.content_hash == folder_hash(data / "pyr.ome.zarr")
        and pyr.size_bytes == folder_stat(data / "pyr.ome.zarr")[0]
    )
    assert run_task(add_folder(project, data, workers=0)).unchanged == 3  # nothing read again
    project.labels.set([st.id], "kind", "grains")
    (data / "run").rename(data / "run2")  # the folder image moves with its parent
    s = run_task(rescan(project, workers=0))
    assert s.moved == [("data/run/stack.zarr", "data/run2/stack.zarr")] and s.added == 0 and s.missing == []
    assert project.labels.labels("kind") == {st.id: "grains"}
    assert project.images.by_path(data / "run2" / "stack.zarr").id == st.id  # type: ignore[union-attr]


def test_a_broken_folder_image_is_one_clear_error_and_the_rest_imports(project: Project, tmp_path: Path) -> None:
    data = tmp_path / "data"
    bad = write_ome_zarr(data / "bad.ome.zarr", pyramid())
    corrupt_chunks(bad / "0")
    corrupt_chunks(bad / "1")
    gone = write_ome_zarr(data / "nolevel.ome.zarr", pyramid(seed=1))
    shutil.rmtree(gone / "1")  # a level listed in the metadata whose array is missing
    write_ome_zarr(data / "good.ome.zarr", pyramid(seed=2))
    s = run_task(add_folder(project, data, workers=0))
    assert s.added == 3 and len(s.errors) == 2
    errors = dict(s.errors)
    assert errors["data/bad.ome.zarr"].startswith("bad.ome.zarr: the pixel data cannot be read")
    assert errors["data/nolevel.ome.zarr"].startswith("nolevel.ome.zarr: cannot be read as a OME-Zarr file")
    assert project.images.by_path(data / "good.ome.zarr").status == "ok"  # type: ignore[union-attr]


def test_a_pyramid_above_the_pixel_limit_is_listed_from_its_small_levels(tmp_path: Path) -> None:
    import zarr

    path = tmp_path / "slide.ome.zarr"
    group = zarr.open_group(str(path), mode="w")
    sides = [40_000 >> k for k in range(9)]  # 1.6 gigapixels down to 156 px; no chunk written but the last
    for k, side in enumerate(sides):
        group.create_array(str(k), shape=(side, side), dtype="uint8", chunks=(256, 256), fill_value=0)
    group["8"][...] = np.arange(156 * 156, dtype=np.uint32).reshape(156, 156).astype(np.uint8)
    axes = [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}]
    group.attrs["ome"] = {
        "version": "0.5",
        "multiscales": [{"axes": axes, "datasets": [{"path": str(k)} for k in range(9)]}],
    }
    assert probe(path).width == 40_000
    summary = read_summary(path, thumb_size=128)
    assert summary.thumbnail.shape == (128, 128) and summary.thumbnail.std() > 0  # from level 8, not the fill value
    with pytest.raises(ImageReadError, match=r"slide\.ome\.zarr: 1\.6 gigapixels .* above micview's limit"):
        read_frame(path)
