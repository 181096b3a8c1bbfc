"""Data quality from embeddings and thumbnails, numpy only: neighbour graph, near duplicates and leaks,
uniqueness, outliers, confident learning for label mistakes, image statistics, and the stored result.

The parts that need scikit-learn or faiss (out-of-fold probabilities, clusters, candidate index) and the
task that ties everything together are in :mod:`micview.ml.quality`.
"""

from __future__ import annotations

from micview.core.quality.confident import LabelIssues, find_label_issues
from micview.core.quality.duplicates import DuplicateRule, Duplicates, leaks, near_duplicates
from micview.core.quality.knn import BatchCandidates, Neighbours, exact_graph, index_graph
from micview.core.quality.result import COLUMNS, QualityResult, load_quality, save_quality
from micview.core.quality.scores import StatFlags, outlier_score, representativeness, uniqueness
from micview.core.quality.statscache import StatsTable, compute_stats, stats_table

__all__ = [
    "COLUMNS",
    "BatchCandidates",
    "DuplicateRule",
    "Duplicates",
    "LabelIssues",
    "Neighbours",
    "QualityResult",
    "StatFlags",
    "StatsTable",
    "compute_stats",
    "exact_graph",
    "find_label_issues",
    "index_graph",
    "leaks",
    "load_quality",
    "near_duplicates",
    "outlier_score",
    "representativeness",
    "save_quality",
    "stats_table",
    "uniqueness",
]
