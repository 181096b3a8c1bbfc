"""Analysing a project's embeddings: the generator task the CLI and the GUI run, and its stored recipe."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from micview.core.tasks import Progress, Task
from micview.ml.analysis.concept import ConceptAnalysis, concept_analysis
from micview.ml.analysis.groups import PromptGroups
from micview.ml.analysis.imageside import ImageSide, image_side
from micview.ml.analysis.matrix import SimilarityMatrix, similarity_matrix

if TYPE_CHECKING:
    from micview.core.store import Project
    from micview.ml.classify.groups import TaskView

ANALYSIS_KIND = "analysis"


@dataclass
class AnalysisResult:
    """Everything one analysis found (arrays aligned with ``image_ids`` unless said otherwise)."""

    model_id: str
    task: str | None
    image_ids: np.ndarray
    labels: list[str | None]
    matrix: SimilarityMatrix
    concept: ConceptAnalysis | None = None
    image_side: ImageSide | None = None
    groups: PromptGroups | None = None
    notes: list[str] = field(default_factory=list)
    run_id: int | None = None

    def summary(self) -> dict[str, Any]:
        """Every number of the analysis except the per-image values."""
        return {
            "model": self.model_id,
            "task": self.task,
            "images": len(self.image_ids),
            "labelled": sum(lab is not None for lab in self.labels),
            "notes": self.notes,
            "prompt_groups": self.groups.to_dict() if self.groups else None,
            "concept": self.concept.summary() if self.concept else None,
            "image_side": self.image_side.summary() if self.image_side else None,
            "image_matrix": {
                "shown": len(self.matrix.image_ids),
                "total": self.matrix.total,
                "sampled": self.matrix.sampled,
                "ordered_by": self.matrix.ordered_by,
            },
        }


def analyse(
    project: Project,
    model_id: str,
    *,
    view: TaskView | None = None,
    groups: PromptGroups | None = None,
    embedder: Any = None,
) -> Task[AnalysisResult]:
    """Concept analysis (with ``groups`` and a model with a text tower) and the image side (with labels)."""
    from micview.ml.classify.service import load_vectors

    yield Progress(0, 4, "Reading vectors")
    ids, X = load_vectors(project, model_id)
    raw = view.labels(project) if view is not None else {}
    labels = [raw.get(int(i)) for i in ids]
    notes: list[str] = []
    concept = None
    if groups is not None:
        yield Progress(1, 4, "Encoding the prompts")
        concept = _concept(model_id, groups, ids, X, labels if raw else None, embedder, notes)
    yield Progress(2, 4, "Comparing the labels")
    side = image_side(ids, X, labels) if raw else None
    if view is not None and side is None:
        notes.append(
            f"Task '{view.name}' has fewer than two labelled classes among these images: no image-side analysis."
        )
    yield Progress(3, 4, "Similarity matrix")
    matrix = _matrix(ids, X, labels, view.name if view is not None and raw else None)
    result = AnalysisResult(model_id, view.name if view else None, ids, labels, matrix, concept, side, groups, notes)
    result.run_id = _store(project, result)
    yield Progress(4, 4, "Done")
    return result


def _concept(
    model_id: str,
    groups: PromptGroups,
    ids: np.ndarray,
    X: np.ndarray,
    labels: list[str | None] | None,
    embedder: Any,
    notes: list[str],
) -> ConceptAnalysis | None:
    from micview.ml.features import base_spec, load_feature_embedder

    if embedder is None and not base_spec(model_id).has_text:
        notes.append(
            f"{model_id} has no text tower, so the prompt groups could not be compared with the images "
            "(use a CLIP-family model for that); the image side is below."
        )
        return None
    model = embedder or load_feature_embedder(model_id)
    texts = model.encode_text(groups.prompts()[0])
    return concept_analysis(groups, texts, ids, X, labels)


def _matrix(ids: np.ndarray, X: np.ndarray, labels: list[str | None], task: str | None) -> SimilarityMatrix:
    """Ordered by label (labelled images) when there are labels, else by k-means cluster."""
    if task is not None:
        rows = np.array([i for i, lab in enumerate(labels) if lab is not None], np.int64)
        return similarity_matrix(ids[rows], X[rows], [str(labels[i]) for i in rows], f"label ({task})")
    from micview.ml.quality.clusters import cluster
    from micview.ml.quality.threads import one_thread

    with one_thread():
        found = cluster(X)
    names = [f"cluster {c:02d}" if c >= 0 else "noise" for c in found.labels.tolist()]
    return similarity_matrix(ids, X, names, f"cluster ({found.method})")


def _store(project: Project, r: AnalysisResult) -> int:
    params = {
        "task": r.task,
        "prompt_groups": r.groups.to_dict() if r.groups else None,
        "notes": r.notes,
        "summary": {k: v for k, v in r.summary().items() if k in ("images", "labelled", "image_matrix")},
    }
    if r.concept:
        params["concept"] = {
            "prefer": r.concept.counts(),
            "prompt_silhouette": r.concept.prompt_silhouette,
            "text_similarity": r.concept.text_similarity,
            "nearest_prompt": r.concept.nearest_prompt,
        }
    if r.image_side:
        params["image_side"] = {"label_silhouette": r.image_side.label_silhouette, "spread": r.image_side.spread}
    info = project.runs.latest(f"embeddings:{r.model_id}")
    with project.transaction():
        run_id = project.runs.record(
            ANALYSIS_KIND,
            f"analysis:{r.model_id}",
            "micview.analyse",
            params,
            model_id=r.model_id,
            weights_hash=info.weights_hash if info else None,
        )
        project.runs.save_array(run_id, "image_ids", r.image_ids)
        if r.concept:
            project.runs.save_array(run_id, "group_sims", r.concept.group_sims)
            project.runs.save_array(run_id, "margin", r.concept.margin)
            project.runs.save_array(run_id, "preferred", r.concept.preferred.astype(np.int32))
    return run_id
