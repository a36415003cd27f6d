"""Synthetic jurisdictions, sectors and subsectors of four real comisarías.

Which stations
--------------
Real CENACOM 2017 stations (:func:`parsc_geo.boundaries.load_stations`): COMISARIA CAJAMARCA I
(``id_n`` 1027) and COMISARÍA CAJAMARCA II (1028) in Cajamarca city, COMISARIA SECTORIAL JAEN
(0097) and COMISARIA SECTORIAL CHOTA (1052). Only their locations and names are real; the
polygons are synthetic.

Method (all in UTM 17S)
-----------------------
1. **Jurisdiction**: Voronoi cell of the station among the territorial comisarías of its
   district (Cajamarca: 1027 and 1028 — the tourism police and the unnamed specialised unit have
   no territory; Jaén: 0097 and COMISARIA RURAL CHAMAYA 0098; Chota: 1052 alone), clipped to the
   district area (the district polygon minus slivers shared with neighbours).
2. **Where people live**: the town model of :mod:`parsc_geo.datasets.places` — each town's 2017
   urban population spread evenly over its disk (a Vogel sunflower of 400 points, deterministic),
   plus the villages, each carrying an equal share of the rural population.
3. **Subsectors**: weighted k-means of those population points (scikit-learn ``KMeans``, seeded,
   ``n_init=4``) with as many clusters as subsectors; each subsector is the Voronoi cell of its
   cluster centre clipped to the jurisdiction. Populated parts get small subsectors, the
   countryside a few large ones, as on the plan's station maps.
4. **Sectors**: subsectors are merged into contiguous sectors by Ward agglomerative clustering of
   their centroids constrained to adjacency (subsectors that touch).
5. **Labels**: sectors are numbered by distance from the station (``SECTOR 1`` is the nearest);
   subsectors are lettered ``SUB SECTOR A`` … ``AJ`` (or numbered ``SUB SECTOR 1`` … for Chota,
   the other style on the plan's maps) in sector order, then north to south, then west to east.

Voronoi cells of one set of centres tile the jurisdiction exactly; after conversion to
longitude/latitude and rounding to 6 decimals (≈ 0.1 m) the only gaps or overlaps left are
rounding slivers far below ``settings.SECTOR_TOPOLOGY_TOLERANCE_M2`` (100 m²).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from ..settings import CRS_METRIC_CAJAMARCA

if TYPE_CHECKING:
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

    from .places import DistrictLayout


@dataclass(frozen=True)
class JurisdictionPlan:
    """One comisaría whose jurisdiction is split into sectors."""

    station_id: str
    competing: tuple[str, ...]
    n_sectors: int
    n_subsectors: int
    style: str  # "letters" or "numbers"


#: The four synthetic jurisdictions.
PLANS: Final[tuple[JurisdictionPlan, ...]] = (
    JurisdictionPlan("1027", ("1027", "1028"), 6, 36, "letters"),
    JurisdictionPlan("1028", ("1027", "1028"), 4, 24, "letters"),
    JurisdictionPlan("0097", ("0097", "0098"), 4, 20, "letters"),
    JurisdictionPlan("1052", ("1052",), 3, 10, "numbers"),
)

#: Points of the sunflower that spreads each town's population over its disk.
TOWN_POINTS: Final[int] = 400


def subsector_label(index: int, style: str) -> str:
    """Return the label of the ``index``-th subsector (0-based).

    Examples
    --------
    >>> subsector_label(0, "letters"), subsector_label(25, "letters"), subsector_label(35, "letters")
    ('SUB SECTOR A', 'SUB SECTOR Z', 'SUB SECTOR AJ')
    >>> subsector_label(9, "numbers")
    'SUB SECTOR 10'
    """
    if style == "numbers":
        return f"SUB SECTOR {index + 1}"
    letters = ""
    k = index + 1
    while k:
        k, r = divmod(k - 1, 26)
        letters = chr(65 + r) + letters
    return f"SUB SECTOR {letters}"


def _sunflower(n: int) -> np.ndarray:
    """Return ``n`` points evenly spread over the unit disk (Vogel 1979)."""
    k = np.arange(n) + 0.5
    r = np.sqrt(k / n)
    theta = k * np.pi * (3 - np.sqrt(5))
    return np.column_stack([r * np.cos(theta), r * np.sin(theta)])


def _to_metric(geom: BaseGeometry) -> BaseGeometry:
    import shapely
    from pyproj import Transformer

    t = Transformer.from_crs("EPSG:4326", CRS_METRIC_CAJAMARCA, always_xy=True)
    return shapely.transform(geom, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))


def _to_lonlat(geom: BaseGeometry) -> BaseGeometry:
    import shapely
    from pyproj import Transformer

    t = Transformer.from_crs(CRS_METRIC_CAJAMARCA, "EPSG:4326", always_xy=True)
    return shapely.transform(
        geom, lambda c: np.round(np.column_stack(t.transform(c[:, 0], c[:, 1])), 6)
    )


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Keep only the polygon parts of a geometry (intersections may add lines or points)."""
    import shapely
    from shapely.geometry import MultiPolygon, Polygon

    geom = shapely.make_valid(geom)
    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
    return shapely.union_all(parts) if parts else Polygon()


