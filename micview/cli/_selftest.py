"""``micview --self-test``: prove that this installation works end to end, offline and without a display.

Made for the frozen app (pymmcore-gui's bundle test is the model): a scientist or CI runs one command on a
machine without Python and learns whether everything the app loads lazily is really there — the readers'
worker processes, the default model's weights, the tokenizers' vocabularies, the spawned map process,
MARCO's ONNX network, Qt's platform plugins. Each step does what a user does, mostly through the same
commands (:func:`micview.cli.main`), on generated sample images in a temporary folder; the user's settings,
registered models and caches are never touched. The output is one line per step with its time; the first
failing step stops the test, is named with its reason and its captured output, and the exit code is 1.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

from micview.cli._selftest_steps import STEPS, Context, Skipped

_ISOLATED = {"MICVIEW_CONFIG_DIR": "config", "MICVIEW_CACHE_DIR": "cache"}


@contextlib.contextmanager
def _isolated(root: Path) -> Iterator[None]:
    """Settings and caches in ``root`` for the duration; no network (Hugging Face offline)."""
    saved = {k: os.environ.get(k) for k in (*_ISOLATED, "HF_HUB_OFFLINE")}
    for var, sub in _ISOLATED.items():
        os.environ[var] = str(root / sub)
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _tail(text: str, lines: int = 15) -> str:
    kept = text.strip().splitlines()[-lines:]
    return "\n".join(f"    | {line}" for line in kept)


def _failed(name: str, exc: BaseException, captured: str) -> int:
    from micview.core.logs import write_crash_log

    log = write_crash_log(exc, ["--self-test", f"(step {name})"])
    print(f"FAILED  {name}: {type(exc).__name__}: {exc}")
    if captured.strip():
        print(f"  output of the step:\n{_tail(captured)}")
    print(f"  details: {log}" if log else "  (no log folder was writable)")
    print(f"self-test FAILED at step '{name}'")
    return 1


def run_self_test() -> int:
    """Run every step; 0 when all pass, 1 at the first failure (its name and reason printed)."""
    from micview.core.build_info import describe

    print(describe())
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="micview-selftest-") as tmp:
        ctx = Context(Path(tmp))
        ctx.keep_user_marco()  # before the isolation hides the user's registered models
        with _isolated(Path(tmp)):
            for name, step in STEPS:
                out = io.StringIO()
                t0 = time.perf_counter()
                try:
                    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                        detail = step(ctx)
                except Skipped as why:
                    print(f"skipped {name:<14} {why}")
                    continue
                except Exception as exc:  # a self-test reports every failure as the step that failed
                    out.write(traceback.format_exc())
                    return _failed(name, exc, out.getvalue())
                print(f"ok      {name:<14} {time.perf_counter() - t0:6.1f} s  {detail}")
    print(f"self-test passed: {len(STEPS)} steps in {time.perf_counter() - start:.1f} s")
    return 0
