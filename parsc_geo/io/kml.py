"""KML/KMZ reader for Google Earth and Google My Maps exports (parsed with defusedxml).

Each Placemark with a point becomes a row with:

``NAME``, ``DESCRIPTION`` (HTML removed), ``FOLDER`` (innermost folder name — My Maps writes one
folder per layer, which police analysts often use for the crime type), ``FOLDER_PATH``
(``"A / B"``), ``KML_WHEN`` (``TimeStamp/when`` or ``TimeSpan/begin``), every ``ExtendedData``
field (``Data``/``value`` and ``SchemaData``/``SimpleData``), and ``key: value`` lines of the
description when they do not clash with ExtendedData (My Maps repeats sheet columns there).
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
    """Return lon, lat of the placemark's point, or NaN and the geometry type found."""
    nan = float("nan")
    geometry_types = {"Point", "LineString", "Polygon", "MultiGeometry", "LinearRing", "Track"}
    for elem in placemark.iter():
        name = _local(elem.tag)
        if name == "Point":
            coords = _child(elem, "coordinates")
            parts = _text(coords).replace("\n", " ").split()
            if not parts:
                return nan, nan, "empty"
            values = parts[0].split(",")
            try:
                return float(values[0]), float(values[1]), ""
            except (ValueError, IndexError):
                return nan, nan, f"unreadable coordinates {parts[0]!r}"
    for elem in placemark.iter():
        name = _local(elem.tag)
        if name in geometry_types and name != "MultiGeometry":
            return nan, nan, name
    return nan, nan, "empty"


def _walk(
    node: Any, folders: list[str], rows: list[dict[str, Any]], geo: list[tuple[float, float, str]]
) -> None:
    for child in node:
        name = _local(child.tag)
        if name in ("Folder", "Document"):
            title = _text(_child(child, "name"))
            path = [*folders, title] if (title and name == "Folder") else folders
            _walk(child, path, rows, geo)
        elif name == "Placemark":
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
            rows.append(row)
            geo.append(_point_of(child))


def _kml_bytes(path: Path) -> bytes:
    if path.suffix.lower() == ".kmz" or zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist() if n.lower().endswith(".kml")]
                if not names:
                    raise InputDataError(f"{path.name}: el archivo KMZ no contiene ningún .kml")
                main = "doc.kml" if "doc.kml" in names else names[0]
                return zf.read(main)
        except zipfile.BadZipFile as exc:
            raise InputDataError(f"{path.name}: no es un archivo KMZ (zip) válido") from exc
    return path.read_bytes()


def read_kml(path: str | Path) -> RawTable:
    """Read placemarks of a KML or KMZ file (see the module docstring for the columns).

    Raises
    ------
    InputDataError
        When the file is not well-formed XML or is unsafe (entity expansion, external entities).
    """
    import numpy as np
    import pandas as pd
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    path = Path(path)
    try:
        root = fromstring(_kml_bytes(path))
    except (ParseError, DefusedXmlException) as exc:
        raise InputDataError(
            f"{path.name}: no es un archivo KML legible ({exc})",
            hint="expórtelo de nuevo desde Google Earth o Google My Maps (KML/KMZ)",
        ) from exc
    rows: list[dict[str, Any]] = []
    geo: list[tuple[float, float, str]] = []
    _walk(root, [], rows, geo)
    df = pd.DataFrame(rows)
    df = df.astype(object).where(df.notna().to_numpy(), "") if len(df) else df
    n = len(df)
    x = np.array([g[0] for g in geo], dtype=float) if n else np.empty(0)
    y = np.array([g[1] for g in geo], dtype=float) if n else np.empty(0)
    problem = np.array([g[2] for g in geo], dtype=object) if n else np.empty(0, dtype=object)
    return RawTable(
        data=df,
        source=path.name,
        source_row=np.arange(1, n + 1, dtype=np.int64),
        kind="kml",
        geom_x=x,
        geom_y=y,
        geom_problem=problem,
        crs="EPSG:4326",
        info={"format": "KMZ" if path.suffix.lower() == ".kmz" else "KML"},
    )
