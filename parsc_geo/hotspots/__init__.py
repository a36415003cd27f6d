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
    90/95/99 % confidence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .clusters import hotspot_dbscan, hotspot_hdbscan
from .gistar import hotspot_gistar
from .kde import hotspot_kde

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "METHODS",
    "hotspot_dbscan",
    "hotspot_gistar",
    "hotspot_hdbscan",
    "hotspot_kde",
    "run_method",
]

METHODS: tuple[str, ...] = ("kde", "dbscan", "hdbscan", "gistar")


def run_method(method: str, data: Any, **kwargs: Any) -> Any:
    """Run the hotspot method named ``method`` (one of :data:`METHODS`) on ``data``."""
    from .._validate import check_choice

    check_choice("method", method, METHODS)
    functions: dict[str, Callable[..., Any]] = {
        "kde": hotspot_kde,
        "dbscan": hotspot_dbscan,
        "hdbscan": hotspot_hdbscan,
        "gistar": hotspot_gistar,
    }
    return functions[method](data, **kwargs)
