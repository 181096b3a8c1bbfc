"""A plain (non-editable) install carries resources/: the wheel maps it into the package, and a command that
needs it works from a fresh virtual environment outside the checkout."""

from __future__ import annotations

import csv
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True)  # fmt: skip
    (path,) = out.glob("micview-*.whl")
    return path


def test_wheel_holds_the_resources(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"micview/{p.relative_to(ROOT).as_posix()}" for p in (ROOT / "resources").rglob("*") if p.is_file()}
    assert "micview/resources/groups/technique.json" in shipped and shipped <= names


def _fresh_venv(where: Path, wheel: Path) -> Path:
    """A new venv with micview from the wheel; its dependencies come from this environment through a .pth
    (reinstalling torch & co. would take minutes), never micview itself (the checkout is not on its path)."""
    venv.EnvBuilder(with_pip=False).create(where)
    python = where / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())  # fmt: skip
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-index", str(wheel)], check=True, capture_output=True)  # fmt: skip
    return python


@pytest.mark.slow
def test_a_command_that_needs_resources_works_from_the_wheel(wheel: Path, tmp_path: Path) -> None:
    python = _fresh_venv(tmp_path / "venv", wheel)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MICVIEW_CONFIG_DIR": str(tmp_path / "config"),
           "MICVIEW_LOG_DIR": str(tmp_path / "logs"), "HF_HUB_OFFLINE": "1"}  # fmt: skip

    def micview(*args: object) -> str:
        run = subprocess.run([python, "-m", "micview", *map(str, args)], capture_output=True, text=True,
                             cwd=tmp_path, env=env, timeout=300)  # fmt: skip
        assert run.returncode == 0, run.stdout + run.stderr
        return run.stdout

    where = subprocess.run([python, "-c", "import micview; print(micview.__file__)"], capture_output=True,
                           text=True, cwd=tmp_path, env=env, check=True).stdout  # fmt: skip
    assert "site-packages" in where and str(ROOT) not in where
    assert "(installed)" in micview("--version")
    images = tmp_path / "img"
    images.mkdir()
    rows = []
    fine = {True: "Reflected light microscopy", False: "Scanning electron microscopy (SEM)"}  # shipped groups
    for i in range(8):
        y, x = np.mgrid[0:64, 0:64]
        stripes = np.sin((x if i % 2 else y) / 2.0) * 100 + 127
        Image.fromarray(stripes.astype(np.uint8)).save(images / f"im{i}.png")
        rows.append({"file": f"im{i}.png", "technique": fine[bool(i % 2)]})
    with (tmp_path / "labels.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, ["file", "technique"])
        writer.writeheader()
        writer.writerows(rows)
    project = tmp_path / "p.micview"
    micview("new", project)
    micview("add", project, images, "-q")
    micview("import-labels", project, tmp_path / "labels.csv", "--tasks", "technique")
    micview("embed", project, "-q")
    out = micview("classify", project, "--task", "technique", "--groups", "-q")
    assert "technique_group: 8 images classified" in out
