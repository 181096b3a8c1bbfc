"""Would bf16 keep MARCO's scores within 0.005? Measures it, on more drops than the five reference images.

micview scores MARCO in fp32 (:mod:`micview.ml.marco.runtime`). This script is the evidence for that choice:
it runs the converted network in OpenVINO with ``INFERENCE_PRECISION_HINT=bf16`` (native on CPUs with
avx512_bf16 or AMX), alone and with the first layers kept in fp32 (the graph cut in two at a block's output),
and compares each image's four scores with onnxruntime fp32 (which matches TensorFlow to ~1e-6). The images:
the reference drops, ten variants of each (flips, rotation, crops, brightness, contrast, re-compression,
noise), and micrographs of miclib, all through MARCO's exact preprocessing.

OpenVINO is not a micview dependency; install it beside micview to run this (``pip install openvino``).

    python scripts/bench_marco_bf16.py [--miclib 120] [--model DIR]   # DIR: the converted MARCO cache folder
"""

from __future__ import annotations

import argparse
import io
import os
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CUTS = ["Conv2d_0a_3x3/Relu", "MaxPool_3a_3x3/MaxPool", "MaxPool_5a_3x3/MaxPool", "Mixed_5b/concat", "Mixed_5d/concat"]


def variants(rgb: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    im = Image.fromarray(rgb)
    w, h = im.size
    out = [rgb, rgb[:, ::-1], rgb[::-1], np.rot90(rgb)]
    for f in (0.8, 0.6):
        cw, ch = int(w * f), int(h * f)
        left, top = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        out.append(np.asarray(im.crop((left, top, left + cw, top + ch))))
    out += [np.asarray(ImageEnhance.Brightness(im).enhance(b)) for b in (0.75, 1.25)]
    out.append(np.asarray(ImageEnhance.Contrast(im).enhance(0.7)))
    buf = io.BytesIO()
    im.resize((int(w * 0.7), int(h * 0.7))).save(buf, "JPEG", quality=70)
    out.append(np.asarray(Image.open(buf).convert("RGB")))
    out.append(np.clip(rgb + rng.normal(0, 8, rgb.shape), 0, 255).astype(np.uint8))
    return [np.ascontiguousarray(v) for v in out]


def inputs(n_miclib: int) -> tuple[np.ndarray, list[str]]:
    from micview.ml.marco.preprocess import read_rgb, to_input

    rng, xs, names = np.random.default_rng(0), [], []
    for p in sorted((DATA / "crystals" / "images").glob("*.jpg")):
        rgb = read_rgb(p)
        rgb = np.repeat(rgb, 3, axis=2) if rgb.shape[2] == 1 else rgb
        for i, v in enumerate(variants(rgb, rng)):
            xs.append(to_input(v))
            names.append(f"{p.stem}#{i}")
    mic = sorted((DATA / "miclib" / "images").glob("*.jpg"))
    for p in mic[:: max(1, len(mic) // max(1, n_miclib))][:n_miclib]:
        xs.append(to_input(read_rgb(p)))
        names.append(p.name)
    return np.stack(xs), names


def openvino_runner(onnx: Path, cut: str | None):  # type: ignore[no-untyped-def]
    """bf16 everywhere, or fp32 up to the output of ``cut`` and bf16 after it."""
    import openvino as ov
    from openvino import opset13 as ops

    core = ov.Core()
    config = {"INFERENCE_NUM_THREADS": os.cpu_count() or 1}

    def compiled(model, precision: str):  # type: ignore[no-untyped-def]
        return core.compile_model(model, "CPU", {**config, "INFERENCE_PRECISION_HINT": precision})

    def probs(out) -> np.ndarray:  # type: ignore[no-untyped-def]
        return next(v for v in out.values() if v.shape[-1] == 4)

    if cut is None:
        full = compiled(core.read_model(str(onnx)), "bf16")
        return lambda x: probs(full(x))
    name = f"Inception/Inception/{cut}"
    head_model = core.read_model(str(onnx))
    node = next(op for op in head_model.get_ordered_ops() if op.get_friendly_name() == name)
    head = compiled(ov.Model([node.output(0)], head_model.get_parameters(), "head"), "f32")
    tail_model = core.read_model(str(onnx))
    node = next(op for op in tail_model.get_ordered_ops() if op.get_friendly_name() == name)
    param = ops.parameter(node.get_output_partial_shape(0), node.get_output_element_type(0), name="cut")
    for target in list(node.output(0).get_target_inputs()):
        target.replace_source_output(param.output(0))
    tail = compiled(ov.Model(tail_model.get_results(), [param], "tail"), "bf16")
    return lambda x: probs(tail(head(x)[0]))


def batched(run, x: np.ndarray, batch: int = 8) -> tuple[np.ndarray, float]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = np.concatenate([run(x[i : i + batch]) for i in range(0, len(x), batch)])
    return out, len(x) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--miclib", type=int, default=120)
    ap.add_argument("--model", type=Path, default=None, help="converted MARCO folder (default: the registered one)")
    args = ap.parse_args()
    from micview.ml.marco.runtime import load_folder, load_model

    marco = load_folder(args.model) if args.model else load_model(device="cpu")
    x, names = inputs(args.miclib)
    reference, fp32_rate = batched(lambda b: marco.run(b)[0], x)
    print(f"{len(x)} images; onnxruntime fp32 {fp32_rate:.1f} img/s; load average {os.getloadavg()[0]:.1f}\n")
    head = f"{'bf16 from':26} {'max |diff|':>10} {'(image)':>22} {'p99':>7} {'median':>8} {'>0.005':>7} {'top':>4}"
    print(f"{head} img/s")
    for cut in [None, *CUTS]:
        probs, rate = batched(openvino_runner(marco.folder / "model.onnx", cut), x)
        diff = np.abs(probs - reference).max(axis=1)
        flipped = int((probs.argmax(1) != reference.argmax(1)).sum())
        where = "the input (all bf16)" if cut is None else f"after {cut.split('/')[0]}"
        print(
            f"{where:26} {diff.max():10.4f} {names[int(diff.argmax())]:>22} {np.quantile(diff, 0.99):7.4f} "
            f"{np.median(diff):8.5f} {int((diff > 0.005).sum()):7d} {flipped:4d} {rate:5.1f}"
        )


if __name__ == "__main__":
    main()
