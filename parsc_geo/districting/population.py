"""Population per block, from the bundled populated places and district populations.

Where people live inside a district follows the town model of
:mod:`parsc_geo.datasets.places` (real places, real INEI figures): the district's 2017 urban
population lives in its towns (the capital gets 80 %, the other urban populated places share
20 %), each town a disk of ``sqrt(pop / (π · 6,000 inh/km²))`` metres (at least 250 m) over which
its people are spread evenly; the rural population is shared equally by the district's rural
populated places (spread evenly over the district when it has none). Every district's figures
are then scaled to the INEI estimate of the year nearest the data
(:func:`parsc_geo.boundaries.population_for_year`: 2017, 2020 or 2022).

A block receives the part of each town disk it covers and the villages that fall inside it; the
people of places outside the jurisdiction belong to other comisarías and are not counted.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from ..settings import CRS_METRIC_CAJAMARCA, SEED

if TYPE_CHECKING:
    from .blocks import Blocks


@lru_cache(maxsize=1)
def _layouts() -> dict[str, Any]:
    from ..datasets.places import build_layouts

    # Towns, villages and populations do not depend on the seed (only synthetic hotspots do).
    return build_layouts(SEED)


def block_population(blocks: Blocks, year: int) -> np.ndarray:
    """Return the estimated population of each block for ``year`` (see :func:`population_of`)."""
    return population_of(blocks.frame.geometry.to_numpy(), blocks.frame.crs, year)


def population_of(geoms: np.ndarray, crs: Any, year: int) -> np.ndarray:
    """Return the estimated population inside each polygon for ``year``.

    Parameters
    ----------
    geoms
        Polygons in a metric CRS (the town model is in UTM 17S and is projected as needed).
        Where polygons overlap, a village counts in the first one only; town disks count in
        each in proportion to the area covered.
    crs
        Their CRS.
    year
        Year of the data; the nearest INEI year (2017, 2020, 2022) is used.

    Returns
    -------
    numpy.ndarray
        Inhabitants per polygon (float).
    """
    import shapely
    from pyproj import CRS, Transformer

    from ..boundaries import population_for_year

    geoms = np.asarray(geoms, dtype=object)
    out = np.zeros(len(geoms))
    if not len(geoms):
        return out
    crs = CRS.from_user_input(crs)
    same = crs == CRS.from_user_input(CRS_METRIC_CAJAMARCA)
    to_blocks = None if same else Transformer.from_crs(CRS_METRIC_CAJAMARCA, crs, always_xy=True)
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def project(xy: np.ndarray) -> np.ndarray:
        if to_blocks is None or not len(xy):
            return xy
        x, y = to_blocks.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    tree = shapely.STRtree(geoms)
    extent = shapely.box(*shapely.total_bounds(geoms))
    extent_ll = shapely.transform(
        extent, lambda c: np.column_stack(to_lonlat.transform(c[:, 0], c[:, 1]))
    )
    current = population_for_year(year).set_index("ubigeo")["poblacion"]
    for ubigeo, lay in _layouts().items():
        if not lay.area_ll.intersects(extent_ll):
            continue
        urban = float(lay.extra.get("urban_pop", 0.0))
        rural = float(lay.extra.get("rural_pop", 0.0))
        total_2017 = urban + rural
        scale = float(current.get(ubigeo, total_2017)) / total_2017 if total_2017 > 0 else 0.0
        towns = project(np.asarray(lay.towns, dtype=float))
        disks = shapely.buffer(
            shapely.points(towns[:, 0], towns[:, 1]), lay.town_radius, quad_segs=32
        )
        for disk, people in zip(disks, np.asarray(lay.town_pop) * scale, strict=True):
            hit = tree.query(disk, predicate="intersects")
            if len(hit):
                share = shapely.area(shapely.intersection(geoms[hit], disk)) / disk.area
                np.add.at(out, hit, share * people)
        villages = project(np.asarray(lay.villages, dtype=float).reshape(-1, 2))
        if len(villages):
            pts = shapely.points(villages[:, 0], villages[:, 1])
            pi, bi = tree.query(pts, predicate="intersects")
            order = np.lexsort((bi, pi))
            pi, bi = pi[order], bi[order]
            first = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.zeros(0, dtype=bool)
            np.add.at(out, bi[first], rural * scale / len(villages))
        elif rural > 0:
            area_m = shapely.transform(lay.area_ll, lambda c: _from_lonlat(c, crs))
            hit = tree.query(area_m, predicate="intersects")
            if len(hit):
                share = shapely.area(shapely.intersection(geoms[hit], area_m)) / area_m.area
                np.add.at(out, hit, share * rural * scale)
    return out


def _from_lonlat(coords: np.ndarray, crs: Any) -> np.ndarray:
    from pyproj import Transformer

    t = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return np.column_stack(t.transform(coords[:, 0], coords[:, 1]))
