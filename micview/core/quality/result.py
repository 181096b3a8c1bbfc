"""The data-quality result: one value per image per column, stored in the project as a run with its recipe.

What the GUI needs is here without any model: :func:`load_quality` returns the latest :class:`QualityResult`
(arrays aligned with ``image_ids``), whose numeric columns can colour, filter and sort the map and the grid,
and whose helpers list the issue groups (duplicates, suspected label mistakes, outliers, poor images).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from micview.core.store import Project

QUALITY_KIND = "quality"

# Column → what it holds (also the CSV's documentation; docs/analysis.md repeats it for users).
COLUMNS: dict[str, str] = {
    "near_duplicate_of": "image id of the near duplicate (−1 none)",
    "duplicate_distance": "cosine distance to the most similar other image",
    "hash_distance": "perceptual-hash bits to that image (−1 unknown)",
    "duplicate_group": "number of the group of near duplicates (−1 none)",
    "leak": "1: its duplicate group spans folders, 2: different labels, 3: both",
    "uniqueness": "0 (has a copy) … 1 (most isolated image)",
    "outlier_score": "distance to its neighbours / the median image's (1 typical)",
    "is_outlier": "outlier_score at or above the threshold",
    "representativeness": "0 … 1, similarity to its cluster's centre",
    "given_label": "index into classes of the image's label (−1 none)",
    "label_issue_score": "1 − probability of its label, out of fold (NaN unlabelled)",
    "suggested_label": "index into classes of the most probable class (−1 none)",
    "is_label_issue": "flagged by confident learning",
    "blur": "variance of the Laplacian (low = blurry)",
    "brightness": "mean grey level, 0 … 1",
    "saturation": "fraction of clipped bright pixels",
    "entropy": "grey-level entropy in bits (low = little information)",
    "is_blurry": "flag",
    "is_dark": "flag",
    "is_saturated": "flag",
    "is_low_information": "flag",
    "cluster": "cluster number (−1 noise), names in cluster_names",
}


@dataclass
class QualityResult:
    """Per-image quality values (``columns[name][i]`` belongs to ``image_ids[i]``) and what they mean."""

    model_id: str
    task: str | None
    image_ids: np.ndarray
    columns: dict[str, np.ndarray]
    classes: list[str] = field(default_factory=list)
    cluster_names: list[str] = field(default_factory=list)
    cluster_representatives: list[int] = field(default_factory=list)  # image id per cluster
    params: dict[str, Any] = field(default_factory=dict)
    run_id: int | None = None

    def __len__(self) -> int:
        return len(self.image_ids)

    def score_names(self) -> list[str]:
        """Columns that make sense as a colour or a sort key (numbers and flags)."""
        return list(self.columns)

    def label_of(self, code: int) -> str | None:
        return self.classes[code] if 0 <= code < len(self.classes) else None

    def cluster_name(self, code: int) -> str:
        return self.cluster_names[code] if 0 <= code < len(self.cluster_names) else "unclustered"

    def duplicate_groups(self) -> list[np.ndarray]:
        """Image ids of each group of near duplicates, largest group first."""
        g = self.columns["duplicate_group"]
        groups = [self.image_ids[g == k] for k in range(int(g.max(initial=-1)) + 1)]
        return sorted(groups, key=lambda ids: (-len(ids), int(ids[0])))

    def ranked(self, column: str, *, flag: str | None = None, descending: bool = True) -> np.ndarray:
        """Image ids sorted by ``column`` (NaN last), restricted to rows where ``flag`` is true."""
        values = self.columns[column].astype(np.float64)
        keep = np.isfinite(values) & (self.columns[flag].astype(bool) if flag else True)
        rows = np.flatnonzero(keep)
        order = np.argsort(-values[rows] if descending else values[rows], kind="stable")
        return self.image_ids[rows[order]]

    def label_issues(self) -> np.ndarray:
        """Image ids flagged as likely label mistakes, most suspect first."""
        return self.ranked("label_issue_score", flag="is_label_issue")

    def summary(self) -> dict[str, int]:
        """How many images each issue concerns (the headline numbers of a report)."""
        c = self.columns
        return {
            "images": len(self),
            "near_duplicates": int((c["duplicate_group"] >= 0).sum()),
            "duplicate_groups": int(c["duplicate_group"].max(initial=-1)) + 1,
            "leaks": int((c["leak"] > 0).sum()),
            "outliers": int(c["is_outlier"].sum()),
            "label_issues": int(c["is_label_issue"].sum()),
            "labelled": int((c["given_label"] >= 0).sum()),
            **{
                k.removeprefix("is_"): int(c[k].sum())
                for k in ("is_blurry", "is_dark", "is_saturated", "is_low_information")
            },
        }


def save_quality(project: Project, result: QualityResult, *, weights_hash: str | None = None) -> int:
    """Store ``result`` as one run (recipe in the parameters, arrays as ``.npy``); returns the run id."""
    params = {
        **result.params,
        "task": result.task,
        "classes": result.classes,
        "cluster_names": result.cluster_names,
        "cluster_representatives": result.cluster_representatives,
    }
    with project.transaction():
        run_id = project.runs.record(
            QUALITY_KIND,
            quality_key(result.model_id),
            "micview.quality",
            params,
            model_id=result.model_id,
            weights_hash=weights_hash,
        )
        project.runs.save_array(run_id, "image_ids", result.image_ids)
        for name, values in result.columns.items():
            project.runs.save_array(run_id, name, values)
    result.run_id = run_id
    return run_id


def quality_key(model_id: str) -> str:
    return f"quality:{model_id}"


def load_quality(project: Project, model_id: str | None = None) -> QualityResult | None:
    """The latest stored result (for ``model_id``, or for any model), or ``None`` when there is none."""
    runs = [
        r for r in project.runs.all(QUALITY_KIND) if r.status == "done" and (model_id is None or r.model_id == model_id)
    ]
    if not runs:
        return None
    info = runs[-1]
    names = [r[0] for r in project.con.execute("SELECT name FROM run_arrays WHERE run_id = ?", (info.id,))]
    columns = {n: project.runs.load_array(info.id, n) for n in names if n != "image_ids"}
    p = dict(info.params)
    return QualityResult(
        info.model_id or "",
        p.pop("task", None),
        project.runs.load_array(info.id, "image_ids"),
        {n: columns[n] for n in COLUMNS if n in columns},
        list(p.pop("classes", [])),
        list(p.pop("cluster_names", [])),
        list(p.pop("cluster_representatives", [])),
        p,
        info.id,
    )
