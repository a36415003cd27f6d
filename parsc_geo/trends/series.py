"""Data for an emerging-hot-spot map layer: each cell's pattern, colour and time series.

The map layer itself belongs to :mod:`parsc_geo.maps`; this module gives it plain data so that
no statistics are computed while drawing: :func:`cell_series` (one row per cell, EPSG:4326)
and :func:`legend_table` (pattern → Spanish label, English name, colour, number of cells).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from .emerging import TrendsResult

#: Spanish words for the direction of a Mann-Kendall trend.
TREND_WORDS_ES: dict[str, str] = {
    "up": "en aumento",
    "down": "en descenso",
    "none": "sin tendencia significativa",
}


def trend_label(tau: float, p: float, alpha: float) -> str:
    """Return the Spanish reading of a trend: ``"en aumento (τ = 0,42; p = 0,003)"``."""
    word = TREND_WORDS_ES["none"]
    if p <= alpha and tau > 0:
        word = TREND_WORDS_ES["up"]
    elif p <= alpha and tau < 0:
        word = TREND_WORDS_ES["down"]
    tau_text = f"{tau:.2f}".replace(".", ",")
    p_text = f"{p:.3f}".replace(".", ",")
    return f"{word} (τ = {tau_text}; p = {p_text})"


def cell_series(result: TrendsResult, *, include_no_pattern: bool = True) -> gpd.GeoDataFrame:
    """Return one row per cell with everything a map popup or sparkline needs.

    Parameters
    ----------
    result
        From :func:`parsc_geo.trends.emerging.emerging_hotspots`.
    include_no_pattern
        Keep cells without a pattern (False: only cells with one, for lighter pages).

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326: ``cell_id``, ``pattern_key``, ``patron`` (Spanish), ``pattern``
        (English), ``color`` (hex), ``counts`` and ``z`` (lists, one value per period, z
        rounded to 3 decimals and None where undefined), ``periods`` (ISO start dates, shared by
        every row), ``mk_tau``, ``mk_p``, ``trend_es`` (Spanish reading of the z trend),
        ``n_incidents`` and the cell polygon. Rows are in ``cell_id`` order.
    """
    import geopandas as gpd

    from ..settings import CRS_GEOGRAPHIC
    from .patterns import pattern_table

    table = pattern_table(result.parameters["scheme"])
    alpha = float(result.parameters.get("trend_alpha", 0.05))
    keys = result.pattern_key
    keep = np.ones(len(keys), dtype=bool)
    if not include_no_pattern:
        keep = np.array([table[k].code != 0 for k in keys], dtype=bool)
    idx = np.flatnonzero(keep)
    grid = result.cube.grid
    periods = [s.date().isoformat() for s in result.cube.starts]
    z = np.round(result.z, 3)
    frame = gpd.GeoDataFrame(
        {
            "cell_id": grid["cell_id"].to_numpy(np.int64)[idx],
            "pattern_key": keys[idx].astype(object),
            "patron": [table[keys[i]].patron for i in idx],
            "pattern": [table[keys[i]].pattern for i in idx],
            "color": [table[keys[i]].color for i in idx],
            "counts": [result.cube.counts[i].astype(int).tolist() for i in idx],
            "z": [[None if not np.isfinite(v) else float(v) for v in z[i]] for i in idx],
            "periods": [periods] * len(idx),
            "mk_tau": result.trend.tau[idx],
            "mk_p": result.trend.p[idx],
            "trend_es": [trend_label(result.trend.tau[i], result.trend.p[i], alpha) for i in idx],
            "n_incidents": result.cube.counts[idx].sum(axis=1).astype(np.int64),
        },
        geometry=grid.geometry.to_numpy()[idx],
        crs=grid.crs,
    ).to_crs(CRS_GEOGRAPHIC)
    frame.attrs["parameters"] = dict(result.parameters)
    return frame.sort_values("cell_id", kind="stable").reset_index(drop=True)


def legend_table(result: TrendsResult | None = None, *, scheme: str = "arcgis") -> pd.DataFrame:
    """Return the legend of a scheme, in the order of its pattern table.

    Columns: ``pattern_key``, ``patron``, ``pattern``, ``color``, ``code`` and ``n_cells``
    (0 without a result).
    """
    import pandas as pd

    from .patterns import patterns_of

    if result is not None:
        scheme = str(result.parameters["scheme"])
    counts = result.pattern_counts() if result is not None else {}
    rows = [
        {
            "pattern_key": p.key,
            "patron": p.patron,
            "pattern": p.pattern,
            "color": p.color,
            "code": p.code,
            "n_cells": int(counts.get(p.key, 0)),
        }
        for p in patterns_of(scheme)
    ]
    return pd.DataFrame(rows)
