"""Prompt groups: two or more named groups of text prompts whose images and texts are compared.

Three JSON layouts are read, so the files of the BiomedCLIP embedding-analysis scripts import as they are::

    {"experiment_name": "BUSI", "prompt_pairs": [{"pair_id": 1, "tumor": "...", "healthy": "..."}, ...]}
    {"name": "drops", "groups": {"crystals": ["...", "..."], "precipitate": ["..."]}}
    {"crystals": ["...", "..."], "precipitate": ["..."]}

In the paired layout every key of a pair but ``pair_id`` is a group (in the order of the first pair), and
the pairing is kept: the analysis then also reports each pair's margin, as the scripts did. A task's prompt
set (:class:`~micview.ml.classify.prompts.PromptSet`) also makes groups, one per class.

Groups are saved in the project as JSON in the ``meta`` table (key ``prompt_groups:<name>``; no schema
change), and the last one used is remembered (``prompt_groups:@last``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from micview.ml.analysis.errors import PromptGroupError

if TYPE_CHECKING:
    from micview.core.store import Project
    from micview.ml.classify.prompts import PromptSet

_PREFIX = "prompt_groups:"
_LAST = _PREFIX + "@last"


@dataclass(frozen=True)
class PromptGroups:
    """``groups``: group name → its prompts (order kept). ``pairs``: for paired files, the pair ids and, per
    pair, the index of its prompt in each group's list (so pair ``p`` compares ``groups[g][pairs_index[p][g]]``)."""

    name: str
    groups: dict[str, list[str]]
    pair_ids: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return list(self.groups)

    @property
    def paired(self) -> bool:
        return bool(self.pair_ids)

    def prompts(self) -> tuple[list[str], list[int]]:
        """Every prompt in group order, and the group index of each."""
        texts = [t for g in self.groups.values() for t in g]
        owner = [i for i, g in enumerate(self.groups.values()) for _ in g]
        return texts, owner

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "groups": {k: list(v) for k, v in self.groups.items()}}
        if self.pair_ids:
            out["pair_ids"] = list(self.pair_ids)
        return out

    @classmethod
    def from_dict(cls, data: Any, origin: str = "prompt groups") -> PromptGroups:
        if not isinstance(data, dict):
            raise PromptGroupError(f"{origin}: expected a JSON object with 'prompt_pairs' or 'groups'.")
        if "prompt_pairs" in data:
            return _from_pairs(data, origin)
        name = str(data.get("name") or data.get("experiment_name") or "groups")
        raw = data["groups"] if "groups" in data else {k: v for k, v in data.items() if k not in ("name",)}
        if not isinstance(raw, dict):
            raise PromptGroupError(f"{origin}: 'groups' must map each group name to a list of prompts.")
        groups = {str(k): _texts(v, f"{origin}, group {k!r}") for k, v in raw.items()}
        pair_ids = [str(p) for p in data.get("pair_ids") or []]
        return _checked(cls(name, groups, pair_ids), origin)

    @classmethod
    def from_prompt_set(cls, prompts: PromptSet, classes: list[str] | None = None) -> PromptGroups:
        """One group per class of a task's prompt set (every template × name, plus its own prompts)."""
        chosen = classes or prompts.class_names
        return _checked(cls(prompts.name or "prompt set", {c: prompts.texts(c) for c in chosen}), "prompt set")


def _texts(value: Any, origin: str) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(t, str) and t.strip() for t in items):
        raise PromptGroupError(f"{origin}: expected a list of non-empty prompt texts.")
    return [t.strip() for t in items]


def _from_pairs(data: dict[str, Any], origin: str) -> PromptGroups:
    pairs = data.get("prompt_pairs")
    if not isinstance(pairs, list) or not pairs or not all(isinstance(p, dict) for p in pairs):
        raise PromptGroupError(f"{origin}: 'prompt_pairs' must be a non-empty list of objects.")
    keys = [k for k in pairs[0] if k != "pair_id"]
    groups: dict[str, list[str]] = {k: [] for k in keys}
    for i, pair in enumerate(pairs):
        if sorted(k for k in pair if k != "pair_id") != sorted(keys):
            raise PromptGroupError(
                f"{origin}: pair {pair.get('pair_id', i + 1)} has groups "
                f"{sorted(k for k in pair if k != 'pair_id')}, the first pair {sorted(keys)}."
            )
        for k in keys:
            groups[k] += _texts(pair[k], f"{origin}, pair {pair.get('pair_id', i + 1)}")[:1]
    ids = [str(p.get("pair_id", i + 1)) for i, p in enumerate(pairs)]
    name = str(data.get("experiment_name") or data.get("name") or "prompt pairs")
    return _checked(PromptGroups(name, groups, ids), origin)


def _checked(groups: PromptGroups, origin: str) -> PromptGroups:
    if len(groups.groups) < 2:
        raise PromptGroupError(f"{origin}: at least two groups of prompts are needed to compare them.")
    empty = [k for k, v in groups.groups.items() if not v]
    if empty:
        raise PromptGroupError(f"{origin}: group(s) {', '.join(empty)} have no prompts.")
    return groups


def read_groups(path: str | Path) -> PromptGroups:
    """A prompt-group JSON file in any of the layouts of the module docstring."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))  # a BOM from Windows editors is fine
    except FileNotFoundError as exc:
        raise PromptGroupError(f"{path}: no such file.") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise PromptGroupError(f"{path}: not a readable JSON file ({exc}).") from exc
    return PromptGroups.from_dict(data, str(path))


def save_groups(project: Project, groups: PromptGroups) -> None:
    """Keep ``groups`` in the project under its name (replacing one of that name) and mark it the last used."""
    with project.transaction():
        project.set_meta(_PREFIX + groups.name, json.dumps(groups.to_dict()))
        project.set_meta(_LAST, groups.name)


def saved_group_names(project: Project) -> list[str]:
    rows = project.con.execute("SELECT key FROM meta WHERE key LIKE ? ORDER BY key", (_PREFIX + "%",))
    return [k[len(_PREFIX) :] for (k,) in rows if k != _LAST]


def load_groups(project: Project, name: str | None = None) -> PromptGroups | None:
    """Saved groups by name, or the last used ones (``None`` when the project has none)."""
    name = name or project.get_meta(_LAST)
    stored = project.get_meta(_PREFIX + name) if name else None
    return PromptGroups.from_dict(json.loads(stored), f"project prompt groups {name}") if stored else None
