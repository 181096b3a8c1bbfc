"""Image statistics kept in the project, keyed by content hash, computed once per image content.

Stored as runs (``kind='image_stats'``, key :data:`STATS_KEY`) whose arrays are written in chunks while the
computation runs (``00003:blur`` …), each chunk in its own transaction before progress is reported: a cancel
or a crash keeps the finished chunks, and the next run computes only what is still missing. A change of the
algorithm bumps :data:`~micview.core.quality.imagestats.ALGORITHM_VERSION`, hence the key, so old values are
ignored rather than mixed with new ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from micview.core.quality.imagestats import ALGORITHM_VERSION, HASH_SIDE, STATS_SIDE, PixelStats, image_stats
from micview.core.store import Project
from micview.core.tasks import Progress, Task

STATS_KEY = f"image_stats:v{ALGORITHM_VERSION}"
STAT_NAMES = ("blur", "brightness", "saturation", "entropy")
CHUNK_IMAGES = 2000


@dataclass(frozen=True, slots=True)
class StatsTable:
    """Statistics per image (rows aligned with ``image_ids``); NaN / ``hash_ok`` False where unknown."""

    image_ids: np.ndarray
    values: dict[str, np.ndarray]
    phash: np.ndarray
    hash_ok: np.ndarray


def _stored(project: Project) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """content hash → (4 stats, phash) from every stats run of the current algorithm."""
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    runs = [r.id for r in project.runs.all("image_stats") if r.key == STATS_KEY]
    for run_id in runs:
        names = [r[0] for r in project.con.execute("SELECT name FROM run_arrays WHERE run_id = ?", (run_id,))]
        for chunk in sorted({n.split(":")[0] for n in names}):
            hashes = project.runs.load_array(run_id, f"{chunk}:content_hash")
            values = project.runs.load_array(run_id, f"{chunk}:values")
            phash = project.runs.load_array(run_id, f"{chunk}:phash")
            for i, h in enumerate(hashes.tolist()):
                out[str(h)] = (values[i], phash[i])
    return out


def _pending(project: Project, have: set[str]) -> list[tuple[str, int]]:
    """(content hash, an image id with a thumbnail) for each content of an 'ok' image without statistics."""
    sql = (
        "SELECT i.content_hash, min(i.id) FROM images i JOIN thumbnails t ON t.image_id = i.id "
        "WHERE i.status = 'ok' AND i.content_hash IS NOT NULL GROUP BY i.content_hash ORDER BY min(i.id)"
    )
    return [(str(h), int(i)) for h, i in project.con.execute(sql) if h not in have]


def _thumbnails(project: Project, ids: list[int]) -> Iterator[bytes | None]:
    found: dict[int, bytes] = {}
    for s in range(0, len(ids), 500):
        part = ids[s : s + 500]
        sql = f"SELECT image_id, data FROM thumbnails WHERE image_id IN ({','.join('?' * len(part))})"
        found.update((int(i), bytes(d)) for i, d in project.con.execute(sql, part))
    return (found.get(i) for i in ids)


def _safe_stats(data: bytes | None) -> PixelStats | None:
    if data is None:
        return None
    try:
        return image_stats(data)
    except (OSError, ValueError, SyntaxError):  # a damaged thumbnail: unknown statistics, not a failed run
        return None


def compute_stats(project: Project, *, workers: int = 2) -> Task[int]:
    """Compute the statistics of every image content that has none yet; returns how many were computed."""
    yield Progress(0, 0, "Looking for images without statistics")
    todo = _pending(project, set(_stored(project)))
    if not todo:
        return 0
    params = {"source": "thumbnail", "side": STATS_SIDE, "hash_side": HASH_SIDE, "version": ALGORITHM_VERSION}
    run_id = project.runs.record("image_stats", STATS_KEY, "thumbnail_statistics", params, status="running")
    with ThreadPoolExecutor(max(1, workers)) as pool:  # Pillow's decoder and numpy release the GIL
        for c, s in enumerate(range(0, len(todo), CHUNK_IMAGES)):
            part = todo[s : s + CHUNK_IMAGES]
            stats = list(pool.map(_safe_stats, _thumbnails(project, [i for _, i in part]), chunksize=64))
            _save_chunk(project, run_id, c, [h for h, _ in part], stats)
            yield Progress(s + len(part), len(todo), "Image statistics")
    project.runs.set_status(run_id, "done")
    return len(todo)


def _save_chunk(project: Project, run_id: int, chunk: int, hashes: list[str], stats: list[PixelStats | None]) -> None:
    values = np.array(
        [[s.blur, s.brightness, s.saturation, s.entropy] if s else [np.nan] * 4 for s in stats], np.float32
    ).reshape(-1, 4)
    phash = np.array([s.phash if s else 0 for s in stats], np.uint64)
    with project.transaction():
        project.runs.save_array(run_id, f"{chunk:05d}:content_hash", np.array(hashes, dtype="U32"))
        project.runs.save_array(run_id, f"{chunk:05d}:values", values)
        project.runs.save_array(run_id, f"{chunk:05d}:phash", phash)


def stats_table(project: Project, image_ids: np.ndarray) -> StatsTable:
    """The stored statistics of ``image_ids`` (images never computed, or unreadable, are NaN)."""
    stored = _stored(project)
    hashes = dict(project.con.execute("SELECT id, content_hash FROM images"))
    n = len(image_ids)
    values = np.full((n, 4), np.nan, np.float32)
    phash = np.zeros(n, np.uint64)
    hash_ok = np.zeros(n, np.bool_)
    for r, image_id in enumerate(image_ids.tolist()):
        got = stored.get(hashes.get(image_id) or "")
        if got is not None:
            values[r], phash[r] = got
            hash_ok[r] = bool(np.isfinite(got[0]).all())
    return StatsTable(
        np.asarray(image_ids, np.int64), {k: values[:, i] for i, k in enumerate(STAT_NAMES)}, phash, hash_ok
    )
