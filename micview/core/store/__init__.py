"""The ``.micview`` project file (SQLite): images, thumbnails, embeddings, labels, runs."""

from micview.core.store.annotations import Annotation, LabelTask, Prediction
from micview.core.store.backup import (
    BackupInfo,
    RestoreResult,
    backup_project,
    copy_project,
    list_backups,
    restore_backup,
)
from micview.core.store.images import ImageRow, Thumbnail
from micview.core.store.integrity import HealthReport, check_project
from micview.core.store.project import PROJECT_SUFFIX, Project
from micview.core.store.runs import RunInfo
from micview.core.store.salvage import SalvageReport, salvage

__all__ = [
    "PROJECT_SUFFIX", "Annotation", "BackupInfo", "HealthReport", "ImageRow", "LabelTask", "Prediction", "Project",
    "RestoreResult", "RunInfo", "SalvageReport", "Thumbnail", "backup_project", "check_project", "copy_project",
    "list_backups", "restore_backup", "salvage",
]  # fmt: skip
