"""Tests of parsc_geo.grid: square and hexagonal grids, clipping, weights, point assignment."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

from parsc_geo._errors import ConfigError, CRSError
from parsc_geo.grid import (
    contiguity_weights,
    count_points,
    distance_band_weights,
    hexagon_area,
    make_grid,
)

CRS = "EPSG:32717"

# ---------------------------------------------------------------- check inputs


def test_rejects_bad_cell_size_and_shape() -> None:
    area = shapely.box(0, 0, 1000, 1000)
    with pytest.raises(ConfigError, match="cell_size"):
        make_grid(area, -5, crs=CRS)
    with pytest.raises(ConfigError, match="shape"):
        make_grid(area, 100, shape="triangle", crs=CRS)


def test_shapely_area_needs_metric_crs() -> None:
    area = shapely.box(0, 0, 1000, 1000)
    with pytest.raises(CRSError, match="necesita su SRC"):
        make_grid(area, 100)
    with pytest.raises(CRSError, match="SRC métrico"):
        make_grid(area, 100, crs="EPSG:4326")


def test_area_without_surface() -> None:
    with pytest.raises(ConfigError, match="no tiene superficie"):
        make_grid(shapely.LineString([(0, 0), (10, 10)]), 100, crs=CRS)


# ---------------------------------------------------------------- check outputs


def test_square_grid_aligned_box_counts_and_areas() -> None:
    # 2,000 m × 1,500 m box on multiples of 500 m: 4 × 3 = 12 full cells of 0.25 km².
    grid = make_grid(shapely.box(1000, 2000, 3000, 3500), 500, crs=CRS)
    assert len(grid) == 12
    assert np.allclose(grid["area_km2"], 0.25)
    assert grid["cell_id"].tolist() == list(range(12))
    # north to south, then west to east
    assert grid["y"].iloc[0] == 3250 and grid["x"].iloc[0] == 1250
    assert grid["y"].iloc[-1] == 2250 and grid["x"].iloc[-1] == 2750


def test_square_grid_clipped_by_hand() -> None:
    # Box 0..1,250 × 0..1,000 with 500 m cells: columns [0,500), [500,1000), [1000,1500) →
    # 3 × 2 = 6 cells, the eastern two clipped to 250 m × 500 m = 0.125 km².
    grid = make_grid(shapely.box(0, 0, 1250, 1000), 500, crs=CRS)
    assert len(grid) == 6
    east = grid[grid["x"] == 1250]
    assert len(east) == 2
    assert np.allclose(east["area_km2"], 0.125)
    assert math.isclose(grid["area_km2"].sum(), 1.25)


def test_triangle_keeps_only_intersecting_cells() -> None:
    # Right triangle with legs 1,000 m on 500 m cells: the north-east cell only touches the
    # hypotenuse at a corner... and is dropped; three cells remain, total area 0.5 km².
    tri = shapely.Polygon([(0, 0), (1000, 0), (0, 1000)])
    grid = make_grid(tri, 500, crs=CRS)
    assert len(grid) == 3
    assert math.isclose(grid["area_km2"].sum(), 0.5)
    unclipped = make_grid(tri, 500, crs=CRS, clip=False)
    assert np.allclose(unclipped["area_km2"], 0.25)


def test_hexagon_area_formula() -> None:
    side = 100.0
    assert math.isclose(hexagon_area(side), 3 * math.sqrt(3) / 2 * side**2)
    grid = make_grid(shapely.box(0, 0, 5000, 5000), 400, shape="hex", crs=CRS, clip=False)
    expected = 3 * math.sqrt(3) / 2 * (400 / math.sqrt(3)) ** 2 / 1e6
    assert np.allclose(grid["area_km2"], expected)
    assert np.allclose(grid.geometry.area / 1e6, expected)


def test_hex_grid_tiles_the_area() -> None:
    box = shapely.box(0, 0, 3000, 2000)
    grid = make_grid(box, 300, shape="hex", crs=CRS)
    assert math.isclose(grid["area_km2"].sum(), 6.0, rel_tol=1e-9)
    union = shapely.union_all(np.asarray(grid.geometry.values))
    assert math.isclose(union.area, box.area, rel_tol=1e-9)


def test_geodataframe_area_is_projected() -> None:
    # Cajamarca city, 2 km × 1.5 km, given in longitude/latitude.
    box = shapely.box(775_000, 9_207_000, 777_000, 9_208_500)
    area = gpd.GeoSeries([box], crs=CRS).to_crs("EPSG:4326")
    grid = make_grid(area, 500)
    assert grid.crs.to_epsg() == 32717
    assert math.isclose(grid["area_km2"].sum(), 3.0, rel_tol=1e-6)


def test_count_points_square_and_hex_match_polygons() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 3000, 2000)
    y = rng.uniform(0, 2000, 2000)
    pts = shapely.points(x, y)
    for shape in ("square", "hex"):
        grid = make_grid(shapely.box(0, 0, 3000, 2000), 250, shape=shape, crs=CRS)
        idx = count_points(grid, x, y)
        assert (idx >= 0).all()
        cells = np.asarray(grid.geometry.values)[idx]
        assert shapely.intersects(cells, pts).all()


def test_count_points_outside_grid() -> None:
    grid = make_grid(shapely.box(0, 0, 1000, 1000), 500, crs=CRS)
    idx = count_points(grid, np.array([250.0, 5000.0]), np.array([250.0, 250.0]))
    assert idx[1] == -1 and idx[0] >= 0


def test_weights_neighbour_counts() -> None:
    grid = make_grid(shapely.box(0, 0, 2500, 2500), 500, crs=CRS)  # 5 × 5
    queen = contiguity_weights(grid)
    card = np.asarray(queen.sum(axis=1)).ravel()
    # corners 3, edges 5, interior 8: 4·3 + 12·5 + 9·8 = 144
    assert sorted(set(card)) == [3, 5, 8]
    assert card.sum() == 144
    assert queen.diagonal().sum() == 0
    rook = distance_band_weights(grid, 500)
    assert np.asarray(rook.sum(axis=1)).ravel().sum() == 2 * (2 * 5 * 4)
    hexgrid = make_grid(shapely.box(0, 0, 5000, 5000), 500, shape="hex", crs=CRS, clip=False)
    hex_card = np.asarray(contiguity_weights(hexgrid).sum(axis=1)).ravel()
    assert hex_card.max() == 6


@pytest.mark.parametrize(("shape", "radius"), [("square", math.sqrt(2)), ("hex", 1.0)])
def test_contiguity_equals_distance_band(shape: str, radius: float) -> None:
    # an irregular (clipped) area, so that border cells have missing neighbours
    area = shapely.Point(0, 0).buffer(2000).difference(shapely.box(0, 0, 3000, 3000))
    grid = make_grid(area, 170, shape=shape, crs=CRS)
    queen = contiguity_weights(grid)
    band = distance_band_weights(grid, 170 * radius)
    assert (queen != band).nnz == 0
    assert (queen != queen.T).nnz == 0


def _hull_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Normal points, a frame of collinear points on the hull's edges, repeats of them."""
    rng = np.random.default_rng(seed)
    xy = rng.normal(0, 1000, (n, 2)).round(1)
    edge = np.linspace(-5000, 5000, 41)
    frame = np.vstack(
        [
            np.column_stack([edge, np.full(41, -5000.0)]),
            np.column_stack([edge, np.full(41, 5000.0)]),
            np.column_stack([np.full(41, 5000.0), edge]),
        ]
    )
    xy = np.vstack([xy, frame, frame[::7]])
    xy = xy[rng.permutation(len(xy))]
    return xy[:, 0].copy(), xy[:, 1].copy()


