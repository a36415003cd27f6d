"""Where synthetic incidents fall inside a district: towns, hotspots, villages, fields and roads.

Layout of a district (built once per seed by :func:`build_layouts`)
-------------------------------------------------------------------
* **Area**: the district polygon (:func:`parsc_geo.boundaries.load_districts`) minus the slivers
  it shares with neighbouring polygons (the bundled layer has small overlaps), so that every
  point falls in exactly one district.
* **Towns**: the district capital (:func:`parsc_geo.boundaries.load_capitals`) and every populated
  place of type "Urban" (:func:`parsc_geo.boundaries.load_settlements`) more than 1 km from it. The
  2017 urban population goes 80 % to the capital and 20 % to the other urban places (100 % to the
  capital when there are none). A town is a disk of radius ``sqrt(pop / (π · 6,000 inh/km²))``
  (at least 250 m): 6,000 inhabitants per km² is a typical gross density of Andean towns.
* **Hotspots**: the capital's plaza (σ 90 m), a market 25–50 % of the town radius away (σ 70 m)
  and, in larger towns (one more per 12,000 urban inhabitants, up to 8), commercial streets
  (segments 400–900 m long, 15 m wide) and other dense spots. Other urban places get one
  hotspot at their centre. Weights fall as 1/k within a town.
* **Villages**: the populated places of type "Rural"; each one shares the rural population equally.
* **Roads** (roads are not bundled): the Euclidean minimum spanning tree joining the towns and
  villages of the district, i.e. straight segments between neighbouring settlements, plus access
  roads from each town to its four nearest settlements beyond the town's edge. A district with
  one settlement gets three 3 km access roads from the capital. A segment's weight is the sum of
  the square roots of the populations at its two ends (traffic grows less than proportionally
  with town size).

Place families (:func:`parsc_geo.datasets.profiles.behaviour`)
--------------------------------------------------------------
``calle``: 45 % hotspots, 40 % town background (Gaussian, σ = radius / 2), 15 % villages.
``hogar``: residential, dispersed: towns (σ = 0.7 · radius) and villages (σ 250 m) in proportion
to the urban share of the population (clipped to 15–90 %).
``rural``: around villages (σ 900 m) but more than 1 km beyond the edge of every town.
``via``: 75 % along roads (Beta(1, 2.5) from the more populous end, 12 m jitter), 25 % town.
``orden``: 50 % hotspots, 40 % town, 10 % villages. ``otro``: 60 % town, 40 % villages.

Every point is drawn in the metric CRS of the sample's study area (UTM 17S for Cajamarca, see
:mod:`parsc_geo.area`), converted to longitude/latitude, rounded to 6 decimals (≈ 0.1 m) and kept
only if that rounded point lies inside the district area; rejected points are drawn again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from ..settings import CRS_METRIC_CAJAMARCA

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

#: Assumed gross density of urban areas (inhabitants per km²).
URBAN_DENSITY_KM2: Final[float] = 6000.0
#: Smallest town radius (m).
MIN_TOWN_RADIUS_M: Final[float] = 250.0
#: Decimals of the published coordinates.
COORD_DECIMALS: Final[int] = 6

#: Mixture of place components per family: (component, fraction, spread).
FAMILY_MIXTURES: Final[dict[str, tuple[tuple[str, float, float], ...]]] = {
    "calle": (("hotspot", 0.45, 1.0), ("town", 0.40, 1.0), ("village", 0.15, 1.0)),
    "orden": (("hotspot", 0.50, 1.0), ("town", 0.40, 1.0), ("village", 0.10, 1.0)),
    "via": (("road", 0.75, 1.0), ("town", 0.25, 0.8)),
    "rural": (("remote", 1.0, 1.0),),
    "otro": (("town", 0.60, 1.0), ("village", 0.40, 1.0)),
}


@dataclass
class DistrictLayout:
    """Towns, hotspots, villages and roads of one district (metric coordinates, ``metric_crs``)."""

    ubigeo: str
    area_ll: BaseGeometry
    bounds_m: tuple[float, float, float, float]
    towns: np.ndarray
    town_pop: np.ndarray
    town_radius: np.ndarray
    hotspots: np.ndarray  # x, y, sigma, length, angle, weight
    villages: np.ndarray
    roads: np.ndarray  # x0, y0, x1, y1
    road_weight: np.ndarray
    urban_share: float
    place_xy: np.ndarray
    place_names: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)
    metric_crs: str = CRS_METRIC_CAJAMARCA


@lru_cache(maxsize=8)
def _transformers(metric_crs: str = CRS_METRIC_CAJAMARCA) -> tuple[Any, Any]:
    from pyproj import Transformer

    fwd = Transformer.from_crs("EPSG:4326", metric_crs, always_xy=True)
    inv = Transformer.from_crs(metric_crs, "EPSG:4326", always_xy=True)
    return fwd, inv


def exclusive_areas(districts: Any) -> list[BaseGeometry]:
    """Return each district polygon minus the parts it shares with other districts."""
    import shapely

    geoms = districts.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    out = []
    for i, geom in enumerate(geoms):
        idx = [j for j in tree.query(geom, predicate="intersects") if j != i]
        if idx:
            others = shapely.union_all(geoms[idx])
            geom = shapely.make_valid(geom.difference(others))
        out.append(geom)
    return out


def _mst_edges(xy: np.ndarray) -> np.ndarray:
    from scipy.sparse.csgraph import minimum_spanning_tree
    from scipy.spatial import distance_matrix

    dist = distance_matrix(xy, xy)
    tree = minimum_spanning_tree(dist).tocoo()
    order = np.lexsort((tree.col, tree.row))
    return np.column_stack([tree.row[order], tree.col[order]])


def _road_edges(nodes: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Return the road segments (pairs of node indices, smaller first, sorted).

    The minimum spanning tree of all settlements, plus the access roads of each town: a segment
    from every town (the first ``len(radius)`` nodes) to each of its four nearest settlements
    beyond the town's edge.
    """
    pairs = {(int(min(a, b)), int(max(a, b))) for a, b in _mst_edges(nodes)}
    for t, r in enumerate(radius):
        d = np.hypot(nodes[:, 0] - nodes[t, 0], nodes[:, 1] - nodes[t, 1])
        beyond = np.flatnonzero(d > r)
        for j in beyond[np.lexsort((beyond, d[beyond]))][:4]:
            pairs.add((min(t, int(j)), max(t, int(j))))
    return np.array(sorted(pairs), dtype=int).reshape(-1, 2)


