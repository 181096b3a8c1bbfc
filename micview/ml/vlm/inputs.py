"""From project images and conversations to model inputs.

Images are read the way every other micview view reads them (``read_display``: contrast-stretched 8-bit, 16-bit
and float data included) and downscaled so the longest side is at most ``max_side`` pixels. The size bounds the
number of image tokens, which dominates a VLM's time per image (Qwen-VL spends one token per 28×28 pixels).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from micview.core.store import ImageRow, Project
from micview.ml.vlm.errors import ImageNotInProjectError
from micview.ml.vlm.model import VisionLanguageModel
from micview.ml.vlm.prompts import Conversation

DEFAULT_MAX_SIDE = 768


def find_image(project: Project, name: str | int) -> ImageRow:
    """An image of the project by id, stored path, path on disk, or unique file name."""
    if isinstance(name, int):
        try:
            return project.images.get(name)
        except KeyError:
            raise ImageNotInProjectError(f"{project.path}: there is no image with id {name}.") from None
    row = project.images.by_path(Path(name))
    if row is None:
        stored = str(name).replace("\\", "/").removeprefix("./")
        rows = [r for r in project.images.all() if r.path == stored or r.name == stored.rsplit("/", 1)[-1]]
        if len(rows) > 1:
            raise ImageNotInProjectError(f"'{name}' matches {len(rows)} images in the project; give its path.")
        row = rows[0] if rows else None
    if row is None:
        raise ImageNotInProjectError(
            f"'{name}' is not an image of {project.path.name}. Add it first with `micview add`, or give the path "
            "as listed by `micview export`."
        )
    return row


def load_pil(project: Project, row: ImageRow, max_side: int = DEFAULT_MAX_SIDE) -> Any:
    """The image as an RGB PIL image, longest side at most ``max_side``."""
    from PIL import Image

    from micview.core.imaging import read_display

    arr = read_display(project.resolve(row.path), max_size=max_side)
    return Image.fromarray(arr).convert("RGB")


def encode(vlm: VisionLanguageModel, conversations: Sequence[Conversation]) -> Any:
    """Batch of conversations → model inputs on the model's device, left-padded, ending at the answer."""
    inputs = vlm.processor.apply_chat_template(
        list(conversations),
        add_generation_prompt=True,
        tokenize=True,
        return_dict=True,
        return_tensors="pt",
        processor_kwargs={"padding": True},
    )
    return inputs.to(vlm.model.device)


def floating_inputs(vlm: VisionLanguageModel, inputs: Any) -> Any:
    """Cast pixel tensors to the model's dtype (processors return float32)."""
    dtype = vlm.model.dtype
    for key, value in inputs.items():
        if hasattr(value, "is_floating_point") and value.is_floating_point():
            inputs[key] = value.to(dtype)
    return inputs
