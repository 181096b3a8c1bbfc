"""The thumbnail browser: a Qt item model over the project's images, a painting delegate, and the widget."""
