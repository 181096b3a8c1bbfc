"""A dark Fusion palette: images read better on dark surroundings (as in napari, QuPath, Fiji's dark mode)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

_COLORS = {
    QPalette.ColorRole.Window: "#1b1c1f", QPalette.ColorRole.WindowText: "#e3e5e8",
    QPalette.ColorRole.Base: "#141518", QPalette.ColorRole.AlternateBase: "#1e2023",
    QPalette.ColorRole.ToolTipBase: "#26282c", QPalette.ColorRole.ToolTipText: "#e3e5e8",
    QPalette.ColorRole.Text: "#e3e5e8", QPalette.ColorRole.Button: "#2a2c31",
    QPalette.ColorRole.ButtonText: "#e3e5e8", QPalette.ColorRole.BrightText: "#ff5252",
    QPalette.ColorRole.Highlight: "#2f6fde", QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#6ea8ff", QPalette.ColorRole.PlaceholderText: "#7c828a",
}  # fmt: skip


def apply_dark_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = QPalette()
    for role, color in _COLORS.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b7078"))
    app.setPalette(palette)
    app.setStyleSheet("QToolTip { border: 1px solid #44474d; } QDockWidget::title { padding: 4px; }")
