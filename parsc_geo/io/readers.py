"""Reading incident files: CSV, XLSX, GeoJSON, GeoPackage, Shapefile, KML/KMZ, by suffix.

:func:`read_incident_file` is the one dispatcher by file suffix, used by the ingestion and by
:func:`parsc_geo.io.read_points`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._errors import InputDataError
from ._table import RawTable

#: File suffix → reader kind.
SUFFIXES: dict[str, str] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".geojson": "vector",
    ".json": "vector",
    ".gpkg": "vector",
    ".shp": "vector",
    ".zip": "vector",
    ".kml": "kml",
    ".kmz": "kml",
}


def read_incident_file(path: str | Path, **options: Any) -> RawTable:
    """Read any supported incident file into a :class:`RawTable`.

    Parameters
    ----------
    path
        The file; its suffix chooses the reader.
    **options
        ``encoding``, ``delimiter`` (CSV), ``progress`` (CSV), ``header_row`` (CSV, XLSX),
        ``sheet`` (XLSX), ``layer`` (GeoPackage). Options that do not apply to the format are
        ignored.

    Raises
    ------
    InputDataError
        When the file is missing, of an unsupported type, or unreadable.
    """
    path = Path(path)
    if not path.exists():
        raise InputDataError(f"{path}: el archivo no existe", hint="revise la ruta y su escritura")
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputDataError(
            f"{path.name}: tipo de archivo no admitido {path.suffix!r}",
            hint="use CSV, XLSX, GeoJSON, GeoPackage, Shapefile, KML o KMZ",
        )
    if kind == "csv":
        from .csv import read_csv

        return read_csv(
            path,
            encoding=options.get("encoding"),
            delimiter=options.get("delimiter"),
            header_row=options.get("header_row"),
            progress=bool(options.get("progress", False)),
        )
    if kind == "xlsx":
        from .excel import read_xlsx

        return read_xlsx(path, sheet=options.get("sheet"), header_row=options.get("header_row"))
    if kind == "kml":
        from .kml import read_kml

        return read_kml(path)
    from .vector import read_vector

    return read_vector(path, layer=options.get("layer"))
