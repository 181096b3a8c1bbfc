"""The licences of everything inside the PyInstaller app, generated from what the build really collected.

Used by micview.spec after PyInstaller's analysis: every collected file (module, shared library, data file)
is traced back to the installed distribution that owns it; each distribution's licence comes from its
metadata (``License-Expression``, else ``License``, else its classifiers, else the text of its licence
file), and its licence files are copied. Files no distribution owns are the Python runtime and, on Linux,
system libraries copied from the build machine (their Debian copyright file is copied when dpkg knows them).

Writes ``LICENSES/`` into the bundle: ``README.md`` (what this means, copyleft, where the sources are),
``packages.md`` (one row per package) and one folder of licence texts per package. :func:`attention`
lists what needs a person's decision before distributing (anything not permissive, or unknown).
"""

from __future__ import annotations

import importlib.metadata as md
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

LICENCE_FILE = re.compile(r"^(licen[cs]e|copying|notice|authors|copyright)", re.IGNORECASE)
PERMISSIVE = re.compile(
    r"^(MIT|MIT-CMU|BSD|BSD-2-Clause|BSD-3-Clause|0BSD|3-Clause BSD|Apache|Apache-2\.0|ISC|PSF|PSF-2\.0|Python|Zlib|"
    r"CC0|Unlicense|HPND|CNRI-Python|LLVM-exception|Public Domain|Apache Software License|BSL-1\.0)",
    re.IGNORECASE,
)
# Text → SPDX id, for packages whose metadata says nothing useful (e.g. "UNKNOWN") but whose licence file does.
TEXT_HINTS = (
    ("GNU LESSER GENERAL PUBLIC LICENSE", "LGPL (from its licence file)"),
    ("GNU GENERAL PUBLIC LICENSE", "GPL (from its licence file)"),
    ("Mozilla Public License", "MPL-2.0 (from its licence file)"),
    ("Apache License", "Apache-2.0 (from its licence file)"),
    ("Apache Software License", "Apache-2.0 (from its licence file)"),
    ("Permission is hereby granted, free of charge", "MIT (from its licence file)"),
    ("Redistribution and use in source and binary forms", "BSD (from its licence file)"),
)


@dataclass
class Package:
    name: str
    version: str
    licence: str
    files: int = 0
    licence_files: list[Path] = field(default_factory=list)
    note: str = ""

    @property
    def permissive(self) -> bool:
        parts = re.split(r"\s+(?:AND|OR|WITH)\s+|[;,]\s*", self.licence.strip("() "))
        return bool(self.licence) and all(PERMISSIVE.match(p.strip("() ")) for p in parts if p.strip())


def _licence_of(dist: md.Distribution, texts: list[Path]) -> str:
    meta = dist.metadata
    if expr := meta.get("License-Expression"):
        return str(expr)
    short = (meta.get("License") or "").strip()
    if short and short.upper() != "UNKNOWN" and len(short) < 80 and "\n" not in short:
        return short
    classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    classifiers = [c for c in classifiers if c != "OSI Approved"]
    if classifiers:
        return "; ".join(classifiers)
    for text in texts:
        head = text.read_text(encoding="utf-8", errors="replace")[:4000]
        for needle, spdx in TEXT_HINTS:
            if needle.lower() in head.lower():
                return spdx
    return short.splitlines()[0][:80] if short else "unknown"


def _licence_files(dist: md.Distribution) -> list[Path]:
    found = []
    for f in dist.files or []:
        name = Path(str(f)).name
        in_meta = ".dist-info/" in str(f) or ".egg-info/" in str(f)
        if LICENCE_FILE.match(name) and (in_meta or f.parent.name.lower() in ("licenses", "licences", "")):
            path = Path(str(dist.locate_file(f)))
            if path.is_file():
                found.append(path)
    return found


def file_owners() -> dict[Path, md.Distribution]:
    """Every installed file → the distribution that installed it."""
    owners = {}
    for dist in md.distributions():
        for f in dist.files or []:
            owners[Path(str(dist.locate_file(f))).resolve()] = dist
    return owners


def _system_package(path: Path) -> str | None:
    if not shutil.which("dpkg"):
        return None
    # by file name: with merged /usr, dpkg knows /lib/x86_64-linux-gnu/libz.so.1 but the file resolves under /usr
    run = subprocess.run(["dpkg", "-S", f"*/{path.name}"], capture_output=True, text=True, check=False)
    return run.stdout.split(":")[0].strip() or None if run.returncode == 0 else None


