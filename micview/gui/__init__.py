"""The PySide6 application (arrives with the GUI issue). Qt is imported only below this package."""
