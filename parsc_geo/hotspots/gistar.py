"""Getis-Ord Gi* hot and cold spots on a square or hexagonal grid, with FDR-corrected p-values."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import ConfigError
from .._text import num
from .._validate import check_choice, check_positive
from ..grid import auto_cell_size, extent_size, points_hull
from ._common import announce, describe, empty, point_weights, prepare

if TYPE_CHECKING:
    import geopandas as gpd
    import scipy.sparse as sp

METHOD = "gistar"

#: Fewest incidents (after exclusions) with which Gi* runs; below it the method declines.
MIN_INCIDENTS = 30
#: Fewest grid cells for the normal approximation of Gi* to be meaningful.
MIN_CELLS = 30
#: Confidence levels of the classes, most confident first: (label suffix, largest p-value).
CONFIDENCE_LEVELS: tuple[tuple[str, float], ...] = (("99", 0.01), ("95", 0.05), ("90", 0.10))
GI_CLASSES: tuple[str, ...] = (
    "caliente_99",
    "caliente_95",
    "caliente_90",
    "frio_90",
    "frio_95",
    "frio_99",
    "no_significativo",
)
#: What :func:`hotspot_gistar` returns: hot cells, hot and cold cells, every cell, or one row
#: per hot zone (contiguous hot cells merged, the hotspots a ranking counts).
OUTPUTS: tuple[str, ...] = ("hot", "significant", "all", "zones")
NEIGHBOURS: tuple[str, ...] = ("distance", "queen")
EXTRAS: dict[str, str] = {
    "gi_z": "float64",
    "gi_p": "float64",
    "gi_p_fdr": "float64",
    "gi_class": "object",
    "zone_id": "Int64",
}
#: Extra columns of the zones (``output="zones"``).
ZONE_EXTRAS: dict[str, str] = {
    "zone_id": "Int64",
    "n_cells": "int64",
    "gi_z": "float64",
    "gi_class": "object",
}


def hot_zones(hot: np.ndarray, w: sp.spmatrix | sp.sparray, z: np.ndarray) -> np.ndarray:
    """Return the zone number of every hot cell: contiguous hot cells share one zone.

    Parameters
    ----------
    hot
        Boolean per cell: significant hot cell.
    w
        Contiguity between cells (any non-zero entry joins two cells).
    z
        Gi* z-score per cell (orders the zones: the zone with the highest z is 1; ties by
        the first cell in grid order).

    Returns
    -------
    numpy.ndarray
        Zone number per cell (int64), 0 for cells that are not hot.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> w = sp.csr_matrix(np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]))
    >>> hot_zones(np.array([True, True, False, True]), w, np.array([2.0, 3.0, 0.0, 4.0])).tolist()
    [2, 2, 0, 1]
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    hot = np.asarray(hot, dtype=bool)
    out = np.zeros(hot.shape[0], dtype=np.int64)
    idx = np.flatnonzero(hot)
    if idx.size == 0:
        return out
    sub = sp.csr_matrix(w)[idx][:, idx]
    _, labels = connected_components(sub, directed=False)
    zs = np.where(np.isfinite(z[idx]), z[idx], -np.inf)
    n_zones = int(labels.max()) + 1
    best = np.full(n_zones, -np.inf)
    np.maximum.at(best, labels, zs)
    first = np.full(n_zones, idx.size, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(idx.size))
    rank = np.empty(n_zones, dtype=np.int64)
    rank[np.lexsort((first, -best))] = np.arange(1, n_zones + 1)
    out[idx] = rank[labels]
    return out


