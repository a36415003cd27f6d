"""Critical points without a distance matrix: the same centres as the full-matrix rule.

The reference below is the previous implementation (a full n × n distance matrix, kept here
only as the oracle): the KD-tree count must pick the same incident on the bundled sample and on
constructed data full of ties (distances exactly equal to the radius, stacked points).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from parsc_geo.datasets import sample_paths
from parsc_geo.patrol import plan_patrols, points
from parsc_geo.patrol.points import densest_index, grid_candidates, neighbour_counts

UTM = "EPSG:32717"
ORIGIN = np.array([775_000.0, 9_207_000.0])


def reference_counts(xy: np.ndarray, radius: float) -> np.ndarray:
    """The previous rule: a full distance matrix, ``hypot <= radius``."""
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    return (d <= radius).sum(axis=1)


def reference_densest(xy: np.ndarray, ids: list[str], radius: float) -> int:
    neighbours = reference_counts(xy, radius)
    return min(range(len(ids)), key=lambda i: (-int(neighbours[i]), ids[i]))


def reference_core(polygon, pts: gpd.GeoDataFrame, radius: float):
    inside = pts[pts.geometry.intersects(polygon)]
    xy = np.column_stack([inside.geometry.x, inside.geometry.y])
    best = reference_densest(xy, inside["incident_id"].astype(str).tolist(), radius)
    return inside.geometry.iloc[best].buffer(radius, 32)


def reference_intersecting(pts: gpd.GeoDataFrame, area, tree=None) -> gpd.GeoDataFrame:
    return pts[pts.geometry.intersects(area)]


def reference_grid(pts: gpd.GeoDataFrame, cell_size: float) -> list:
    import math

    cells = sorted(
        {
            (math.floor(x / cell_size), math.floor(y / cell_size))
            for x, y in zip(pts.geometry.x, pts.geometry.y, strict=True)
        }
    )
    return [
        box(i * cell_size, j * cell_size, (i + 1) * cell_size, (j + 1) * cell_size)
        for i, j in cells
    ]


def test_lattice_at_exactly_the_radius_counts_as_the_matrix() -> None:
    # A 100 m lattice with a 100 m radius: every neighbour sits exactly on the circle, where
    # rounding decides; 3-4-5 triangles (60, 80) are exactly 100 m too.
    gx, gy = np.meshgrid(np.arange(12) * 100.0, np.arange(9) * 100.0)
    lattice = np.column_stack([gx.ravel(), gy.ravel()]) + ORIGIN
    extra = lattice[:20] + np.array([60.0, 80.0])
    stacked = np.repeat(lattice[40:43], 3, axis=0)
    xy = np.vstack([lattice, extra, stacked])
    for radius in (100.0, 99.99999999, 100.00000001, 50.0, 141.4213562373095):
        np.testing.assert_array_equal(neighbour_counts(xy, radius), reference_counts(xy, radius))


def test_ties_are_broken_by_the_least_identifier() -> None:
    rng = np.random.default_rng(3)
    # Two identical squares of five stacked points: same count everywhere in both.
    square = np.array([[0.0, 0.0], [30.0, 0.0], [0.0, 30.0], [30.0, 30.0], [15.0, 15.0]])
    xy = np.vstack([square, square + np.array([5_000.0, 0.0])]) + ORIGIN
    for _ in range(20):
        ids = [f"inc-{v:04d}" for v in rng.permutation(9999)[: len(xy)]]
        assert densest_index(xy, ids, 50.0) == reference_densest(xy, ids, 50.0)
    # duplicated identifiers: the first position wins, as with min() over the positions
    ids = ["b", "a", "a", "c", "d", "a", "e", "f", "g", "h"]
    assert densest_index(xy, ids, 50.0) == reference_densest(xy, ids, 50.0) == 1


@pytest.mark.parametrize("seed", range(5))
def test_random_clusters_with_rounded_coordinates(seed: int) -> None:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 3000, (6, 2))
    xy = np.vstack([rng.normal(c, 40.0, (150, 2)) for c in centres])
    xy = np.round(xy) + ORIGIN  # whole metres: many exact distances
    ids = [f"SINT-{i:06d}" for i in rng.permutation(len(xy))]
    np.testing.assert_array_equal(neighbour_counts(xy, 100.0), reference_counts(xy, 100.0))
    assert densest_index(xy, ids, 100.0) == reference_densest(xy, ids, 100.0)


def test_grid_candidates_are_the_previous_cells() -> None:
    rng = np.random.default_rng(8)
    xy = np.round(rng.uniform(0, 2000, (500, 2)), 0) + ORIGIN
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=UTM)
    new = grid_candidates(pts, 100.0)
    old = reference_grid(pts, 100.0)
    assert len(new) == len(old)
    assert all(shapely.equals_exact(a, b, 0) for a, b in zip(new, old, strict=True))
    assert grid_candidates(pts.iloc[:0], 100.0) == []


@pytest.fixture(scope="module")
def sample() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    from parsc_geo.ingest import IngestOptions
    from parsc_geo.workflow import ingest

    paths = sample_paths()
    ingested = ingest([paths["incidents"]], IngestOptions(), sectors_path=paths["sectors"])
    assert ingested.sectors is not None
    return ingested.result.accepted, ingested.sectors


def _plain(plan) -> list[list[dict]]:
    return [
        [
            {k: (v.wkb_hex if k == "geometry" else v) for k, v in point.items()}
            for point in sp.points
        ]
        for sp in plan.sectors
    ]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"method": "dbscan"},
        {"method": "grid", "cell_size_m": 250.0, "max_area_m2": 20_000.0},
        {"method": "dbscan", "eps_m": 150.0, "core_radius_m": 60.0, "max_points": 30},
    ],
)
def test_sample_critical_points_equal_the_full_matrix_ones(
    sample, monkeypatch: pytest.MonkeyPatch, kwargs: dict
) -> None:
    incidents, sectors = sample
    new = plan_patrols(incidents, sectors, **kwargs)
    monkeypatch.setattr(points, "_core", reference_core)
    monkeypatch.setattr(points, "_intersecting", reference_intersecting)
    monkeypatch.setattr(points, "grid_candidates", reference_grid)
    old = plan_patrols(incidents, sectors, **kwargs)
    assert sum(len(sp.points) for sp in new.sectors) > 10
    assert _plain(new) == _plain(old)
    pd.testing.assert_frame_equal(new.points_frame(), old.points_frame())


def test_memory_does_not_grow_with_the_square_of_the_incidents() -> None:
    import tracemalloc

    rng = np.random.default_rng(1)
    # 30,000 incidents within 300 m: a matrix would take 30,000² × 8 bytes = 7.2 GB.
    xy = rng.normal(0, 100.0, (30_000, 2)) + ORIGIN
    ids = [f"i{k}" for k in range(len(xy))]
    tracemalloc.start()
    best = densest_index(xy, ids, 100.0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50e6  # a few arrays of n values, not n²
    # the winner has the most neighbours: check it against a direct count for it alone
    d = np.hypot(*(xy - xy[best]).T)
    counts = neighbour_counts(xy, 100.0)
    assert counts[best] == int((d <= 100.0).sum()) == counts.max()
