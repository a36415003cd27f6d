"""Small incident files built by the ingestion tests (no network, no bundled data needed)."""

from __future__ import annotations

from pathlib import Path

#: A point in Cajamarca city, ~1.8 km from the nearest police station.
BASE_LAT = -7.1700
BASE_LON = -78.5000
#: Coordinates of COMISARIA CAJAMARCA I (CENACOM id 1027), for station-stacking tests.
STATION_LAT = -7.160344
STATION_LON = -78.513039
#: Lima (outside the default study area) and a Lima-like point whose swap is also outside.
LIMA = (-12.0464, -77.0428)


def point(i: int) -> tuple[float, float]:
    """Return the i-th test point (lat, lon): 0.001° (~110 m) apart, all inside Cajamarca."""
    return round(BASE_LAT - 0.001 * (i % 20), 6), round(BASE_LON + 0.001 * (i // 20), 6)


def write_csv(
    path: Path,
    header: list[str],
    rows: list[list[object]],
    *,
    sep: str = ",",
    encoding: str = "utf-8",
) -> Path:
    """Write rows as CSV text (no quoting unless a cell needs it)."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    writer.writerow(header)
    for r in rows:
        writer.writerow(["" if v is None else v for v in r])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def kml_document(folders: dict[str, list[dict[str, object]]], *, extended: bool = True) -> str:
    """Return a Google My Maps style KML: one folder per key, placemarks with optional data."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Mapa del delito</name>',
    ]
    for folder, marks in folders.items():
        parts.append(f"<Folder><name>{folder}</name>")
        for m in marks:
            parts.append("<Placemark>")
            parts.append(f"<name>{m.get('name', '')}</name>")
            if m.get("description"):
                parts.append(f"<description><![CDATA[{m['description']}]]></description>")
            data = m.get("data") or {}
            if extended and data:
                parts.append("<ExtendedData>")
                for k, v in data.items():  # type: ignore[attr-defined]
                    parts.append(f'<Data name="{k}"><value>{v}</value></Data>')
                parts.append("</ExtendedData>")
            if "lon" in m:
                parts.append(f"<Point><coordinates>{m['lon']},{m['lat']},0</coordinates></Point>")
            elif "polygon" in m:
                parts.append(
                    "<Polygon><outerBoundaryIs><LinearRing><coordinates>"
                    f"{m['polygon']}</coordinates></LinearRing></outerBoundaryIs></Polygon>"
                )
            parts.append("</Placemark>")
        parts.append("</Folder>")
    parts.append("</Document></kml>")
    return "\n".join(parts)


def spy_chunk_at(monkeypatch) -> list[tuple[int, int | None]]:
    """Record every ``VectorFile.chunk_at(start, rows)`` call (the features read, by position)."""
    from parsc_geo.io import vector

    read: list[tuple[int, int | None]] = []
    chunk_at = vector.VectorFile.chunk_at

    def spying(self, start, rows):
        read.append((start, rows))
        return chunk_at(self, start, rows)

    monkeypatch.setattr(vector.VectorFile, "chunk_at", spying)
    return read
