"""Hotspots as areas where the kernel density of incidents exceeds a threshold."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import ConfigError, InsufficientDataError
from .._text import num
from ..settings import KERNEL
from ._common import announce, describe, empty, point_weights, prepare

if TYPE_CHECKING:
    import geopandas as gpd

METHOD = "kde"

#: Fewest incidents (after exclusions) with which the KDE method runs.
MIN_INCIDENTS = 20
#: Fewest incidents inside an above-threshold area for it to be a hotspot.
MIN_COUNT = 5
#: Cells whose density is below this fraction of the maximum count as empty: FFT convolution
#: leaves round-off of about 1e-16 of the maximum in cells that no kernel reaches.
POSITIVE_FRACTION = 1e-9
EXTRAS: dict[str, str] = {"density_peak": "float64", "density_threshold": "float64"}

_PERCENTILE = re.compile(r"^p(\d+(?:\.\d+)?)$")
_MEAN_MULTIPLE = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:x\s*)?mean$")


def parse_threshold(threshold: str | float) -> tuple[str, float]:
    """Parse a density threshold into (kind, value).

    ``"p99"`` (or ``"p99.5"``): the 99th percentile of the cells with positive density;
    ``"2mean"`` (or ``"2x mean"``): twice the mean density of those cells; a number: incidents
    per km².

    Raises
    ------
    ConfigError
        For anything else, showing what was received.
    """
    if isinstance(threshold, bool):
        raise ConfigError(
            f"threshold debe ser 'p99', '2mean' o un número; se recibió {threshold!r}"
        )
    if isinstance(threshold, int | float):
        if not threshold > 0:
            raise ConfigError(
                f"threshold: un umbral numérico debe ser positivo; se recibió {threshold!r}"
            )
        return "absolute", float(threshold)
    text = str(threshold).strip().lower()
    match = _PERCENTILE.match(text)
    if match:
        value = float(match.group(1))
        if not 0 < value < 100:
            raise ConfigError(
                f"threshold: el percentil debe estar entre p0 y p100; se recibió {threshold!r}"
            )
        return "percentile", value
    match = _MEAN_MULTIPLE.match(text)
    if match and float(match.group(1)) > 0:
        return "mean_multiple", float(match.group(1))
    try:
        return parse_threshold(float(text))
    except ValueError:
        raise ConfigError(
            "threshold debe ser un percentil como 'p99', un múltiplo de la media como "
            f"'2mean', o una densidad en incidentes por km²; se recibió {threshold!r}"
        ) from None


def hotspot_kde(
    data: gpd.GeoDataFrame,
    *,
    cell_size: float | None = None,
    bandwidth: float | str | None = None,
    bandwidth_adjust: float = 1.0,
    kernel: str = KERNEL,
    weights: str | None = None,
    threshold: str | float = "p99",
    min_count: int = MIN_COUNT,
    mask: Any = None,
    min_incidents: int = MIN_INCIDENTS,
    quiet: bool = False,
    exclude_at_station: bool = True,
) -> gpd.GeoDataFrame:
    """Find hotspots as the areas where the kernel density exceeds a threshold.

    Parameters
    ----------
    data
        Incident points (any CRS; analysed in the metric CRS).
    cell_size, bandwidth, bandwidth_adjust, kernel, weights, mask
        As in :func:`parsc_geo.density.kernel_density` (automatic choices announced there).
    threshold
        ``"p99"`` (default: the top 1 % of cells with positive density), any ``"pNN"``,
        ``"Kmean"`` (K times the mean density of those cells) or a density in incidents per
        km² (per harm-weighted incident with ``weights``).
    min_count
        Fewest incidents inside an above-threshold area for it to be kept as a hotspot.
    min_incidents
        Fewest incidents to run; fewer, and an empty table is returned with the reason.
    quiet
        Do not announce automatic choices and declines on stderr.
    exclude_at_station
        Drop incidents stacked on a police station (``at_station``), counting them.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`parsc_geo.schema.HOTSPOT_COLUMNS` plus ``density_peak`` (highest cell density
        in the area, incidents per km²) and ``density_threshold``; one row per connected
        area of above-threshold cells (edge-sharing cells, polygons by
        :func:`rasterio.features.shapes`), highest peak first. ``density`` is the number of
        incidents in the polygon per km² of it.

    Notes
    -----
    Chainey, Tompson & Uhlig (2008) on hotspot thresholds; Silverman (1986) for the kernel.
    An incident belongs to the area of the raster cell it falls in.
    """
    import pandas as pd
    import shapely
    from rasterio import features
    from scipy import ndimage

    from ..density import check_parameters, kernel_density

    # every parameter is checked before the method may decline for lack of data
    kind, value = parse_threshold(threshold)
    if int(min_count) != min_count or min_count < 1:
        raise ConfigError(f"min_count debe ser un entero positivo; se recibió {min_count!r}")
    check_parameters(
        kernel=kernel, bandwidth=bandwidth, bandwidth_adjust=bandwidth_adjust, cell_size=cell_size
    )
    if isinstance(weights, str) and hasattr(data, "columns") and weights not in data.columns:
        point_weights(data, weights)
    prepared = prepare(data, exclude_at_station=exclude_at_station)
    params: dict[str, Any] = {
        "threshold": threshold,
        "threshold_kind": kind,
        "min_count": int(min_count),
        "min_incidents": int(min_incidents),
        "weights": weights,
    }
    n_used = len(prepared.points)
    if n_used < max(min_incidents, 1):
        return empty(
            METHOD,
            f"only {n_used} incidents after exclusions; the KDE method needs at least "
            f"{min_incidents}",
            parameters={**prepared.info, **params},
            extras=EXTRAS,
            quiet=quiet,
            reason_es=f"solo {n_used} incidentes utilizables; el método KDE requiere al menos "
            f"{min_incidents}",
        )
    try:
        raster = kernel_density(
            prepared.points,
            cell_size=cell_size,
            bandwidth=bandwidth,
            bandwidth_adjust=bandwidth_adjust,
            kernel=kernel,
            weights=weights,
            mask=mask,
            crs=prepared.crs,
            quiet=quiet,
        )
    except InsufficientDataError as exc:
        return empty(
            METHOD,
            f"kernel density cannot be estimated: {exc.message}",
            parameters={**prepared.info, **params},
            extras=EXTRAS,
            quiet=quiet,
            reason_es=f"no se pudo estimar la densidad: {exc.message}",
        )
    density = raster.to_units("per_km2").array
    params["density"] = raster.parameters
    finite = np.isfinite(density)
    peak = float(np.nanmax(density)) if finite.any() else 0.0
    positive = finite & (density > peak * POSITIVE_FRACTION) if peak > 0 else finite & False
    values = density[positive]
    if values.size == 0:
        return empty(
            METHOD,
            "the density is zero everywhere in the mask",
            parameters={**prepared.info, **params},
            extras=EXTRAS,
            quiet=quiet,
            reason_es="la densidad es nula en toda la máscara",
        )
    if kind == "percentile":
        cut = float(np.percentile(values, value))
    elif kind == "mean_multiple":
        cut = float(values.mean() * value)
    else:
        cut = value
    params["density_threshold"] = cut
    announce(f"KDE: umbral {num(cut, 1)} incidentes/km² ({threshold})", quiet)
    above = positive & (density >= cut)
    labels, n_areas = ndimage.label(above)
    # cell of each incident → area label (0 = below the threshold)
    t = raster.transform
    cols = np.floor((prepared.x - t.c) / t.a).astype(np.int64)
    rows = np.floor((prepared.y - t.f) / t.e).astype(np.int64)
    on_grid = (rows >= 0) & (rows < labels.shape[0]) & (cols >= 0) & (cols < labels.shape[1])
    point_label = np.zeros(len(rows), dtype=np.int64)
    point_label[on_grid] = labels[rows[on_grid], cols[on_grid]]
    counts = np.bincount(point_label, minlength=n_areas + 1)
    polygons: dict[int, Any] = {}
    for geom, lab in features.shapes(
        labels.astype(np.int32), mask=above, transform=raster.transform, connectivity=4
    ):
        polygons.setdefault(int(lab), []).append(shapely.geometry.shape(geom))
    keep = [lab for lab in range(1, n_areas + 1) if counts[lab] >= min_count]
    params["n_areas_above_threshold"] = int(n_areas)
    params["n_areas_below_min_count"] = int(n_areas - len(keep))
    if not keep:
        return empty(
            METHOD,
            f"no area above {cut:,.1f} incidents/km² holds {min_count} or more incidents",
            parameters={**prepared.info, **params},
            extras=EXTRAS,
            quiet=quiet,
            reason_es=f"ninguna zona sobre {num(cut, 1)} incidentes/km² reúne {min_count} o más "
            "incidentes",
        )
    peaks = ndimage.maximum(density, labels, index=keep)
    first_cell = ndimage.minimum(np.arange(labels.size).reshape(labels.shape), labels, index=keep)
    order = np.lexsort((np.asarray(first_cell), -counts[keep], -np.asarray(peaks)))
    ordered = [keep[i] for i in order]
    position = np.full(n_areas + 1, -1, dtype=np.int64)
    position[ordered] = np.arange(len(ordered))
    membership = position[point_label]
    geoms = [shapely.union_all(polygons[lab]) for lab in ordered]
    extras = pd.DataFrame(
        {
            "density_peak": np.asarray(peaks, dtype=float)[order],
            "density_threshold": np.full(len(ordered), cut),
        }
    )
    out = describe(prepared, membership, geoms, method=METHOD, extras=extras, parameters=params)
    announce(f"KDE: {num(len(out))} hotspots sobre {num(cut, 1)} incidentes/km²", quiet)
    return out
