"""Critical points ("puntos críticos") of a patrol sector: small hotspots restricted to the sector.

A critical point is a small area a patrol can stand in, not a neighbourhood. Candidates come from
the hotspot engine (DBSCAN clusters with a small radius, or Gi* hot cells) or from a simple count
grid; each candidate is clipped to the sector, shrunk to its core when larger than
``max_area_m2``, recounted, and kept only with at least ``min_count`` incidents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._errors import ConfigError
from .places import LOCATION_COLUMNS

if TYPE_CHECKING:
    from collections.abc import Sequence

    import geopandas as gpd
    import numpy as np
    import numpy.typing as npt
    from shapely import STRtree
    from shapely.geometry.base import BaseGeometry

#: Methods that propose candidate critical points.
METHODS = ("dbscan", "gistar", "grid")
#: Default candidate method.
DEFAULT_METHOD = "dbscan"
#: Default minimum number of incidents in a critical point.
DEFAULT_MIN_COUNT = 5
#: Default DBSCAN radius (m): about a block.
DEFAULT_EPS_M = 60.0
#: Buffer (m) around DBSCAN hulls: half a street, so a point stays small.
DBSCAN_BUFFER_M = 25.0
#: Default cell size (m) of the grid and Gi* methods.
DEFAULT_CELL_SIZE_M = 100.0
#: Largest area (m²) of a critical point; larger candidates are shrunk to their core.
DEFAULT_MAX_AREA_M2 = 40_000.0
#: Radius (m) of the core circle that replaces a too-large candidate.
DEFAULT_CORE_RADIUS_M = 100.0
#: Default maximum number of critical points per sector (one printed page).
DEFAULT_MAX_POINTS = 10

#: Columns of a critical-point table (besides geometry), in order.
POINT_COLUMNS = (
    "punto_id",
    "comisaria",
    "comisaria_id",
    "sector",
    "subsector",
    "rango",
    "rango_comisaria",
    "rango_subsector",
    "n",
    "dano",
    "riesgo",
    "area_m2",
    "modalidades",
    "horas_pico",
    "dias_pico",
    "orden_visita",
    "visitas_laborable",
    "visitas_fin_de_semana",
    *LOCATION_COLUMNS,
    "metodo",
    "origen_id",
)


def grid_candidates(points: gpd.GeoDataFrame, cell_size: float) -> list[BaseGeometry]:
    """Return the square cells (metric CRS, anchored at multiples of ``cell_size``) with points."""
    import numpy as np
    from shapely.geometry import box

    if not len(points):
        return []
    cols = np.floor(points.geometry.x.to_numpy() / cell_size).astype(np.int64)
    rows = np.floor(points.geometry.y.to_numpy() / cell_size).astype(np.int64)
    # np.unique of the (column, row) pairs sorts them as tuples are sorted: column, then row.
    cells = np.unique(np.column_stack([cols, rows]), axis=0)
    return [
        box(i * cell_size, j * cell_size, (i + 1) * cell_size, (j + 1) * cell_size)
        for i, j in cells.tolist()
    ]


def engine_candidates(
    incidents: gpd.GeoDataFrame,
    method: str,
    *,
    min_count: int,
    eps_m: float,
    cell_size_m: float,
    notes: list[str] | None = None,
) -> gpd.GeoDataFrame:
    """Return hotspot polygons (EPSG:4326) from :mod:`parsc_geo.hotspots` for one sector."""
    from .. import hotspots

    if method == "dbscan":
        found: gpd.GeoDataFrame = hotspots.hotspot_dbscan(
            incidents,
            eps=eps_m,
            min_samples=min_count,
            buffer=DBSCAN_BUFFER_M,
            min_incidents=min_count,
            quiet=True,
        )
    else:
        found = hotspots.hotspot_gistar(incidents, cell_size=cell_size_m, quiet=True)
        if len(found):
            found = found[found["gi_class"].astype(str).str.startswith("caliente")]
    if found.attrs.get("reason") and notes is not None:
        notes.append(
            f"El método {method} no halló zonas calientes en el sector con estos parámetros "
            f"(mínimo {min_count} denuncias"
            + (f" a menos de {eps_m:g} m)." if method == "dbscan" else ").")
        )
    return found


#: Relative margin of the two KD-tree counts that bracket the exact neighbour count.
_COUNT_MARGIN = 1e-9


def neighbour_counts(xy: npt.NDArray[np.float64], radius: float) -> npt.NDArray[np.int64]:
    """Return, per point, how many points (itself included) lie within ``radius`` metres.

    The distance is ``numpy.hypot(dx, dy) <= radius``, the rule of a full distance matrix, but
    memory stays proportional to the number of points: a KD-tree (:class:`scipy.spatial.cKDTree`)
    counts the neighbours within a radius a hair smaller and a hair larger than ``radius``
    (relative ``1e-9``, far above rounding); only the points whose two counts differ (a
    neighbour at ``radius`` give or take rounding) are counted again exactly, one at a time.
    """
    import numpy as np
    from scipy.spatial import cKDTree

    tree = cKDTree(xy)
    low = tree.query_ball_point(xy, radius * (1.0 - _COUNT_MARGIN), return_length=True)
    high = tree.query_ball_point(xy, radius * (1.0 + _COUNT_MARGIN), return_length=True)
    counts = np.asarray(low, dtype=np.int64)
    for i in np.flatnonzero(np.asarray(low) != np.asarray(high)):
        near = np.asarray(tree.query_ball_point(xy[i], radius * (1.0 + _COUNT_MARGIN)), dtype=int)
        d = np.hypot(xy[i, 0] - xy[near, 0], xy[i, 1] - xy[near, 1])
        counts[i] = int((d <= radius).sum())
    return counts


def densest_index(xy: npt.NDArray[np.float64], ids: Sequence[str], radius: float) -> int:
    """Return the position of the point with most points within ``radius`` (ties: least id)."""
    import numpy as np

    counts = neighbour_counts(xy, radius)
    tied = np.flatnonzero(counts == counts.max())
    return min(tied.tolist(), key=lambda i: ids[i])


def _core(polygon: BaseGeometry, points: gpd.GeoDataFrame, radius: float) -> BaseGeometry:
    """Return the circle of ``radius`` around the incident of ``polygon`` with most neighbours."""
    import numpy as np

    inside = _intersecting(points, polygon)
    xy = np.column_stack([inside.geometry.x, inside.geometry.y])
    ids = inside["incident_id"].astype(str).tolist()
    best = densest_index(xy, ids, radius)
    return inside.geometry.iloc[best].buffer(radius, 32)


def _intersecting(
    points: gpd.GeoDataFrame, area: BaseGeometry, tree: STRtree | None = None
) -> gpd.GeoDataFrame:
    """Return the rows of ``points`` whose geometry intersects ``area``, in their order.

    A spatial index answers in logarithmic time where testing every row would make choosing
    the points of a sector grow with incidents × candidates.
    """
    import numpy as np
    import shapely

    if tree is None:
        tree = shapely.STRtree(np.asarray(points.geometry.values))
    hits = np.sort(tree.query(area, predicate="intersects"))
    return points.iloc[hits]


def critical_points(
    incidents: gpd.GeoDataFrame,
    sector: BaseGeometry,
    *,
    candidates: list[BaseGeometry],
    origin_ids: list[str] | None = None,
    min_count: int = DEFAULT_MIN_COUNT,
    max_area_m2: float = DEFAULT_MAX_AREA_M2,
    core_radius_m: float = DEFAULT_CORE_RADIUS_M,
    max_points: int = DEFAULT_MAX_POINTS,
    risk: str = "n",
) -> list[dict[str, Any]]:
    """Turn candidate areas into ranked critical points of one sector.

    Parameters
    ----------
    incidents
        The sector's incidents in a metric CRS (stacked-at-station rows already removed), with
        ``incident_id``, ``harm``, ``occurred_at``, ``time_known``, ``delito_especifico``,
        ``modalidad`` and ``subsector``.
    sector
        Sector polygon in the same metric CRS.
    candidates
        Candidate polygons in the same metric CRS.
    origin_ids
        Identifier of each candidate (e.g. the ``hotspot_id``), kept as ``origen_id``.
    min_count
        Minimum incidents inside a critical point.
    max_area_m2
        Largest area of a critical point; a larger candidate is replaced by the circle of
        ``core_radius_m`` around its incident with most neighbours within that radius.
    core_radius_m
        Radius of that core circle.
    max_points
        Keep at most this many points (the highest-risk ones).
    risk
        ``"n"`` (incidents) or ``"harm"`` (sum of harm weights) ranks the points.

    Returns
    -------
    list of dict
        One dict per point, rank order, with ``geometry`` (metric), ``n``, ``dano``, ``riesgo``,
        ``area_m2``, ``subsector``, ``modalidades``, ``horas_pico``, ``dias_pico``,
        ``origen_id`` and ``rango``. An incident counts in one point only (the larger first).
    """
    from ..profile import dated_weekdays, known_hours, peak_days, peak_hours, top_modalidades

    if risk not in ("n", "harm"):
        raise ConfigError(f"risk debe ser 'n' o 'harm'; se recibió {risk!r}")
    import numpy as np
    import shapely

    ids = origin_ids if origin_ids is not None else [""] * len(candidates)
    tree = shapely.STRtree(np.asarray(incidents.geometry.values))
    shaped = []
    for geom, origin in zip(candidates, ids, strict=True):
        area = geom.intersection(sector)
        if area.is_empty or area.area <= 0:
            continue
        if area.area > max_area_m2:
            inside = _intersecting(incidents, area, tree)
            if len(inside) < min_count:
                continue
            area = _core(area, inside, core_radius_m).intersection(sector)
        shaped.append((area, origin))
    claimed: set[str] = set()
    counted = []
    for area, origin in shaped:
        counted.append((len(tree.query(area, predicate="intersects")), area, origin))
    counted.sort(key=lambda c: (-c[0], -c[1].centroid.y, c[1].centroid.x))
    points = []
    for _, area, origin in counted:
        inside = _intersecting(incidents, area, tree)
        inside = inside[~inside["incident_id"].astype(str).isin(claimed)]
        if len(inside) < min_count:
            continue
        claimed.update(inside["incident_id"].astype(str))
        subsectors = inside["subsector"].dropna().astype(str)
        sub_counts = subsectors.value_counts()
        subsector = (
            sorted(sub_counts.index, key=lambda s: (-int(sub_counts[s]), s))[0]
            if len(sub_counts)
            else None
        )
        harm = float(inside["harm"].astype(float).sum())
        points.append(
            {
                "geometry": area,
                "n": len(inside),
                "dano": round(harm, 6),
                "riesgo": float(len(inside)) if risk == "n" else round(harm, 6),
                "area_m2": round(float(area.area), 1),
                "subsector": subsector,
                "modalidades": "",
                "horas_pico": "",
                "dias_pico": "",
                "origen_id": origin,
                "_incidents": inside,
            }
        )
    points.sort(
        key=lambda p: (-p["riesgo"], -p["n"], -p["geometry"].centroid.y, p["geometry"].centroid.x)
    )
    points = points[:max_points]
    for rank, point in enumerate(points, start=1):
        # The profile of the points kept only: it plays no part in choosing them.
        inside = point.pop("_incidents")
        point["modalidades"] = top_modalidades(inside) or ""
        point["horas_pico"] = peak_hours(known_hours(inside)[1]) or "sin hora"
        point["dias_pico"] = peak_days(dated_weekdays(inside)[1]) or "sin fecha"
        point["rango"] = rank
    return points
