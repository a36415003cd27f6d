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
    layer. Otherwise the nearest police unit of the INEI 2017 census (CENACOM) — a proxy for
    jurisdiction, which is not published.
Sector and subsector
    The subsector polygon containing the point (the first in natural label order if subsectors
    overlap); empty outside every sector.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .settings import CRS_METRIC_CAJAMARCA, NEAREST_DISTRICT_MAX_M

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd


def assign_incidents(
    incidents: gpd.GeoDataFrame,
    *,
    districts: gpd.GeoDataFrame | None = None,
    stations: gpd.GeoDataFrame | None = None,
    sectors: gpd.GeoDataFrame | None = None,
    max_nearest_m: float = NEAREST_DISTRICT_MAX_M,
    metric_crs: str = CRS_METRIC_CAJAMARCA,
) -> gpd.GeoDataFrame:
    """Assign incidents to district, province, police station, sector and subsector.

    Parameters
    ----------
    incidents
        Point incidents (any CRS). Not modified.
    districts
        District polygons with ``ubigeo``, ``distrito``, ``provincia``; default: the bundled
        Cajamarca districts.
    stations
        Police stations with ``id_n`` and ``nombre_mostrado`` (or ``nombre``); default: the
        bundled CENACOM 2017 units.
    sectors
        Optional sector layer (see :mod:`parsc_geo.sectors`).
    max_nearest_m
        Largest distance (m) to the nearest district for points that fall in no district.
    metric_crs
        CRS for distances.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``incidents`` with the assignment columns (empty strings where unknown) and
        ``flags`` extended with ``nearest_district`` where that fallback was used.
    """
    import geopandas as gpd
    import shapely
    from pyproj import Transformer
    from scipy.spatial import cKDTree

    from . import boundaries

    if districts is None:
        districts = boundaries.load_districts()
    if stations is None:
        stations = boundaries.load_stations()

    out = incidents.copy()
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
        tree = shapely.STRtree(d_geoms)
        pi, di = tree.query(pts, predicate="within")
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
    if n and len(st_metric):
        sxy = shapely.get_coordinates(st_metric.geometry.to_numpy())
        _, nearest = cKDTree(sxy).query(np.column_stack([mx, my]))
        comisaria[:] = names[nearest]
        comisaria_id[:] = ids[nearest]
    sector = np.full(n, "", dtype=object)
    subsector = np.full(n, "", dtype=object)
    if sectors is not None and len(sectors) and n:
        from .sectors import order_sectors

        sec = order_sectors(sectors)
        sec = sec[sec["subsector"] != ""] if (sec["subsector"] != "").any() else sec
        s_tree = shapely.STRtree(sec.to_crs(crs).geometry.to_numpy())
        pi, si = s_tree.query(pts, predicate="within")
        order = np.lexsort((si, pi))
        pi, si = pi[order], si[order]
        first = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.array([], dtype=bool)
        pi, si = pi[first], si[first]
        comisaria[pi] = sec["comisaria"].to_numpy()[si]
        comisaria_id[pi] = sec["comisaria_id"].astype(str).to_numpy()[si]
        sector[pi] = sec["sector"].to_numpy()[si]
        subsector[pi] = sec["subsector"].to_numpy()[si]
    out["comisaria"] = comisaria
    out["comisaria_id"] = comisaria_id
    out["sector"] = sector
    out["subsector"] = subsector
    return gpd.GeoDataFrame(out, geometry=out.geometry.name, crs=incidents.crs)


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
