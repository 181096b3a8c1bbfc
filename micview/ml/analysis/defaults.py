"""What an analysis or a quality run uses when the user names nothing more: the prompt groups, and the prompts
that name clusters. Shared by ``micview analyse`` / ``micview quality`` and the window's Analysis tab, so both
pick the same defaults.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from micview.ml.analysis.groups import PromptGroups, load_groups

if TYPE_CHECKING:
    from micview.core.store import Project
    from micview.ml.classify.groups import TaskView


def has_text(model_id: str) -> bool:
    """Whether ``model_id`` has a text tower (CLIP family); reads the registry only."""
    from micview.ml.features import base_spec

    return bool(base_spec(model_id).has_text)


def task_groups(project: Project, view: TaskView) -> PromptGroups:
    """One group per class of the task's prompt set (the project's own set, else the shipped or a generic one)."""
    from micview.ml.classify import prompt_set_for

    return PromptGroups.from_prompt_set(prompt_set_for(project, view.name, view.classes(project) or None))


def default_groups(project: Project, view: TaskView | None, model_id: str) -> PromptGroups | None:
    """The project's last saved groups, else — for a model with a text tower and a task — the task's prompt set."""
    stored = load_groups(project)
    if stored is not None or view is None or not has_text(model_id):
        return stored
    return task_groups(project, view)


def naming_prompts(
    project: Project, model_id: str, view: TaskView | None, embedder: Any = None
) -> tuple[list[str], np.ndarray] | None:
    """(names, unit text vectors) to name clusters with, for CLIP-family models: the project's prompt groups'
    prompts, else the task's prompt set's classes; ``None`` for image-only models or with neither.

    ``embedder``: an already loaded embedder of ``model_id`` (the window's shared cache); else one is loaded.
    """
    if not has_text(model_id):
        return None
    groups = load_groups(project)
    if groups is None and view is None:
        return None
    from micview.ml.features import load_feature_embedder

    model = embedder or load_feature_embedder(model_id)
    if groups is not None:
        texts = groups.prompts()[0]
        return texts, model.encode_text(texts)
    from micview.ml.classify import prompt_set_for
    from micview.ml.classify.prompts import class_text_embeddings

    assert view is not None
    prompts = prompt_set_for(project, view.name, view.classes(project) or None)
    return prompts.class_names, class_text_embeddings(model, prompts)
