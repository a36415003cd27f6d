"""Evaluate hotspot methods as forecasts: fit before a split date, score on the period after.

:func:`evaluate_forecast` fits every method on the training period ``[train_start, split)``,
selects the best cells of one grid at each coverage and counts the test incidents
``[split, test_end)`` they capture (metrics in :mod:`parsc_geo.evaluation.metrics`). Every
method is scored on the same grid and the same area budget, beside the naive baselines
``counts`` and ``counts_last``. It adds

- hit-rate and PAI curves over 0.5–20 % of the study area;
- bootstrap intervals over test incidents (seeded; the selections stay fixed and the test
  incidents are resampled with replacement, ``n*`` recomputed in every replicate);
- grid-offset sensitivity: the same methods on grids whose origin is moved by half a cell
  east, north and both (open_cp's evaluation warns that grid position alone changes hit
  rates); the automatic choice is made once, on the unshifted grid;
- optionally, rolling-origin folds over the test period (train window, test window, step),
  every method refitted in every fold, each fold and the mean reported.

Incidents without a date are left out, and so are incidents stacked on a police station
(``at_station``), as the hotspot methods do; both are counted in the parameters. Categories are
not interpreted: whatever the data holds is evaluated as one set of incidents.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import ConfigError, CRSError, InputDataError, InsufficientDataError
from .._text import num
from ..settings import SEED
from .backtest import from_days, rolling_origin_folds, to_days
from .candidates import History
from .cells import CellGrid, auto_cell_size, cells_frame, default_study_area, make_cell_grid
from .methods import FittedMethod, Training, check_methods, fit_method
from .metrics import (
    CURVE_COVERAGES,
    best_capture,
    capture,
    capture_curve,
    cells_for_coverage,
    check_coverages,
    coverage_key,
    largest_values,
    rank_cells,
    score_selection,
    selection_weights,
)

if TYPE_CHECKING:
    import geopandas as gpd

#: Bootstrap replicates by default.
BOOTSTRAP = 1000
#: Grid origins of the offset sensitivity, in cells: none, half east, half north, both.
OFFSETS: tuple[tuple[float, float], ...] = ((0.0, 0.0), (0.5, 0.0), (0.0, 0.5), (0.5, 0.5))
#: Rule of the default study area, recorded with every result.
AREA_RULE = "envolvente convexa de los incidentes de entrenamiento"


logger = logging.getLogger(__name__)


def _announce(message: str, quiet: bool) -> None:
    from .._messages import announce

    announce(logger, message, quiet=quiet)


@dataclass
class Data:
    """Incidents ready for evaluation: metric coordinates, times in days, what was dropped."""

    x: np.ndarray
    y: np.ndarray
    t: np.ndarray
    frame: gpd.GeoDataFrame
    crs: str
    dropped: dict[str, int]


def prepare_incidents(
    incidents: gpd.GeoDataFrame, *, time_column: str = "occurred_at", crs: Any = None
) -> Data:
    """Validate, project and time incidents for evaluation.

    Raises
    ------
    InputDataError
        Not a GeoDataFrame of points, or without a time column.
    CRSError
        Without a CRS.
    """
    import geopandas as gpd
    import shapely
    from pyproj import CRS

    from ..incidents import select
    from ..projection import metric_crs

    if not isinstance(incidents, gpd.GeoDataFrame):
        raise InputDataError(
            "la evaluación requiere un GeoDataFrame de incidentes; "
            f"se recibió {type(incidents).__name__}"
        )
    if incidents.crs is None:
        raise CRSError(
            "los incidentes no tienen sistema de referencia de coordenadas",
            hint="asigne uno con gdf.set_crs('EPSG:4326') si son longitud/latitud",
        )
    if time_column not in incidents.columns:
        raise InputDataError(
            f"los incidentes no tienen la columna de fecha {time_column!r}",
            hint="la evaluación necesita la fecha de cada incidente (occurred_at)",
        )
    geoms = np.asarray(incidents.geometry.values)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if (~missing & (shapely.get_type_id(geoms) != 0)).any():
        raise InputDataError(
            "la evaluación usa un punto por incidente; hay geometrías que no son puntos"
        )
    # The project's one rule of usable incidents: located, and not stacked on a station.
    usable = select(incidents.reset_index(drop=True))
    record = usable.attrs["selection"]
    t = to_days(usable[time_column].reset_index(drop=True))
    keep = np.isfinite(t)
    dropped = {
        "sin_geometria": int(record["n_missing_geometry"]),
        "en_comisaria": int(record["n_excluded_at_station"]),
        "sin_fecha": int((~keep).sum()),
    }
    incidents = usable.reset_index(drop=True)
    frame = incidents.loc[keep]
    target = (
        CRS.from_user_input(crs)
        if crs is not None
        else metric_crs(frame if len(frame) else incidents)
    )
    if not target.is_projected:
        raise CRSError(
            f"la evaluación necesita un SRC métrico; se recibió {target.to_string()}",
            hint="indique un SRC proyectado en metros, p. ej. EPSG:32717",
        )
    frame = frame.to_crs(target)
    x = frame.geometry.x.to_numpy(float)
    y = frame.geometry.y.to_numpy(float)
    t = t[keep]
    # A canonical order (place, then time) makes every result, the bootstrap draws included,
    # independent of the order of the input rows.
    order = np.lexsort((t, y, x))
    return Data(
        x=x[order],
        y=y[order],
        t=t[order],
        frame=frame.iloc[order].reset_index(drop=True),
        crs=target.to_string(),
        dropped=dropped,
    )


@dataclass
class Evaluation:
    """Everything :func:`evaluate_forecast` measured.

    Attributes
    ----------
    parameters
        Set-up: dates, grid, counts, rules, seed.
    methods
        Per method: ``info`` (what was fitted) and per coverage key (``"1"``, ``"5"``) the
        metrics, bootstrap intervals, offset sensitivity and ratio to counts; and ``curve``.
    rolling
        Rolling-origin folds (None when not asked).
    grid
        The evaluation grid.
    selections
        Per (method, coverage key), the selected cells (EPSG:4326) with rank and score.
    """

    parameters: dict[str, Any]
    methods: dict[str, dict[str, Any]]
    rolling: dict[str, Any] | None
    grid: CellGrid
    selections: dict[tuple[str, str], gpd.GeoDataFrame] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON content of ``evaluacion.json``."""
        out: dict[str, Any] = {
            "cell_size_m": self.parameters["cell_size_m"],
            "study_area_km2": self.parameters["study_area_km2"],
            "n_train": self.parameters["n_train"],
            "n_test": self.parameters["n_test"],
            "parameters": self.parameters,
            "methods": self.methods,
        }
        auto = self.methods.get("auto", {}).get("info", {}).get("auto")
        if auto is not None:
            out["auto"] = auto
        out["rolling"] = self.rolling
        return out

    def rows(self) -> list[dict[str, Any]]:
        """Return one row per method and coverage (the content of ``evaluacion.csv``)."""
        rows = []
        for name, entry in self.methods.items():
            for key in self.parameters["coverage_keys"]:
                m = entry[key]
                ci = m.get("bootstrap", {})
                off = m.get("offsets", {})
                rows.append(
                    {
                        "method": name,
                        "coverage_pct": float(key),
                        "hit_rate": m["hit_rate"],
                        "pai": m["pai"],
                        "pei_star": m["pei_star"],
                        "rri": m["rri"],
                        "n_cells": m["n_cells"],
                        "area_km2": m["area_km2"],
                        "hits": m["hits"],
                        "best_hits": m["best_hits"],
                        "ratio_to_counts": m["ratio_to_counts"],
                        "hit_rate_ci_low": ci.get("hit_rate", [None, None])[0],
                        "hit_rate_ci_high": ci.get("hit_rate", [None, None])[1],
                        "pai_ci_low": ci.get("pai", [None, None])[0],
                        "pai_ci_high": ci.get("pai", [None, None])[1],
                        "hit_rate_offset_min": off.get("hit_rate_min"),
                        "hit_rate_offset_max": off.get("hit_rate_max"),
                    }
                )
        return rows


