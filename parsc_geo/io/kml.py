"""KML/KMZ reader for Google Earth and Google My Maps exports (parsed with defusedxml).

Each Placemark with a point becomes a row with:

``NAME``, ``DESCRIPTION`` (HTML removed), ``FOLDER`` (innermost folder name — My Maps writes one
folder per layer, which police analysts often use for the crime type), ``FOLDER_PATH``
(``"A / B"``), ``KML_WHEN`` (``TimeStamp/when`` or ``TimeSpan/begin``), every ``ExtendedData``
field (``Data``/``value`` and ``SchemaData``/``SimpleData``), and ``key: value`` lines of the
description when they do not clash with ExtendedData (My Maps repeats sheet columns there).

A placemark whose geometry holds several points (a ``MultiGeometry``) is not one place: its row
has no point and says why. Every ``.kml`` of a KMZ is read. Folders may nest to any depth, and a
KMZ that expands beyond :data:`MAX_EXPANDED_BYTES` (or :data:`MAX_RATIO` times its size) is
refused as a zip bomb.
"""

from __future__ import annotations

import html
import re
import zipfile
from pathlib import Path
from typing import Any

from .._errors import InputDataError
from ._table import RawTable

_TAG = re.compile(r"<[^>]+>")
_BR = re.compile(r"<\s*br\s*/?\s*>|</\s*p\s*>|</\s*div\s*>", re.IGNORECASE)
_KV = re.compile(r"^\s*([^:]{1,40}?)\s*:\s*(.*?)\s*$")
_GEOMETRY_TYPES = frozenset(
    {"Point", "LineString", "Polygon", "MultiGeometry", "LinearRing", "Track", "MultiTrack"}
)
#: Largest KML document read, expanded (a KMZ) or not.
MAX_EXPANDED_BYTES = 256 * 2**20
#: Largest expansion ratio of a KMZ (expanded size / archive size) once past
#: :data:`RATIO_FROM_BYTES`; KML compresses about 10–30 times.
MAX_RATIO = 100
RATIO_FROM_BYTES = 16 * 2**20


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(elem: Any) -> str:
    return (elem.text or "").strip() if elem is not None else ""


def _child(elem: Any, name: str) -> Any:
    for c in elem:
        if _local(c.tag) == name:
            return c
    return None


def _description_lines(raw: str) -> tuple[str, dict[str, str]]:
    text = _BR.sub("\n", raw)
    text = html.unescape(_TAG.sub("", text))
    fields: dict[str, str] = {}
    for line in text.splitlines():
        m = _KV.match(line)
        if m and m.group(2):
            fields.setdefault(m.group(1).strip(), m.group(2))
    clean = "\n".join(line.strip() for line in text.splitlines() if line.strip())
    return clean, fields


def _point_of(placemark: Any) -> tuple[float, float, str]:
    """Return lon, lat of the placemark's point, or NaN and what was found instead.

    A placemark with exactly one ``Point`` (also inside a ``MultiGeometry``) gives it; several
    points are not one place (``"MultiGeometry con 2 puntos"``); a placemark without points
    gives its geometry type.
    """
    nan = float("nan")
    points = [e for e in placemark.iter() if _local(e.tag) == "Point"]
    if len(points) > 1:
        return nan, nan, f"MultiGeometry con {len(points)} puntos"
    if points:
        parts = _text(_child(points[0], "coordinates")).replace("\n", " ").split()
        if not parts:
            return nan, nan, "empty"
        values = parts[0].split(",")
        try:
            return float(values[0]), float(values[1]), ""
        except (ValueError, IndexError):
            return nan, nan, f"unreadable coordinates {parts[0][:40]!r}"
    for elem in placemark.iter():
        name = _local(elem.tag)
        if name in _GEOMETRY_TYPES and name != "MultiGeometry":
            return nan, nan, name
    return nan, nan, "empty"


