"""One cache of loaded models for the whole process, shared by every job that needs one.

Why: loading a model costs seconds (a VLM, minutes on a slow disk) and gigabytes; search, embedding, the
Classify and VQA panels and plate scoring all ask for models, and each used to keep its own copy. Here a model
is loaded once per ``(kind, id, device)`` and reused by everyone until it is evicted or unloaded.

* Per kind (``embedder``, ``vlm``, ``classifier``) a small LRU: :data:`CAPACITY` entries (one by default), so
  an embedder and a VLM can stay loaded together but two VLMs never do.
* Thread-safe: one lock; a load runs under it, so two threads asking for the same model load it once. Model
  jobs run on one thread anyway (the GUI's model pool), so the lock is almost never contended.
* :meth:`ModelCache.unload` drops a model (or all); an evicted or unloaded entry's own ``unload()`` is called
  when it has one (VLMs return GPU memory that way).

Qt-free (the ``ml`` layer never imports Qt); torch is only touched when it is already imported.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
Key = tuple[str, str, str]  # (kind, id, device)
CAPACITY = {"embedder": 1, "vlm": 1, "classifier": 1}


class ModelCache:
    """Loaded models by ``(kind, id, device)``, least recently used evicted first (per kind)."""

    def __init__(self, capacity: dict[str, int] | None = None) -> None:
        self.capacity = dict(capacity or CAPACITY)
        self._entries: OrderedDict[Key, Any] = OrderedDict()
        self._lock = threading.RLock()

    def get(self, kind: str, model_id: str, load: Callable[[], T], device: str = "") -> T:
        """The cached object for ``(kind, model_id, device)``, calling ``load()`` the first time."""
        key = (kind, model_id, device)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]  # type: ignore[no-any-return]
            self._make_room(kind)
            value = load()
            self._entries[key] = value
            return value

    def embedder(self, model_id: str, device: str = "auto") -> Any:
        """An embedder (:func:`micview.ml.registry.load_embedder`; feature ids like ``x+texture`` too)."""
        from micview.ml.registry import load_embedder

        dev = None if device in ("", "auto") else device
        return self.get("embedder", model_id, lambda: load_embedder(model_id, device=dev), device)

    def vlm(self, name: str, device: str = "auto") -> Any:
        """A vision-language model (:func:`micview.ml.vlm.load_vlm`) from a folder, an id or the HF cache."""
        from micview.ml.vlm import load_vlm

        dev = None if device in ("", "auto") else device
        return self.get("vlm", name, lambda: load_vlm(name, device=dev), device)

    def classifier(self, key: str, build: Callable[[], T]) -> T:
        """A trained classifier kept between calls (e.g. the live few-shot model of one task and model)."""
        return self.get("classifier", key, build)

    def peek(self, kind: str, model_id: str, device: str = "") -> Any:
        """The cached object, or ``None`` (never loads)."""
        with self._lock:
            return self._entries.get((kind, model_id, device))

    def loaded(self, kind: str | None = None) -> list[Key]:
        with self._lock:
            return [k for k in self._entries if kind is None or k[0] == kind]

    def unload(self, kind: str | None = None, model_id: str | None = None) -> int:
        """Drop the matching entries (all with no arguments); returns how many were dropped."""
        with self._lock:
            keys = [k for k in self._entries if kind in (None, k[0]) and model_id in (None, k[1])]
            for key in keys:
                _release(self._entries.pop(key))
        if keys:
            _collect()
        return len(keys)

    def _make_room(self, kind: str) -> None:
        same = [k for k in self._entries if k[0] == kind]
        evicted = same[: max(0, len(same) - self.capacity.get(kind, 1) + 1)]
        for key in evicted:
            _release(self._entries.pop(key))
        if evicted:
            _collect()


def _release(value: Any) -> None:
    unload = getattr(value, "unload", None)
    if callable(unload):
        unload()


def _collect() -> None:
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


_SHARED = ModelCache()


def shared() -> ModelCache:
    """The process-wide cache every job uses."""
    return _SHARED
