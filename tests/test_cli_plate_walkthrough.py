"""The README's crystallization walk-through, command for command, on the real sample drops and the real MARCO.

Skipped where the sample data (``../shared/data/crystals``), the MARCO package or a Python with TensorFlow
(``MICVIEW_MARCO_PYTHON``) is missing.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import shutil
from pathlib import Path

import pytest

from micview.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out + err


@pytest.fixture
def marco(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`micview models add marco --python PATH`, as the README says, into a private cache."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent / "ml"))
    try:
        from marco_fixtures import tf_python
    finally:
        sys.path.pop(0)
    python = tf_python()
    if python is None or importlib.util.find_spec("dls_marco_score_ispyb") is None:
        pytest.skip("MARCO cannot be converted here: needs dls-marco-score-ispyb and MICVIEW_MARCO_PYTHON")
    monkeypatch.setenv("MICVIEW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("MICVIEW_CONFIG_DIR", str(tmp_path / "config"))
    code, out = run(capsys, "models", "add", "marco", "--python", python)
    assert code == 0 and "Registered 'marco'" in out


def _reference(crystals: Path) -> dict[str, dict[str, str]]:
    with (crystals / "marco_reference.csv").open(encoding="utf-8") as f:
        return {r["file"]: r for r in csv.DictReader(f)}


def test_loose_drop_images(shared_data: Path, marco: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The sample drops have no plate or well in their names: scored and exported, `plates` says why none."""
    crystals = shared_data / "crystals"
    proj = tmp_path / "drops.micview"
    assert run(capsys, "new", proj)[0] == 0
    assert run(capsys, "add", proj, crystals / "images", "-q")[0] == 0
    code, out = run(capsys, "score", proj, "-q")
    assert code == 0 and "5 scored" in out
    code, out = run(capsys, "plates", proj)
    assert code == 0 and "No plates found" in out and "generic" in out and "5 images are not on a plate" in out
    assert run(capsys, "export", proj, tmp_path / "scores.csv")[0] == 0
    with (tmp_path / "scores.csv").open(encoding="utf-8-sig") as f:
        rows = {Path(r["file"]).name: r for r in csv.DictReader(f)}
    for name, ref in _reference(crystals).items():
        if name in rows:
            assert rows[name]["outcome_pred"] == ref["top"]
            assert float(rows[name]["outcome_p_crystals"]) == pytest.approx(float(ref["crystals"]), abs=1e-4)
    assert len(rows) == 5


def test_plate_of_drop_images(
    shared_data: Path, marco: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same drops named as an imager names them: plates, plate-export and the plate map."""
    images = sorted((shared_data / "crystals" / "images").glob("*.jpg"))
    folder = tmp_path / "drops" / "plate7" / "2026-11-23"
    folder.mkdir(parents=True)
    wells = ["A1", "A2", "B3", "C4", "H12"]
    for well, image in zip(wells, images, strict=False):
        shutil.copy(image, folder / f"{well}_1.jpg")
    proj = tmp_path / "drops.micview"
    run(capsys, "new", proj)
    assert run(capsys, "add", proj, tmp_path / "drops", "-q")[0] == 0
    assert run(capsys, "score", proj, "-q")[0] == 0
    code, out = run(capsys, "plates", proj)
    assert code == 0 and re.search(rf"^plate7\s+96\s+{len(images)}\s", out, re.M), out
    code, out = run(
        capsys, "plate-export", proj, "--plate", "plate7", tmp_path / "p7.csv", "--png", tmp_path / "p7.png"
    )
    assert code == 0 and f"Wrote {len(images)} rows" in out and (tmp_path / "p7.png").stat().st_size > 1000
    with (tmp_path / "p7.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [r["well"] for r in rows] == wells[: len(images)]
    assert all(r["outcome_pred"] in ("clear", "crystals", "other", "precipitate") for r in rows)
