"""Mann-Kendall: by hand, against pymannkendall and against scipy's Kendall tau."""

from __future__ import annotations

import math

import numpy as np
import pymannkendall
import pytest
from scipy import stats

from parsc_geo._errors import ConfigError
from parsc_geo.trends.mannkendall import mann_kendall


def test_by_hand_increasing_series() -> None:
    # x = 1..5: every one of the 10 pairs increases, S = 10.
    # Var(S) = n(n−1)(2n+5)/18 = 5·4·15/18 = 16.667; z = (10 − 1)/√16.667 = 2.2045;
    # p = 2(1 − Φ(2.2045)) = 0.02749; τ = 10/10 = 1.
    mk = mann_kendall(np.array([1.0, 2, 3, 4, 5]))
    assert mk.s[0] == 10
    assert mk.var_s[0] == pytest.approx(50 / 3)
    assert mk.z[0] == pytest.approx(9 / math.sqrt(50 / 3))
    assert mk.p[0] == pytest.approx(0.027486, abs=1e-6)
    assert mk.tau[0] == 1.0


def test_by_hand_with_ties() -> None:
    # x = [1, 2, 2, 3]: pairs (1,2)+ (1,2)+ (1,3)+ (2,2)0 (2,3)+ (2,3)+ → S = 5.
    # Ties: one group of 2 → Σ t(t−1)(2t+5) = 2·1·9 = 18; Var = (4·3·13 − 18)/18 = 7.6667.
    mk = mann_kendall(np.array([1.0, 2, 2, 3]))
    assert mk.s[0] == 5
    assert mk.var_s[0] == pytest.approx((156 - 18) / 18)
    assert mk.z[0] == pytest.approx(4 / math.sqrt(138 / 18))


def test_equals_pymannkendall_on_many_series_with_ties() -> None:
    rng = np.random.default_rng(2)
    rows = [rng.poisson(2.0, 12).astype(float) for _ in range(60)]  # many ties
    rows += [rng.normal(0, 1, 12) + 0.2 * np.arange(12) for _ in range(60)]
    rows += [np.round(rng.normal(0, 1, 36), 1) for _ in range(20)]
    for row in rows:
        ours = mann_kendall(row)
        ref = pymannkendall.original_test(row)
        assert ours.s[0] == ref.s
        assert ours.var_s[0] == pytest.approx(ref.var_s, rel=1e-12)
        assert ours.z[0] == pytest.approx(ref.z, rel=1e-12, abs=1e-12)
        assert ours.p[0] == pytest.approx(ref.p, rel=1e-10, abs=1e-14)
        assert ours.tau[0] == pytest.approx(ref.Tau, rel=1e-12)


def test_vectorised_rows_equal_one_at_a_time() -> None:
    rng = np.random.default_rng(5)
    x = rng.poisson(1.0, (300, 10)).astype(float)
    together = mann_kendall(x)
    for i in range(0, 300, 37):
        alone = mann_kendall(x[i])
        assert together.s[i] == alone.s[0]
        assert together.p[i] == alone.p[0]


def test_score_equals_scipy_kendall_tau_without_ties() -> None:
    # Without ties Kendall's tau between time and x is S / (n(n−1)/2).
    rng = np.random.default_rng(8)
    x = rng.normal(size=15)
    tau, _ = stats.kendalltau(np.arange(15), x)
    assert mann_kendall(x).tau[0] == pytest.approx(tau, rel=1e-12)


def test_constant_series_has_no_trend() -> None:
    mk = mann_kendall(np.zeros((2, 6)))
    assert list(mk.s) == [0, 0]
    assert list(mk.p) == [1.0, 1.0]


def test_rejects_non_finite_values() -> None:
    with pytest.raises(ConfigError, match="finitos"):
        mann_kendall(np.array([1.0, np.nan, 2.0]))
