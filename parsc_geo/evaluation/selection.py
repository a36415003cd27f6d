"""Choice of a forecast by backtest on the analyst's own history (the rule behind ``auto``).

Folds (:func:`auto_folds`)
--------------------------
With the incidents given spanning ``[t₀, end)`` (``end`` = the forecast origin: the split date,
or the day after the last incident) and a forecast horizon ``H`` days, the inner test window is
``H_f = min(H, (end − t₀) / 3)``; fold origins step back from ``end − H_f`` by
``min(H_f, 30)`` days ("monthly" folds) while at least ``max(H_f, 30)`` days of history stay
before them, at most :data:`MAX_FOLDS` folds. Each fold trains on everything before its origin
(as the final forecast does) and is scored on the ``H_f`` days after it. The rule sees only the
incidents it is given, and none at or after ``end``.

Choice (:func:`choose`)
-----------------------
Every candidate is compared with the *reference* :data:`REFERENCE`: counts per cell with ties
broken by an 800 m KDE (``tiebreak_800``; it equals counts wherever counts differ). For each
coverage ``p``, with ``G`` the candidate's mean gain in captured test incidents per fold over
the reference, ``B`` the reference's mean capture and ``V`` the mean Poisson variance of that
gain (``Σ (w − w⁰)² · test`` over the cells where the two selections differ), the ratio is
``r = 1 + G / B`` and its standard error ``√(V / K) / B``, with ``K`` the number of
non-overlapping test windows the folds amount to (:func:`independent_folds`). The candidate's
*lower bound* is ``min_p (r − Z·se)`` with ``Z`` = :data:`Z` (1).

1. The reference is kept unless some candidate's lower bound exceeds 1: a candidate must beat
   it at every requested coverage by more than its own noise.
2. Among candidates whose lower bound is within :data:`NEAR_TIE` of the best, the simplest wins
   (complexity: counts, tie-broken counts, blends, KDE, time-weighted variants, Gi*).

Why the reference is not plain counts: counts leave many cells tied (every cell with 3
incidents, every cell with none), and which of them a map shows is arbitrary. Ordering them by
the neighbourhood's history never changes the order of different counts and captures more in
most forecasts. Candidates that depart further from counts (blends, KDE) differ in many cells,
so their backtest gains carry more noise; the lower bound makes them win only on clear
evidence, which keeps the choice at worst close to counts (the acceptance bar: at least 97 %
of the counts baseline's captures on every data set, more on the median). On 22 forecasts of
Toronto's 2014–2021 major-crime data (``benchmarks/bench_forecast.py``: one- and seven-year
fits, five crime categories, month-ahead forecasts; 100 m cells) ``auto`` captured 99.7 % to
110 % of counts at 1 % of the area (median 100.8 %) and 100.0 % to 138 % at 5 % (median
101.0 %); on 2020 → 2021, 100.25 % and 100.68 %.

Fallback
--------
With fewer than :data:`MIN_FOLDS` folds, inner test windows shorter than
:data:`MIN_TEST_DAYS` days, or fewer than :data:`MIN_TEST_INCIDENTS` test incidents over all
folds, there is too little history to compare candidates: the rule returns
:data:`FALLBACK` (the reference) and says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .backtest import BacktestResult, Fold, backtest
from .candidates import Candidate, default_candidates

if TYPE_CHECKING:
    from .candidates import History

#: Most folds of the automatic choice.
MAX_FOLDS = 12
#: Fewest folds needed to compare candidates.
MIN_FOLDS = 2
#: Shortest inner test window, days.
MIN_TEST_DAYS = 7.0
#: Fewest test incidents over all folds.
MIN_TEST_INCIDENTS = 50
#: Step between fold origins, days ("monthly").
STEP_DAYS = 30.0
#: Standard errors subtracted from a candidate's ratio to the reference (its lower bound).
Z = 1.0
#: Distance of lower bounds within which the simplest candidate is preferred.
NEAR_TIE = 0.002
#: The robust default that other candidates must beat with confidence.
REFERENCE = Candidate("tiebreak", bandwidth=800.0)
#: Rule used when there is too little history for folds.
FALLBACK = REFERENCE


def auto_folds(
    t: np.ndarray, horizon_days: float, end: float | None = None
) -> tuple[list[Fold], float]:
    """Return the folds of the automatic choice and the inner test window (days).

    Parameters
    ----------
    t
        Occurrence times of the incidents given, days (NaN ignored; times at or after ``end``
        are ignored too).
    horizon_days
        Length of the period the forecast is for.
    end
        Forecast origin; None: the day after the last incident.
    """
    times = np.asarray(t, dtype=float)
    times = times[np.isfinite(times)]
    if end is not None:
        times = times[times < end]
    if times.size == 0:
        return [], 0.0
    t0 = float(times.min())
    stop = math.floor(float(times.max())) + 1.0 if end is None else float(end)
    span = stop - t0
    test_days = min(float(horizon_days), span / 3.0)
    step = min(test_days, STEP_DAYS)
    min_train = max(test_days, STEP_DAYS)
    folds: list[Fold] = []
    origin = stop - test_days
    while len(folds) < MAX_FOLDS and origin - t0 >= min_train and step > 0:
        folds.append(Fold(start=-np.inf, origin=origin, end=origin + test_days))
        origin -= step
    folds.reverse()
    return folds, test_days


@dataclass
class Choice:
    """The outcome of the automatic choice.

    Attributes
    ----------
    candidate
        The chosen forecast rule.
    reason
        Why (Spanish, for messages and reports).
    fallback
        True when there was too little history to compare candidates.
    scores
        Per candidate: ``ratio`` (geometric mean over coverages of its mean capture relative
        to the reference), ``lower_bound``, ``ratio_by_coverage``, ``hit_rate_by_coverage``
        (pooled over folds), ``complexity`` and ``chosen``.
    folds
        The folds' dates.
    """

    candidate: Candidate
    reason: str
    fallback: bool
    scores: dict[str, dict[str, Any]] = field(default_factory=dict)
    folds: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return the choice and every candidate's backtest scores for ``attrs``/JSON."""
        return {
            "chosen": self.candidate.name,
            "chosen_label": self.candidate.label_es(),
            "chosen_parameters": self.candidate.as_dict(),
            "reason": self.reason,
            "fallback": self.fallback,
            "reference": REFERENCE.name,
            "z": Z,
            "folds": self.folds,
            "candidates": self.scores,
        }


