"""Which territorial units the inputs cover: a zero is a count only where there are data.

A run on the complaints of one city must not rank the other provinces of the region as if
they had no crime: nobody counted there. The rule (also written beside every table,
:func:`coverage_rule_text`): a unit is *covered* in the period when at least one input covers
both its place and the period, and a unit that is not covered and has no complaint is listed
apart as "sin datos en el periodo" — not ranked, not in the smoothing, not in the bootstrap.

An input covers

- the **period** when the months it spans (first to last month with a row) overlap it;
- a **place**, for a count table (SIDPOL, any UBIGEO × category table): every district of a
  province the table has rows for (SIDPOL lists only the districts with complaints, so a
  district of a listed province that is absent had none), and that province; a table of
  whole provinces covers the provinces only;
- a **place**, for incident points: every province with a point; in it, every district with
  a point and every district with at least half of its area inside the convex hull of the
  points (the area the points span: a district of the city without a complaint is a zero, a
  rural district 50 km away is not covered).

A unit with complaints is always covered: its complaints are data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt

from .period import Period, coverage

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

#: ``attrs`` key of a count table made from points: the district codes the points cover.
COVERED_DISTRICTS: Final = "covered_districts"
#: Least share of a district's area inside the points' convex hull for it to be covered.
MIN_HULL_SHARE: Final = 0.5


def points_coverage(incidents: gpd.GeoDataFrame, ubigeo: pd.Series) -> list[str]:
    """Return the district codes a set of incident points covers.

    Parameters
    ----------
    incidents
        Incident points (any CRS).
    ubigeo
        District code of each incident (missing for points outside every district).

    Returns
    -------
    list of str
        Sorted codes: the districts holding a point, and the districts of the provinces
        holding points with at least :data:`MIN_HULL_SHARE` of their area inside the convex
        hull of the points.
    """
    covered = districts_with_points(ubigeo)
    if not covered or incidents.crs is None:
        return sorted(covered)
    districts = covered_province_districts(covered)
    hull = points_hull(incidents, ubigeo, districts.crs)
    return sorted(covered | districts_in_hull(districts, hull))


def districts_with_points(ubigeo: pd.Series) -> set[str]:
    """Return the district codes (6 characters) among the incidents' ``ubigeo``."""
    codes = ubigeo.astype("string")
    valid = codes.notna() & (codes.str.len() == 6)
    return set(codes[valid].astype(str))


def covered_province_districts(covered: Iterable[str]) -> gpd.GeoDataFrame:
    """Return the districts of the provinces of the ``covered`` districts, in a metric CRS.

    The CRS (:func:`parsc_geo.projection.to_metric` of these districts) is the one the
    points' convex hull is drawn in (:func:`points_hull`).
    """
    from ..boundaries import load_districts
    from ..projection import to_metric

    provinces = sorted({c[:4] for c in covered})
    return to_metric(load_districts(prefix=provinces))


def points_hull(incidents: gpd.GeoDataFrame, ubigeo: pd.Series, crs: object) -> Any:
    """Return the convex hull, in ``crs``, of the located points that are in a district.

    The points with a district code of 6 characters (as :func:`districts_with_points`) and
    a non-empty location. The hull of several sets of points is the hull of their hulls'
    vertices (:func:`hull_of_points`): what lets each partition of a distributed run send
    only its hull's vertices (see :func:`parsc_geo.priority.counts.counts_from_partitions`).
    """
    import shapely

    codes = ubigeo.astype("string")
    valid = codes.notna() & (codes.str.len() == 6)
    points = incidents.geometry.to_crs(crs)
    keep = valid.to_numpy() & ~points.is_empty.to_numpy()
    return shapely.convex_hull(shapely.union_all(points.to_numpy()[keep]))


def hull_of_points(coordinates: npt.NDArray[np.float64]) -> Any:
    """Return the convex hull of points given as an ``(n, 2)`` array of coordinates."""
    import shapely

    return shapely.convex_hull(shapely.union_all(shapely.points(coordinates)))


def districts_in_hull(districts: gpd.GeoDataFrame, hull: Any) -> set[str]:
    """Return the codes of ``districts`` with :data:`MIN_HULL_SHARE` of their area in ``hull``."""
    import shapely

    if hull.area > 0:
        shapes = districts.geometry.to_numpy()
        share = shapely.area(shapely.intersection(shapes, hull)) / shapely.area(shapes)
        return set(districts["ubigeo"].astype(str)[share >= MIN_HULL_SHARE])
    return set()


def _source_spans_period(table: pd.DataFrame, period: Period | None) -> bool:
    if period is None:
        return True
    span = coverage(table)
    return span is not None and span[0] <= period.end and span[1] >= period.start


def source_places(table: pd.DataFrame, level: str) -> set[str]:
    """Return the codes of ``level`` (``"provincia"`` or ``"distrito"``) a table covers.

    Parameters
    ----------
    table
        A count table; one made from points carries :data:`COVERED_DISTRICTS` in ``attrs``.
    level
        Territorial level.

    Returns
    -------
    set of str
        Province codes (4 digits) or district codes (6 digits); for districts of a count
        table, the prefixes of the provinces with district rows are returned instead
        (``"0601"`` stands for every district of province 0601).
    """
    codes = table["ubigeo"].dropna().astype(str)
    by_points = table.attrs.get(COVERED_DISTRICTS)
    if by_points is not None:
        districts = {str(c) for c in by_points} | set(codes[codes.str.len() == 6])
        if level == "distrito":
            return districts
        return {c[:4] for c in districts} | set(codes[codes.str.len() == 4])
    if level == "distrito":
        return {c[:4] for c in codes[codes.str.len() == 6]}
    return {c[:4] for c in codes if len(c) >= 4}


def covered_units(
    tables: Sequence[pd.DataFrame], level: str, codes: Iterable[str], period: Period | None
) -> npt.NDArray[np.bool_]:
    """Return which units of ``level`` at least one input covers in ``period``.

    Parameters
    ----------
    tables
        The count tables of the analysis (each one input).
    level
        ``"provincia"`` or ``"distrito"``.
    codes
        The units' codes (4 or 6 digits).
    period
        The period analysed (``None``: tables without time, only places count).

    Returns
    -------
    numpy.ndarray
        One boolean per unit of ``codes``.
    """
    places: set[str] = set()
    for table in tables:
        if _source_spans_period(table, period):
            places |= source_places(table, level)
    return np.array([c in places or c[:4] in places for c in map(str, codes)], dtype=bool)


def coverage_rule_text() -> str:
    """Return the coverage rule in plain Spanish, for the method written beside the tables."""
    return (
        "Una provincia o distrito sin denuncias que ninguna fuente cubre en "
        "el periodo (ni por su lugar ni por sus fechas) se lista aparte como «sin datos en el "
        "periodo» y no se ordena: un cero allí no es un dato. Una tabla de conteos (SIDPOL) "
        "cubre las provincias de las que tiene filas y todos sus distritos; los puntos del mapa "
        "del delito cubren las provincias con algún punto y, en ellas, los distritos con algún "
        "punto y los que quedan al menos en la mitad dentro del contorno de todos los puntos."
    )
