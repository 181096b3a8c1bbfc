"""The converted MARCO network in onnxruntime: batches of preprocessed images → class scores and features.

CUDA when this onnxruntime build has the CUDA provider (``onnxruntime-gpu``) and ``device`` allows it, else
CPU. Always float32: the scores must match the published model's to within 0.005, and the network is small.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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


@dataclass
class MarcoModel:
    """A loaded MARCO: ``run`` scores a (B, 599, 599, 3) float32 batch."""

    model_id: str
    folder: Path
    meta: dict[str, Any]
    session: Any

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
        """(B, 599, 599, 3) float32 → (probabilities (B, 4) in :data:`CLASSES` order, features (B, 1056))."""
        name = self.session.get_inputs()[0].name
        probs, feats = self.session.run(None, {name: np.ascontiguousarray(batch, dtype=np.float32)})
        return np.asarray(probs, np.float32), np.asarray(feats, np.float32).reshape(len(batch), -1)


def open_session(path: Path, device: str | None = None, threads: int | None = None) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if threads:
        opts.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), sess_options=opts, providers=providers(device))


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
    return MarcoModel(model_id, folder, meta, open_session(onnx, device))
