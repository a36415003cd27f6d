"""Synthetic jurisdictions, sectors and subsectors of four real comisarías.

Which stations
--------------
Real CENACOM 2017 stations (:func:`parsc_geo.boundaries.load_stations`): COMISARIA CAJAMARCA I
(``id_n`` 1027) and COMISARÍA CAJAMARCA II (1028) in Cajamarca city, COMISARIA SECTORIAL JAEN
(0097) and COMISARIA SECTORIAL CHOTA (1052). Only their locations and names are real; the
polygons are synthetic.

Other study areas
-----------------
Elsewhere the comisarías with sectors are chosen by a rule (:func:`automatic_plans`): in each
department of the area, the ``per_department`` (default 4) **territorial** comisarías with the
most officers (CENACOM ``efectivos_asignados_total``, the station workload at hand): CENACOM
units of type "Comisaría" whose name is not that of a specialised unit (family, women, tourism,
roads: :data:`SPECIALISED`), ties by ``id_n``, whose point lies in its own district. They compete
with the territorial comisarías of their district, as above. Each gets about one subsector per
four officers, ``n_subsectors = clip(round(officers / 4), 8, 36)``, and
``n_sectors = clip(round(n_subsectors / 6), 2, 6)`` sectors, lettered. (In Cajamarca the same
rule picks 1027, 1028 and Jaén's 0097 first; the bundled sample keeps its four hand-picked
plans.)

Method (all in the study area's UTM zone: 17S for Cajamarca)
-------------------------------------------------------------
1. **Jurisdiction**: Voronoi cell of the station among the territorial comisarías of its
   district (Cajamarca: 1027 and 1028 — the tourism police and the unnamed specialised unit have
   no territory; Jaén: 0097 and COMISARIA RURAL CHAMAYA 0098; Chota: 1052 alone), clipped to the
   district area (the district polygon minus slivers shared with neighbours).
2. **Where people live**: the town model of :mod:`parsc_geo.datasets.places` — each town's 2017
   urban population spread evenly over its disk (a Vogel sunflower of 400 points, deterministic),
   plus the villages, each carrying an equal share of the rural population.
3. **Subsectors**: weighted k-means of those population points (:func:`weighted_kmeans`,
   k-means++ seeds, best of 4 runs) with as many clusters as subsectors; each subsector is the
   Voronoi cell of its cluster centre clipped to the jurisdiction. Populated parts get small
   subsectors, the countryside a few large ones, as on the plan's station maps.
4. **Sectors**: subsectors are merged into contiguous sectors by Ward agglomerative clustering of
   their centroids constrained to adjacency (subsectors that touch), :func:`contiguous_ward`.
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

#: Names of specialised (non-territorial) units, never given a synthetic jurisdiction.
SPECIALISED: Final[str] = r"TURISMO|FAMILIA|MUJER|CARRETERA|ESPECIALIZAD"
#: Comisarías with synthetic sectors per department of a study area other than Cajamarca.
PER_DEPARTMENT: Final[int] = 4
#: Officers per subsector, and the bounds of the subsector and sector counts.
OFFICERS_PER_SUBSECTOR: Final[float] = 4.0
SUBSECTOR_RANGE: Final[tuple[int, int]] = (8, 36)
SECTOR_RANGE: Final[tuple[int, int]] = (2, 6)


def automatic_plans(
    layouts: dict[str, DistrictLayout],
    department_codes: tuple[str, ...],
    *,
    per_department: int = PER_DEPARTMENT,
    stations: gpd.GeoDataFrame | None = None,
) -> tuple[JurisdictionPlan, ...]:
    """Choose the comisarías with synthetic sectors of a study area (module notes).

    Parameters
    ----------
    layouts
        District layouts of the area; a station's district must be among them.
    department_codes
        Departments of the area; up to ``per_department`` comisarías are taken in each.
    per_department
        Comisarías per department (0 gives none).
    stations
        CENACOM units (default: those of ``department_codes``).
    """
    import shapely

    from ..boundaries import load_stations

    if stations is None:
        stations = load_stations(prefix=department_codes or ("-",))
    named = stations["nombre"].fillna("").astype(str)
    territorial = stations[
        (stations["tipo_dependencia"] == "Comisaría")
        & (named != "")
        & ~named.str.upper().str.contains(SPECIALISED, regex=True)
    ]
    plans: list[JurisdictionPlan] = []
    for code in department_codes:
        own = territorial[territorial["ubigeo"].str.startswith(code)]
        own = own[own["ubigeo"].isin(list(layouts))]
        own = own.sort_values(["efectivos_asignados_total", "id_n"], ascending=[False, True])
        taken = 0
        for row in own.itertuples(index=False):
            if taken >= per_department:
                break
            lay = layouts[str(row.ubigeo)]
            if not shapely.contains_xy(lay.area_ll, float(row.longitud), float(row.latitud)):
                continue  # a station outside its own district (SOURCES.md lists 15)
            competing = territorial.loc[territorial["ubigeo"] == row.ubigeo, "id_n"]
            n_sub = int(
                np.clip(
                    round(float(row.efectivos_asignados_total) / OFFICERS_PER_SUBSECTOR),
                    *SUBSECTOR_RANGE,
                )
            )
            n_sec = int(np.clip(round(n_sub / 6), *SECTOR_RANGE))
            plans.append(
                JurisdictionPlan(str(row.id_n), tuple(sorted(competing)), n_sec, n_sub, "letters")
            )
            taken += 1
    return tuple(plans)


def subsector_label(index: int, style: str) -> str:
    """Return the label of the ``index``-th subsector (0-based).

    Examples
    --------
    >>> [subsector_label(k, "letters") for k in (0, 25, 35)]
    ['SUB SECTOR A', 'SUB SECTOR Z', 'SUB SECTOR AJ']
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


