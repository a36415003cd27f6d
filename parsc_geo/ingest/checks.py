"""Checks of the ingestion: study area, swapped coordinates, station stacking, duplicates."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from ..settings import (
    CRS_METRIC_CAJAMARCA,
    STATION_STACK_MIN_COUNT,
    STATION_STACK_RADIUS_M,
    STUDY_AREA_UBIGEO_PREFIX,
)

if TYPE_CHECKING:
    from pathlib import Path

    import geopandas as gpd
    import numpy as np
    import pandas as pd
    from shapely.geometry.base import BaseGeometry


@lru_cache(maxsize=8)
def _station_xy(prefixes: tuple[str, ...], metric_crs: str) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    from .. import boundaries

    st = boundaries.load_stations(prefix=prefixes)
    tr = Transformer.from_crs("EPSG:4326", metric_crs, always_xy=True)
    return tr.transform(st.geometry.x.to_numpy(), st.geometry.y.to_numpy())


def study_area(area: str | BaseGeometry | gpd.GeoDataFrame | Path | None = None) -> BaseGeometry:
    """Return the study-area polygon (EPSG:4326) used to accept incident points.

    Parameters
    ----------
    area
        Anything :func:`parsc_geo.area.resolve_area` takes: None (the default study area, the
        Cajamarca region: the union of its 13 provinces), a UBIGEO prefix (``"04"`` a
        department, ``"0401"`` a province, ``"040101"`` a district), a name (``"Arequipa"``),
        a :class:`~parsc_geo.area.StudyArea`, a path to a polygon file, a GeoDataFrame, or a
        shapely polygon in EPSG:4326.

    Notes
    -----
    See :meth:`parsc_geo.area.StudyArea.polygon`: polygons are united and their holes removed.
    """
    from ..area import resolve_area

    return resolve_area(area).polygon()


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
    prefixes: tuple[str, ...] | None = None,
) -> np.ndarray:
    """Flag points stacked on a police station's coordinates.

    A point is stacked when it lies within ``radius_m`` of a station (the CENACOM 2017 units
    whose UBIGEO starts with ``prefixes`` by default: Cajamarca's when None) and at least
    ``min_count`` points lie within that radius of the same station — the pattern left when
    an address could not be geocoded and the complaint was placed at the station that took it
    (``formatos_datos_policiales.md`` §2.3).
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
        sx, sy = _station_xy(prefixes or (STUDY_AREA_UBIGEO_PREFIX,), metric_crs)
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
    eligible = time_known & np.isfinite(lon) & ~dup_id
    dup_ptt = np.zeros(n, dtype=bool)
    if eligible.any():
        rows = np.flatnonzero(eligible)
        dup_ptt[rows] = place_time_type_duplicates(
            lon[rows],
            lat[rows],
            pd.DatetimeIndex(occurred).asi8[rows],
            triple["delito_especifico"].take(rows),
            triple["modalidad"].take(rows),
            derived[rows],
        )
    return dup_id, dup_ptt


def place_time_type_duplicates(
    lon: np.ndarray,
    lat: np.ndarray,
    when: np.ndarray,
    kind: pd.Series | np.ndarray,
    modalidad: pd.Series | np.ndarray,
    derived: np.ndarray,
) -> np.ndarray:
    """Return which rows repeat the place, time and type of another (see :func:`duplicate_mask`).

    The rows are the eligible ones (known time, coordinates, not a duplicate id), in input
    order; ``when`` is their time in nanoseconds (``DatetimeIndex.asi8``). A row is a
    duplicate when its id is ``derived`` and a row with a source id, or an earlier row with a
    derived one, has the same place (to 1e-6 degree), time, type and modalidad. Rows that can
    share no place and time (e.g. from different hash buckets of them) can be given apart.
    """
    import numpy as np
    import pandas as pd

    # the type and modalidad as numbers (equal texts, equal numbers; missing ones alike):
    # grouping a million rows by texts held as Python strings took 300 MB more
    key = pd.DataFrame(
        {
            "x": np.round(lon * 1e6),
            "y": np.round(lat * 1e6),
            "t": when,
            "g": pd.factorize(kind, use_na_sentinel=False)[0],
            "m": pd.factorize(modalidad, use_na_sentinel=False)[0],
        }
    )
    dup = np.zeros(len(key), dtype=bool)
    if not len(key):
        return dup
    group = key.groupby(list(key.columns), sort=False, dropna=False).ngroup().to_numpy()
    sourced = ~np.asarray(derived, dtype=bool)
    has_sourced = np.zeros(int(group.max()) + 1, dtype=bool)
    has_sourced[group[sourced]] = True
    first_derived = ~pd.Series(group[~sourced]).duplicated(keep="first").to_numpy()
    later = np.zeros(len(key), dtype=bool)
    later[np.flatnonzero(~sourced)[~first_derived]] = True
    dup[:] = ~sourced & (has_sourced[group] | later)
    return dup
