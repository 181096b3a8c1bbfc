"""Benchmark micview's embedding against the per-image loop and against the bare model forward.

Honest set-up: random-init real architectures (FLOPs do not depend on the weights), real images.
(a) micview ``embed_project`` with open_clip ViT-B-32 vs the reference notebook's loop (open image →
    ``transformers.CLIPProcessor`` → ``CLIPModel.get_image_features``, one image at a time, fp32) with a
    transformers ViT-B/32 CLIP — same architecture, same FLOPs.
(b) micview end-to-end vs the pure model forward on pre-decoded tensors, same precision and batch size:
    how much of the decoding the prefetch threads hide.

Made for a shared, loaded machine: all three run in this one process with the same torch thread count
(``--threads``, default: every core), interleaved (baseline, micview, forward, baseline, …) ``--repeat`` times,
and each is reported as a median with its range, per wall second and per CPU second (all threads of this
process, decode threads included), with the load average over the run. Where other programs take the cores,
wall-clock ratios move with each side's share of them; the CPU-second ratios say what each side costs.
A last table times the decode alone (``load_square``) against the forward, per image, on one thread.

    python scripts/bench_embed.py [--n 128] [--images DIR] [--workers W] [--batch-size B] [--repeat R]
                                  [--threads T] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DEFAULT_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "data" / "miclib" / "images"


class Clock:
    """Wall and process CPU seconds of a block (CPU time counts every thread of this process)."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def vit_b32_embedder():  # micview Embedder around a random-init open_clip ViT-B-32
    import open_clip
    import torch

    from micview.ml.embedder import Embedder, Preprocess
    from micview.ml.registry import ModelSpec

    torch.manual_seed(0)
    model = open_clip.create_model("ViT-B-32", pretrained=None)
    spec = ModelSpec("bench-vit-b-32", "open_clip", 512, True)
    pp = Preprocess(224, open_clip.OPENAI_DATASET_MEAN, open_clip.OPENAI_DATASET_STD)
    return Embedder(spec, pp, [model], model.encode_image, None, "random-init")


class Baseline:
    """The notebook's loop: per image, PIL → CLIPProcessor → get_image_features, fp32."""

    def __init__(self, files: list[Path]) -> None:
        import torch
        from PIL import Image
        from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

        torch.manual_seed(0)
        self.files = files
        self.model = CLIPModel(CLIPConfig()).eval()  # default config = ViT-B/32 vision tower, 224 px
        self.processor = CLIPImageProcessor()  # what CLIPProcessor(images=...) runs; the tokenizer is unused
        self.open = Image.open
        self.run_one(files[0])  # warm-up

    def run_one(self, path: Path) -> None:
        import torch

        with torch.no_grad():
            inputs = self.processor(images=self.open(path).convert("RGB"), return_tensors="pt")
            self.model.get_image_features(**inputs)

    def run(self) -> Clock:
        with Clock() as clock:
            for f in self.files:
                self.run_one(f)
        return clock


class Micview:
    """``embed_project`` over a fresh copy of a project imported once (the import is not timed)."""

    def __init__(self, files: list[Path], tmp: Path, embedder, batch: int, workers: int) -> None:
        from micview.core.importer import add_folder
        from micview.core.store import Project
        from micview.core.tasks import run_task

        folder = tmp / "images"
        folder.mkdir()
        for f in files:
            shutil.copy(f, folder / f.name)
        self.imported = tmp / "imported.micview"
        with Project.create(self.imported) as project:
            run_task(add_folder(project, folder, workers=1))
        self.embedder, self.batch, self.workers, self.k = embedder, batch, workers, 0

    def run(self) -> Clock:
        from micview.core.store import Project
        from micview.core.tasks import run_task
        from micview.ml.embedding import embed_project

        self.k += 1
        path = Path(shutil.copy(self.imported, self.imported.with_name(f"run{self.k}.micview")))
        with Project.open(path) as project, Clock() as clock:
            task = embed_project(
                project, self.embedder.id, batch_size=self.batch, workers=self.workers, embedder=self.embedder
            )
            summary = run_task(task)
        assert summary.embedded > 0 and not summary.failed, summary.failed[:3]
        self.precision = summary.precision
        return clock