def too_little_history(folds: list[Fold], test_days: float, n_test_total: int) -> str | None:
    """Return why the history is too short for folds (Spanish), or None when it suffices."""
    if len(folds) < MIN_FOLDS:
        return (
            f"historial insuficiente: {len(folds)} pliegue(s) posible(s), se necesitan {MIN_FOLDS}"
        )
    if test_days < MIN_TEST_DAYS:
        return (
            f"historial insuficiente: ventanas de prueba de {test_days:.1f} días "
            f"(mínimo {MIN_TEST_DAYS:g})"
        )
    if n_test_total < MIN_TEST_INCIDENTS:
        return (
            f"historial insuficiente: {n_test_total} incidentes de prueba en los pliegues "
            f"(mínimo {MIN_TEST_INCIDENTS})"
        )
    return None


def independent_folds(result: BacktestResult) -> float:
    """Return how many non-overlapping test windows the folds amount to (at least 1).

    Folds stepping by less than their test window share test incidents, so their agreement is
    weaker evidence than as many separate periods: the span the test windows cover, divided by
    one window, capped at the number of folds.
    """
    folds = result.folds
    if not folds:
        return 1.0
    window = max(f.end - f.origin for f in folds)
    span = max(f.end for f in folds) - min(f.origin for f in folds)
    return float(min(len(folds), max(1.0, span / window)))


