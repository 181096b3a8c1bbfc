"""What micview.spec needs beyond PyInstaller's own analysis: build info, MARCO, the default model, CPU trimming.

Kept out of the spec so each part can be read (and tested) as plain Python. Nothing here runs in the app.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MARCO_NOTICE = """MARCO crystallization-drop classifier (Bruno et al., "Classification of crystallization outcomes using
deep convolutional neural networks", PLoS ONE 13(6): e0198883, 2018; arXiv:1803.10342).

The network and weights come from the PyPI package dls-marco-score-ispyb {version} (Diamond Light Source,
Apache License 2.0, full text in LICENSE beside this file). micview converted the TensorFlow SavedModel to
ONNX when this app was built (micview.ml.marco.convert: the graph cut after the JPEG decoding and resizing,
variables frozen, converted with tf2onnx {tf2onnx}); the weights are unchanged. This is a modified form
(a format conversion) of the original model, distributed under the same Apache-2.0 licence.
"""


def git(*args: str) -> str:
    run = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False)
    return run.stdout.strip() if run.returncode == 0 else ""


def build_info(variant: str) -> dict[str, str]:
    """What ``micview --version`` of the app names: version, commit (``+changes`` when dirty), date, torch build."""
    import micview

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += "+changes"
    return {
        "version": micview.__version__,
        "commit": commit,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "torch": md.version("torch"),
        "variant": variant,
        "python": sys.version.split()[0],
        "platform": sys.platform,
    }


def torch_has_cuda() -> bool:
    """Whether the installed torch is a CUDA build (read from its files, without importing torch)."""
    dist = md.distribution("torch")
    return any(Path(str(f)).name.startswith("libtorch_cuda") for f in dist.files or [])


def marco_datas(stage: Path, python: str | None) -> list[tuple[str, str]]:
    """MARCO converted to ONNX (cached per weights hash), its metadata and licence, as spec ``datas``."""
    from micview.core.errors import MicviewError
    from micview.ml.marco import PACKAGE
    from micview.ml.marco.install import META_FILE, ONNX_FILE, convert_cached, packaged_savedmodel

    src = packaged_savedmodel()
    if src is None:
        raise SystemExit(
            "micview.spec: the MARCO model package is not installed. Install it with "
            "`pip install --no-deps dls-marco-score-ispyb==1.0.1`, or build without MARCO (--no-marco)."
        )
    try:
        folder, meta = convert_cached(src, python=python)
    except MicviewError as exc:
        raise SystemExit(f"micview.spec: MARCO could not be converted: {exc}") from None
    stage.mkdir(parents=True, exist_ok=True)
    dist = md.distribution(PACKAGE.replace("_", "-"))
    meta = {**meta, "source": f"{dist.metadata['Name']} {dist.version} (converted when the app was built)"}
    (stage / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    notice = MARCO_NOTICE.format(version=dist.version, tf2onnx=meta.get("tf2onnx", "?"))
    (stage / "NOTICE").write_text(notice, encoding="utf-8")
    licence = next((Path(str(dist.locate_file(f))) for f in dist.files or [] if Path(str(f)).name == "LICENSE"), None)
    files = [(str(folder / ONNX_FILE), "models/marco"), (str(stage / META_FILE), "models/marco")]
    files.append((str(stage / "NOTICE"), "models/marco"))
    if licence is not None:
        files.append((str(licence), "models/marco"))
    return files


def default_model_package() -> str:
    """The Python package holding the default model's weights (the registry's default must be one)."""
    from micview.ml.registry import DEFAULT_MODEL, get_spec

    spec = get_spec(DEFAULT_MODEL)
    if not spec.package:
        raise SystemExit(
            f"micview.spec: the default model '{DEFAULT_MODEL}' is not shipped as a Python package, so the build "
            "cannot put its weights in the app; extend scripts/app_bundle.py for Hugging Face snapshots."
        )
    return spec.package


# CUDA libraries a CPU run never loads, measured on the torch 2.14.1 (CUDA 13) wheel: none is linked (DT_NEEDED,
# transitively) by torch's or torchvision's own libraries, and none is in /proc/self/maps after importing torch,
# timm, open_clip and transformers and embedding on CPU. cuDNN's sub-libraries are opened by libcudnn.so only
# when cuDNN runs on a GPU; libtorch_cuda_linalg only for GPU linear algebra; the rest are tools and plugins.
# triton (0.9 GB) is left out as a module (micview.spec), which torch and timm treat as "no triton".
CPU_NEVER_LOADS = (
    "libcudnn_adv", "libcudnn_cnn", "libcudnn_engines_precompiled", "libcudnn_engines_runtime_compiled",
    "libcudnn_engines_tensor_ir", "libcudnn_ext", "libcudnn_graph", "libcudnn_heuristic", "libcudnn_ops",
    "libcusolverMg", "libnvrtc.alt", "libnvrtc-builtins", "libtorch_cuda_linalg", "libnvblas", "libcufftw",
    "libnvperf_host", "libnvperf_target", "libpcsamplingutil", "libcheckpoint", "nvshmem_bootstrap",
    "nvshmem_transport",
)  # fmt: skip


def cpu_trim(binaries: list[tuple[str, str, str]]) -> tuple[list[tuple[str, str, str]], int]:
    """``binaries`` without the CUDA libraries a CPU run never loads; and the bytes left out."""
    kept, dropped = [], 0
    for entry in binaries:
        name = Path(entry[0]).name
        if name.startswith(CPU_NEVER_LOADS) or "/triton/" in entry[1].replace(os.sep, "/"):
            dropped += Path(entry[1]).stat().st_size
        else:
            kept.append(entry)
    return kept, dropped


# Files no run of the app opens, left out of every build (CPU or GPU, any torch): torch's C++ test programs and
# test libraries (the 2.13 CPU wheel ships 130 MB of them; only torch.testing's own tests load the libraries),
# protoc (torch never runs it; torch_shm_manager is the one program in torch/bin that torch uses), and Qt's
# translations of its own dialogs (micview installs no QTranslator, so Qt never reads them).
NEVER_OPENED_FOLDERS = ("torch/test/", "PySide6/Qt/translations/")
NEVER_OPENED_LIBRARIES = ("libtorchbind_test", "libjitbackend_test", "libbackend_with_compiler", "libaoti_custom_ops")


def never_opened(entries: list[tuple[str, str, str]]) -> tuple[list[tuple[str, str, str]], int]:
    """``entries`` (Analysis binaries or datas) without the files listed above; and the bytes left out."""
    kept, dropped = [], 0
    for entry in entries:
        dest = entry[0].replace(os.sep, "/")
        name = dest.rsplit("/", 1)[-1]
        if (
            dest.startswith(NEVER_OPENED_FOLDERS)
            or (dest.startswith("torch/bin/") and name not in ("torch_shm_manager", "torch_shm_manager.exe"))
            or (dest.startswith("torch/lib/") and name.startswith(NEVER_OPENED_LIBRARIES))
        ):
            dropped += Path(entry[1]).stat().st_size
        else:
            kept.append(entry)
    return kept, dropped


# The largest libraries carry a full symbol table (.symtab) beside the dynamic one the loader uses; only
# debuggers and symbolized native backtraces read it. `strip --strip-unneeded` keeps every exported symbol.
STRIPPED = ("torch/lib/libtorch_cpu.so", "torch/lib/libtorch_python.so", "llvmlite/binding/libllvmlite.so")


def strip_symbols(internal: Path) -> int:
    """Strip the static symbol tables of ``STRIPPED`` in the built app (Linux, where ``strip`` exists); bytes saved."""
    strip = shutil.which("strip")
    if not sys.platform.startswith("linux") or strip is None:
        return 0
    saved = 0
    for rel in STRIPPED:
        path = internal / rel
        if not path.is_file() or path.is_symlink():
            continue
        before = path.stat().st_size
        if subprocess.run([strip, "--strip-unneeded", str(path)], check=False).returncode == 0:
            saved += before - path.stat().st_size
    return saved


def source_archive(out: Path, commit: str) -> Path | None:
    """micview's own source at the built commit (``git archive``), for the GPL's Corresponding Source."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"micview-{commit.replace('+changes', '')}.tar.gz"
    ok = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar.gz", "-o", str(path), "HEAD"], check=False)
    return path if ok.returncode == 0 else None


