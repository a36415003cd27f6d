"""Kernels, bandwidth rules and conversions, against formulas and numerical integration."""

import math

import geopandas as gpd
import numpy as np
import pytest
from scipy import integrate, stats

from parsc_geo._errors import ConfigError, InsufficientDataError
from parsc_geo._kernels import KERNELS, get_kernel
from parsc_geo.bandwidth import (
    convert_bandwidth,
    effective_n,
    likelihood_cv,
    scott,
    select_bandwidth,
    silverman_spatial,
    weighted_median,
)
from parsc_geo.density import kernel_density


def radial_integral(kernel, power, squared=False):
    """∫ |x|^power K(x) dx (or ∫ K²) over the plane for the unit, untruncated kernel."""
    k = KERNELS[kernel]
    upper = math.inf if kernel == "gaussian" else 1.0

    def f(r):
        value = k.norm * float(k.profile(np.array(r * r)))
        return (value**2 if squared else value) * r**power * 2 * math.pi * r

    return integrate.quad(f, 0, upper, limit=200)[0]


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_kernels_integrate_to_one_and_constants_hold(kernel):
    k = KERNELS[kernel]
    assert radial_integral(kernel, 0) == pytest.approx(1.0, rel=1e-9)
    # μ₂ = E[x²] = E[d²] / 2 for a radial kernel
    assert k.mu2 == pytest.approx(radial_integral(kernel, 2) / 2, rel=1e-9)
    assert k.roughness == pytest.approx(radial_integral(kernel, 0, squared=True), rel=1e-9)
    # the density used on grids is cut at the support: for the gaussian at 4σ, mass 1 − e^(−8)
    truncated = integrate.quad(
        lambda r: float(k.density(np.array(r * r), 1.0)) * 2 * math.pi * r, 0, k.support
    )[0]
    expected = 1 - math.exp(-8) if kernel == "gaussian" else 1.0
    assert truncated == pytest.approx(expected, rel=1e-9)


def test_quartic_is_silverman_formula():
    d = np.array([0.0, 100.0, 250.0, 499.0, 500.0, 600.0])
    expected = np.where(d < 500, 3 / (math.pi * 500**2) * (1 - d**2 / 500**2) ** 2, 0)
    np.testing.assert_allclose(KERNELS["quartic"].density(d**2, 500.0), expected, rtol=1e-14)


def test_convert_bandwidth_equal_variance_and_canonical():
    # equal variance: quartic μ₂ = r²/8, gaussian μ₂ = σ² → σ = r / √8
    assert convert_bandwidth(800, "quartic", "gaussian", method="variance") == pytest.approx(
        800 / math.sqrt(8)
    )
    assert convert_bandwidth(800, "uniform", "gaussian", method="variance") == pytest.approx(400)
    # canonical (Marron & Nolan 1988): δ = (R(K)/μ₂²)^(1/6), computed here from the closed forms
    delta_q = (9 / (5 * math.pi) / (1 / 8) ** 2) ** (1 / 6)
    delta_g = (1 / (4 * math.pi)) ** (1 / 6)
    assert convert_bandwidth(1000, "quartic", "gaussian") == pytest.approx(1000 * delta_g / delta_q)
    assert 1000 * delta_g / delta_q == pytest.approx(359.82, abs=0.01)
    for a in KERNELS:
        for b in KERNELS:
            there = convert_bandwidth(300, a, b)
            assert convert_bandwidth(there, b, a) == pytest.approx(300)
    with pytest.raises(ConfigError, match="method debe ser uno de"):
        convert_bandwidth(300, "quartic", "gaussian", method="amise")
    with pytest.raises(ConfigError, match="positivo"):
        convert_bandwidth(-1, "quartic", "gaussian")
    with pytest.raises(ConfigError, match="kernel debe ser uno de"):
        get_kernel("cosine")


def test_weighted_median_and_effective_n():
    rng = np.random.default_rng(0)
    for n in (7, 8):
        v = rng.normal(size=n)
        assert weighted_median(v, np.ones(n)) == pytest.approx(np.median(v))
    v = np.array([5.0, 1.0, 3.0])
    counts = np.array([1, 3, 1])
    assert weighted_median(v, counts) == np.median(np.repeat(v, counts)) == 1.0
    assert effective_n(np.ones(10)) == 10
    assert effective_n([2, 2, 2]) == 3
    assert effective_n([1, 0, 0, 0]) == 1


def test_silverman_spatial_is_the_arcgis_formula():
    rng = np.random.default_rng(1)
    xy = np.concatenate([rng.normal(0, 500, (300, 2)), rng.normal(4000, 900, (200, 2))])
    centre = xy.mean(axis=0)
    dist = np.hypot(*(xy - centre).T)
    sd = math.sqrt(np.mean(dist**2))  # standard distance
    dm = np.median(dist)
    expected = 0.9 * min(sd, math.sqrt(1 / math.log(2)) * dm) * len(xy) ** -0.2
    choice = silverman_spatial(xy)
    assert choice.value == pytest.approx(expected, rel=1e-12)
    assert choice.kernel == "quartic"
    assert choice.details["standard_distance_m"] == pytest.approx(sd)
    assert choice.details["median_distance_m"] == pytest.approx(dm)


