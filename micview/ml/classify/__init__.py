"""Classification: zero-shot from prompts, few-shot from labels, suggestions, evaluation and reports.

numpy only at import time; scikit-learn and torch are imported inside the functions that need them.
"""

from __future__ import annotations

from micview.ml.classify.assess import evaluate_stored, evaluate_task
from micview.ml.classify.curves import CurvePoint, cross_validate, learning_curve
from micview.ml.classify.errors import ClassifyError, NoLabelsError, OneClassError, PromptSetError
from micview.ml.classify.evaluate import Evaluation, evaluate, top_k_accuracy
from micview.ml.classify.fewshot import FewShotModel, fit_few_shot
from micview.ml.classify.groups import TaskView, load_groups, shipped_groups, store_groups, task_view
from micview.ml.classify.live import LiveClassifier
from micview.ml.classify.prompts import PromptSet, load_prompt_set, prompt_set_for, save_project_prompt_set
from micview.ml.classify.report import write_report
from micview.ml.classify.service import ClassifyResult, classify, load_vectors, suggest_for_task
from micview.ml.classify.suggest import Suggestion, suggest

__all__ = [
    "ClassifyError", "ClassifyResult", "CurvePoint", "Evaluation", "FewShotModel", "LiveClassifier",
    "NoLabelsError", "OneClassError", "PromptSet", "PromptSetError", "Suggestion", "TaskView", "classify",
    "cross_validate", "evaluate", "evaluate_stored", "evaluate_task", "fit_few_shot", "learning_curve",
    "load_groups", "load_prompt_set", "load_vectors", "prompt_set_for", "save_project_prompt_set",
    "shipped_groups", "store_groups", "suggest", "suggest_for_task", "task_view", "top_k_accuracy", "write_report",
]  # fmt: skip
