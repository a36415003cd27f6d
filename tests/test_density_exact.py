"""The binned FFT density against a direct (exact) summation and against scikit-learn."""

import math

import geopandas as gpd
import numpy as np
import pytest

from parsc_geo.density import kernel_density

UTM = "EPSG:32717"


def exact_density(kernel, h, gx, gy, xy, weights=None):
    """Direct sum of published kernel formulas at (gx, gy), per m² (written independently)."""
    w = np.ones(len(xy)) if weights is None else np.asarray(weights, float)
    out = np.empty(gx.size)
    fx, fy = gx.ravel(), gy.ravel()
    for start in range(0, fx.size, 4000):
        sl = slice(start, start + 4000)
        d2 = (fx[sl, None] - xy[None, :, 0]) ** 2 + (fy[sl, None] - xy[None, :, 1]) ** 2
        u2 = d2 / h**2
        if kernel == "quartic":  # Silverman (1986) eq. 4.5
            k = 3 / (math.pi * h**2) * np.where(u2 < 1, (1 - u2) ** 2, 0)
        elif kernel == "epanechnikov":
            k = 2 / (math.pi * h**2) * np.where(u2 < 1, 1 - u2, 0)
        elif kernel == "triangular":
            k = 3 / (math.pi * h**2) * np.where(u2 < 1, 1 - np.sqrt(u2), 0)
        elif kernel == "uniform":
            k = 1 / (math.pi * h**2) * (u2 <= 1)
        else:  # gaussian, σ = h
            k = np.exp(-d2 / (2 * h**2)) / (2 * math.pi * h**2)
        out[sl] = k @ w
    return out.reshape(gx.shape)


def random_points(n, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 6000, (n, 2))


def clustered_points(n, seed):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(1000, 5000, (6, 2))
    sizes = rng.multinomial(int(n * 0.8), [1 / 6] * 6)
    parts = [
        rng.normal(c, rng.uniform(150, 500), (k, 2)) for c, k in zip(centres, sizes, strict=True)
    ]
    parts.append(rng.uniform(0, 6000, (n - sum(sizes), 2)))
    return np.concatenate(parts)


def median_relative_error(kernel, h, cell, xy, weights=None):
    gdf = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=UTM)
    r = kernel_density(gdf, bandwidth=h, cell_size=cell, kernel=kernel, weights=weights, quiet=True)
    gx, gy = r.centres()
    # Exact values only where ours exceeds 3 % of its maximum (a superset of the cells above 5 %
    # of the exact maximum, given the accuracy checked here), to keep the test fast.
    near = r.array > 0.03 * r.array.max()
    exact = exact_density(kernel, h, gx[near], gy[near], xy, weights) * 1e6
    keep = exact > 0.05 * exact.max()
    rel = np.abs(r.array[near][keep] - exact[keep]) / exact[keep]
    return float(np.median(rel))


@pytest.mark.parametrize("data", [random_points, clustered_points])
@pytest.mark.parametrize(("divisor", "limit"), [(4, 0.02), (8, 0.006)])
def test_quartic_matches_exact_summation(data, divisor, limit):
    xy = data(1500, seed=11)
    h = 400.0
    err = median_relative_error("quartic", h, h / divisor, xy)
    assert err <= limit


@pytest.mark.parametrize("kernel", ["gaussian", "epanechnikov", "triangular"])
@pytest.mark.parametrize(("divisor", "limit"), [(4, 0.02), (8, 0.006)])
def test_smooth_kernels_match_exact_summation(kernel, divisor, limit):
    xy = clustered_points(1200, seed=12)
    # compare like with like: a gaussian σ that smooths like a 400 m quartic radius
    h = 400.0 / math.sqrt(8) if kernel == "gaussian" else 400.0
    err = median_relative_error(kernel, h, 400.0 / divisor, xy)
    assert err <= limit


def test_uniform_kernel_matches_exact_summation_loosely():
    # The uniform kernel jumps at its radius, so cells near a rim depend on which side of it the
    # nearest cell centres fall: binning error is O(δ) there, not O(δ²).
    xy = clustered_points(1200, seed=13)
    assert median_relative_error("uniform", 400.0, 50.0, xy) <= 0.03


def test_weighted_matches_exact_summation():
    xy = clustered_points(1000, seed=14)
    w = np.random.default_rng(1).uniform(0.5, 5.0, len(xy))
    assert median_relative_error("quartic", 400.0, 50.0, xy, w) <= 0.006


# ---- scikit-learn ----------------------------------------------------------------------------

SKLEARN = {
    "gaussian": "gaussian",
    "epanechnikov": "epanechnikov",
    "triangular": "linear",
    "uniform": "tophat",
}


@pytest.mark.parametrize(
    ("kernel", "limit"),
    [("gaussian", 0.006), ("epanechnikov", 0.006), ("triangular", 0.006), ("uniform", 0.03)],
)
def test_matches_scikit_learn_kernel_density(kernel, limit):
    from sklearn.neighbors import KernelDensity

    xy = clustered_points(1500, seed=21)
    # sklearn's bandwidth is the radius for tophat/epanechnikov/linear and σ for gaussian
    h = 150.0 if kernel == "gaussian" else 400.0
    gdf = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=UTM)
    r = kernel_density(
        gdf, bandwidth=h, cell_size=h / 8 if kernel != "gaussian" else 50, kernel=kernel, quiet=True
    )
    gx, gy = r.centres()
    cells = np.column_stack([gx.ravel(), gy.ravel()])
    ours = r.array.ravel()
    rng = np.random.default_rng(0)
    candidates = np.flatnonzero(ours > 0.05 * ours.max())
    pick = rng.choice(candidates, size=min(800, candidates.size), replace=False)
    kde = KernelDensity(kernel=SKLEARN[kernel], bandwidth=h, rtol=0.0, atol=0.0).fit(xy)
    # score_samples is the log of a density normalised to one: × n points, × 1e6 m² per km²
    theirs = np.exp(kde.score_samples(cells[pick])) * len(xy) * 1e6
    rel = np.abs(ours[pick] - theirs) / theirs
    assert np.median(rel) <= limit


def test_weighted_gaussian_matches_scikit_learn_sample_weight():
    from sklearn.neighbors import KernelDensity

    xy = clustered_points(800, seed=22)
    w = np.random.default_rng(3).uniform(0.2, 4.0, len(xy))
    gdf = gpd.GeoDataFrame({"harm": w}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=UTM)
    r = kernel_density(
        gdf, bandwidth=200.0, cell_size=25.0, kernel="gaussian", weights="harm", quiet=True
    )
    gx, gy = r.centres()
    ours = r.array.ravel()
    pick = np.flatnonzero(ours > 0.05 * ours.max())[::7]
    kde = KernelDensity(kernel="gaussian", bandwidth=200.0).fit(xy, sample_weight=w)
    theirs = (
        np.exp(kde.score_samples(np.column_stack([gx.ravel(), gy.ravel()])[pick])) * w.sum() * 1e6
    )
    assert np.median(np.abs(ours[pick] - theirs) / theirs) <= 0.006
