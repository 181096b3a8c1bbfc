"""A run whose process was killed is marked interrupted at the next open; live runs are left alone."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from micview.core.store import Project
from micview.core.store.owners import current_owner, owner_is_gone

_START_RUN = """
import os, sys
from micview.core.store import Project
p = Project.open(sys.argv[1])
rid = p.runs.record("embedding", "embed:m", "batched", status="running")
print(rid, flush=True)
if sys.argv[2] == "kill":
    os.kill(os.getpid(), 9)
sys.stdin.readline()  # stay alive until the test says so
p.close()
"""


@pytest.fixture
def path(tmp_path: Path) -> Path:
    Project.create(tmp_path / "p.micview").close()
    return tmp_path / "p.micview"


def _start(path: Path, how: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _START_RUN, str(path), how], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


def _status(path: Path, run_id: int) -> str:
    with Project.open(path) as p:
        return p.runs.get(run_id).status


def test_a_killed_run_is_marked_interrupted_at_the_next_open(path: Path) -> None:
    proc, rid = _start(path, "kill")
    assert proc.wait(timeout=60) == -signal.SIGKILL
    assert _status(path, rid) == "interrupted"


def test_a_run_of_a_live_process_stays_running_until_that_process_ends(path: Path) -> None:
    proc, rid = _start(path, "wait")
    try:
        assert _status(path, rid) == "running"
    finally:
        proc.communicate("\n", timeout=60)  # it ends without finishing the run
    assert _status(path, rid) == "interrupted"


def test_runs_of_this_process_and_of_other_computers_are_left_alone(path: Path) -> None:
    with Project.open(path) as p:
        mine = p.runs.record("map", "map:x", "umap", status="running")
        with p.transaction() as con:
            cur = con.execute(
                "INSERT INTO runs (key, kind, method, app_version, created_at, status, owner) "
                "VALUES ('k', 'embedding', 'm', 'x', 'x', 'running', ?)",
                (f"{socket.gethostname()}-elsewhere|1234|x",),
            )
            elsewhere = int(cur.lastrowid or 0)
    assert _status(path, mine) == "running"
    assert _status(path, elsewhere) == "running"


def test_runs_without_an_owner_or_with_a_reused_process_id_are_interrupted(path: Path) -> None:
    with Project.open(path) as p, p.transaction() as con:
        ids = []
        for owner in (None, f"{socket.gethostname()}|{os.getpid()}|not-this-process-start"):
            cur = con.execute(
                "INSERT INTO runs (key, kind, method, app_version, created_at, status, owner) "
                "VALUES ('k', 'embedding', 'm', 'x', 'x', 'running', ?)",
                (owner,),
            )
            ids.append(int(cur.lastrowid or 0))
    expected = ["interrupted", "interrupted" if sys.platform.startswith(("linux", "win")) else "running"]
    assert [_status(path, i) for i in ids] == expected


def test_owner_of_this_process_is_alive() -> None:
    assert not owner_is_gone(current_owner())
    assert owner_is_gone(None)
