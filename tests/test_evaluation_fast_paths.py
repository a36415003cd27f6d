"""The evaluation's fast paths give the very numbers of the plain computations they replace.

Each fast path (issue 18) is compared, value for value and bit for bit, with the computation it
replaced, written out here as it was: a shapely square per lattice cell for the grid, Gi* from
:func:`parsc_geo.hotspots.gistar.gi_star_z`, the KDE mass summed over the whole raster, a
partition of every score for the cuts, a tree of every cell centre for the cluster methods, and
every scope in one task for the run's backtest.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from parsc_geo.evaluation.accuracy import historical_accuracy, scope_accuracy
from parsc_geo.evaluation.candidates import History
from parsc_geo.evaluation.cells import cells_sharing_area, make_cell_grid
from parsc_geo.evaluation.metrics import best_capture, cut_values, largest_values
from parsc_geo.hotspots.gistar import gi_star_z

CRS = "EPSG:32717"
X0, Y0 = 775_000.0, 9_207_000.0


def _every_cell(area: shapely.Geometry, cs: float) -> tuple[np.ndarray, tuple[int, ...]]:
    """The grid's cells as the code before issue 18 found them: one square per box cell."""
    minx, miny, maxx, maxy = area.bounds
    col0 = math.floor(minx / cs)
    col1 = max(math.ceil(maxx / cs), col0 + 1)
    row0 = -math.ceil(maxy / cs)
    row1 = max(-math.floor(miny / cs), row0 + 1)
    n_rows, n_cols = row1 - row0, col1 - col0
    rr, cc = np.divmod(np.arange(n_rows * n_cols, dtype=np.int64), n_cols)
    west = (col0 + cc) * cs
    north = -(row0 + rr) * cs
    boxes = shapely.box(west, north - cs, west + cs, north)
    keep = shapely.intersects(area, boxes) & ~shapely.touches(area, boxes)
    return np.flatnonzero(keep), (col0, row0, n_rows, n_cols)


def _areas() -> list[shapely.Geometry]:
    rng = np.random.default_rng(18)
    out = []
    for k in range(9):
        n = int(rng.integers(3, 200))
        spread = float(rng.uniform(300, 8000))
        xy = np.column_stack([rng.normal(X0, spread, n), rng.normal(Y0, spread, n)])
        if k % 3 == 0:  # the study area of a fold: a convex hull
            out.append(shapely.convex_hull(shapely.multipoints(xy)))
        elif k % 3 == 1:  # holes and several parts
            out.append(shapely.buffer(shapely.multipoints(xy), float(rng.uniform(50, 1500))))
        else:  # edges and corners exactly on the lattice lines (touching cells left out)
            c = np.round(xy / 100.0) * 100.0
            out.append(
                shapely.union_all(shapely.box(c[:, 0], c[:, 1], c[:, 0] + 300, c[:, 1] + 200))
            )
    # a triangle whose hypotenuse passes through lattice corners
    out.append(shapely.Polygon([(X0, Y0), (X0 + 3000, Y0), (X0, Y0 + 3000)]))
    return out


@pytest.mark.parametrize("area", _areas())
def test_quadtree_cells_are_those_of_testing_every_cell(area: shapely.Geometry) -> None:
    for cs in (100.0, 110.0):
        expected, (col0, row0, n_rows, n_cols) = _every_cell(area, cs)
        found = cells_sharing_area(area, cs, (0.0, 0.0), col0, row0, n_rows, n_cols)
        assert found.tolist() == expected.tolist()
        # and the grid is built from them
        grid = make_cell_grid(area, cs, CRS)
        assert grid.flat.tolist() == expected.tolist()


def _history(seed: int, n: int = 400) -> History:
    rng = np.random.default_rng(seed)
    xy = np.column_stack([rng.normal(X0, 2500, 60), rng.normal(Y0, 2500, 60)])
    grid = make_cell_grid(shapely.convex_hull(shapely.multipoints(xy)), 100.0, CRS)
    # clustered incidents (towns) and a few scattered ones, over 300 days
    centres = rng.normal([X0, Y0], 1500, (6, 2))
    pick = rng.integers(0, 6, n)
    x = centres[pick, 0] + rng.normal(0, 150, n)
    y = centres[pick, 1] + rng.normal(0, 150, n)
    return History(grid, x, y, rng.uniform(0, 300, n))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_gi_star_equals_gi_star_z(seed: int) -> None:
    h = _history(seed)
    counts = h.grid.counts(h.cell)
    weighted = counts * np.random.default_rng(seed).uniform(0.2, 3.0, counts.size)
    # whole numbers (counts: the z-scores of cells without values around them by their
    # neighbour count) and others (time-weighted counts), none, every cell, negative ones
    whole = (np.round(weighted * 7), np.ones_like(counts), counts - 1.0, np.zeros_like(counts))
    for y in (counts, weighted, *whole):
        expected = gi_star_z(y, h.queen_weights())
        assert np.array_equal(h.gi_star(y), expected, equal_nan=True)


