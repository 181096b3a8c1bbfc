"""2-D maps: PCA/UMAP shapes, caching per model and parameters with ids, and UMAP in a worker process."""

from __future__ import annotations

import numpy as np
import pytest

from micview.core.store import Project
from micview.core.tasks import run_task
from micview.ml.maps import cached_map, compute_map, map_key, map_task


def fake_embeddings(project: Project, model_id: str = "fake", dim: int = 16) -> np.ndarray:
    rows = project.images.all(status="ok")
    hashes = list(dict.fromkeys(r.content_hash for r in rows))
    vectors = np.random.default_rng(0).normal(size=(len(hashes), dim)).astype(np.float32)
    project.embeddings.put(model_id, hashes, vectors)
    return vectors


def test_compute_map_shapes() -> None:
    vectors = np.random.default_rng(1).normal(size=(50, 8))
    xy = compute_map(vectors, "pca")
    assert xy.shape == (50, 2) and xy.dtype == np.float32
    assert xy[:, 0].var() >= xy[:, 1].var()  # the first component carries the most variance
    assert compute_map(vectors[:2], "pca").shape == (2, 2)
    with pytest.raises(ValueError, match="unknown map method"):
        compute_map(vectors, "tsne")


def test_map_is_cached_with_ids_and_recomputed_when_images_change(project: Project) -> None:
    fake_embeddings(project)
    first = run_task(map_task(project, "fake", "pca"))
    assert not first.cached and len(first.ids) == len(first.xy) == project.embeddings.for_images("fake")[0].size
    run = project.runs.get(first.run_id)
    assert run.kind == "map" and run.model_id == "fake" and run.key == map_key("fake", "pca", {})
    again = run_task(map_task(project, "fake", "pca"))
    assert again.cached and again.run_id == first.run_id and np.array_equal(again.xy, first.xy)
    project.images.set_status([int(first.ids[0])], "missing")
    assert cached_map(project, "fake", "pca") is None  # covers other images now: recomputed
    assert len(run_task(map_task(project, "fake", "pca")).ids) == len(first.ids) - 1


@pytest.mark.slow
def test_umap_runs_in_a_worker_process(project: Project) -> None:
    """One UMAP test only: the first fit in a fresh process compiles numba for up to a minute."""
    fake_embeddings(project)
    result = run_task(map_task(project, "fake", "umap", {"n_neighbors": 5}))
    assert result.method == "umap" and result.xy.shape == (len(result.ids), 2) and np.isfinite(result.xy).all()
    assert project.runs.get(result.run_id).params["n_neighbors"] == 5
