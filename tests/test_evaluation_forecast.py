"""Tests of evaluate_forecast: baselines by hand, invariances, bootstrap, offsets, no peeking."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from parsc_geo._errors import ConfigError, InputDataError, InsufficientDataError
from parsc_geo.evaluation.backtest import to_days
from parsc_geo.evaluation.candidates import History
from parsc_geo.evaluation.forecast import evaluate_forecast
from parsc_geo.evaluation.selection import REFERENCE, auto_choice

CRS = "EPSG:32717"
X0, Y0 = 775_000.0, 9_207_000.0


def _frame(x: np.ndarray, y: np.ndarray, days: np.ndarray) -> gpd.GeoDataFrame:
    times = pd.Timestamp("2019-01-01", tz="America/Lima") + pd.to_timedelta(days, unit="D")
    return gpd.GeoDataFrame(
        {"incident_id": [f"i{i:05d}" for i in range(len(x))], "occurred_at": times},
        geometry=gpd.points_from_xy(x, y),
        crs=CRS,
    )


def _stable_then_ring(seed: int = 4) -> gpd.GeoDataFrame:
    """Two years of incidents on 25 fixed spots, then a year on rings 250 m around them."""
    rng = np.random.default_rng(seed)
    spots = (
        np.column_stack(
            [X0 + 500 + 700 * (np.arange(25) % 5), Y0 + 500 + 700 * (np.arange(25) // 5)]
        )
        + 50.0
    )  # cell centres of the 100 m grid
    n_train, n_test = 3000, 1500
    which = rng.integers(0, 25, n_train)
    train_xy = spots[which]
    train_t = rng.uniform(0, 730, n_train)
    which = rng.integers(0, 25, n_test)
    angle = rng.uniform(0, 2 * np.pi, n_test)
    test_xy = spots[which] + 250.0 * np.column_stack([np.cos(angle), np.sin(angle)])
    test_t = rng.uniform(731, 1095, n_test)
    background = rng.uniform([X0, Y0], [X0 + 4000, Y0 + 4000], (400, 2))
    background_t = rng.uniform(0, 1095, 400)
    xy = np.vstack([train_xy, test_xy, background])
    t = np.concatenate([train_t, test_t, background_t])
    return _frame(xy[:, 0], xy[:, 1], t).to_crs("EPSG:4326")


def test_counts_baseline_by_hand() -> None:
    # Study area 1 km² of 100 m cells: 100 cells. Training (2019): three incidents in cell A,
    # one in cell B. Test (2020): two in A, one in B, one in C.
    a, b, c = (X0 + 150, Y0 + 850), (X0 + 550, Y0 + 450), (X0 + 950, Y0 + 50)
    pts = [a, a, a, b, a, a, b, c]
    days = [10, 20, 30, 40, 400, 410, 420, 430]
    frame = _frame(np.array([p[0] for p in pts]), np.array([p[1] for p in pts]), np.array(days))
    out = evaluate_forecast(
        frame,
        split="2020-01-01",
        test_end="2021-01-01",
        coverages=(0.01, 0.02),
        methods=["counts"],
        cell_size=100.0,
        area=shapely.box(X0, Y0, X0 + 1000, Y0 + 1000),
        bootstrap=0,
        offsets=False,
        quiet=True,
    )
    p = out.parameters
    assert (p["n_train"], p["n_test"], p["study_area_km2"]) == (4, 4, pytest.approx(1.0))
    one, two = out.methods["counts"]["1"], out.methods["counts"]["2"]
    # 1 %: cell A → 2 of 4 test incidents, PAI 0.5 / 0.01 = 50, best 1 cell holds 2 → PEI* 1,
    # RRI (2/3) / (4/4).
    assert one["n_cells"] == 1 and one["area_km2"] == pytest.approx(0.01)
    assert one["hit_rate"] == pytest.approx(0.5)
    assert one["pai"] == pytest.approx(50.0)
    assert one["pei_star"] == pytest.approx(1.0)
    assert one["rri"] == pytest.approx(2 / 3)
    # 2 %: cells A and B → 3 of 4, PAI 37.5, best 2 cells hold 2 + 1 → PEI* 1, RRI 3/4.
    assert two["hit_rate"] == pytest.approx(0.75)
    assert two["pai"] == pytest.approx(37.5)
    assert two["pei_star"] == pytest.approx(1.0)
    assert two["rri"] == pytest.approx(0.75)
    # counts_last (the 366 days before the split, as long as the test year: all of 2019)
    # is always reported beside it.
    assert out.methods["counts_last"]["1"]["hit_rate"] == pytest.approx(0.5)


def _summary(evaluation) -> dict:  # type: ignore[no-untyped-def]
    return {
        name: {k: v for k, v in entry.items() if k != "info"}
        for name, entry in evaluation.methods.items()
    } | {"auto": evaluation.methods["auto"]["info"]["auto"]}


def test_invariant_to_row_order_and_method_order() -> None:
    frame = _stable_then_ring()
    kwargs = {"split": "2021-01-01", "cell_size": 100.0, "bootstrap": 50, "quiet": True}
    first = evaluate_forecast(frame, methods=["auto", "counts", "kde", "gistar"], **kwargs)
    shuffled = frame.sample(frac=1.0, random_state=3)
    second = evaluate_forecast(shuffled, methods=["gistar", "kde", "counts", "auto"], **kwargs)
    assert _summary(first) == _summary(second)
    # The selections are the same cells in the same order.
    for key, cells in first.selections.items():
        assert cells["cell_id"].tolist() == second.selections[key]["cell_id"].tolist()


def test_bootstrap_is_reproducible_with_a_seed() -> None:
    frame = _stable_then_ring()
    kwargs = {"split": "2021-01-01", "methods": ["counts"], "offsets": False, "quiet": True}
    a = evaluate_forecast(frame, bootstrap=200, seed=11, **kwargs).methods["counts"]["1"]
    b = evaluate_forecast(frame, bootstrap=200, seed=11, **kwargs).methods["counts"]["1"]
    c = evaluate_forecast(frame, bootstrap=200, seed=12, **kwargs).methods["counts"]["1"]
    assert a["bootstrap"] == b["bootstrap"]
    assert a["bootstrap"]["hit_rate"] != c["bootstrap"]["hit_rate"]
    low, high = a["bootstrap"]["hit_rate"]
    assert low <= a["hit_rate"] <= high


def test_offsets_include_the_main_grid() -> None:
    frame = _stable_then_ring()
    out = evaluate_forecast(frame, split="2021-01-01", methods=["counts"], bootstrap=0, quiet=True)
    offsets = out.methods["counts"]["1"]["offsets"]
    assert len(offsets["hit_rate"]) == 4
    assert offsets["hit_rate"][0] == pytest.approx(out.methods["counts"]["1"]["hit_rate"])
    assert offsets["hit_rate_min"] <= offsets["hit_rate_max"]


def _regime_change(seed: int = 4) -> gpd.GeoDataFrame:
    """Spots A hot in 2019–2020; spots B start late in 2020 and take over in 2021."""
    rng = np.random.default_rng(seed)
    spots = np.column_stack(
        [X0 + 550 + 600 * (np.arange(40) % 8), Y0 + 550 + 600 * (np.arange(40) // 8)]
    )
    a, b = spots[::2], spots[1::2]
    parts = [
        (a[rng.integers(0, 20, 1200)], rng.uniform(0, 730, 1200)),  # 60 per A spot, 2 years
        (b[rng.integers(0, 20, 400)], rng.uniform(670, 730, 400)),  # B: last 60 days of 2020
        (b[rng.integers(0, 20, 1600)], rng.uniform(731, 1095, 1600)),  # B hot in 2021
        (a[rng.integers(0, 20, 100)], rng.uniform(731, 1095, 100)),  # A fades in 2021
        (rng.uniform([X0, Y0], [X0 + 5500, Y0 + 3500], (600, 2)), rng.uniform(0, 1095, 600)),
    ]
    xy = np.vstack([p[0] for p in parts])
    t = np.concatenate([p[1] for p in parts])
    return _frame(xy[:, 0], xy[:, 1], t)


def test_auto_never_uses_test_period_incidents() -> None:
    frame = _regime_change()
    kwargs = {"split": "2021-01-01", "methods": ["auto"], "bootstrap": 0, "offsets": False}
    out = evaluate_forecast(frame, cell_size=100.0, quiet=True, **kwargs)
    chosen = out.methods["auto"]["info"]["auto"]
    # Up to the split, spots A were stable: nothing beats the reference with confidence.
    assert chosen["chosen"] == REFERENCE.name
    # Peeking would change the choice: with 2021 (spots B) in its folds, a time-weighted
    # forecast wins.
    t = to_days(frame["occurred_at"])
    history = History(out.grid, frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy(), t)
    peeking = auto_choice(history, (0.01, 0.05), 365.0)
    assert peeking.candidate.name != REFERENCE.name
    assert peeking.candidate.decay_days is not None
    # Moving every test-period incident elsewhere changes nothing in the choice.
    after = t >= to_days([pd.Timestamp("2021-01-01")])[0]
    rng = np.random.default_rng(9)
    new_xy = rng.uniform([X0, Y0], [X0 + 5500, Y0 + 3500], (int(after.sum()), 2))
    geoms = np.asarray(frame.geometry.values).copy()
    geoms[after] = gpd.points_from_xy(new_xy[:, 0], new_xy[:, 1])
    moved = frame.set_geometry(list(geoms), crs=CRS)
    again = evaluate_forecast(moved, cell_size=100.0, quiet=True, **kwargs)
    assert again.methods["auto"]["info"]["auto"] == chosen


def test_rolling_folds_report_each_fold_and_the_mean() -> None:
    frame = _stable_then_ring()
    out = evaluate_forecast(
        frame,
        split="2021-01-01",
        test_end="2022-01-01",
        methods=["counts", "kde_300"],
        bootstrap=0,
        offsets=False,
        rolling=("6M", "3M", "3M"),
        quiet=True,
    )
    assert out.rolling is not None
    folds = out.rolling["folds"]
    assert [f["origin"] for f in folds] == ["2021-01-01", "2021-04-01", "2021-07-01", "2021-10-01"]
    rates = [f["kde_300"]["1"]["hit_rate"] for f in folds]
    assert out.rolling["mean_hit_rate"]["kde_300"]["1"] == pytest.approx(np.mean(rates))
    assert all(
        f["train_start"] == str((pd.Timestamp(f["origin"]) - pd.DateOffset(months=6)).date())
        for f in folds
    )


def test_bad_input_errors() -> None:
    frame = _stable_then_ring()
    with pytest.raises(ConfigError):
        evaluate_forecast(frame, split="2025-01-01", test_end="2024-01-01", quiet=True)
    with pytest.raises(InsufficientDataError):
        evaluate_forecast(frame, split="2018-06-01", quiet=True)  # nothing before it
    with pytest.raises(ConfigError):
        evaluate_forecast(frame, split="2021-01-01", methods=["magia"], quiet=True)
    with pytest.raises(ConfigError):
        evaluate_forecast(frame, split="no es fecha", quiet=True)
    with pytest.raises(InputDataError):
        evaluate_forecast(frame.drop(columns="occurred_at"), split="2021-01-01", quiet=True)
