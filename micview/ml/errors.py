"""Errors about models that a user can cause (unknown id, missing weights, no text tower, offline)."""

from __future__ import annotations

from micview.core.errors import MicviewError


class ModelError(MicviewError):
    """A model cannot be found, loaded or used for what was asked."""


class ModelNotAvailableError(ModelError):
    """The model is known but its weights are not on this computer."""


class NoTextTowerError(ModelError):
    """Text search was asked of an image-only model."""