def build_layouts(
    seed: int,
    *,
    prefix: str | tuple[str, ...] | None = None,
    metric_crs: str = CRS_METRIC_CAJAMARCA,
) -> dict[str, DistrictLayout]:
    """Build the layout of every district (deterministic for a seed).

    Parameters
    ----------
    seed
        Seed of the random choices (hotspot positions, street directions).
    prefix
        UBIGEO prefix(es) of the districts (see :func:`parsc_geo.boundaries.load_districts`);
        default Cajamarca.
    metric_crs
        CRS of the layouts' metric coordinates (the study area's UTM zone).

    Returns
    -------
    dict
        ``ubigeo`` → :class:`DistrictLayout`, in ``ubigeo`` order.
    """
    import shapely

    from ..boundaries import load_capitals, load_districts, load_population, load_settlements

    rng = np.random.default_rng([seed, 101])
    fwd, _ = _transformers(metric_crs)
    districts = load_districts(prefix=prefix)
    areas = exclusive_areas(districts)
    capitals = load_capitals(prefix=prefix).set_index("ubigeo")
    pop = load_population(prefix=prefix).set_index("ubigeo")
    settlements = load_settlements(prefix=prefix)
    sx, sy = fwd.transform(settlements["longitud"].to_numpy(), settlements["latitud"].to_numpy())
    settlements = settlements.assign(x=sx, y=sy)
    by_district = {u: g for u, g in settlements.groupby("ubigeo", sort=True)}

    layouts: dict[str, DistrictLayout] = {}
    for ubigeo, area in zip(districts["ubigeo"], areas, strict=True):
        cap = capitals.loc[ubigeo]
        cx, cy = fwd.transform(float(cap["longitud"]), float(cap["latitud"]))
        if not shapely.contains_xy(area, float(cap["longitud"]), float(cap["latitud"])):
            rp = area.representative_point()
            cx, cy = fwd.transform(rp.x, rp.y)
        urban = float(pop.loc[ubigeo, "pob_urbana_2017"])
        rural = float(pop.loc[ubigeo, "pob_rural_2017"])
        sett = by_district.get(ubigeo)
        if sett is not None:
            inside = shapely.contains_xy(
                area, sett["longitud"].to_numpy(), sett["latitud"].to_numpy()
            )
            sett = sett[inside]
        if sett is None or sett.empty:
            import pandas as pd

            sett = pd.DataFrame({"tipo": [], "x": [], "y": [], "centro_poblado": []})
        far = np.hypot(sett["x"].to_numpy() - cx, sett["y"].to_numpy() - cy) > 1000.0
        other_towns = sett[(sett["tipo"] == "Urban").to_numpy() & far]
        villages = sett[(sett["tipo"] != "Urban").to_numpy() & far]

        towns = np.vstack([[cx, cy], other_towns[["x", "y"]].to_numpy(dtype=float)])
        if len(other_towns):
            town_pop = np.concatenate(
                [[0.8 * urban], np.full(len(other_towns), 0.2 * urban / len(other_towns))]
            )
        else:
            town_pop = np.array([urban])
        radius = np.maximum(
            MIN_TOWN_RADIUS_M, 1000.0 * np.sqrt(town_pop / (np.pi * URBAN_DENSITY_KM2))
        )
        hotspots = _hotspots(rng, towns, town_pop, radius, area, metric_crs)

        village_xy = villages[["x", "y"]].to_numpy(dtype=float).reshape(-1, 2)
        nodes = np.vstack([towns, village_xy])
        node_pop = np.concatenate(
            [town_pop, np.full(len(village_xy), rural / max(len(village_xy), 1))]
        )
        if len(nodes) >= 2:
            edges = _road_edges(nodes, radius)
            a, b = edges[:, 0], edges[:, 1]
            swap = node_pop[b] > node_pop[a]
            first = np.where(swap, b, a)
            second = np.where(swap, a, b)
            roads = np.column_stack([nodes[first], nodes[second]])
            road_weight = np.sqrt(node_pop[first]) + np.sqrt(node_pop[second])
        else:
            angles = rng.uniform(0, 2 * np.pi) + np.array([0.0, 2.0, 4.0]) * np.pi / 3
            ends = np.column_stack([cx + 3000 * np.cos(angles), cy + 3000 * np.sin(angles)])
            roads = np.column_stack([np.tile([cx, cy], (3, 1)), ends])
            road_weight = np.ones(3)
        minx, miny, maxx, maxy = area.bounds
        xs, ys = fwd.transform([minx, maxx, minx, maxx], [miny, miny, maxy, maxy])
        names = np.concatenate(
            [
                [str(cap["capital"]).upper()],
                other_towns["centro_poblado"].astype(str).to_numpy(),
                villages["centro_poblado"].astype(str).to_numpy(),
            ]
        )
        layouts[ubigeo] = DistrictLayout(
            ubigeo=ubigeo,
            area_ll=area,
            bounds_m=(min(xs), min(ys), max(xs), max(ys)),
            towns=towns,
            town_pop=town_pop,
            town_radius=radius,
            hotspots=hotspots,
            villages=village_xy,
            roads=roads,
            road_weight=road_weight / road_weight.sum(),
            urban_share=float(np.clip(urban / max(urban + rural, 1.0), 0.15, 0.9)),
            place_xy=nodes,
            place_names=names,
            extra={"urban_pop": urban, "rural_pop": rural},
            metric_crs=metric_crs,
        )
    return layouts


