"""Approximate candidates for search in large projects: an 8-bit quantized faiss scan, re-ranked exactly.

Why this index: at 1M × 512 the exact float32 scan reads 2 GB per query (memory-bound: 0.05–0.25 s here).
An 8-bit scalar-quantized copy (``faiss.IndexScalarQuantizer``, one uniform range) is a quarter of that and
faiss scans it with SIMD, split in one shard per core so a single query uses every core; its top ~64
candidates are then re-ranked with the exact vectors (:class:`micview.core.search.VectorIndex`). Unlike graph
(HNSW) or cluster (IVF) indexes its recall does not depend on the data having structure — random unit vectors,
the worst case for those, keep recall@10 = 1.0 in ``scripts/bench_search.py`` — it needs no slow build (about
one second per million vectors, less than reading the vectors from the project), and adding or removing
images is exact and cheap. faiss-cpu: MIT, one self-contained wheel.

The index is a **cache**, never the data: :func:`attach` loads the sidecar file beside the project only after
checking it holds exactly the index's ids and that sampled rows still decode to the stored vectors; anything
else (missing, stale, corrupt, another faiss) is repaired incrementally or rebuilt from the embeddings.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from micview.core.search import VectorIndex

APPROXIMATE_FROM = 50_000  # rows; below, the exact scan takes < ~10 ms on 2 cores (scripts/bench_search.py)
FORMAT = "sq8-uniform-v1"
_CHECK_ROWS = 32  # rows decoded and compared with the stored vectors when a sidecar file is loaded


def _shard_count() -> int:
    return max(1, min(8, os.cpu_count() or 1))


class QuantizedIndex:
    """Unit vectors (inner product) in 8-bit codes, sharded by ``id % shards``; ids are image ids.

    Thread-safety: search from one thread at a time per index (the GUI's search job does).
    """

    def __init__(
        self, dim: int, shards: int | None = None, *, limit: float = 1.0, _parts: list[Any] | None = None
    ) -> None:
        import faiss

        self.dim = dim
        self._parts: list[Any] = _parts or [_new_part(dim, limit) for _ in range(shards or _shard_count())]
        self._shards: Any = faiss.IndexShards(dim, True, False)  # type: ignore[call-arg]  # threaded: one query searches every shard at once
        for part in self._parts:
            self._shards.add_shard(part)

    @classmethod
    def build(cls, ids: np.ndarray, vectors: np.ndarray, shards: int | None = None) -> QuantizedIndex:
        """Codes span ±(1.1 × the largest |component| in a sample), so 256 levels cover the data, not ±1."""
        sample = vectors[:: max(1, len(vectors) // 100_000)]
        limit = min(1.0, 1.1 * float(np.abs(sample).max())) if len(sample) else 1.0
        index = cls(vectors.shape[1], shards, limit=limit or 1.0)
        index.add(ids, vectors)
        return index

    @property
    def range(self) -> tuple[float, float]:
        """(lowest, highest) value the codes represent; components outside are clipped to it."""
        import faiss

        quantizer: Any = faiss.downcast_index(self._parts[0].index)
        vmin, vdiff = faiss.vector_to_array(quantizer.sq.trained)[:2]
        return float(vmin), float(vmin + vdiff)

    def __len__(self) -> int:
        return int(sum(p.ntotal for p in self._parts))

    def ids(self) -> np.ndarray:
        import faiss

        return np.concatenate([faiss.vector_to_array(p.id_map) for p in self._parts]).astype(np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add unit-length rows; an id already present is replaced."""
        ids = np.asarray(ids, np.int64)
        self.remove(ids)
        vectors = np.ascontiguousarray(vectors, np.float32)
        for s, part in enumerate(self._parts):
            mine = ids % len(self._parts) == s
            if mine.any():
                part.add_with_ids(vectors[mine], ids[mine])
        self._shards.syncWithSubIndexes()

    def remove(self, ids: np.ndarray) -> None:
        import faiss

        ids = np.asarray(ids, np.int64)
        for s, part in enumerate(self._parts):
            mine = ids[ids % len(self._parts) == s]
            if len(mine) and part.ntotal:
                part.remove_ids(faiss.IDSelectorBatch(mine))
        self._shards.syncWithSubIndexes()

    def candidates(self, query: np.ndarray, n: int) -> np.ndarray:
        n = min(n, len(self))
        if n <= 0:
            return np.zeros(0, np.int64)
        _, found = self._shards.search(np.asarray(query, np.float32).reshape(1, -1), n)
        out: np.ndarray = found[0][found[0] >= 0].astype(np.int64)
        return out

    def decoded(self, ids: np.ndarray) -> np.ndarray:
        """The quantized rows of ``ids`` decoded back to float32 (to check a loaded file)."""
        out = np.empty((len(ids), self.dim), np.float32)
        for r, i in enumerate(np.asarray(ids, np.int64)):
            out[r] = self._parts[int(i) % len(self._parts)].reconstruct(int(i))
        return out

    def to_bytes(self) -> dict[str, np.ndarray]:
        import faiss

        return {f"part{s}": faiss.serialize_index(p) for s, p in enumerate(self._parts)}

    @classmethod
    def from_bytes(cls, dim: int, arrays: dict[str, np.ndarray]) -> QuantizedIndex:
        import faiss

        parts = [faiss.deserialize_index(arrays[f"part{s}"]) for s in range(len(arrays))]
        return cls(dim, _parts=parts)


def _new_part(dim: int, limit: float) -> Any:
    import faiss

    sq = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit_uniform, faiss.METRIC_INNER_PRODUCT)
    # one symmetric range for all dimensions, fixed at build: vectors added later are coded on the same scale
    # (a rare larger component is clipped, which only lowers that row's candidate score; re-ranking is exact)
    sq.train(np.array([[-limit] * dim, [limit] * dim], np.float32))
    return faiss.IndexIDMap2(sq)


