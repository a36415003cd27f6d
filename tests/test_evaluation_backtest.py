"""Tests of rolling-origin folds, backtests and the automatic choice rule (by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from parsc_geo._errors import ConfigError
from parsc_geo.evaluation.backtest import (
    BacktestResult,
    Fold,
    backtest,
    parse_window,
    rolling_origin_folds,
    to_days,
)
from parsc_geo.evaluation.candidates import Candidate, History
from parsc_geo.evaluation.cells import make_cell_grid
from parsc_geo.evaluation.selection import (
    FALLBACK,
    REFERENCE,
    auto_choice,
    auto_folds,
    choose,
    independent_folds,
)

CRS = "EPSG:32717"
X0, Y0 = 775_000.0, 9_207_000.0


def test_to_days_reads_local_wall_clock() -> None:
    naive = pd.Series([pd.Timestamp("1970-01-02"), pd.Timestamp("1970-01-01 12:00"), pd.NaT])
    assert to_days(naive)[:2].tolist() == [1.0, 0.5]
    assert np.isnan(to_days(naive)[2])
    # 23:00 in Lima is 04:00 UTC the next day; it stays on its local day.
    aware = pd.Series([pd.Timestamp("2021-01-01 23:00", tz="America/Lima")])
    assert to_days(aware)[0] == pytest.approx(to_days([pd.Timestamp("2021-01-01")])[0] + 23 / 24)


def test_rolling_origin_folds_by_hand() -> None:
    folds = rolling_origin_folds("2021-01-01", "2021-04-01", train="12M", test="1M", step="1M")
    as_dates = [f.as_dict() for f in folds]
    assert as_dates == [
        {"train_start": "2020-01-01", "origin": "2021-01-01", "test_end": "2021-02-01"},
        {"train_start": "2020-02-01", "origin": "2021-02-01", "test_end": "2021-03-01"},
        {"train_start": "2020-03-01", "origin": "2021-03-01", "test_end": "2021-04-01"},
    ]
    unlimited = rolling_origin_folds("2021-01-01", "2021-03-01", train=None, test="4W", step="4W")
    assert len(unlimited) == 2 and unlimited[0].start == -np.inf
    assert rolling_origin_folds("2021-01-01", "2021-01-15", train=None, test="1M", step="1M") == []


def test_parse_window() -> None:
    assert parse_window("12M") == pd.DateOffset(months=12)
    assert parse_window("30d") == pd.DateOffset(days=30)
    assert parse_window("2W") == pd.DateOffset(weeks=2)
    assert parse_window("1Y") == pd.DateOffset(years=1)
    for bad in ("M", "0M", "12X", "doce"):
        with pytest.raises(ConfigError):
            parse_window(bad)


def test_auto_folds_by_hand() -> None:
    t = np.arange(0.0, 360.0)  # days 0 … 359: the forecast origin is day 360
    folds, window = auto_folds(t, 30.0)
    # H_f = min(30, 360 / 3) = 30, monthly steps, at least 30 days of history before an origin:
    # origins 30, 60, …, 330 → 11 folds.
    assert window == 30.0
    assert [f.origin for f in folds] == [30.0 * i for i in range(1, 12)]
    assert all(f.end - f.origin == 30.0 for f in folds)
    folds, window = auto_folds(t, 365.0)
    # H_f = min(365, 120) = 120; origins 240, 210, …, 120 (at least 120 days before them).
    assert window == 120.0
    assert [f.origin for f in folds] == [120.0, 150.0, 180.0, 210.0, 240.0]
    # An explicit end ignores everything at or after it.
    folds, _ = auto_folds(np.concatenate([t, [400.0, 500.0]]), 30.0, end=360.0)
    assert folds[-1].end == 360.0


def test_backtest_counts_only_the_past() -> None:
    # Three cells in a row. Before day 10: two incidents in the west cell, one in the middle.
    # From day 10 to 20: three in the middle cell. Counts select the west cell at k = 1.
    grid = make_cell_grid(shapely.box(X0, Y0, X0 + 300, Y0 + 100), 100.0, CRS)
    x = X0 + np.array([50, 50, 150, 150, 150, 150, 250.0])
    y = Y0 + np.full(7, 50.0)
    t = np.array([1, 2, 3, 11, 12, 13, 25.0])  # the last one is after the fold's test window
    history = History(grid, x, y, t)
    result = backtest(
        history,
        (Candidate("counts"), Candidate("counts", window_days=5.0)),
        [Fold(start=-np.inf, origin=10.0, end=20.0)],
        (0.34,),  # k = round(0.34 × 3) = 1
    )
    assert result.n_test.tolist() == [3] and result.n_train.tolist() == [3]
    # counts: west cell (2) → 0 captured; last 5 days (5–10): nothing, all three cells tie at
    # 0 → each counts 1/3: 3 / 3 = 1 captured. Best possible: 3.
    assert result.hits[:, 0, 0].tolist() == pytest.approx([0.0, 1.0])
    assert result.best.tolist() == [[3.0]]
    rows = result.table()
    assert rows[0]["candidate"] == "counts" and rows[0]["pei_star"] == 0.0
    # variance of the gain over counts: selection weights west (1, 0, 0) and tied (⅓, ⅓, ⅓);
    # the difference (−⅔, ⅓, ⅓) weighs the test counts (0, 3, 0): (⅓)² × 3 = ⅓
    assert result.diff_var[:, 0, 0].tolist() == pytest.approx([0.0, 1 / 3])


def _result(hits: list[list[float]], var: list[list[float]], folds: int = 2) -> BacktestResult:
    cands = (
        REFERENCE,
        Candidate("blend", bandwidth=300.0, weight=0.2),
        Candidate("kde", bandwidth=150.0),
    )
    fold_list = tuple(Fold(-np.inf, 100.0 * i, 100.0 * i + 100.0) for i in range(folds))
    h = np.array(hits, dtype=float)[:, :, None]
    return BacktestResult(
        candidates=cands,
        folds=fold_list,
        coverages=(0.01,),
        hits=h,
        best=np.full((folds, 1), 200.0),
        n_test=np.full(folds, 500.0),
        n_train=np.full(folds, 1000.0),
        diff_var=np.array(var, dtype=float)[:, :, None],
        reference=REFERENCE.name,
    )


def test_choose_takes_the_best_lower_bound() -> None:
    # Two separate folds (K = 2). blend: +9 per fold, variance 4 → r = 1.09,
    # se = √(4/2)/100 = 0.01414, bound 1.0759. kde: +10, variance 50 → r = 1.10,
    # se = √(50/2)/100 = 0.05, bound 1.05. The blend wins on its bound.
    result = _result([[100, 100], [109, 109], [110, 110]], [[0, 0], [4, 4], [50, 50]])
    assert independent_folds(result) == 2.0
    choice = choose(result)
    assert choice.candidate.name == "blend_300_0.2"
    assert choice.scores["blend_300_0.2"]["lower_bound"] == pytest.approx(1.09 - np.sqrt(2) / 100)
    assert choice.scores["kde_150"]["lower_bound"] == pytest.approx(1.05)
    assert choice.scores["kde_150"]["ratio"] == pytest.approx(1.10)


def test_choose_keeps_the_reference_without_confident_gain() -> None:
    # kde +1 per fold but variance 100: se = √50/100 = 0.0707, bound 0.939 < 1.
    result = _result([[100, 100], [99, 99], [101, 101]], [[0, 0], [1, 1], [100, 100]])
    choice = choose(result)
    assert choice.candidate == REFERENCE
    assert "ningún candidato" in choice.reason


def test_choose_prefers_the_simpler_of_near_ties() -> None:
    # bounds: blend 1.0500 (complexity 2), kde 1.0515 (complexity 3): within 0.002 → blend.
    result = _result([[100, 100], [105, 105], [105.15, 105.15]], [[0, 0], [0, 0], [0, 0]])
    assert choose(result).candidate.name == "blend_300_0.2"
    # 0.01 apart → the better one.
    result = _result([[100, 100], [105, 105], [106, 106]], [[0, 0], [0, 0], [0, 0]])
    assert choose(result).candidate.name == "kde_150"


def test_independent_folds_of_overlapping_windows() -> None:
    # Windows of 120 days stepping 30: origins 0, 30, 60 → they cover 0–180 = 1.5 windows.
    result = _result([[1, 1, 1]] * 3, [[0, 0, 0]] * 3, folds=3)
    result.folds = tuple(Fold(-np.inf, 30.0 * i, 30.0 * i + 120.0) for i in range(3))
    assert independent_folds(result) == pytest.approx(1.5)


def test_auto_choice_falls_back_with_short_history() -> None:
    grid = make_cell_grid(shapely.box(X0, Y0, X0 + 1000, Y0 + 1000), 100.0, CRS)
    rng = np.random.default_rng(0)
    n = 200
    history = History(
        grid, X0 + rng.uniform(0, 1000, n), Y0 + rng.uniform(0, 1000, n), rng.uniform(0, 20, n)
    )
    choice = auto_choice(history, (0.05,), 30.0)
    # 21 days of history: one third is 7 days, and at most one fold keeps 30 days before it.
    assert choice.fallback
    assert choice.candidate == FALLBACK
    assert "historial insuficiente" in choice.reason
