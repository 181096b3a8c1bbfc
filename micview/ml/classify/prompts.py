"""Prompt sets for zero-shot classification: several phrasings per class, averaged (prompt ensembling).

Why ensembles: CLIP's zero-shot accuracy depends on the wording; averaging the normalised text embeddings of
many templates × class names and renormalising (Radford et al. 2021, §3.1.4) is cheaper and steadier than
picking one prompt. A prompt set is a small JSON file a user can edit::

    {"name": "technique", "version": 1, "templates": ["a {} micrograph", ...],
     "classes": {"SEM": {"names": ["scanning electron microscopy", "SEM"], "prompts": ["an SEM image ..."]}}}

Each class's prompts are every template filled with every name, plus its own full ``prompts``. The shipped
sets are in ``resources/prompts``; a set edited for a project is stored in the project (meta key
``prompts:<task>``), and every zero-shot run records the exact set it used in its parameters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from micview.core.resources import resource
from micview.ml.classify.errors import PromptSetError

if TYPE_CHECKING:
    from micview.core.store import Project
    from micview.ml.embedder import Embedder

_META_KEY = "prompts:{task}"


@dataclass(frozen=True)
class ClassPrompts:
    names: list[str]
    prompts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PromptSet:
    name: str
    templates: list[str]
    classes: dict[str, ClassPrompts]
    version: int = 1
    description: str = ""

    @property
    def class_names(self) -> list[str]:
        return list(self.classes)

    def texts(self, cls: str) -> list[str]:
        """Every prompt of class ``cls``: templates × names, then the class's own prompts (no duplicates)."""
        c = self.classes[cls]
        out = [t.format(n) for n in c.names for t in self.templates] + list(c.prompts)
        return list(dict.fromkeys(out)) or [cls]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "templates": list(self.templates),
            "classes": {k: {"names": v.names, "prompts": v.prompts} for k, v in self.classes.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "prompt set") -> PromptSet:
        try:
            classes = {str(k): ClassPrompts(list(v.get("names") or [k]), list(v.get("prompts") or []))
                       for k, v in data["classes"].items()}  # fmt: skip
            templates = [str(t) for t in data.get("templates") or ["{}"]]
            bad = [t for t in templates if t.count("{}") != 1]
        except (KeyError, TypeError, AttributeError) as exc:
            raise PromptSetError(f"{origin}: expected {{'classes': {{class: {{'names': [...]}}}}}} ({exc}).") from exc
        if bad:
            raise PromptSetError(f"{origin}: each template needs exactly one '{{}}' for the class name: {bad}")
        if len(classes) < 2:
            raise PromptSetError(f"{origin}: a prompt set needs at least two classes.")
        return cls(str(data.get("name", "")), templates, classes, int(data.get("version", 1)),
                   str(data.get("description", "")))  # fmt: skip

    @classmethod
    def simple(cls, classes: list[str], name: str = "classes") -> PromptSet:
        """A set built from bare class names with CLIP's generic templates (when no set ships for a task)."""
        templates = ["a {} image", "a micrograph of {}", "an image showing {}", "a photo of {}"]
        return cls(name, templates, {c: ClassPrompts([c]) for c in classes})


def shipped_prompt_sets() -> list[str]:
    """Names of the prompt sets shipped in ``resources/prompts``."""
    return sorted(p.stem for p in resource("prompts").glob("*.json"))


def load_prompt_set(name_or_path: str | Path) -> PromptSet:
    """A shipped set by name (``technique``) or a JSON file by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = resource("prompts", f"{name_or_path}.json")
    if not path.is_file():
        raise PromptSetError(f"No prompt set {name_or_path}; shipped sets: {', '.join(shipped_prompt_sets())}.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise PromptSetError(f"{path}: not valid JSON ({exc}).") from exc
    return PromptSet.from_dict(data, str(path))


def save_project_prompt_set(project: Project, task: str, prompts: PromptSet) -> None:
    """Keep a user-edited set with the project, so the classification can be repeated elsewhere."""
    project.set_meta(_META_KEY.format(task=task), json.dumps(prompts.to_dict()))


def prompt_set_for(project: Project, task: str, classes: list[str] | None = None) -> PromptSet:
    """The set for ``task``: the project's own, else a shipped one named like the task (``technique_group``
    finds ``technique``), else generic templates over ``classes``. Classes the set lacks are added plainly."""
    stored = project.get_meta(_META_KEY.format(task=task))
    if stored:
        found = PromptSet.from_dict(json.loads(stored), f"project prompt set for {task}")
    else:
        base = task.removesuffix("_group")
        found = load_prompt_set(base) if base in shipped_prompt_sets() else PromptSet.simple(classes or [], task)
    if classes:
        extra = {c: ClassPrompts([c]) for c in classes if c not in found.classes}
        found = PromptSet(found.name, found.templates, {**found.classes, **extra}, found.version, found.description)
    return found


def class_text_embeddings(embedder: Embedder, prompts: PromptSet, classes: list[str] | None = None) -> np.ndarray:
    """``(n_classes, dim)`` unit vectors: mean of each class's normalised prompt embeddings, renormalised."""
    classes = classes or prompts.class_names
    texts = [prompts.texts(c) for c in classes]
    flat = embedder.encode_text([t for ts in texts for t in ts])
    out, start = [], 0
    for ts in texts:
        v = flat[start : start + len(ts)].mean(0)
        out.append(v / max(float(np.linalg.norm(v)), 1e-12))
        start += len(ts)
    return np.stack(out).astype(np.float32)
