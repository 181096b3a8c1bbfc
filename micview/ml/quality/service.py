"""Data quality of a project: the generator task the CLI and the GUI run, and its stored result.

From the stored vectors of one model (and the thumbnails' statistics, computed once per image content):
neighbour graph → near duplicates and leaks, uniqueness, outliers; the task's labels → out-of-fold
probabilities → confident learning; clusters with names; flags from the image statistics. The result is
stored as a run (``kind='quality'``) with its recipe, so the map can be coloured by any column
(:func:`micview.core.quality.load_quality`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from micview.core.quality import (
    DuplicateRule,
    QualityResult,
    StatFlags,
    compute_stats,
    find_label_issues,
    leaks,
    near_duplicates,
    outlier_score,
    representativeness,
    save_quality,
    stats_table,
    uniqueness,
)
from micview.core.quality.knn import Neighbours
from micview.core.quality.scores import OUTLIER_RATIO
from micview.core.quality.verify import ThumbnailPairs
from micview.core.search import VectorIndex
from micview.core.tasks import Progress, Task
from micview.ml.quality.clusters import Clusters, cluster, name_clusters
from micview.ml.quality.labels import out_of_fold
from micview.ml.quality.neighbours import neighbour_graph
from micview.ml.quality.threads import one_thread

if TYPE_CHECKING:
    from micview.core.store import Project
    from micview.ml.classify.groups import TaskView

STEPS = 6


@dataclass(frozen=True)
class QualityOptions:
    """The recipe's choices (all stored with the result)."""

    k: int = 10
    clusters: str = "kmeans"  # or 'hdbscan'
    n_clusters: int | None = None  # k-means: None = round(sqrt(n / 2)), 2 … 40
    duplicates: DuplicateRule = field(default_factory=DuplicateRule)
    flags: StatFlags = field(default_factory=StatFlags)
    outlier_ratio: float = OUTLIER_RATIO
    stats_workers: int = 2


class _Clock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - start, 3)


def quality_task(
    project: Project,
    model_id: str,
    *,
    view: TaskView | None = None,
    options: QualityOptions | None = None,
    prompts: tuple[list[str], np.ndarray] | None = None,
    index: VectorIndex | None = None,
) -> Task[QualityResult]:
    """Compute and store the quality of every embedded image (see the module docstring).

    ``view`` gives the labels (none: no label checks); ``prompts`` (names, unit text vectors of ``model_id``)
    name the clusters; ``index`` reuses an already loaded vector index.
    """
    from micview.ml.search import load_index

    o = options or QualityOptions()
    clock = _Clock()
    yield Progress(0, STEPS, "Reading vectors")
    with clock("read"):
        index = index or load_index(project, model_id, approximate=_batching_index())
    with clock("image_stats"):
        yield from compute_stats(project, workers=o.stats_workers)
        stats = stats_table(project, index.ids)
    yield Progress(2, STEPS, "Finding neighbours")
    with clock("neighbours"):
        graph = neighbour_graph(index, o.k)
    rows = {r.id: r for r in project.images.all()}
    labels = view.labels(project) if view is not None else {}
    given = [labels.get(int(i)) for i in index.ids]
    yield Progress(3, STEPS, "Duplicates and outliers")
    with clock("duplicates"):
        pixels = ThumbnailPairs(project, index.ids)
        columns = _neighbour_columns(index, graph, stats, o, [rows[int(i)].folder for i in index.ids], given, pixels)
    yield Progress(4, STEPS, "Checking labels")
    with clock("labels"), one_thread():
        classes, label_cols, label_params = _label_columns(index, given, graph)
    yield Progress(5, STEPS, "Clusters")
    with clock("clusters"), one_thread():
        found = cluster(index.matrix.astype(np.float32), o.clusters, o.n_clusters)
        names = name_clusters(found, given, prompts)
    columns.update(label_cols)
    columns.update(_stat_columns(stats, o.flags))
    columns["cluster"] = found.labels
    columns["representativeness"] = representativeness(index.matrix.astype(np.float32), found.labels, found.centroids)
    params = _recipe(o, graph.method, found, label_params, prompts is not None, clock.seconds)
    params["pixel_checks"] = {"pairs": pixels.checked, "not_checked": pixels.skipped}
    result = QualityResult(
        model_id,
        view.name if view else None,
        index.ids,
        columns,
        classes,
        names,
        [int(index.ids[r]) for r in found.representatives],
        params,
    )
    save_quality(project, result, weights_hash=_weights_hash(project, model_id))
    yield Progress(STEPS, STEPS, "Done")
    return result


