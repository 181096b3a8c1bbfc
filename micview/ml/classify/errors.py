"""Errors about classification that a user can cause, with messages that say what to do next."""

from __future__ import annotations

from micview.ml.errors import ModelError


class ClassifyError(ModelError):
    """A classifier cannot be trained, applied or evaluated as asked."""


class NoLabelsError(ClassifyError):
    """The task has no user labels (or too few) to learn from or to evaluate against."""


class OneClassError(ClassifyError):
    """Only one class is labelled: there is nothing to tell apart yet."""


class PromptSetError(ClassifyError):
    """A prompt set file is missing or malformed, or does not cover the task's classes."""
