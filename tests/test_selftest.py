"""``micview --self-test``: every step passes on this installation; a failing step is named; the list of
lazily imported libraries it proves stays complete."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from micview.cli import _selftest
from micview.cli._selftest_steps import LAZY_IMPORTS, NOT_BUNDLED, Context, Skipped, StepError

PACKAGE = Path(__file__).resolve().parents[1] / "micview"


def _function_level_imports() -> set[str]:
    """Third-party modules micview imports inside functions (PyInstaller sees them; what they load, it may not)."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.Import):
                    found |= {a.name for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module)
    return {m for m in found if m.split(".")[0] not in sys.stdlib_module_names and m.split(".")[0] != "micview"}


def test_every_lazily_imported_library_is_imported_by_the_self_test() -> None:
    covered = set(LAZY_IMPORTS)  # `import PIL` is covered by PIL.Image: importing a submodule imports its parent

    def is_covered(name: str) -> bool:
        return name.split(".")[0] in NOT_BUNDLED or any(c == name or c.startswith(name + ".") for c in covered)

    missing = {m for m in _function_level_imports() if not is_covered(m)}
    assert not missing, f"add these to micview.cli._selftest_steps.LAZY_IMPORTS: {sorted(missing)}"


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    ran: list[str] = []

    def ok(ctx: Context) -> str:
        ran.append("ok")
        return "fine"

    def skip(ctx: Context) -> str:
        raise Skipped("not here")

    def fail(ctx: Context) -> str:
        print("what the step printed")
        raise StepError("the check did not hold")

    def never(ctx: Context) -> str:
        ran.append("never")
        return ""

    monkeypatch.setattr(_selftest, "STEPS", (("first", ok), ("optional", skip), ("breaks", fail), ("later", never)))
    monkeypatch.setattr(Context, "keep_user_marco", lambda self: None)
    monkeypatch.setenv("MICVIEW_LOG_DIR", str(tmp_path / "logs"))
    return ran


def test_the_failing_step_is_named_and_stops_the_test(steps: list[str], capsys, tmp_path: Path) -> None:
    before = dict(os.environ)
    assert _selftest.run_self_test() == 1
    out = capsys.readouterr().out
    assert "ok      first" in out and "skipped optional       not here" in out
    assert "FAILED  breaks: StepError: the check did not hold" in out and "what the step printed" in out
    assert out.rstrip().endswith("self-test FAILED at step 'breaks'")
    assert steps == ["ok"]  # 'later' never ran
    assert len(list((tmp_path / "logs").glob("crash-*.log"))) == 1
    assert dict(os.environ) == before  # the isolation is undone


@pytest.mark.slow
def test_self_test_passes_here(tmp_path: Path) -> None:
    """The whole self-test from this checkout (the app runs the same one: scripts/build_app.py)."""
    env = {**os.environ, "MICVIEW_LOG_DIR": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    run = subprocess.run([sys.executable, "-m", "micview", "--self-test"], capture_output=True, text=True,
                         env=env, timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("micview ") and lines[-1].startswith("self-test passed")
    assert "ok      window" in run.stdout and "ok      classify" in run.stdout
