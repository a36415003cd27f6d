"""Checks of the ingestion: study area, swapped coordinates, station stacking, duplicates."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from .._errors import ConfigError
from ..settings import CRS_METRIC_CAJAMARCA, STATION_STACK_MIN_COUNT, STATION_STACK_RADIUS_M

if TYPE_CHECKING:
    from pathlib import Path

    import geopandas as gpd
    import numpy as np
    import pandas as pd
    from shapely.geometry.base import BaseGeometry


def _without_holes(geom: BaseGeometry) -> BaseGeometry:
    from shapely.geometry import MultiPolygon, Polygon

    if isinstance(geom, Polygon):
        return Polygon(geom.exterior)
    if isinstance(geom, MultiPolygon):
        return MultiPolygon([Polygon(g.exterior) for g in geom.geoms])
    return geom


@lru_cache(maxsize=1)
def _default_area() -> BaseGeometry:
    import shapely

    from .. import boundaries

    provinces = boundaries.load_provinces()
    return _without_holes(shapely.union_all(provinces.geometry.to_numpy()))


@lru_cache(maxsize=4)
def _bundled_station_xy(metric_crs: str) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    from .. import boundaries

    st = boundaries.load_stations()
    tr = Transformer.from_crs("EPSG:4326", metric_crs, always_xy=True)
    return tr.transform(st.geometry.x.to_numpy(), st.geometry.y.to_numpy())


def study_area(area: str | BaseGeometry | gpd.GeoDataFrame | Path | None = None) -> BaseGeometry:
    """Return the study-area polygon (EPSG:4326) used to accept incident points.

    Parameters
    ----------
    area
        None: the Cajamarca region (union of the 13 bundled provinces). A string of digits:
        a UBIGEO prefix (``"06"`` region, ``"0601"`` province of Cajamarca, ``"060101"`` a
        district) selecting bundled districts. A path to a polygon file, a GeoDataFrame, or a
        shapely polygon in EPSG:4326.

    Notes
    -----
    Polygons are united and their holes removed: the bundled boundaries were simplified one
    unit at a time and leave slivers between neighbours (see ``boundaries/SOURCES.md``), which
    are inside the territory.
    """
    import shapely

    from .. import boundaries

    if area is None:
        return _default_area()
    if isinstance(area, str) and area.isdigit():
        districts = boundaries.load_districts()
        chosen = districts[districts["ubigeo"].str.startswith(area)]
        if chosen.empty:
            raise ConfigError(
                "área de estudio: ningún distrito incluido tiene un UBIGEO que empiece por "
                f"{area!r}",
                hint="los UBIGEO de Cajamarca empiezan por 06 (p. ej. 0601 = provincia de "
                "Cajamarca)",
            )
        return _without_holes(shapely.union_all(chosen.geometry.to_numpy()))
    if isinstance(area, shapely.Geometry):
        return _without_holes(area)
    import geopandas as gpd

    if isinstance(area, gpd.GeoDataFrame):
        gdf = area
    else:
        try:
            gdf = gpd.read_file(area)
        except Exception as exc:
            raise ConfigError(
                f"área de estudio: no se puede leer el archivo de polígonos {area} ({exc})"
            ) from exc
    if gdf.crs is not None:
        gdf = gdf.to_crs("EPSG:4326")
    polys = gdf.geometry[gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polys.empty:
        raise ConfigError("área de estudio: el archivo no tiene polígonos")
    return _without_holes(shapely.union_all(polys.to_numpy()))


def inside(area: BaseGeometry, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Return whether each point lies in ``area`` (NaN coordinates give False)."""
    import numpy as np
    import shapely

    shapely.prepare(area)
    ok = np.isfinite(lon) & np.isfinite(lat)
    result = np.zeros(len(lon), dtype=bool)
    if ok.any():
        result[ok] = shapely.contains_xy(area, lon[ok], lat[ok])
    return result


