"""Errors a user can cause in the analysis (a bad prompt-group file, too little to analyse)."""

from __future__ import annotations

from micview.core.errors import MicviewError


class AnalysisError(MicviewError):
    """The analysis cannot run as asked; the message says what to change."""


class PromptGroupError(AnalysisError):
    """A prompt-group file or definition is not usable."""