def _placemark_row(child: Any, folders: list[str]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "NAME": _text(_child(child, "name")),
        "FOLDER": folders[-1] if folders else "",
        "FOLDER_PATH": " / ".join(folders),
    }
    desc_raw = _text(_child(child, "description"))
    desc, desc_fields = _description_lines(desc_raw)
    row["DESCRIPTION"] = desc
    when = ""
    for elem in child.iter():
        tag = _local(elem.tag)
        if tag == "when" or tag == "begin":
            when = _text(elem)
            break
    row["KML_WHEN"] = when
    extended: dict[str, str] = {}
    ext = _child(child, "ExtendedData")
    if ext is not None:
        for elem in ext.iter():
            tag = _local(elem.tag)
            if tag == "Data" and elem.get("name"):
                extended[elem.get("name")] = _text(_child(elem, "value"))
            elif tag == "SimpleData" and elem.get("name"):
                extended[elem.get("name")] = _text(elem)
    for key, value in desc_fields.items():
        if key not in extended and key.upper() not in row:
            extended[key] = value
    for key, value in extended.items():
        if key.upper() in ("NAME", "FOLDER", "FOLDER_PATH", "DESCRIPTION", "KML_WHEN"):
            key = f"{key}_DATA"
        row[key] = value
    return row


def _walk(root: Any, rows: list[dict[str, Any]], geo: list[tuple[float, float, str]]) -> int:
    """Collect the placemarks under ``root`` in document order; return the NetworkLinks seen.

    The walk keeps its own stack, so that any depth of nested folders is read.
    """
    links = 0
    stack: list[tuple[Any, list[str]]] = [(iter(root), [])]
    while stack:
        children, folders = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            continue
        name = _local(child.tag)
        if name in ("Folder", "Document"):
            title = _text(_child(child, "name"))
            path = [*folders, title] if (title and name == "Folder") else folders
            stack.append((iter(child), path))
        elif name == "Placemark":
            rows.append(_placemark_row(child, folders))
            geo.append(_point_of(child))
        elif name == "NetworkLink":
            links += 1
    return links


def _kml_members(path: Path) -> list[tuple[str, bytes]]:
    """Return (name, bytes) of the KML documents of a KMZ (or of a plain KML file).

    The expanded size is bounded (:data:`MAX_EXPANDED_BYTES`, and :data:`MAX_RATIO` times the
    archive's size once past :data:`RATIO_FROM_BYTES`): a zip bomb is refused before it fills
    the memory.
    """
    if not (path.suffix.lower() == ".kmz" or zipfile.is_zipfile(path)):
        size = path.stat().st_size
        if size > MAX_EXPANDED_BYTES:
            raise InputDataError(
                f"{path.name}: el KML pesa {size / 2**20:.0f} MiB; el máximo es "
                f"{MAX_EXPANDED_BYTES // 2**20} MiB",
                hint="divídalo en archivos más pequeños (p. ej. por mes o por carpeta)",
            )
        return [(path.name, path.read_bytes())]
    archive_size = max(path.stat().st_size, 1)
    try:
        with zipfile.ZipFile(path) as zf:
            names = [
                info.filename
                for info in zf.infolist()
                if info.filename.lower().endswith(".kml")
                and not info.is_dir()
                and not info.filename.startswith("__MACOSX")
            ]
            if not names:
                raise InputDataError(f"{path.name}: el archivo KMZ no contiene ningún .kml")
            main = "doc.kml" if "doc.kml" in names else names[0]
            names = [main, *sorted(n for n in names if n != main)]
            out: list[tuple[str, bytes]] = []
            total = 0
            for name in names:
                chunks: list[bytes] = []
                with zf.open(name) as member:
                    while chunk := member.read(1 << 20):
                        total += len(chunk)
                        _check_expansion(path, total, archive_size)
                        chunks.append(chunk)
                out.append((name, b"".join(chunks)))
            return out
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise InputDataError(
            f"{path.name}: no es un archivo KMZ (zip) válido ({exc})",
            hint="expórtelo de nuevo desde Google Earth o Google My Maps",
        ) from exc
    except (OSError, RuntimeError) as exc:  # zlib errors, encrypted members
        raise InputDataError(
            f"{path.name}: no se puede descomprimir el KMZ ({exc})",
            hint="expórtelo de nuevo desde Google Earth o Google My Maps",
        ) from exc