def test_silverman_with_integer_weights_equals_repeated_points_except_n():
    rng = np.random.default_rng(2)
    xy = rng.normal(0, 700, (50, 2))
    counts = rng.integers(1, 4, 50)
    weighted = silverman_spatial(xy, counts)
    repeated = silverman_spatial(np.repeat(xy, counts, axis=0))
    # same mean centre, SD and Dm; n differs (Kish's effective n instead of Σw)
    assert weighted.details["standard_distance_m"] == pytest.approx(
        repeated.details["standard_distance_m"]
    )
    assert weighted.details["median_distance_m"] == pytest.approx(
        repeated.details["median_distance_m"]
    )
    ratio = (effective_n(counts) / counts.sum()) ** -0.2
    assert weighted.value == pytest.approx(repeated.value * ratio)


def test_scott_rule_formula():
    rng = np.random.default_rng(3)
    xy = np.column_stack([rng.normal(0, 300, 400), rng.normal(0, 700, 400)])
    sigma = math.sqrt((np.var(xy[:, 0]) + np.var(xy[:, 1])) / 2)
    assert scott(xy).value == pytest.approx(sigma * 400 ** (-1 / 6), rel=1e-12)
    assert scott(xy).kernel == "gaussian"


def loo_loglik_bruteforce(xy, h):
    """Leave-one-out log-likelihood of a gaussian KDE, with scipy's normal pdf."""
    dx = xy[:, None, 0] - xy[None, :, 0]
    dy = xy[:, None, 1] - xy[None, :, 1]
    k = stats.norm.pdf(dx, scale=h) * stats.norm.pdf(dy, scale=h)
    np.fill_diagonal(k, 0.0)
    return np.log(k.sum(axis=1) / (len(xy) - 1)).mean()


def test_likelihood_cv_finds_the_bruteforce_optimum():
    rng = np.random.default_rng(4)
    xy = np.concatenate([rng.normal(0, 400, (90, 2)), rng.normal(2500, 250, (60, 2))])
    ref = scott(xy).value
    grid = np.exp(np.linspace(math.log(ref / 30), math.log(ref * 3), 500))
    best = grid[np.argmax([loo_loglik_bruteforce(xy, h) for h in grid])]
    choice = likelihood_cv(xy)
    assert choice.value == pytest.approx(best, rel=0.01)
    assert choice.details["subsample_size"] == 150 and not choice.details["at_boundary"]


def test_likelihood_cv_on_normal_data_is_near_the_amise_optimum():
    # For normal data in 2-D the AMISE-optimal σ is Scott's σ̄ n^(-1/6) (Scott 1992, eq. 6.41).
    rng = np.random.default_rng(5)
    xy = rng.normal(0, 1000, (1000, 2))
    ratio = likelihood_cv(xy).value / scott(xy).value
    assert 0.6 < ratio < 1.5


def test_likelihood_cv_subsample_is_seeded_and_rescaled():
    rng = np.random.default_rng(6)
    xy = rng.normal(0, 1000, (3000, 2))
    a = likelihood_cv(xy, sample_size=500, seed=1)
    b = likelihood_cv(xy, sample_size=500, seed=1)
    c = likelihood_cv(xy, sample_size=500, seed=2)
    assert a.value == b.value and a.value != c.value
    assert a.details["subsample_size"] == 500
    assert a.value == pytest.approx(a.details["sigma_subsample_m"] * (500 / 3000) ** (1 / 6))


def test_select_bandwidth_converts_rules_to_the_kernel():
    rng = np.random.default_rng(7)
    xy = rng.normal(0, 1000, (400, 2))
    arc = select_bandwidth(xy, "arcgis", "quartic")
    assert arc.value == silverman_spatial(xy).value and arc.rule == "silverman"
    gauss = select_bandwidth(xy, "silverman", "gaussian")
    assert gauss.value == pytest.approx(convert_bandwidth(arc.value, "quartic", "gaussian"))
    sc = select_bandwidth(xy, "scott", "quartic")
    assert sc.value == pytest.approx(convert_bandwidth(scott(xy).value, "gaussian", "quartic"))
    assert sc.details["conversion"] == "canonical"
    with pytest.raises(ConfigError, match="bandwidth debe ser un número"):
        select_bandwidth(xy, "plugin", "quartic")
    with pytest.raises(InsufficientDataError, match="al menos 2 puntos"):
        select_bandwidth(xy[:1], "scott", "quartic")


@pytest.mark.parametrize("rule", ["silverman", "scott", "lcv"])
def test_kernel_density_records_each_rule(rule):
    rng = np.random.default_rng(8)
    xy = rng.normal(0, 2000, (300, 2))
    gdf = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:32717")
    r = kernel_density(gdf, bandwidth=rule, quiet=True)
    assert r.parameters["bandwidth_rule"] == rule
    assert r.bandwidth == pytest.approx(select_bandwidth(xy, rule, "quartic").value)
