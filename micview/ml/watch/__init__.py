"""Watch mode's model side: the live pipeline (embed → place → predict → MARCO) and the watch task.

Nothing heavy is imported here; torch, umap and onnxruntime load inside the functions that use them.
"""

from __future__ import annotations

from micview.ml.watch.pipeline import LivePipeline, WatchOptions
from micview.ml.watch.run import WatchProgress, WatchSummary, describe, watch_folder

__all__ = ["LivePipeline", "WatchOptions", "WatchProgress", "WatchSummary", "describe", "watch_folder"]