def gi_star_z(y: np.ndarray, w: sp.spmatrix | sp.sparray) -> np.ndarray:
    """Return the Getis-Ord Gi* z-score of every cell.

    Parameters
    ----------
    y
        Value per cell (counts or weighted counts), length n.
    w
        n × n sparse spatial weights between distinct cells (the diagonal is ignored and
        replaced by a self-weight of 1, which makes the statistic Gi*).

    Returns
    -------
    numpy.ndarray
        z-scores; NaN where the variance is zero (every cell a neighbour of every other, or
        constant ``y``).

    Notes
    -----
    With ``W*`` = ``w`` plus the identity, ``x̄`` and ``S`` the mean and population standard
    deviation of ``y``, ``Wᵢ = Σⱼ w*ᵢⱼ`` and ``S₁ᵢ = Σⱼ w*ᵢⱼ²``:

    ``Gᵢ* = (Σⱼ w*ᵢⱼ yⱼ − x̄ Wᵢ) / (S √((n S₁ᵢ − Wᵢ²) / (n − 1)))``

    (Getis & Ord 1992; Ord & Getis 1995, eq. 14). For binary weights it equals PySAL esda's
    ``G_Local(y, w, transform="B", star=True).Zs``. Vectorised over the CSR arrays.
    """
    import scipy.sparse as sp

    y = np.asarray(y, dtype=float).ravel()
    n = y.shape[0]
    w = sp.csr_matrix(w)
    if w.shape != (n, n):
        raise ConfigError(
            f"weights debe ser {n} × {n} para coincidir con y; se recibió "
            f"{w.shape[0]} × {w.shape[1]}"
        )
    # Work on the CSR arrays directly: drop any stored diagonal, then add the self-weight 1.
    rows = np.repeat(np.arange(n), np.diff(w.indptr))
    data = np.where(w.indices == rows, 0.0, w.data.astype(float, copy=False))
    wi = np.bincount(rows, weights=data, minlength=n) + 1.0
    s1i = np.bincount(rows, weights=data * data, minlength=n) + 1.0
    lag = np.bincount(rows, weights=data * y[w.indices], minlength=n) + y
    mean = y.mean()
    s = math.sqrt(max(float((y * y).mean() - mean * mean), 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        denominator = s * np.sqrt((n * s1i - wi * wi) / (n - 1))
        z = (lag - mean * wi) / denominator
    z[~np.isfinite(z)] = np.nan
    return np.asarray(z)


def two_sided_p(z: np.ndarray) -> np.ndarray:
    """Return two-sided p-values of z-scores under the standard normal approximation."""
    from scipy.special import ndtr

    z = np.asarray(z, dtype=float)
    return np.asarray(2.0 * ndtr(-np.abs(z)))


def fdr_bh(p: np.ndarray) -> np.ndarray:
    """Return Benjamini–Hochberg adjusted p-values (NaN kept as NaN, excluded from the count).

    Notes
    -----
    ``p̃₍ᵢ₎ = minₖ≥ᵢ min(1, m p₍ₖ₎ / k)`` over the m sorted finite p-values (Benjamini &
    Hochberg 1995). Equal to ``scipy.stats.false_discovery_control(p, method="bh")``.
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    values = p[finite]
    m = values.size
    if m == 0:
        return out
    order = np.argsort(values, kind="stable")
    ranked = values[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    out[finite] = result
    return out


def classify(z: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Return the class of each cell: caliente/frio at 99, 95 or 90 % confidence, or not.

    A cell is ``caliente_99`` when ``z > 0`` and ``p ≤ 0.01``, ``caliente_95`` when
    ``p ≤ 0.05``, ``caliente_90`` when ``p ≤ 0.10`` (``frio_*`` likewise with ``z < 0``),
    otherwise ``no_significativo`` (also for NaN).
    """
    z = np.asarray(z, dtype=float)
    p = np.asarray(p, dtype=float)
    out = np.full(z.shape, "no_significativo", dtype=object)
    for suffix, level in reversed(CONFIDENCE_LEVELS):
        sig = np.isfinite(p) & (p <= level)
        out[sig & (z > 0)] = f"caliente_{suffix}"
        out[sig & (z < 0)] = f"frio_{suffix}"
    return out


def hotspot_gistar(
    data: gpd.GeoDataFrame,
    *,
    cell_size: float | None = None,
    grid_shape: str = "square",
    area: Any = None,
    grid: gpd.GeoDataFrame | None = None,
    neighbours: str = "distance",
    distance: float | None = None,
    alpha: float = 0.05,
    fdr: bool = True,
    output: str = "hot",
    weights: str | None = None,
    min_incidents: int = MIN_INCIDENTS,
    quiet: bool = False,
    exclude_at_station: bool = True,
) -> gpd.GeoDataFrame:
    """Find hot (and cold) spots with the Getis-Ord Gi* statistic on a grid of counts.

    Parameters
    ----------
    data
        Incident points (any CRS with units; analysed in the metric CRS).
    cell_size
        Cell size in metres (side of squares, centre spacing of hexagons). None: the shorter
        side of the incidents' extent / 50, at least 50 m, rounded to 10 m (announced).
    grid_shape
        ``"square"`` or ``"hex"``.
    area
        Study area (GeoDataFrame, GeoSeries, or shapely geometry in the metric CRS). None: the
        convex hull of the incidents buffered by the neighbourhood distance. The grid is
        clipped to it; incidents outside are dropped (counted in the parameters).
    grid
        A ready grid from :func:`parsc_geo.grid.make_grid` (overrides ``cell_size``,
        ``grid_shape`` and ``area``).
    neighbours
        ``"distance"``: fixed distance band, binary weights between cells whose centres are at
        most ``distance`` apart; ``"queen"``: cells sharing an edge or corner.
    distance
        Distance band in metres; None: ``cell_size·√2`` (the 8 surrounding squares, the 6
        surrounding hexagons).
    alpha
        Significance level: cells with (FDR-adjusted if ``fdr``) p ≤ ``alpha`` are hot spots.
    fdr
        Adjust p-values with the Benjamini–Hochberg false discovery rate.
    output
        ``"hot"`` (default: significant hot cells only), ``"significant"`` (hot and cold
        cells) or ``"all"`` (every cell of the grid, for maps).
    weights
        None to count incidents, or a column name (e.g. ``"harm"``) to sum it per cell.
    min_incidents
        Fewest incidents to run; fewer, and an empty table is returned with the reason.
    quiet
        Do not announce automatic choices and declines on stderr.
    exclude_at_station
        Drop incidents stacked on a police station (``at_station``), counting them.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`parsc_geo.schema.HOTSPOT_COLUMNS` plus ``gi_z``, ``gi_p`` (two-sided, normal
        approximation), ``gi_p_fdr`` (BH-adjusted; equals ``gi_p`` when ``fdr`` is False) and
        ``gi_class`` (see :func:`classify`, computed from ``gi_p_fdr``) and ``zone_id`` (the
        hot zone of a significant hot cell, see :func:`hot_zones`; null otherwise), one row
        per cell, sorted by decreasing ``gi_z`` then north-to-south, west-to-east;
        ``attrs["parameters"]`` records every choice, and ``n_hot_zones`` and
        ``n_hot_cells``: a hotspot is a zone of contiguous hot cells, not a cell.

    Notes
    -----
    Getis & Ord (1992); Ord & Getis (1995); Benjamini & Hochberg (1995). The z-scores equal
    PySAL esda ``G_Local(star=True, transform="B")`` on the same grid and weights. Hot cells
    that share an edge or a corner (queen contiguity of the lattice, whatever the neighbourhood
    of the statistic) belong to one zone.
    """
    frames = _gistar(
        data,
        outputs=(output,),
        cell_size=cell_size,
        grid_shape=grid_shape,
        area=area,
        grid=grid,
        neighbours=neighbours,
        distance=distance,
        alpha=alpha,
        fdr=fdr,
        weights=weights,
        min_incidents=min_incidents,
        quiet=quiet,
        exclude_at_station=exclude_at_station,
    )
    return frames[output]


def gistar_cells_and_zones(
    data: gpd.GeoDataFrame, *, cells: str = "significant", **options: Any
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return Gi* cells and hot zones from one computation.

    Parameters
    ----------
    data
        Incident points.
    cells
        Which cells: ``"hot"``, ``"significant"`` or ``"all"``.
    **options
        Any other keyword of :func:`hotspot_gistar` (not ``output``).

    Returns
    -------
    tuple of geopandas.GeoDataFrame
        The cells, as ``hotspot_gistar(output=cells)``, and the zones, as
        ``hotspot_gistar(output="zones")``.
    """
    check_choice("cells", cells, OUTPUTS[:3])
    frames = _gistar(data, outputs=(cells, "zones"), **options)
    return frames[cells], frames["zones"]


def _gistar(
    data: gpd.GeoDataFrame,
    *,
    outputs: tuple[str, ...],
    cell_size: float | None = None,
    grid_shape: str = "square",
    area: Any = None,
    grid: gpd.GeoDataFrame | None = None,
    neighbours: str = "distance",
    distance: float | None = None,
    alpha: float = 0.05,
    fdr: bool = True,
    weights: str | None = None,
    min_incidents: int = MIN_INCIDENTS,
    quiet: bool = False,
    exclude_at_station: bool = True,
) -> dict[str, gpd.GeoDataFrame]:
    """Compute Gi* once and return each of ``outputs`` (see :func:`hotspot_gistar`)."""
    import shapely

    from ..grid import (
        GRID_SHAPES,
        area_geometry,
        contiguity_weights,
        count_points,
        distance_band_weights,
        make_grid,
    )

    check_choice("grid_shape", grid_shape, GRID_SHAPES)
    check_choice("neighbours", neighbours, NEIGHBOURS)
    for output in outputs:
        check_choice("output", output, OUTPUTS)
    check_positive("cell_size", cell_size)
    check_positive("distance", distance)
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha debe estar entre 0 y 1; se recibió {alpha!r}")
    if isinstance(weights, str) and hasattr(data, "columns") and weights not in data.columns:
        point_weights(data, weights)  # a bad parameter is reported before a lack of data
    prepared = prepare(data, exclude_at_station=exclude_at_station, metric=_grid_crs(grid))
    params: dict[str, Any] = {
        "neighbours": neighbours,
        "alpha": float(alpha),
        "fdr": bool(fdr),
        "output": outputs[0],
        "weights": weights,
        "min_incidents": int(min_incidents),
    }
    n_used = len(prepared.points)
    if n_used < min_incidents:
        return _declined(
            outputs,
            f"only {n_used} incidents after exclusions; Gi* needs at least {min_incidents}",
            parameters={**prepared.info, **params},
            extras=EXTRAS,
            quiet=quiet,
            reason_es=f"solo {n_used} incidentes utilizables; Gi* requiere al menos "
            f"{min_incidents}",
        )
    if grid is not None:
        gparams = grid.attrs.get("parameters", {})
        if "cell_size" not in gparams:
            raise ConfigError("grid debe provenir de parsc_geo.grid.make_grid (faltan los attrs)")
        cell_size = float(gparams["cell_size"])
        grid_shape = str(gparams["shape"])
        params.update(cell_size=cell_size, cell_size_auto=False, area="grid given")
    else:
        auto = cell_size is None
        if cell_size is None:
            choice = auto_cell_size(*extent_size(prepared.x, prepared.y), purpose="counts")
            cell_size = choice.size
            announce(f"Gi*: celda de {num(cell_size)} m ({choice.rule_es})", quiet)
            params.update(cell_size_rule=choice.rule)
        params.update(cell_size=float(cell_size), cell_size_auto=auto)
    auto_distance = distance is None and neighbours == "distance"
    if neighbours == "distance" and distance is None:
        distance = float(cell_size) * math.sqrt(2.0)
        announce(f"Gi*: banda de distancia {num(distance, 1)} m (celda × √2)", quiet)
    params.update(
        grid_shape=grid_shape,
        distance=float(distance) if neighbours == "distance" and distance else None,
        distance_auto=auto_distance,
    )
    if grid is None:
        if area is None:
            hull = points_hull(prepared.x, prepared.y)
            area = shapely.buffer(hull, max(float(cell_size), float(distance or cell_size)))
            params["area"] = "convex hull of the incidents + neighbourhood distance"
        else:
            params["area"] = "given"
        grid = make_grid(area, float(cell_size), shape=grid_shape, crs=prepared.crs, quiet=quiet)
    cell_of = count_points(grid, prepared.x, prepared.y)
    if params["area"] == "given" and (cell_of >= 0).any():
        # A point in a lattice cell that is only partly inside the area may itself be outside.
        area_geom, _ = area_geometry(area, prepared.crs)
        shapely.prepare(area_geom)
        outside_geom = ~shapely.intersects_xy(area_geom, prepared.x, prepared.y)
        cell_of[outside_geom & (cell_of >= 0)] = -1
    params["n_outside_area"] = int((cell_of < 0).sum())
    params["n_cells"] = len(grid)
    if len(grid) < MIN_CELLS:
        return _declined(
            outputs,
            f"the grid has only {len(grid)} cells; Gi* needs at least {MIN_CELLS} "
            "(use a smaller cell_size or a larger area)",
            parameters={**prepared.info, **params},
            extras=EXTRAS,
            quiet=quiet,
            reason_es=f"la cuadrícula tiene solo {len(grid)} celdas; Gi* requiere al menos "
            f"{MIN_CELLS}",
        )
    w_points = point_weights(prepared.points, weights)
    inside = cell_of >= 0
    y = np.bincount(cell_of[inside], weights=w_points[inside], minlength=len(grid))
    if np.all(y == y[0]):
        return _declined(
            outputs,
            "every cell has the same count, so nothing stands out",
            parameters={**prepared.info, **params},
            extras=EXTRAS,
            quiet=quiet,
            reason_es="todas las celdas tienen el mismo conteo: ninguna destaca",
        )
    if neighbours == "queen" or distance is None:
        w = contiguity_weights(grid)
    else:
        w = distance_band_weights(grid, float(distance))
    z = gi_star_z(y, w)
    p = two_sided_p(z)
    p_used = fdr_bh(p) if fdr else p
    classes = classify(z, p_used)
    params["n_neighbours_mean"] = float(np.asarray(w.sum(axis=1)).mean())
    params["class_counts"] = {c: int((classes == c).sum()) for c in GI_CLASSES}
    significant = np.isfinite(p_used) & (p_used <= alpha)
    zones = hot_zones(significant & (z > 0), contiguity_weights(grid), z)
    params["n_hot_cells"] = int(np.count_nonzero(zones))
    params["n_hot_zones"] = int(zones.max()) if zones.size else 0
    frames: dict[str, gpd.GeoDataFrame] = {}
    for output in outputs:
        if output == "zones":
            frames[output] = _zones(prepared, grid, cell_of, zones, z, classes, params, quiet)
            continue
        frames[output] = _cells(
            prepared,
            grid,
            cell_of,
            zones,
            z,
            p,
            p_used,
            classes,
            params,
            {
                "output": output,
                "significant": significant,
                "alpha": alpha,
                "inside": inside,
                "quiet": quiet,
            },
        )
    return frames


def _grid_crs(grid: gpd.GeoDataFrame | None) -> Any:
    return None if grid is None else grid.crs


def _declined(
    outputs: tuple[str, ...],
    reason: str,
    *,
    parameters: dict[str, Any],
    extras: dict[str, str],
    quiet: bool,
    reason_es: str,
) -> dict[str, gpd.GeoDataFrame]:
    """Return an empty table for each output, the reason announced once."""
    return {
        output: empty(
            METHOD,
            reason,
            parameters={**parameters, "output": output},
            extras=ZONE_EXTRAS if output == "zones" else extras,
            quiet=quiet or i > 0,
            reason_es=reason_es,
        )
        for i, output in enumerate(outputs)
    }


def _cells(
    prepared: Any,
    grid: gpd.GeoDataFrame,
    cell_of: np.ndarray,
    zones: np.ndarray,
    z: np.ndarray,
    p: np.ndarray,
    p_used: np.ndarray,
    classes: np.ndarray,
    params: dict[str, Any],
    how: dict[str, Any],
) -> gpd.GeoDataFrame:
    """Return the cells of one output (hot, significant, all), one row per cell."""
    import pandas as pd

    output, significant, alpha = how["output"], how["significant"], how["alpha"]
    inside, quiet = how["inside"], how["quiet"]
    if output == "hot":
        selected = significant & (z > 0)
    elif output == "significant":
        selected = significant
    else:
        selected = np.ones(len(grid), dtype=bool)
    idx = np.flatnonzero(selected)
    rows = grid["row"].to_numpy()[idx]
    cols = grid["col"].to_numpy()[idx]
    zsel = np.where(np.isfinite(z[idx]), z[idx], -np.inf)
    order = idx[np.lexsort((cols, rows, -zsel))]
    if len(order) == 0:
        announce(f"Gi*: ninguna celda es significativa con alfa={alpha} ({output})", quiet)
    position = np.full(len(grid), -1, dtype=np.int64)
    position[order] = np.arange(len(order))
    membership = np.where(inside, position[np.where(inside, cell_of, 0)], -1)
    extras = pd.DataFrame(
        {
            "gi_z": z[order],
            "gi_p": p[order],
            "gi_p_fdr": p_used[order],
            "gi_class": classes[order].astype(object),
            "zone_id": pd.array(np.where(zones[order] > 0, zones[order], 0), dtype="Int64"),
        }
    )
    extras.loc[zones[order] == 0, "zone_id"] = pd.NA
    out = describe(
        prepared,
        membership,
        np.asarray(grid.geometry.values)[order],
        method=METHOD,
        extras=extras,
        parameters={**params, "output": output},
    )
    announce(
        f"Gi*: {num(params['n_hot_zones'])} zona(s) caliente(s) de {num(params['n_hot_cells'])}"
        f" celda(s) contiguas (alfa {alpha:g}) de {num(len(grid))}; {num(len(out))} filas"
        f" devueltas ({output})",
        quiet,
    )
    return out


def _zones(
    prepared: Any,
    grid: gpd.GeoDataFrame,
    cell_of: np.ndarray,
    zones: np.ndarray,
    z: np.ndarray,
    classes: np.ndarray,
    params: dict[str, Any],
    quiet: bool,
) -> gpd.GeoDataFrame:
    """Return one row per hot zone: its cells merged, its incidents counted once.

    A zone's incidents are those of its cells (the incidents a cell counted), so ``n`` is the
    sum of its cells' counts; ``gi_z`` and ``gi_class`` are those of its hottest cell, and the
    zones are numbered as :func:`hot_zones` numbers them (1 = highest z).
    """
    import pandas as pd
    import shapely

    n_zones = int(zones.max()) if zones.size else 0
    if n_zones == 0:
        return _declined(
            ("zones",),
            "no significant hot cell, so no hot zone",
            parameters={**prepared.info, **params},
            extras=EXTRAS,
            quiet=True,
            reason_es="ninguna celda caliente significativa: ninguna zona caliente",
        )["zones"]
    geoms = np.asarray(grid.geometry.values)
    member = np.flatnonzero(zones > 0)
    label = zones[member] - 1
    # The hottest cell of each zone (highest z; ties to the first cell in grid order).
    zs = np.where(np.isfinite(z[member]), z[member], -np.inf)
    order = np.lexsort((member, -zs, label))
    first = order[np.r_[True, label[order][1:] != label[order][:-1]]]
    best = member[first]
    polygons = [shapely.union_all(geoms[member[label == k]]) for k in range(n_zones)]
    inside = cell_of >= 0
    membership = np.full(len(cell_of), -1, dtype=np.int64)
    cell_zone = zones[np.where(inside, cell_of, 0)]
    hit = inside & (cell_zone > 0)
    membership[hit] = cell_zone[hit] - 1
    extras = pd.DataFrame(
        {
            "zone_id": pd.array(np.arange(1, n_zones + 1), dtype="Int64"),
            "n_cells": np.bincount(label, minlength=n_zones).astype(np.int64),
            "gi_z": z[best],
            "gi_class": classes[best].astype(object),
        }
    )
    out = describe(
        prepared,
        membership,
        polygons,
        method=METHOD,
        extras=extras,
        parameters={**params, "output": "zones"},
    )
    announce(f"Gi*: {num(n_zones)} zona(s) caliente(s) devuelta(s) (zones)", quiet)
    return out
