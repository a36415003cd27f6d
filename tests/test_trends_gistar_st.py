"""Space-time Gi*: against the project's Gi* per period, the explicit weights, esda and by hand."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from parsc_geo.grid import distance_band_weights, make_grid
from parsc_geo.hotspots import hotspot_gistar
from parsc_geo.hotspots.gistar import gi_star_z
from parsc_geo.trends.cube import build_cube
from parsc_geo.trends.gistar_st import space_time_gistar, space_time_weights

CRS = "EPSG:32717"
X0, Y0 = 775_000.0, 9_207_000.0


def _grid(side: int = 8, cell: float = 100.0) -> gpd.GeoDataFrame:
    return make_grid(shapely.box(X0, Y0, X0 + side * cell, Y0 + side * cell), cell, crs=CRS)


def _values(n_cells: int, n_periods: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.poisson(1.5, (n_cells, n_periods)).astype(float)
    values[:5] += np.arange(n_periods)  # a few cells that heat up
    return values


def test_by_hand_three_cells_three_periods() -> None:
    # Three 100 m cells in a row (neighbours: 0–1 and 1–2 at distance 100), three periods, k=1,
    # global window = the whole cube (n = 9 bins).
    grid = make_grid(shapely.box(0, 0, 300, 100), 100.0, crs=CRS)
    w = distance_band_weights(grid, 100.0)
    y = np.array([[1.0, 0, 2], [3, 1, 0], [0, 2, 4]])  # cells × periods
    z = space_time_gistar(y, w, k=1, window="cube")
    # ȳ = 13/9; Σy² = 35, S² = 35/9 − (13/9)² = 146/81, S = √146 / 9.
    s = math.sqrt(146) / 9
    # Bin (cell 1, period 2): cells {0,1,2} × periods {1,2}: 0+1+2 + 2+0+4 = 9, W = 6:
    # z = (9 − 6·13/9) / (S √((9·6 − 6²)/8)) = 0.3333 / (1.3426·1.5) = 0.16552.
    assert z[1, 2] == pytest.approx((9 - 6 * 13 / 9) / (s * math.sqrt((54 - 36) / 8)))
    assert z[1, 2] == pytest.approx(0.16552, abs=1e-5)
    # Bin (cell 0, period 0): no earlier period, so cells {0,1} × {0}: 1 + 3 = 4, W = 2:
    # z = (4 − 2·13/9) / (S √((9·2 − 4)/8)) = 1.1111 / (1.3426·1.3229) = 0.62561.
    assert z[0, 0] == pytest.approx((4 - 2 * 13 / 9) / (s * math.sqrt((18 - 4) / 8)))
    assert z[0, 0] == pytest.approx(0.62561, abs=1e-5)


@pytest.mark.parametrize("k", [0, 1, 3])
def test_cube_window_equals_project_gistar_on_space_time_weights(k: int) -> None:
    grid = _grid()
    w = distance_band_weights(grid, 150.0)
    y = _values(len(grid), 7, seed=k)
    fast = space_time_gistar(y, w, k=k, window="cube")
    w_st = space_time_weights(w, 7, k)
    flat = y.T.ravel()  # period-major, as space_time_weights orders the bins
    explicit = gi_star_z(flat, w_st).reshape(7, len(grid)).T
    np.testing.assert_allclose(fast, explicit, rtol=1e-12, atol=1e-12)


def test_cube_window_equals_esda_g_local_on_space_time_weights() -> None:
    import libpysal
    from esda import G_Local

    grid = _grid(6)
    w = distance_band_weights(grid, 100.0)
    y = _values(len(grid), 5, seed=4)
    w_st = space_time_weights(w, 5, 1)
    flat = y.T.ravel()
    ref = G_Local(
        flat, libpysal.weights.WSP(w_st).to_W(silence_warnings=True), transform="B",
        star=True, permutations=0,
    ).Zs  # fmt: skip
    ours = space_time_gistar(y, w, k=1, window="cube").T.ravel()
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-10)


def test_period_window_with_k0_is_gi_star_of_each_period() -> None:
    grid = _grid()
    w = distance_band_weights(grid, 150.0)
    y = _values(len(grid), 6, seed=1)
    z = space_time_gistar(y, w, k=0, window="period")
    for t in range(6):
        np.testing.assert_allclose(z[:, t], gi_star_z(y[:, t], w), rtol=1e-12, atol=1e-12)


def test_window_window_uses_the_bins_of_the_time_window_only() -> None:
    grid = _grid(6)
    w = distance_band_weights(grid, 100.0)
    y = _values(len(grid), 6, seed=9)
    k = 2
    z = space_time_gistar(y, w, k=k, window="window")
    for t in range(6):
        lo = max(0, t - k)
        sub = y[:, lo : t + 1]
        explicit = gi_star_z(sub.T.ravel(), space_time_weights(w, sub.shape[1], k))
        np.testing.assert_allclose(z[:, t], explicit[-len(grid) :], rtol=1e-12, atol=1e-12)


def _incidents(grid: gpd.GeoDataFrame, seed: int) -> gpd.GeoDataFrame:
    """Points in the cells of ``grid``, over 6 weeks from 2021-03-01 (one date each)."""
    rng = np.random.default_rng(seed)
    n = 900
    cell = rng.integers(0, len(grid), n)
    # Cells near the first corner get more incidents, more so in later weeks.
    cell = np.where(rng.random(n) < 0.25, rng.integers(0, 6, n), cell)
    x = grid["x"].to_numpy()[cell] + rng.uniform(-40, 40, n)
    y = grid["y"].to_numpy()[cell] + rng.uniform(-40, 40, n)
    day = rng.integers(0, 42, n)
    when = pd.Timestamp("2021-03-01 12:00", tz="America/Lima") + pd.to_timedelta(day, unit="D")
    frame = pd.DataFrame({"incident_id": [f"i{i}" for i in range(n)], "occurred_at": when})
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(x, y), crs=CRS)


def test_per_period_z_equals_hotspot_gistar_on_each_period() -> None:
    # The cube's Gi* with k = 0 and the period window is the project's Gi* (hotspot_gistar,
    # the whole method from points) on each period's incidents over the same grid.
    grid = _grid()
    incidents = _incidents(grid, seed=2)
    cube = build_cube(incidents, grid=grid, period="week", cells="all", quiet=True)
    assert cube.shape == (64, 6)
    w = distance_band_weights(cube.grid, 100.0 * math.sqrt(2))
    z = space_time_gistar(cube.values, w, k=0, window="period")
    dates = incidents["occurred_at"].dt.tz_convert("America/Lima").dt.tz_localize(None)
    for t, (start, end) in enumerate(zip(cube.starts, cube.ends, strict=True)):
        in_period = incidents[((dates >= start) & (dates < end)).to_numpy()]
        ref = hotspot_gistar(
            in_period, grid=cube.grid, output="all", fdr=False, quiet=True, min_incidents=1
        )
        # hotspot_gistar returns EPSG:4326 sorted by z: put its rows back in lattice order.
        centre = shapely.centroid(np.asarray(ref.to_crs(CRS).geometry.values))
        order = np.lexsort((np.round(shapely.get_x(centre)), -np.round(shapely.get_y(centre))))
        np.testing.assert_allclose(z[:, t], ref["gi_z"].to_numpy()[order], rtol=1e-12)
