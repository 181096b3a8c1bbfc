"""``python -m micview`` is the same as the ``micview`` command."""

from micview.cli import main

raise SystemExit(main())