def licences_readme(build: dict[str, str], gpl: list[str], archive: Path | None) -> str:
    """The LICENSES/README.md text: micview's licence, what the GPL component means, where every source is."""
    src = f"`sources/{archive.name}` (this folder)" if archive else "the micview repository at the commit above"
    gpl_part = ""
    if gpl:
        gpl_part = (
            "\n## GPL\n\n"
            f"This app contains {', '.join(gpl)}, licensed GPL-3.0-or-later (the DM3/DM4, EMD, SER and BCF "
            "readers). The app as a whole is therefore a combined work that may be redistributed only under "
            "the terms of the GNU General Public License, version 3 or later (full text in the package's "
            "folder here). micview's own code is BSD-3-Clause, which the GPL allows to be combined with it.\n\n"
            "Corresponding Source, as GPL-3.0 section 6 requires of whoever passes the app on:\n\n"
            f"- micview itself, including this build's recipe (micview.spec, scripts/build_app.py): {src}.\n"
            "- rosettasciio: its Python sources and its one Cython source (`rsciio/bruker/unbcf_fast.pyx`) are "
            "inside this app as plain files (`_internal/rsciio/`); the release is also on PyPI "
            "(`pip download --no-binary :all: --no-deps rosettasciio==VERSION`) and at "
            "https://github.com/hyperspy/rosettasciio.\n"
            "- every other package: the exact name and version in packages.md, each available from PyPI.\n\n"
            "If you distribute this app, distribute these sources with it (or a written offer, as section 6 "
            "allows). A build without the GPL readers would need rosettasciio left out (DM3/DM4, EMD, SER and BCF "
            "files would then not open).\n"
        )
    return (
        f"# Licences\n\nmicview {build['version']} (commit {build['commit']}, built {build['date']}) is "
        "BSD-3-Clause licensed. This folder lists every package inside this app with its licence "
        "(packages.md) and holds their licence texts, one folder per package. MARCO's licence and notice are in "
        "`_internal/models/marco/`.\n" + gpl_part
    )
