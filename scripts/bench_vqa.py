"""Seconds per image for multiple choice: letter scoring vs generate-and-parse, same images, same model.

The model is an Idefics3 (SmolVLM's architecture) built from SmolVLM-256M's real sizes — SigLIP-B/16 vision
tower at 512 px (12 layers, 768 wide), pixel-shuffle ×4 (64 image tokens), SmolLM2-135M text model (30 layers,
576 wide, 49 280-token head) — with RANDOM weights and a small offline BPE tokenizer. Compute per token does
not depend on the weights, so the timings are those of the real model; the answers are meaningless. Images are
not split into tiles (the real SmolVLM processor adds up to 16 tiles of 64 tokens each at full resolution).
--small uses a 4-layer text model for a quick run.

Generate-and-parse is timed as the reference did it (up to 5 new tokens, greedy); the end-of-sequence token is
disabled so it always generates all 5, as a real model answering "A" then "<end>" would generate 2–5.

    python scripts/bench_vqa.py --images 16 --batch 1 4 8
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "ml"))


def build(folder: Path, small: bool) -> Path:
    import tiny_vlms
    import torch
    from transformers import Idefics3Config, Idefics3ForConditionalGeneration, Idefics3ImageProcessor, Idefics3Processor

    special = ["<|endoftext|>", "<|im_start|>", "<end_of_utterance>", "<fake_token_around_image>", "<image>",
               "<global-img>"]  # fmt: skip
    tok = tiny_vlms.bpe_tokenizer(special, eos="<end_of_utterance>", pad="<|endoftext|>")
    ids = {s: tok.convert_tokens_to_ids(s) for s in special}
    layers = 4 if small else 30
    text = {"vocab_size": 49280, "hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": layers,
            "num_attention_heads": 9, "num_key_value_heads": 3, "max_position_embeddings": 8192,
            "pad_token_id": ids["<|endoftext|>"], "eos_token_id": ids["<end_of_utterance>"],
            "bos_token_id": None}  # fmt: skip
    vision = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
              "image_size": 512, "patch_size": 16}  # fmt: skip
    cfg = Idefics3Config(text_config=text, vision_config=vision, scale_factor=4, image_token_id=ids["<image>"],
                         pad_token_id=ids["<|endoftext|>"], eos_token_id=ids["<end_of_utterance>"])  # fmt: skip
    torch.manual_seed(0)
    Idefics3ForConditionalGeneration(cfg).save_pretrained(folder)
    ip = Idefics3ImageProcessor(
        size={"longest_edge": 512}, max_image_size={"longest_edge": 512}, do_image_splitting=False
    )
    Idefics3Processor(ip, tok, image_seq_len=64, chat_template=tiny_vlms.IDEFICS_TEMPLATE).save_pretrained(folder)
    return folder


def images(n: int) -> list[Image.Image]:
    miclib = Path(__file__).resolve().parents[2] / "shared" / "data" / "miclib" / "images"
    files = sorted(miclib.glob("*.jpg"))[:n] if miclib.is_dir() else []
    if len(files) == n:
        return [Image.open(f).convert("RGB") for f in files]
    rng = np.random.default_rng(0)
    return [Image.fromarray((rng.random((480, 640, 3)) * 255).astype("uint8")) for _ in range(n)]


def timed(fn, items: list, batch: int) -> float:
    fn(items[:batch])  # warm-up
    start = time.perf_counter()
    for i in range(0, len(items), batch):
        fn(items[i : i + batch])
    return (time.perf_counter() - start) / len(items)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=16)
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--device", default=None)
    ap.add_argument("--precision", default=None)
    ap.add_argument("--small", action="store_true")
    args = ap.parse_args()
    from micview.ml.vlm import GenerationSettings, generate_texts, load_vlm, score_letters
    from micview.ml.vlm.prompts import mcq_conversation

    options = ["Scanning electron microscopy (SEM)", "Transmission electron microscopy (TEM)",
               "Atomic force microscopy (AFM)", "Reflected light microscopy"]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        vlm = load_vlm(
            build(Path(tmp) / "smolvlm-256m-random", args.small), device=args.device, precision=args.precision
        )
    vlm.model.generation_config.eos_token_id = None
    convs = [mcq_conversation(im, "Which microscopy technique was used?", options) for im in images(args.images)]
    print(f"model: Idefics3, SmolVLM-256M sizes, random weights, {vlm.info.n_params / 1e6:.0f} M parameters; "
          f"{vlm.device} {vlm.precision}; {len(convs)} images, {len(options)} options")  # fmt: skip
    for batch in args.batch:
        s_score = timed(lambda c: score_letters(vlm, c, [len(options)] * len(c)), convs, batch)
        s_gen = timed(lambda c: generate_texts(vlm, c, GenerationSettings(max_new_tokens=5)), convs, batch)
        print(f"batch {batch:3d}: letter scoring {s_score:.3f} s/image   generate-and-parse (5 tokens) "
              f"{s_gen:.3f} s/image   ratio {s_gen / s_score:.2f}×")  # fmt: skip


if __name__ == "__main__":
    main()
