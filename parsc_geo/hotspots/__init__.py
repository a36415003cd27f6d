"""Hotspots of incidents, one output schema for every method.

Every ``hotspot_*`` function takes incident points and returns a GeoDataFrame with
:data:`parsc_geo.schema.HOTSPOT_COLUMNS` (geometry in EPSG:4326) plus method-specific columns,
and ``attrs["parameters"]`` with every parameter, automatic ones included. Incidents stacked on a
police station (``at_station``) are excluded by default and counted. Below a documented minimum
number of incidents a method declines: it returns an empty table with ``attrs["reason"]`` and
says so unless ``quiet`` — it never invents hotspots.

Methods
-------
:func:`hotspot_kde`
    Areas where the kernel density exceeds a threshold (top percentile or multiple of the mean).
:func:`hotspot_dbscan`, :func:`hotspot_hdbscan`
    Density-based clusters of incidents (scikit-learn), outlined by concave or convex hulls.
:func:`hotspot_gistar`
    Getis-Ord Gi* on a square or hexagonal grid, Benjamini–Hochberg FDR, hot and cold spots at
    90/95/99 % confidence; contiguous hot cells form one zone (``zone_id``).
:func:`hotspot_auto`
    The cells ranked highest by the forecast that a backtest on the incidents' own history
    chose (:mod:`parsc_geo.hotspots.auto`), at the requested coverages of the area.

Minimum counts (after excluding station stacks; ``min_incidents`` overrides them)
--------------------------------------------------------------------------------
kde
    20 incidents (:data:`parsc_geo.hotspots.kde.MIN_INCIDENTS`); an area is kept only with at
    least ``min_count`` = 5 incidents in it.
dbscan, hdbscan
    10 incidents (:data:`parsc_geo.hotspots.clusters.MIN_INCIDENTS`).
gistar
    30 incidents and 30 grid cells (:data:`parsc_geo.hotspots.gistar.MIN_INCIDENTS`,
    :data:`~parsc_geo.hotspots.gistar.MIN_CELLS`), for the normal approximation.

Results do not depend on the order of the input rows: incidents are put in a canonical order
(coordinates, then ``incident_id``) first. This matters: scikit-learn's DBSCAN (border points)
and HDBSCAN (ties in the minimum spanning tree) give order-dependent labels.
:func:`parsc_geo.hotspots.io.write_hotspots` and :func:`~parsc_geo.hotspots.io.read_hotspots`
store a table in a GeoPackage (layer ``hotspots``) with its parameters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .auto import hotspot_auto
from .clusters import hotspot_dbscan, hotspot_hdbscan
from .gistar import hotspot_gistar
from .kde import hotspot_kde

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "METHODS",
    "hotspot_auto",
    "hotspot_dbscan",
    "hotspot_gistar",
    "hotspot_hdbscan",
    "hotspot_kde",
    "run_method",
]

METHODS: tuple[str, ...] = ("kde", "dbscan", "hdbscan", "gistar", "auto")


def run_method(method: str, data: Any, **kwargs: Any) -> Any:
    """Run the hotspot method named ``method`` (one of :data:`METHODS`) on ``data``."""
    from .._validate import check_choice

    check_choice("method", method, METHODS)
    functions: dict[str, Callable[..., Any]] = {
        "kde": hotspot_kde,
        "dbscan": hotspot_dbscan,
        "hdbscan": hotspot_hdbscan,
        "gistar": hotspot_gistar,
        "auto": hotspot_auto,
    }
    return functions[method](data, **kwargs)
