"""Historical accuracy of the hotspots a run draws: each of the last months forecast from before it.

:func:`historical_accuracy` replays the run's hotspot methods on the incidents' own history, in
monthly rolling folds: for each of the last ``folds`` whole months, every method is fitted on
*every* incident before the month (nothing at or after its first day) and scored on the
incidents of the month, on one grid and one area budget with the counts baseline (the
incidents of the months before, counted per cell) beside it. Per coverage (1 % and 5 % of the
study area by default) and method it reports, for each fold and as the mean over folds:

hit rate
    Share of the month's incidents inside the selected cells.
PAI (Chainey et al. 2008)
    Hit rate divided by the share of the area selected.
PEI* (Hunt 2016)
    Incidents captured divided by the most any selection of the same number of cells could
    have captured that month.

Metrics, grid and ties follow :mod:`parsc_geo.evaluation.metrics` and
:mod:`parsc_geo.evaluation.cells`: each fold's study area is the convex hull of its training
incidents (outliers left out), with square cells of :func:`~.cells.auto_cell_size` (100 m
unless the area is very large), and incidents stacked on police stations or without a date
are left out, as the hotspot methods leave them out. The run's methods are scored as
:mod:`parsc_geo.evaluation.methods` defines them (``kde`` with the run's bandwidth when it
gives one, else the automatic rule; ``gistar`` as the z-scores of the cell counts; cluster
methods by their outlines, densest first); ``auto`` is the backtest-chosen forecast, chosen
anew in every fold from the incidents before it.

The whole study area and each province with enough data are evaluated separately. A scope
whose data are too short (less than one whole month before the first month tested, fewer than
:data:`MIN_TRAIN` training or :data:`MIN_TEST` test incidents in every fold) is reported with
the reason, in Spanish, instead of numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    import geopandas as gpd

    from ..parallel import WorkerPool
    from ..partitions import Partition
    from .forecast import Data

#: Fewest training incidents of a fold (before its month).
MIN_TRAIN = 30
#: Fewest test incidents of a fold (in its month).
MIN_TEST = 10
#: Shortest training history before the first month tested, days (about one month).
MIN_HISTORY_DAYS = 28.0
#: A month is whole when the data reach its last this many days.
MONTH_END_DAYS = 7.0
#: The baseline every method is compared with.
BASELINE = "counts"
#: Candidates ``auto`` chooses among in a run's backtest: counts, a KDE tie-break, KDEs of
#: three radii, one blend and Gi* (the full set of 29 costs minutes per province and month).
RUN_AUTO_CANDIDATES: tuple[str, ...] = (
    "counts",
    "tiebreak_800",
    "kde_150",
    "kde_300",
    "kde_800",
    "blend_300_0.2",
    "gistar",
)
#: Names of the methods in Spanish, for tables and sentences.
METHOD_NAMES_ES: dict[str, str] = {
    "kde": "densidad kernel (KDE)",
    "gistar": "Getis-Ord Gi*",
    "hdbscan": "HDBSCAN",
    "dbscan": "DBSCAN",
    "auto": "elegido por la evaluación (auto)",
    "counts": "conteo de los meses anteriores",
}
#: What the numbers mean, stored with them.
DEFINITIONS_ES: dict[str, str] = {
    "pliegues": "cada uno de los últimos meses completos se pronostica con todos los "
    "incidentes anteriores a su primer día y se compara con los incidentes de ese mes",
    "hit_rate": "proporción de los incidentes del mes dentro de las celdas seleccionadas",
    "pai": "tasa de acierto dividida por la proporción del área seleccionada "
    "(Chainey, Tompson y Uhlig 2008)",
    "pei_star": "incidentes capturados divididos por los que habría capturado la mejor "
    "selección posible del mismo número de celdas (Hunt 2016)",
    "media": "media de los pliegues (cada mes pesa igual)",
    "counts": "línea base: celdas ordenadas por el número de incidentes de los meses anteriores",
}


@dataclass
class ScopeAccuracy:
    """Backtest of one scope (the study area, or one province).

    Attributes
    ----------
    scope
        ``"región"`` (the whole study area) or ``"provincia"``.
    name
        The place.
    folds
        One entry per fold: dates, counts, grid and per method and coverage key the metrics.
    summary
        Method → coverage key → mean ``hit_rate``, ``pai``, ``pei_star`` over the folds, and
        ``ratio_to_counts`` (captured incidents over those of counts, summed over the folds).
    reason
        Why there are no numbers (Spanish), or None.
    """

    scope: str
    name: str
    folds: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, dict[str, dict[str, float | None]]] = field(default_factory=dict)
    reason: str | None = None
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the scope has numbers."""
        return self.reason is None and bool(self.folds)

    def as_dict(self) -> dict[str, Any]:
        """Return the scope as JSON-ready data."""
        return {
            "scope": self.scope,
            "name": self.name,
            "status": "ok" if self.ok else "insuficiente",
            "reason": self.reason,
            "folds": self.folds,
            "summary": self.summary,
            "skipped": self.skipped,
        }


