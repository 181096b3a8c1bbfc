"""The build's own logic, without building: licences traced to packages, what a CPU app leaves out."""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

import numpy
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import app_bundle  # noqa: E402
import app_licences  # noqa: E402
from app_licences import Package  # noqa: E402


@pytest.mark.parametrize(
    ("licence", "permissive"),
    [
        ("MIT", True),
        ("Apache-2.0 AND Apache-2.0 WITH LLVM-exception AND BSD-2-Clause AND BSD-3-Clause AND BSL-1.0 AND MIT", True),
        ("3-Clause BSD License", True),
        ("Apache-2.0 (from its licence file)", True),
        ("GPL-3.0-or-later", False),
        ("LGPL-3.0-only OR GPL-2.0-only OR GPL-3.0-only", False),
        ("MPL-2.0 AND MIT", False),
        ("LicenseRef-NVIDIA-Proprietary", False),
        ("unknown", False),
        ("", False),
    ],
)
def test_what_counts_as_permissive(licence: str, permissive: bool) -> None:
    assert Package("p", "1", licence).permissive is permissive


def test_collected_files_are_traced_to_their_packages(tmp_path: Path) -> None:
    numpy_file = str(Path(numpy.__file__))
    stdlib_file = str(Path(sysconfig.get_paths()["stdlib"]) / "json" / "__init__.py")
    ours = str(ROOT / "micview" / "cli" / "__init__.py")
    generated = tmp_path / "build" / "_build.json"
    generated.parent.mkdir()
    generated.write_text("{}")
    stray = tmp_path / "libstray.so"
    stray.write_bytes(b"\0")
    marco = Package("dls-marco-score-ispyb", "1.0.1", "Apache-2.0", 1)
    sources = [numpy_file, stdlib_file, ours, str(generated), str(stray), "-"]
    packages, unowned = app_licences.collect(sources, [marco], ROOT, (tmp_path / "build",))
    by_name = {p.name: p for p in packages}
    assert by_name["numpy"].version == numpy.__version__ and "BSD" in by_name["numpy"].licence
    assert by_name["numpy"].licence_files  # its licence text is copied
    assert by_name["Python"].licence == "PSF-2.0" and by_name["micview"].licence == "BSD-3-Clause"
    assert "dls-marco-score-ispyb" in by_name and unowned == [str(stray)]


def test_metadata_alone_is_not_a_package_inside() -> None:
    """A hook that copies hypothesis' metadata (for version checks) does not put hypothesis in the app."""
    import importlib.metadata as md

    dist = md.distribution("hypothesis")
    meta = [str(dist.locate_file(f)) for f in dist.files or [] if ".dist-info/" in str(f)]
    packages, _ = app_licences.collect(meta, [], ROOT)
    assert "hypothesis" not in {p.name for p in packages}


def test_licence_files_are_written(tmp_path: Path) -> None:
    text = tmp_path / "COPYING.txt"
    text.write_text("GNU GENERAL PUBLIC LICENSE Version 3")
    packages = [Package("rosettasciio", "0.15.0", "GPL-3.0-or-later", 10, [text]), Package("numpy", "2.4", "BSD", 3)]
    build = {"version": "0.1.0", "commit": "abc1234", "date": "2026-01-01 00:00 UTC"}
    readme = app_bundle.licences_readme(build, ["rosettasciio"], tmp_path / "sources" / "micview-abc1234.tar.gz")
    out = app_licences.write(tmp_path / "LICENSES", packages, build, readme)
    listing = (out / "packages.md").read_text()
    assert "## Not plainly permissive\n\n- **rosettasciio 0.15.0**: GPL-3.0-or-later" in listing
    assert "| numpy | 2.4 | BSD | 3 |" in listing
    assert (out / "rosettasciio-0.15.0" / "COPYING.txt").read_text().startswith("GNU GENERAL")
    about = (out / "README.md").read_text()
    assert "GPL-3.0-or-later" in about and "sources/micview-abc1234.tar.gz" in about and "unbcf_fast.pyx" in about


def test_cpu_app_leaves_out_only_what_a_cpu_run_never_loads(tmp_path: Path) -> None:
    def lib(name: str, folder: str = "nvidia/cudnn/lib") -> tuple[str, str, str]:
        path = tmp_path / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 10)
        return (f"{folder}/{name}", str(path), "BINARY")

    linked = [lib("libcudnn.so.9"), lib("libcublasLt.so.13", "nvidia/cu13/lib"), lib("libtorch_cuda.so", "torch/lib")]
    never = [lib("libcudnn_engines_precompiled.so.9"), lib("libcusolverMg.so.12", "nvidia/cu13/lib"),
             lib("libtorch_cuda_linalg.so", "torch/lib"), lib("libtriton.so", "triton/_C")]  # fmt: skip
    kept, dropped = app_bundle.cpu_trim([*linked, *never])
    assert kept == linked and dropped == 40


def test_every_build_leaves_out_files_no_run_opens(tmp_path: Path) -> None:
    def entry(dest: str, size: int = 10) -> tuple[str, str, str]:
        path = tmp_path / dest
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
        return (dest, str(path), "BINARY")

    needed = [entry("torch/bin/torch_shm_manager"), entry("torch/lib/libtorch_cpu.so"),
              entry("PySide6/Qt/lib/libQt6Core.so.6"), entry("torch/testing/_internal/common_utils.py")]  # fmt: skip
    unused = [entry("torch/test/test_api", 7), entry("torch/bin/protoc", 3), entry("torch/lib/libtorchbind_test.so", 5),
              entry("PySide6/Qt/translations/qtbase_de.qm", 11)]  # fmt: skip
    kept, dropped = app_bundle.never_opened([*unused[:2], *needed, *unused[2:]])
    assert kept == needed and dropped == 26
