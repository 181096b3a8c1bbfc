"""micview: browse, embed, search and classify microscopy images offline.

Imports nothing heavy, so ``import micview`` stays instant for the CLI and the GUI start-up.
"""

__version__ = "0.1.0"
