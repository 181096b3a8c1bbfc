"""The incremental pipeline for images that arrive while watching, with every model kept loaded.

Per batch of newly taken files (:mod:`micview.core.watch.intake` already stored the record and thumbnail):
embed (the model from the shared :mod:`~micview.ml.model_cache`) → place on the stored maps with their
reducers (:mod:`.placer`; existing points never move) → the task's prediction and the nearest labelled
images (:mod:`.predict`) → MARCO for plate drops (:mod:`.drops`) → the drop's well and its previous time
point (:mod:`micview.core.watch.wells`). The result is one :class:`~micview.core.watch.arrival.Arrival` per
image. When the model has no map yet and three or more images have vectors, a PCA map is made (instant)
so that points appear at once; ``micview map`` or the GUI's refit makes the UMAP one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from micview.core.errors import MicviewError
from micview.core.store import Project
from micview.core.watch.arrival import Arrival, Guess, WellPoint
from micview.core.watch.intake import Taken
from micview.core.watch.wells import WellIndex, latest_prediction
from micview.ml.registry import DEFAULT_MODEL
from micview.ml.watch.drops import DropScorer
from micview.ml.watch.placer import Placer
from micview.ml.watch.predict import LivePredictor
from micview.ml.watch.vectors import vectors_of_hashes


@dataclass
class WatchOptions:
    """How to watch and what to do with each image (CLI flags and the GUI's watch panel fill it)."""

    model_id: str = DEFAULT_MODEL
    task: str | None = None  # predictions of this task (few-shot from its labels, zero-shot for CLIP models)
    method: str | None = None  # the map whose coordinates arrivals report; None: UMAP when there is one
    device: str | None = None
    marco: bool | None = None  # None: when the project has a plate pattern or MARCO scores already
    rules: tuple[Any, ...] = ()
    recursive: bool = True
    extensions: list[str] | None = None
    polling: bool | None = None
    poll_s: float = 1.0
    settle_s: float = 0.5
    give_up_s: float = 30.0
    separate_process: bool = False  # the whole watch in a helper process (the window's: its GIL never waits)
    notes: list[str] = field(default_factory=list)


class LivePipeline:
    """Embeds, places and predicts newly taken images of ``project`` (one thread; not thread-safe)."""

    def __init__(self, project: Project, options: WatchOptions) -> None:
        self.project, self.options = project, options
        self.embedder: Any = None
        self.placer: Placer | None = None
        self.predictor: LivePredictor | None = None
        self.drops: DropScorer | None = None
        self.wells = WellIndex.of_project(project)
        self.embed_run: int | None = None

    def warm_up(self) -> None:
        """Load the model, the map's reducer and the classifier now, before the first image."""
        from micview.ml.model_cache import shared

        self.embedder = shared().embedder(self.options.model_id, self.options.device or "auto")
        self.placer = Placer(self.project, self.embedder.id)
        self.placer.warm_up()
        self.predictor = LivePredictor(self.project, self.options.task, self.embedder.id, self.embedder)
        self.predictor.refresh(force=True)
        if self._wants_marco():
            self.drops = DropScorer(self.project, self.options.device)

    def _wants_marco(self) -> bool:
        if self.options.marco is not None:
            return self.options.marco
        from micview.core.plates import PATTERN_META

        if self.project.get_meta(PATTERN_META):
            return True
        sql = "SELECT 1 FROM annotations WHERE task = 'outcome' AND source = 'model' AND model_id = 'marco' LIMIT 1"
        return self.project.con.execute(sql).fetchone() is not None

    @property
    def method(self) -> str | None:
        runs = self.placer.runs if self.placer else {}
        if self.options.method in runs:
            return self.options.method
        return "umap" if "umap" in runs else ("pca" if "pca" in runs else None)

    def close(self) -> None:
        if self.placer is not None:
            self.placer.close()
        if self.embed_run is not None:
            self.project.runs.set_status(self.embed_run, "done")

    # -- one batch ------------------------------------------------------------------------------------------
    def process(self, taken: list[Taken]) -> list[Arrival]:
        """Everything after the import, for images just stored; images that fail to embed are noted and skipped."""
        if not taken:
            return []
        assert self.embedder is not None and self.placer is not None and self.predictor is not None
        ok, vectors, notes = self._embed(taken)
        arrivals = [Arrival(t.image_id, str(t.path), t.path.name, t.new, notes=(n,)) for t, n in notes]
        if not ok:
            return arrivals
        ids = np.array([t.image_id for t in ok], np.int64)
        self._ensure_map()
        placed = self.placer.place(ids, vectors)
        method, placed_at = self.method, time.time()
        self.predictor.refresh()
        guesses = self.predictor.guesses(ids, vectors)
        near = self.predictor.neighbours(vectors)
        for k, t in enumerate(ok):
            xy = placed[method][k] if method else None
            arrival = Arrival(
                t.image_id, str(t.path), t.path.name, t.new,
                xy=(float(xy[0]), float(xy[1])) if xy is not None else None,
                guesses=tuple(g for g in [guesses[k]] if g is not None), neighbours=near[k][0], distance=near[k][1],
                far_above=self.predictor.far_above, complete_at=_mtime(t.path), placed_at=placed_at,
            )  # fmt: skip
            arrivals.append(self._drop(arrival, t))
        return arrivals

    def _embed(self, taken: list[Taken]) -> tuple[list[Taken], np.ndarray, list[tuple[Taken, str]]]:
        from micview.ml.embedder import l2_normalise
        from micview.ml.preprocess import batch_inputs, load_model_input

        known = vectors_of_hashes(self.project, self.embedder.id, [t.content_hash for t in taken])
        ok, pixels, notes = [], [], []
        for t in taken:
            if t.content_hash in known:
                ok.append(t)
                continue
            try:
                pixels.append((t, load_model_input(self.embedder, t.path)))
            except (MicviewError, OSError) as exc:
                notes.append((t, f"not embedded: {exc}"))
        if pixels:
            encoded = l2_normalise(self.embedder.encode_pixels(batch_inputs(self.embedder, [p for _, p in pixels])))
            self.project.embeddings.put(self.embedder.id, [t.content_hash for t, _ in pixels], encoded,
                                        run_id=self._embed_run())  # fmt: skip
            known.update({t.content_hash: v for (t, _), v in zip(pixels, encoded, strict=True)})
            ok += [t for t, _ in pixels]
        ok.sort(key=lambda t: t.image_id)
        vectors = np.stack([known[t.content_hash] for t in ok]).astype(np.float32) if ok else np.zeros((0, 0))
        return ok, vectors, notes

    def _embed_run(self) -> int:
        if self.embed_run is None:
            m = self.embedder
            params = {"preprocess": m.preprocess.as_params(), "decode": "micview.core.imaging.read_display",
                      "family": m.spec.family, "device": m.device, "precision": m.precision, "batch_size": 1,
                      "store_dtype": "float16", "via": "watch"}  # fmt: skip
            self.embed_run = self.project.runs.record(
                "embedding", f"embeddings:{m.id}", "embed_images", params,
                model_id=m.id, weights_hash=m.weights_hash, status="running",
            )  # fmt: skip
        return self.embed_run

    def _ensure_map(self) -> None:
        """No map of this model yet: make a PCA map of what has vectors (instant), then place on it."""
        assert self.placer is not None
        if self.placer.runs:
            return
        from micview.core.tasks import run_task
        from micview.ml.maps import map_task

        ids, _ = self.project.embeddings.for_images(self.embedder.id)
        if len(ids) < 3:
            return
        run_task(map_task(self.project, self.embedder.id, "pca", in_process=False))
        self.placer = Placer(self.project, self.embedder.id)
        self.options.notes.append("made a PCA map of the images with vectors (micview map … --method umap refits)")

    def _drop(self, arrival: Arrival, taken: Taken) -> Arrival:
        """The plate side: the drop's well and previous time point, and MARCO's score."""
        place = self.wells.add(taken.image_id, taken.stored)
        if place is None:
            return arrival
        (plate, well, drop), when = place
        guesses = arrival.guesses
        if self.drops is not None:
            marco = self.drops.score(taken.image_id, taken.path)
            guesses = (marco, *guesses) if marco is not None else guesses
            if self.drops.unavailable and not any(n.startswith("MARCO") for n in self.options.notes):
                self.options.notes.append(f"MARCO scores nothing: {self.drops.unavailable}")
        previous = self.wells.previous(taken.image_id)
        current: Guess | None = guesses[0] if guesses else None
        before = None
        if previous is not None and current is not None:
            model = "marco" if current.source == "marco" else self.embedder.id
            before = latest_prediction(self.project, previous, current.task, model)
        return replace(arrival, guesses=guesses, well=WellPoint(plate, well, drop, when, previous, before))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
