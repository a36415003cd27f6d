"""Hotspots chosen by backtest on the analyst's own history (``method="auto"``).

:func:`hotspot_auto` uses only the incidents it is given. It replays their history in rolling
folds, scores every candidate forecast (counts, counts with ties broken by the neighbourhood,
blends of counts and KDE, quartic KDE over 100–800 m, time-weighted "prospective" KDE in the
spirit of Bowers, Johnson & Pease 2004, Gi*) by the incidents it would have captured at the
requested coverages, keeps the best by the rule of :mod:`parsc_geo.evaluation.selection`, and
fits it on all the incidents. The hotspots are the best cells of the evaluation grid
(:mod:`parsc_geo.evaluation.cells`, 100 m by default) up to the largest coverage, ranked;
the choice and every candidate's backtest scores are announced and recorded in
``attrs["parameters"]["auto"]``.

With too little history for folds (:func:`parsc_geo.evaluation.selection.too_little_history`)
it uses the documented fallback rule and says so. Cells without any past incident within the
tie-break radius are never selected: a budget larger than the places with history is left
partly unused rather than filled at random.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .._text import num
from ._common import announce, describe, empty, prepare

if TYPE_CHECKING:
    import geopandas as gpd

METHOD = "auto"
#: Fewest incidents (after exclusions, with a date) with which the method runs.
MIN_INCIDENTS = 30
#: Coverages (fractions of the study area) selected by default: 1 % and 5 %.
DEFAULT_COVERAGES: tuple[float, ...] = (0.01, 0.05)
#: Period the hotspots are for, days ("next month").
DEFAULT_HORIZON_DAYS = 30.0
EXTRAS: dict[str, str] = {
    "cell_id": "object",
    "rank": "int64",
    "score": "float64",
    "coverage_pct": "float64",
}


def hotspot_auto(
    data: gpd.GeoDataFrame,
    *,
    coverage: Any = DEFAULT_COVERAGES,
    horizon_days: float = DEFAULT_HORIZON_DAYS,
    cell_size: float | None = None,
    area: Any = None,
    time_column: str = "occurred_at",
    min_incidents: int = MIN_INCIDENTS,
    quiet: bool = False,
    exclude_at_station: bool = True,
) -> gpd.GeoDataFrame:
    """Select the cells that the backtest-chosen forecast ranks highest.

    Parameters
    ----------
    data
        Incident points with occurrence times (any CRS with units).
    coverage
        Fraction(s) of the study area to select (0.01 = 1 %); the hotspots cover the largest.
    horizon_days
        Length of the period the hotspots are for (the folds' test window).
    cell_size
        Cell side in metres; None: :func:`parsc_geo.evaluation.cells.auto_cell_size`.
    area
        Study area (GeoDataFrame, GeoSeries or shapely geometry in the metric CRS); None: the
        convex hull of the incidents.
    time_column
        Column of occurrence times.
    min_incidents
        Fewest dated incidents to run; fewer, and an empty table is returned with the reason.
    quiet
        Do not announce the choice on stderr.
    exclude_at_station
        Drop incidents stacked on a police station (``at_station``), counting them.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`parsc_geo.schema.HOTSPOT_COLUMNS` plus ``cell_id``, ``rank`` (1 = best),
        ``score`` (the chosen forecast's) and ``coverage_pct`` (the smallest requested
        coverage whose selection holds the cell), one row per selected cell, best first.
        ``attrs["parameters"]`` records the grid, the choice (``auto``: chosen candidate,
        reason, fallback, folds, every candidate's backtest scores) and ``selections`` (cells
        per coverage, keyed by percentage text such as ``"1"``).
    """
    from ..evaluation.backtest import to_days
    from ..evaluation.candidates import History
    from ..evaluation.cells import auto_cell_size, default_study_area, make_cell_grid
    from ..evaluation.metrics import (
        cells_for_coverage,
        check_coverages,
        coverage_key,
        rank_cells,
    )
    from ..evaluation.selection import auto_choice
    from ..grid import area_geometry

    coverages = check_coverages(coverage)
    prepared = prepare(data, exclude_at_station=exclude_at_station)
    points = prepared.points
    if time_column in points.columns:
        t = to_days(points[time_column].reset_index(drop=True))
    else:
        t = np.full(len(points), np.nan)
    dated = np.isfinite(t)
    params: dict[str, Any] = {
        "coverages": list(coverages),
        "horizon_days": float(horizon_days),
        "min_incidents": int(min_incidents),
        "n_without_date": int((~dated).sum()),
    }
    if int(dated.sum()) < min_incidents:
        return empty(
            METHOD,
            f"only {int(dated.sum())} dated incidents; auto needs at least {min_incidents}",
            parameters={**prepared.info, **params},
            extras=EXTRAS,
            quiet=quiet,
            reason_es=f"solo {int(dated.sum())} incidentes con fecha; auto requiere al menos "
            f"{min_incidents}",
        )
    if params["n_without_date"]:
        announce(
            f"auto: {num(params['n_without_date'])} incidentes sin fecha no entran en la "
            "evaluación ni en la selección",
            quiet,
        )
    x, y = prepared.x[dated], prepared.y[dated]
    crs = prepared.crs.to_string()
    polygon = default_study_area(x, y) if area is None else area_geometry(area, crs)[0]
    params["area"] = "convex hull of the incidents" if area is None else "given"
    size = auto_cell_size(polygon.area) if cell_size is None else float(cell_size)
    if cell_size is None:
        announce(f"auto: celdas de {num(size)} m (automático)", quiet)
    grid = make_cell_grid(polygon, size, crs)
    history = History(grid, x, y, t[dated])
    choice = auto_choice(history, coverages, float(horizon_days))
    if choice.fallback:
        announce(f"auto: {choice.reason}", quiet)
    else:
        announce(f"auto: eligió {choice.candidate.label_es()} — {choice.reason}", quiet)
    end = math.floor(float(np.nanmax(t))) + 1.0
    scores = history.fit(choice.candidate, end)
    ks = [cells_for_coverage(grid.n_cells, p) for p in coverages]
    order = rank_cells(scores, grid.tiebreak())
    usable = int(np.count_nonzero(scores > 0))
    k_max = min(max(ks), usable)
    if k_max < max(ks):
        announce(
            f"auto: solo {num(usable)} celdas tienen historial; la selección del "
            f"{coverage_key(max(coverages))} % queda en {num(k_max)} de {num(max(ks))} celdas",
            quiet,
        )
    chosen = order[:k_max]
    position = np.full(grid.n_cells, -1, dtype=np.int64)
    position[chosen] = np.arange(k_max)
    cell_of_point = grid.locate(prepared.x, prepared.y)
    membership = np.where(cell_of_point >= 0, position[np.maximum(cell_of_point, 0)], -1)
    rank = np.arange(1, k_max + 1)
    smallest = np.array(
        [min(p for p, k in zip(coverages, ks, strict=True) if r <= k) for r in rank]
    )
    import pandas as pd

    frame = pd.DataFrame(
        {
            "cell_id": [
                f"r{r}c{c}" for r, c in zip(grid.rows[chosen], grid.cols[chosen], strict=True)
            ],
            "rank": rank.astype(np.int64),
            "score": scores[chosen].astype(float),
            "coverage_pct": (100.0 * smallest).round(6) if k_max else np.zeros(0),
        }
    )
    params.update(
        cell_size=float(size),
        cell_size_auto=cell_size is None,
        n_cells=int(grid.n_cells),
        study_area_km2=float(grid.study_area_km2),
        selections={
            coverage_key(p): int(min(k, k_max)) for p, k in zip(coverages, ks, strict=True)
        },
        auto=choice.as_dict(),
    )
    return describe(
        prepared,
        membership,
        grid.polygons(chosen),
        method=METHOD,
        extras=frame,
        parameters=params,
    )