def _parse_date(value: Any, name: str) -> float:
    import pandas as pd

    try:
        stamp: Any = pd.Timestamp(value)
    except (ValueError, TypeError):
        stamp = pd.NaT
    if pd.isna(stamp):
        raise ConfigError(
            f"{name}: fecha no válida {value!r}",
            hint="use el formato AAAA-MM-DD, p. ej. 2021-01-01",
        )
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return float(to_days([stamp])[0])


def _area_polygon(area: Any, crs: str) -> Any:
    from ..grid import area_geometry

    geom, _ = area_geometry(area, crs)
    return geom


def _bootstrap(
    weights: dict[tuple[str, int], np.ndarray],
    test_cell: np.ndarray,
    n_test: int,
    ks: list[int],
    n_cells: int,
    *,
    replicates: int,
    seed: int,
) -> dict[tuple[str, int], np.ndarray]:
    """Return per (method, coverage index) the hits and ``n*`` of every replicate.

    Test incidents (their cells, -1 outside the grid) are drawn with replacement; selections
    are fixed by ``weights``. Returns arrays of shape (replicates, 2): hits, n*.
    """
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    keys = list(weights)
    # Selections hold at most a few percent of the cells: a sparse product per replicate.
    matrix = sp.csr_matrix(
        np.vstack([weights[k] for k in keys]) if keys else np.zeros((0, n_cells))
    )
    ks_arr = np.asarray(ks, dtype=np.int64)
    top_k = int(min(n_cells, max(1, int(ks_arr.max())))) if ks_arr.size else 1
    hits = np.zeros((replicates, len(keys)))
    bests = np.zeros((replicates, len(ks)))
    for b in range(replicates):
        draw = test_cell[rng.integers(0, n_test, n_test)] if n_test else test_cell[:0]
        counts = np.bincount(draw[draw >= 0], minlength=n_cells).astype(float)
        hits[b] = matrix @ counts
        # n* for every k from one partition: the sums of the largest counts.
        top = np.cumsum(np.sort(largest_values(counts, top_k))[::-1])
        bests[b] = top[np.clip(ks_arr, 1, top_k) - 1]
    return {key: np.column_stack([hits[:, row], bests[:, key[1]]]) for row, key in enumerate(keys)}


