"""The crystallization-plate view: well grid, drops over time, review queue, keyboard and MARCO scoring."""

from __future__ import annotations

from micview.gui.plates.view import PlateView

__all__ = ["PlateView"]