def _voronoi_cells(points: np.ndarray, clip: BaseGeometry) -> list[BaseGeometry]:
    """Return the Voronoi cell of each point, clipped to ``clip``, in the order of ``points``."""
    import shapely
    from shapely.geometry import MultiPoint, Point

    if len(points) == 1:
        return [clip]
    envelope = clip.envelope.buffer(10_000.0)
    cells = shapely.voronoi_polygons(MultiPoint(points), extend_to=envelope)
    out: list[BaseGeometry] = []
    for x, y in points:
        p = Point(x, y)
        cell = next(c for c in cells.geoms if c.covers(p))
        out.append(_polygonal(cell.intersection(clip)))
    return out


def build_sectors(layouts: dict[str, DistrictLayout], seed: int) -> gpd.GeoDataFrame:
    """Build the synthetic sector layer (one row per subsector).

    Parameters
    ----------
    layouts
        District layouts from :func:`parsc_geo.datasets.places.build_layouts`.
    seed
        Seed of the k-means initialisation.

    Returns
    -------
    geopandas.GeoDataFrame
        ``comisaria``, ``comisaria_id``, ``sector``, ``subsector``, ``geometry`` (EPSG:4326,
        coordinates rounded to 6 decimals), ordered by comisaría, sector and subsector.
    """
    import geopandas as gpd
    import shapely
    from scipy.sparse import csr_matrix
    from sklearn.cluster import AgglomerativeClustering, KMeans

    from ..boundaries import load_stations

    stations = load_stations().set_index("id_n")
    rows: list[dict[str, Any]] = []
    for plan in PLANS:
        st = stations.loc[plan.station_id]
        lay = layouts[st["ubigeo"]]
        area_m = _to_metric(lay.area_ll)
        comp = stations.loc[list(plan.competing)]
        comp_xy = np.column_stack(
            _to_metric_xy(comp["longitud"].to_numpy(float), comp["latitud"].to_numpy(float))
        )
        cells = _voronoi_cells(comp_xy, area_m)
        jurisdiction = cells[list(plan.competing).index(plan.station_id)]

        flower = _sunflower(TOWN_POINTS)
        pts = [lay.towns[i] + flower * lay.town_radius[i] for i in range(len(lay.towns))]
        wts = [np.full(TOWN_POINTS, lay.town_pop[i] / TOWN_POINTS) for i in range(len(lay.towns))]
        rural_pop = float(lay.extra.get("rural_pop", 0.0))
        if len(lay.villages):
            pts.append(lay.villages)
            wts.append(np.full(len(lay.villages), max(rural_pop, 1.0) / len(lay.villages)))
        xy = np.vstack(pts)
        w = np.concatenate(wts)
        inside = shapely.contains_xy(jurisdiction, xy[:, 0], xy[:, 1])
        xy, w = xy[inside], w[inside]
        km = KMeans(n_clusters=plan.n_subsectors, random_state=seed, n_init=4)
        km.fit(xy, sample_weight=w)
        centres = km.cluster_centers_[np.lexsort((km.cluster_centers_[:, 0], -km.cluster_centers_[:, 1]))]
        subs = [c for c in _voronoi_cells(centres, jurisdiction) if not c.is_empty]

        n = len(subs)
        adjacency = np.zeros((n, n), dtype=int)
        for i in range(n):
            for j in range(i + 1, n):
                if subs[i].intersection(subs[j]).length > 1.0:
                    adjacency[i, j] = adjacency[j, i] = 1
        cent = np.array([[g.centroid.x, g.centroid.y] for g in subs])
        groups = AgglomerativeClustering(
            n_clusters=plan.n_sectors, linkage="ward", connectivity=csr_matrix(adjacency)
        ).fit_predict(cent)
        sx, sy = _to_metric_xy(np.array([st["longitud"]], float), np.array([st["latitud"]], float))
        sector_dist = {
            g: float(shapely.union_all([subs[i] for i in np.flatnonzero(groups == g)]).distance(
                shapely.Point(sx[0], sy[0])
            ))
            for g in np.unique(groups)
        }
        sector_order = sorted(sector_dist, key=lambda g: (sector_dist[g], g))
        sector_number = {g: k + 1 for k, g in enumerate(sector_order)}
        order = sorted(
            range(n), key=lambda i: (sector_number[groups[i]], -cent[i, 1], cent[i, 0])
        )
        for k, i in enumerate(order):
            rows.append(
                {
                    "comisaria": str(st["nombre"]),
                    "comisaria_id": plan.station_id,
                    "sector": f"SECTOR {sector_number[groups[i]]}",
                    "subsector": subsector_label(k, plan.style),
                    "geometry": _to_lonlat(subs[i]),
                }
            )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    gdf.attrs["parameters"] = {
        "synthetic": True,
        "seed": seed,
        "method": "voronoi jurisdictions, weighted k-means subsectors, ward sectors",
        "plans": [plan.__dict__ for plan in PLANS],
    }
    return gdf


def _to_metric_xy(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    t = Transformer.from_crs("EPSG:4326", CRS_METRIC_CAJAMARCA, always_xy=True)
    x, y = t.transform(lon, lat)
    return np.asarray(x), np.asarray(y)
