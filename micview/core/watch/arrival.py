"""What the live pipeline knows about one newly arrived image: plain data, shared by the CLI, the GUI and alerts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Guess:
    """One prediction: ``label`` with ``score`` from ``source`` (``few-shot:logreg``, ``zero-shot``, ``marco``)."""

    task: str
    label: str
    score: float
    source: str


@dataclass(frozen=True, slots=True)
class Neighbour:
    """A labelled image near the new one: its id, name, label and cosine similarity."""

    image_id: int
    name: str
    label: str
    similarity: float


@dataclass(frozen=True, slots=True)
class WellPoint:
    """Where a drop image sits on a plate, and what its well showed at the previous time point."""

    plate: str
    well: str
    drop: str
    time: str
    previous_image: int | None = None
    previous_label: str | None = None


@dataclass(frozen=True)
class Arrival:
    """One image that arrived while watching, after the whole pipeline.

    ``xy`` is its place on the current map (``None`` when there is no map yet); ``distance`` the cosine
    distance to the nearest labelled image (``None`` without labels) and ``far_above`` the distance from which
    an image counts as far from every labelled one. Times are ``time.time()`` seconds: ``complete_at`` when
    the file was last seen changing, ``placed_at`` when its point was on the map.
    """

    image_id: int
    path: str
    name: str
    new: bool = True
    xy: tuple[float, float] | None = None
    guesses: tuple[Guess, ...] = ()
    neighbours: tuple[Neighbour, ...] = ()
    distance: float | None = None
    far_above: float | None = None
    well: WellPoint | None = None
    complete_at: float = 0.0
    placed_at: float = 0.0
    notes: tuple[str, ...] = field(default=())

    @property
    def guess(self) -> Guess | None:
        """The prediction alerts and the well history use: MARCO's for a drop when there is one, else the task's."""
        marco = [g for g in self.guesses if g.source == "marco"]
        return marco[0] if marco else (self.guesses[0] if self.guesses else None)

    @property
    def latency(self) -> float:
        return self.placed_at - self.complete_at if self.placed_at and self.complete_at else 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (for ``--json`` output, alert files and commands)."""
        out = asdict(self)
        out["latency_s"] = round(self.latency, 3)
        return out
