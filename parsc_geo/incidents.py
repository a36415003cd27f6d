"""The one rule that decides which incidents an analysis uses.

:func:`select` is applied by every command and by the run, in this order: incidents without a
location are dropped; then those of other fenómenos, outside the period or outside the area;
finally the incidents stacked on a police station's coordinates (``at_station``: the station
address was geocoded instead of the place of the crime), unless they are kept on purpose. What
each step removed is recorded in ``attrs["selection"]`` and can be announced.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ._errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

    from .priority.period import Period

logger = logging.getLogger(__name__)


def only_columns(incidents: gpd.GeoDataFrame, names: Collection[str]) -> gpd.GeoDataFrame:
    """Return ``incidents`` with those of ``names`` it has (in its order) and its geometry.

    What a step keeps, copies or hands to a task when it reads few of the incidents' columns:
    a selection copies every column it keeps, and a million incidents carry hundreds of
    megabytes of texts most steps never read. ``attrs`` follow.
    """
    geometry = incidents.geometry.name
    return incidents[[c for c in incidents.columns if c in names or c == geometry]]


def select(
    incidents: gpd.GeoDataFrame,
    *,
    fenomenos: Sequence[str] | None = None,
    period: Period | str | None = None,
    area: str | BaseGeometry | gpd.GeoDataFrame | None = None,
    include_at_station: bool = False,
) -> gpd.GeoDataFrame:
    """Return the incidents an analysis should use, with what was left out and why.

    Parameters
    ----------
    incidents
        Incident points (any CRS), e.g. from :func:`parsc_geo.io.read_points`.
    fenomenos
        Keep only these fenómeno codes (:data:`parsc_geo.schema.FENOMENOS`); None or empty keeps
        all.
    period
        Keep only incidents that occurred in this span of whole months: a
        :class:`parsc_geo.priority.Period` or its text (``"2020"``, ``"2020-03"``,
        ``"2020-01:2020-10"``). Incidents without a date are left out.
    area
        Keep only incidents inside this area: a UBIGEO prefix (``"0601"``), a polygon file, a
        GeoDataFrame or a shapely polygon in EPSG:4326 (see
        :func:`parsc_geo.ingest.study_area`).
    include_at_station
        Keep incidents stacked on a police station (left out by default). Boolean-like text
        (``"false"``, ``"0"``) is read as such.

    Returns
    -------
    geopandas.GeoDataFrame
        The selected rows (original order and index); ``attrs["selection"]`` holds
        ``n_input``, ``n_missing_geometry``, the counts removed by each requested filter
        (``n_other_fenomeno``, ``n_outside_period``, ``n_outside_area``,
        ``n_excluded_at_station``), the filters themselves and ``n_used``.

    Raises
    ------
    ConfigError
        An unknown fenómeno code, a bad period, or a filter the incidents have no column for.
    """
    keep, record = select_mask(
        incidents,
        fenomenos=fenomenos,
        period=period,
        area=area,
        include_at_station=include_at_station,
    )
    out = incidents.loc[keep].copy()
    out.attrs = {**incidents.attrs, "selection": record}
    logger.debug("selección de incidentes: %s", record)
    return out


def select_mask(
    incidents: gpd.GeoDataFrame,
    *,
    fenomenos: Sequence[str] | None = None,
    period: Period | str | None = None,
    area: str | BaseGeometry | gpd.GeoDataFrame | None = None,
    include_at_station: bool = False,
) -> tuple[Any, dict[str, Any]]:
    """Return which rows :func:`select` keeps (a boolean array) and its ``selection`` record.

    For a step that reads few columns of the selected rows: it takes them itself instead of
    copying every column of every kept row (see :func:`select` for the parameters).
    """
    import numpy as np
    import shapely

    from ._text import as_bool

    record: dict[str, Any] = {"n_input": len(incidents)}
    geoms = np.asarray(incidents.geometry.values)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    record["n_missing_geometry"] = int((~keep).sum())

    if fenomenos:
        keep &= _fenomeno_mask(incidents, fenomenos, keep, record)
    if period is not None:
        keep &= _period_mask(incidents, period, keep, record)
    if area is not None:
        keep &= _area_mask(incidents, area, keep, geoms, record)

    record["include_at_station"] = bool(include_at_station)
    stacked = np.zeros(len(incidents), dtype=bool)
    if not include_at_station and "at_station" in incidents.columns:
        stacked = as_bool(incidents["at_station"]) & keep
    record["n_excluded_at_station"] = int(stacked.sum())
    keep &= ~stacked
    record["n_used"] = int(keep.sum())
    return keep, record


def _fenomeno_mask(
    incidents: gpd.GeoDataFrame, fenomenos: Sequence[str], keep: Any, record: dict[str, Any]
) -> Any:
    from .schema import FENOMENOS

    unknown = [f for f in fenomenos if f not in FENOMENOS]
    if unknown:
        raise ConfigError(
            f"código(s) de fenómeno desconocido(s): {', '.join(map(repr, unknown))}",
            hint=f"use uno de {', '.join(FENOMENOS)}",
        )
    if "fenomeno" not in incidents.columns:
        raise ConfigError(
            "--fenomeno requiere una columna 'fenomeno', que la entrada no tiene",
            hint="importe el archivo con 'parsc-geo ingest' y use el espacio de trabajo",
        )
    mask = incidents["fenomeno"].isin(list(fenomenos)).to_numpy()
    record["fenomenos"] = list(fenomenos)
    record["n_other_fenomeno"] = int((keep & ~mask).sum())
    return mask


def _period_mask(
    incidents: gpd.GeoDataFrame, period: Period | str, keep: Any, record: dict[str, Any]
) -> Any:
    import numpy as np

    from .localtime import incident_times
    from .priority.period import Period

    span = Period.parse(period) if isinstance(period, str) else period
    if "occurred_at" not in incidents.columns:
        raise ConfigError(
            "--period requiere la fecha de los incidentes (columna 'occurred_at')",
            hint="importe el archivo con 'parsc-geo ingest' y use el espacio de trabajo",
        )
    when = incident_times(incidents)
    month = (when.dt.year * 12 + when.dt.month - 1).to_numpy(dtype=float, na_value=np.nan)
    mask = (month >= span.start) & (month <= span.end)
    record["period"] = span.iso()
    record["n_outside_period"] = int((keep & ~mask).sum())
    return mask


def _area_mask(
    incidents: gpd.GeoDataFrame,
    area: str | BaseGeometry | gpd.GeoDataFrame,
    keep: Any,
    geoms: Any,
    record: dict[str, Any],
) -> Any:
    import numpy as np
    import shapely

    from .ingest.checks import inside, study_area
    from .settings import CRS_GEOGRAPHIC

    polygon = study_area(area)
    lonlat = incidents.geometry.to_crs(CRS_GEOGRAPHIC) if incidents.crs else incidents.geometry
    lon = np.full(len(incidents), np.nan)
    lat = np.full(len(incidents), np.nan)
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    points = np.asarray(lonlat.values)[valid]
    lon[valid], lat[valid] = shapely.get_x(points), shapely.get_y(points)
    mask = np.zeros(len(incidents), dtype=bool)
    mask[valid] = inside(polygon, lon[valid], lat[valid])
    record["area"] = area if isinstance(area, str) else "polígono"
    record["n_outside_area"] = int((keep & ~mask).sum())
    return mask