def _mass_over_the_raster(h: History, bandwidth: float) -> np.ndarray:
    """The KDE mass as computed before issue 18: cut-off and sums over the whole raster."""
    from scipy import fft

    from parsc_geo._kernels import ROUNDOFF_CUTOFF

    g = h.grid
    mask = h.t < 200.0
    f, _, pad, shape = h.layout(bandwidth)
    _, spectrum = h.spectrum(mask, None, bandwidth)
    smooth = fft.irfft2(spectrum * h._kernel_spectrum(bandwidth), s=shape, workers=-1)
    inner = smooth[pad : pad + g.n_rows * f, pad : pad + g.n_cols * f]
    peak = float(inner.max())
    inner = np.where(inner < ROUNDOFF_CUTOFF * peak, 0.0, inner)
    mass = inner.reshape(g.n_rows, f, g.n_cols, f).sum(axis=(1, 3))
    return np.asarray(mass.ravel()[g.flat])


@pytest.mark.parametrize("bandwidth", [100.0, 150.0, 300.0, 800.0])
def test_kde_mass_of_the_grid_cells_equals_the_raster_sum(bandwidth: float) -> None:
    # radii of 100, 150 and 300 m on 100 m cells: 3, 2 and 1 sub-cells a side
    h = _history(4)
    _, spectrum = h.spectrum(h.t < 200.0, None, bandwidth)
    mass = h.mass(spectrum, bandwidth)
    assert np.array_equal(mass, _mass_over_the_raster(h, bandwidth))


def test_cuts_and_best_captures_equal_a_partition_of_every_value() -> None:
    rng = np.random.default_rng(5)
    n = 20_000
    for positive in (0, 30, 150, 5_000, n):
        s = np.zeros(n)
        where = rng.choice(n, positive, replace=False)
        s[where] = rng.integers(1, 6, positive) + rng.random(positive) * (positive % 2)
        for ks in ([1], [10, 100], [200, 1000], [n]):
            top = int(max(ks))
            expected = np.sort(np.partition(s, n - top)[n - top :])[::-1][np.asarray(ks) - 1]
            assert cut_values(s, ks).tolist() == expected.tolist()
        counts = np.floor(s)
        for k in (1, 10, 200, n):
            expected_best = float(np.partition(counts, n - k)[n - k :].sum())
            assert best_capture(counts, k) == expected_best
    # negative scores (Gi*) take the plain partition
    z = rng.normal(size=n)
    expected = np.sort(np.partition(z, n - 100)[n - 100 :])[::-1][[0, 99]]
    assert cut_values(z, [1, 100]).tolist() == expected.tolist()


def test_cluster_cells_equal_a_tree_of_every_cell_centre() -> None:
    h = _history(6)
    grid = h.grid
    rng = np.random.default_rng(6)
    polygons = [
        shapely.buffer(shapely.multipoints(rng.normal([X0, Y0], 800, (5, 2))), 300.0)
        for _ in range(4)
    ]
    polygons.append(shapely.box(X0 - 1e5, Y0 - 1e5, X0 - 9e4, Y0 - 9e4))  # off the grid
    x, y = grid.centres()
    tree = shapely.STRtree(shapely.points(x, y))
    for poly in polygons:
        expected = np.sort(tree.query(poly, predicate="contains"))
        cells = grid.cells_in_bounds(shapely.bounds(poly))
        cx, cy = grid.centres(cells)
        assert cells[shapely.contains_xy(poly, cx, cy)].tolist() == expected.tolist()


