"""The steps of ``micview --self-test`` (:mod:`micview.cli._selftest` runs them), each a user's action.

Every step returns a short detail for its line or raises; :class:`Skipped` means "not part of this
installation" (MARCO in a source checkout where it was never added). Steps share a :class:`Context`: the
temporary folder, the sample's project and what earlier steps found.
"""

from __future__ import annotations

import csv
import importlib
import os
import pkgutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from micview.core.errors import MicviewError

# Third-party modules micview imports inside functions (so PyInstaller's analysis may miss what *they* load
# lazily): each is imported here, in the app itself. tests/test_selftest.py keeps the list complete.
LAZY_IMPORTS = (
    "distributed", "faiss", "huggingface_hub", "imagecodecs", "liffile", "matplotlib.pyplot", "mrcfile", "numba",
    "numpy", "onnxruntime", "open_clip", "open_clip.convert", "open_clip.model", "open_clip.tokenizer", "PIL.Image",
    "pyqtgraph", "PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "rsciio.bruker",
    "rsciio.digitalmicrograph", "rsciio.emd", "rsciio.tia", "safetensors.torch", "scipy.spatial", "simplejpeg",
    "sklearn.cluster", "sklearn.decomposition", "sklearn.linear_model", "sklearn.manifold", "sklearn.metrics",
    "sklearn.model_selection", "threadpoolctl", "tifffile", "timm", "tokenizers", "torch", "torchvision", "tqdm",
    "transformers", "umap", "watchdog.observers", "watchdog.observers.polling", "zarr", "numcodecs",
)  # fmt: skip
# Optional extras (not in the app) and the converter's TensorFlow (never imported by micview itself).
NOT_BUNDLED = ("nd2", "pylibCZIrw", "tensorflow", "tf2onnx")
# The transformers classes micview's loaders reach through transformers' lazy module.
TRANSFORMERS_CLASSES = ("AutoConfig", "AutoModel", "AutoProcessor", "AutoModelForImageTextToText", "CLIPModel",
                        "CLIPProcessor", "SiglipModel", "SiglipProcessor", "TextIteratorStreamer")  # fmt: skip


class Skipped(Exception):
    """The step does not apply to this installation (the reason is printed)."""


class StepError(MicviewError):
    """A step's check failed."""


@dataclass
class Context:
    root: Path
    found: dict[str, Any] = field(default_factory=dict)

    @property
    def project(self) -> Path:
        return self.root / "sample.micview"

    @property
    def images(self) -> Path:
        return self.root / "images"

    def keep_user_marco(self) -> None:
        """A source install: remember a MARCO the user added, for the isolated settings (the app bundles its own)."""
        from micview.ml.registry import get_spec, locate

        try:
            spec = get_spec("marco")
        except MicviewError:
            return
        if locate(spec) is not None:
            self.found["user_marco"] = spec


def cli(*args: str | Path) -> str:
    """Run one ``micview`` command in this process; its standard output, or :class:`StepError` when it fails."""
    import contextlib
    import io

    from micview.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    print(out.getvalue() + err.getvalue(), end="")  # into the step's captured output
    if code != 0:
        lines = (out.getvalue() + err.getvalue()).strip().splitlines() or ["no output"]
        raise StepError(f"`micview {' '.join(map(str, args[:2]))} ...` exited {code}: {lines[-1]}")
    return out.getvalue()


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise StepError(message)