@pytest.mark.parametrize("chunk", [1, 2, 7, 64, 10**9])
def test_points_hull_by_chunks_is_the_hull_of_every_point(chunk: int) -> None:
    # the hull of a multipoint of all the points, vertex for vertex (WKB), whatever the chunks
    from parsc_geo.grid import points_hull

    x, y = _hull_points(3000, 4)
    whole = shapely.convex_hull(shapely.multipoints(np.column_stack([x, y])))
    assert shapely.to_wkb(points_hull(x, y, chunk=chunk)) == shapely.to_wkb(whole)
    # degenerate hulls: collinear points (a line) and one repeated point
    line_x, line_y = np.linspace(0, 90, 10)[::-1], np.linspace(0, 30, 10)[::-1]
    line = shapely.convex_hull(shapely.multipoints(np.column_stack([line_x, line_y])))
    assert shapely.to_wkb(points_hull(line_x, line_y, chunk=chunk)) == shapely.to_wkb(line)
    one = points_hull(np.full(5, 3.0), np.full(5, 4.0), chunk=chunk)
    assert one.equals(shapely.Point(3, 4))


def test_points_hull_of_more_points_than_a_chunk() -> None:
    from parsc_geo.grid import HULL_CHUNK, points_hull

    x, y = _hull_points(2 * HULL_CHUNK + 17, 9)
    whole = shapely.convex_hull(shapely.multipoints(np.column_stack([x, y])))
    assert shapely.to_wkb(points_hull(x, y)) == shapely.to_wkb(whole)
