"""Alert rules on arriving images, and where their hits go.

Rules, as a user writes them (CLI ``--alert``, the GUI's alert box):

* ``CLASS>=SCORE`` — predicted ``CLASS`` with a score of at least ``SCORE`` (``crystals>=0.8``);
* ``far`` or ``far>DISTANCE`` — farther from every labelled image than ``DISTANCE`` (cosine distance); plain
  ``far`` uses the distance that only 5 % of the project's images exceed (the pipeline measures it);
* ``changed`` — a plate well's prediction differs from its previous time point.

A hit goes to the caller (a non-modal notice and the hit list in the GUI, a line in the CLI) and optionally to
a JSON-lines file (one object per hit, appended) and to a command. The command is run **without a shell**
(the words of the command line, split like a shell would, but never interpreted by one), with the hit as
JSON on its standard input and ``MICVIEW_HIT_PATH``/``MICVIEW_HIT_RULE`` in its environment, one at a time on
a background thread so a slow script never delays the next image, and stopped after ``timeout_s``.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import shlex
import subprocess
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from micview.core.errors import MicviewError
from micview.core.watch.arrival import Arrival

log = logging.getLogger("micview")
_SCORE_RULE = re.compile(r"^\s*(?P<cls>[^<>=]+?)\s*>=?\s*(?P<score>[0-9]*\.?[0-9]+)\s*$")
_FAR_RULE = re.compile(r"^\s*far\s*(?:>=?\s*(?P<d>[0-9]*\.?[0-9]+))?\s*$", re.IGNORECASE)


class AlertRuleError(MicviewError):
    """An alert rule that cannot be understood."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: ``kind`` is ``score``, ``far`` or ``changed``; ``text`` as the user wrote it."""

    kind: str
    text: str
    label: str = ""
    threshold: float | None = None

    def check(self, arrival: Arrival) -> str | None:
        """Why ``arrival`` is a hit, in words, or ``None``."""
        if self.kind == "score":
            for g in arrival.guesses:
                if g.label == self.label and self.threshold is not None and g.score >= self.threshold:
                    return f"{g.label} {g.score:.2f} ({g.source})"
            return None
        if self.kind == "far":
            limit = self.threshold if self.threshold is not None else arrival.far_above
            if arrival.distance is not None and limit is not None and arrival.distance > limit:
                return f"distance {arrival.distance:.2f} to the nearest labelled image (> {limit:.2f})"
            return None
        return _changed(arrival)


def _changed(arrival: Arrival) -> str | None:
    well, guess = arrival.well, arrival.guess
    if well is None or guess is None or well.previous_label is None or well.previous_label == guess.label:
        return None
    return f"well {well.plate} {well.well} drop {well.drop}: {well.previous_label} → {guess.label} at {well.time}"


def parse_rule(text: str) -> Rule:
    """A :class:`Rule` from its text (see the module docstring); :class:`AlertRuleError` when it is not one."""
    if text.strip().lower() == "changed":
        return Rule("changed", text.strip())
    if m := _FAR_RULE.match(text):
        return Rule("far", text.strip(), threshold=float(m["d"]) if m["d"] else None)
    if (m := _SCORE_RULE.match(text)) and 0 <= float(m["score"]) <= 1:
        return Rule("score", text.strip(), m["cls"].strip(), float(m["score"]))
    raise AlertRuleError(
        f"Alert rule {text!r} is not understood. Use CLASS>=SCORE (e.g. crystals>=0.8, a score from 0 to 1), "
        "far, far>DISTANCE (e.g. far>0.4) or changed."
    )


@dataclass(frozen=True)
class Hit:
    rule: str
    why: str
    arrival: Arrival
    at: float

    def as_dict(self) -> dict[str, Any]:
        when = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.at))
        return {"time": when, "rule": self.rule, "why": self.why, **self.arrival.as_dict()}


def check_all(rules: Iterable[Rule], arrival: Arrival) -> list[Hit]:
    now = time.time()
    return [Hit(r.text, why, arrival, now) for r in rules if (why := r.check(arrival)) is not None]


class JsonLinesSink:
    """Appends each hit as one JSON object per line (opened per hit, so the file may be moved or rotated)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            with self.path.open("a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise AlertRuleError(f"Cannot write alerts to {self.path}: {exc.strerror or exc}.") from exc

    def send(self, hit: Hit) -> None:
        try:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(hit.as_dict(), default=str) + "\n")
        except OSError as exc:
            log.warning("could not write an alert to %s (%s)", self.path, exc.strerror or exc)

    def close(self, wait_s: float | None = None) -> None:
        pass


class CommandSink:
    """Runs ``command`` (no shell) for each hit, one at a time on a background thread, each for ``timeout_s``."""

    def __init__(self, command: str | list[str], timeout_s: float = 10.0) -> None:
        self.argv = shlex.split(command) if isinstance(command, str) else list(command)
        if not self.argv:
            raise AlertRuleError("The alert command is empty.")
        self.timeout_s = timeout_s
        self.failures: list[str] = []
        self._queue: queue.Queue[Hit | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="micview-alert-command", daemon=True)
        self._thread.start()

    def send(self, hit: Hit) -> None:
        self._queue.put(hit)

    def close(self, wait_s: float | None = None) -> None:
        """Let queued hits run (each within its time limit), then stop the thread."""
        self._queue.put(None)
        self._thread.join(wait_s)

    def _run(self) -> None:
        while (hit := self._queue.get()) is not None:
            self._call(hit)

    def _call(self, hit: Hit) -> None:
        env = {**os.environ, "MICVIEW_HIT_PATH": hit.arrival.path, "MICVIEW_HIT_RULE": hit.rule}
        payload = json.dumps(hit.as_dict(), default=str)
        try:
            done = subprocess.run(self.argv, input=payload, text=True, capture_output=True, env=env,
                                  timeout=self.timeout_s, check=False)  # fmt: skip
        except subprocess.TimeoutExpired:
            self._fail(f"took longer than {self.timeout_s:g} s and was stopped")
        except OSError as exc:
            self._fail(f"could not be started ({exc.strerror or exc})")
        else:
            if done.returncode != 0:
                self._fail(f"exited with code {done.returncode}: {done.stderr.strip()[-200:]}")

    def _fail(self, why: str) -> None:
        message = f"the alert command {self.argv[0]} {why}"
        self.failures.append(message)
        log.warning("%s", message)
