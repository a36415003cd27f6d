"""The methods ``evaluate`` compares, each turned into a score per cell of the evaluation grid.

``auto``
    The backtest-chosen candidate (:func:`parsc_geo.evaluation.selection.auto_choice`), chosen
    on the training incidents only, with the test window's length as horizon.
``counts``
    Training-period counts per cell (naive baseline, always reported).
``counts_last``
    Counts of the last period of the training data as long as the test window (naive
    baseline, always reported).
``kde``
    The project's default map: quartic KDE with the automatic bandwidth
    (:data:`parsc_geo.bandwidth.DEFAULT_RULE`, ArcGIS's Silverman rule) on the training
    incidents, as mass per cell.
``gistar``
    Gi* z-scores of the training counts (queen neighbours); cells ranked by z, so a budget
    smaller than the significant area takes the most significant cells first.
``hdbscan``, ``dbscan``
    The project's cluster hotspots (:mod:`parsc_geo.hotspots.clusters`, automatic parameters)
    on the training incidents. A cell belongs to the cluster whose outline contains its centre;
    clusters are taken from the densest (incidents per km²) down and the cells of one cluster
    tie (the method does not rank places inside a cluster). Cells outside every cluster tie
    last.
any candidate name
    ``kde_150``, ``blend_300_0.2``, ``tiebreak_800``, ``pkde_150_30d`` … (see
    :mod:`parsc_geo.evaluation.candidates`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import ConfigError
from .candidates import Candidate, History, parse_candidate

if TYPE_CHECKING:
    import geopandas as gpd

#: Naive baselines, always evaluated.
BASELINES: tuple[str, ...] = ("counts", "counts_last")
#: Methods with their own meaning (any candidate name is accepted as well).
NAMED_METHODS: tuple[str, ...] = ("auto", *BASELINES, "kde", "gistar", "hdbscan", "dbscan")
#: Methods evaluated when none are given.
DEFAULT_METHODS: tuple[str, ...] = ("auto", "counts", "counts_last", "kde", "gistar")


@dataclass
class Training:
    """What every method may see: the training incidents and the forecast set-up.

    Attributes
    ----------
    history
        Training incidents located on the evaluation grid (nothing at or after ``origin``).
    frame
        The training incidents (metric CRS), for the cluster methods.
    origin
        Forecast origin (the split), days.
    horizon_days
        Length of the test window, days.
    coverages
        Requested coverages.
    """

    history: History
    frame: gpd.GeoDataFrame
    origin: float
    horizon_days: float
    coverages: tuple[float, ...]


@dataclass
class FittedMethod:
    """A method fitted on the training data, able to score the cells of any grid.

    Attributes
    ----------
    name
        Method name.
    info
        What was fitted (bandwidth, chosen candidate, clusters…), for JSON.
    score
        ``score(history, origin)`` → score per cell of ``history.grid``.
    """

    name: str
    info: dict[str, Any] = field(default_factory=dict)
    score: Callable[[History, float], np.ndarray] = field(default=lambda h, o: np.zeros(0))


def check_methods(methods: Any) -> tuple[str, ...]:
    """Return the method names, baselines first, without repeats; unknown names raise.

    Raises
    ------
    ConfigError
        When a name is neither a named method nor a candidate.
    """
    names = [methods] if isinstance(methods, str) else list(methods or DEFAULT_METHODS)
    out: list[str] = list(BASELINES)
    for raw in names:
        name = str(raw).strip().lower()
        if not name or name in out:
            continue
        if name not in NAMED_METHODS:
            try:
                parse_candidate(name)
            except ConfigError:
                raise ConfigError(
                    f"método desconocido: {raw!r}",
                    hint=f"use {', '.join(NAMED_METHODS)} o un candidato "
                    "(kde_150, blend_300_0.2, tiebreak_800, pkde_150_30d…)",
                ) from None
        out.append(name)
    return tuple(out)


def _candidate_method(name: str, candidate: Candidate, info: dict[str, Any]) -> FittedMethod:
    def score(history: History, origin: float) -> np.ndarray:
        return history.fit(candidate, origin)

    return FittedMethod(name, {"candidate": candidate.as_dict(), **info}, score)


def fit_method(name: str, training: Training, *, quiet: bool = True) -> FittedMethod:
    """Fit the method ``name`` on the training data (see the module list)."""
    if name == "counts":
        return _candidate_method(name, Candidate("counts"), {})
    if name == "counts_last":
        days = float(training.horizon_days)
        return _candidate_method(name, Candidate("counts", window_days=days), {"window_days": days})
    if name == "auto":
        from .selection import auto_choice

        choice = auto_choice(
            training.history, training.coverages, training.horizon_days, end=training.origin
        )
        return _candidate_method(name, choice.candidate, {"auto": choice.as_dict()})
    if name == "kde":
        return _default_kde(training)
    if name in ("hdbscan", "dbscan"):
        return _clusters(name, training, quiet=quiet)
    if name == "gistar":
        return _candidate_method(name, Candidate("gistar"), {})
    return _candidate_method(name, parse_candidate(name), {})


def _default_kde(training: Training) -> FittedMethod:
    from ..bandwidth import DEFAULT_RULE, select_bandwidth

    h = training.history
    used = h.t < training.origin
    xy = np.column_stack([h.x[used], h.y[used]])
    if len(xy) < 2:
        return FittedMethod("kde", {"declined": "menos de 2 incidentes"}, _zeros)
    choice = select_bandwidth(xy, DEFAULT_RULE, "quartic")
    candidate = Candidate("kde", bandwidth=float(choice.value))
    return _candidate_method(
        "kde", candidate, {"bandwidth_m": float(choice.value), "bandwidth_rule": DEFAULT_RULE}
    )


def _zeros(history: History, origin: float) -> np.ndarray:
    return np.zeros(history.grid.n_cells)


#: Columns of the incidents the cluster methods' backtest reads (besides the geometry).
_CLUSTER_COLUMNS = ("incident_id", "at_station")


def _clusters(name: str, training: Training, *, quiet: bool) -> FittedMethod:
    import shapely

    from ..hotspots import hotspot_dbscan, hotspot_hdbscan

    function = hotspot_hdbscan if name == "hdbscan" else hotspot_dbscan
    # The backtest reads the clusters' outlines and densities only: the columns that describe
    # them (districts, modalities, hours) are left out, the rows' order kept (incident_id).
    frame = training.frame
    kept = [c for c in _CLUSTER_COLUMNS if c in frame.columns]
    hotspots = function(frame[[*kept, frame.geometry.name]], quiet=quiet, exclude_at_station=False)
    info: dict[str, Any] = {
        "n_clusters": len(hotspots),
        "parameters": {
            k: v
            for k, v in hotspots.attrs.get("parameters", {}).items()
            if isinstance(v, int | float | str | bool) or v is None
        },
    }
    if len(hotspots) == 0:
        return FittedMethod(name, info, _zeros)
    polygons = np.asarray(hotspots.to_crs(training.frame.crs).geometry.values)
    density = hotspots["density"].to_numpy(dtype=float)
    # Densest cluster first; its rank is the score, so that clusters never interleave.
    level = np.empty(len(density))
    level[np.argsort(-density, kind="stable")] = np.arange(len(density), 0, -1)

    def score(history: History, origin: float) -> np.ndarray:
        grid = history.grid
        out = np.zeros(grid.n_cells)
        for poly, lev in zip(polygons, level, strict=True):
            cells = grid.cells_in_bounds(shapely.bounds(poly))
            x, y = grid.centres(cells)
            inside = cells[shapely.contains_xy(poly, x, y)]
            out[inside] = np.maximum(out[inside], lev)
        return out

    return FittedMethod(name, info, score)