def collect(
    sources: list[str], extra: list[Package], own: Path, generated: tuple[Path, ...] = ()
) -> tuple[list[Package], list[str]]:
    """The packages owning ``sources`` (paths of collected files), plus ``extra``; and the unowned files.

    Files under ``own`` (the checkout, for an editable install) are micview's. Skipped: files under
    ``generated`` (the build's work folder, the converted MARCO: listed through ``extra``), namespace
    packages (no file), and a distribution of which only the metadata was copied (some hooks copy metadata
    for version checks): it has no code inside.
    """
    owners = file_owners()
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    packages: dict[str, Package] = {}
    code: set[str] = set()
    unowned = []
    for src in sources:
        path = Path(src).resolve()
        if not path.is_file() or any(path.is_relative_to(g) for g in generated):
            continue
        dist = owners.get(path)
        if dist is None and path.is_relative_to(own):
            dist = md.distribution("micview")
        if dist is None:
            if path.is_relative_to(stdlib) or path.name.startswith(("libpython", "python")):
                packages.setdefault("Python", _python_package()).files += 1
            else:
                unowned.append(str(path))
            continue
        name = dist.metadata["Name"]
        if name not in packages:
            texts = _licence_files(dist)
            packages[name] = Package(name, dist.version, _licence_of(dist, texts), 0, texts)
        packages[name].files += 1
        if not any(part.endswith((".dist-info", ".egg-info")) for part in path.parts):
            code.add(name)
    listed = [p for p in packages.values() if p.name in code or p.name == "Python"]
    for p in extra:
        if p.name not in {q.name for q in listed}:
            listed.append(p)
    return sorted(listed, key=lambda p: p.name.lower()), unowned


def _python_package() -> Package:
    texts = [p for p in (Path(sysconfig.get_paths()["stdlib"]) / "LICENSE.txt",) if p.is_file()]
    return Package("Python", sys.version.split()[0], "PSF-2.0", 0, texts, "the interpreter and standard library")


def system_libraries(unowned: list[str]) -> list[Package]:
    """Unowned shared libraries (copied by PyInstaller from the system), grouped by their Debian package."""
    groups: dict[str, Package] = {}
    for src in unowned:
        pkg = _system_package(Path(src)) or "unknown"
        entry = groups.setdefault(pkg, Package(f"system: {pkg}", "", "see its copyright file", 0))
        entry.files += 1
        doc = Path("/usr/share/doc") / pkg / "copyright"
        if doc.is_file() and doc not in entry.licence_files:
            entry.licence_files.append(doc)
        if pkg == "unknown":
            entry.licence = "unknown"
            entry.note = ", ".join(Path(s).name for s in unowned[:5])
    return list(groups.values())


def attention(packages: list[Package]) -> list[Package]:
    """Packages whose licence is not plainly permissive: copyleft, proprietary or unknown."""
    return [p for p in packages if not p.permissive]


NOTES = {
    "rosettasciio": (
        "GPL-3.0-or-later. It reads DM3/DM4, EMD, SER and BCF files. Because it is inside, this app as a whole "
        "is a combined work that may be redistributed only under the GPL-3.0-or-later terms, with its "
        "Corresponding Source (see README.md)."
    ),
    "num2words": "LGPL-2.1; used as an unmodified, separately replaceable Python package.",
    "PySide6_Essentials": "LGPL-3.0: Qt and PySide6 stay separate, replaceable shared libraries in this folder.",
    "shiboken6": "LGPL-3.0: a separate, replaceable shared library, as PySide6.",
    "tqdm": "MPL-2.0 AND MIT: unmodified; its source is the Python package itself (.py files in the PyPI wheel).",
    "pyinstaller": "The bootloader is GPL-2.0-or-later with an exception allowing any licence for bundled apps.",
}


def _table(packages: list[Package]) -> str:
    rows = ["| package | version | licence | files | note |", "|---|---|---|---|---|"]
    for p in packages:
        note = NOTES.get(p.name, p.note).replace("|", "/")
        rows.append(f"| {p.name} | {p.version} | {p.licence.replace('|', '/')} | {p.files} | {note} |")
    return "\n".join(rows) + "\n"


def _copy_texts(packages: list[Package], out: Path) -> None:
    for p in packages:
        if not p.licence_files:
            continue
        folder = out / re.sub(r"[^A-Za-z0-9._-]+", "_", f"{p.name}-{p.version}".strip("-"))
        folder.mkdir(parents=True, exist_ok=True)
        for i, text in enumerate(p.licence_files):
            name = text.name if not (folder / text.name).exists() else f"{i}-{text.name}"
            shutil.copyfile(text, folder / name)


def write(out: Path, packages: list[Package], build: dict[str, str], readme: str) -> Path:
    """Write ``out`` (the bundle's LICENSES folder): README.md, packages.md and the licence texts."""
    out.mkdir(parents=True, exist_ok=True)
    needs = attention(packages)
    head = (
        f"# Licences of the packages inside micview {build.get('version', '')} "
        f"(commit {build.get('commit', 'unknown')}, built {build.get('date', '')})\n\n"
        "Generated by the build from the files it collected. Licence texts: one folder per package here.\n\n"
    )
    flagged = "".join(f"- **{p.name} {p.version}**: {p.licence}. {NOTES.get(p.name, p.note)}\n" for p in needs)
    body = f"## Not plainly permissive\n\n{flagged or 'None.'}\n\n## Every package\n\n{_table(packages)}"
    (out / "packages.md").write_text(head + body, encoding="utf-8")
    (out / "README.md").write_text(readme, encoding="utf-8")
    _copy_texts(packages, out)
    return out
