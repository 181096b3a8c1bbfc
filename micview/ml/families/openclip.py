"""open_clip models (OpenAI/LAION CLIP, BiomedCLIP, ...) from a folder with ``open_clip_config.json``.

open_clip builds the network from the folder's config (``local-dir:`` schema, ``load_weights=False``) and
micview reads the weights itself (:mod:`micview.ml.checkpoint`): open_clip's own loader retries a failed
safe ``torch.load`` with a bare one, which runs pickled code when ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` is set.
The state dict then gets the same fixes open_clip applies (third-party layouts, old text-tower names, scalar
logit scale, position-embedding resize). The tokenizer comes from open_clip itself (its BPE vocabulary ships
in the package) or, for HF-tokenizer models such as BiomedCLIP, from files in the folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from micview.ml.checkpoint import read_weights
from micview.ml.detect import weight_files
from micview.ml.embedder import Embedder, Preprocess
from micview.ml.errors import ModelError
from micview.ml.registry import ModelSpec
from micview.ml.weights import weights_hash

# open_clip's own preference among the files of a folder (factory._find_checkpoint_in_dir).
PREFERRED = (
    "open_clip_model.safetensors", "open_clip_pytorch_model.safetensors", "open_clip_pytorch_model.bin",
    "open_clip_pytorch_model.pth", "model.safetensors", "pytorch_model.bin", "pytorch_model.pth", "model.pth",
)  # fmt: skip


def checkpoint_file(folder: Path) -> Path:
    """The weights file open_clip would pick: a preferred name, else the first ``.safetensors``, else any."""
    files = weight_files(folder)
    by_name = {p.name: p for p in files}
    for name in PREFERRED:
        if name in by_name:
            return by_name[name]
    files.sort(key=lambda p: p.suffix != ".safetensors")
    if not files:
        raise ModelError(f"{folder}: no weights file (*.safetensors, *.bin, *.pth) in this folder.")
    return files[0]


def _fit(model: Any, sd: dict[str, Any]) -> dict[str, Any]:
    """open_clip's ``load_checkpoint`` fixes, applied to a state dict micview read itself."""
    import torch
    from open_clip.convert import convert_state_dict
    from open_clip.model import convert_to_custom_text_state_dict, resize_pos_embed, resize_text_pos_embed

    sd = convert_state_dict(model, sd)
    if "positional_embedding" in sd and not hasattr(model, "positional_embedding"):
        sd = convert_to_custom_text_state_dict(sd)
    for key in ("logit_scale", "logit_bias"):
        own = getattr(model, key, None)
        if key in sd and own is not None and own.ndim != sd[key].ndim:
            sd[key] = sd[key].reshape(own.shape)
    if "logit_bias" not in sd and getattr(model, "logit_bias", None) is not None:
        sd["logit_bias"] = torch.zeros_like(sd["logit_scale"])
    sd.pop("text.transformer.embeddings.position_ids", None)
    resize_pos_embed(sd, model)
    resize_text_pos_embed(sd, model)
    return sd


def build(where: Path) -> tuple[Any, Any, Path]:
    """(model with its weights, tokenizer, the weights file read) for an open_clip folder."""
    import open_clip

    weights = checkpoint_file(where)
    sd = read_weights(weights)  # before anything else: an unsafe file is refused without building a model
    name = f"local-dir:{where}"
    try:
        model = open_clip.create_model(name, device="cpu", load_weights=False, pretrained_text=False)
        tokenizer = open_clip.get_tokenizer(name)
    except Exception as exc:  # open_clip raises bare RuntimeError/ValueError/FileNotFoundError
        raise ModelError(f"{where}: cannot build this open_clip model ({exc}).") from exc
    try:
        model.load_state_dict(_fit(model, sd), strict=True)
    except (RuntimeError, KeyError, ValueError) as exc:
        raise ModelError(f"{weights}: does not match the model in open_clip_config.json ({exc}).") from exc
    return model.eval(), tokenizer, weights


def load(spec: ModelSpec, where: Path) -> Embedder:
    model, tokenizer, weights = build(where)

    def image_forward(x: Any) -> Any:
        return model.encode_image(x)

    def text_forward(texts: Sequence[str], device: str) -> Any:
        return model.encode_text(tokenizer(list(texts)).to(device))

    return Embedder(spec, _preprocess(model), [model], image_forward, text_forward, weights_hash([weights]))


def _preprocess(model: Any) -> Preprocess:
    from open_clip.model import get_model_preprocess_cfg

    cfg = get_model_preprocess_cfg(model)
    size = cfg.get("size", 224)
    size = size[0] if isinstance(size, list | tuple) else size
    return Preprocess(int(size), tuple(cfg["mean"]), tuple(cfg["std"]))
