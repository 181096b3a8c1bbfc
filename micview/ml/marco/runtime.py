"""The converted MARCO network in onnxruntime: batches of preprocessed images → class scores and features.

CUDA when this onnxruntime build has the CUDA provider (``onnxruntime-gpu``) and ``device`` allows it, else
CPU. Always float32: the scores must match the published model's to within 0.005. bf16 was measured and
rejected: OpenVINO's bf16 ran the network 2.4x faster on an avx512_bf16 CPU, but moved scores by up to 0.022
(25 of 175 drops and micrographs past 0.005; keeping the stem in fp32 still left 0.012), so it is not offered.

On the CPU a batch is split across several sessions of one thread each, run side by side (onnxruntime
releases the GIL), instead of one session whose threads meet at a barrier after every operator: measured on
2 cores, 1.3x the images per second and per CPU second, and much steadier when other programs share the cores.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from micview.ml.errors import ModelError
from micview.ml.marco import ADD_HINT, CLASSES, MODEL_ID, MarcoError
from micview.ml.marco.install import META_FILE, ONNX_FILE


def providers(device: str | None) -> list[str]:
    """onnxruntime providers for ``device`` ('auto'/None: CUDA if available; 'cpu'; 'cuda')."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    if device == "cpu":
        return ["CPUExecutionProvider"]
    if "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device is not None and device.startswith("cuda"):
        raise MarcoError("MARCO on the GPU needs onnxruntime-gpu (this onnxruntime has no CUDA); use --device cpu.")
    return ["CPUExecutionProvider"]


MAX_SESSIONS = 4  # CPU sessions side by side; more cores than this go to each session's own threads


def cpu_layout(cores: int | None = None) -> tuple[int, int]:
    """(sessions, threads per session) for ``cores`` usable CPU cores (default: this process's)."""
    if cores is None:  # the cores this process may run on (Linux), else all of them
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    n = max(1, cores or 1)
    sessions = min(n, MAX_SESSIONS)
    return sessions, n // sessions


@dataclass
class MarcoModel:
    """A loaded MARCO: ``run`` scores a (B, 599, 599, 3) float32 batch.

    ``more`` holds the extra CPU sessions a batch is shared with (empty on CUDA and in tests' fakes).
    """

    model_id: str
    folder: Path
    meta: dict[str, Any]
    session: Any
    more: list[Any] = field(default_factory=list)
    _pool: ThreadPoolExecutor | None = field(default=None, init=False, repr=False)

    @property
    def weights_hash(self) -> str:
        return str(self.meta.get("weights_hash", ""))

    @property
    def device(self) -> str:
        return "cuda" if self.session.get_providers()[0] == "CUDAExecutionProvider" else "cpu"

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.meta.get("classes", CLASSES))

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, 599, 599, 3) float32 → (probabilities (B, 4) in :data:`CLASSES` order, features (B, 1056)).

        With several sessions the batch is cut into as many parts, scored at the same time; each image's
        result is the same as scored alone (the network has no batch-dependent operator).
        """
        sessions = [self.session, *self.more][: max(1, len(batch))]
        parts = np.array_split(np.ascontiguousarray(batch, dtype=np.float32), len(sessions))
        if len(sessions) == 1:
            return _run_one(sessions[0], parts[0])
        if self._pool is None:
            self._pool = ThreadPoolExecutor(len(self.more) + 1, thread_name_prefix="micview-marco")
        outs = list(self._pool.map(_run_one, sessions, parts))
        return np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])


def _run_one(session: Any, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    name = session.get_inputs()[0].name
    probs, feats = session.run(None, {name: batch})
    return np.asarray(probs, np.float32), np.asarray(feats, np.float32).reshape(len(batch), -1)


def open_session(path: Path, device: str | None = None, threads: int | None = None) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if threads:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), sess_options=opts, providers=providers(device))


def open_sessions(path: Path, device: str | None = None, cores: int | None = None) -> list[Any]:
    """One session on CUDA; on the CPU :func:`cpu_layout`'s sessions, each with its share of the cores."""
    if providers(device)[0] != "CPUExecutionProvider":
        return [open_session(path, device)]
    sessions, threads = cpu_layout(cores)
    return [open_session(path, "cpu", threads) for _ in range(sessions)]


def load_model(model_id: str = MODEL_ID, device: str | None = None) -> MarcoModel:
    """The registered, converted MARCO ``model_id`` (see ``micview models add marco``)."""
    from micview.ml.registry import get_spec, require

    try:
        spec = get_spec(model_id)
    except ModelError:
        if model_id != MODEL_ID:
            raise
        raise MarcoError(f"MARCO is not added on this computer yet. {ADD_HINT}") from None
    if spec.family != "marco":
        raise MarcoError(
            f"'{model_id}' is an embedding model ({spec.family}), not a MARCO classifier; leave out --model."
        )
    try:
        folder = require(spec)
    except ModelError:
        raise MarcoError(f"The converted MARCO model '{model_id}' is gone from {spec.path}. {ADD_HINT}") from None
    return load_folder(folder, model_id, device)


def load_folder(folder: Path, model_id: str = MODEL_ID, device: str | None = None) -> MarcoModel:
    """A converted MARCO from its cache folder (``model.onnx`` + ``marco.json``)."""
    onnx = folder / ONNX_FILE
    if not onnx.is_file():
        raise MarcoError(f"{folder}: the converted MARCO model is missing. {ADD_HINT}")
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    first, *more = open_sessions(onnx, device)
    return MarcoModel(model_id, folder, meta, first, more)
