"""The image viewer: zoom/pan, contrast for 16-bit/float data, frames, metadata, scale bar, pixel readout,
previous/next image, fit and 1:1 zoom, and a line profile."""

from __future__ import annotations

from micview.gui.viewer.metadata import MetadataTree
from micview.gui.viewer.scale import nice_length, percentile_levels
from micview.gui.viewer.window import ViewerWindow

__all__ = ["MetadataTree", "ViewerWindow", "nice_length", "percentile_levels"]