def _neighbour_columns(
    index: VectorIndex,
    graph: Any,
    stats: Any,
    o: QualityOptions,
    folders: list[str],
    given: list[str | None],
    pixels: ThumbnailPairs,
) -> dict[str, np.ndarray]:
    dup = near_duplicates(graph, stats.phash, o.duplicates, hash_ok=stats.hash_ok, pixels=pixels)
    outlier = outlier_score(graph)
    of = np.where(dup.of >= 0, index.ids[np.maximum(dup.of, 0)], -1).astype(np.int64)
    return {
        "near_duplicate_of": of,
        "duplicate_distance": dup.distance,
        "hash_distance": dup.hash_distance,
        "duplicate_group": dup.group,
        "leak": leaks(dup.group, folders, given),
        "uniqueness": uniqueness(graph),
        "outlier_score": outlier,
        "is_outlier": outlier >= o.outlier_ratio,
    }


def _label_columns(
    index: VectorIndex, given: list[str | None], graph: Neighbours
) -> tuple[list[str], dict[str, np.ndarray], dict[str, Any]]:
    n = len(index)
    cols = {
        "given_label": np.full(n, -1, np.int32),
        "label_issue_score": np.full(n, np.nan, np.float32),
        "suggested_label": np.full(n, -1, np.int32),
        "is_label_issue": np.zeros(n, np.bool_),
    }
    labelled = np.array([i for i, g in enumerate(given) if g is not None], np.int64)
    classes = sorted({g for g in given if g is not None})
    code = {c: i for i, c in enumerate(classes)}
    cols["given_label"][labelled] = [code[str(given[i])] for i in labelled]
    oof = None
    if len(labelled):
        sub = _subgraph(graph, labelled, n)
        oof = out_of_fold(index.matrix[labelled].astype(np.float32), [str(given[i]) for i in labelled], graph=sub)
    if oof is None:
        return classes, cols, {"label_check": "not run: fewer than two classes with 3 or more labels"}
    issues = find_label_issues(oof.labels, oof.proba)
    rows = labelled[oof.rows]
    cols["label_issue_score"][rows] = issues.score
    cols["suggested_label"][rows] = [code[oof.classes[j]] for j in issues.suggested]
    cols["is_label_issue"][rows] = issues.is_issue
    return (
        classes,
        cols,
        {
            "label_check": {
                "probabilities": oof.method,
                "classes": oof.classes,
                "skipped_classes": oof.skipped,
                "method": "confident learning, prune by noise rate (Northcutt et al. 2021)",
                "confident_joint": issues.confident_joint.tolist(),
            }
        },
    )


def _subgraph(graph: Neighbours, keep: np.ndarray, n: int) -> Neighbours:
    """The graph restricted to the rows ``keep``, renumbered (edges to other rows become −1)."""
    new = np.full(n, -1, np.int64)
    new[keep] = np.arange(len(keep))
    rows = graph.rows[keep]
    mapped = np.where(rows >= 0, new[np.maximum(rows, 0)], -1)
    return Neighbours(mapped, np.where(mapped >= 0, graph.sims[keep], -np.inf).astype(np.float32), graph.method)


def _stat_columns(stats: Any, flags: StatFlags) -> dict[str, np.ndarray]:
    v = stats.values
    return {
        **{k: v[k] for k in ("blur", "brightness", "saturation", "entropy")},
        **flags.apply(v["blur"], v["brightness"], v["saturation"], v["entropy"]),
    }


def _recipe(
    o: QualityOptions,
    graph_method: str,
    found: Clusters,
    label_params: dict[str, Any],
    named_by_prompts: bool,
    seconds: dict[str, float],
) -> dict[str, Any]:
    return {
        "k": o.k,
        "neighbours": graph_method,
        "duplicates": asdict(o.duplicates),
        "flags": asdict(o.flags),
        "outlier_ratio": o.outlier_ratio,
        "clusters": found.method,
        "cluster_names_from": "prompts" if named_by_prompts else "labels",
        **label_params,
        "seconds": seconds,
    }


def _batching_index() -> bool | None:
    """Let the project's approximate index be attached (large projects) only when it can answer a batch of
    queries (:class:`~micview.core.quality.knn.BatchCandidates`); otherwise the graph builds its own."""
    from micview.ml import ann

    return None if hasattr(ann.QuantizedIndex, "batch_candidates") else False


def _weights_hash(project: Project, model_id: str) -> str | None:
    info = project.runs.latest(f"embeddings:{model_id}")
    return info.weights_hash if info else None
