"""Layer rules that keep start-up fast and the core headless (architecture.md)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "transformers", "open_clip", "timm", "umap", "sklearn", "PySide6", "pyqtgraph", "rsciio", "h5py")


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return {m.split(".")[0] for m in out.split()}


def test_core_and_cli_import_nothing_heavy() -> None:
    assert _loaded_after("import micview.core.store, micview.core.importer, micview.core.csv_io, micview.cli") == set()
    assert _loaded_after("import micview.core.imaging") == set()  # readers load rosettasciio only when needed


def test_cli_help_does_not_load_torch() -> None:
    assert _loaded_after("from micview.cli import build_parser\nbuild_parser().format_help()") == set()
