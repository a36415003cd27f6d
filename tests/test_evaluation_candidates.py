"""Tests of the candidate forecasts: KDE mass, time weights, windows, tie-break, blends, Gi*."""

from __future__ import annotations

import warnings

import libpysal
import numpy as np
import pytest
import shapely
from esda import G_Local

from parsc_geo._errors import ConfigError
from parsc_geo.evaluation.candidates import (
    Candidate,
    History,
    default_candidates,
    parse_candidate,
)
from parsc_geo.evaluation.cells import make_cell_grid

CRS = "EPSG:32717"
X0, Y0 = 775_000.0, 9_207_000.0


def _grid(side: float = 2000.0, cell: float = 100.0):  # type: ignore[no-untyped-def]
    return make_cell_grid(shapely.box(X0, Y0, X0 + side, Y0 + side), cell, CRS)


@pytest.mark.parametrize(("bandwidth", "tolerance"), [(100, 0.03), (150, 0.03), (300, 0.005)])
def test_kde_mass_equals_the_integral_of_the_quartic_kernel(
    bandwidth: float, tolerance: float
) -> None:
    # One incident at a cell centre. Reference: the quartic kernel 3/(πh²)·(1 − d²/h²)²
    # integrated over every cell by the midpoint rule on 1 m squares.
    grid = _grid()
    history = History(grid, np.array([X0 + 1050.0]), np.array([Y0 + 1050.0]), np.array([0.0]))
    mass = history.kde_mass(np.array([True]), bandwidth)
    xs = np.arange(0.5, 2000, 1.0)
    gx, gy = np.meshgrid(xs, xs[::-1])
    d2 = (gx - 1050.0) ** 2 + (gy - 1050.0) ** 2
    h2 = bandwidth * bandwidth
    kernel = np.where(d2 < h2, 3.0 / (np.pi * h2) * (1.0 - d2 / h2) ** 2, 0.0)
    exact = kernel.reshape(20, 100, 20, 100).sum(axis=(1, 3)).ravel()
    assert mass.sum() == pytest.approx(1.0)
    assert np.abs(mass - exact).max() < tolerance


def test_fit_uses_nothing_at_or_after_the_origin() -> None:
    grid = _grid()
    x = np.full(3, X0 + 1050.0)
    y = np.full(3, Y0 + 1050.0)
    t = np.array([0.0, 9.99, 10.0])  # the last one is at the origin: not used
    history = History(grid, x, y, t)
    counts = history.fit(Candidate("counts"), origin=10.0)
    assert counts.sum() == 2
    kde = history.fit(Candidate("kde", bandwidth=300.0), origin=10.0)
    assert kde.sum() == pytest.approx(2.0)


def test_time_weights_by_hand() -> None:
    # Ages 0, 10 and 30 days at the origin with τ = 10: weights 1/(1+0)=1, 1/(1+1)=0.5,
    # 1/(1+3)=0.25; the first two in one cell, the third in another.
    grid = _grid()
    x = np.array([X0 + 550.0, X0 + 560.0, X0 + 1450.0])
    y = np.array([Y0 + 550.0, Y0 + 560.0, Y0 + 1450.0])
    t = np.array([100.0, 90.0, 70.0])
    history = History(grid, x, y, t)
    scores = history.fit(Candidate("counts", decay_days=10.0), origin=100.0 + 1e-9)
    assert sorted(scores[scores > 0].tolist()) == pytest.approx([0.25, 1.5])
    pkde = history.fit(Candidate("kde", bandwidth=300.0, decay_days=10.0), origin=100.0 + 1e-9)
    # The kernels lie inside the grid: the weighted mass is the sum of the weights.
    assert pkde.sum() == pytest.approx(1.75)


def test_counts_window() -> None:
    grid = _grid()
    x = np.full(4, X0 + 550.0)
    y = np.full(4, Y0 + 550.0)
    t = np.array([0.0, 50.0, 80.0, 99.0])
    history = History(grid, x, y, t)
    # Last 30 days before 100: incidents at 80 and 99.
    assert history.fit(Candidate("counts", window_days=30.0), origin=100.0).sum() == 2


def test_tiebreak_never_changes_the_order_of_different_counts() -> None:
    rng = np.random.default_rng(5)
    grid = _grid()
    n = 400
    x = X0 + rng.uniform(0, 2000, n)
    y = Y0 + rng.uniform(0, 2000, n)
    history = History(grid, x, y, np.zeros(n))
    counts = history.fit(Candidate("counts"), origin=1.0)
    tiebreak = history.fit(Candidate("tiebreak", bandwidth=800.0), origin=1.0)
    more = counts[:, None] > counts[None, :]
    assert np.all((tiebreak[:, None] > tiebreak[None, :])[more])
    # and it does separate cells of equal counts
    zero = counts == 0
    assert len(np.unique(tiebreak[zero])) > 1


def test_blend_by_hand() -> None:
    grid = _grid()
    rng = np.random.default_rng(1)
    x = X0 + rng.uniform(200, 1800, 50)
    y = Y0 + rng.uniform(200, 1800, 50)
    history = History(grid, x, y, np.zeros(50))
    fit = history.fold(1.0)
    counts = fit.counts()
    kde = fit.kde(300.0)
    blend = fit.score(Candidate("blend", bandwidth=300.0, weight=0.2))
    # 0.8 × share of counts + 0.2 × share of KDE mass
    assert blend == pytest.approx(0.8 * counts / counts.sum() + 0.2 * kde / kde.sum())


def test_gistar_candidate_equals_esda_queen() -> None:
    rng = np.random.default_rng(2)
    grid = _grid(side=1000.0)  # 10 × 10 cells, a full rectangle
    x = X0 + rng.uniform(0, 1000, 300)
    y = Y0 + rng.uniform(0, 1000, 300)
    history = History(grid, x, y, np.zeros(300))
    z = history.fit(Candidate("gistar"), origin=1.0)
    counts = history.fit(Candidate("counts"), origin=1.0)
    # Our cells run north to south, west to east: the same row-major order as lat2W.
    w = libpysal.weights.lat2W(10, 10, rook=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = G_Local(counts, w, transform="B", star=True, permutations=0).Zs
    assert z == pytest.approx(np.asarray(expected))


def test_names_round_trip_and_bad_names() -> None:
    for candidate in default_candidates():
        assert parse_candidate(candidate.name) == candidate
    assert parse_candidate("counts_365d").window_days == 365
    assert parse_candidate("pcounts_365d").decay_days == 365
    for bad in ("kde", "blend_300", "pkde_150", "gistar_3", "tiebreak_800_30d", "foo"):
        with pytest.raises(ConfigError):
            parse_candidate(bad)
    with pytest.raises(ConfigError):
        Candidate("blend", bandwidth=300.0, weight=1.5)
