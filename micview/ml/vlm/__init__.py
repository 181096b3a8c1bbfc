"""Local vision-language models: free questions (streamed), multiple choice by letter scoring, batch MCQ
evaluation with few-shot exemplars, and image descriptions.

Every module here imports torch and transformers only inside functions, so importing this package is cheap.
Main entry points: :func:`load_vlm`, :func:`ask`, :func:`describe`, :func:`score_letters`,
:func:`evaluate_mcq` with :func:`read_csv_items` / :func:`project_items`, :func:`export_results`.
"""

from micview.ml.vlm.ask import StoredAnswer, TextChunk, ask, describe
from micview.ml.vlm.evaluate import EvalSettings, McqReport, evaluate_mcq
from micview.ml.vlm.generate import Generation, GenerationSettings, generate_texts
from micview.ml.vlm.items import McqItem, McqSet, project_items, read_csv_items
from micview.ml.vlm.metrics import McqMetrics, export_results, mcq_metrics
from micview.ml.vlm.model import VisionLanguageModel, load_vlm
from micview.ml.vlm.scoring import Choice, continuation_logprob, score_letters

__all__ = [
    "Choice", "EvalSettings", "Generation", "GenerationSettings", "McqItem", "McqMetrics", "McqReport", "McqSet",
    "StoredAnswer", "TextChunk", "VisionLanguageModel", "ask", "continuation_logprob", "describe", "evaluate_mcq",
    "export_results", "generate_texts", "load_vlm", "mcq_metrics", "project_items", "read_csv_items",
    "score_letters",
]  # fmt: skip
