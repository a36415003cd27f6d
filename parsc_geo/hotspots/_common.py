"""Shared parts of every hotspot method: input preparation, the common columns, declining."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import ConfigError, CRSError, InputDataError
from .._messages import announce as _announce
from ..labels_es import METHODS as METHOD_NAMES
from ..profile import (
    dated_weekdays,
    known_hours,
    peak_days_by_group,
    peak_hours_by_group,
    top_modalidades_by_group,
)
from ..schema import HOTSPOT_COLUMNS
from ..settings import CRS_GEOGRAPHIC

if TYPE_CHECKING:
    from collections.abc import Sequence

    import geopandas as gpd
    import pandas as pd
    from pyproj import CRS

    from ..partitions import Partition

logger = logging.getLogger("parsc_geo.hotspots")

#: Administrative columns filled with the majority value of the incidents in each hotspot.
ADMIN_COLUMNS: tuple[str, ...] = ("provincia", "distrito", "comisaria", "sector", "subsector")
#: Every incident column a hotspot method reads (besides the geometry): a caller may hand a
#: method only these (a process pool then copies less).
INPUT_COLUMNS: tuple[str, ...] = (
    "incident_id",
    "occurred_at",
    "time_known",
    "delito_especifico",
    "modalidad",
    "fenomeno",
    "harm",
    "at_station",
    *ADMIN_COLUMNS,
)


def method_input(incidents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``incidents`` with only the columns a hotspot method reads (and the geometry).

    What a process pool copies to its workers, and what a backtest keeps per month.
    """
    from ..incidents import only_columns

    return only_columns(incidents, INPUT_COLUMNS)


def announce(message: str, quiet: bool) -> None:
    """Announce an automatic choice or a decision (logged, see :mod:`parsc_geo._messages`)."""
    _announce(logger, message, quiet=quiet)


@dataclass
class Prepared:
    """Incidents ready for a hotspot method (metric CRS, canonical order)."""

    points: gpd.GeoDataFrame
    x: np.ndarray
    y: np.ndarray
    crs: CRS
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Located:
    """Where the usable incidents are, without a copy of their rows (see :func:`locate`).

    Attributes
    ----------
    rows
        Positions (0-based) in the input of the incidents :func:`prepare` keeps, in its
        canonical order: ``data.take(rows)`` are the rows of ``Prepared.points``.
    x, y
        Their metric coordinates (``Prepared.x``, ``Prepared.y``).
    crs
        The metric CRS.
    info
        ``Prepared.info``.
    selection
        The ``attrs["selection"]`` record of :func:`parsc_geo.incidents.select`.
    """

    rows: np.ndarray
    x: np.ndarray
    y: np.ndarray
    crs: CRS
    info: dict[str, Any] = field(default_factory=dict)
    selection: dict[str, Any] = field(default_factory=dict)


def locate(data: Any, *, exclude_at_station: bool, metric: CRS | str | None = None) -> Located:
    """Return which incidents :func:`prepare` keeps, in its order, and their metric x/y.

    The same validation, selection, projection and order as :func:`prepare`, bit for bit,
    without building the sorted frame: a step that reads one or two columns takes them
    itself (``data[column].take(located.rows)``), where :func:`prepare` copies every column
    of every kept row and projects a new point object per incident (hundreds of megabytes
    for a million incidents).

    Raises
    ------
    InputDataError
        When ``data`` is not a GeoDataFrame of points.
    CRSError
        When ``data`` has no CRS.
    """
    located, _ = _locate(data, exclude_at_station=exclude_at_station, metric=metric, points=False)
    return located


