"""Headless core: project store, image reading, import, labels, export, tasks.

Imports neither Qt nor torch, so the CLI, the tests and the GUI can all use it cheaply.
"""
