"""Tests of the evaluation grid: which cells, offsets, locating points, ties, study area."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from parsc_geo._errors import ConfigError
from parsc_geo.evaluation.cells import (
    auto_cell_size,
    cells_frame,
    default_study_area,
    make_cell_grid,
)
from parsc_geo.grid import make_grid

CRS = "EPSG:32717"
X0, Y0 = 775_000.0, 9_207_000.0


def test_box_grid_counts_and_area() -> None:
    # 1 000 m × 500 m on 100 m cells aligned with the box: 10 × 5 = 50 cells, 0.5 km².
    grid = make_cell_grid(shapely.box(X0, Y0, X0 + 1000, Y0 + 500), 100.0, CRS)
    assert grid.n_cells == 50
    assert grid.study_area_km2 == pytest.approx(0.5)
    assert grid.cell_area_km2 == pytest.approx(0.01)


def test_offset_grid_has_the_cut_cells_whole() -> None:
    # Shifted 50 m east, the box's west and east edges fall inside cells: 11 columns × 5 rows,
    # each counted whole (partial cells count whole: 0.55 km² for a 0.5 km² box).
    grid = make_cell_grid(shapely.box(X0, Y0, X0 + 1000, Y0 + 500), 100.0, CRS, offset=(50, 0))
    assert grid.n_cells == 55
    assert grid.study_area_km2 == pytest.approx(0.55)
    assert grid.offset == (50.0, 0.0)


def test_triangle_keeps_cells_sharing_area_not_corners() -> None:
    # Triangle (0,0)-(300,0)-(0,300) on 100 m cells: rows from the south hold 3, 2 and 1 cells;
    # cells touching the hypotenuse only at a corner are left out.
    tri = shapely.Polygon([(X0, Y0), (X0 + 300, Y0), (X0, Y0 + 300)])
    grid = make_cell_grid(tri, 100.0, CRS)
    assert grid.n_cells == 6
    x, y = grid.centres()
    assert sorted(zip((x - X0).tolist(), (y - Y0).tolist(), strict=True)) == [
        (50.0, 50.0),
        (50.0, 150.0),
        (50.0, 250.0),
        (150.0, 50.0),
        (150.0, 150.0),
        (250.0, 50.0),
    ]


def test_lattice_matches_parsc_geo_grid_without_offset() -> None:
    area = shapely.box(X0 + 30, Y0 + 70, X0 + 730, Y0 + 470)
    ours = make_cell_grid(area, 100.0, CRS)
    theirs = make_grid(area, 100.0, crs=CRS)
    assert sorted(zip(ours.rows.tolist(), ours.cols.tolist(), strict=True)) == sorted(
        zip(theirs["row"].tolist(), theirs["col"].tolist(), strict=True)
    )


def test_locate_points() -> None:
    grid = make_cell_grid(shapely.box(X0, Y0, X0 + 300, Y0 + 200), 100.0, CRS)
    # Cells are numbered north to south, then west to east: the northern row first.
    cells = grid.locate(
        np.array([X0 + 150, X0 + 250, X0 + 50, X0 + 900]),
        np.array([Y0 + 50, Y0 + 150, Y0 + 199, Y0 + 50]),
    )
    # Three columns, two rows. (150, 50): south row, column 1 → index 3 + 1 = 4; (250, 150):
    # north row, column 2 → 2; (50, 199): north row, column 0 → 0; (900, 50): outside → -1.
    assert cells.tolist() == [4, 2, 0, -1]
    counts = grid.counts(cells)
    assert counts.tolist() == [1, 0, 1, 0, 1, 0]


def test_tiebreak_is_fixed_and_spread() -> None:
    grid = make_cell_grid(shapely.box(X0, Y0, X0 + 2000, Y0 + 2000), 100.0, CRS)
    key = grid.tiebreak()
    assert np.array_equal(key, grid.tiebreak())
    assert len(np.unique(key)) == grid.n_cells
    # Not the north-west order: the first 10 % of cells by key are spread over the area.
    first = np.argsort(-key.astype(float))[: grid.n_cells // 10]
    assert 0.3 < first.mean() / grid.n_cells < 0.7
    assert not np.array_equal(key, grid.tiebreak(seed=1))


def test_default_study_area_is_the_convex_hull() -> None:
    x = np.array([0.0, 400.0, 400.0, 0.0, 200.0])
    y = np.array([0.0, 0.0, 300.0, 300.0, 100.0])
    assert default_study_area(x, y).area == pytest.approx(120_000.0)
    # Points on a line give a buffered strip rather than no area.
    line = default_study_area(np.array([0.0, 100.0, 200.0]), np.array([0.0, 0.0, 0.0]))
    assert line.area > 0
    with pytest.raises(ConfigError):
        default_study_area(np.array([]), np.array([]))


def test_default_study_area_leaves_out_a_far_outlier() -> None:
    # 200 points in a 1 km square and one mis-geocoded 500 km away: the outlier is farther than
    # 3 × the 99th-percentile distance to the median centre, so the hull stays about 1 km².
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(0, 1000, 200), [500_000.0]])
    y = np.concatenate([rng.uniform(0, 1000, 200), [0.0]])
    assert 0.9e6 < default_study_area(x, y).area <= 1e6
    # Two towns 50 km apart, half the points each, are both kept.
    x2 = np.concatenate([rng.uniform(0, 1000, 100), rng.uniform(50_000, 51_000, 100)])
    y2 = rng.uniform(0, 1000, 200)
    assert default_study_area(x2, y2).area > 40e6


def test_auto_cell_size() -> None:
    assert auto_cell_size(630e6) == 100.0
    # 40 000 km² at 100 m would be 4 million cells: 320 m keeps it under 400 000.
    size = auto_cell_size(40_000e6)
    assert 40_000e6 / size**2 <= 400_000 < 40_000e6 / (size - 10) ** 2


def test_cells_frame_is_wgs84_squares() -> None:
    grid = make_cell_grid(shapely.box(X0, Y0, X0 + 300, Y0 + 200), 100.0, CRS)
    frame = cells_frame(grid, np.array([0, 4]), {"rank": [1, 2]})
    assert frame.crs.to_epsg() == 4326
    assert frame["cell_id"].tolist()[0].startswith("r")
    back = frame.to_crs(CRS)
    assert back.geometry.area.to_numpy() == pytest.approx([10_000.0, 10_000.0], rel=1e-6)


def test_bad_area_raises() -> None:
    with pytest.raises(ConfigError):
        make_cell_grid(shapely.Point(X0, Y0), 100.0, CRS)