@dataclass
class HistoricalAccuracy:
    """The backtest of a run: the study area and each province.

    Attributes
    ----------
    methods
        The methods scored, the baseline first.
    coverages
        Fractions of the study area.
    scopes
        The study area first, then the provinces in their order.
    parameters
        Set-up: fold rule, minimum counts, cell size rule, seed.
    """

    methods: tuple[str, ...]
    coverages: tuple[float, ...]
    scopes: list[ScopeAccuracy]
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def region(self) -> ScopeAccuracy:
        """Return the scope of the whole study area."""
        return self.scopes[0]

    def as_dict(self) -> dict[str, Any]:
        """Return the whole backtest as JSON-ready data (``run.json``)."""
        return {
            "methods": list(self.methods),
            "coverages": list(self.coverages),
            "definitions": DEFINITIONS_ES,
            "parameters": self.parameters,
            "scopes": [s.as_dict() for s in self.scopes],
        }

    def markdown_es(self) -> list[str]:
        """Return the ``Precisión histórica`` section of ``RESUMEN.md`` (lines, plain Spanish).

        For the study area, one sentence per method: the share of the next month's incidents
        its hotspots would have held in each share of the area, beside what counting the
        incidents of the months before would have given; then one line per province (its best
        method at the smallest coverage, or why it has no numbers).
        """
        from .metrics import coverage_key

        lines = ["## Precisión histórica", ""]
        region = self.region
        if not region.ok:
            lines += [
                f"No se pudo medir la precisión histórica en {region.name}: {region.reason}.",
                "",
            ]
            return lines
        months = _join_es([_month_es(f["origin"]) for f in region.folds])
        lines += [
            f"Se comprobó con {_months_count(len(region.folds))} ({months}): cada mes se "
            "pronosticó con todos los delitos anteriores a su primer día, y se contó qué "
            "parte de los delitos de ese mes cayó en las zonas marcadas (media de los meses).",
            "",
        ]
        if self.parameters.get("region_rule"):
            lines += [
                "Como el run, cada provincia marca su propio porcentaje de área; la región "
                "suma las provincias.",
                "",
            ]
        keys = [coverage_key(p) for p in self.coverages]
        base = region.summary[BASELINE]
        for method in self.methods:
            if method == BASELINE:
                continue
            m = region.summary[method]
            first, rest = keys[0], keys[1:]
            held = (
                f"el {_percent(m[first]['hit_rate'])} de los delitos del mes siguiente en el "
                f"{first} % del área (PAI {m[first]['pai']:.1f})"
            )
            held += "".join(
                f" y el {_percent(m[k]['hit_rate'])} en el {k} % (PAI {m[k]['pai']:.1f})"
                for k in rest
            )
            counted = " y ".join(_percent(base[k]["hit_rate"]) for k in keys)
            label = method_label(method)
            lines.append(
                f"- {label[:1].upper()}{label[1:]}: las zonas marcadas habrían contenido "
                f"{held}; contar los delitos de los meses anteriores habría dado {counted}."
            )
        lines.append("")
        provinces = self.scopes[1:]
        if provinces:
            first = keys[0]
            lines += [f"Por provincia (al {first} % del área):", ""]
            for scope in provinces:
                if not scope.ok:
                    lines.append(f"- {scope.name}: sin datos suficientes ({scope.reason}).")
                    continue
                ranked = sorted(
                    (m for m in self.methods if m != BASELINE),
                    key=lambda m: (-(scope.summary[m][first]["hit_rate"] or 0.0), m),
                )
                best = ranked[0]
                lines.append(
                    f"- {scope.name}: {method_label(best)} "
                    f"{_percent(scope.summary[best][first]['hit_rate'])} de los delitos del mes "
                    f"siguiente; el conteo, {_percent(scope.summary[BASELINE][first]['hit_rate'])} "
                    f"({_months_count(len(scope.folds))})."
                )
            lines.append("")
        lines += [
            "PAI: cuántas veces más delitos por km² que el promedio caen en las zonas marcadas; "
            "PEI* y los detalles por mes están en `run.json` (`evaluacion`).",
            "",
        ]
        return lines

    def table(self) -> list[dict[str, Any]]:
        """Return one row per scope with numbers, method and coverage (Spanish headers).

        For the maps' parameters panel and the spreadsheet: ``Ámbito``, ``Método``,
        ``Área (%)``, ``Tasa de acierto``, ``PAI``, ``PEI*``, and the same three of the counts
        baseline, means over ``Meses evaluados``.
        """
        from .metrics import coverage_key

        rows = []
        for scope in self.scopes:
            if not scope.ok:
                continue
            base = scope.summary.get(BASELINE, {})
            for method in self.methods:
                if method == BASELINE or method not in scope.summary:
                    continue
                for p in self.coverages:
                    key = coverage_key(p)
                    m = scope.summary[method][key]
                    b = base.get(key, {})
                    rows.append(
                        {
                            "Ámbito": scope.name,
                            "Método": method_label(method),
                            "Área (%)": float(key),
                            "Tasa de acierto": m["hit_rate"],
                            "PAI": m["pai"],
                            "PEI*": m["pei_star"],
                            "Tasa de acierto del conteo": b.get("hit_rate"),
                            "PAI del conteo": b.get("pai"),
                            "PEI* del conteo": b.get("pei_star"),
                            "Meses evaluados": len(scope.folds),
                        }
                    )
        return rows


