"""Emerging hot spots: space-time Gi* per bin, FDR, Mann-Kendall trends and patterns."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import ConfigError
from .._text import num
from .._validate import check_choice, check_positive
from .cube import SpaceTimeCube, build_cube
from .gistar_st import GLOBAL_WINDOWS, space_time_gistar
from .mannkendall import MannKendall, mann_kendall
from .patterns import SCHEMES, classify_arcgis, classify_sfhotspot, pattern_table

if TYPE_CHECKING:
    from collections.abc import Sequence

    import geopandas as gpd
    import pandas as pd

    from ..partitions import Partition
    from .periods import PeriodSpec

#: Neighbourhood time step (previous periods) by default, as ArcGIS.
DEFAULT_K = 1
#: Neighbours of the distance band: cells whose centres are within this distance.
NEIGHBOURS: tuple[str, ...] = ("distance", "queen")


@dataclass
class TrendsResult:
    """A cube with its space-time Gi*, trends and the pattern of every cell.

    Attributes
    ----------
    cube
        The space-time cube.
    z, p, p_fdr
        Gi* z-score, two-sided p-value and Benjamini–Hochberg adjusted p-value per bin,
        shape (cells, periods).
    significant
        Bins whose (adjusted, if ``fdr``) p-value is ≤ ``alpha``.
    trend
        Mann-Kendall test of each cell's z series (the trend the classification uses).
    count_trend
        Mann-Kendall test of each cell's series of counts (or weighted counts).
    pattern_key
        Pattern key of each cell (see :mod:`parsc_geo.trends.patterns`).
    parameters
        Every choice (cube and analysis).
    """

    cube: SpaceTimeCube
    z: np.ndarray
    p: np.ndarray
    p_fdr: np.ndarray
    significant: np.ndarray
    trend: MannKendall
    count_trend: MannKendall
    pattern_key: np.ndarray
    parameters: dict[str, Any] = field(default_factory=dict)

    def bins(self) -> pd.DataFrame:
        """Return the bins with their Gi* results, one row per bin, by cell then period.

        Columns of :meth:`SpaceTimeCube.to_frame` plus ``z``, ``p``, ``p_fdr``,
        ``significant`` and ``gi_class``.
        """
        from ..hotspots.gistar import classify

        frame = self.cube.to_frame()
        used = self.p_fdr if self.parameters.get("fdr", True) else self.p
        frame["z"] = self.z.ravel()
        frame["p"] = self.p.ravel()
        frame["p_fdr"] = self.p_fdr.ravel()
        frame["significant"] = self.significant.ravel()
        frame["gi_class"] = classify(self.z.ravel(), used.ravel())
        return frame

    def cells(self) -> gpd.GeoDataFrame:
        """Return one row per cell with its pattern and trends.

        Columns: ``cell_id``, ``patron``, ``pattern``, ``pattern_key``, ``mk_tau``, ``mk_p``,
        ``mk_z`` (trend of the z series), ``count_tau``, ``count_p`` (trend of the counts),
        ``n_hot``, ``n_cold``, ``n_incidents``, ``last_z``, the lattice centre ``x``, ``y``
        and the cell geometry (metric CRS).
        """
        import geopandas as gpd

        table = pattern_table(self.parameters["scheme"])
        keys = self.pattern_key
        hot = self.significant & (self.z > 0)
        cold = self.significant & (self.z < 0)
        grid = self.cube.grid
        frame = gpd.GeoDataFrame(
            {
                "cell_id": grid["cell_id"].to_numpy(np.int64),
                "patron": [table[k].patron for k in keys],
                "pattern": [table[k].pattern for k in keys],
                "pattern_key": keys.astype(object),
                "mk_tau": self.trend.tau,
                "mk_p": self.trend.p,
                "mk_z": self.trend.z,
                "count_tau": self.count_trend.tau,
                "count_p": self.count_trend.p,
                "n_hot": hot.sum(axis=1).astype(np.int64),
                "n_cold": cold.sum(axis=1).astype(np.int64),
                "n_incidents": self.cube.counts.sum(axis=1).astype(np.int64),
                "last_z": self.z[:, -1],
                "x": grid["x"].to_numpy(float),
                "y": grid["y"].to_numpy(float),
            },
            geometry=grid.geometry.to_numpy(),
            crs=grid.crs,
        )
        frame.attrs["parameters"] = dict(self.parameters)
        return frame

    def pattern_counts(self) -> dict[str, int]:
        """Return the number of cells of each pattern key (every key of the scheme)."""
        table = pattern_table(self.parameters["scheme"])
        return {key: int((self.pattern_key == key).sum()) for key in table}


def analyse_cube(
    cube: SpaceTimeCube,
    *,
    neighbours: str = "distance",
    distance: float | None = None,
    k: int = DEFAULT_K,
    window: str = "cube",
    alpha: float = 0.05,
    fdr: bool = True,
    trend_alpha: float = 0.05,
    scheme: str = "arcgis",
    quiet: bool = False,
) -> TrendsResult:
    """Run the space-time Gi*, the trend tests and the classification on a cube.

    Parameters
    ----------
    cube
        From :func:`parsc_geo.trends.cube.build_cube` (or rebuilt from a written cube).
    neighbours
        ``"distance"``: cells whose centres are within ``distance``; ``"queen"``: cells
        sharing an edge or corner.
    distance
        Neighbourhood distance in metres; None: the cell size × √2 (the surrounding ring of
        cells; announced).
    k
        Previous periods in the neighbourhood (ArcGIS's *Neighborhood Time Step*, default 1).
    window
        Global window of the mean and variance: ``"cube"`` (ArcGIS's default), ``"period"``
        or ``"window"`` (see :mod:`parsc_geo.trends.gistar_st`).
    alpha
        Significance level of the bins (after the FDR adjustment when ``fdr``).
    fdr
        Adjust the p-values of all bins of the cube together (Benjamini & Hochberg 1995).
    trend_alpha
        Significance level of the Mann-Kendall trend (intensifying, diminishing).
    scheme
        ``"arcgis"`` (17 patterns) or ``"sfhotspot"`` (``hotspot_classify`` categories).
    quiet
        Do not announce automatic choices.

    Returns
    -------
    TrendsResult
    """
    from ..grid import contiguity_weights, distance_band_weights
    from ..hotspots.gistar import fdr_bh, two_sided_p
    from .cube import _announce

    check_choice("neighbours", neighbours, NEIGHBOURS)
    check_choice("window", window, GLOBAL_WINDOWS)
    check_choice("scheme", scheme, SCHEMES)
    check_positive("distance", distance)
    for name, value in (("alpha", alpha), ("trend_alpha", trend_alpha)):
        if not 0 < value < 1:
            raise ConfigError(f"{name} debe estar entre 0 y 1; se recibió {value!r}")
    if int(k) != k or k < 0:
        raise ConfigError(f"k debe ser un entero ≥ 0; se recibió {k!r}")
    n_cells, n_periods = cube.shape
    if k >= n_periods:
        raise ConfigError(
            f"k={k} periodos previos no cabe en un cubo de {n_periods} periodos",
            hint="use un k menor",
        )
    if n_cells < 2:
        raise ConfigError(f"el cubo tiene {n_cells} celda(s); Gi* necesita varias")
    cell_size = float(cube.grid.attrs.get("parameters", {}).get("cell_size", 0.0))
    params = dict(cube.parameters)
    auto_distance = neighbours == "distance" and distance is None
    if auto_distance:
        if cell_size <= 0:
            raise ConfigError("indique distance: la cuadrícula no registra su cell_size")
        distance = cell_size * math.sqrt(2.0)
        _announce(f"Tendencias: vecindad de {num(distance, 1)} m (celda × √2)", quiet)
    _announce(
        f"Tendencias: vecindad temporal de {k} periodo{'s' if k != 1 else ''} previo"
        f"{'s' if k != 1 else ''} (k; ArcGIS usa 1 por defecto)",
        quiet,
    )
    if neighbours == "queen":
        w = contiguity_weights(cube.grid)
    else:
        w = distance_band_weights(cube.grid, float(distance or 0.0))
    z = space_time_gistar(cube.values, w, k=int(k), window=window)
    p = two_sided_p(z)
    p_fdr = fdr_bh(p.ravel()).reshape(p.shape)
    used = p_fdr if fdr else p
    significant = np.isfinite(used) & (used <= alpha)
    z_filled = np.where(np.isfinite(z), z, 0.0)
    trend = mann_kendall(z_filled)
    count_trend = mann_kendall(cube.values)
    if scheme == "arcgis":
        keys = classify_arcgis(z_filled, significant, trend.tau, trend.p, trend_alpha=trend_alpha)
    else:
        keys = classify_sfhotspot(z_filled, significant)
    params.update(
        neighbours=neighbours,
        distance=float(distance) if neighbours == "distance" and distance else None,
        distance_auto=auto_distance,
        k=int(k),
        window=window,
        alpha=float(alpha),
        fdr=bool(fdr),
        trend_alpha=float(trend_alpha),
        scheme=scheme,
        n_neighbours_mean=float(np.asarray(w.sum(axis=1)).mean()),
        n_bins_undefined=int((~np.isfinite(z)).sum()),
        n_bins_significant_hot=int((significant & (z_filled > 0)).sum()),
        n_bins_significant_cold=int((significant & (z_filled < 0)).sum()),
    )
    result = TrendsResult(
        cube=cube,
        z=z,
        p=p,
        p_fdr=p_fdr,
        significant=significant,
        trend=trend,
        count_trend=count_trend,
        pattern_key=keys,
        parameters=params,
    )
    params["pattern_counts"] = result.pattern_counts()
    return result


def emerging_hotspots(
    data: gpd.GeoDataFrame | Sequence[Partition],
    *,
    cell_size: float | None = None,
    grid_shape: str = "square",
    period: str | PeriodSpec | None = None,
    align: str = "end",
    first: Any = None,
    last: Any = None,
    cells: str = "data",
    area: Any = None,
    grid: gpd.GeoDataFrame | None = None,
    weights: str | None = None,
    neighbours: str = "distance",
    distance: float | None = None,
    k: int = DEFAULT_K,
    window: str = "cube",
    alpha: float = 0.05,
    fdr: bool = True,
    trend_alpha: float = 0.05,
    scheme: str = "arcgis",
    exclude_at_station: bool = True,
    quiet: bool = False,
    pool: Any = 1,
) -> TrendsResult:
    """Build the space-time cube of ``data`` and classify its cells (emerging hot spots).

    Parameters are those of :func:`parsc_geo.trends.cube.build_cube` (the cube: ``data`` is
    the incidents, or the partitions holding them, then counted by tasks of ``pool``) and
    :func:`analyse_cube` (the analysis, in this process, of the cube). The automatic area is
    the incidents' convex hull buffered by the neighbourhood distance.

    Returns
    -------
    TrendsResult
        From partitions, the table's result; this process holds the cube, never the
        incidents.

    Notes
    -----
    Getis & Ord (1992); Ord & Getis (1995); Mann (1945); Kendall (1975); Benjamini &
    Hochberg (1995); Esri, "How Emerging Hot Spot Analysis works" (ArcGIS Pro); sfhotspot
    ``hotspot_classify`` (Ashby 2021).
    """
    cube = build_cube(
        data,
        cell_size=cell_size,
        grid_shape=grid_shape,
        period=period,
        align=align,
        first=first,
        last=last,
        cells=cells,
        area=area,
        grid=grid,
        margin=distance,
        weights=weights,
        exclude_at_station=exclude_at_station,
        quiet=quiet,
        pool=pool,
    )
    return analyse_cube(
        cube,
        neighbours=neighbours,
        distance=distance,
        k=k,
        window=window,
        alpha=alpha,
        fdr=fdr,
        trend_alpha=trend_alpha,
        scheme=scheme,
        quiet=quiet,
    )
