"""Errors a user can cause, with messages a microscopist understands.

The CLI prints these and exits non-zero; the GUI shows them in a dialog. Neither shows a traceback for them.
"""

from __future__ import annotations


class MicviewError(Exception):
    """Base class for every error caused by input, files or settings rather than by a bug."""


class MicviewWarning(UserWarning):
    """Warnings micview raises itself (tests turn them into errors)."""


class ProjectError(MicviewError):
    """The project file cannot be opened or written."""


class ProjectVersionError(ProjectError):
    """The project file was written by a newer micview; it is left untouched."""


class DiskFullError(ProjectError):
    """The disk is full; the current transaction was rolled back and nothing earlier was lost."""


class NotAProjectError(ProjectError):
    """The file is not a micview project (another program's file, or its first bytes are gone)."""


class ProjectDamagedError(ProjectError):
    """The project file is damaged; it is opened read-only, and ``micview salvage`` copies what is readable."""


class ReadOnlyProjectError(ProjectError):
    """A write was refused: the project is open read-only (asked for, read-only folder or file, or damaged)."""


class ProjectLockedError(ProjectError):
    """Another micview (or another program) kept the project locked for writing longer than micview waits."""


class ImageReadError(MicviewError):
    """An image file cannot be read: unknown format, corrupt, truncated or too large."""


class OutputError(MicviewError):
    """A file the user asked for (an export, a report, a plate map) cannot be written; nothing was written."""


class CsvError(MicviewError):
    """A CSV file has the wrong shape (missing key column, unreadable encoding, ...)."""


class Cancelled(MicviewError):
    """A long task was cancelled by the user; work committed so far is kept."""