def _hotspots(
    rng: np.random.Generator,
    towns: np.ndarray,
    town_pop: np.ndarray,
    radius: np.ndarray,
    area: BaseGeometry,
    metric_crs: str,
) -> np.ndarray:
    """Return hotspot rows (x, y, sigma, length, angle, weight) of a district."""
    import shapely

    _, inv = _transformers(metric_crs)
    rows: list[list[float]] = []
    for t, ((tx, ty), tpop, r) in enumerate(zip(towns, town_pop, radius, strict=True)):
        n_hot = int(np.clip(round(tpop / 12000.0) + 2, 2, 8)) if t == 0 else 1
        town_weight = tpop / town_pop.sum() if town_pop.sum() > 0 else 1.0 / len(towns)
        for k in range(n_hot):
            weight = town_weight * (1.0 / (k + 1))
            if k == 0:
                rows.append([tx, ty, 90.0, 0.0, 0.0, weight])
                continue
            for _attempt in range(20):
                dist = r * (rng.uniform(0.25, 0.5) if k == 1 else rng.uniform(0.15, 0.75))
                theta = rng.uniform(0, 2 * np.pi)
                hx, hy = tx + dist * np.cos(theta), ty + dist * np.sin(theta)
                lon, lat = inv.transform(hx, hy)
                if shapely.contains_xy(area, lon, lat):
                    break
            else:
                hx, hy = tx, ty
            if k == 1:
                rows.append([hx, hy, 70.0, 0.0, 0.0, weight])
            elif k % 2 == 0:
                length = rng.uniform(400.0, 900.0)
                rows.append([hx, hy, 15.0, length, rng.uniform(0, np.pi), weight])
            else:
                rows.append([hx, hy, 60.0, 0.0, 0.0, weight])
    out = np.array(rows, dtype=float)
    out[:, 5] /= out[:, 5].sum()
    return out


