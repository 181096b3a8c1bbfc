"""Data quality on the real DoITPoMS micrographs (../shared/data/miclib) with the real default model:
planted near-duplicate copies (resized, re-compressed, cropped, brightened) and flipped labels.

Run with ``-s`` to see the measured recall. Measured (docs/analysis.md): duplicates 0.981 (157 of 160
copies in their original's group: resized, re-compressed and cropped 40/40, brightened 37/40), no unplanted
micrograph grouped; flipped labels 12 of 15 flagged, 50 images flagged in all.
"""

from __future__ import annotations

import csv
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from micview.core.csv_io import import_labels
from micview.core.importer import add_folder
from micview.core.quality.duplicates import LEAK_FOLDER
from micview.core.store import Project
from micview.core.tasks import run_task
from micview.ml.classify import shipped_groups, task_view
from micview.ml.embedding import embed_project
from micview.ml.quality import quality_task

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]
KINDS = ("resized", "q30", "crop80", "bright")


def plant(source: Path, folder: Path, count: int, seed: int) -> dict[str, str]:
    """``count`` originals, each copied four ways into ``folder``; returns copy name -> original name."""
    folder.mkdir(parents=True)
    chosen = random.Random(seed).sample(sorted(source.glob("*.jpg")), count)
    made = {}
    for f in chosen:
        with Image.open(f) as im:
            im.load()
            w, h = im.size
            im.resize((w // 2, h // 2), Image.Resampling.LANCZOS).save(folder / f"{f.stem}_resized.png")
            im.save(folder / f"{f.stem}_q30.jpg", quality=30)
            im.crop((w // 10, h // 10, w - w // 10, h - h // 10)).save(folder / f"{f.stem}_crop80.png")
            ImageEnhance.Brightness(im).enhance(1.3).save(folder / f"{f.stem}_bright.png")
        made.update({f"{f.stem}_{k}": f.name for k in KINDS})
    return made


@pytest.fixture(scope="module")
def planted(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("miclib_planted")
    originals = shutil.copytree(shared_data / "miclib" / "images", root / "orig")
    copies = plant(originals, root / "copies", 40, seed=0)
    with Project.create(root / "p.micview") as p:
        run_task(add_folder(p, originals, workers=1))
        run_task(add_folder(p, root / "copies", workers=1))
        import_labels(p, shared_data / "miclib" / "manifest.csv", tasks=["technique"])
        run_task(embed_project(p, "effnet-lite0", workers=1))
    return root / "p.micview", copies


def flip_labels(p: Project, avoid: set[str], count: int, seed: int) -> set[int]:
    """Copy 'technique' to 'technique_flipped' with ``count`` labels moved to another group's label."""
    groups = shipped_groups("technique") or {}
    labels = p.labels.labels("technique")
    names = {r.id: r.name for r in p.images.all()}
    one_per_group = {g: fine for fine, g in sorted(groups.items(), reverse=True)}
    rng = random.Random(seed)
    candidates = sorted(i for i in labels if names[i] not in avoid and groups.get(labels[i]) not in (None, "other"))
    flipped = set(rng.sample(candidates, count))
    new = dict(labels)
    for i in flipped:
        new[i] = one_per_group[rng.choice([g for g in one_per_group if g not in (groups[labels[i]], "other")])]
    p.labels.define_task("technique_flipped", [], groups)
    p.labels.set_many("technique_flipped", new)
    return flipped


def test_planted_copies_and_flipped_labels(planted: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    path, copies = planted
    with Project.open(path) as p:
        flipped = flip_labels(p, set(copies.values()), 15, seed=1)
        view = task_view(p, "technique_flipped", groups=shipped_groups("technique"))
        r = run_task(quality_task(p, "effnet-lite0", view=view))
        names = {row.id: row.name for row in p.images.all()}
    row = {names[int(i)].rsplit(".", 1)[0]: k for k, i in enumerate(r.image_ids)}
    by_id = {int(i): k for k, i in enumerate(r.image_ids)}
    g, leak = r.columns["duplicate_group"], r.columns["leak"]
    found = {k: [] for k in KINDS}
    for copy, original in copies.items():
        c, o = row[copy], row[original.rsplit(".", 1)[0]]
        found[copy.rsplit("_", 1)[1]].append(bool(g[c] >= 0 and g[c] == g[o]))
    recall = {k: float(np.mean(v)) for k, v in found.items()}
    overall = float(np.mean([hit for hits in found.values() for hit in hits]))
    planted_rows = {row[c] for c in copies} | {row[o.rsplit(".", 1)[0]] for o in copies.values()}
    strays = [names[int(r.image_ids[k])] for k in np.flatnonzero(g >= 0) if k not in planted_rows]
    flagged = r.columns["is_label_issue"]
    hits = [bool(flagged[by_id[i]]) for i in flipped]
    print(f"\nduplicates: recall {overall:.3f} {recall}; unplanted images grouped: {len(strays)} {strays}")
    print(f"labels: {sum(hits)} of {len(flipped)} flipped flagged; {int(flagged.sum())} flagged in all "
          f"({r.params['label_check']['probabilities']})")  # fmt: skip
    assert overall >= 0.95 and min(recall.values()) >= 0.85
    assert not strays
    assert all(leak[row[c]] & LEAK_FOLDER for c in copies if g[row[c]] >= 0)  # copies: another folder
    assert sum(hits) >= 9 and flagged.sum() <= 60
    suggested = [r.label_of(int(r.columns["suggested_label"][by_id[i]])) for i in flipped if flagged[by_id[i]]]
    assert all(s is not None for s in suggested)


def test_the_csv_names_the_copies(planted: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    from micview.cli import main

    path, copies = planted
    assert main(["quality", str(path), "--out", str(tmp_path / "q.csv"), "-q"]) == 0
    with (tmp_path / "q.csv").open(encoding="utf-8-sig") as f:
        rows = {Path(r["file"]).stem: r for r in csv.DictReader(f)}
    family = {c: o.rsplit(".", 1)[0] for c, o in copies.items()}
    linked = [Path(rows[c]["near_duplicate_of"]).stem.split("_")[0] == family[c] for c in copies]
    assert np.mean(linked) >= 0.95
