"""Embedding analysis: prompt groups against images (CLIP-family models) and the image side (any model).

numpy only at import time; scikit-learn, matplotlib and the models load inside the functions that need them.
"""

from __future__ import annotations

from micview.ml.analysis.concept import ConceptAnalysis, concept_analysis
from micview.ml.analysis.errors import AnalysisError, PromptGroupError
from micview.ml.analysis.groups import PromptGroups, load_groups, read_groups, save_groups, saved_group_names
from micview.ml.analysis.imageside import ConfusablePair, ImageSide, image_side
from micview.ml.analysis.matrix import SimilarityMatrix, similarity_matrix
from micview.ml.analysis.service import AnalysisResult, analyse

__all__ = [
    "AnalysisError",
    "AnalysisResult",
    "ConceptAnalysis",
    "ConfusablePair",
    "ImageSide",
    "PromptGroupError",
    "PromptGroups",
    "SimilarityMatrix",
    "analyse",
    "concept_analysis",
    "image_side",
    "load_groups",
    "read_groups",
    "save_groups",
    "saved_group_names",
    "similarity_matrix",
]
