"""Fixtures for the VLM tests: tiny random Qwen2-VL and Idefics3 folders (built once per session), loaded
through micview's loader exactly as a user's folder, and a small labelled project.

The parent conftest isolates settings and refuses network access for every test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import tiny_vlms
from vlm_helpers import CLASSES

from micview.core.store import Project

FAMILIES = ("qwen2_vl", "idefics3")


@pytest.fixture(scope="session")
def vlm_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("vlms")
    return {"qwen2_vl": tiny_vlms.build_qwen2_vl(root / "tiny-qwen2-vl"),
            "idefics3": tiny_vlms.build_idefics3(root / "tiny-idefics3")}  # fmt: skip


@pytest.fixture(scope="session")
def vlms(vlm_dirs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Both tiny models loaded once (CPU, float32 for exact comparisons); the weights-hash cache goes to a
    temporary config dir, never the user's."""
    from micview.ml.vlm import load_vlm

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MICVIEW_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
        return {name: load_vlm(folder, device="cpu", precision="float32") for name, folder in vlm_dirs.items()}


@pytest.fixture(params=FAMILIES)
def vlm(request: pytest.FixtureRequest, vlms: dict[str, object]) -> object:
    return vlms[request.param]


@pytest.fixture
def qwen(vlms: dict[str, object]) -> object:
    return vlms["qwen2_vl"]


@pytest.fixture
def labelled(project: Project) -> Project:
    """The generated project with a 'technique' label on the ten patterns (classes cycling SEM, TEM, AFM)."""
    project.labels.define_task("technique", CLASSES)
    rows = [r for r in project.images.all() if r.name.startswith("pattern_") and r.name.endswith(".png")]
    project.labels.set_many("technique", {r.id: CLASSES[i % 3] for i, r in enumerate(rows)})
    return project