def _to_metric(geom: BaseGeometry, crs: str = CRS_METRIC_CAJAMARCA) -> BaseGeometry:
    import shapely
    from pyproj import Transformer

    t = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return shapely.transform(geom, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))


def _to_lonlat(geom: BaseGeometry, crs: str = CRS_METRIC_CAJAMARCA) -> BaseGeometry:
    import shapely
    from pyproj import Transformer

    t = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
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


def build_sectors(
    layouts: dict[str, DistrictLayout],
    seed: int,
    *,
    plans: tuple[JurisdictionPlan, ...] = PLANS,
    stations: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Build the synthetic sector layer (one row per subsector).

    Parameters
    ----------
    layouts
        District layouts from :func:`parsc_geo.datasets.places.build_layouts` (their
        ``metric_crs`` is the CRS of the construction).
    seed
        Seed of the k-means initialisation.
    plans
        The comisarías and their numbers of sectors (default: Cajamarca's four).
    stations
        CENACOM units holding the plans' stations (default: Cajamarca's).

    Returns
    -------
    geopandas.GeoDataFrame
        ``comisaria``, ``comisaria_id``, ``sector``, ``subsector``, ``geometry`` (EPSG:4326,
        coordinates rounded to 6 decimals), ordered by comisaría, sector and subsector.
    """
    import geopandas as gpd
    import shapely

    from ..boundaries import load_stations

    table = (stations if stations is not None else load_stations()).set_index("id_n")
    rows: list[dict[str, Any]] = []
    for plan in plans:
        st = table.loc[plan.station_id]
        lay = layouts[st["ubigeo"]]
        crs = lay.metric_crs
        area_m = _to_metric(lay.area_ll, crs)
        comp = table.loc[list(plan.competing)]
        comp_xy = np.column_stack(
            _to_metric_xy(comp["longitud"].to_numpy(float), comp["latitud"].to_numpy(float), crs)
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
        if jurisdiction.is_empty:
            continue
        xy, w, k = _population_points(xy, w, jurisdiction, plan.n_subsectors)
        centres = weighted_kmeans(xy, w, k, np.random.default_rng([seed, 707]))
        centres = centres[np.lexsort((centres[:, 0], -centres[:, 1]))]
        subs = [c for c in _voronoi_cells(centres, jurisdiction) if not c.is_empty]

        n = len(subs)
        adjacency = np.zeros((n, n), dtype=int)
        for i in range(n):
            for j in range(i + 1, n):
                if subs[i].intersection(subs[j]).length > 1.0:
                    adjacency[i, j] = adjacency[j, i] = 1
        cent = np.array([[g.centroid.x, g.centroid.y] for g in subs])
        groups = contiguous_ward(cent, adjacency, min(plan.n_sectors, n))
        sx, sy = _to_metric_xy(
            np.array([st["longitud"]], float), np.array([st["latitud"]], float), crs
        )
        sector_dist = {
            g: float(
                shapely.union_all([subs[i] for i in np.flatnonzero(groups == g)]).distance(
                    shapely.Point(sx[0], sy[0])
                )
            )
            for g in np.unique(groups)
        }
        sector_order = sorted(sector_dist, key=lambda g: (sector_dist[g], g))
        sector_number = {g: k + 1 for k, g in enumerate(sector_order)}
        order = sorted(range(n), key=lambda i: (sector_number[groups[i]], -cent[i, 1], cent[i, 0]))
        for k, i in enumerate(order):
            rows.append(
                {
                    "comisaria": str(st["nombre"]),
                    "comisaria_id": plan.station_id,
                    "sector": f"SECTOR {sector_number[groups[i]]}",
                    "subsector": subsector_label(k, plan.style),
                    "geometry": _to_lonlat(subs[i], crs),
                }
            )
    columns = ["comisaria", "comisaria_id", "sector", "subsector", "geometry"]
    gdf = gpd.GeoDataFrame(
        rows or {c: [] for c in columns}, columns=columns, geometry="geometry", crs="EPSG:4326"
    )
    gdf.attrs["parameters"] = {
        "synthetic": True,
        "seed": seed,
        "method": "voronoi jurisdictions, weighted k-means subsectors, ward sectors",
        "plans": [plan.__dict__ for plan in plans],
    }
    return gdf


def _population_points(
    xy: np.ndarray, w: np.ndarray, jurisdiction: BaseGeometry, k: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Return the population points of a jurisdiction and how many subsectors they allow.

    A jurisdiction with no town or village inside (possible outside Cajamarca, where a
    station's Voronoi cell may miss the settlements) is covered by an even sunflower of points
    over its bounding circle; one with no population gets equal weights; there are never more
    subsectors than distinct points.
    """
    import shapely

    if not len(xy):
        minx, miny, maxx, maxy = jurisdiction.bounds
        radius = 0.5 * float(np.hypot(maxx - minx, maxy - miny))
        grid = _sunflower(TOWN_POINTS) * radius + [(minx + maxx) / 2, (miny + maxy) / 2]
        xy = grid[shapely.contains_xy(jurisdiction, grid[:, 0], grid[:, 1])]
        if not len(xy):
            point = jurisdiction.representative_point()
            xy = np.array([[point.x, point.y]])
        w = np.ones(len(xy))
    if not w.sum() > 0:
        w = np.ones(len(xy))
    return xy, w, max(1, min(k, len(np.unique(xy, axis=0))))


def weighted_kmeans(
    xy: np.ndarray, w: np.ndarray, k: int, rng: np.random.Generator, n_init: int = 4
) -> np.ndarray:
    """Return ``k`` centres minimising the weighted within-cluster sum of squares.

    Lloyd's algorithm from k-means++ seeds (Arthur & Vassilvitskii 2007), best of ``n_init``
    runs; deterministic for a generator state.
    """
    best: tuple[float, np.ndarray] | None = None
    for _ in range(n_init):
        centres = np.empty((k, 2))
        centres[0] = xy[rng.choice(len(xy), p=w / w.sum())]
        d2 = ((xy - centres[0]) ** 2).sum(axis=1)
        for j in range(1, k):
            p = w * d2
            centres[j] = xy[rng.choice(len(xy), p=p / p.sum())]
            d2 = np.minimum(d2, ((xy - centres[j]) ** 2).sum(axis=1))
        for _iteration in range(300):
            dist = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
            label = dist.argmin(axis=1)
            mass = np.bincount(label, weights=w, minlength=k)
            new = centres.copy()
            has = mass > 0
            for axis in (0, 1):
                new[has, axis] = np.bincount(label, weights=w * xy[:, axis], minlength=k)[has]
            new[has] /= mass[has, None]
            shift = float(np.abs(new - centres).max())
            centres = new
            if shift < 1e-6:
                break
        dist = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        inertia = float((w * dist.min(axis=1)).sum())
        if best is None or inertia < best[0]:
            best = (inertia, centres)
    assert best is not None
    return best[1]


def contiguous_ward(points: np.ndarray, adjacency: np.ndarray, k: int) -> np.ndarray:
    """Merge adjacent items into ``k`` contiguous groups by Ward's criterion.

    At each step the two touching groups whose merge least increases the within-group sum of
    squares, ``n_a n_b / (n_a + n_b) · |c_a − c_b|²`` (Ward 1963), are merged; ties go to the
    lowest group numbers. Returns the group number (0 … k−1, in order of first item) per item.
    """
    n = len(points)
    members = {i: [i] for i in range(n)}
    adj = {i: set(np.flatnonzero(adjacency[i]).tolist()) for i in range(n)}
    while len(members) > k:
        best: tuple[float, int, int] | None = None
        for a in sorted(members):
            for b in sorted(adj[a]):
                if b <= a:
                    continue
                na, nb = len(members[a]), len(members[b])
                ca, cb = points[members[a]].mean(axis=0), points[members[b]].mean(axis=0)
                cost = na * nb / (na + nb) * float(((ca - cb) ** 2).sum())
                if best is None or cost < best[0]:
                    best = (cost, a, b)
        if best is None:  # disconnected pieces: merge the two smallest groups
            a, b = sorted(members, key=lambda g: (len(members[g]), g))[:2]
            a, b = min(a, b), max(a, b)
        else:
            _, a, b = best
        members[a].extend(members.pop(b))
        adj[a] = (adj[a] | adj.pop(b)) - {a, b}
        for g in adj:
            if b in adj[g]:
                adj[g].discard(b)
                if g != a:
                    adj[g].add(a)
    label = np.empty(n, dtype=int)
    for number, g in enumerate(sorted(members, key=lambda g: min(members[g]))):
        label[members[g]] = number
    return label


def _to_metric_xy(
    lon: np.ndarray, lat: np.ndarray, crs: str = CRS_METRIC_CAJAMARCA
) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    t = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = t.transform(lon, lat)
    return np.asarray(x), np.asarray(y)
