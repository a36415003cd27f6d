"""The one reader of incident points for every analysis command and for the run.

:func:`read_points` reads a workspace, or a file in any supported format — CSV and XLSX with
coordinate columns, GeoJSON, GeoPackage, Shapefile, KML/KMZ — through the same readers as the
ingestion (:func:`parsc_geo.io.readers.read_incident_file`), and returns points with the canonical
columns typed once: boolean-like text (``"false"``, ``"0"``, ``"sí"``) read by
:func:`parsc_geo._text.as_bool`, ``harm`` as numbers, ``occurred_at`` as local times of the
points' zone (``timezone``; America/Lima for points in Peru; elsewhere, without a zone, the clock
reading as written).
Which incidents are then used is decided by :func:`parsc_geo.incidents.select`.

Unlike ``parsc-geo ingest``, nothing is validated or quarantined here: a row without usable
coordinates is an error that names the row and points to ``parsc-geo ingest``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .._errors import ConfigError, InputDataError
from ..settings import CRS_GEOGRAPHIC, TIMEZONE

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from ..workspace.location import DatabaseURL
    from ._table import RawTable

#: Default workspace read when no input is given.
DEFAULT_WORKSPACE: Final = Path("workspace.gpkg")
#: Canonical columns read as booleans.
BOOLEAN_COLUMNS: Final[tuple[str, ...]] = ("at_station", "time_known", "label_known")
#: Canonical columns read as numbers.
NUMERIC_COLUMNS: Final[tuple[str, ...]] = ("harm", "source_row")
#: Layers that make a GeoPackage a parsc-geo workspace.
_WORKSPACE_LAYERS: Final = frozenset({"incidents", "parsc_metadata"})


def is_workspace(path: str | os.PathLike[str]) -> bool:
    """Return whether ``path`` is a parsc-geo workspace (a GeoPackage with its layers)."""
    import pyogrio

    p = Path(path)
    if p.suffix.lower() != ".gpkg" or not p.is_file():
        return False
    try:
        names = {str(name) for name, _ in pyogrio.list_layers(p)}
    except Exception:  # pyogrio raises several types for files it cannot open
        return False
    return names >= _WORKSPACE_LAYERS


def read_points(
    path: str | os.PathLike[str] | None = None,
    *,
    workspace: str | os.PathLike[str] | DatabaseURL | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    input_crs: str = CRS_GEOGRAPHIC,
    timezone: str | None = None,
) -> gpd.GeoDataFrame:
    """Read incident points from a file or a workspace.

    Parameters
    ----------
    path
        An incident file (CSV, XLSX, GeoJSON, GeoPackage, Shapefile, KML/KMZ) or a workspace
        GeoPackage. None reads ``workspace``.
    workspace
        The workspace read when ``path`` is None (default ``workspace.gpkg``): a GeoPackage,
        or a PostGIS database URL (:func:`parsc_geo.workspace.open_workspace`).
    lon_col, lat_col
        Coordinate columns of CSV/XLSX files; recognised by name when None (LONGITUD, LON, X …).
    input_crs
        CRS of the coordinate columns, and of vector files that declare none.
    timezone
        IANA zone of a file's times (a workspace knows its own). None: America/Lima when the
        points lie in Peru; elsewhere times are read as the clock reading written in the file
        (naive, an offset such as ``-04:00`` dropped), so hours and dates stay local.

    Returns
    -------
    geopandas.GeoDataFrame
        One point per row (rows keep their file order). ``attrs["source"]`` names what was read,
        ``attrs["timezone"]`` the zone of ``occurred_at`` (absent when it is a clock reading)
        and ``attrs["synthetic"]`` tells whether it is synthetic data (workspace metadata, or a
        file name containing "sintetico").

    Raises
    ------
    InputDataError
        The file is missing, unreadable or of an unsupported type; rows lack usable
        coordinates; geometries are not points.
    ConfigError
        The coordinate columns are not found.
    """
    if path is None:
        return _read_workspace(workspace if workspace is not None else DEFAULT_WORKSPACE)
    p = Path(path)
    if not p.exists():
        raise InputDataError(f"{p}: el archivo no existe", hint="revise la ruta y su escritura")
    if is_workspace(p):
        return _read_workspace(p)
    from .readers import read_incident_file

    raw = read_incident_file(p)
    if raw.geom_x is not None and raw.geom_y is not None:
        points = _from_geometries(raw, input_crs)
    else:
        points = _from_columns(raw, lon_col, lat_col, input_crs)
    zone = timezone or _zone_of_points(points)
    points = canonical_types(points, zone)
    if zone:
        points.attrs["timezone"] = zone
    points.attrs["source"] = str(p)
    points.attrs["synthetic"] = "sintetico" in p.name.lower()
    return points


def _read_workspace(target: str | os.PathLike[str] | DatabaseURL) -> gpd.GeoDataFrame:
    from ..workspace import open_workspace

    ws = open_workspace(target)
    incidents = ws.read_incidents()
    incidents.attrs["source"] = str(ws.path)  # a database URL without its password
    return incidents


def _from_geometries(raw: RawTable, input_crs: str) -> gpd.GeoDataFrame:
    import geopandas as gpd
    import numpy as np

    assert raw.geom_x is not None and raw.geom_y is not None
    problem = raw.geom_problem if raw.geom_problem is not None else np.full(len(raw.data), "")
    bad = (problem != "") & (problem != "empty")
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InputDataError(
            f"{raw.source}: {int(bad.sum())} de {len(bad)} geometrías no son puntos "
            f"(la primera en el elemento {int(raw.source_row[first])}: {problem[first]})",
            hint="use centroides o puntos representativos, o importe el archivo con "
            "'parsc-geo ingest', que pone esas filas en cuarentena",
        )
    missing = ~(np.isfinite(raw.geom_x) & np.isfinite(raw.geom_y))
    geometry = gpd.points_from_xy(raw.geom_x, raw.geom_y)
    geometry[missing] = None
    return gpd.GeoDataFrame(raw.data, geometry=geometry, crs=raw.crs or input_crs)


def _from_columns(
    raw: RawTable, lon_col: str | None, lat_col: str | None, input_crs: str
) -> gpd.GeoDataFrame:
    import geopandas as gpd
    import numpy as np

    from .columns import recognise_columns
    from .coords import parse_numbers

    df = raw.data
    mapping = {k: v for k, v in (("lon", lon_col), ("lat", lat_col)) if v}
    found = recognise_columns(df.columns, mapping, source=raw.source)
    if "lon" not in found or "lat" not in found:
        raise ConfigError(
            f"{raw.source}: no se reconocieron columnas de longitud/latitud "
            f"(columnas: {', '.join(map(str, df.columns))})",
            hint="indíquelas con --lon-col y --lat-col",
        )
    lon, _ = parse_numbers(df[found["lon"]])
    lat, _ = parse_numbers(df[found["lat"]])
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    if bad.any():
        first = int(raw.source_row[np.flatnonzero(bad)[0]])
        raise InputDataError(
            f"{raw.source}: {int(bad.sum())} de {len(df)} filas no tienen coordenadas numéricas "
            f"en {found['lon']!r}/{found['lat']!r} (la primera en la fila de datos {first})",
            hint="corríjalas o elimínelas, o importe el archivo con 'parsc-geo ingest' (que "
            "pone en cuarentena las filas erróneas)",
        )
    _check_degrees(raw, lon, lat, input_crs)
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs=input_crs)


def _check_degrees(raw: RawTable, x: np.ndarray, y: np.ndarray, crs: str) -> None:
    """Refuse projected values read as degrees: name them, not "outside the study area"."""
    import numpy as np
    from pyproj import CRS

    if not CRS.from_user_input(crs).is_geographic:
        return
    with np.errstate(invalid="ignore"):
        wrong = (np.abs(x) > 180) | (np.abs(y) > 90)
    if wrong.any():
        first = int(np.flatnonzero(wrong)[0])
        raise InputDataError(
            f"{raw.source}: las coordenadas parecen proyectadas ({x[first]:.0f} / "
            f"{y[first]:.0f} en la fila {int(raw.source_row[first])}; {int(wrong.sum())} de "
            f"{len(x)} filas no son grados): use --input-crs o --utm-zone",
            hint="indique su sistema, p. ej. --input-crs EPSG:32717 (UTM 17S), o impórtelas "
            "con 'parsc-geo ingest --utm-zone 17S'",
        )


def _zone_of_points(points: gpd.GeoDataFrame) -> str | None:
    """Return America/Lima when the points' centre lies in Peru, else None."""
    import numpy as np

    from ..settings import PERU_BOUNDS

    if not len(points):
        return TIMEZONE
    x, y = points.geometry.x.to_numpy(), points.geometry.y.to_numpy()
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return TIMEZONE
    cx, cy = float(np.median(x[ok])), float(np.median(y[ok]))
    west, south, east, north = PERU_BOUNDS
    return TIMEZONE if west <= cx <= east and south <= cy <= north else None


