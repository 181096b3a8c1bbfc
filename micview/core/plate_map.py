"""A plate map as a PNG: the grid of wells coloured by outcome, saturation by confidence, legend and counts.

Each well is drawn as a rounded cell split into one strip per drop. A strip shows the drop's latest time point
(or the time point asked for): the user's score when there is one (full colour), else the model's top class
with its colour faded towards white as the model's confidence falls (0.25, chance for four classes, is
white). Wells with no image are crossed out. Pillow only, so it works headless and in the frozen app.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from micview.core.atomic import atomic_write
from micview.core.plate_export import TASK, DropScore, plate_scores
from micview.core.plates import LAYOUTS, PlatePattern, natural_key, project_plates, well_name, well_position
from micview.core.store import Project

COLOURS = {
    "crystals": (44, 160, 44),
    "precipitate": (214, 120, 40),
    "clear": (70, 130, 200),
    "other": (150, 100, 180),
}
FALLBACK = (120, 120, 120)
WHITE = (255, 255, 255)
CELL = {24: 64, 96: 40, 384: 22}
MARGIN = 36
LEGEND_W = 190


def _tint(colour: tuple[int, int, int], confidence: float | None) -> tuple[int, int, int]:
    a = 1.0 if confidence is None else max(0.15, min(1.0, (confidence - 0.25) / 0.75))
    return tuple(round(w + (c - w) * a) for c, w in zip(colour, WHITE, strict=True))  # type: ignore[return-value]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


def latest_per_drop(scores: list[DropScore], time: str | None = None) -> dict[str, list[DropScore]]:
    """Per well, one entry per drop: its image at ``time`` or at its latest time point."""
    chosen: dict[tuple[str, str], DropScore] = {}
    for s in sorted(scores, key=lambda s: natural_key(s.drop.time)):
        if time is None or s.drop.time == time:
            chosen[(s.drop.well, s.drop.drop)] = s
    out: dict[str, list[DropScore]] = {}
    for (well, _), s in sorted(chosen.items(), key=lambda kv: (well_position(kv[0][0]), natural_key(kv[0][1]))):
        out.setdefault(well, []).append(s)
    return out


def render_plate_map(
    name: str, layout: int, wells: dict[str, list[DropScore]], *, classes: list[str] | None = None
) -> Image.Image:
    """The plate map image for ``wells`` (from :func:`latest_per_drop`)."""
    rows, cols = LAYOUTS[layout]
    cell = CELL[layout]
    width, height = MARGIN + cols * cell + 10 + LEGEND_W, MARGIN + rows * cell + 40
    img = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(img)
    _grid_labels(draw, rows, cols, cell)
    for r in range(rows):
        for c in range(cols):
            _draw_well(draw, MARGIN + c * cell, MARGIN + r * cell, cell, wells.get(well_name(r, c)))
    counts = Counter(s.label or "unscored" for ws in wells.values() for s in ws)
    _legend(draw, MARGIN + cols * cell + 14, MARGIN, classes or list(COLOURS), counts, len(wells), rows * cols)
    draw.text((MARGIN, height - 30), f"Plate {name} ({layout} wells)", fill=(0, 0, 0), font=_font(14))
    return img


def _grid_labels(draw: ImageDraw.ImageDraw, rows: int, cols: int, cell: int) -> None:
    font = _font(max(8, min(13, cell // 2)))
    for c in range(cols):
        draw.text((MARGIN + c * cell + cell / 2, MARGIN - 6), str(c + 1), fill=(0, 0, 0), font=font, anchor="ms")
    for r in range(rows):
        draw.text((MARGIN - 6, MARGIN + r * cell + cell / 2), chr(ord("A") + r), fill=(0, 0, 0), font=font, anchor="rm")


def _draw_well(draw: ImageDraw.ImageDraw, x: int, y: int, cell: int, drops: list[DropScore] | None) -> None:
    box = (x + 2, y + 2, x + cell - 2, y + cell - 2)
    if not drops:
        draw.rectangle(box, outline=(200, 200, 200))
        draw.line((box[0], box[1], box[2], box[3]), fill=(210, 210, 210))
        draw.line((box[0], box[3], box[2], box[1]), fill=(210, 210, 210))
        return
    strip = (box[2] - box[0]) / len(drops)
    for i, s in enumerate(drops):
        fill = _tint(COLOURS.get(s.label or "", FALLBACK), s.confidence) if s.label else WHITE
        left = round(box[0] + i * strip)
        draw.rectangle((left, box[1], round(box[0] + (i + 1) * strip), box[3]), fill=fill)
    draw.rectangle(box, outline=(60, 60, 60))


def _legend(
    draw: ImageDraw.ImageDraw, x: int, y: int, classes: list[str], counts: Counter[str], n_wells: int, total: int
) -> None:
    font = _font(13)
    for i, c in enumerate([*classes, "unscored"]):
        top = y + i * 22
        draw.rectangle((x, top, x + 16, top + 16), fill=COLOURS.get(c, WHITE), outline=(60, 60, 60))
        draw.text((x + 24, top + 1), f"{c}: {counts.get(c, 0)}", fill=(0, 0, 0), font=font)
    top = y + (len(classes) + 1) * 22 + 8
    draw.text((x, top), f"wells imaged: {n_wells}/{total}", fill=(0, 0, 0), font=font)
    draw.text((x, top + 20), "paler = less confident", fill=(90, 90, 90), font=font)
    draw.text((x, top + 40), "one strip per drop;", fill=(90, 90, 90), font=font)
    draw.text((x, top + 60), "counts are drops shown", fill=(90, 90, 90), font=font)


def export_plate_png(
    project: Project,
    plate_name: str,
    out_path: str | Path,
    *,
    pattern: str | PlatePattern | None = None,
    layout: int | None = None,
    time: str | None = None,
    task: str = TASK,
    model_id: str | None = None,
) -> Path:
    """Write the plate map of ``plate_name`` as a PNG (atomically) and return its path."""
    plate = project_plates(project, pattern, layout).plate(plate_name)
    wells = latest_per_drop(plate_scores(project, plate, task, model_id), time)
    img = render_plate_map(plate.name, plate.layout, wells)
    out = Path(out_path)
    with atomic_write(out, "wb") as f:
        img.save(f, format="PNG")
    return out