def _interval(values: np.ndarray) -> list[float | None]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return [None, None]
    low, high = np.percentile(finite, [2.5, 97.5])
    return [float(low), float(high)]


def evaluate_forecast(
    incidents: gpd.GeoDataFrame,
    *,
    split: Any,
    train_start: Any = None,
    test_end: Any = None,
    coverages: Any = (0.01, 0.05),
    methods: Any = None,
    cell_size: float | None = None,
    crs: Any = None,
    area: Any = None,
    time_column: str = "occurred_at",
    bootstrap: int = BOOTSTRAP,
    offsets: bool = True,
    rolling: tuple[Any, Any, Any] | None = None,
    seed: int = SEED,
    quiet: bool = False,
) -> Evaluation:
    """Fit methods before ``split`` and score their hotspots on the incidents after it.

    Parameters
    ----------
    incidents
        Incident points with a time column (any CRS with units).
    split
        First day of the test period (``YYYY-MM-DD``).
    train_start
        First day of the training period; None: the first incident.
    test_end
        Day after the test period; None: the day after the last incident.
    coverages
        Fractions of the study area (0.01 = 1 %).
    methods
        Method names (:mod:`parsc_geo.evaluation.methods`); the baselines ``counts`` and
        ``counts_last`` are always added. None: ``auto, counts, counts_last, kde, gistar``.
    cell_size
        Cell side in metres; None: :func:`parsc_geo.evaluation.cells.auto_cell_size`.
    crs
        Metric CRS; None: the data's UTM zone (:func:`parsc_geo.projection.metric_crs`).
    area
        Study area (GeoDataFrame, GeoSeries or shapely geometry in ``crs``); None: the convex
        hull of the training incidents.
    time_column
        Column of occurrence times.
    bootstrap
        Bootstrap replicates (0: none).
    offsets
        Measure the grid-offset sensitivity.
    rolling
        ``(train, test, step)`` windows (``"12M"``, ``"1M"``, ``"1M"``) for rolling-origin folds
        from ``split`` to ``test_end``; None: none.
    seed
        Seed of the bootstrap.
    quiet
        Do not announce automatic choices on stderr.

    Returns
    -------
    Evaluation
    """
    coverage_values = check_coverages(coverages)
    names = check_methods(methods)
    data = prepare_incidents(incidents, time_column=time_column, crs=crs)
    t_split = _parse_date(split, "split")
    finite_t = data.t
    if finite_t.size == 0:
        raise InsufficientDataError("no hay incidentes con fecha y ubicación para evaluar")
    t_start = _parse_date(train_start, "train_start") if train_start is not None else -math.inf
    t_end = (
        _parse_date(test_end, "test_end")
        if test_end is not None
        else math.floor(float(finite_t.max())) + 1.0
    )
    if not t_start < t_split < t_end:
        raise ConfigError(
            "las fechas deben cumplir inicio de entrenamiento < división < fin de prueba "
            f"(se recibió {_day(t_start)}, {_day(t_split)}, {_day(t_end)})"
        )
    train = (finite_t >= t_start) & (finite_t < t_split)
    test = (finite_t >= t_split) & (finite_t < t_end)
    n_train, n_test = int(train.sum()), int(test.sum())
    if n_train < 2 or n_test < 1:
        raise InsufficientDataError(
            f"{n_train} incidentes de entrenamiento y {n_test} de prueba: no hay qué evaluar",
            hint="revise --split, --train-start y --test-end frente a las fechas de los datos",
        )
    polygon = (
        default_study_area(data.x[train], data.y[train])
        if area is None
        else _area_polygon(area, data.crs)
    )
    auto_size = cell_size is None
    size = auto_cell_size(polygon.area) if cell_size is None else float(cell_size)
    if auto_size:
        _announce(f"Evaluación: celdas de {num(size)} m (automático)", quiet)
    grid = make_cell_grid(polygon, size, data.crs)
    horizon = t_end - t_split
    training_frame = data.frame.loc[train].reset_index(drop=True)
    history = History(grid, data.x[train], data.y[train], data.t[train])
    setup = Training(history, training_frame, t_split, horizon, coverage_values)
    fitted: dict[str, FittedMethod] = {}
    for name in names:
        fitted[name] = fit_method(name, setup, quiet=True)
        if name == "auto":
            auto = fitted[name].info["auto"]
            _announce(f"auto eligió: {auto['chosen_label']} — {auto['reason']}", quiet)
    test_cell = grid.locate(data.x[test], data.y[test])
    test_counts = grid.counts(test_cell)
    train_counts = grid.counts(history.cell)
    ks = [cells_for_coverage(grid.n_cells, p) for p in coverage_values]
    keys = [coverage_key(p) for p in coverage_values]
    scores = {name: f.score(history, t_split) for name, f in fitted.items()}
    results: dict[str, dict[str, Any]] = {}
    for name in names:
        entry: dict[str, Any] = {"info": fitted[name].info}
        for key, s in zip(
            keys,
            score_selection(
                scores[name],
                test_counts,
                train_counts,
                n_test=n_test,
                n_train=n_train,
                coverages=coverage_values,
                cell_area_km2=grid.cell_area_km2,
            ),
            strict=True,
        ):
            entry[key] = {k: v for k, v in s.as_dict().items() if k != "coverage"}
            entry[key]["coverage_pct"] = float(key)
        entry["curve"] = capture_curve(scores[name], test_counts, n_test=n_test)
        results[name] = entry
    for name in names:
        for key in keys:
            base = results["counts"][key]["hits"]
            results[name][key]["ratio_to_counts"] = (
                results[name][key]["hits"] / base if base > 0 else None
            )
    if bootstrap > 0:
        weights = {
            (name, i): selection_weights(scores[name], k)
            for name in names
            for i, k in enumerate(ks)
        }
        draws = _bootstrap(
            weights, test_cell, n_test, ks, grid.n_cells, replicates=int(bootstrap), seed=seed
        )
        for name in names:
            for i, key in enumerate(keys):
                hits, best = draws[(name, i)][:, 0], draws[(name, i)][:, 1]
                base = draws[("counts", i)][:, 0]
                with np.errstate(divide="ignore", invalid="ignore"):
                    results[name][key]["bootstrap"] = {
                        "replicates": int(bootstrap),
                        "seed": int(seed),
                        "hit_rate": _interval(hits / n_test),
                        "pai": _interval(hits / n_test / (ks[i] / grid.n_cells)),
                        "pei_star": _interval(np.where(best > 0, hits / best, np.nan)),
                        "ratio_to_counts": _interval(np.where(base > 0, hits / base, np.nan)),
                    }
    if offsets:
        _offsets(results, fitted, data, train, test, polygon, size, t_split, coverage_values, keys)
    rolling_out = None
    if rolling is not None:
        rolling_out = _rolling(
            names, data, grid, t_split, t_end, rolling, coverage_values, keys, quiet=quiet
        )
    selections = {}
    tiebreak = grid.tiebreak(seed)
    for name in names:
        order = rank_cells(scores[name], tiebreak)
        for key, k in zip(keys, ks, strict=True):
            top = order[:k]
            w = selection_weights(scores[name], k)
            selections[(name, key)] = cells_frame(
                grid,
                top,
                {
                    "method": name,
                    "coverage_pct": float(key),
                    "rank": np.arange(1, k + 1),
                    "score": scores[name][top],
                    "weight": w[top],
                    "n_train": train_counts[top].astype(np.int64),
                    "n_test": test_counts[top].astype(np.int64),
                },
            )
    parameters = {
        "split": _day(t_split),
        "train_start": _day(t_start)
        if math.isfinite(t_start)
        else _day(float(data.t[train].min())),
        "test_end": _day(t_end),
        "horizon_days": float(horizon),
        "coverages": list(coverage_values),
        "coverage_keys": keys,
        "methods": list(names),
        "cell_size_m": float(size),
        "cell_size_auto": auto_size,
        "study_area_km2": float(grid.study_area_km2),
        "study_area_rule": AREA_RULE if area is None else "área indicada",
        "partial_cells": "las celdas del borde cuentan enteras; área de estudio = n_cells · lado²",
        "ties": "las celdas empatadas en el corte comparten las plazas restantes (valor esperado)",
        "n_cells": int(grid.n_cells),
        "n_train": n_train,
        "n_test": n_test,
        "n_test_outside_grid": int((test_cell < 0).sum()),
        "n_train_outside_grid": int((history.cell < 0).sum()),
        "dropped": data.dropped,
        "crs": data.crs,
        "bootstrap": int(bootstrap),
        "seed": int(seed),
        "offsets": [list(o) for o in OFFSETS] if offsets else [],
        "rolling": list(map(str, rolling)) if rolling is not None else None,
        "curve_coverages": list(CURVE_COVERAGES),
    }
    return Evaluation(
        parameters=parameters,
        methods=results,
        rolling=rolling_out,
        grid=grid,
        selections=selections,
    )


