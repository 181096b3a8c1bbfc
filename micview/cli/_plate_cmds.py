"""Crystallization-plate commands: plates, score, plate-export (MARCO is added with `models add marco`).

Heavy imports (onnxruntime through micview.ml.marco) happen inside the command functions only, so
``micview --help`` stays fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from micview.cli._args import positive_int
from micview.cli._progress import run_with_bar
from micview.cli._table import table
from micview.core.store import Project

MARCO = "marco"  # micview.ml.marco.MODEL_ID, repeated to keep --help import-light
# One file name per preset of micview.core.plates.PRESETS (tests check that each parses with its preset).
PRESET_EXAMPLES = {
    "rockmaker": "plateID_1234/batchID_5678/wellNum_13/profileID_1/d1_r2_ef.jpg",
    "formulatrix": "CX0123/CX0123_20261123/A01_1.jpg",
    "minstrel": "RG000123_B07_2_20261123-101500.jpg",
    "generic": "plate7/2026-11-23/A01_d1.jpg  (or plate7/B12.jpg)",
}
PATTERN_HELP = (
    "file names each preset reads (paths as stored in the project):\n"
    + "\n".join(f"  {name:12} {example}" for name, example in PRESET_EXAMPLES.items())
    + (
        "\n\nOther names: --pattern REGEX with named groups, e.g. --pattern '(?P<plate>[^/]+)/(?P<well>[A-H]\\d+)_"
        "(?P<drop>\\d)'.\nDrop images with no plate or well in their names are scored all the same "
        "(`micview score`); `micview export` lists their scores."
    )
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "plates",
        help="list crystallization plates found in file names",
        description="Group drop images into plates, wells, drops and time points by their names.",
        epilog=PATTERN_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("project", type=Path)
    _pattern_args(p)
    p.add_argument("--wells", action="store_true", help="also list every well with its drops and time points")
    p.set_defaults(func=cmd_plates)

    p = sub.add_parser(
        "score",
        help="score crystallization drops with MARCO",
        description="Score every drop image not yet scored by the model (clear/crystals/other/precipitate).",
    )
    p.add_argument("project", type=Path)
    p.add_argument("--plate", help="only this plate (see `micview plates`)")
    p.add_argument("--model", default=MARCO, help=f"a MARCO model id (default: {MARCO})")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--batch-size", type=positive_int, default=8, help="images per batch (default 8)")
    _pattern_args(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser(
        "plate-export",
        help="write one plate's scores as CSV (and a plate-map PNG)",
        description="One CSV row per drop image: plate, well, drop, time, scores, file.",
        epilog=PATTERN_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("project", type=Path)
    p.add_argument("out", type=Path, help="CSV file to write")
    p.add_argument("--plate", required=True)
    p.add_argument("--png", type=Path, help="also draw the plate map into this PNG file")
    p.add_argument("--time", help="time point for the map (default: each drop's latest)")
    p.add_argument("--model", help="only this model's predictions (default: the latest of any model)")
    _pattern_args(p)
    p.set_defaults(func=cmd_plate_export)


def _pattern_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--pattern",
        help="preset (rockmaker, formulatrix, minstrel, generic; examples below) or a regex with groups "
        "plate, well (or row+col, wellnum), drop, time; saved in the project for next time",
    )
    p.add_argument("--layout", type=int, choices=[24, 96, 384], help="wells per plate (default: 96 or 384)")


def _index(project: Project, args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from micview.core.plates import project_plates, remember_pattern

    if args.pattern:
        remember_pattern(project, args.pattern)
    return project_plates(project, args.pattern, args.layout)


def cmd_plates(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        index = _index(project, args)
    rows = [
        (plate.name, plate.layout, len(plate.wells), len(plate.missing_wells()),
         ", ".join(sorted({d.drop for d in plate.drops})), len(plate.times), len(plate.drops))
        for plate in index.plates.values()
    ]  # fmt: skip
    if rows:
        print(table(["plate", "layout", "wells imaged", "wells empty", "drops", "time points", "images"], rows,
                    indent=""))  # fmt: skip
    if args.wells:
        for plate in index.plates.values():
            print(f"\n{plate.name}:")
            print(table(["well", "images (drop@time)"], [
                (well, ", ".join(f"d{d.drop}@{d.time or '-'}" for d in drops)) for well, drops in plate.wells.items()
            ]))  # fmt: skip
    _print_unparsed(index.unparsed, bool(index.plates))
    return 0


def _print_unparsed(unparsed: list[tuple[str, str]], any_plate: bool) -> None:
    if not any_plate:
        print("No plates found in the file names. " + PATTERN_HELP.replace("\n\n", "\n"))
    if unparsed:
        print(f"\n{len(unparsed)} images are not on a plate:")
        print(table(["file", "why"], unparsed[:50]))
    if len(unparsed) > 50:
        print(f"  ... {len(unparsed)} in all")


def cmd_score(args: argparse.Namespace) -> int:
    from micview.ml.marco.score import score_project

    device = None if args.device == "auto" else args.device
    with Project.open(args.project) as project:
        if args.pattern:
            _index(project, args)
        task = score_project(
            project, args.model, args.plate, pattern=args.pattern, device=device, batch_size=args.batch_size
        )
        s = run_with_bar(task, quiet=args.quiet)
    rate = f" on {s.device} in {s.seconds:.1f} s ({s.images_per_s:.2f} images/s)" if s.scored else ""
    print(f"{s.model_id}: {s.scored} scored{rate}; {s.already} already scored; {len(s.failed)} could not be read")
    for path, reason in s.failed[:20]:
        print(f"  not scored: {path}: {reason}")
    return 0


def cmd_plate_export(args: argparse.Namespace) -> int:
    from micview.core.atomic import check_target
    from micview.core.plate_export import export_plate_csv
    from micview.core.plate_map import export_plate_png

    for out in (args.out, args.png):  # both outputs checked before either is written
        if out is not None:
            check_target(out)
    with Project.open(args.project) as project:
        if args.pattern:
            _index(project, args)
        opts = {"pattern": args.pattern, "layout": args.layout, "model_id": args.model}
        n = export_plate_csv(project, args.plate, args.out, **opts)
        print(f"Wrote {n} rows to {args.out}")
        if args.png:
            export_plate_png(project, args.plate, args.png, time=args.time, **opts)
            print(f"Wrote the plate map to {args.png}")
    return 0