def _check_expansion(path: Path, total: int, archive_size: int) -> None:
    too_big = total > MAX_EXPANDED_BYTES
    too_packed = total > RATIO_FROM_BYTES and total / archive_size > MAX_RATIO
    if too_big or too_packed:
        raise InputDataError(
            f"{path.name}: el KMZ se expande a más de {total / 2**20:.0f} MiB "
            f"(un archivo de {archive_size / 2**20:.1f} MiB); posible bomba zip: no se lee",
            hint=f"un KMZ legítimo se expande menos de {MAX_RATIO} veces y a menos de "
            f"{MAX_EXPANDED_BYTES // 2**20} MiB: descomprímalo y revise su contenido",
        )


def read_kml(path: str | Path) -> RawTable:
    """Read placemarks of a KML or KMZ file (see the module docstring for the columns).

    Every ``.kml`` inside a KMZ is read (``doc.kml`` first); when there are several, a
    ``KML_FILE`` column names each row's document and ``info["warnings"]`` says so.

    Raises
    ------
    InputDataError
        When the file is not well-formed XML, is unsafe (entity expansion, external entities),
        or is a KMZ that expands beyond the limits (a zip bomb).
    """
    import numpy as np
    import pandas as pd
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    path = Path(path)
    members = _kml_members(path)
    rows: list[dict[str, Any]] = []
    geo: list[tuple[float, float, str]] = []
    links = 0
    counts: list[tuple[str, int]] = []
    for name, data in members:
        try:
            root = fromstring(data)
        except (ParseError, DefusedXmlException, ValueError, LookupError) as exc:
            where = f" ({name})" if len(members) > 1 else ""
            raise InputDataError(
                f"{path.name}{where}: no es un archivo KML legible ({exc})",
                hint="expórtelo de nuevo desde Google Earth o Google My Maps (KML/KMZ)",
            ) from exc
        before = len(rows)
        links += _walk(root, rows, geo)
        if len(members) > 1:
            for row in rows[before:]:
                row["KML_FILE"] = name
        counts.append((name, len(rows) - before))
    warnings: list[str] = []
    if len(members) > 1:
        warnings.append(
            f"el KMZ contiene {len(members)} documentos .kml y se leyeron todos: "
            + ", ".join(f"{name} ({k} marcas)" for name, k in counts)
        )
    if links:
        warnings.append(
            f"{links} enlace(s) de red (NetworkLink) no se leyeron: sus marcas están en otro "
            "archivo o servidor; expórtelas y añádalas"
        )
    df = pd.DataFrame(rows)
    df = df.astype(object).where(df.notna().to_numpy(), "") if len(df) else df
    n = len(df)
    x = np.array([g[0] for g in geo], dtype=float) if n else np.empty(0)
    y = np.array([g[1] for g in geo], dtype=float) if n else np.empty(0)
    problem = np.array([g[2] for g in geo], dtype=object) if n else np.empty(0, dtype=object)
    info: dict[str, Any] = {"format": "KMZ" if path.suffix.lower() == ".kmz" else "KML"}
    if len(members) > 1:
        info["kml_files"] = dict(counts)
    if warnings:
        info["warnings"] = warnings
    return RawTable(
        data=df,
        source=path.name,
        source_row=np.arange(1, n + 1, dtype=np.int64),
        kind="kml",
        geom_x=x,
        geom_y=y,
        geom_problem=problem,
        crs="EPSG:4326",
        info=info,
    )