def _province(seed: int, n: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    centres = rng.normal([X0, Y0], 3000, (5, 2))
    pick = rng.integers(0, 5, n)
    when = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.uniform(0, 152, n), unit="D")
    frame = gpd.GeoDataFrame(
        {"occurred_at": when, "at_station": np.zeros(n, dtype=bool)},
        geometry=gpd.points_from_xy(
            centres[pick, 0] + rng.normal(0, 250, n), centres[pick, 1] + rng.normal(0, 250, n)
        ),
        crs=CRS,
    )
    return frame.to_crs("EPSG:4326")


def test_months_as_tasks_give_the_scopes_of_one_task_each() -> None:
    scopes = [("provincia", "A", _province(7, 900)), ("provincia", "B", _province(8, 400))]
    options = {"coverages": (0.01, 0.05), "folds": 2, "auto_candidates": ("counts", "kde_300")}
    result = historical_accuracy(scopes, methods=["kde", "gistar"], workers=2, **options)
    for (scope, name, incidents), got in zip(scopes, result.scopes, strict=True):
        alone = scope_accuracy(incidents, scope=scope, name=name, methods=result.methods, **options)
        assert got.ok and alone.ok
        assert got.as_dict() == alone.as_dict()


def test_queen_weights_equal_those_built_from_pairs() -> None:
    import scipy.sparse as sp

    g = _history(9).grid
    # the former construction: every (cell, neighbour) pair, then a CSR matrix of them
    rr, cc = np.divmod(g.flat, g.n_cols)
    lookup = np.full(g.n_rows * g.n_cols, -1, dtype=np.int64)
    lookup[g.flat] = np.arange(g.n_cells)
    sources, targets = [], []
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr == dc == 0:
                continue
            r, c = rr + dr, cc + dc
            ok = (r >= 0) & (r < g.n_rows) & (c >= 0) & (c < g.n_cols)
            j = np.full(g.n_cells, -1, dtype=np.int64)
            j[ok] = lookup[r[ok] * g.n_cols + c[ok]]
            sources.append(np.flatnonzero(j >= 0))
            targets.append(j[j >= 0])
    i, j = np.concatenate(sources), np.concatenate(targets)
    expected = sp.csr_matrix((np.ones(len(i)), (i, j)), shape=(g.n_cells, g.n_cells))
    w = _history(9).queen_weights()
    assert np.array_equal(w.indptr, expected.indptr)
    assert np.array_equal(w.indices, expected.indices)
    assert np.array_equal(w.data, expected.data)


def test_sparse_binning_equals_linear_binning() -> None:
    from parsc_geo._kernels import linear_binning
    from parsc_geo.evaluation.candidates import sparse_linear_binning

    rng = np.random.default_rng(10)
    n = 3_000
    # points on the raster, on its edges and beyond (shares dropped), some stacked
    x = np.concatenate([rng.uniform(-120, 50_120, n), np.full(50, 1_234.5)])
    y = np.concatenate([rng.uniform(-30_120, 120, n), np.full(50, -777.25)])
    # a few points on a large raster (the sums over the cells reached), many on a small one
    for shape in ((600, 1000), (60, 100)):
        for weights in (np.ones(len(x)), rng.uniform(0.1, 2.0, len(x))):
            options = {"x0": 0.0, "ytop": 0.0, "cell_size": 50.0, "shape": shape}
            expected = linear_binning(x, y, weights, **options)
            assert np.array_equal(sparse_linear_binning(x, y, weights, **options), expected)