class Forward:
    """Model forward only, on tensors decoded and normalised beforehand; same precision and batch."""

    def __init__(self, files: list[Path], embedder, batch: int) -> None:
        from micview.ml.preprocess import load_square

        pixels = np.stack([load_square(f, embedder.preprocess.size) for f in files])
        self.tensors = [embedder._to_input(pixels[i : i + batch]) for i in range(0, len(pixels), batch)]
        self.embedder = embedder
        embedder.encode_tensor(self.tensors[0])

    def run(self) -> Clock:
        with Clock() as clock:
            for t in self.tensors:
                self.embedder.encode_tensor(t)
        return clock


def decode_vs_forward(files: list[Path], embedder, batch: int) -> tuple[float, float]:
    """CPU milliseconds per image on one thread: ``load_square`` alone, and the forward alone."""
    import torch

    from micview.ml.preprocess import load_square

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with Clock() as dec:
            pixels = np.stack([load_square(f, embedder.preprocess.size) for f in files])
        tensor = embedder._to_input(pixels[:batch])
        embedder.encode_tensor(tensor)
        with Clock() as fwd:
            embedder.encode_tensor(tensor)
    finally:
        torch.set_num_threads(threads)
    return 1e3 * dec.cpu / len(files), 1e3 * fwd.cpu / len(pixels[:batch])


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):7.1f} [{min(values):6.1f} -{max(values):6.1f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=128)
    ap.add_argument("--images", type=Path, default=DEFAULT_IMAGES)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--threads", type=int, default=None, help="torch threads for every contender (default: cores)")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved repeats; medians and ranges are shown")
    args = ap.parse_args()
    import torch

    from micview.ml.device import choose
    from micview.ml.embedding import default_workers

    if args.threads:
        torch.set_num_threads(args.threads)
    files = sorted(args.images.glob("*.jpg"))[: args.n]
    workers = default_workers() if args.workers is None else args.workers
    device, precision = choose(None, None)
    embedder = vit_b32_embedder().place(device, precision)
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        contenders = {} if args.skip_baseline else {"baseline": Baseline(files)}
        contenders["micview"] = Micview(files, Path(tmp), embedder, args.batch_size, workers)
        contenders["forward"] = Forward(files, embedder, args.batch_size)
        wall: dict[str, list[float]] = {k: [] for k in contenders}
        cpu: dict[str, list[float]] = {k: [] for k in contenders}
        for _ in range(args.repeat):
            for key, contender in contenders.items():
                clock = contender.run()
                wall[key].append(len(files) / clock.wall)
                cpu[key].append(len(files) / clock.cpu)
            loads.append(os.getloadavg()[0])
        prec = contenders["micview"].precision  # type: ignore[attr-defined]
    dec_ms, fwd_ms = decode_vs_forward(files, embedder, args.batch_size)
    names = {
        "baseline": "(a) per-image loop, transformers CLIP fp32",
        "micview": f"(a,b) micview embed_project, {prec}, batch {args.batch_size}, {workers} decode thr.",
        "forward": f"(b) pure forward on pre-decoded tensors, {prec}, batch {args.batch_size}",
    }
    print(f"\n$ {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"{len(files)} images from {args.images}; device {device}; torch threads {torch.get_num_threads()}; ")
    print(f"{args.repeat} interleaved repeats; load average (1 min) during the run {min(loads):.1f} - {max(loads):.1f}")
    print(f"\n{'median [range]':66} {'images/s (wall)':>22} {'images/CPU-s':>22}")
    for key in contenders:
        print(f"{names[key]:66} {spread(wall[key]):>22} {spread(cpu[key]):>22}")
    print()
    for label, rates in (("wall", wall), ("CPU ", cpu)):
        if "baseline" in rates:
            ratios = [m / b for m, b in zip(rates["micview"], rates["baseline"], strict=True)]
            print(f"micview / per-image loop ({label}): {spread(ratios)}  (goal >= 8x)")
        ratios = [m / f for m, f in zip(rates["micview"], rates["forward"], strict=True)]
        print(f"micview / pure forward   ({label}): {statistics.median(ratios):7.2f} "
              f"[{min(ratios):.2f} - {max(ratios):.2f}]  (goal >= 0.95)")  # fmt: skip
    print(f"\none thread, CPU ms per image: decode (load_square) {dec_ms:.1f}, forward {fwd_ms:.1f} ({prec})")


if __name__ == "__main__":
    main()
