"""Watch mode's headless parts: a folder watcher that hands out complete files, taking them into the project,
what is known about each arrival, alert rules and their outputs, and plate wells over time."""

from __future__ import annotations

from micview.core.watch.alerts import AlertRuleError, CommandSink, Hit, JsonLinesSink, Rule, check_all, parse_rule
from micview.core.watch.arrival import Arrival, Guess, Neighbour, WellPoint
from micview.core.watch.folder import FolderWatcher, Look, is_network_path
from micview.core.watch.intake import NotTaken, Taken, take
from micview.core.watch.readiness import Readiness

__all__ = [
    "AlertRuleError", "Arrival", "CommandSink", "FolderWatcher", "Guess", "Hit", "JsonLinesSink", "Look",
    "Neighbour", "NotTaken", "Readiness", "Rule", "Taken", "WellPoint", "check_all", "is_network_path",
    "parse_rule", "take",
]  # fmt: skip