def _component(
    rng: np.random.Generator, lay: DistrictLayout, kind: str, n: int, spread: float
) -> np.ndarray:
    """Draw ``n`` candidate points (metric) of one place component."""
    if kind == "village" and len(lay.villages) == 0:
        kind, spread = "town", 2.0 * spread
    if kind == "hotspot":
        h = lay.hotspots[rng.choice(len(lay.hotspots), size=n, p=lay.hotspots[:, 5])]
        along = rng.uniform(-0.5, 0.5, size=n) * h[:, 3] + rng.normal(0, 1, size=n) * h[:, 2]
        perp = rng.normal(0, 1, size=n) * h[:, 2]
        cos, sin = np.cos(h[:, 4]), np.sin(h[:, 4])
        return np.column_stack(
            [h[:, 0] + along * cos - perp * sin, h[:, 1] + along * sin + perp * cos]
        )
    if kind == "town":
        p = lay.town_pop / lay.town_pop.sum() if lay.town_pop.sum() > 0 else None
        i = rng.choice(len(lay.towns), size=n, p=p)
        sigma = 0.5 * spread * lay.town_radius[i]
        return lay.towns[i] + rng.normal(0, 1, size=(n, 2)) * sigma[:, None]
    if kind == "village":
        i = rng.integers(0, len(lay.villages), size=n)
        return lay.villages[i] + rng.normal(0, 250.0 * spread, size=(n, 2))
    if kind == "remote":
        if len(lay.villages):
            i = rng.integers(0, len(lay.villages), size=n)
            return lay.villages[i] + rng.normal(0, 900.0, size=(n, 2))
        return _uniform(rng, lay, n)
    if kind == "road":
        e = lay.roads[rng.choice(len(lay.roads), size=n, p=lay.road_weight)]
        t = rng.beta(1.0, 2.5, size=n)[:, None]
        seg = e[:, 2:] - e[:, :2]
        norm = np.hypot(seg[:, 0], seg[:, 1])[:, None]
        normal = np.column_stack([-seg[:, 1], seg[:, 0]]) / np.where(norm > 0, norm, 1.0)
        return e[:, :2] + t * seg + normal * rng.normal(0, 12.0, size=(n, 1))
    if kind == "uniform":
        return _uniform(rng, lay, n)
    raise ValueError(f"unknown place component {kind!r}")