@pytest.mark.parametrize("shape", [(810, 768), (729, 1000), (400, 375), (1215, 1280)])
def test_sparse_rfft2_equals_rfft2(shape: tuple[int, int]) -> None:
    from scipy import fft

    from parsc_geo.evaluation.candidates import sparse_rfft2

    rng = np.random.default_rng(11)
    values = np.zeros(shape)
    rows = rng.choice(shape[0], shape[0] // 5, replace=False)
    values[rows] = rng.random((len(rows), shape[1])) * (rng.random((len(rows), shape[1])) < 0.02)
    assert np.array_equal(sparse_rfft2(values), fft.rfft2(values))
    assert np.array_equal(sparse_rfft2(np.zeros(shape)), fft.rfft2(np.zeros(shape)))
    dense = rng.random(shape)
    assert np.array_equal(sparse_rfft2(dense), fft.rfft2(dense))


def _mass_by_direct_convolution(h: History, mask: np.ndarray, weights, bandwidth: float):  # type: ignore[no-untyped-def]
    """The KDE mass by scipy's direct 2-D convolution of the binned raster with the kernel."""
    from scipy import signal

    from parsc_geo._kernels import discrete_kernel, get_kernel
    from parsc_geo.evaluation.candidates import KERNEL, sparse_linear_binning

    g = h.grid
    f, sub, pad, shape = h.layout(bandwidth)
    w = np.ones(int(mask.sum())) if weights is None else weights
    binned = sparse_linear_binning(
        h.x[mask],
        h.y[mask],
        w,
        x0=g.x0 - pad * sub,
        ytop=g.ytop + pad * sub,
        cell_size=sub,
        shape=shape,
    )
    kern = discrete_kernel(get_kernel(KERNEL), bandwidth, sub)
    smooth = signal.convolve2d(binned, kern, mode="same")
    inner = smooth[pad : pad + g.n_rows * f, pad : pad + g.n_cols * f]
    return inner.reshape(g.n_rows, f, g.n_cols, f).sum(axis=(1, 3)).ravel()[g.flat]


@pytest.mark.parametrize("bandwidth", [100.0, 150.0, 300.0, 800.0])
@pytest.mark.parametrize("timed", [False, True])
def test_direct_kde_mass_equals_a_direct_convolution_and_the_fft(
    bandwidth: float, timed: bool
) -> None:
    h = _history(6)
    mask = h.t < 200.0
    weights = 1.0 / (1.0 + (200.0 - h.t[mask]) / 30.0) if timed else None
    direct = h.direct_mass(mask, weights, bandwidth)
    expected = _mass_by_direct_convolution(h, mask, weights, bandwidth)
    _, spectrum = h.spectrum(mask, weights, bandwidth)
    by_fft = h.mass(spectrum, bandwidth)
    peak = float(expected.max())
    # the same numbers up to round-off (33.3 m sub-cells place the points within 1e-12 m)
    assert np.allclose(direct, expected, rtol=1e-9, atol=1e-12 * peak)
    assert np.allclose(by_fft, expected, rtol=1e-9, atol=1e-12 * peak)
    # cells without mass are exactly zero on both paths (FFT noise is cut off)
    assert np.array_equal(direct > 0, by_fft > 0)
    assert np.array_equal(direct > 0, expected > 1e-12 * peak)
    # the weighted incidents' mass is in the grid (some spills beyond the box edge)
    assert direct.sum() <= float(mask.sum() if weights is None else weights.sum()) + 1e-9


def test_the_direct_kde_is_used_for_few_incidents_on_a_large_raster() -> None:
    h = _history(7)
    _, _, _, shape = h.layout(800.0)
    reach = 17  # 800 m over 100 m cells: 8 cells each side of the centre's
    # four binned corners per incident, each reaching 17 × 17 cells: direct while that
    # is at most the raster's sub-cells
    limit = shape[0] * shape[1] // (4 * reach * reach)
    assert h.direct(limit, 800.0)
    assert not h.direct(limit + 1, 800.0)
    paths = set()
    for bandwidth in (150.0, 800.0):
        for origin in (20.0, 300.0):
            fit = h.fold(origin)
            if h.direct(fit.n, bandwidth):
                expected = h.direct_mass(fit.mask, None, bandwidth)
            else:
                expected = h.mass(h.spectrum(fit.mask, None, bandwidth)[1], bandwidth)
            paths.add(h.direct(fit.n, bandwidth))
            assert np.array_equal(fit.kde(bandwidth), expected)
    assert paths == {True, False}


@pytest.mark.parametrize("method", ["hdbscan", "dbscan"])
def test_cluster_methods_score_the_cells_as_with_every_column(method: str) -> None:
    from parsc_geo.evaluation.methods import Training, fit_method
    from parsc_geo.hotspots import hotspot_dbscan, hotspot_hdbscan

    frame = _province(11, 1500).to_crs(CRS)
    rng = np.random.default_rng(11)
    n = len(frame)
    # describing columns the backtest leaves out, and ids whose order is not the rows'
    frame["incident_id"] = [f"D-{k:05d}" for k in rng.permutation(n)]
    frame["distrito"] = rng.choice(["CAJAMARCA", "BAÑOS DEL INCA"], n)
    frame["modalidad"] = rng.choice(["HURTO", "ROBO"], n)
    x = frame.geometry.x.to_numpy()
    y = frame.geometry.y.to_numpy()
    t = (frame["occurred_at"] - pd.Timestamp("1970-01-01")).dt.total_seconds().to_numpy() / 86400
    grid = make_cell_grid(
        shapely.convex_hull(shapely.multipoints(np.column_stack([x, y]))), 100.0, CRS
    )
    history = History(grid, x, y, t)
    origin = float(t.max()) + 1.0
    fitted = fit_method(method, Training(history, frame, origin, 30.0, (0.01, 0.05)))
    # the reference: the hotspots of every column, each cell scored by its densest cluster
    function = hotspot_hdbscan if method == "hdbscan" else hotspot_dbscan
    hotspots = function(frame, quiet=True, exclude_at_station=False).to_crs(CRS)
    assert len(hotspots) > 1
    rank = hotspots["density"].rank(method="first").to_numpy()
    cx, cy = grid.centres()
    expected = np.zeros(grid.n_cells)
    for poly, level in zip(hotspots.geometry, rank, strict=True):
        inside = shapely.contains_xy(poly, cx, cy)
        expected[inside] = np.maximum(expected[inside], level)
    assert fitted.info["n_clusters"] == len(hotspots)
    assert np.array_equal(fitted.score(history, origin), expected)


def test_direct_kde_mass_summed_by_chunks_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    from parsc_geo.evaluation import candidates

    h = _history(12)
    mask = h.t < 250.0
    whole = h.direct_mass(mask, None, 300.0)
    # a few corners at a time: many partial sums of the same terms
    monkeypatch.setattr(candidates, "_DIRECT_TERMS", 500)
    by_chunks = h.direct_mass(mask, None, 300.0)
    assert np.allclose(by_chunks, whole, rtol=1e-12, atol=0.0)
    assert np.array_equal(by_chunks > 0, whole > 0)
    # incidents far outside the grid's box reach none of its cells
    far = History(h.grid, h.x + 1e6, h.y, h.t)
    assert not far.direct_mass(mask, None, 300.0).any()


@pytest.mark.parametrize("n", [40_000, 250_000])
def test_cuts_of_large_grids_equal_a_partition_of_every_value(n: int) -> None:
    # grids past the sampled cut's threshold: dense KDE-like values, ties, a sorted raster
    # (the evenly spaced sample sees a biased share), a few huge values, -inf (NaN scores)
    rng = np.random.default_rng(11)
    dense = rng.gamma(0.3, size=n)
    tied = np.round(rng.random(n) * 4)
    ramp = np.sort(rng.random(n))
    spikes = np.where(rng.random(n) < 0.001, 1e9, rng.random(n))
    with_inf = np.where(rng.random(n) < 0.9, -np.inf, rng.random(n))
    sparse = np.where(rng.random(n) < 0.02, rng.random(n), 0.0)
    for s in (dense, tied, ramp, ramp[::-1].copy(), spikes, with_inf, sparse):
        for ks in ([1], [n // 100, n // 20], [n // 4], [n // 2, n]):
            top = int(max(ks))
            expected = np.sort(np.partition(s, n - top)[n - top :])[::-1][np.asarray(ks) - 1]
            assert cut_values(s, ks).tolist() == expected.tolist()


def _selected_as_before(s: np.ndarray, k: int, cut: float) -> tuple[np.ndarray, np.ndarray]:
    """The cells of the ``k`` best and their weights as found before: a pass over every cell."""
    idx = np.flatnonzero(s >= cut)
    values = s[idx]
    above = values > cut
    n_above = int(np.count_nonzero(above))
    n_tied = idx.size - n_above
    return idx, np.where(above, 1.0, (k - n_above) / n_tied if n_tied else 0.0)


def _rankings(n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Scores as the candidates give them: dense, sparse, mostly tied at 0, Gi*-like, −∞."""
    counts = np.where(rng.random(n) < 0.01, rng.integers(1, 4, n), 0).astype(float)
    mass = np.where(rng.random(n) < 0.3, rng.gamma(0.5, size=n), 0.0)
    share = mass / mass.sum()
    # every step-th value is the sample of a large grid's guessed cut: samples that see only
    # the lowest values (the guess is below most cells) or a few high ones (above the cut)
    step = max(1, n // 4096)
    sampled = np.arange(n) % step == 0
    low = np.where(sampled, 1.0, 2.0 + rng.random(n))
    high = np.where(np.arange(n) % (4 * step) == 0, 5.0, rng.random(n))
    return [
        low,
        high,
        counts,  # ties at 0 hold the larger cuts: every cell is selected
        counts + share,  # tiebreak-like: a positive cut
        0.8 * counts / counts.sum() + 0.2 * share,  # blend-like
        mass,  # KDE-like, dense enough for the sampled cut on large grids
        np.where(rng.random(n) < 0.95, -0.25, rng.normal(size=n)),  # Gi*-like tie below 0
        np.where(rng.random(n) < 0.5, -np.inf, rng.random(n)),  # NaN scores, cleaned
        np.zeros(n),
        rng.random(n),
    ]


@pytest.mark.parametrize("n", [500, 40_000, 120_000])
def test_selections_capture_the_very_numbers_of_a_pass_over_every_cell(n: int) -> None:
    from parsc_geo.evaluation.metrics import exact_dot, selections

    rng = np.random.default_rng(n)
    test = np.where(rng.random(n) < 0.004, rng.integers(1, 5, n), 0).astype(float)
    counted = np.flatnonzero(test)
    ks = [max(1, n // 100), max(1, n // 20)]
    for s in _rankings(n, rng):
        cuts = np.sort(s)[::-1][np.asarray(ks) - 1]
        for chosen, k, cut in zip(selections(s, ks), ks, cuts, strict=True):
            idx, w = _selected_as_before(s, k, float(cut))
            assert chosen.cut == cut and chosen.k == k
            cells, weights = chosen.cells_and_weights()
            assert cells.tolist() == idx.tolist() and weights.tolist() == w.tolist()
            expected = exact_dot(w, test[idx])  # the same sum, bit for bit
            assert chosen.captured(test) == expected
            assert chosen.captured(test, counted) == expected
            full = np.zeros(n)
            full[idx] = w
            somewhere = rng.integers(0, n, 300)
            assert chosen.weights_at(somewhere).tolist() == full[somewhere].tolist()


def test_selections_of_every_cell_list_the_cells_left_out() -> None:
    from parsc_geo.evaluation.metrics import selections

    # counts of 1 in 3 cells of 10, the rest 0: the 5 best take the three and share 2 places
    # among the 7 zeros; nothing is left out
    s = np.array([0, 1, 0, 0, 1, 0, 0, 0, 1, 0], dtype=float)
    (chosen,) = selections(s, [5])
    assert (chosen.cut, chosen.n_above, chosen.n_tied) == (0.0, 3, 7)
    assert chosen.cells is None and chosen.left_out is not None and chosen.left_out.size == 0
    assert chosen.tie_weight == 2 / 7
    test = np.array([2, 0, 0, 0, 3, 0, 0, 0, 0, 1], dtype=float)
    # 3 whole + (2 + 1) × 2/7, summed as 0 + ... over the ten products
    assert chosen.captured(test) == float(np.sum(np.where(s > 0, 1.0, 2 / 7) * test))
    # a tie below most cells: the few below the cut are listed as left out
    z = np.array([-2.0, 1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -3.0, -1.0, 2.0])
    (chosen,) = selections(z, [3])
    assert chosen.cells is None and chosen.left_out is not None
    assert chosen.left_out.tolist() == [0, 7]
    assert (chosen.n_above, chosen.n_tied, chosen.tie_weight) == (2, 6, 1 / 6)
    test = np.array([5, 1, 1, 0, 0, 0, 0, 4, 0, 1], dtype=float)
    products = np.array([1.0, 1 / 6, 0, 0, 0, 0, 0, 1.0])  # cells 1, 2, 3, 4, 5, 6, 8, 9
    assert chosen.captured(test) == float(np.sum(products))


@pytest.mark.parametrize("n", [4_096, 30_000])
def test_order_statistics_equal_a_sort(n: int) -> None:
    from parsc_geo.evaluation.metrics import order_statistics

    rng = np.random.default_rng(n)
    zeros = np.where(rng.random(n) < 0.9, 0.0, rng.random(n))
    tied = np.round(rng.random(n) * 3)
    for values in (zeros, tied, rng.random(n), np.sort(zeros), np.zeros(n)):
        ordered = np.sort(values)
        for at in ([0], [n - 1], [n // 2], [n - 300, n - 20], [5, 5]):
            assert order_statistics(values, at).tolist() == ordered[at].tolist()
    assert order_statistics(np.array([7.0]), [0]).tolist() == [7.0]


def _direct_mass_as_before(h: History, mask: np.ndarray, weights, bandwidth: float, terms: int):  # type: ignore[no-untyped-def]
    """The direct KDE mass as summed before: every corner's kernel gathered, zeros added to."""
    from parsc_geo._kernels import ROUNDOFF_CUTOFF

    g = h.grid
    f, sub, _, _ = h.layout(bandwidth)
    kernels, lo = h._cell_kernels(bandwidth)
    n = kernels.shape[-1]
    w = np.ones(int(mask.sum())) if weights is None else np.asarray(weights, dtype=float)
    fx = (h.x[mask] - g.x0) / sub - 0.5
    fy = (g.ytop - h.y[mask]) / sub - 0.5
    ix, iy = np.floor(fx), np.floor(fy)
    tx, ty = fx - ix, fy - iy
    col, row = ix.astype(np.intp), iy.astype(np.intp)
    rows = np.concatenate([row, row, row + 1, row + 1])
    cols = np.concatenate([col, col + 1, col, col + 1])
    wy0, wy1 = w * (1.0 - ty), w * ty
    shares = np.concatenate([wy0 * (1.0 - tx), wy0 * tx, wy1 * (1.0 - tx), wy1 * tx])
    cell_row, p = np.divmod(rows, f)
    cell_col, q = np.divmod(cols, f)
    margin = n - 1 + lo if n - 1 + lo > -lo else -lo
    keep = (
        (cell_row >= -margin)
        & (cell_row < g.n_rows + margin)
        & (cell_col >= -margin)
        & (cell_col < g.n_cols + margin)
        & (shares != 0.0)
    )
    width = g.n_cols + 4 * margin
    size = (g.n_rows + 4 * margin) * width
    first = (cell_row[keep] + 2 * margin + lo) * width + cell_col[keep] + 2 * margin + lo
    phase = p[keep] * f + q[keep]
    shares = shares[keep]
    offsets = (np.arange(n)[:, None] * width + np.arange(n)[None, :]).ravel()
    per_phase = kernels.reshape(f * f, n * n)
    total = np.zeros(size)
    step = max(1, terms // (n * n))
    for at in range(0, len(first), step):
        end = at + step
        cells = (first[at:end, None] + offsets[None, :]).ravel()
        values = (shares[at:end, None] * per_phase[phase[at:end]]).ravel()
        total += np.bincount(cells, values, minlength=size)
    reached = np.flatnonzero(total)
    box_row, box_col = np.divmod(reached, width)
    cells = g.at(box_row - 2 * margin, box_col - 2 * margin)
    values = total[reached[cells >= 0]]
    cells = cells[cells >= 0]
    if values.size:
        values[values < ROUNDOFF_CUTOFF * float(values.max())] = 0.0
    mass = np.zeros(g.n_cells)
    mass[cells] = values
    return mass


@pytest.mark.parametrize("bandwidth", [100.0, 150.0, 300.0, 800.0])
@pytest.mark.parametrize("terms", [1 << 22, 5_000])
def test_direct_kde_mass_is_summed_as_before(
    bandwidth: float, terms: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1, 2 and 3 sub-cells a side; in one chunk and in many
    from parsc_geo.evaluation import candidates

    monkeypatch.setattr(candidates, "_DIRECT_TERMS", terms)
    h = _history(13)
    mask = h.t < 220.0
    weights = 1.0 / (1.0 + (220.0 - h.t[mask]) / 30.0)
    for w in (None, weights):
        expected = _direct_mass_as_before(h, mask, w, bandwidth, terms)
        assert h.direct_mass(mask, w, bandwidth).tobytes() == expected.tobytes()


def test_largest_values_are_those_of_a_partition_at_one_position() -> None:
    rng = np.random.default_rng(21)
    n = 50_000
    counts = np.zeros(n)
    counts[rng.choice(n, 900, replace=False)] = rng.integers(1, 6, 900)
    for values in (counts, rng.random(n), np.zeros(n), np.array([4.0])):
        m = values.size
        for k in {1, 2, min(m, 10), min(m, 899), min(m, 900), min(m, 2_500), m}:
            expected = np.sort(np.partition(values, m - k)[m - k :])
            assert np.sort(largest_values(values, k)).tolist() == expected.tolist()