def choose(result: BacktestResult) -> Choice:
    """Choose a candidate from a backtest (see the module rules).

    The backtest must include the reference candidate and have been run with it as
    ``reference``.
    """
    base = result.index(result.reference or REFERENCE.name)
    k_eff = independent_folds(result)
    mean_hits = result.hits.mean(axis=1)  # (candidates, coverages)
    base_hits = mean_hits[base]
    safe = np.where(base_hits > 0, base_hits, 1.0)
    ratio_p = np.where(base_hits > 0, mean_hits / safe, 1.0)
    se_p = np.sqrt(result.diff_var.mean(axis=1) / k_eff) / safe
    bound_p = np.where(base_hits > 0, ratio_p - Z * se_p, 1.0)
    ratio = np.exp(np.log(np.maximum(ratio_p, 1e-12)).mean(axis=1))
    bound = bound_p.min(axis=1)
    bound[base] = 1.0
    n_test_pool = float(result.n_test.sum())
    pooled = result.hits.sum(axis=1)
    scores: dict[str, dict[str, Any]] = {}
    for i, cand in enumerate(result.candidates):
        scores[cand.name] = {
            "label": cand.label_es(),
            "complexity": cand.complexity,
            "ratio": float(ratio[i]),
            "lower_bound": float(bound[i]),
            "ratio_by_coverage": {
                f"{p:g}": float(ratio_p[i, k]) for k, p in enumerate(result.coverages)
            },
            "hit_rate_by_coverage": {
                f"{p:g}": float(pooled[i, k] / n_test_pool) if n_test_pool else None
                for k, p in enumerate(result.coverages)
            },
        }
    best = float(bound.max())
    reference = result.candidates[base]
    if best <= 1.0:
        chosen = reference
        others = [i for i in range(len(ratio)) if i != base]
        if others:
            top = max(others, key=lambda i: (ratio[i], -i))
            reason = (
                "ningún candidato superó con confianza a la referencia "
                f"({reference.label_es()}); el mejor, {result.candidates[top].name}, "
                f"capturó un {(ratio[top] - 1) * 100:+.1f} %"
            )
        else:
            reason = "solo se evaluó la referencia"
    else:
        near = [i for i in range(len(bound)) if bound[i] >= best - NEAR_TIE]
        pick = min(near, key=lambda i: (result.candidates[i].complexity, -bound[i], i))
        chosen = result.candidates[pick]
        reason = (
            f"capturó un {(ratio[pick] - 1) * 100:+.1f} % de incidentes respecto de la "
            f"referencia ({reference.label_es()}) en {len(result.folds)} pliegues "
            f"(cota inferior {(bound[pick] - 1) * 100:+.1f} %)"
        )
    for name, entry in scores.items():
        entry["chosen"] = name == chosen.name
    return Choice(
        candidate=chosen,
        reason=reason,
        fallback=False,
        scores=scores,
        folds=[f.as_dict() for f in result.folds],
    )


def auto_choice(
    history: History,
    coverages: tuple[float, ...],
    horizon_days: float,
    *,
    end: float | None = None,
    candidates: tuple[Candidate, ...] | None = None,
) -> Choice:
    """Backtest the candidates on the history before ``end`` and choose one.

    Parameters
    ----------
    history
        Incidents on the evaluation grid; only those before ``end`` are used.
    coverages
        Fractions of the study area the forecast is for.
    horizon_days
        Length of the forecast period.
    end
        Forecast origin; None: the day after the last incident.
    candidates
        Candidates to compare (default :func:`default_candidates`); the reference is added
        when missing.

    Returns
    -------
    Choice
        The chosen candidate, or :data:`FALLBACK` with the reason when history is too short.
    """
    cands = tuple(candidates or default_candidates())
    if REFERENCE not in cands:
        cands = (REFERENCE, *cands)
    folds, test_days = auto_folds(history.t, horizon_days, end)
    n_test_total = 0
    for fold in folds:
        n_test_total += int(((history.t >= fold.origin) & (history.t < fold.end)).sum())
    short = too_little_history(folds, test_days, n_test_total)
    if short is not None:
        return Choice(
            candidate=FALLBACK,
            reason=f"{short}; se usa la regla por defecto: {FALLBACK.label_es()}",
            fallback=True,
            folds=[f.as_dict() for f in folds],
        )
    result = backtest(history, cands, folds, coverages, reference=REFERENCE.name)
    return choose(result)
