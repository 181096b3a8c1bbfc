"""open_clip models (OpenAI/LAION CLIP, BiomedCLIP, ...) from a folder with ``open_clip_config.json``.

Loaded through open_clip's ``local-dir:`` schema, so an HF-cache snapshot and a user's folder take the same
path. Weights: ``*.safetensors`` first; a ``.bin``/``.pth`` is read with ``torch.load(weights_only=True)``
(open_clip's default), which refuses pickled code. The tokenizer comes from open_clip itself (its BPE
vocabulary ships in the package) or, for HF-tokenizer models such as BiomedCLIP, from files in the folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from micview.ml.detect import weight_files
from micview.ml.embedder import Embedder, Preprocess
from micview.ml.errors import ModelError
from micview.ml.registry import ModelSpec
from micview.ml.weights import weights_hash


def _preprocess(model: Any) -> Preprocess:
    from open_clip.model import get_model_preprocess_cfg

    cfg = get_model_preprocess_cfg(model)
    size = cfg.get("size", 224)
    size = size[0] if isinstance(size, list | tuple) else size
    return Preprocess(int(size), tuple(cfg["mean"]), tuple(cfg["std"]))  # type: ignore[arg-type]


def load(spec: ModelSpec, where: Path) -> Embedder:
    import open_clip

    name = f"local-dir:{where}"
    try:
        model = open_clip.create_model(name, device="cpu", weights_only=True, require_pretrained=True)
        tokenizer = open_clip.get_tokenizer(name)
    except Exception as exc:  # open_clip raises bare RuntimeError/ValueError/FileNotFoundError
        raise ModelError(f"{where}: cannot load this open_clip model ({exc}).") from exc

    def image_forward(x: Any) -> Any:
        return model.encode_image(x)

    def text_forward(texts: Sequence[str], device: str) -> Any:
        return model.encode_text(tokenizer(list(texts)).to(device))

    files = [p for p in weight_files(where) if "open_clip" in p.name] or weight_files(where)
    return Embedder(spec, _preprocess(model), [model], image_forward, text_forward, weights_hash(files))
