"""The space-time cube: counts per cell and period, by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from parsc_geo._errors import ConfigError, InsufficientDataError
from parsc_geo.grid import contiguity_weights, make_grid
from parsc_geo.hotspots.gistar import gi_star_z
from parsc_geo.trends.cube import build_cube
from parsc_geo.trends.emerging import analyse_cube

CRS = "EPSG:32717"
X0, Y0 = 775_000.0, 9_207_000.0


def _points(rows: list[tuple[float, float, str, float, bool]]) -> gpd.GeoDataFrame:
    x, y, day, harm, station = zip(*rows, strict=True)
    frame = pd.DataFrame(
        {
            "incident_id": [f"p{i}" for i in range(len(rows))],
            "occurred_at": pd.to_datetime(list(day)).tz_localize("America/Lima"),
            "harm": harm,
            "at_station": station,
        }
    )
    return gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(np.add(x, X0), np.add(y, Y0)), crs=CRS
    )


def test_counts_and_harm_per_cell_and_week_by_hand() -> None:
    # A 2 × 2 grid of 100 m cells; five weeks from Mon 2021-03-01 to Sun 2021-04-04.
    grid = make_grid(shapely.box(X0, Y0, X0 + 200, Y0 + 200), 100.0, crs=CRS)
    data = _points(
        [
            (50, 150, "2021-03-01", 1.0, False),  # NW cell (id 0), week 0
            (60, 160, "2021-03-07", 2.0, False),  # NW, week 0 (Sunday)
            (150, 150, "2021-03-08", 4.0, False),  # NE (id 1), week 1
            (50, 50, "2021-03-20", 1.5, False),  # SW (id 2), week 2
            (50, 50, "2021-03-21", 9.0, True),  # SW, at the station: excluded
            (150, 50, "2021-04-04", 3.0, False),  # SE (id 3), week 4 (the last day)
        ]
    )
    cube = build_cube(data, grid=grid, period="week", cells="all", weights="harm", quiet=True)
    assert cube.shape == (4, 5)
    assert list(cube.starts.strftime("%m-%d")) == ["03-01", "03-08", "03-15", "03-22", "03-29"]
    expected_counts = np.zeros((4, 5), dtype=int)
    expected_counts[0, 0] = 2
    expected_counts[1, 1] = 1
    expected_counts[2, 2] = 1
    expected_counts[3, 4] = 1
    np.testing.assert_array_equal(cube.counts, expected_counts)
    assert cube.values[0, 0] == 3.0 and cube.values[1, 1] == 4.0 and cube.values[3, 4] == 3.0
    assert cube.parameters["n_excluded_at_station"] == 1
    frame = cube.to_frame()
    assert len(frame) == 20 and "value" in frame.columns
    # cells="data" keeps the four cells (each has an incident); a cell without any is dropped.
    sub = build_cube(data.iloc[:3], grid=grid, period="day", cells="data", quiet=True,
                     min_periods=1)  # fmt: skip
    assert list(sub.grid["cell_id"]) == [0, 1]


def test_partial_periods_are_left_out_and_counted() -> None:
    # 2021-03-01 … 2021-03-17 in weeks laid back from the end: [03-04, 03-11), [03-11, 03-18);
    # the incidents of 03-01 and 03-03 fall in the partial week before and are counted out.
    grid = make_grid(shapely.box(X0, Y0, X0 + 200, Y0 + 200), 100.0, crs=CRS)
    days = ["2021-03-01", "2021-03-03", "2021-03-04", "2021-03-10", "2021-03-11", "2021-03-17"]
    data = _points([(50, 50, d, 1.0, False) for d in days])
    cube = build_cube(data, grid=grid, period="week", min_periods=2, quiet=True)
    assert cube.shape[1] == 2
    assert cube.parameters["n_outside_periods"] == 2
    assert cube.counts.sum() == 4


def test_errors() -> None:
    grid = make_grid(shapely.box(X0, Y0, X0 + 200, Y0 + 200), 100.0, crs=CRS)
    data = _points([(50, 50, "2021-03-01", 1.0, False), (50, 50, "2021-03-20", 1.0, False)])
    with pytest.raises(InsufficientDataError, match="periodos completos"):
        build_cube(data, grid=grid, period="week", quiet=True)
    with pytest.raises(ConfigError, match="occurred_at"):
        build_cube(data.drop(columns="occurred_at"), grid=grid, quiet=True)
    with pytest.raises(ConfigError, match="cells"):
        build_cube(data, grid=grid, cells="some", quiet=True)


def test_hexagonal_cube_with_queen_neighbours() -> None:
    # On hexagons with queen contiguity, k = 0 and the period window, the cube's z of every
    # period is the project's Gi* with the same contiguity weights.
    grid = make_grid(shapely.box(X0, Y0, X0 + 1500, Y0 + 1500), 200.0, shape="hex", crs=CRS)
    rng = np.random.default_rng(6)
    n = 700
    cell = rng.integers(0, len(grid), n)
    rows = [
        (grid["x"].iloc[c] - X0, grid["y"].iloc[c] - Y0, f"2021-03-{1 + d:02d}", 1.0, False)
        for c, d in zip(cell, rng.integers(0, 28, n), strict=True)
    ]
    cube = build_cube(_points(rows), grid=grid, period="week", cells="all", quiet=True,
                      min_periods=4)  # fmt: skip
    result = analyse_cube(cube, neighbours="queen", k=0, window="period", quiet=True)
    w = contiguity_weights(cube.grid)
    for t in range(cube.shape[1]):
        np.testing.assert_allclose(result.z[:, t], gi_star_z(cube.values[:, t], w), rtol=1e-12)
    assert result.parameters["neighbours"] == "queen" and result.parameters["distance"] is None
