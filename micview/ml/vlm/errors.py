"""Errors a user can cause with vision-language models (each says what to do about it)."""

from __future__ import annotations

from micview.core.errors import MicviewError
from micview.ml.errors import ModelError


class NotAVlmError(ModelError):
    """The folder or id is not a vision-language model micview can load."""


class VlmMemoryError(ModelError):
    """The model does not fit in the free GPU (or CPU) memory; refused before loading, not an OOM crash."""


class RemoteCodeError(ModelError):
    """The model needs code from its repository, which is only run when the user explicitly allows it."""


class ScoringError(ModelError):
    """Multiple-choice letters cannot be scored with this model's tokenizer (use generate-and-parse)."""


class ImageNotInProjectError(MicviewError):
    """An image named on the command line (or in a CSV) is not part of the project."""
