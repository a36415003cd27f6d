import numpy as np
import pytest
from esda.smoothing import Empirical_Bayes
from hypothesis import given, settings
from hypothesis import strategies as st

from parsc_geo._errors import InputDataError
from parsc_geo.priority.rates import crude_rate, empirical_bayes, percent_change

# ---------------------------------------------------------------- check inputs


def test_lengths_must_match():
    with pytest.raises(InputDataError, match="difieren en longitud"):
        crude_rate([1, 2], [100])


def test_population_must_be_positive():
    with pytest.raises(InputDataError, match="la población debe ser positiva"):
        empirical_bayes([1, 2], [100, 0])


def test_counts_must_be_non_negative():
    with pytest.raises(InputDataError, match="no negativos"):
        crude_rate([-1, 2], [100, 100])


# ---------------------------------------------------------------- check outputs


def test_crude_rate_by_hand():
    # 3 complaints among 22,225 inhabitants: 3 / 22225 * 100000 = 13.498...
    rate = crude_rate([3, 0, 150], [22_225, 1_000, 392_571])
    assert rate[0] == pytest.approx(13.4983127109, rel=1e-9)
    assert rate[1] == 0.0
    assert rate[2] == pytest.approx(150 / 392_571 * 1e5)


def test_empirical_bayes_by_hand():
    # Three units; every quantity worked out on paper.
    e = np.array([10.0, 2.0, 40.0])
    b = np.array([1000.0, 100.0, 2000.0])
    m = 52 / 3100
    r = e / b  # 0.01, 0.02, 0.02
    var = (1000 * (0.01 - m) ** 2 + 100 * (0.02 - m) ** 2 + 2000 * (0.02 - m) ** 2) / 3100
    s2 = var - m / (3100 / 3)
    assert s2 > 0
    w = s2 / (s2 + m / b)
    expected = (w * r + (1 - w) * m) * 1e5
    eb = empirical_bayes(e, b)
    np.testing.assert_allclose(eb.rate, expected, rtol=1e-12)
    np.testing.assert_allclose(eb.raw_rate, r * 1e5, rtol=1e-12)
    assert eb.prior_mean == pytest.approx(m * 1e5)
    assert eb.prior_variance == pytest.approx(s2)


def test_empirical_bayes_matches_esda_on_skewed_data():
    rng = np.random.default_rng(7)
    b = rng.integers(2_000, 400_000, size=40).astype(float)
    true_rate = rng.gamma(4.0, 2e-4, size=40)
    e = rng.poisson(b * true_rate).astype(float)
    ours = empirical_bayes(e, b, per=1.0)
    assert ours.prior_variance > 0
    ref = Empirical_Bayes(e, b).r.ravel()
    np.testing.assert_allclose(ours.rate, ref, rtol=1e-10)


def test_empirical_bayes_matches_esda_on_stl_homicides():
    libpysal = pytest.importorskip("libpysal")
    try:
        path = libpysal.examples.get_path("stl_hom.csv")
    except Exception:  # the example is not bundled in every libpysal install
        pytest.skip("libpysal example 'stl' not available offline")
    table = libpysal.io.open(path, "r")
    e, b = np.array(table[:, 10]).ravel(), np.array(table[:, 13]).ravel()
    ours = empirical_bayes(e, b, per=1.0).rate
    # Values printed in esda's own docstring for the first units.
    np.testing.assert_allclose(
        ours[:3], [2.36718950e-05, 4.54539167e-05, 4.78114019e-05], rtol=1e-6
    )


def test_negative_prior_variance_is_set_to_zero():
    # Rates that vary less than Poisson noise: s² < 0, every unit gets the regional rate.
    e = np.array([10.0, 11.0, 9.0])
    b = np.array([1000.0, 1000.0, 1000.0])
    eb = empirical_bayes(e, b)
    assert eb.prior_variance < 0
    np.testing.assert_allclose(eb.weight, 0.0)
    np.testing.assert_allclose(eb.rate, 30 / 3000 * 1e5)
    # PySAL keeps the negative variance, which gives weights outside [0, 1].
    ref = Empirical_Bayes(e, b).r.ravel() * 1e5
    assert not np.allclose(ref, eb.rate)


def test_small_population_shrinks_more():
    e = np.array([3.0, 300.0, 200.0, 120.0])
    b = np.array([2_000.0, 400_000.0, 200_000.0, 150_000.0])
    eb = empirical_bayes(e, b)
    assert eb.weight[0] < eb.weight[1]
    assert abs(eb.rate[0] - eb.prior_mean) < abs(eb.raw_rate[0] - eb.prior_mean)


def test_no_events_gives_zero_rates():
    eb = empirical_bayes([0, 0, 0], [10, 20, 30])
    np.testing.assert_array_equal(eb.rate, [0.0, 0.0, 0.0])


def test_percent_change():
    out = percent_change([120, 50, 3], [100, 0, 4])
    assert out[0] == pytest.approx(20.0)
    assert np.isnan(out[1])
    assert out[2] == pytest.approx(-25.0)


@given(st.lists(st.tuples(st.integers(0, 500), st.integers(100, 500_000)), min_size=2, max_size=30))
@settings(max_examples=60, deadline=None)
def test_smoothed_rate_lies_between_own_and_regional_rate(units):
    e = np.array([u[0] for u in units], dtype=float)
    b = np.array([u[1] for u in units], dtype=float)
    eb = empirical_bayes(e, b)
    low = np.minimum(eb.raw_rate, eb.prior_mean) - 1e-9
    high = np.maximum(eb.raw_rate, eb.prior_mean) + 1e-9
    assert np.all((eb.rate >= low) & (eb.rate <= high))
    assert np.all((eb.weight >= 0) & (eb.weight <= 1))
