"""Files written for the user: all or nothing, a reason in plain words when they cannot be, modes like any program."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from micview.core.atomic import atomic_write, write_bytes_atomic
from micview.core.csv_io import write_csv_atomic
from micview.core.errors import MicviewError, OutputError


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_writes_text_and_bytes(tmp_path: Path) -> None:
    with atomic_write(tmp_path / "a.txt", encoding="utf-8") as f:
        f.write("héllo")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "héllo"
    write_bytes_atomic(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert _leftovers(tmp_path) == []


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"folder .*nowhere does not exist"):
        write_csv_atomic(tmp_path / "nowhere" / "x.csv", ["file"], [])
    assert not (tmp_path / "nowhere").exists()


def test_folder_path(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(OutputError, match="it is a folder; give a file name inside it"):
        write_csv_atomic(tmp_path / "out", ["file"], [])
    assert list((tmp_path / "out").iterdir()) == []


def test_parent_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="is not a folder"):
        write_csv_atomic(tmp_path / "f" / "x.csv", ["file"], [])


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere; POSIX modes")
def test_unwritable_folder_real(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        with pytest.raises(OutputError, match="no permission"):
            write_csv_atomic(locked / "x.csv", ["file"], [])
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize(
    ("code", "words"),
    [(errno.EACCES, "no permission"), (errno.EROFS, "read-only"), (errno.ENOSPC, "disk is full")],
)
def test_refused_at_creation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, words: str) -> None:
    """What an unwritable folder, a read-only mount or a full disk look like when the file is created."""
    real_open = os.open

    def refusing_open(path: str | os.PathLike[str], flags: int, mode: int = 0o777, **kw: object) -> int:
        if str(path).endswith(".tmp"):
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", refusing_open)
    with pytest.raises(OutputError, match=words) as info:
        write_csv_atomic(tmp_path / "x.csv", ["file"], [["a"]])
    assert str(tmp_path / "x.csv") in str(info.value) and "Nothing was written" in str(info.value)
    assert isinstance(info.value, MicviewError)


def test_full_disk_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "x.csv"
    write_csv_atomic(out, ["file"], [["old"]])
    before = out.read_bytes()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputError, match="the disk is full"):
        write_csv_atomic(out, ["file"], [["new"] for _ in range(1000)])
    assert out.read_bytes() == before
    assert _leftovers(tmp_path) == []


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_real_enospc_from_dev_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes really fail with ENOSPC: the temporary file is redirected to /dev/full."""
    real_open = os.open

    def to_dev_full(path: str | os.PathLike[str], flags: int, mode: int = 0o777, **kw: object) -> int:
        if str(path).endswith(".tmp"):
            real_open(path, flags, mode)  # exists, so the clean-up has something to remove
            return real_open("/dev/full", os.O_WRONLY)
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", to_dev_full)
    with pytest.raises(OutputError, match="the disk is full"):
        write_csv_atomic(tmp_path / "x.csv", ["file"], [["a" * 100] for _ in range(10000)])
    assert not (tmp_path / "x.csv").exists() and _leftovers(tmp_path) == []


def test_error_in_the_block_passes_through_and_cleans_up(tmp_path: Path) -> None:
    with pytest.raises(ZeroDivisionError), atomic_write(tmp_path / "x.txt", encoding="utf-8") as f:
        f.write("half")
        _ = 1 / 0
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_new_files_follow_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        write_csv_atomic(tmp_path / "x.csv", ["file"], [])
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "x.csv").stat().st_mode) == 0o666 & ~umask


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    out.write_text("old")
    out.chmod(0o640)
    write_csv_atomic(out, ["file"], [["new"]])
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert "new" in out.read_text(encoding="utf-8-sig")


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_symlink_target_is_replaced_link_kept(tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    write_csv_atomic(link, ["file"], [["new"]])
    assert link.is_symlink() and "new" in real.read_text(encoding="utf-8-sig")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_folder_that_takes_no_files() -> None:
    with pytest.raises(OutputError, match="no file can be created in /proc"):
        write_csv_atomic(Path("/proc/micview-test.csv"), ["file"], [])
