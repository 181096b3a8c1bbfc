"""``python -m micview`` is the same as the ``micview`` command; it is also the frozen app's entry point.

``freeze_support()`` comes first: in the frozen app, the worker processes that the importer and the map
start (spawn) run this same executable, and it must run the worker instead of the command line.
"""

import multiprocessing

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from micview.cli import main

    raise SystemExit(main())
