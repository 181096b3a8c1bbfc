"""Search: plain language (CLIP-family models) and "More like this" (any model); results go to the session.

The latest request wins: a new search cancels the one still running, so typing fast never queues stale
searches. Messages a user needs (an image-only model, nothing selected) are reported without a pop-up and
returned, so the search bar can show them where the user looks.
"""

from __future__ import annotations

from typing import Any

from micview.core.errors import MicviewError
from micview.gui import background
from micview.gui.session import Session
from micview.gui.workers import Job

SEARCH_K = 24
IMAGE_ONLY = (
    "{model} is image-only, so it cannot search by text. Add a CLIP or SigLIP model (Images ▸ Models…, or "
    "`micview models add PATH`), choose it under Model, embed, and search again. “More like this” works with "
    "every model."
)


def _has_text(model_id: str) -> bool:
    from micview.ml.features import base_spec

    return bool(base_spec(model_id).has_text)


class SearchController:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._job: Job | None = None

    def text(self, query: str) -> Job | None:
        """Rank the images by similarity to ``query`` (needs a model with a text tower)."""
        project, model_id = self.session.project, self.session.model_id
        query = query.strip()
        if project is None or not query:
            return None
        try:
            has_text = _has_text(model_id)
        except MicviewError as exc:
            self._say(str(exc))
            return None
        if not has_text:
            self._say(IMAGE_ONLY.format(model=model_id))
            self.session.notify(f"{model_id} is image-only: searching in plain language needs a text + image "
                                "model (CLIP, SigLIP).", (("Add a text model…", "models"),))  # fmt: skip
            return None
        path, device = project.path, self.session.settings.device
        return self._start(f"“{query}”", lambda: background.text_search(path, query, model_id, device, SEARCH_K))

    def similar(self) -> Job | None:
        """The images most like the current one."""
        image_id, project = self.session.selection.current, self.session.project
        if project is None or image_id is None:
            self._say("Select an image first: “More like this” finds the images most like it.")
            return None
        path, model_id, device = project.path, self.session.model_id, self.session.settings.device
        name = self.session.catalog.name(image_id)
        return self._start(f"images like {name}",
                           lambda: background.similar(path, image_id, model_id, device, SEARCH_K))  # fmt: skip

    def clear(self) -> None:
        self.session.results.clear()

    def _start(self, query: str, factory: Any) -> Job:
        if self._job is not None and not self._job.done:
            self._job.cancel()
        self._job = self.session.jobs.start(
            f"Search {query}", factory, pool="model", quiet=True,
            on_result=lambda hits: self.session.results.set(hits.ids, hits.scores, query),
            on_error=lambda msg, _details: self._say(msg),
        )  # fmt: skip
        return self._job

    def _say(self, message: str) -> None:
        self.session.errors.report("Search", message, popup=False)