def _day(days: float) -> str:
    if not math.isfinite(days):
        return "inicio"
    return from_days(days).date().isoformat()


def _offsets(
    results: dict[str, dict[str, Any]],
    fitted: dict[str, FittedMethod],
    data: Data,
    train: np.ndarray,
    test: np.ndarray,
    polygon: Any,
    size: float,
    t_split: float,
    coverages: tuple[float, ...],
    keys: list[str],
) -> None:
    """Add to ``results`` the hit rate and PAI of every method on the shifted grids."""
    n_test = int(test.sum())
    table: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for ox, oy in OFFSETS:
        grid = make_cell_grid(polygon, size, data.crs, offset=(ox * size, oy * size))
        history = History(grid, data.x[train], data.y[train], data.t[train])
        test_counts = grid.counts(grid.locate(data.x[test], data.y[test]))
        ks = [cells_for_coverage(grid.n_cells, p) for p in coverages]
        for name, method in fitted.items():
            hits = capture(method.score(history, t_split), test_counts, ks)
            for key, h, k in zip(keys, hits, ks, strict=True):
                table.setdefault((name, key), []).append(
                    (h / n_test, (h / n_test) / (k / grid.n_cells))
                )
    for (name, key), values in table.items():
        hr = np.array([v[0] for v in values])
        pa = np.array([v[1] for v in values])
        results[name][key]["offsets"] = {
            "hit_rate": hr.tolist(),
            "pai": pa.tolist(),
            "hit_rate_min": float(hr.min()),
            "hit_rate_max": float(hr.max()),
            "hit_rate_mean": float(hr.mean()),
            "pai_min": float(pa.min()),
            "pai_max": float(pa.max()),
        }


