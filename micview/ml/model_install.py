"""Installing models: what is on this computer, pulling a recommended one, adding a folder, removing one.

One set of functions for the GUI's Models dialog and ``micview models``: pulling and adding are tasks (progress,
cancel) because a download takes minutes and hashing a large checkpoint seconds. Nothing here loads a model.
Offline, pulling fails at once with the commands to run on a computer with internet and how to bring the
folder over, never with a hang.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from micview.core.tasks import Progress, Task
from micview.ml import config, registry
from micview.ml.errors import ModelError
from micview.ml.registry import ModelSpec

MB = 1 << 20
KINDS = {"vlm": "vision-language (ask, describe)", "marco": "crystal drop scores"}


@dataclass(frozen=True, slots=True)
class InstalledModel:
    """A model as the Models dialog lists it."""

    spec: ModelSpec
    folder: Path | None  # where its weights are on this computer; None: not downloaded
    size_bytes: int | None
    builtin: bool  # built in (or in the app): cannot be removed

    @property
    def offline(self) -> bool:
        return self.folder is not None

    @property
    def default(self) -> bool:
        return self.spec.id == registry.DEFAULT_MODEL

    @property
    def kind(self) -> str:
        return kind_of(self.spec)


def kind_of(spec: ModelSpec) -> str:
    """What a model is for, in a user's words: "text + image", "image only", or a special use."""
    if spec.family in KINDS:
        return KINDS[spec.family]
    return "text + image" if spec.has_text else "image only"


def folder_size(path: Path) -> int:
    """Bytes of the files under ``path`` (links followed: the HF cache links its snapshots to blobs)."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for p in path.rglob("*"):
        try:
            if p.is_file() and "__pycache__" not in p.parts:
                total += p.stat().st_size
        except OSError:  # a broken link or a file that vanished: not part of the model
            continue
    return total


def installed() -> list[InstalledModel]:
    """Every model micview knows, with where its weights are and their size on disk (no network, no loading)."""
    builtin = {s.id for s in registry.BUILTIN}
    out = []
    for spec in registry.all_models():
        folder = registry.locate(spec)
        size = folder_size(folder) if folder is not None else None
        out.append(InstalledModel(spec, folder, size, spec.id in builtin or _bundled(spec)))
    return out


def _bundled(spec: ModelSpec) -> bool:
    from micview.core.resources import bundled_models_dir

    root = bundled_models_dir()
    return root is not None and spec.path is not None and Path(spec.path).is_relative_to(root)


def recommended() -> list[tuple[registry.Recommendation, bool]]:
    """The tested text-image models (``micview models recommend``), each with whether it is offline already."""
    return [(r, registry.locate(registry.get_spec(r.model_id)) is not None) for r in registry.RECOMMENDED]


# -- pull ----------------------------------------------------------------------------------------------------------
def offline_help(spec: ModelSpec) -> str:
    """How to get ``spec`` onto a computer without internet: the commands for a connected PC, then the copy."""
    repo = spec.repo_id or ""
    folder = repo.rsplit("/", 1)[-1] or spec.id
    return (
        f"To bring {spec.id} here from a computer with internet:\n"
        f"1. There, run `micview models pull {spec.id} --to {folder}` (without micview: `pip install "
        f"huggingface_hub`, then `hf download {repo} --local-dir {folder}`).\n"
        f"2. Copy the {folder} folder to this computer (USB stick, network share).\n"
        f"3. Here, add it: Models… ▸ Add folder…, or `micview models add {folder}`."
    )


def pull_task(model_id: str, to: Path | None = None) -> Task[Path]:
    """Download ``model_id`` (sha256-checked) into the HF cache, or into the folder ``to``; its folder.

    Models that ship in a package are already here (their folder is returned). A failure (offline, no
    connection, a damaged file) raises :class:`ModelError` whose message ends with :func:`offline_help`.
    """
    from micview.ml.hub_download import download_task

    spec = registry.get_spec(model_id)
    if spec.repo_id is None:
        return registry.require(spec)
    try:
        return (yield from download_task(spec.repo_id, local_dir=to))
    except ModelError as exc:
        raise ModelError(f"{exc}\n\n{offline_help(spec)}") from exc


# -- add a folder --------------------------------------------------------------------------------------------------
def add_folder_task(path: str | Path, model_id: str | None = None) -> Task[ModelSpec]:
    """Register a model folder as ``micview models add PATH`` does, hashing its weights first (with progress).

    The family is detected from the folder's files before anything is hashed, so a folder that is not a
    model is refused at once; the weights hash is then cached for the recipes of later embedding runs.
    """
    from micview.ml.detect import describe_folder, weight_files

    folder = Path(path).expanduser().resolve()
    describe_folder(folder)
    model_id = model_id or folder_id(folder)
    _check_id(model_id)
    files = weight_files(folder)
    total = max(1, sum(f.stat().st_size for f in files) // MB)
    done = 0
    for f in files:
        try:
            for got in _hash_chunks(f):
                yield Progress((done + got) // MB, total, f"Checking {f.name}")
            done += f.stat().st_size
        except OSError as exc:  # the folder was moved or unplugged while it was read
            raise ModelError(f"Cannot read {f}: {exc.strerror or exc}. Nothing was added.") from exc
    from micview.ml.weights import weights_hash

    weights_hash(files)  # the per-file digests are cached now: this only combines them
    return registry.register_folder(folder, model_id)


def folder_id(folder: Path) -> str:
    """The id a folder gets: its name as ``micview models add`` makes it, with ``-local`` if a built-in has it.

    (A folder downloaded as offline_help says is named after its hub repository, which no built-in id is.)
    """
    model_id = registry._slug(folder.name)
    return f"{model_id}-local" if any(s.id == model_id for s in registry.BUILTIN) else model_id


def _check_id(model_id: str) -> None:
    if any(s.id == model_id for s in registry.BUILTIN):
        raise ModelError(f"'{model_id}' is the id of a built-in model; give the folder another id.")


def _hash_chunks(path: Path) -> Iterator[int]:
    """Hash ``path`` into the weights-hash cache, yielding the bytes read so far (a cache hit yields nothing)."""
    from micview.ml.weights import cache_key

    key = cache_key(path)
    cache = config.read_json(config.HASH_CACHE_FILE)
    if key in cache:
        return
    h, got = hashlib.sha256(), 0
    with path.open("rb") as stream:
        while chunk := stream.read(4 * MB):
            h.update(chunk)
            got += len(chunk)
            yield got
    cache = config.read_json(config.HASH_CACHE_FILE)
    cache[key] = h.hexdigest()
    with contextlib.suppress(OSError):  # a read-only config dir only costs hashing again later
        config.write_json(config.HASH_CACHE_FILE, cache)


# -- remove --------------------------------------------------------------------------------------------------------
def remove(model_id: str) -> ModelSpec:
    """Forget a model added from a folder (its files stay); built-in models cannot be removed."""
    if any(s.id == model_id for s in registry.BUILTIN):
        raise ModelError(f"'{model_id}' is built in and cannot be removed; only models added from a folder can.")
    spec = next((s for s in registry.all_models() if s.id == model_id), None)
    if spec is None or spec.path is None or _bundled(spec):
        raise ModelError(f"'{model_id}' was not added from a folder, so there is nothing to remove.")
    registry.unregister(model_id)
    return spec
