"""Generalisation of incident locations for public maps.

A public map must not let anyone find the home of a victim. Two rules, applied to points only
(densities, hotspots and counts still use every incident at its true location, because they
are aggregates):

1. incidents of sensitive categories (:func:`parsc_geo.taxonomy.is_sensitive`: violence
   against women and family members, sexual offences, trata, feminicidio) are never drawn as
   points;
2. every other point is moved to the centre of its cell in a square grid of
   :data:`parsc_geo.settings.PUBLIC_GRID_M` metres (100 m by default) in the metric CRS of the
   data (UTM 17S in Cajamarca), so a point is shown at most ``grid_m·√2/2`` (≈ 71 m) from
   where it was recorded, and points in the same block share one location.

Popups of public maps show only canonical labels (modalidad, genérico), the month and a 3-hour
band, and the sector: no free text from the input (``descripcion``, ``label_raw``, names).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import settings
from .._errors import ConfigError

if TYPE_CHECKING:
    import geopandas as gpd

#: Columns a public map may use from an incident (everything else, free text included, dropped).
PUBLIC_COLUMNS: tuple[str, ...] = (
    "occurred_at",
    "time_known",
    "delito_generico",
    "delito_especifico",
    "modalidad",
    "fenomeno",
    "provincia",
    "distrito",
    "comisaria",
    "sector",
    "subsector",
)


def generalisation_text(grid_m: float | None = None) -> str:
    """Return the Spanish sentence that a public map's title block shows."""
    g = float(grid_m if grid_m is not None else settings.PUBLIC_GRID_M)
    return (
        "Los incidentes de violencia contra la mujer e integrantes del grupo familiar, "
        "delitos sexuales, trata y feminicidio no se dibujan como puntos (cuentan en la "
        "densidad y en los totales). Los demás puntos se desplazan al centro de su celda en una "
        f"cuadrícula de {g:.0f} m; las ventanas muestran mes y franja horaria, sin texto libre."
    )


def generalise_points(
    incidents: gpd.GeoDataFrame, *, grid_m: float | None = None
) -> tuple[gpd.GeoDataFrame, int]:
    """Return the incidents a public map may draw, snapped to a grid, and the number left out.

    Parameters
    ----------
    incidents
        Incident table (any CRS).
    grid_m
        Cell size in metres (default :data:`parsc_geo.settings.PUBLIC_GRID_M`).

    Returns
    -------
    tuple
        ``(points, n_suppressed)``: points in the input CRS with only :data:`PUBLIC_COLUMNS`,
        at the centre of their grid cell; the number of sensitive incidents dropped.

    Raises
    ------
    ConfigError
        When ``grid_m`` is not a positive number.
    """
    import geopandas as gpd

    from ..projection import metric_crs
    from ..taxonomy import is_sensitive

    g = float(grid_m if grid_m is not None else settings.PUBLIC_GRID_M)
    if not np.isfinite(g) or g <= 0:
        raise ConfigError(
            f"la cuadrícula pública debe ser un número positivo de metros; se recibió {grid_m!r}"
        )
    sensitive = is_sensitive(incidents).to_numpy(dtype=bool)
    kept = incidents.loc[~sensitive]
    columns = [c for c in PUBLIC_COLUMNS if c in kept.columns]
    if not len(kept):
        empty = gpd.GeoDataFrame(kept[columns], geometry=kept.geometry.values, crs=incidents.crs)
        return empty, int(sensitive.sum())
    crs = metric_crs(incidents)
    metric = kept.geometry.to_crs(crs)
    x = (np.floor(metric.x.to_numpy() / g) + 0.5) * g
    y = (np.floor(metric.y.to_numpy() / g) + 0.5) * g
    snapped = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=crs, index=kept.index)
    out = gpd.GeoDataFrame(kept[columns].copy(), geometry=snapped.to_crs(incidents.crs))
    return out, int(sensitive.sum())
