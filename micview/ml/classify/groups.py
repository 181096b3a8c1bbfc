"""Label groups: fine label strings mapped to coarse classes, and the task views built on them.

A library's technique column has twenty spellings ("Scanning electron microscopy (SEM) in secondary electron
imaging (SEI) mode", "Bright-field TEM", ...); a classifier and its evaluation usually want four families.
The mapping is stored with the task (``label_tasks.groups_json``) so it travels with the project; the default
for ``technique`` ships in ``resources/groups/technique.json``. Grouped labels are derived on the fly from
the fine labels, never copied, so relabelling an image regroups it at once. Predictions on the grouped
labels are written to the derived task ``<task>_group``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from micview.core.resources import resource
from micview.ml.classify.errors import ClassifyError

if TYPE_CHECKING:
    from micview.core.store import Project

GROUP_SUFFIX = "_group"


def shipped_groups(task: str) -> dict[str, str] | None:
    """The default grouping shipped for ``task`` (``resources/groups/<task>.json``), if any."""
    path = resource("groups", f"{task}.json")
    return load_groups(path) if path.is_file() else None


def load_groups(path: str | Path) -> dict[str, str]:
    """A grouping file: ``{"groups": {fine: coarse}}`` or a bare ``{fine: coarse}`` object."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ClassifyError(f"{path}: cannot read the label grouping ({exc}).") from exc
    groups = data.get("groups", data) if isinstance(data, dict) else None
    if not isinstance(groups, dict) or not all(isinstance(v, str) for v in groups.values()):
        raise ClassifyError(f"{path}: expected a JSON object mapping each label to its group.")
    return {str(k): v for k, v in groups.items()}


def store_groups(project: Project, task: str, groups: Mapping[str, str]) -> None:
    """Keep ``groups`` with ``task`` (its class list and description are kept as they are)."""
    t = project.labels.task(task)
    project.labels.define_task(task, t.classes if t else [], groups, t.description if t else "")


@dataclass(frozen=True)
class TaskView:
    """Which labels a classifier learns from and where its predictions go.

    ``source`` is the task holding the user's labels; ``groups`` (empty = none) maps them to coarse classes;
    ``name`` is the task the predictions are written to (``source`` itself, or ``<source>_group``);
    ``exclude`` drops classes (after grouping) from training and evaluation, e.g. ``other``.
    """

    name: str
    source: str
    groups: dict[str, str] = field(default_factory=dict)
    exclude: frozenset[str] = frozenset()

    def map(self, label: str) -> str | None:
        out = self.groups.get(label, label) if self.groups else label
        return None if out in self.exclude else out

    def labels(self, project: Project, column: str | None = None) -> dict[int, str]:
        """``{image_id: class}`` from the user labels of ``column`` (default: ``source``), grouped."""
        raw = project.labels.labels(column or self.source)
        return {i: m for i, lab in raw.items() if (m := self.map(lab)) is not None}

    def classes(self, project: Project) -> list[str]:
        """Classes in a stable order: the task definition's, then the labelled ones by frequency."""
        from collections import Counter

        t = project.labels.task(self.name)
        listed = [c for c in (t.classes if t else []) if c not in self.exclude]
        counts = Counter(self.labels(project).values())
        return list(dict.fromkeys([*listed, *(c for c, _ in counts.most_common())]))


def task_view(
    project: Project,
    task: str,
    *,
    grouped: bool = False,
    groups: Mapping[str, str] | None = None,
    exclude: tuple[str, ...] | list[str] = (),
) -> TaskView:
    """Resolve ``task`` (``technique``, or ``technique_group`` for the grouped view) into a :class:`TaskView`.

    With ``grouped`` (or a ``*_group`` name whose base task exists and has no labels of its own) the grouping is
    ``groups`` if given, else the one stored with the task, else the shipped default (then stored with the task).
    """
    base = task
    if task.endswith(GROUP_SUFFIX) and not project.labels.labels(task) and project.labels.labels(task[:-6]):
        base, grouped = task[: -len(GROUP_SUFFIX)], True
    if not (grouped or groups):
        return TaskView(task, task, {}, frozenset(exclude))
    mapping = dict(groups) if groups else _stored_or_default(project, base)
    if groups:
        store_groups(project, base, mapping)
    return TaskView(base + GROUP_SUFFIX, base, mapping, frozenset(exclude))


def _stored_or_default(project: Project, task: str) -> dict[str, str]:
    t = project.labels.task(task)
    if t and t.groups:
        return dict(t.groups)
    default = shipped_groups(task)
    if default is None:
        raise ClassifyError(
            f"Task '{task}' has no label groups. Give a grouping file with --groups-file (JSON: label -> group)."
        )
    store_groups(project, task, default)
    return default
