"""Models from the window: what is installed, add a folder, download a recommended model, remove, use.

The work is :mod:`micview.ml.model_install`'s, shared with ``micview models``; downloading and adding (which
hashes the weights) are jobs with progress and Cancel. After each change ``session.models_changed`` tells
every model list (the search bar, the Classify tab, the Models dialog). A text-image model that arrives while
the window uses an image-only one becomes the model in use, so search by text works in one step (after its
embeddings, which the notice offers to compute). Errors are reported under the title ``"Models"`` without a
pop-up: the Models dialog shows them where the user looks, and the status bar and jobs panel too.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from micview.core.errors import MicviewError
from micview.gui.controllers.maps import MapController
from micview.gui.session import Session
from micview.gui.workers import Job

if TYPE_CHECKING:
    from micview.ml.model_install import InstalledModel
    from micview.ml.registry import ModelSpec, Recommendation

TITLE = "Models"
EMBEDDABLE = ("effnet", "open_clip", "transformers")


class ModelsController:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- what there is ---------------------------------------------------------------------------------------------
    def installed(self) -> list[InstalledModel]:
        from micview.ml.model_install import installed

        return installed()

    def recommended(self) -> list[tuple[Recommendation, bool]]:
        from micview.ml.model_install import recommended

        return recommended()

    def offline_ids(self) -> list[str]:
        """Ids of the models that can embed images and whose weights are on this computer."""
        from micview.ml.registry import all_models, locate

        return [s.id for s in all_models() if s.family in EMBEDDABLE and locate(s) is not None]

    @staticmethod
    def offline_mode() -> bool:
        from micview.ml.hub import offline

        return offline()

    # -- changes ---------------------------------------------------------------------------------------------------
    def add_folder(self, folder: Path, model_id: str | None = None) -> Job:
        """Register ``folder`` (family detected as ``micview models add`` does); its weights are hashed first."""
        from micview.ml.model_install import add_folder_task

        return self._start(f"Add model {folder.name}", lambda: add_folder_task(folder, model_id or None),
                           lambda spec: self._arrived(spec, f"Added {spec.id}"))  # fmt: skip

    def pull(self, model_id: str) -> Job:
        """Download ``model_id`` (every file checked against the hub's sha256); offline it fails at once, saying how."""
        from micview.ml.model_install import pull_task
        from micview.ml.registry import get_spec

        return self._start(f"Download {model_id}", lambda: pull_task(model_id),
                           lambda _folder: self._arrived(get_spec(model_id), f"Downloaded {model_id}"))  # fmt: skip

    def remove(self, model_id: str) -> bool:
        """Forget a model added from a folder (its files stay); the default model takes over if it was in use."""
        from micview.ml.model_install import remove
        from micview.ml.registry import DEFAULT_MODEL

        try:
            spec = remove(model_id)
        except MicviewError as exc:
            self.session.errors.report(TITLE, str(exc), popup=False)
            return False
        if self.session.model_id == model_id:
            MapController(self.session).set_model(DEFAULT_MODEL)
        self.session.models_changed.emit()
        self.session.status(f"Removed {model_id}; its files in {spec.path} were left as they are.")
        return True

    def use(self, model_id: str) -> None:
        """Make ``model_id`` the model of the map and of search."""
        MapController(self.session).set_model(model_id)

    # -- helpers ---------------------------------------------------------------------------------------------------
    def _start(self, title: str, factory: Any, on_result: Any) -> Job:
        return self.session.jobs.start(
            title, factory, pool="io", on_result=on_result,
            on_error=lambda message, details: self.session.errors.report(TITLE, message, details, popup=False),
        )  # fmt: skip

    def _arrived(self, spec: ModelSpec, done: str) -> None:
        from micview.ml.features import base_spec
        from micview.ml.model_install import kind_of

        kind = kind_of(spec)
        self.session.models_changed.emit()
        try:
            current_has_text = base_spec(self.session.model_id).has_text
        except MicviewError:
            current_has_text = False
        if spec.has_text and spec.family in EMBEDDABLE and not current_has_text:
            self.use(spec.id)
            embed = (("Compute embeddings", "embed"),) if self.session.project is not None else ()
            self.session.notify(f"{done} ({spec.family}, {kind}); it is now the model for search and the map. "
                                "Search by text works once the images are embedded with it.", embed)  # fmt: skip
        elif spec.family in EMBEDDABLE:
            self.session.notify(f"{done} ({spec.family}, {kind}). Choose it under Model to use it.")
        else:
            self.session.notify(f"{done} ({kind}).")
