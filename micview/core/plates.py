"""Crystallization plates from file names: plate, well, drop and imaging time of every drop image.

Imagers encode where an image was taken in its path; a :class:`PlatePattern` is a regular expression with
named groups ``plate``, ``well`` (or ``row`` + ``col``, or ``wellnum``, the 1-based row-major well number),
``drop`` and ``time``, searched in the image's project-relative POSIX path. Without a ``plate`` group the
image's folder is the plate. Presets (:data:`PRESETS`) cover common naming schemes; any regex works.

Wells are normalised (``a01`` → ``A1``) and checked against the plate layout (24, 96 or 384 wells; by
default the smallest of 96/384 that holds every well of that plate — 24 only when asked for, since a
partly imaged 96-well plate looks the same). Files no pattern parses, or with a well outside the layout, are
listed with the reason, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from micview.core.errors import MicviewError

if TYPE_CHECKING:
    from micview.core.store import Project

LAYOUTS = {24: (4, 6), 96: (8, 12), 384: (16, 24)}  # wells: (rows, columns)
AUTO_LAYOUTS = (96, 384)
PATTERN_META = "plate_pattern"
_WELL = re.compile(r"^([A-Pa-p])0*(\d{1,2})$")
_NATURAL = re.compile(r"(\d+)")


class PlateError(MicviewError):
    """A plate pattern or plate name that cannot be used."""


@dataclass(frozen=True, slots=True)
class PlatePattern:
    name: str
    regex: str
    description: str = ""

    def compiled(self) -> re.Pattern[str]:
        try:
            rx = re.compile(self.regex)
        except re.error as exc:
            raise PlateError(f"Plate pattern {self.regex!r} is not a valid regular expression: {exc}.") from exc
        groups = set(rx.groupindex)
        if not ({"well"} <= groups or {"row", "col"} <= groups or {"wellnum"} <= groups):
            raise PlateError(
                f"Plate pattern {self.regex!r} needs a named group 'well' (or 'row' and 'col', or 'wellnum'), "
                "e.g. (?P<well>[A-P]\\d{1,2})."
            )
        return rx


_SEP = r"(?:[^A-Za-z0-9/][^/]*)?"
PRESETS: dict[str, PlatePattern] = {
    p.name: p
    for p in (
        PlatePattern(
            "rockmaker",
            r"plateID_(?P<plate>\d+)/batchID_(?P<time>\d+)/wellNum_(?P<wellnum>\d+)/(?:[^/]+/)*"
            r"d(?P<drop>\d+)_r\d+_(?!th\.)[^/]*$",
            "Formulatrix Rock Maker image store: .../plateID_<plate>/batchID_<inspection>/wellNum_<n>/"
            "profileID_<p>/d<drop>_r<region>_ef.jpg (thumbnails *_th.jpg are skipped)",
        ),
        PlatePattern(
            "formulatrix",
            r"(?:^|/)(?P<plate>[^/]+)/[^/]*_(?P<time>[^/_]+)/(?:[^/]+/)*"
            r"(?P<well>[A-Pa-p]\d{1,2})_(?P<drop>\d{1,2})" + _SEP + r"$",
            "Formulatrix Rock Imager export: .../<barcode>/<plate id>_<inspection>/.../<well>_<drop>*.jpg",
        ),
        PlatePattern(
            "minstrel",
            r"(?:^|/)(?P<plate>[A-Za-z0-9-]+)_(?P<well>[A-Pa-p]\d{1,2})_(?P<drop>\d{1,2})_"
            r"(?P<time>\d{8}[-_T]?\d{4,6})" + _SEP + r"$",
            "Rigaku Minstrel / CrystalTrak export (assumed): <barcode>_<well>_<drop>_<yyyymmdd-hhmmss>*.jpg",
        ),
        PlatePattern(
            "generic",
            r"(?:(?:^|/)(?P<plate>[^/]+)/)?(?:(?P<time>[^/]*\d{4}-?\d{2}-?\d{2}[^/]*)/)?(?:[^/]*?[^A-Za-z0-9/])??"
            r"(?P<well>[A-Pa-p]\d{1,2})(?:[_-]?(?:d|drop|s)?(?P<drop>\d{1,2}))?" + _SEP + r"$",
            "<plate folder>/[<date folder>/]...<well>[_<drop>]*.jpg, wells A1 or A01 anywhere in the name",
        ),
    )
}


def get_pattern(spec: str | PlatePattern | None) -> PlatePattern:
    """A preset by name, or ``spec`` itself as a regex (anything that is not a preset name)."""
    if isinstance(spec, PlatePattern):
        return spec
    if spec is None:
        return PRESETS["generic"]
    return PRESETS.get(spec.lower(), PlatePattern("custom", spec))


def normalise_well(text: str) -> str | None:
    """``'a01'`` → ``'A1'``; ``None`` when ``text`` is not a well name of at most 16 rows × 99 columns."""
    m = _WELL.match(text.strip())
    return f"{m.group(1).upper()}{int(m.group(2))}" if m and int(m.group(2)) > 0 else None


def well_position(well: str) -> tuple[int, int]:
    """Zero-based (row, column) of a normalised well name."""
    return ord(well[0]) - ord("A"), int(well[1:]) - 1


def well_name(row: int, col: int) -> str:
    return f"{chr(ord('A') + row)}{col + 1}"


def fits(well: str, layout: int) -> bool:
    rows, cols = LAYOUTS[layout]
    r, c = well_position(well)
    return r < rows and c < cols


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that puts 'plate2' before 'plate10' and '9' before '10'."""
    return tuple((0, int(p)) if p.isdigit() else (1, p.lower()) for p in _NATURAL.split(text) if p)


