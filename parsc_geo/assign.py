"""Assignment of incidents to district, province, police station and comisaría sector.

Rules
-----
District and province
    The district polygon that contains the point. The bundled boundaries were simplified one
    polygon at a time, so neighbouring districts overlap or leave thin gaps along their borders
    (about 0.25 % of the area, see ``boundaries/SOURCES.md``). A point inside two districts goes
    to the one it lies deepest in (largest distance to that district's boundary); a point in a
    gap goes to the nearest district within ``max_nearest_m`` and is flagged
    ``nearest_district``. Points farther than that keep empty assignment columns.
Police station
    Where a sector layer is given and the point falls in a subsector, the comisaría of that
    layer. Otherwise the nearest police unit of the INEI 2017 census (CENACOM) of the study
    area's departments — a proxy for jurisdiction, which is not published — if it lies within
    ``station_max_distance_m`` (default :data:`parsc_geo.settings.STATION_MAX_DISTANCE_M`,
    50 km: 98.4 % of Peru's populated places have a unit that close). Farther points (a file
    from another country, a coordinate typed wrong) keep an empty comisaría, are flagged
    ``far_from_station`` and counted in a warning; they are never given to a station hundreds
    or thousands of kilometres away.
Study area
    ``area`` (:func:`parsc_geo.area.resolve_area`; default Cajamarca) supplies the districts,
    the police units and the metric CRS when they are not given.
Sector and subsector
    The subsector polygon containing the point (the first in natural label order if subsectors
    overlap); empty outside every sector.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from ._memory import release_memory
from .settings import NEAREST_DISTRICT_MAX_M, STATION_MAX_DISTANCE_M

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from .area import StudyArea

logger = logging.getLogger(__name__)


def assign_incidents(
    incidents: gpd.GeoDataFrame,
    *,
    districts: gpd.GeoDataFrame | None = None,
    stations: gpd.GeoDataFrame | None = None,
    sectors: gpd.GeoDataFrame | None = None,
    max_nearest_m: float = NEAREST_DISTRICT_MAX_M,
    metric_crs: str | None = None,
    area: StudyArea | str | None = None,
    station_max_distance_m: float = STATION_MAX_DISTANCE_M,
    warn: bool = True,
) -> gpd.GeoDataFrame:
    """Assign incidents to district, province, police station, sector and subsector.

    Parameters
    ----------
    incidents
        Point incidents (any CRS). Not modified.
    districts
        District polygons with ``ubigeo``, ``distrito``, ``provincia``; default: the bundled
        districts of ``area``.
    stations
        Police stations with ``id_n`` and ``nombre_mostrado`` (or ``nombre``); default: the
        CENACOM 2017 units of the departments of ``area``.
    sectors
        Optional sector layer (see :mod:`parsc_geo.sectors`).
    max_nearest_m
        Largest distance (m) to the nearest district for points that fall in no district.
    metric_crs
        CRS for distances; default: the metric CRS of ``area`` (UTM 17S for Cajamarca).
    area
        The study area (anything :func:`parsc_geo.area.resolve_area` takes; default
        Cajamarca).
    station_max_distance_m
        Farthest police unit (m) an incident outside every sector is assigned to.
    warn
        Warn of the incidents farther than that from every unit (see
        :func:`warn_far_from_station`).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``incidents`` with the assignment columns (empty strings where unknown) and
        ``flags`` extended with ``nearest_district`` and ``far_from_station`` where those rules
        applied; ``attrs["assignment"]`` counts them and records the rules' parameters.
    """
    import geopandas as gpd
    import shapely
    from pyproj import Transformer
    from scipy.spatial import cKDTree

    from .area import resolve_area

    if not station_max_distance_m > 0:
        from ._errors import ConfigError

        raise ConfigError(
            "la distancia máxima a la comisaría debe ser un número positivo de metros; se "
            f"recibió {station_max_distance_m!r}"
        )
    territory = resolve_area(area, quiet=True)
    if districts is None:
        districts = territory.districts()
    if stations is None:
        stations = territory.stations()
    if metric_crs is None:
        metric_crs = territory.metric_crs

    out = incidents.copy(deep=False)  # copy-on-write: the new columns do not reach incidents
    n = len(out)
    crs = incidents.crs if incidents.crs is not None else "EPSG:4326"
    pts = out.geometry.to_numpy()
    # Containment is tested in the incidents' own CRS (no reprojection of every point);
    # distances use metric coordinates computed on arrays.
    d_same = districts.to_crs(crs)
    d_geoms = d_same.geometry.to_numpy()
    d_metric_geoms = districts.to_crs(metric_crs).geometry.to_numpy()
    to_metric = Transformer.from_crs(crs, metric_crs, always_xy=True)
    xy = shapely.get_coordinates(pts) if n else np.empty((0, 2))
    mx, my = to_metric.transform(xy[:, 0], xy[:, 1]) if n else (np.empty(0), np.empty(0))

    choice = np.full(n, -1, dtype=np.int64)
    nearest_used = np.zeros(n, dtype=bool)
    if n:
        pi, di = _containing(d_geoms, pts, xy)
        if len(pi):
            counts = np.bincount(pi, minlength=n)
            single = counts[pi] == 1
            choice[pi[single]] = di[single]
            multi = ~single
            if multi.any():
                mp, md = pi[multi], di[multi]
                mpts = shapely.points(mx[mp], my[mp])
                depth = shapely.distance(mpts, shapely.boundary(d_metric_geoms[md]))
                order = np.lexsort((md, -depth, mp))
                mp, md = mp[order], md[order]
                first = np.r_[True, mp[1:] != mp[:-1]]
                choice[mp[first]] = md[first]
        missing = np.flatnonzero(choice < 0)
        if len(missing):
            m_tree = shapely.STRtree(d_metric_geoms)
            mpts = shapely.points(mx[missing], my[missing])
            (src, tgt), dist = m_tree.query_nearest(mpts, return_distance=True, all_matches=False)
            ok = dist <= max_nearest_m
            choice[missing[src[ok]]] = tgt[ok]
            nearest_used[missing[src[ok]]] = True
    flags = out["flags"] if "flags" in out.columns else None
    out["flags"] = _with_flag(flags, nearest_used, "nearest_district", n)

    has = choice >= 0
    for col in ("ubigeo", "distrito", "provincia"):
        values = np.full(n, "", dtype=object)
        values[has] = d_same[col].to_numpy()[choice[has]]
        out[col] = values

    # Police station: nearest CENACOM unit, by straight-line distance in metres.
    st_metric = stations.to_crs(metric_crs)
    names = (
        st_metric["nombre_mostrado"] if "nombre_mostrado" in st_metric else st_metric["nombre"]
    ).to_numpy()
    ids = st_metric["id_n"].astype(str).to_numpy()
    comisaria = np.full(n, "", dtype=object)
    comisaria_id = np.full(n, "", dtype=object)
    too_far = np.zeros(n, dtype=bool)
    if n and len(st_metric):
        sxy = shapely.get_coordinates(st_metric.geometry.to_numpy())
        dist, nearest = cKDTree(sxy).query(np.column_stack([mx, my]))
        near = dist <= station_max_distance_m
        too_far = np.isfinite(mx) & ~near
        comisaria[near] = names[nearest[near]]
        comisaria_id[near] = ids[nearest[near]]
    elif n:
        too_far = np.isfinite(mx)  # no police unit in the study area at all (a foreign polygon)
    sector = np.full(n, "", dtype=object)
    subsector = np.full(n, "", dtype=object)
    if sectors is not None and len(sectors) and n:
        from .sectors import order_sectors

        sec = order_sectors(sectors)
        sec = sec[sec["subsector"] != ""] if (sec["subsector"] != "").any() else sec
        pi, si = _containing(sec.to_crs(crs).geometry.to_numpy(), pts, xy)
        order = np.lexsort((si, pi))
        pi, si = pi[order], si[order]
        first = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.array([], dtype=bool)
        pi, si = pi[first], si[first]
        comisaria[pi] = sec["comisaria"].to_numpy()[si]
        comisaria_id[pi] = sec["comisaria_id"].astype(str).to_numpy()[si]
        sector[pi] = sec["sector"].to_numpy()[si]
        subsector[pi] = sec["subsector"].to_numpy()[si]
        too_far[pi] = False  # a sector layer names its comisaría, whatever the distance
    out["flags"] = _with_flag(out["flags"], too_far, "far_from_station", n)
    n_far = int(too_far.sum())
    record = {
        "study_area": territory.describe(),
        "metric_crs": str(metric_crs),
        "nearest_district_max_m": max_nearest_m,
        "station_max_distance_m": station_max_distance_m,
        "n_nearest_district": int(nearest_used.sum()),
        "n_far_from_station": n_far,
    }
    if warn:
        warn_far_from_station(record)
    out["comisaria"] = comisaria
    out["comisaria_id"] = comisaria_id
    out["sector"] = sector
    out["subsector"] = subsector
    assigned = gpd.GeoDataFrame(out, geometry=out.geometry.name, crs=incidents.crs)
    assigned.attrs = {**incidents.attrs, "assignment": record}
    del out, comisaria, comisaria_id, sector, subsector
    release_memory()  # the working arrays (a few per incident) go back to the system
    return assigned


def warn_far_from_station(record: dict[str, Any]) -> None:
    """Warn of the incidents left without a comisaría (an ``attrs["assignment"]`` record).

    :func:`assign_incidents` warns itself unless told not to (``warn=False``): the rows of
    one ingestion assigned a few chunks at a time are warned of once, with their sum.
    """
    n_far = int(record["n_far_from_station"])
    if n_far:
        logger.warning(
            "%s incidente(s) a más de %s km de toda comisaría del área de estudio (%s) quedan "
            "sin comisaría (marca far_from_station); revise sus coordenadas o el área de "
            "estudio, o aumente la distancia máxima (--station-max-distance)",
            n_far,
            f"{record['station_max_distance_m'] / 1000:g}",
            record["study_area"],
        )


def _containing(
    polygons: np.ndarray, points: np.ndarray, xy: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the pairs (point, polygon) where the polygon contains the point.

    The same pairs as ``STRtree(polygons).query(points, predicate="within")``, found the
    faster way: candidates by bounding box, then ``contains_xy`` on prepared polygons, which
    tests a point against a polygon's edge index instead of its whole boundary (3 times faster
    on a million points in Cajamarca's districts).
    """
    import shapely

    shapely.prepare(polygons)
    pi, gi = shapely.STRtree(polygons).query(points)
    if not len(pi):
        return pi, gi
    inside = shapely.contains_xy(polygons[gi], xy[pi, 0], xy[pi, 1])
    return pi[inside], gi[inside]


def _with_flag(flags: pd.Series | None, mask: np.ndarray, code: str, n: int) -> np.ndarray:
    """Return the flag strings with ``code`` appended where ``mask`` is true."""
    import pandas as pd

    base = (
        np.full(n, "", dtype=object)
        if flags is None
        else flags.fillna("").astype(str).to_numpy(dtype=object)
    )
    if not mask.any():
        return base
    sel = pd.Series(base[mask])
    has_code = sel.str.split(";").apply(lambda parts: code in parts).to_numpy()
    joined = np.where(sel.to_numpy() == "", code, sel.to_numpy() + ";" + code)
    base[mask] = np.where(has_code, sel.to_numpy(), joined)
    return base