def station_stack(
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    stations: gpd.GeoDataFrame | None = None,
    radius_m: float = STATION_STACK_RADIUS_M,
    min_count: int = STATION_STACK_MIN_COUNT,
    metric_crs: str = CRS_METRIC_CAJAMARCA,
) -> np.ndarray:
    """Flag points stacked on a police station's coordinates.

    A point is stacked when it lies within ``radius_m`` of a station (CENACOM 2017 points by
    default) and at least ``min_count`` points lie within that radius of the same station —
    the pattern left when an address could not be geocoded and the complaint was placed at the
    station that took it (``formatos_datos_policiales.md`` §2.3).
    """
    import numpy as np
    from pyproj import Transformer
    from scipy.spatial import cKDTree

    n = len(lon)
    flags = np.zeros(n, dtype=bool)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return flags
    tr = Transformer.from_crs("EPSG:4326", metric_crs, always_xy=True)
    if stations is None:
        sx, sy = _bundled_station_xy(metric_crs)
    else:
        st = stations.to_crs("EPSG:4326")
        sx, sy = tr.transform(st.geometry.x.to_numpy(), st.geometry.y.to_numpy())
    px, py = tr.transform(lon[ok], lat[ok])
    tree = cKDTree(np.column_stack([sx, sy]))
    dist, nearest = tree.query(np.column_stack([px, py]), k=1, distance_upper_bound=radius_m)
    near = np.isfinite(dist)
    counts = np.bincount(nearest[near], minlength=len(sx))
    stacked = near.copy()
    stacked[near] = counts[nearest[near]] >= min_count
    flags[np.flatnonzero(ok)] = stacked
    return flags


def duplicate_mask(
    ids: pd.Series,
    lon: np.ndarray,
    lat: np.ndarray,
    occurred: pd.Series,
    time_known: np.ndarray,
    triple: pd.DataFrame,
    *,
    derived: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return masks of exact duplicates: same ``incident_id``; same place, time and type.

    Rules
    -----
    - Same ``incident_id``: every occurrence after the first (in input order) is a duplicate.
    - Same place (to 1e-6 degree, ≈0.1 m), time and type (``delito_especifico`` and
      ``modalidad``): only rows **without a source id** (``derived``: the id was made from the
      row's content) can be such a duplicate. Rows with distinct ids from the source are
      distinct records — a complaint with several victims is written once per victim, with
      the same place, time and type — and are never merged. A row without a source id is a
      duplicate when a row with a source id, or an earlier row without one, has the same
      place, time and type.
    - The place-time-type test only applies where the time is known: two complaints of the
      same type on the same block and day but without an hour may well be different events
      (``formatos_datos_policiales.md`` §2.6).

    Parameters
    ----------
    derived
        Per row, whether its id was derived from its content (no source id). None: every row
        (the rule of files without an id column).
    """
    import numpy as np
    import pandas as pd

    n = len(ids)
    derived = np.ones(n, dtype=bool) if derived is None else np.asarray(derived, dtype=bool)
    dup_id = ids.duplicated(keep="first").to_numpy()
    key = pd.DataFrame(
        {
            "x": np.round(lon * 1e6),
            "y": np.round(lat * 1e6),
            "t": pd.DatetimeIndex(occurred).asi8,
            "g": triple["delito_especifico"].to_numpy(),
            "m": triple["modalidad"].to_numpy(),
        }
    )
    eligible = time_known & np.isfinite(lon) & ~dup_id
    dup_ptt = np.zeros(n, dtype=bool)
    if eligible.any():
        rows = np.flatnonzero(eligible)
        sub = key.iloc[rows].reset_index(drop=True)
        group = sub.groupby(list(sub.columns), sort=False, dropna=False).ngroup().to_numpy()
        sourced = ~derived[rows]
        has_sourced = np.zeros(int(group.max()) + 1, dtype=bool)
        has_sourced[group[sourced]] = True
        first_derived = ~pd.Series(group[~sourced]).duplicated(keep="first").to_numpy()
        later = np.zeros(len(rows), dtype=bool)
        later[np.flatnonzero(~sourced)[~first_derived]] = True
        dup_ptt[rows] = ~sourced & (has_sourced[group] | later)
    return dup_id, dup_ptt
