"""Choice of a metric CRS for analysis: UTM 17S for Cajamarca, the data's UTM zone elsewhere."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ._errors import CRSError
from .settings import CRS_GEOGRAPHIC

if TYPE_CHECKING:
    import geopandas as gpd
    from pyproj import CRS


def utm_crs_for_lonlat(lon: float, lat: float) -> str:
    """Return the EPSG code (``"EPSG:327NN"`` or ``"EPSG:326NN"``) of the UTM zone of a point.

    Parameters
    ----------
    lon, lat
        Longitude and latitude in decimal degrees (WGS 84).

    Examples
    --------
    >>> utm_crs_for_lonlat(-78.51, -7.16)  # Cajamarca city
    'EPSG:32717'
    """
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise CRSError(f"no es un par longitud/latitud: ({lon}, {lat})")
    zone = min(math.floor((lon + 180) / 6) + 1, 60)
    return f"EPSG:{32700 + zone if lat < 0 else 32600 + zone}"


def metric_crs(gdf: gpd.GeoDataFrame) -> CRS:
    """Return the metric CRS for analysing ``gdf``.

    A projected CRS in metres is kept as it is; a geographic one gives the UTM zone of the
    centre of its bounds (UTM 17S for Cajamarca): ``utm_crs_for_bounds(geographic_bounds(gdf))``.

    Raises
    ------
    CRSError
        When ``gdf`` has no CRS.
    """
    from pyproj import CRS

    if gdf.crs is None:
        raise CRSError(
            "los datos no tienen sistema de referencia de coordenadas",
            hint="asigne uno con gdf.set_crs('EPSG:4326') si las coordenadas son longitud/latitud",
        )
    crs = CRS.from_user_input(gdf.crs)
    if is_metric(crs):
        return crs
    return utm_crs_for_bounds(geographic_bounds(gdf))


def is_metric(crs: CRS) -> bool:
    """Return whether ``crs`` is a projected CRS in metres (one :func:`metric_crs` keeps)."""
    return bool(
        crs.is_projected and crs.axis_info and crs.axis_info[0].unit_name in ("metre", "meter")
    )


def geographic_bounds(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> tuple[float, float, float, float]:
    """Return the bounds of ``gdf`` in longitude/latitude, those :func:`metric_crs` centres on.

    Geographic coordinates are read as they are; others are projected to
    :data:`parsc_geo.settings.CRS_GEOGRAPHIC` first. NaN without geometries. The bounds of
    several tables together are the smallest of their minima and the largest of their maxima
    (each point is projected on its own), so :func:`utm_crs_for_bounds` of them is the metric
    CRS of the tables together.
    """
    from pyproj import CRS

    geo = gdf.to_crs(CRS_GEOGRAPHIC) if not CRS.from_user_input(gdf.crs).is_geographic else gdf
    minx, miny, maxx, maxy = geo.total_bounds
    return float(minx), float(miny), float(maxx), float(maxy)


def utm_crs_for_bounds(bounds: tuple[float, float, float, float]) -> CRS:
    """Return the UTM CRS of the centre of longitude/latitude ``bounds`` (minx, miny, maxx, maxy).

    Raises
    ------
    CRSError
        When a bound is not finite (no data).
    """
    from pyproj import CRS

    minx, miny, maxx, maxy = bounds
    if not all(map(math.isfinite, (minx, miny, maxx, maxy))):
        raise CRSError("no se puede elegir un SRC métrico para datos vacíos")
    return CRS.from_user_input(utm_crs_for_lonlat((minx + maxx) / 2, (miny + maxy) / 2))


def metric_corners(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return two points standing for ``gdf`` in :func:`metric_crs`: the corners of its extent.

    :func:`metric_crs` of them is that of ``gdf``, and of the corners of several tables
    (concatenated) that of the tables together: what a table cut into parts needs of each to
    choose its metric CRS.

    Raises
    ------
    CRSError
        When ``gdf`` has no CRS.
    """
    import geopandas as gpd
    from pyproj import CRS

    if gdf.crs is None:
        metric_crs(gdf)  # raises the error of data without a CRS
    crs = CRS.from_user_input(gdf.crs)
    if is_metric(crs):
        (minx, miny, maxx, maxy), where = gdf.total_bounds, gdf.crs
    else:
        minx, miny, maxx, maxy = geographic_bounds(gdf)
        where = gdf.crs if crs.is_geographic else CRS_GEOGRAPHIC
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy([minx, maxx], [miny, maxy]), crs=where)


def to_metric(gdf: gpd.GeoDataFrame, crs: CRS | str | None = None) -> gpd.GeoDataFrame:
    """Return ``gdf`` projected to ``crs`` or, when None, to :func:`metric_crs` of it."""
    target = crs if crs is not None else metric_crs(gdf)
    return gdf.to_crs(target)
