"""The one model cache: loads once, LRU per kind, thread-safe, unload calls the model's own unload()."""

from __future__ import annotations

import threading
import time
import weakref

from micview.ml.model_cache import ModelCache


class Fake:
    def __init__(self, name: str) -> None:
        self.name, self.unloaded = name, False

    def unload(self) -> None:
        self.unloaded = True


def test_loads_once_and_evicts_the_least_recently_used_per_kind() -> None:
    cache, loads = ModelCache({"embedder": 2, "vlm": 1}), []

    def loader(name: str):
        return lambda: loads.append(name) or Fake(name)

    a = cache.get("embedder", "a", loader("a"))
    assert cache.get("embedder", "a", loader("a")) is a and loads == ["a"]
    cache.get("embedder", "b", loader("b"))
    cache.get("embedder", "a", loader("a"))  # a is now the most recently used
    vlm = cache.get("vlm", "v", loader("v"))
    cache.get("embedder", "c", loader("c"))  # evicts b, not a; the VLM is another kind
    assert [k[1] for k in cache.loaded("embedder")] == ["a", "c"] and cache.peek("vlm", "v") is vlm
    other = cache.get("vlm", "w", loader("w"))
    assert vlm.unloaded and cache.peek("vlm", "v") is None and not other.unloaded


def test_unload_frees_the_model() -> None:
    cache = ModelCache()
    ref = weakref.ref(cache.get("vlm", "v", lambda: Fake("v")))
    assert ref() is not None
    assert cache.unload("vlm") == 1 and cache.loaded() == []
    assert ref() is None


def test_two_threads_asking_at_once_load_one_copy() -> None:
    cache, calls = ModelCache(), []

    def slow() -> Fake:
        calls.append(1)
        time.sleep(0.05)
        return Fake("x")

    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("embedder", "x", slow))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len({id(g) for g in got}) == 1


def test_embedder_through_the_registry_is_shared(tmp_path, monkeypatch) -> None:
    import micview.ml.registry as registry

    made = []
    monkeypatch.setattr(registry, "load_embedder", lambda mid, device=None: made.append((mid, device)) or Fake(mid))
    cache = ModelCache()
    assert cache.embedder("m", "auto") is cache.embedder("m", "auto")
    assert made == [("m", None)]
    cache.embedder("m", "cpu")  # another device is another entry (evicting the first: capacity 1)
    assert made[-1] == ("m", "cpu") and [k[2] for k in cache.loaded()] == ["cpu"]
