"""Rolling-origin backtests: fit at an origin on the past, score on the window after it.

A fold has a training window ``[start, origin)`` and a test window ``[origin, end)``; folds
step back (or forward) by a fixed step. Nothing at or after a fold's origin enters its fit
(:meth:`parsc_geo.evaluation.candidates.History.fold` masks by time), so a backtest is an
honest replay of what the forecast would have captured.

Times are days as floats (:func:`to_days`: days since 1970-01-01 of the local wall-clock time),
so that windows of days and calendar months are plain subtractions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import ConfigError
from .metrics import best_capture, cells_for_coverage, exact_dot, selections

if TYPE_CHECKING:
    import pandas as pd

    from .candidates import Candidate, History

_EPOCH_NS = 86_400 * 1_000_000_000


def to_days(times: Any) -> np.ndarray:
    """Return local wall-clock times as days since 1970-01-01 (NaN for missing times).

    Time-zone-aware times are read in their own zone (a 23:30 incident stays on its local day).
    """
    import pandas as pd

    series = pd.Series(times)
    if not isinstance(series.dtype, pd.DatetimeTZDtype) and series.dtype != "datetime64[ns]":
        series = pd.to_datetime(series, errors="coerce")
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_localize(None)
    values = series.to_numpy(dtype="datetime64[ns]").astype("int64").astype(float)
    values[series.isna().to_numpy()] = np.nan
    return values / _EPOCH_NS


def from_days(days: float) -> pd.Timestamp:
    """Return the naive timestamp of ``days`` since 1970-01-01."""
    import pandas as pd

    return pd.Timestamp(round(days * _EPOCH_NS))


@dataclass(frozen=True)
class Fold:
    """One backtest fold: train on ``[start, origin)``, test on ``[origin, end)`` (days)."""

    start: float
    origin: float
    end: float

    def as_dict(self) -> dict[str, str]:
        """Return the fold's dates (ISO) for JSON."""
        return {
            "train_start": _iso(self.start),
            "origin": _iso(self.origin),
            "test_end": _iso(self.end),
        }


def _iso(days: float) -> str:
    if not np.isfinite(days):
        return "inicio de los datos"
    stamp = from_days(days)
    return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()


def rolling_origin_folds(
    first_origin: Any,
    last_end: Any,
    *,
    train: Any,
    test: Any,
    step: Any,
) -> list[Fold]:
    """Return folds whose origins start at ``first_origin`` and step forward.

    Parameters
    ----------
    first_origin
        Origin of the first fold (a date).
    last_end
        No fold's test window ends after this date.
    train, test, step
        Window lengths: pandas offsets or strings such as ``"12M"`` (calendar months), ``"4W"``,
        ``"30D"``, ``"1Y"``; ``train=None`` trains on everything before each origin.

    Returns
    -------
    list of Fold
        In time order; empty when not even one test window fits.

    Examples
    --------
    >>> folds = rolling_origin_folds("2021-01-01", "2021-04-01", train="12M", test="1M", step="1M")
    >>> [f.as_dict()["origin"] for f in folds]
    ['2021-01-01', '2021-02-01', '2021-03-01']
    """
    import pandas as pd

    origin = pd.Timestamp(first_origin)
    stop = pd.Timestamp(last_end)
    test_off, step_off = parse_window(test), parse_window(step)
    train_off = None if train is None else parse_window(train)
    folds = []
    while origin + test_off <= stop:
        start = -np.inf if train_off is None else to_days([origin - train_off])[0]
        folds.append(
            Fold(start=start, origin=to_days([origin])[0], end=to_days([origin + test_off])[0])
        )
        nxt = origin + step_off
        if nxt <= origin:
            raise ConfigError("el paso de los pliegues debe ser positivo")
        origin = nxt
    return folds


def parse_window(value: Any) -> Any:
    """Return a pandas offset from ``"12M"``, ``"1Y"``, ``"4W"``, ``"30D"`` or an offset.

    Raises
    ------
    ConfigError
        When the text is not a positive number followed by D, W, M or Y.
    """
    import pandas as pd

    if isinstance(value, pd.DateOffset | pd.Timedelta):
        return value
    text = str(value).strip().upper()
    if len(text) >= 2 and text[-1] in "DWMY":
        try:
            n = int(text[:-1])
        except ValueError:
            n = 0
        if n > 0:
            unit = text[-1]
            if unit == "D":
                return pd.DateOffset(days=n)
            if unit == "W":
                return pd.DateOffset(weeks=n)
            if unit == "M":
                return pd.DateOffset(months=n)
            return pd.DateOffset(years=n)
    raise ConfigError(
        f"ventana no válida: {value!r}",
        hint="use un número y una unidad: 30D (días), 4W (semanas), 12M (meses), 1Y (años)",
    )


