"""When is a file that is still being written finished? Same size and modification time on two looks.

Microscope and imager software writes an image in chunks, sometimes over seconds, and a network share shows
the file long before it is complete. No file-system event says "the writer is done" everywhere (inotify's
close-write does not exist on SMB, Windows or macOS), so a file counts as complete once its size and mtime
were the same on two looks at least ``settle_s`` apart. The caller then still decodes it before importing
(:mod:`micview.core.watch.intake`): a writer that paused longer than ``settle_s`` leaves a truncated file that
does not decode, and that file is simply looked at again when it changes.

Pure bookkeeping (no I/O, the clock is passed in), so every rule here is tested without sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from micview.core.file_scan import FoundFile

Signature = tuple[int, float]  # (size, mtime)


@dataclass(slots=True)
class _Seen:
    signature: Signature
    since: float  # when this signature was first seen
    undecodable_since: float | None = None  # it was complete but did not decode, from then on


class Readiness:
    """Files seen, and which of them are complete and not handed out yet at their current signature."""

    def __init__(self, settle_s: float = 0.5, give_up_s: float = 30.0) -> None:
        self.settle_s = settle_s
        self.give_up_s = give_up_s
        self._seen: dict[Path, _Seen] = {}
        self._handed: dict[Path, Signature] = {}  # what was handed out (imported or given up on)

    def observe(self, path: Path, size: int, mtime: float, now: float) -> None:
        """Record one look at ``path``; a new size or mtime restarts its settling time."""
        signature = (size, mtime)
        seen = self._seen.get(path)
        if seen is None or seen.signature != signature:
            self._seen[path] = _Seen(signature, now)

    def forget(self, path: Path) -> None:
        """``path`` is gone (deleted, moved away, the folder vanished): stop waiting for it."""
        self._seen.pop(path, None)

    def pending(self) -> list[Path]:
        """Files seen whose current signature has not been handed out: they need another look."""
        return [p for p, s in self._seen.items() if self._handed.get(p) != s.signature]

    def next_due(self, now: float) -> float | None:
        """Seconds until the earliest pending file may be complete (0 when one already may), or ``None``."""
        dues = [s.since + self.settle_s - now for p, s in self._seen.items() if self._handed.get(p) != s.signature]
        return max(0.0, min(dues)) if dues else None

    def ready(self, now: float) -> list[FoundFile]:
        """Files complete by the rule (unchanged for ``settle_s``) and not handed out at this signature.

        A file that did not decode is offered again only after it changed, or once ``give_up_s`` passed
        (then the caller stores it as unreadable, so the user sees it rather than it waiting for ever).
        """
        out = []
        for path, seen in self._seen.items():
            if self._handed.get(path) == seen.signature or now - seen.since < self.settle_s:
                continue
            if seen.undecodable_since is not None and now - seen.undecodable_since < self.give_up_s:
                continue
            out.append(FoundFile(path, *seen.signature))
        return sorted(out, key=lambda f: f.path)

    def gave_up(self, path: Path, now: float) -> bool:
        """Whether ``path`` did not decode for ``give_up_s`` at its current signature."""
        seen = self._seen.get(path)
        return (
            seen is not None and seen.undecodable_since is not None and now - seen.undecodable_since >= self.give_up_s
        )

    def handed_out(self, found: FoundFile) -> None:
        """``found`` was imported (or stored as unreadable): never offer it again at this signature."""
        self._handed[found.path] = (found.size, found.mtime)

    def undecodable(self, found: FoundFile, now: float) -> None:
        """``found`` looked complete but did not decode: wait for a change (or ``give_up_s``)."""
        seen = self._seen.get(found.path)
        if seen is not None and seen.signature == (found.size, found.mtime) and seen.undecodable_since is None:
            seen.undecodable_since = now

    def __len__(self) -> int:
        return len(self._seen)
