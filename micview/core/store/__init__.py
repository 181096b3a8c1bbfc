"""The ``.micview`` project file (SQLite): images, thumbnails, embeddings, labels, runs."""

from micview.core.store.annotations import Annotation, LabelTask, Prediction
from micview.core.store.images import ImageRow, Thumbnail
from micview.core.store.project import PROJECT_SUFFIX, Project
from micview.core.store.runs import RunInfo

__all__ = ["PROJECT_SUFFIX", "Annotation", "ImageRow", "LabelTask", "Prediction", "Project", "RunInfo", "Thumbnail"]
