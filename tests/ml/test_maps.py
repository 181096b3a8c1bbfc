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


def test_pca_map_places_new_points_from_stored_arrays(project: Project) -> None:
    from micview.ml.map_place import place_points

    vectors = fake_embeddings(project)
    result = run_task(map_task(project, "fake", "pca"))
    stored = {name for name in ("pca_components", "pca_mean") if project.runs.load_array(result.run_id, name).size}
    assert stored == {"pca_components", "pca_mean"}
    _, current = project.embeddings.for_images("fake")
    assert np.allclose(place_points(project, result.run_id, current), result.xy, atol=1e-4)
    new = vectors[:3] + 0.01
    placed = place_points(project, result.run_id, new)
    assert placed.shape == (3, 2) and np.allclose(placed, place_points(project, result.run_id, new))
    assert place_points(project, result.run_id, np.zeros((0, vectors.shape[1]))).shape == (0, 2)


@pytest.mark.slow
def test_umap_fits_a_sample_places_the_rest_and_keeps_a_verified_reducer(project: Project) -> None:
    """fit_sample < n: the map is fitted on a sample and the rest placed with transform, times recorded."""
    from micview.ml.map_place import place_points, reducer_path

    fake_embeddings(project)
    n = len(project.embeddings.for_images("fake")[0])
    params = {"n_neighbors": 5, "fit_sample": n - 4}
    result = run_task(map_task(project, "fake", "umap", params, in_process=False))
    assert result.xy.shape == (n, 2) and np.isfinite(result.xy).all()
    assert len(project.runs.load_array(result.run_id, "fit_ids")) == n - 4
    assert result.fit_seconds > 0 and result.place_seconds > 0
    assert run_task(map_task(project, "fake", "umap", params)).fit_seconds == pytest.approx(result.fit_seconds, 1e-3)
    ids, vectors = project.embeddings.for_images("fake")
    outside = np.setdiff1d(ids, project.runs.load_array(result.run_id, "fit_ids"))
    rows = np.searchsorted(ids, outside)
    # the points outside the sample were placed by the same transform that place_points uses
    placed = place_points(project, result.run_id, vectors[rows])
    assert np.allclose(placed, result.xy[np.searchsorted(result.ids, outside)], atol=1e-3)
    # the pickle is a cache: a tampered file is not loaded, the reducer is re-fitted and cached again
    sha = bytes(project.runs.load_array(result.run_id, "reducer_sha256")).decode()
    reducer_path(project, sha).write_bytes(b"not a reducer")
    again = place_points(project, result.run_id, vectors[rows])
    assert again.shape == placed.shape and np.isfinite(again).all()
    new_sha = bytes(project.runs.load_array(result.run_id, "reducer_sha256")).decode()
    assert reducer_path(project, new_sha).is_file()
