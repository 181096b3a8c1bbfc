"""Data quality with scikit-learn and faiss: the task that computes and stores it (numpy parts: core)."""

from __future__ import annotations

from micview.ml.quality.clusters import Clusters, cluster, name_clusters
from micview.ml.quality.labels import OutOfFold, out_of_fold
from micview.ml.quality.neighbours import IvfCandidates, neighbour_graph
from micview.ml.quality.service import QualityOptions, quality_task

__all__ = [
    "Clusters",
    "IvfCandidates",
    "OutOfFold",
    "QualityOptions",
    "cluster",
    "name_clusters",
    "neighbour_graph",
    "out_of_fold",
    "quality_task",
]