def _rolling(
    names: tuple[str, ...],
    data: Data,
    grid: CellGrid,
    t_split: float,
    t_end: float,
    windows: tuple[Any, Any, Any],
    coverages: tuple[float, ...],
    keys: list[str],
    *,
    quiet: bool,
) -> dict[str, Any]:
    """Refit every method in every rolling-origin fold and score it on the fold's window."""
    train_w, test_w, step_w = windows
    folds = rolling_origin_folds(
        from_days(t_split), from_days(t_end), train=train_w, test=test_w, step=step_w
    )
    if not folds:
        raise ConfigError(
            "ningún pliegue cabe entre la división y el fin de la prueba",
            hint="acorte la ventana de prueba o amplíe --test-end",
        )
    ks = [cells_for_coverage(grid.n_cells, p) for p in coverages]
    out_folds = []
    sums: dict[str, dict[str, list[float]]] = {n: {k: [] for k in keys} for n in names}
    for fold in folds:
        train = (data.t >= fold.start) & (data.t < fold.origin)
        test = (data.t >= fold.origin) & (data.t < fold.end)
        n_test = int(test.sum())
        history = History(grid, data.x[train], data.y[train], data.t[train])
        setup = Training(
            history,
            data.frame.loc[train].reset_index(drop=True),
            fold.origin,
            fold.end - fold.origin,
            coverages,
        )
        test_counts = grid.counts(grid.locate(data.x[test], data.y[test]))
        entry: dict[str, Any] = {**fold.as_dict(), "n_train": int(train.sum()), "n_test": n_test}
        for name in names:
            method = fit_method(name, setup, quiet=True)
            scores = method.score(history, fold.origin)
            hits = capture(scores, test_counts, ks)
            per: dict[str, Any] = {}
            for key, h, k in zip(keys, hits, ks, strict=True):
                best = best_capture(test_counts, k)
                per[key] = {
                    "hits": float(h),
                    "hit_rate": float(h / n_test) if n_test else None,
                    "pai": float(h / n_test / (k / grid.n_cells)) if n_test else None,
                    "pei_star": float(h / best) if best > 0 else None,
                }
                if n_test:
                    sums[name][key].append(float(h / n_test))
            if name == "auto":
                per["chosen"] = method.info["auto"]["chosen"]
            entry[name] = per
        out_folds.append(entry)
        _announce(f"Pliegue {entry['origin']}: {num(n_test)} incidentes de prueba evaluados", quiet)
    mean = {
        name: {key: (float(np.mean(v)) if v else None) for key, v in per_key.items()}
        for name, per_key in sums.items()
    }
    return {
        "train": str(train_w),
        "test": str(test_w),
        "step": str(step_w),
        "folds": out_folds,
        "mean_hit_rate": mean,
    }