def _uniform(rng: np.random.Generator, lay: DistrictLayout, n: int) -> np.ndarray:
    minx, miny, maxx, maxy = lay.bounds_m
    return np.column_stack([rng.uniform(minx, maxx, size=n), rng.uniform(miny, maxy, size=n)])


def _away_from_towns(lay: DistrictLayout, xy: np.ndarray) -> np.ndarray:
    d = np.hypot(xy[:, None, 0] - lay.towns[None, :, 0], xy[:, None, 1] - lay.towns[None, :, 1])
    return (d > lay.town_radius[None, :] + 1000.0).all(axis=1)


def _fill(
    rng: np.random.Generator, lay: DistrictLayout, kind: str, n: int, spread: float
) -> np.ndarray:
    """Draw ``n`` points of a component, inside the district (lon, lat rounded)."""
    import shapely

    _, inv = _transformers(lay.metric_crs)
    out = np.empty((0, 2))
    need = n
    for attempt in range(60):
        if need == 0:
            break
        use = kind if attempt < 30 else "uniform"
        xy = _component(rng, lay, use, max(need, 8), spread)
        if kind == "remote" and attempt < 45:
            xy = xy[_away_from_towns(lay, xy)]
        lon, lat = inv.transform(xy[:, 0], xy[:, 1])
        ll = np.round(np.column_stack([lon, lat]), COORD_DECIMALS)
        ll = ll[shapely.contains_xy(lay.area_ll, ll[:, 0], ll[:, 1])]
        take = ll[:need]
        out = np.vstack([out, take])
        need -= len(take)
    if need:
        raise RuntimeError(f"could not place {need} points inside district {lay.ubigeo}")
    return out


def place_points(
    rng: np.random.Generator, lay: DistrictLayout, family: str, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` incident locations of a place family inside one district.

    Parameters
    ----------
    rng
        Random generator.
    lay
        District layout from :func:`build_layouts`.
    family
        Place family (``calle``, ``hogar``, ``rural``, ``via``, ``orden``, ``otro``).
    n
        Number of points.

    Returns
    -------
    tuple of numpy.ndarray
        ``(n, 2)`` longitude/latitude rounded to 6 decimals, and the name of the nearest
        populated place of each point.
    """
    from scipy.spatial import cKDTree

    if family == "hogar":
        u = lay.urban_share
        mixture: tuple[tuple[str, float, float], ...] = (("town", u, 1.4), ("village", 1 - u, 1.0))
    else:
        mixture = FAMILY_MIXTURES[family]
    fractions = np.array([m[1] for m in mixture])
    split = rng.multinomial(n, fractions / fractions.sum())
    parts = [
        _fill(rng, lay, kind, int(k), spread)
        for (kind, _, spread), k in zip(mixture, split, strict=True)
        if k > 0
    ]
    ll = np.vstack(parts) if parts else np.empty((0, 2))
    fwd, _ = _transformers(lay.metric_crs)
    x, y = fwd.transform(ll[:, 0], ll[:, 1])
    _, nearest = cKDTree(lay.place_xy).query(np.column_stack([x, y]))
    return ll, lay.place_names[nearest]
