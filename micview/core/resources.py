"""Where the files micview ships are: one lookup for a source checkout, an installed wheel and a frozen app.

The design card keeps prompt sets, label groupings and the like in the top-level ``resources/`` folder. The
wheel maps that folder into the package as ``micview/resources`` (hatch ``force-include`` in pyproject.toml)
and the PyInstaller spec puts it at the same place in the bundle, so :func:`importlib.resources.files` finds
it in both. A checkout (and an editable install, which imports the checkout) has no ``micview/resources``:
there the folder beside the package is used. ``MICVIEW_RESOURCES`` overrides both (tests, packagers).

A frozen app also carries models prepared at build time (MARCO converted to ONNX) in ``models/`` inside the
bundle: :func:`bundled_models_dir` says where, or ``None`` when micview is not frozen.
"""

from __future__ import annotations

import os
import sys
from importlib.resources import files
from pathlib import Path

from micview.core.errors import MicviewError

RESOURCES_ENV = "MICVIEW_RESOURCES"
BUNDLED_MODELS_ENV = "MICVIEW_BUNDLED_MODELS"


class MissingResourcesError(MicviewError):
    """micview's shipped files are not where they belong: an incomplete installation."""


def package_dir() -> Path:
    """The installed (or checked-out, or frozen) ``micview`` package folder."""
    return Path(str(files("micview")))


def resource_candidates() -> list[Path]:
    """The folders :func:`resources_dir` tries, in order."""
    candidates = []
    if env := os.environ.get(RESOURCES_ENV):
        candidates.append(Path(env))
    package = package_dir()
    candidates.append(package / "resources")  # wheel, frozen app
    if (package.parent / "pyproject.toml").is_file():  # a checkout: never another project's site-packages/resources
        candidates.append(package.parent / "resources")
    return candidates


def resources_dir() -> Path:
    """The folder of shipped resources; raises :class:`MissingResourcesError` when it cannot be found."""
    candidates = resource_candidates()
    for folder in candidates:
        if folder.is_dir():
            return folder
    looked = ", ".join(map(str, candidates))
    raise MissingResourcesError(
        f"micview's resources folder was not found (looked in {looked}); reinstall micview "
        f"(`pip install micview` from a checkout includes it) or set {RESOURCES_ENV} to the resources folder."
    )


def resource(*parts: str) -> Path:
    """A path inside the resources folder (it may not exist: e.g. a label grouping no task has)."""
    return resources_dir().joinpath(*parts)


def is_frozen() -> bool:
    """Whether this is the PyInstaller app rather than a Python installation."""
    return bool(getattr(sys, "frozen", False))


def bundle_dir() -> Path | None:
    """The frozen app's data folder (PyInstaller's ``sys._MEIPASS``), or ``None`` when not frozen."""
    meipass = getattr(sys, "_MEIPASS", None)
    return Path(meipass) if is_frozen() and meipass else None


def bundled_models_dir() -> Path | None:
    """The folder of models shipped inside the app (``MICVIEW_BUNDLED_MODELS`` overrides), or ``None``."""
    if env := os.environ.get(BUNDLED_MODELS_ENV):
        return Path(env)
    bundle = bundle_dir()
    return bundle / "models" if bundle is not None else None