@dataclass
class BacktestResult:
    """Captures of every candidate in every fold at every coverage.

    Attributes
    ----------
    candidates
        The candidates, in the order of the first axis.
    folds
        The folds, in the order of the second axis.
    coverages
        The coverages, in the order of the third axis.
    hits
        Expected test incidents captured (ties at the cut shared), shape
        (candidates, folds, coverages).
    best
        Most test incidents any selection of the same cells could hold, (folds, coverages).
    n_test
        Test incidents of each fold (those outside the grid included).
    n_train
        Training incidents of each fold.
    diff_var
        Poisson variance of each candidate's gain over the reference candidate (zeros without
        one): ``Σᵢ (wᵢ − w⁰ᵢ)² · testᵢ`` over cells, with ``w`` and
        ``w⁰`` the selection weights (:func:`~parsc_geo.evaluation.metrics.selection_weights`)
        of the candidate and the reference; shape (candidates, folds, coverages).
    """

    candidates: tuple[Candidate, ...]
    folds: tuple[Fold, ...]
    coverages: tuple[float, ...]
    hits: np.ndarray
    best: np.ndarray
    n_test: np.ndarray
    n_train: np.ndarray
    diff_var: np.ndarray
    reference: str | None = None

    def index(self, name: str) -> int:
        """Return the position of the candidate named ``name``."""
        for i, c in enumerate(self.candidates):
            if c.name == name:
                return i
        raise KeyError(name)

    def table(self) -> list[dict[str, Any]]:
        """Return one row per candidate, fold and coverage (hit rate and PEI*) for JSON."""
        rows = []
        for i, cand in enumerate(self.candidates):
            for j, fold in enumerate(self.folds):
                for k, p in enumerate(self.coverages):
                    n = float(self.n_test[j])
                    best = float(self.best[j, k])
                    rows.append(
                        {
                            "candidate": cand.name,
                            **fold.as_dict(),
                            "coverage": p,
                            "hits": float(self.hits[i, j, k]),
                            "n_test": int(n),
                            "hit_rate": float(self.hits[i, j, k]) / n if n else None,
                            "pei_star": float(self.hits[i, j, k]) / best if best else None,
                        }
                    )
        return rows


def backtest(
    history: History,
    candidates: tuple[Candidate, ...],
    folds: list[Fold] | tuple[Fold, ...],
    coverages: tuple[float, ...],
    *,
    reference: str | None = "counts",
) -> BacktestResult:
    """Fit every candidate in every fold and score it on the fold's test window.

    Parameters
    ----------
    history
        Incidents located on the evaluation grid (with times).
    candidates
        Forecast rules.
    folds
        Training and test windows.
    coverages
        Fractions of the study area.
    reference
        Name of the candidate against which the variance of gains is computed (if present).

    Returns
    -------
    BacktestResult
    """
    n_c, n_f, n_p = len(candidates), len(folds), len(coverages)
    hits = np.zeros((n_c, n_f, n_p))
    best = np.zeros((n_f, n_p))
    n_test = np.zeros(n_f)
    n_train = np.zeros(n_f)
    diff_var = np.zeros((n_c, n_f, n_p))
    ks = [cells_for_coverage(history.grid.n_cells, p) for p in coverages]
    ref = next((i for i, c in enumerate(candidates) if c.name == reference), None)
    for j, fold in enumerate(folds):
        fit = history.fold(fold.origin, fold.start)
        in_test = (history.t >= fold.origin) & (history.t < fold.end)
        test_counts = history.grid.counts(history.cell[in_test])
        n_test[j] = int(in_test.sum())
        n_train[j] = fit.n
        for k, kk in enumerate(ks):
            best[j, k] = best_capture(test_counts, kk)
        # Only cells with test incidents weigh in the captures and the variance: a tie spread
        # over a province's empty cells selects most of its grid (see Selection.captured).
        tested = np.flatnonzero(test_counts != 0.0)
        counts_tested = test_counts[tested]
        picks = []
        for i, cand in enumerate(candidates):
            chosen = selections(fit.score(cand), ks)
            picks.append(chosen)
            for k, selection in enumerate(chosen):
                hits[i, j, k] = selection.captured(test_counts, tested)
        if ref is None:
            continue
        for k in range(n_p):
            w0 = picks[ref][k].weights_at(tested)
            for i in range(n_c):
                if i == ref:
                    continue
                dw = picks[i][k].weights_at(tested) - w0
                diff_var[i, j, k] = exact_dot(dw * dw, counts_tested)
    return BacktestResult(
        candidates=tuple(candidates),
        folds=tuple(folds),
        coverages=tuple(coverages),
        hits=hits,
        best=best,
        n_test=n_test,
        n_train=n_train,
        diff_var=diff_var,
        reference=None if ref is None else reference,
    )