def _locate(
    data: Any, *, exclude_at_station: bool, metric: CRS | str | None, points: bool
) -> tuple[Located, Any]:
    """Return :func:`locate`'s result and, when ``points``, the projected points in its order."""
    import geopandas as gpd
    import shapely
    from pyproj import CRS as _CRS

    from ..incidents import select_mask
    from ..projection import metric_crs

    if not isinstance(data, gpd.GeoDataFrame):
        raise InputDataError(
            "los métodos de hotspots requieren un GeoDataFrame de puntos de incidentes; "
            f"se recibió {type(data).__name__}",
            hint="lea los incidentes con parsc_geo.store.Workspace(path).read_incidents() "
            "o geopandas.read_file(...)",
        )
    if data.crs is None:
        raise CRSError(
            "los incidentes no tienen sistema de referencia de coordenadas",
            hint="asigne uno con gdf.set_crs('EPSG:4326') si las coordenadas son longitud/latitud",
        )
    n_input = len(data)
    geoms = np.asarray(data.geometry.values)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kinds = shapely.get_type_id(geoms)
    bad = ~missing & (kinds != 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InputDataError(
            f"{int(bad.sum())} geometrías de incidentes no son puntos "
            f"(la primera en la fila {first + 1}: tipo {shapely.get_type_id(geoms[first])!r})",
            hint="los métodos de hotspots usan un punto por incidente",
        )
    # the one rule of usable incidents: located, and not stacked on a station unless asked
    keep, selection = select_mask(data, include_at_station=not exclude_at_station)
    kept = np.flatnonzero(keep)
    target = _CRS.from_user_input(metric) if metric is not None else None
    if target is None and len(kept) == 0 and len(data) == 0:
        # Nothing to analyse: any metric CRS will do; the method declines on the count.
        from ..settings import CRS_METRIC_CAJAMARCA

        target = _CRS.from_user_input(CRS_METRIC_CAJAMARCA)
    source = data.geometry.values.take(kept)
    if target is None:
        target = metric_crs(gpd.GeoDataFrame(geometry=gpd.GeoSeries(source)) if len(kept) else data)
    projected = None
    if points or bool(shapely.has_z(np.asarray(source)).any()):
        # geopandas' own projection of the selected points (what to_crs does to a frame)
        projected = source.to_crs(target)
        x = shapely.get_x(np.asarray(projected))
        y = shapely.get_y(np.asarray(projected))
    else:
        x, y = _project_xy(source, target)
    del source
    ids = data["incident_id"].take(kept) if "incident_id" in data.columns else None
    order = canonical_order(x, y, ids)
    del ids
    info = {
        "n_input": int(n_input),
        "n_missing_geometry": int(missing.sum()),
        "n_excluded_at_station": int(selection["n_excluded_at_station"]),
        "exclude_at_station": bool(exclude_at_station),
        "n_used": len(kept),
        "crs_metric": target.to_string(),
    }
    located = Located(
        rows=kept[order], x=x[order], y=y[order], crs=target, info=info, selection=selection
    )
    return located, None if projected is None else projected.take(order)


def canonical_order(x: np.ndarray, y: np.ndarray, incident_id: pd.Series | None) -> np.ndarray:
    """Return the order of :func:`prepare` (and :func:`locate`) of incidents at ``x``, ``y``.

    By ``x``, then ``y``, then ``incident_id`` (when given; missing values last), ties in
    the order given: pandas' stable sort of those key columns, the sort :func:`prepare` has
    always made. A lexicographic order: any subset of the incidents comes out in the same
    relative order, and ``incident_id`` decides only between incidents at the same point.
    """
    import pandas as pd

    keys = pd.DataFrame({"_x": x, "_y": y})
    if incident_id is not None:
        keys["incident_id"] = incident_id.reset_index(drop=True)
    return keys.sort_values(list(keys.columns), kind="stable").index.to_numpy()


def merge_located(
    infos: Sequence[dict[str, Any]], crs: CRS, *, exclude_at_station: bool
) -> dict[str, Any]:
    """Return the ``info`` of :func:`locate` on a table from those of its parts.

    Parameters
    ----------
    infos
        ``Located.info`` of each part, all located in ``crs`` (the table's, see
        :func:`locate_crs`) with the same ``exclude_at_station``.
    crs
        The metric CRS.
    exclude_at_station
        As :func:`locate`.

    Returns
    -------
    dict
        The counts summed, in :func:`locate`'s order of keys.
    """
    merged: dict[str, Any] = {
        "n_input": 0,
        "n_missing_geometry": 0,
        "n_excluded_at_station": 0,
        "exclude_at_station": bool(exclude_at_station),
        "n_used": 0,
        "crs_metric": crs.to_string(),
    }
    for info in infos:
        for key in ("n_input", "n_missing_geometry", "n_excluded_at_station", "n_used"):
            merged[key] += int(info[key])
    return merged


def _located_bounds(
    data: gpd.GeoDataFrame, exclude_at_station: bool
) -> tuple[int, int, Any, tuple[float, float, float, float] | None]:
    """Return what :func:`locate_crs` needs of one part: rows, usable rows, CRS and bounds.

    The bounds (:func:`parsc_geo.projection.geographic_bounds`) are those of the usable
    incidents, or of every row when none is usable; None when the CRS is kept as it is
    (metric) or there are no rows.
    """
    import geopandas as gpd

    from ..incidents import select_mask
    from ..projection import geographic_bounds, is_metric

    if data.crs is None or is_metric(data.crs) or not len(data):
        return len(data), 0, data.crs, None
    keep, _ = select_mask(data, include_at_station=not exclude_at_station)
    kept = np.flatnonzero(keep)
    if len(kept):
        bounds = geographic_bounds(gpd.GeoSeries(data.geometry.values.take(kept)))
    else:
        bounds = geographic_bounds(data)
    return len(data), len(kept), data.crs, bounds


def locate_crs(partitions: Sequence[Partition], *, exclude_at_station: bool, pool: Any = 1) -> CRS:
    """Return the metric CRS :func:`locate` chooses for the incidents of all ``partitions``.

    What every part of a table is located in (``locate(part, metric=...)``) so that their
    coordinates are those of the whole table: the table's CRS when it is metric; otherwise
    the UTM zone of the centre of the usable incidents' bounds (of every incident when none
    is usable), merged from each partition's bounds computed in a task that reads it
    (:func:`parsc_geo.partitions.map_partitions`); UTM 17S without incidents, as
    :func:`locate`.

    Parameters
    ----------
    partitions
        The parts of the table (each row in one).
    exclude_at_station
        As :func:`locate`.
    pool
        Where the tasks run (a :class:`parsc_geo.parallel.WorkerPool`, or a number of workers).

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSError
        When the incidents have no CRS.
    """
    from pyproj import CRS as _CRS

    from ..partitions import map_partitions
    from ..projection import is_metric, utm_crs_for_bounds

    parts = map_partitions(
        _located_bounds, partitions, pool=pool, columns=("at_station",), args=(exclude_at_station,)
    )
    crs = parts[0][2] if parts else None
    n_rows = sum(rows for rows, *_ in parts)
    if crs is None and parts:
        raise CRSError(
            "los incidentes no tienen sistema de referencia de coordenadas",
            hint="asigne uno con gdf.set_crs('EPSG:4326') si las coordenadas son longitud/latitud",
        )
    if n_rows == 0:
        # Nothing to analyse: any metric CRS will do; the method declines on the count.
        from ..settings import CRS_METRIC_CAJAMARCA

        return _CRS.from_user_input(CRS_METRIC_CAJAMARCA)
    if is_metric(_CRS.from_user_input(crs)):
        return _CRS.from_user_input(crs)
    usable = sum(kept for _, kept, *_ in parts) > 0
    boxes = np.array(
        [bounds for rows, kept, _, bounds in parts if (kept if usable else rows)], dtype=float
    )
    return utm_crs_for_bounds(
        (
            float(boxes[:, 0].min()),
            float(boxes[:, 1].min()),
            float(boxes[:, 2].max()),
            float(boxes[:, 3].max()),
        )
    )


def _project_xy(source: Any, target: CRS) -> tuple[np.ndarray, np.ndarray]:
    """Return the x/y of 2-D points projected as ``GeometryArray.to_crs`` projects them.

    The same transformer (``Transformer.from_crs(source, target, always_xy=True)``) on the
    same coordinates: PROJ transforms each point on its own, so the numbers are those of the
    projected points, without creating one.
    """
    import shapely
    from pyproj import Transformer

    values = np.asarray(source)
    x = shapely.get_x(values)
    y = shapely.get_y(values)
    if source.crs.is_exact_same(target):
        return x, y
    transformer = Transformer.from_crs(source.crs, target, always_xy=True)
    px, py = transformer.transform(x, y)
    return np.asarray(px, dtype=float), np.asarray(py, dtype=float)


def prepare(
    data: Any,
    *,
    exclude_at_station: bool,
    metric: CRS | str | None = None,
) -> Prepared:
    """Validate incidents, drop empty geometries and station stacks, project and sort them.

    The rows are sorted by coordinates and then ``incident_id`` so that every method sees
    the same input whatever the order of the rows it was given (results do not depend on it).
    A step that reads few columns can use :func:`locate` (the same rows, order and x/y
    without the frame).

    Raises
    ------
    InputDataError
        When ``data`` is not a GeoDataFrame of points.
    CRSError
        When ``data`` has no CRS.
    """
    import geopandas as gpd
    import pandas as pd

    located, projected = _locate(
        data, exclude_at_station=exclude_at_station, metric=metric, points=True
    )
    # one copy of the kept rows, already in order (the selection, projection and sort
    # used to copy every column three times)
    points = data.take(located.rows)
    name = data.geometry.name
    points[name] = gpd.GeoSeries(projected, index=points.index, crs=projected.crs, name=name)
    points["_x"] = located.x
    points["_y"] = located.y
    points.index = pd.RangeIndex(len(points))
    points.attrs = {**data.attrs, "selection": located.selection}
    return Prepared(
        points=points,
        x=points["_x"].to_numpy(float),
        y=points["_y"].to_numpy(float),
        crs=located.crs,
        info=located.info,
    )


def point_weights(points: pd.DataFrame, weights: str | None) -> np.ndarray:
    """Return each incident's weight: 1, or the numeric column ``weights`` (e.g. ``"harm"``)."""
    if weights is None:
        return np.ones(len(points))
    if weights not in points.columns:
        raise ConfigError(
            f"no se encontró la columna de pesos {weights!r} "
            f"(columnas: {', '.join(map(str, points.columns[:20]))})",
            hint="use weights='harm' para análisis ponderados por daño, o None para conteos",
        )
    import pandas as pd

    values = pd.to_numeric(points[weights], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InputDataError(
            f"{int(bad.sum())} incidentes tienen {weights!r} faltante o negativo "
            f"(el primero: incidente {points.iloc[first].get('incident_id', first + 1)!r}, "
            f"valor {points[weights].iloc[first]!r})",
            hint=f"complete {weights!r} con números no negativos",
        )
    return values


def _majority(members: pd.DataFrame, column: str, n_hotspots: int) -> list[Any]:
    out: list[Any] = [None] * n_hotspots
    if column not in members.columns:
        return out
    values = members[["_hid", column]].copy()
    values[column] = values[column].astype("object")
    values = values[values[column].notna()]
    values[column] = values[column].astype(str).str.strip()
    values = values[values[column] != ""]
    if values.empty:
        return out
    counts = values.groupby(["_hid", column], sort=False).size().reset_index(name="_c")
    counts = counts.sort_values(
        ["_hid", "_c", column], ascending=[True, False, True], kind="stable"
    ).drop_duplicates("_hid")
    for hid, value in zip(counts["_hid"].to_numpy(), counts[column].to_numpy(), strict=True):
        out[int(hid)] = value
    return out


def describe(
    prepared: Prepared,
    membership: np.ndarray,
    geometries: Any,
    *,
    method: str,
    extras: pd.DataFrame | None = None,
    parameters: dict[str, Any],
) -> gpd.GeoDataFrame:
    """Build the hotspot table: common columns from the incidents in each hotspot, plus extras.

    Parameters
    ----------
    prepared
        The prepared incidents.
    membership
        For each prepared incident, the position (0-based, in ``geometries``) of its hotspot,
        or -1.
    geometries
        Hotspot polygons in the metric CRS, in output order.
    method
        Method name, used in ``hotspot_id`` (``"<method>-0001"``) and the ``method`` column.
    extras
        Method-specific columns, one row per hotspot (same order).
    parameters
        Stored in ``attrs["parameters"]`` (with the preparation counts).

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`parsc_geo.schema.HOTSPOT_COLUMNS` then the extras, geometry in EPSG:4326.

    Notes
    -----
    Administrative columns hold the most frequent value among the hotspot's incidents (ties go
    to the alphabetically first), None without incidents or values. ``top_modalidades``,
    ``peak_hours`` and ``peak_days`` are the profile of :mod:`parsc_geo.profile`.
    """
    import geopandas as gpd
    import pandas as pd
    import shapely

    geoms = np.asarray(geometries, dtype=object)
    n_h = len(geoms)
    membership = np.asarray(membership, dtype=np.int64)
    points = prepared.points
    inside = membership >= 0
    members = points.loc[inside].drop(columns="geometry").copy()
    members["_hid"] = membership[inside]
    n = np.bincount(membership[inside], minlength=n_h).astype(np.int64)
    if "harm" in points.columns:
        harm_values = pd.to_numeric(points["harm"], errors="coerce").to_numpy(float)[inside]
        harm_values = np.where(np.isfinite(harm_values), harm_values, 0.0)
    else:
        harm_values = np.ones(int(inside.sum()))
    harm = np.bincount(membership[inside], weights=harm_values, minlength=n_h).astype(float)
    area_km2 = shapely.area(geoms).astype(float) / 1e6 if n_h else np.zeros(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(area_km2 > 0, n / np.where(area_km2 > 0, area_km2, 1.0), np.nan)
    width = max(4, len(str(n_h)))
    table: dict[str, Any] = {
        "hotspot_id": [f"{method}-{i + 1:0{width}d}" for i in range(n_h)],
        "method": [method] * n_h,
        "n": n,
        "harm": harm,
        "area_km2": area_km2,
        "density": density,
    }
    for column in ADMIN_COLUMNS:
        table[column] = _majority(members, column, n_h)
    hid = members["_hid"].to_numpy()
    table["top_modalidades"] = top_modalidades_by_group(members, hid, n_h)
    rows, hours = known_hours(members)
    table["peak_hours"] = peak_hours_by_group(hid[rows], hours, n_h)
    rows, weekdays = dated_weekdays(members)
    table["peak_days"] = peak_days_by_group(hid[rows], weekdays, n_h)
    frame = pd.DataFrame(table)
    for column in (*ADMIN_COLUMNS, "top_modalidades", "peak_hours", "peak_days"):
        frame[column] = frame[column].astype(object)
    if extras is not None:
        extras = extras.reset_index(drop=True)
        for column in extras.columns:
            frame[column] = extras[column].to_numpy()
    out = gpd.GeoDataFrame(frame, geometry=list(geoms), crs=prepared.crs).to_crs(CRS_GEOGRAPHIC)
    out = out[[*HOTSPOT_COLUMNS[:-1], *(extras.columns if extras is not None else []), "geometry"]]
    out.attrs["parameters"] = {"method": method, **prepared.info, **parameters}
    return out


def empty(
    method: str,
    reason: str,
    *,
    parameters: dict[str, Any],
    extras: dict[str, str] | None = None,
    quiet: bool = False,
    reason_es: str | None = None,
) -> gpd.GeoDataFrame:
    """Return an empty hotspot table for a method that declines, with ``attrs["reason"]``.

    ``extras`` maps the method's extra column names to their dtypes. The reason is announced
    on stderr unless ``quiet``; ``reason_es`` (Spanish, for published tables) is stored in
    ``attrs["reason_es"]``.
    """
    import geopandas as gpd
    import pandas as pd

    columns: dict[str, Any] = {
        "hotspot_id": pd.Series([], dtype=object),
        "method": pd.Series([], dtype=object),
        "n": pd.Series([], dtype=np.int64),
        "harm": pd.Series([], dtype=float),
        "area_km2": pd.Series([], dtype=float),
        "density": pd.Series([], dtype=float),
    }
    for column in (*ADMIN_COLUMNS, "top_modalidades", "peak_hours", "peak_days"):
        columns[column] = pd.Series([], dtype=object)
    for column, dtype in (extras or {}).items():
        columns[column] = pd.Series([], dtype=dtype)
    out = gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries([], crs=CRS_GEOGRAPHIC))
    out.attrs["parameters"] = {"method": method, **parameters, "declined": reason}
    out.attrs["reason"] = reason
    out.attrs["reason_es"] = reason_es or reason
    announce(f"{METHOD_NAMES.get(method, method)}: ningún hotspot — {reason_es or reason}", quiet)
    return out
