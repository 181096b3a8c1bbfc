"""What the plate view shows, computed without Qt: per-well outcome, per-plate counts, review order, filters.

A well's *outcome* is read at its latest time point (older images are history): the user's score when any
drop there is scored, else the model's prediction (task ``outcome``). With several drops the most promising
one speaks for the well: ``crystals`` wins, otherwise the most confident drop. Review order (the queue that
keyboard scoring walks) puts unscored wells first — predicted crystals by falling confidence, then the rest
by rising confidence (the model is least sure there), then wells without a prediction — and scored wells last.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from micview.core.plate_export import TASK, DropScore, plate_scores
from micview.core.plates import Plate, natural_key, well_position
from micview.core.store import Project

MARCO_CLASSES = ("clear", "crystals", "precipitate", "other")  # MARCO's scoring-key order (keys 1–4)
HIT = "crystals"
FILTERS = ("All wells", "Unscored", "Predicted crystals", "Changed since previous time point")
ORDERS = ("Plate order", "Review order")


@dataclass(frozen=True, slots=True)
class WellState:
    """One imaged well: its drops at the latest time point, everything before, and the resulting outcome."""

    well: str
    latest: list[DropScore]  # one per drop, at that drop's latest time point, in drop order
    history: list[DropScore]  # every image of the well, drop then time order (newest last)
    label: str | None
    confidence: float | None  # 1.0 for a user score, the model's confidence otherwise
    scored: bool  # the user scored it (not only the model)
    changed: bool  # label or prediction differs between a drop's two latest time points

    @property
    def crystal_score(self) -> float:
        """The model's probability of crystals in the most promising drop (0 without predictions)."""
        best = 0.0
        for s in self.latest:
            if s.model is not None:
                p = (s.model.scores or {}).get(HIT, s.model.score if s.model.label == HIT else 0.0)
                best = max(best, p or 0.0)
        return best


def task_classes(project: Project, task: str = TASK) -> list[str]:
    """The scoring keys' classes: the lab's own scale when the task is defined (up to 9), else MARCO's."""
    definition = project.labels.task(task)
    return list(definition.classes[:9]) if definition and definition.classes else list(MARCO_CLASSES)


def well_states(project: Project, plate: Plate, task: str = TASK) -> dict[str, WellState]:
    """Every imaged well of ``plate`` (row-major) with its outcome."""
    per_well: dict[str, list[DropScore]] = {}
    for s in plate_scores(project, plate, task):
        per_well.setdefault(s.drop.well, []).append(s)
    return {w: _state(w, scores) for w, scores in sorted(per_well.items(), key=lambda kv: well_position(kv[0]))}


def _state(well: str, scores: list[DropScore]) -> WellState:
    history = sorted(scores, key=lambda s: (natural_key(s.drop.drop), natural_key(s.drop.time)))
    per_drop: dict[str, list[DropScore]] = {}
    for s in history:
        per_drop.setdefault(s.drop.drop, []).append(s)
    latest = [series[-1] for series in per_drop.values()]
    users = [s for s in latest if s.user is not None]
    if users:
        pick = next((s for s in users if s.user and s.user.label == HIT), users[0])
        label, confidence = pick.label, 1.0
    else:
        preds = [s for s in latest if s.model is not None]
        pick_pred = max(preds, key=lambda s: (s.label == HIT, s.confidence or 0.0), default=None)
        label = pick_pred.label if pick_pred else None
        confidence = pick_pred.confidence if pick_pred else None
    changed = any(_changed(series) for series in per_drop.values())
    return WellState(well, latest, history, label, confidence, bool(users), changed)


def _changed(series: list[DropScore]) -> bool:
    if len(series) < 2:
        return False
    prev, last = series[-2], series[-1]
    users = prev.user is not None and last.user is not None and prev.user.label != last.user.label
    models = prev.model is not None and last.model is not None and prev.model.label != last.model.label
    return users or models


def review_key(state: WellState) -> tuple[object, ...]:
    """Sort key of the review order (see the module docstring)."""
    if state.scored:
        return (3, *well_position(state.well))
    if state.label is None:
        return (2, *well_position(state.well))
    if state.label == HIT:
        return (0, -(state.confidence or 0.0), *well_position(state.well))
    return (1, state.confidence or 0.0, *well_position(state.well))


def queue(states: dict[str, WellState], flt: str = FILTERS[0], order: str = ORDERS[0]) -> list[str]:
    """The wells keyboard scoring walks through: those passing ``flt``, in ``order``."""
    keep = {
        FILTERS[0]: lambda s: True,
        FILTERS[1]: lambda s: not s.scored,
        FILTERS[2]: lambda s: any(d.model is not None and d.model.label == HIT for d in s.latest),
        FILTERS[3]: lambda s: s.changed,
    }[flt]
    chosen = [s for s in states.values() if keep(s)]
    if order == ORDERS[1]:
        chosen.sort(key=review_key)
    return [s.well for s in chosen]


def class_counts(states: dict[str, WellState]) -> Counter[str]:
    """Wells per outcome class (``unscored`` for wells with neither score nor prediction)."""
    return Counter(s.label or "unscored" for s in states.values())


def scored_count(states: dict[str, WellState]) -> tuple[int, int]:
    """(wells the user scored, imaged wells)."""
    return sum(s.scored for s in states.values()), len(states)
