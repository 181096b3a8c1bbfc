"""MARCO test helpers: which Python can convert MARCO, and a fake onnxruntime session.

The real conversion needs the ``dls-marco-score-ispyb`` package and a Python with TensorFlow + tf2onnx: this
interpreter, or (as users do) a separate one named by ``MICVIEW_MARCO_PYTHON``. Tests that need it
are skipped, with the reason, where either is missing.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import numpy as np

from micview.ml.marco import CLASSES


def tf_python() -> str | None:
    """An interpreter that can import tensorflow and tf2onnx, or None."""
    exe = os.environ.get("MICVIEW_MARCO_PYTHON")
    if exe is None:
        here = all(importlib.util.find_spec(m) for m in ("tensorflow", "tf2onnx"))
        return sys.executable if here else None
    probe = subprocess.run([exe, "-c", "import tensorflow, tf2onnx"], capture_output=True, check=False)
    return exe if probe.returncode == 0 else None


class FakeSession:
    """Stands in for onnxruntime: scores from the image's mean brightness, deterministic and instant."""

    class _Input:
        name = "x"

    def __init__(self) -> None:
        self.calls = 0

    def get_inputs(self) -> list[_Input]:
        return [self._Input()]

    def get_providers(self) -> list[str]:
        return ["CPUExecutionProvider"]

    def run(self, _outputs: object, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        self.calls += 1
        x = feeds["x"]
        m = x.reshape(len(x), -1).mean(axis=1)
        logits = np.stack([m * (i + 1) for i in range(len(CLASSES))], axis=1) * 5
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        return [p / p.sum(axis=1, keepdims=True), np.tile(m[:, None], (1, 1056)).reshape(len(x), 1, 1, 1056)]
