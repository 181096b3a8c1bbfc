"""transformers CLIP, SigLIP and SigLIP 2 models (``AutoModel`` + ``AutoProcessor``) from a folder.

``trust_remote_code`` stays off: only architectures that ship with transformers load. Weights: ``*.safetensors``
through transformers; a folder with only ``.bin`` files has them read by micview (:mod:`micview.ml.hf_weights`),
so no environment variable or library fallback can make reading a model run code from it.

Text: CLIP pads to the longest prompt; SigLIP was trained on prompts padded to ``max_length`` (64), and
gives different vectors otherwise, so it is padded the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from micview.ml.detect import weight_files
from micview.ml.embedder import Embedder, Preprocess
from micview.ml.errors import ModelError
from micview.ml.hf_weights import from_folder
from micview.ml.registry import ModelSpec
from micview.ml.weights import weights_hash


def _preprocess(model: Any, image_processor: Any) -> Preprocess:
    """Input size from the model's own config (what its position embeddings expect); mean/std from the
    image processor."""
    size = int(model.config.vision_config.image_size)
    mean = tuple(getattr(image_processor, "image_mean", None) or (0.5, 0.5, 0.5))
    std = tuple(getattr(image_processor, "image_std", None) or (0.5, 0.5, 0.5))
    return Preprocess(size, mean, std)


def _features(out: Any) -> Any:
    """transformers 5 returns a model output with the projected vector in ``pooler_output``; 4.x a tensor."""
    return getattr(out, "pooler_output", out)


def load(spec: ModelSpec, where: Path) -> Embedder:
    from transformers import MODEL_MAPPING, AutoModel, AutoProcessor

    try:
        model = from_folder(AutoModel, MODEL_MAPPING, where, trust_remote_code=False)
        processor = AutoProcessor.from_pretrained(where, trust_remote_code=False, local_files_only=True)
    except ModelError:
        raise
    except Exception as exc:  # OSError/ValueError/KeyError from transformers: the folder is incomplete
        raise ModelError(f"{where}: cannot load this transformers model ({exc}).") from exc
    tokenizer = processor.tokenizer
    siglip = model.config.model_type.startswith("siglip")
    padding = "max_length" if siglip else True
    max_length = model.config.text_config.max_position_embeddings

    def image_forward(x: Any) -> Any:
        return _features(model.get_image_features(pixel_values=x))

    def text_forward(texts: Sequence[str], device: str) -> Any:
        tokens = tokenizer(
            list(texts), padding=padding, truncation=True, max_length=max_length, return_tensors="pt"
        ).to(device)
        if siglip:
            tokens.pop("attention_mask", None)  # SigLIP's text tower was trained without one
        return _features(model.get_text_features(**tokens))

    return Embedder(
        spec,
        _preprocess(model, processor.image_processor),
        [model],
        image_forward,
        text_forward,
        weights_hash(weight_files(where)),
    )