def step_window(ctx: Context) -> str:
    """Start the app as a user would (offscreen), time the first window from launch, quit."""
    exe = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "micview"]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "MICVIEW_SMOKE_TEST": "1",
           "XDG_CONFIG_HOME": str(ctx.root / "qt"), "APPDATA": str(ctx.root / "qt")}  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.Popen(exe, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines, shown = [], None
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if shown is None and "first window shown" in line:
            shown = time.perf_counter() - start
    code = proc.wait(timeout=60)
    print("".join(lines), end="")
    _check(code == 0 and shown is not None, f"the application exited {code} without showing its window")
    ctx.found["window_s"] = shown
    return f"main window shown {shown:.2f} s after launch"


def step_imports(ctx: Context) -> str:
    """Every micview module and every library micview imports lazily, as the app will later."""
    import micview

    names = [m.name for m in pkgutil.walk_packages(micview.__path__, "micview.") if not m.name.endswith("__main__")]
    for name in [*names, *LAZY_IMPORTS]:
        importlib.import_module(name)
    import transformers

    for cls in TRANSFORMERS_CLASSES:
        getattr(transformers, cls)
    return f"{len(names)} micview modules, {len(LAZY_IMPORTS)} libraries"


def step_resources(ctx: Context) -> str:
    """The shipped prompt sets and label groupings."""
    from micview.core.resources import resources_dir
    from micview.ml.classify.groups import shipped_groups
    from micview.ml.classify.prompts import load_prompt_set, shipped_prompt_sets

    sets = shipped_prompt_sets()
    _check(bool(sets), f"no prompt sets in {resources_dir()}")
    for name in sets:
        load_prompt_set(name)
    _check(bool(shipped_groups("technique")), "the technique label grouping is missing")
    return f"{len(sets)} prompt sets, label groups, in {resources_dir()}"


def step_tokenizer(ctx: Context) -> str:
    """open_clip's BPE vocabulary (a data file inside open_clip) tokenizes text."""
    import open_clip

    tokens = open_clip.get_tokenizer("ViT-B-32")(["a micrograph of grains"])
    _check(tuple(tokens.shape) == (1, 77) and int((tokens > 0).sum()) >= 5, f"unexpected tokens {tokens[0, :8]}")
    return "open_clip ViT-B-32 tokenizer"


def step_sample(ctx: Context) -> str:
    """The generated sample micrographs and crystallization drops, a project, the import (worker processes)."""
    from micview.core.sample_data import write_drops, write_sample

    write_sample(ctx.images / "micrographs")
    write_drops(ctx.images / "drops")
    cli("new", ctx.project)
    out = cli("add", ctx.project, ctx.images, "--workers", "2", "-q")  # reader processes even on one core
    _check(out.startswith("28 added") and "0 could not be read" in out, f"import summary: {out.splitlines()[0]}")
    return "28 images imported"


def step_labels(ctx: Context) -> str:
    """Half of each kind labelled from a CSV (the other half is what the classifier must find)."""
    from micview.core.sample_data import sample_labels

    truth = sample_labels(ctx.images / "micrographs")
    ctx.found["truth"] = truth
    path = ctx.root / "labels.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "kind"])
        writer.writerows((name, kind) for name, kind in sorted(truth.items()) if int(name[-6:-4]) % 2 == 0)
    out = cli("import-labels", ctx.project, path, "--tasks", "kind")
    _check("12 labels written" in out, out.strip())
    return "12 labels in task 'kind'"


def step_embed(ctx: Context) -> str:
    """The bundled default model embeds every image."""
    from micview.ml.registry import DEFAULT_MODEL

    cli("embed", ctx.project, "-q")
    with _open(ctx) as project:
        ids, vectors = project.embeddings.for_images(DEFAULT_MODEL)
    _check(len(ids) == 28 and bool((vectors == vectors).all()), f"{len(ids)} vectors of 28, or not finite")
    return f"28 × {vectors.shape[1]} with {DEFAULT_MODEL}"


def step_map(ctx: Context) -> str:
    """A UMAP map, computed as the window does: in a spawned process (numba compiles on first use)."""
    import numpy as np

    from micview.cli._progress import run_with_bar
    from micview.ml.maps import map_task
    from micview.ml.registry import DEFAULT_MODEL

    with _open(ctx) as project:
        result = run_with_bar(map_task(project, DEFAULT_MODEL, "umap", {"n_neighbors": 5}), quiet=True)
    _check(result.xy.shape == (28, 2) and bool(np.isfinite(result.xy).all()), f"map of shape {result.xy.shape}")
    return "UMAP of 28 images in a worker process"


def step_similar(ctx: Context) -> str:
    """More like this: the nearest images to a grain micrograph are grain micrographs."""
    out = cli("similar", ctx.project, "grains_01.png", "-k", "3")
    hits = [line.split()[-1] for line in out.strip().splitlines()]
    same = sum("/grains/" in h.replace("\\", "/") for h in hits)
    _check(len(hits) == 3 and same >= 2, f"nearest to grains_01.png: {hits}")
    return f"{same} of 3 nearest are grains"


def step_clip(ctx: Context) -> str:
    """Your own CLIP weights, offline: tiny random open_clip and transformers folders added, embedded, searched."""
    from micview.cli._selftest_models import tiny_hf_clip, tiny_open_clip

    for family, build in (("open_clip", tiny_open_clip), ("transformers", tiny_hf_clip)):
        model_id = f"tiny-{family.replace('_', '')}"
        cli("models", "add", build(ctx.root / "models" / model_id), "--id", model_id)
        cli("embed", ctx.project, "--model", model_id, "-q")
        out = cli("search", ctx.project, "a micrograph of grains", "--model", model_id, "-k", "3")
        _check(len(out.strip().splitlines()) == 3, f"{model_id}: text search gave {out.strip()!r}")
    return "open_clip and transformers CLIP folders: add, embed, text search"


def step_vlm(ctx: Context) -> str:
    """A vision-language model folder (tiny random Idefics3, SmolVLM's architecture) answers about an image."""
    from micview.cli._selftest_models import tiny_idefics3

    folder = tiny_idefics3(ctx.root / "models" / "tiny-vlm")
    cli("models", "add", folder, "--id", "tiny-vlm")
    cli("ask", ctx.project, "grains_01.png", "Which technique made this image?", "--model", "tiny-vlm",
        "--max-new-tokens", "4", "--temperature", "0")  # fmt: skip
    with _open(ctx) as project:
        answers = project.con.execute("SELECT count(*) FROM answers").fetchone()[0]
    _check(answers == 1, f"{answers} answers stored")
    return "Idefics3 folder: add, ask (answer generated and stored)"


def step_classify(ctx: Context) -> str:
    """A classifier trained on the 12 labels predicts the 12 unlabelled images."""
    cli("classify", ctx.project, "--task", "kind", "-q")
    truth = ctx.found["truth"]
    with _open(ctx) as project:
        preds = _predictions(project, "kind")
        predicted = {Path(project.images.get(i).path).name: a.label for i, a in preds.items()}
    held_out = [n for n in truth if int(n[-6:-4]) % 2 == 1]
    right = sum(predicted.get(n) == truth[n] for n in held_out)
    _check(right >= 9, f"only {right} of {len(held_out)} unlabelled images classified right")
    return f"{right} of {len(held_out)} unlabelled images right"


def step_marco(ctx: Context) -> str:
    """MARCO (ONNX) scores the sample plate's drops."""
    from micview.core.sample_data import DROP_PLATE, DROPS
    from micview.ml.registry import get_spec, locate

    if "user_marco" in ctx.found:
        _register_user_marco(ctx.found["user_marco"])
    try:
        where = locate(get_spec("marco"))
    except MicviewError:
        where = None
    if where is None:
        if getattr(sys, "frozen", False):
            raise StepError("MARCO is not bundled with this app")
        raise Skipped("MARCO is not added here (micview models add marco --python PATH); the app bundles it")
    cli("score", ctx.project, "--plate", DROP_PLATE, "--pattern", "generic", "-q")
    with _open(ctx) as project:
        preds = _predictions(project, "outcome")
    _check(len(preds) == len(DROPS), f"{len(preds)} drops scored of {len(DROPS)}")
    sums = [sum((a.scores or {}).values()) for a in preds.values()]
    _check(all(abs(t - 1) < 1e-3 for t in sums), f"class probabilities do not sum to 1: {sums}")
    return f"{len(preds)} drops scored ({where.name})"


def step_export(ctx: Context) -> str:
    """The labelled CSV, with labels and predictions."""
    out = ctx.root / "export.csv"
    cli("export", ctx.project, out)
    with out.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    wanted = {"kind", "kind_pred"} | ({"outcome_pred"} if "outcome" in _tasks(ctx) else set())
    _check(len(rows) == 28 and wanted <= set(rows[0]), f"{len(rows)} rows, columns {sorted(rows[0])[:12]}")
    return f"{len(rows)} rows, {len(rows[0])} columns"


def _open(ctx: Context) -> Any:
    from micview.core.store import Project

    return Project.open(ctx.project)


def _predictions(project: Any, task: str) -> dict[int, Any]:
    return dict(project.labels.current(task, "model"))


def _tasks(ctx: Context) -> list[str]:
    with _open(ctx) as project:
        return list(project.labels.task_names())


def _register_user_marco(spec: Any) -> None:
    from dataclasses import asdict

    from micview.ml import config

    data = config.read_json(config.MODELS_FILE)
    data.setdefault("models", {})["marco"] = {k: v for k, v in asdict(spec).items() if k != "id"}
    config.write_json(config.MODELS_FILE, data)


STEPS: tuple[tuple[str, Callable[[Context], str]], ...] = (
    ("window", step_window),
    ("imports", step_imports),
    ("resources", step_resources),
    ("tokenizer", step_tokenizer),
    ("sample", step_sample),
    ("labels", step_labels),
    ("embed", step_embed),
    ("map", step_map),
    ("similar", step_similar),
    ("clip", step_clip),
    ("vlm", step_vlm),
    ("classify", step_classify),
    ("marco", step_marco),
    ("export", step_export),
)

__all__ = ["LAZY_IMPORTS", "NOT_BUNDLED", "STEPS", "Context", "Skipped", "StepError"]