#: Month names in Spanish (January first), for the sentences.
MONTHS_ES: tuple[str, ...] = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)


def method_label(name: str) -> str:
    """Return the Spanish name of an evaluated method (``kde_300``: KDE of radius 300 m)."""
    if name in METHOD_NAMES_ES:
        return METHOD_NAMES_ES[name]
    if name.startswith("kde_"):
        return f"densidad kernel (KDE, radio {name[4:]} m)"
    return name


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def _month_es(origin: str) -> str:
    year, month = origin[:4], int(origin[5:7])
    return f"{MONTHS_ES[month - 1]} de {year}"


def _months_count(n: int) -> str:
    return "1 mes" if n == 1 else f"{n} meses"


def _join_es(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " y " + items[-1]


def evaluation_methods(methods: Any, bandwidth: float | None = None) -> tuple[str, ...]:
    """Return the evaluation names of a run's hotspot methods, ``auto`` added, counts first.

    ``kde`` with a bandwidth given in metres is the quartic KDE of that radius
    (``kde_<h>``); without one, the automatic rule the maps use.
    """
    out = [BASELINE]
    for name in [*methods, "auto"]:
        key = str(name)
        if key == "kde" and bandwidth is not None:
            key = f"kde_{float(bandwidth):g}"
        if key not in out:
            out.append(key)
    return tuple(out)


def months_tested(t_days: np.ndarray, folds: int) -> tuple[list[Any], str | None]:
    """Return the folds (one per month tested, oldest first) or why there can be none.

    The months tested are the last ``folds`` whole months of the data (a month is whole when
    the last incident falls in its last :data:`MONTH_END_DAYS` days or later: a month's last
    days may have no incident), each with at least :data:`MIN_HISTORY_DAYS` days of history
    before it.
    """
    import pandas as pd

    from .._text import num
    from .backtest import Fold, from_days, to_days

    finite = t_days[np.isfinite(t_days)]
    if finite.size == 0:
        return [], "no hay incidentes con fecha"
    first = math.floor(float(finite.min()))
    end = math.floor(float(finite.max())) + 1.0  # the day after the last incident's day
    last_month = pd.Timestamp(from_days(end - 1.0)).to_period("M")
    if float(to_days([(last_month + 1).start_time])[0]) - end > MONTH_END_DAYS:
        last_month -= 1  # the data stop well before the end of their last month
    months: list[Any] = []
    month = last_month
    while len(months) < folds:
        start = float(to_days([month.start_time])[0])
        stop = float(to_days([(month + 1).start_time])[0])
        if stop > end + MONTH_END_DAYS or start - first < MIN_HISTORY_DAYS:
            break
        months.append(Fold(start=-np.inf, origin=start, end=stop))
        month -= 1
    months.reverse()
    if not months:
        span = end - first
        return [], (
            f"los datos cubren {num(span)} días: hacen falta al menos dos meses completos "
            "(uno para aprender y otro para comprobar)"
        )
    return months, None


def _fold_scores(
    data: Data,
    fold: Any,
    methods: tuple[str, ...],
    coverages: tuple[float, ...],
    cell_size: float | None,
    auto_candidates: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Fit every method before the fold's month and score it on the month (or say why not)."""
    from .candidates import History
    from .cells import auto_cell_size, default_study_area, make_cell_grid
    from .methods import Training, fit_method
    from .metrics import best_capture, capture, cells_for_coverage, coverage_key

    train = data.t < fold.origin
    test = (data.t >= fold.origin) & (data.t < fold.end)
    n_train, n_test = int(train.sum()), int(test.sum())
    entry: dict[str, Any] = {**fold.as_dict(), "n_train": n_train, "n_test": n_test}
    if n_train < MIN_TRAIN or n_test < MIN_TEST:
        entry["skipped"] = (
            f"{n_train} incidentes antes del mes y {n_test} en el mes (se necesitan "
            f"{MIN_TRAIN} y {MIN_TEST})"
        )
        return entry
    polygon = default_study_area(data.x[train], data.y[train])
    size = auto_cell_size(polygon.area) if cell_size is None else float(cell_size)
    grid = make_cell_grid(polygon, size, data.crs)
    history = History(grid, data.x[train], data.y[train], data.t[train])
    setup = Training(
        history,
        data.frame.loc[train].reset_index(drop=True),
        fold.origin,
        fold.end - fold.origin,
        coverages,
    )
    test_counts = grid.counts(grid.locate(data.x[test], data.y[test]))
    ks = [cells_for_coverage(grid.n_cells, p) for p in coverages]
    entry.update(
        cell_size_m=float(size),
        n_cells=int(grid.n_cells),
        study_area_km2=float(grid.study_area_km2),
        n_test_outside_grid=int(n_test - test_counts.sum()),
        methods={},
    )
    for name in methods:
        if name == "auto" and auto_candidates is not None:
            fitted = _auto_method(setup, auto_candidates)
        else:
            fitted = fit_method(name, setup, quiet=True)
        hits = capture(fitted.score(history, fold.origin), test_counts, ks)
        per: dict[str, Any] = {}
        for p, k, h in zip(coverages, ks, hits, strict=True):
            best = best_capture(test_counts, k)
            per[coverage_key(p)] = {
                "n_cells": int(k),
                "hits": float(h),
                "best_hits": float(best),
                "hit_rate": float(h) / n_test,
                "pai": (float(h) / n_test) / (k / grid.n_cells),
                "pei_star": float(h) / best if best > 0 else None,
            }
        if name == "auto":
            per["chosen"] = fitted.info["auto"]["chosen"]
            per["chosen_label"] = fitted.info["auto"]["chosen_label"]
        if "bandwidth_m" in fitted.info:
            per["bandwidth_m"] = float(fitted.info["bandwidth_m"])
        entry["methods"][name] = per
    return entry


def _auto_method(setup: Any, candidates: tuple[str, ...]) -> Any:
    """Return ``auto`` choosing among ``candidates`` only (same folds and rule as ``auto``)."""
    from .candidates import parse_candidate
    from .methods import FittedMethod
    from .selection import auto_choice

    choice = auto_choice(
        setup.history,
        setup.coverages,
        setup.horizon_days,
        end=setup.origin,
        candidates=tuple(parse_candidate(c) for c in candidates),
    )

    def score(history: Any, origin: float) -> np.ndarray:
        return np.asarray(history.fit(choice.candidate, origin))

    return FittedMethod("auto", {"auto": choice.as_dict()}, score)


def _summary(
    folds: list[dict[str, Any]], methods: tuple[str, ...], coverages: tuple[float, ...]
) -> dict[str, dict[str, dict[str, float | None]]]:
    from .metrics import coverage_key

    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for name in methods:
        out[name] = {}
        for p in coverages:
            key = coverage_key(p)
            rows = [f["methods"][name][key] for f in folds]
            base = sum(f["methods"][BASELINE][key]["hits"] for f in folds)
            peis = [r["pei_star"] for r in rows if r["pei_star"] is not None]
            out[name][key] = {
                "hit_rate": float(np.mean([r["hit_rate"] for r in rows])),
                "pai": float(np.mean([r["pai"] for r in rows])),
                "pei_star": float(np.mean(peis)) if peis else None,
                "ratio_to_counts": sum(r["hits"] for r in rows) / base if base > 0 else None,
            }
    return out


def scope_accuracy(
    incidents: gpd.GeoDataFrame,
    *,
    scope: str,
    name: str,
    methods: tuple[str, ...],
    coverages: tuple[float, ...] = (0.01, 0.05),
    folds: int = 3,
    cell_size: float | None = None,
    auto_candidates: tuple[str, ...] | None = None,
) -> ScopeAccuracy:
    """Backtest ``methods`` on ``incidents`` in monthly folds (see the module notes).

    ``auto_candidates`` limits the candidates ``auto`` chooses among (None: all of
    :func:`~.candidates.default_candidates`).
    """
    result, data, months = _scope_plan(incidents, scope=scope, name=name, folds=folds)
    if data is None:
        return result
    entries = [
        _fold_scores(data, fold, methods, coverages, cell_size, auto_candidates) for fold in months
    ]
    return _finish_scope(result, entries, methods, coverages)


def _scope_plan(
    incidents: gpd.GeoDataFrame, *, scope: str, name: str, folds: int
) -> tuple[ScopeAccuracy, Data | None, list[Any]]:
    """Return the scope, its prepared incidents and months tested (None: the reason is set)."""
    from .._errors import InsufficientDataError

    result = ScopeAccuracy(scope=scope, name=name)
    if not len(incidents):
        result.reason = "sin incidentes"
        return result, None, []
    try:
        # the methods read these columns only: each month's task carries no more
        data = _prepared(incidents)
    except InsufficientDataError as exc:
        result.reason = exc.message
        return result, None, []
    months, why = months_tested(data.t, folds)
    if why is not None:
        result.reason = why
        return result, None, []
    return result, data, months


def _finish_scope(
    result: ScopeAccuracy,
    entries: list[dict[str, Any]],
    methods: tuple[str, ...],
    coverages: tuple[float, ...],
) -> ScopeAccuracy:
    """Fill ``result`` from its folds' entries (oldest first)."""
    done = [e for e in entries if "skipped" not in e]
    skipped = [e for e in entries if "skipped" in e]
    result.folds = done
    if not done:
        result.reason = "ningún mes con datos suficientes: " + "; ".join(
            f"{e['origin']}: {e['skipped']}" for e in skipped
        )
        return result
    result.summary = _summary(done, methods, coverages)
    result.skipped = [f"{e['origin']}: {e['skipped']}" for e in skipped]
    return result


def _until(data: Data, end: float) -> Data:
    """Return the incidents of ``data`` before ``end`` (all a fold ending then can use)."""
    from dataclasses import replace

    keep = data.t < end
    return replace(
        data,
        x=data.x[keep],
        y=data.y[keep],
        t=data.t[keep],
        frame=data.frame.loc[keep].reset_index(drop=True),
    )


#: The incident columns the backtest reads besides the geometry: the time (the months), the
#: station flag (which incidents count) and the id (the cluster methods' table). Every month's
#: task holds its scope's incidents: the texts no method of the backtest reads (crime types,
#: places) were most of a million-incident month's memory.
BACKTEST_COLUMNS: tuple[str, ...] = ("incident_id", "occurred_at", "at_station")


def _read_columns() -> frozenset[str]:
    """Return the columns a month's task reads from a partition (besides the geometry)."""
    return frozenset(BACKTEST_COLUMNS)


@dataclass
class _FoldTask:
    """One month of one scope (a task of :func:`historical_accuracy`).

    ``source`` is the scope's prepared incidents, or its partition (the worker reads and
    prepares it: the same incidents, so the same figures); ``cost`` orders the tasks
    (:func:`_fold_cost`) and ``rows`` is the incidents the task holds (the pool hands out at
    most so many at once).
    """

    source: Data | Partition
    fold: Any
    options: dict[str, Any]
    cost: float
    rows: int


def _fold_cost(data: Data, fold: Any) -> float:
    """Return a fold's expected cost: its training incidents times the box that holds them.

    The box is the rasters' size (the KDEs of the month), the incidents the clusters' work: a
    province's months share a box, and its last month, with the most incidents before it, is
    handed out first (a million-incident province: the longest of its three months no longer
    runs alone at the end).
    """
    train = data.t < fold.origin
    n_train = int(train.sum())
    if not n_train:
        return 0.0
    x, y = data.x[train], data.y[train]
    return float((x.max() - x.min() + 1.0) * (y.max() - y.min() + 1.0)) * n_train


def _fold_task(task: _FoldTask) -> dict[str, Any]:
    """Backtest one month of one scope (a task of :func:`historical_accuracy`)."""
    from ..partitions import Partition

    data = task.source
    if isinstance(data, Partition):
        data = _prepared(data.load(columns=_read_columns()))
    return _fold_scores(_until(data, task.fold.end), task.fold, **task.options)


def _prepared(incidents: gpd.GeoDataFrame) -> Data:
    """Return a scope's incidents prepared for the backtest (the columns it reads only)."""
    from ..incidents import only_columns
    from .forecast import prepare_incidents

    return prepare_incidents(only_columns(incidents, BACKTEST_COLUMNS))


def pooled_scope(
    name: str,
    parts: list[ScopeAccuracy],
    methods: tuple[str, ...],
    coverages: tuple[float, ...],
) -> ScopeAccuracy:
    """Return the scope of the parts together: each part selects its own share of its area.

    For each month tested in some part, the captures, best captures, incidents and cells of
    the parts that have that month are summed: hit rate ``Σ hits / Σ n``, PAI
    ``(Σ hits / Σ n) / (Σ k / Σ cells)``, PEI* ``Σ hits / Σ best`` (the best each part could
    have captured with its own ``k`` cells).
    """
    from .metrics import coverage_key

    result = ScopeAccuracy(scope="región", name=name)
    by_month: dict[str, list[dict[str, Any]]] = {}
    for part in parts:
        for fold in part.folds:
            by_month.setdefault(fold["origin"], []).append({"part": part.name, **fold})
    if not by_month:
        result.reason = "ninguna provincia con datos suficientes"
        return result
    for origin in sorted(by_month):
        group = by_month[origin]
        n_test = sum(int(f["n_test"]) for f in group)
        n_cells = sum(int(f["n_cells"]) for f in group)
        entry: dict[str, Any] = {
            "origin": origin,
            "test_end": group[0]["test_end"],
            "train_start": group[0]["train_start"],
            "parts": [f["part"] for f in group],
            "n_train": sum(int(f["n_train"]) for f in group),
            "n_test": n_test,
            "n_cells": n_cells,
            "methods": {},
        }
        for method in methods:
            per: dict[str, Any] = {}
            for p in coverages:
                key = coverage_key(p)
                k = sum(int(f["methods"][method][key]["n_cells"]) for f in group)
                hits = sum(float(f["methods"][method][key]["hits"]) for f in group)
                best = sum(float(f["methods"][method][key]["best_hits"]) for f in group)
                per[key] = {
                    "n_cells": k,
                    "hits": hits,
                    "best_hits": best,
                    "hit_rate": hits / n_test,
                    "pai": (hits / n_test) / (k / n_cells),
                    "pei_star": hits / best if best > 0 else None,
                }
            entry["methods"][method] = per
        result.folds.append(entry)
    result.summary = _summary(result.folds, methods, coverages)
    return result


def historical_accuracy(
    scopes: Iterable[tuple[str, str, gpd.GeoDataFrame | Partition]],
    *,
    methods: Any,
    bandwidth: float | None = None,
    coverages: tuple[float, ...] = (0.01, 0.05),
    folds: int = 3,
    cell_size: float | None = None,
    auto_candidates: tuple[str, ...] | None = None,
    pooled: str | None = None,
    workers: WorkerPool | int = 1,
    partitions: Mapping[str, Partition] | None = None,
) -> HistoricalAccuracy:
    """Backtest a run's hotspot methods on each scope (the study area, then each province).

    Parameters
    ----------
    scopes
        ``(scope, name, incidents)``: ``scope`` is ``"región"`` or ``"provincia"``; the
        incidents have ``occurred_at``. They are a table, or the
        :class:`~parsc_geo.partitions.Partition` holding them (a province's, as a
        distributed run writes it): then a task of ``workers`` reads it and returns the
        months it can test (or why none), the cost of each and its number of incidents, and
        every month is a task that reads and prepares it again, whatever its size; this
        process holds none of its incidents, and the figures are those of its table. Taken
        one at a time: from a generator, each scope's table is freed once its months are
        planned (the tasks of large ones read their ``partitions``).
    methods
        The run's hotspot methods (``kde``, ``gistar``, ``hdbscan`` …); ``auto`` and the
        counts baseline are always added (:func:`evaluation_methods`).
    bandwidth
        The run's KDE radius in metres (None: the automatic rule).
    coverages
        Fractions of the study area.
    folds
        Months tested (the last whole ones).
    cell_size
        Cell side in metres (None: automatic per fold).
    auto_candidates
        Candidates ``auto`` chooses among (None: all of
        :func:`~.candidates.default_candidates`).
    pooled
        When given, the name of a first scope (``"región"``) that pools the others (see
        :func:`pooled_scope`): the area as a whole, each part marking its own share.
    workers
        Processes (or a shared :class:`~parsc_geo.parallel.WorkerPool`) the scopes are
        backtested in; the results do not depend on it.
    partitions
        The tables of ``scopes`` also written as partitions (:mod:`parsc_geo.partitions`),
        by scope name, as a run with workers writes them: the months of those scopes with
        at least :data:`~parsc_geo.partitions.READ_MIN_ROWS` incidents are tasks that read
        and prepare them in the worker, and this process holds none of their prepared
        incidents while they run (it plans them from the table). The results do not depend
        on it.

    Returns
    -------
    HistoricalAccuracy
    """
    from contextlib import nullcontext

    from ..parallel import worker_pool
    from ..partitions import READ_MIN_ROWS, Partition, map_partitions

    names, values, options = _options(methods, bandwidth, coverages, cell_size, auto_candidates)
    plans: list[_ScopePlan] = []
    for scope, name, inc in scopes:
        if isinstance(inc, Partition):
            # planned below, by a task that reads it
            plans.append(_ScopePlan(ScopeAccuracy(scope=scope, name=name), source=inc))
            continue
        result, data, months = _scope_plan(inc, scope=scope, name=name, folds=folds)
        plan = _ScopePlan(result, months=months)
        # a task carries its scope's prepared incidents (one table per scope in this
        # process, not one per month), or its partition when there is one: then this
        # process keeps none of it; the worker keeps those before the month's end
        if data is not None:
            plan.source = data
            if len(data.t) >= READ_MIN_ROWS:
                plan.source = (partitions or {}).get(name, data)
            plan.costs = [_fold_cost(data, fold) for fold in months]
            plan.rows = len(data.t)
        plans.append(plan)
        del data, inc
    unplanned = [plan for plan in plans if plan.months is None]
    # the pool is opened here when tasks plan scopes (and shared with the months' tasks)
    with worker_pool(workers) if unplanned else nullcontext(workers) as pool:
        if unplanned:
            found = map_partitions(
                _partition_plan,
                [cast("Partition", plan.source) for plan in unplanned],
                pool=pool,
                columns=_read_columns(),
                args=(folds,),
            )
            for plan, (result, months, costs, rows) in zip(unplanned, found, strict=True):
                plan.planned(result, months, costs, rows)
            del found
        # every month of every scope is a task of its own (the largest given out first): a
        # province's months cost about the same, and provinces differ tenfold
        return _backtest(
            [task for plan in plans for task in plan.tasks(options)],
            [(plan.result, bool(plan.months), plan.months or []) for plan in plans],
            names,
            values,
            pooled=pooled,
            workers=pool,
            parameters=_parameters(folds, cell_size, bandwidth, auto_candidates, pooled),
        )


@dataclass
class _ScopePlan:
    """A scope of :func:`historical_accuracy`: its result, months and their tasks' source.

    ``months`` is None until the scope is planned (a partition's, by a task); ``source`` is
    where its months' tasks find the incidents (see :class:`_FoldTask`), ``costs`` the cost
    of each month and ``rows`` the incidents a task holds.
    """

    result: ScopeAccuracy
    source: Data | Partition | None = None
    months: list[Any] | None = None
    costs: list[float] = field(default_factory=list)
    rows: int = 0

    def planned(
        self, result: ScopeAccuracy, months: list[Any], costs: list[float], rows: int
    ) -> None:
        """Take a partition's plan (:func:`_partition_plan`), named as the scope."""
        from dataclasses import replace

        self.result = replace(result, scope=self.result.scope, name=self.result.name)
        self.months, self.costs, self.rows = months, costs, rows

    def tasks(self, options: dict[str, Any]) -> list[_FoldTask]:
        """Return the scope's months as tasks (none when it cannot be tested)."""
        if self.source is None or not self.months:
            return []
        source = self.source
        return [
            _FoldTask(source, fold, options, cost, self.rows)
            for fold, cost in zip(self.months, self.costs, strict=True)
        ]


def _partition_plan(
    incidents: gpd.GeoDataFrame, folds: int
) -> tuple[ScopeAccuracy, list[Any], list[float], int]:
    """Return a partition's scope, months tested, their costs and its prepared incidents' count.

    A task of :func:`historical_accuracy` (the scope's kind and name are set by the caller);
    no months when the scope cannot be tested (its ``reason`` says why).
    """
    result, data, months = _scope_plan(incidents, scope="", name="", folds=folds)
    if data is None:
        return result, [], [], 0
    return result, months, [_fold_cost(data, fold) for fold in months], len(data.t)


def _options(
    methods: Any,
    bandwidth: float | None,
    coverages: tuple[float, ...],
    cell_size: float | None,
    auto_candidates: tuple[str, ...] | None,
) -> tuple[tuple[str, ...], tuple[float, ...], dict[str, Any]]:
    """Return the methods' evaluation names, the coverages and every month's options."""
    from .metrics import check_coverages

    names = evaluation_methods(methods, bandwidth)
    values = check_coverages(coverages)
    options = {
        "methods": names,
        "coverages": values,
        "cell_size": cell_size,
        "auto_candidates": auto_candidates,
    }
    return names, values, options


def _backtest(
    tasks: list[_FoldTask],
    plans: list[tuple[ScopeAccuracy, bool, list[Any]]],
    names: tuple[str, ...],
    values: tuple[float, ...],
    *,
    pooled: str | None,
    workers: WorkerPool | int,
    parameters: dict[str, Any],
) -> HistoricalAccuracy:
    """Run every month's task and return the backtest of the scopes.

    ``plans``: each scope's result, whether it is tested and its months (the tasks' months
    in this order).
    """
    from ..parallel import worker_pool

    with worker_pool(workers) as pool:
        entries = pool.map_largest_first(_fold_task, tasks, lambda t: t.cost, held=lambda t: t.rows)
    del tasks
    results = []
    for result, tested, months in plans:
        if tested:
            mine, entries = entries[: len(months)], entries[len(months) :]
            result = _finish_scope(result, mine, names, values)
        results.append(result)
    if pooled is not None:
        results.insert(0, pooled_scope(pooled, results, names, values))
    return HistoricalAccuracy(names, values, results, parameters)


def _parameters(
    folds: int,
    cell_size: float | None,
    bandwidth: float | None,
    auto_candidates: tuple[str, ...] | None,
    pooled: str | None,
) -> dict[str, Any]:
    """Return the parameters a backtest records."""
    return {
        "folds": int(folds),
        "fold_rule": DEFINITIONS_ES["pliegues"],
        "min_train": MIN_TRAIN,
        "min_test": MIN_TEST,
        "min_history_days": MIN_HISTORY_DAYS,
        "cell_size_m": cell_size,
        "cell_size_rule": "automático: 100 m salvo áreas muy grandes"
        if cell_size is None
        else None,
        "study_area_rule": "envolvente convexa de los incidentes de entrenamiento de cada pliegue",
        "bandwidth_m": bandwidth,
        "auto_candidates": list(auto_candidates) if auto_candidates is not None else "todos",
        "region_rule": None
        if pooled is None
        else "suma de las provincias: cada provincia marca su propio porcentaje de área, "
        "como el run dibuja sus hotspots provincia por provincia",
    }