def cache_dir(project_path: Path) -> Path:
    """``<project>.cache/`` beside the project file: re-creatable caches only (search index, map reducers)."""
    return project_path.with_name(project_path.name + ".cache")


def sidecar_path(project_path: Path, model_id: str) -> Path:
    """``<project>.cache/ann-<model>.npz`` (safe to delete: rebuilt from the embeddings)."""
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in model_id)
    return cache_dir(project_path) / f"ann-{slug}.npz"


def save(index: QuantizedIndex, path: Path, fingerprint: str) -> bool:
    """Write atomically (temp file + rename); ``False`` when the folder is not writable (the cache is optional)."""
    meta = json.dumps({"format": FORMAT, "dim": index.dim, "fingerprint": fingerprint})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            arrays: dict[str, Any] = {"meta": np.frombuffer(meta.encode(), np.uint8), **index.to_bytes()}
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return True
    except OSError:
        Path(tmp).unlink(missing_ok=True) if "tmp" in locals() else None
        return False


def load(path: Path) -> tuple[QuantizedIndex, str] | None:
    """The index and the fingerprint it was saved with, or ``None`` for a missing or unreadable file."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            if meta.get("format") != FORMAT:
                return None
            parts = {k: z[k] for k in z.files if k.startswith("part")}
        return QuantizedIndex.from_bytes(int(meta["dim"]), parts), str(meta["fingerprint"])
    except Exception:  # any damage (truncated zip, faiss refusing the bytes) means: rebuild
        return None


def fingerprint(model_id: str, dim: int) -> str:
    return hashlib.blake2b(f"{FORMAT}:{model_id}:{dim}".encode(), digest_size=8).hexdigest()


def agrees(index: QuantizedIndex, vectors: VectorIndex) -> bool:
    """Sampled rows of ``index`` decode to the exact vectors (within one 8-bit step), so they are not stale."""
    rng = np.random.default_rng(len(vectors))
    sample = rng.choice(vectors.ids, min(_CHECK_ROWS, len(vectors)), replace=False)
    low, high = index.range
    exact = np.clip(np.stack([vectors.vector(int(i)) for i in sample]), low, high)
    return bool(np.abs(index.decoded(sample) - exact).max() <= (high - low) / 255 + 1e-6)


def attach(vectors: VectorIndex, model_id: str, cache: Path | None = None) -> QuantizedIndex:
    """Give ``vectors`` its approximate index: from ``cache`` when it is right, repaired or rebuilt otherwise.

    The stored file is used only after checking: its fingerprint (format, model, dimension), the exact set of
    ids (missing ones are added, extra ones removed — the incremental path after more images were embedded),
    and a sample of decoded rows against the vectors. The result is written back when it changed.
    """
    key = fingerprint(model_id, vectors.dim)
    loaded = load(cache) if cache is not None and cache.is_file() else None
    index: QuantizedIndex | None = None
    changed = True
    if loaded is not None and loaded[1] == key and loaded[0].dim == vectors.dim:
        index = loaded[0]
        have, want = index.ids(), vectors.ids
        extra, missing = np.setdiff1d(have, want), np.setdiff1d(want, have)
        index.remove(extra)
        if len(missing):
            index.add(missing, np.stack([vectors.vector(int(i)) for i in missing]))
        changed = bool(len(extra) or len(missing))
        if len(index) != len(vectors) or not agrees(index, vectors):
            index = None
    if index is None:
        index, changed = QuantizedIndex.build(vectors.ids, vectors.matrix.astype(np.float32)), True
    if changed and cache is not None:
        save(index, cache, key)
    vectors.approximate = index
    return index