@dataclass(frozen=True, slots=True)
class DropImage:
    """One image of one drop of one well, at one imaging time point."""

    image_id: int
    path: str
    plate: str
    well: str
    drop: str
    time: str

    @property
    def sort_key(self) -> tuple[object, ...]:
        return (*well_position(self.well), natural_key(self.drop), natural_key(self.time), self.path)


@dataclass
class Plate:
    name: str
    layout: int
    drops: list[DropImage] = field(default_factory=list)

    @property
    def wells(self) -> dict[str, list[DropImage]]:
        """Images per well, wells in row-major order."""
        out: dict[str, list[DropImage]] = {}
        for d in sorted(self.drops, key=lambda d: d.sort_key):
            out.setdefault(d.well, []).append(d)
        return out

    @property
    def times(self) -> list[str]:
        return sorted({d.time for d in self.drops}, key=natural_key)

    def missing_wells(self) -> list[str]:
        """Wells of the layout that have no image at all."""
        rows, cols = LAYOUTS[self.layout]
        present = {d.well for d in self.drops}
        return [w for r in range(rows) for c in range(cols) if (w := well_name(r, c)) not in present]


@dataclass
class PlateIndex:
    plates: dict[str, Plate]
    unparsed: list[tuple[str, str]]  # (stored path, why)

    def plate(self, name: str) -> Plate:
        if name not in self.plates:
            known = ", ".join(self.plates) or "none"
            raise PlateError(f"No plate '{name}' in this project (plates found: {known}).")
        return self.plates[name]


def parse_path(path: str, rx: re.Pattern[str], layout: int = 96) -> tuple[str, str, str, str] | str:
    """(plate, well, drop, time) of ``path``, or the reason it does not parse.

    ``layout`` is used only to turn a ``wellnum`` group into a well name.
    """
    m = rx.search(path)
    if m is None:
        return "the name does not match the plate pattern"
    g = {k: v for k, v in m.groupdict().items() if v is not None}
    well = _well_of(g, layout)
    if well is None:
        return f"'{g.get('well') or g.get('wellnum') or g.get('row', '') + g.get('col', '')}' is not a well name"
    plate = g.get("plate") or PurePosixPath(path).parent.name or "."
    return plate, well, g.get("drop", "1").lstrip("0") or "0", g.get("time", "")


def _well_of(g: dict[str, str], layout: int) -> str | None:
    if "well" in g:
        return normalise_well(g["well"])
    if "wellnum" in g:
        rows, cols = LAYOUTS[layout]
        n = int(g["wellnum"]) - 1
        return well_name(*divmod(n, cols)) if 0 <= n < rows * cols else None
    if "row" in g and "col" in g:
        row = g["row"] if g["row"].isalpha() else chr(ord("A") + int(g["row"]) - 1)
        return normalise_well(f"{row}{g['col']}")
    return None


def index_plates(
    items: Iterable[tuple[int, str]], pattern: str | PlatePattern | None = None, layout: int | None = None
) -> PlateIndex:
    """Group ``(image_id, stored path)`` pairs into plates; ``layout`` None picks 96 or 384 per plate."""
    if layout is not None and layout not in LAYOUTS:
        raise PlateError(f"Unknown plate layout {layout}; choose one of {', '.join(map(str, LAYOUTS))}.")
    rx = get_pattern(pattern).compiled()
    found: dict[str, list[DropImage]] = {}
    unparsed: list[tuple[str, str]] = []
    for image_id, path in items:
        parsed = parse_path(path, rx, layout or 96)
        if isinstance(parsed, str):
            unparsed.append((path, parsed))
        else:
            found.setdefault(parsed[0], []).append(DropImage(image_id, path, *parsed))
    plates = {}
    for name in sorted(found, key=natural_key):
        plates[name] = _plate(name, found[name], layout, unparsed)
    return PlateIndex(plates, unparsed)


def _plate(name: str, drops: list[DropImage], layout: int | None, unparsed: list[tuple[str, str]]) -> Plate:
    choices = (layout,) if layout else AUTO_LAYOUTS
    size = next((n for n in choices if all(fits(d.well, n) for d in drops)), choices[-1])
    for d in drops:
        if not fits(d.well, size):
            unparsed.append((d.path, f"well {d.well} is outside a {size}-well plate"))
    return Plate(name, size, sorted((d for d in drops if fits(d.well, size)), key=lambda d: d.sort_key))


def project_plates(
    project: Project, pattern: str | PlatePattern | None = None, layout: int | None = None
) -> PlateIndex:
    """The plates of a project's readable images; ``pattern`` None uses the one last saved in the project."""
    pattern = pattern if pattern is not None else project.get_meta(PATTERN_META)
    return index_plates(((r.id, r.path) for r in project.images.all(status="ok")), pattern, layout)


def remember_pattern(project: Project, pattern: str) -> None:
    """Keep the pattern in the project so later commands (and the plate view) parse names the same way."""
    get_pattern(pattern).compiled()
    project.set_meta(PATTERN_META, pattern)
