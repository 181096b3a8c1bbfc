"""The session log: one handler however often it is started, and an unwritable folder never stops the app."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from micview.core.logs import start_session_log


def _detach(path: Path) -> None:
    logger = logging.getLogger("micview")
    for handler in list(logger.handlers):
        if getattr(handler, "baseFilename", None) == str(path):
            logger.removeHandler(handler)
            handler.close()


def test_records_reach_the_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MICVIEW_LOG_DIR", str(tmp_path / "logs"))
    path = start_session_log()
    try:
        assert path == tmp_path / "logs" / "micview.log"
        assert start_session_log() == path
        logging.getLogger("micview.gui").info("opened a project")
        assert path.read_text().count("opened a project") == 1
    finally:
        _detach(path)


def test_unwritable_log_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("MICVIEW_LOG_DIR", str(tmp_path / "file" / "logs"))
    assert start_session_log() is None
