"""The quality result as a CSV: one row per image, sorted by file, most useful columns first."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from micview.core.csv_io import csv_cell, write_csv_atomic
from micview.core.quality.duplicates import LEAK_FOLDER, LEAK_LABEL
from micview.core.quality.result import QualityResult

if TYPE_CHECKING:
    from micview.core.store import Project

HEADER = [
    "file",
    "near_duplicate_of",
    "duplicate_distance",
    "hash_distance",
    "duplicate_group",
    "leak",
    "uniqueness",
    "outlier_score",
    "is_outlier",
    "representativeness",
    "label",
    "label_issue_score",
    "suggested_label",
    "is_label_issue",
    "blur",
    "brightness",
    "saturation",
    "entropy",
    "is_blurry",
    "is_dark",
    "is_saturated",
    "is_low_information",
    "cluster",
    "cluster_id",
]


def _leak_text(mask: int) -> str:
    return ";".join(w for bit, w in ((LEAK_FOLDER, "folders"), (LEAK_LABEL, "labels")) if mask & bit)


def _num(value: Any) -> float | int | None:
    if isinstance(value, np.bool_ | bool):
        return int(value)
    if isinstance(value, np.integer):
        return int(value)
    v = float(value)
    return round(v, 6) if np.isfinite(v) else None


def quality_rows(project: Project, result: QualityResult) -> list[list[str]]:
    """The CSV rows (see :data:`HEADER`); ids that name no image any more are left out."""
    paths = {int(i): p for i, p in project.con.execute("SELECT id, path FROM images")}
    c = result.columns
    rows = []
    for r, image_id in enumerate(result.image_ids.tolist()):
        if image_id not in paths:
            continue
        dup_of = int(c["near_duplicate_of"][r])
        given, suggested = int(c["given_label"][r]), int(c["suggested_label"][r])
        row: list[Any] = [
            paths[image_id],
            paths.get(dup_of, "") if dup_of >= 0 else "",
            _num(c["duplicate_distance"][r]),
            _num(c["hash_distance"][r]) if c["hash_distance"][r] >= 0 else None,
            _num(c["duplicate_group"][r]) if c["duplicate_group"][r] >= 0 else None,
            _leak_text(int(c["leak"][r])),
            _num(c["uniqueness"][r]),
            _num(c["outlier_score"][r]),
            _num(c["is_outlier"][r]),
            _num(c["representativeness"][r]),
            result.label_of(given),
            _num(c["label_issue_score"][r]),
            result.label_of(suggested) if suggested != given else None,
            _num(c["is_label_issue"][r]) if given >= 0 else None,
            *(
                _num(c[k][r])
                for k in (
                    "blur",
                    "brightness",
                    "saturation",
                    "entropy",
                    "is_blurry",
                    "is_dark",
                    "is_saturated",
                    "is_low_information",
                )
            ),
            result.cluster_name(int(c["cluster"][r])),
            int(c["cluster"][r]),
        ]
        rows.append([csv_cell(v) for v in row])
    return sorted(rows, key=lambda row: row[0])


def write_quality_csv(project: Project, result: QualityResult, path: str | Path) -> int:
    """Write the CSV atomically; returns the number of rows."""
    rows = quality_rows(project, result)
    write_csv_atomic(Path(path), HEADER, rows)
    return len(rows)