def canonical_types(points: pd.DataFrame, zone: str | None = TIMEZONE) -> Any:
    """Return ``points`` with the canonical columns it has typed: booleans, numbers, times.

    Boolean-like columns (:data:`BOOLEAN_COLUMNS`) go through :func:`parsc_geo._text.as_bool`,
    so text such as ``"false"`` or ``"0"`` is False; :data:`NUMERIC_COLUMNS` become numbers
    (NaN where unreadable); ``occurred_at`` becomes tz-aware times of ``zone`` (NaT where
    unreadable; naive times are taken as local), or with ``zone`` None the clock reading
    written in the file (naive; an offset is dropped).
    """
    import pandas as pd

    from .._text import as_bool

    out = points.copy()
    for column in BOOLEAN_COLUMNS:
        if column in out.columns:
            out[column] = as_bool(out[column])
    for column in NUMERIC_COLUMNS:
        if column in out.columns:
            out[column] = pd.to_numeric(out[column].replace("", None), errors="coerce")
    if "occurred_at" in out.columns:
        out["occurred_at"] = _local_times(out["occurred_at"], zone)
    return out


def _local_times(values: pd.Series, zone: str | None) -> pd.Series:
    import pandas as pd

    offset = r"(?:Z|[+-]\d\d:?\d\d)$"
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert(zone) if zone else values.dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT") if zone else values
    text = values.astype("object").where(values.notna(), None).astype(str).str.strip()
    if zone is None:
        # the clock reading where it was written: 21:30-04:00 stays 21:30
        clock = text.str.replace(offset, "", regex=True).str.strip()
        clock = clock.where(clock.ne("") & clock.ne("None"))
        return pd.to_datetime(clock, errors="coerce", format="ISO8601")
    has_offset = text.str.contains(offset, regex=True)
    out = pd.Series(pd.NaT, index=values.index, dtype=f"datetime64[ns, {zone}]")
    if has_offset.any():
        aware = pd.to_datetime(text[has_offset], utc=True, errors="coerce", format="ISO8601")
        out[has_offset] = aware.dt.tz_convert(zone)
    naive = ~has_offset & text.ne("") & text.ne("None")
    if naive.any():
        local = pd.to_datetime(text[naive], errors="coerce", format="ISO8601")
        out[naive] = local.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    return out
