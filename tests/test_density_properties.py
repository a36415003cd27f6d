"""Property tests: mass conservation, non-negativity, shift and shuffle invariance."""

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsc_geo.density import kernel_density

UTM = "EPSG:32717"
KERNELS = ["quartic", "gaussian", "epanechnikov", "triangular", "uniform"]

coords = st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 4000)), min_size=1, max_size=40)
common = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def frame(xy, weights=None):
    xy = np.asarray(xy, dtype=float)
    data = {} if weights is None else {"w": weights}
    return gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=UTM)


@pytest.mark.filterwarnings("ignore:una celda de .* es gruesa")
@common
@given(
    xy=coords,
    kernel=st.sampled_from(KERNELS),
    bandwidth=st.floats(60, 600),
    data=st.data(),
)
def test_mass_is_conserved_and_density_is_never_negative(xy, kernel, bandwidth, data):
    weights = data.draw(
        st.lists(st.floats(0.0, 10.0), min_size=len(xy), max_size=len(xy)).filter(
            lambda w: sum(w) > 0
        )
    )
    r = kernel_density(
        frame(xy, weights),
        bandwidth=bandwidth,
        cell_size=50,
        kernel=kernel,
        weights="w",
        quiet=True,
    )
    assert (r.array >= 0).all()
    assert r.integral() == pytest.approx(sum(weights), rel=1e-9)


@common
@given(
    xy=coords,
    kernel=st.sampled_from(KERNELS),
    shift=st.tuples(st.integers(-30, 30), st.integers(-30, 30)),
)
def test_shifting_points_by_whole_cells_shifts_the_raster(xy, kernel, shift):
    cell = 50.0
    a = kernel_density(frame(xy), bandwidth=300, cell_size=cell, kernel=kernel, quiet=True)
    moved = np.asarray(xy, float) + np.asarray(shift, float) * cell
    b = kernel_density(frame(moved), bandwidth=300, cell_size=cell, kernel=kernel, quiet=True)
    assert a.shape == b.shape
    np.testing.assert_allclose(b.array, a.array, rtol=1e-9, atol=1e-12 * a.array.max())
    assert b.transform.c == a.transform.c + shift[0] * cell
    assert b.transform.f == a.transform.f + shift[1] * cell


@common
@given(xy=coords, kernel=st.sampled_from(KERNELS), seed=st.integers(0, 2**32 - 1))
def test_shuffling_rows_changes_nothing(xy, kernel, seed):
    weights = np.linspace(0.5, 3.0, len(xy))
    order = np.random.default_rng(seed).permutation(len(xy))
    a = kernel_density(
        frame(xy, weights), bandwidth=250, cell_size=50, kernel=kernel, weights="w", quiet=True
    )
    b = kernel_density(
        frame(np.asarray(xy)[order], weights[order]),
        bandwidth=250,
        cell_size=50,
        kernel=kernel,
        weights="w",
        quiet=True,
    )
    assert a.transform == b.transform
    np.testing.assert_allclose(b.array, a.array, rtol=1e-9, atol=1e-12 * a.array.max())


@settings(max_examples=10, deadline=None)
@given(
    xy=st.lists(
        st.tuples(st.integers(0, 20000), st.integers(0, 20000)),
        min_size=3,
        max_size=60,
        unique=True,
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_automatic_choices_do_not_depend_on_row_order(xy, seed):
    order = np.random.default_rng(seed).permutation(len(xy))
    a = kernel_density(frame(xy), quiet=True)
    b = kernel_density(frame(np.asarray(xy)[order]), quiet=True)
    assert b.bandwidth == pytest.approx(a.bandwidth, rel=1e-12)
    assert a.cell_size == b.cell_size and a.shape == b.shape
