"""Convert a MARCO TensorFlow SavedModel to ONNX: ``python -m micview.ml.marco.convert SRC DST``.

Runs in its own process under an interpreter that has TensorFlow and tf2onnx (the ``marco`` extra), so the
app never imports TensorFlow. Only the network is converted: the graph is cut at the stacked, already
preprocessed batch (``map/TensorArrayStack/TensorArrayGatherV3``, N×599×599×3 float in [-1, 1]) and frozen
up to the softmax and to the pooled 1056-d features before the logits. The JPEG decoding, crop and resize
that precede the cut are re-implemented in :mod:`micview.ml.marco.preprocess` (TensorFlow's while-loop and
TensorArray ops do not convert, and batching needs them outside the graph anyway).

This module imports only the standard library at the top; it must stay importable without micview's
dependencies because the converting interpreter may be a separate TensorFlow environment.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

INPUT = "map/TensorArrayStack/TensorArrayGatherV3"
PROBS = "Inception/Predictions/Reshape_1"
FEATURES = "Inception/Logits/AvgPool_1a_8x8/AvgPool"
SIZE = 599
OPSET = 17


def _frozen_graph_def(src: Path):  # type: ignore[no-untyped-def]
    """The SavedModel's graph with variables folded in, cut to INPUT → (PROBS, FEATURES)."""
    import tensorflow as tf

    tf1 = tf.compat.v1
    graph = tf.Graph()
    with tf1.Session(graph=graph) as sess:
        tf1.saved_model.loader.load(sess, ["serve"], str(src))
        frozen = tf1.graph_util.convert_variables_to_constants(sess, graph.as_graph_def(), [PROBS, FEATURES])
    for node in frozen.node:
        if node.name == INPUT:  # the TensorArray gather becomes the model's input
            node.op = "Placeholder"
            del node.input[:]
            node.attr.clear()
            node.attr["dtype"].type = tf.float32.as_datatype_enum
            shape = tf.TensorShape([None, SIZE, SIZE, 3]).as_proto()
            node.attr["shape"].shape.CopyFrom(shape)
    return tf1.graph_util.extract_sub_graph(frozen, [PROBS, FEATURES])


def convert(src: Path, dst: Path) -> dict[str, object]:
    """Write ``dst`` (ONNX) from the SavedModel folder ``src``; returns what was done, for the caller's log."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    import tf2onnx

    start = time.perf_counter()
    graph_def = _frozen_graph_def(src)
    tmp = dst.with_name(dst.name + ".part")
    with tf.Graph().as_default():
        tf2onnx.convert.from_graph_def(
            graph_def,
            input_names=[f"{INPUT}:0"],
            output_names=[f"{PROBS}:0", f"{FEATURES}:0"],
            opset=OPSET,
            output_path=str(tmp),
        )
    tmp.replace(dst)
    return {
        "input": f"{INPUT}:0",
        "outputs": {"probs": f"{PROBS}:0", "features": f"{FEATURES}:0"},
        "opset": OPSET,
        "tensorflow": tf.__version__,
        "tf2onnx": tf2onnx.__version__,
        "seconds": round(time.perf_counter() - start, 1),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m micview.ml.marco.convert SAVEDMODEL_DIR OUT.onnx", file=sys.stderr)
        return 2
    src, dst = Path(argv[0]), Path(argv[1])
    if not (src / "saved_model.pb").is_file():
        print(f"{src}: not a TensorFlow SavedModel folder (no saved_model.pb).", file=sys.stderr)
        return 2
    info = convert(src, dst)
    print(json.dumps(info))  # the last stdout line is read by the app
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
