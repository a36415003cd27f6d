"""Trends and near repeats of a table cut into partitions: the whole table's, value for value."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from parsc_geo._errors import ConfigError
from parsc_geo.datasets import sample_paths
from parsc_geo.hotspots._common import locate, locate_crs
from parsc_geo.ingest import IngestOptions
from parsc_geo.parallel import WorkerPool
from parsc_geo.partitions import Partition, rows_loaded, write_partitions
from parsc_geo.trends.cube import build_cube
from parsc_geo.trends.emerging import TrendsResult, emerging_hotspots
from parsc_geo.trends.io import write_trends
from parsc_geo.trends.near_repeat import near_repeat
from parsc_geo.trends.periods import calendar_months
from parsc_geo.workflow import ingest, province_subsets


@pytest.fixture(scope="module")
def accepted() -> gpd.GeoDataFrame:
    return ingest([sample_paths()["incidents"]], IngestOptions()).result.accepted


@pytest.fixture(scope="module")
def parts(accepted: gpd.GeoDataFrame, tmp_path_factory: pytest.TempPathFactory) -> list[Partition]:
    """The sample's provinces, then (as a distributed run) a partition of no province."""
    moved = accepted.copy()
    moved.attrs = accepted.attrs
    # incidents of three provinces go to a partition of their own, as those of a province
    # outside the study area do
    others = moved.index[[5, 7, 4000, 9000, 15000]]
    moved.loc[others, "provincia"] = "FUERA"
    groups = [(name, frame) for name, frame in province_subsets(moved) if name != "FUERA"]
    groups.append(("", moved.loc[others]))
    written = write_partitions(groups, tmp_path_factory.mktemp("partitions"))
    assert sum(len(p) for p in written) == len(accepted)
    return written


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    with WorkerPool(2) as running:
        yield running


def _assert_same_trends(expected: TrendsResult, got: TrendsResult, tmp_path: Path) -> None:
    assert got.parameters == expected.parameters
    assert list(got.parameters) == list(expected.parameters)  # as recorded in the files
    pd.testing.assert_frame_equal(got.bins(), expected.bins(), check_exact=True)
    pd.testing.assert_frame_equal(
        pd.DataFrame(got.cells()), pd.DataFrame(expected.cells()), check_exact=True
    )
    assert got.cube.grid.equals(expected.cube.grid)
    assert got.cube.grid.attrs == expected.cube.grid.attrs
    assert got.cube.values.dtype == expected.cube.values.dtype
    assert got.cube.counts.dtype == expected.cube.counts.dtype
    # the files the run writes
    written = write_trends(expected, tmp_path / "whole")
    again = write_trends(got, tmp_path / "parts")
    assert [p.name for p in again] == [p.name for p in written]
    for a, b in zip(written, again, strict=True):
        if a.suffix in (".csv", ".json"):
            assert a.read_bytes() == b.read_bytes(), a.name


@pytest.mark.parametrize("exclude_at_station", [True, False])
def test_emerging_hotspots_of_partitions_are_the_whole_tables(
    accepted: gpd.GeoDataFrame,
    parts: list[Partition],
    pool: WorkerPool,
    tmp_path: Path,
    exclude_at_station: bool,
) -> None:
    options = {"exclude_at_station": exclude_at_station, "quiet": True}
    expected = emerging_hotspots(accepted, **options)  # the whole-table code path
    _assert_same_trends(expected, emerging_hotspots(parts, **options), tmp_path / "serial")
    before = rows_loaded()
    got = emerging_hotspots(parts, pool=pool, **options)
    assert rows_loaded() == before  # the workers read the partitions, not this process
    _assert_same_trends(expected, got, tmp_path / "pool")


def test_a_given_period_and_cell_size_are_the_whole_tables_too(
    accepted: gpd.GeoDataFrame, parts: list[Partition], tmp_path: Path
) -> None:
    # a given period, hexagons, every cell, the sfhotspot scheme: other paths of the cube
    options = {
        "period": "3 weeks",
        "cell_size": 2500.0,
        "grid_shape": "hex",
        "cells": "all",
        "scheme": "sfhotspot",
        "quiet": True,
    }
    expected = emerging_hotspots(accepted, **options)
    assert expected.parameters["n_outside_periods"] > 0  # a partial period at the start
    _assert_same_trends(expected, emerging_hotspots(parts, **options), tmp_path)


def test_a_cube_of_partitions_counts_and_sums_no_weights(
    accepted: gpd.GeoDataFrame, parts: list[Partition]
) -> None:
    # a table's cube can sum harm; partitions' counts only, and say so before any task
    assert build_cube(accepted, weights="harm", quiet=True).parameters["weights"] == "harm"
    before = rows_loaded()
    with pytest.raises(ConfigError, match="particiones"):
        build_cube(parts, weights="harm", quiet=True)
    assert rows_loaded() == before


@pytest.mark.parametrize(
    ("exclude_at_station", "max_pairs"), [(True, None), (False, None), (False, 20_000)]
)
def test_near_repeat_of_partitions_is_the_whole_tables(
    accepted: gpd.GeoDataFrame,
    parts: list[Partition],
    pool: WorkerPool,
    exclude_at_station: bool,
    max_pairs: int | None,
) -> None:
    # with the incidents at a station, some share their point (the incident_id orders
    # them); with max_pairs, the seeded sample draws positions of the test's order
    options = {
        "exclude_at_station": exclude_at_station,
        "max_pairs": max_pairs,
        "permutations": 19,
        "quiet": True,
    }
    expected = near_repeat(accepted, **options)  # the whole-table code path
    if max_pairs is not None:
        assert "sample" in expected.attrs["parameters"]
    got = near_repeat(parts, **options)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got.attrs == expected.attrs
    before = rows_loaded()
    got = near_repeat(parts, pool=pool, **options)
    assert rows_loaded() == before  # the workers read the partitions, not this process
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got.attrs == expected.attrs
    assert list(got.attrs["parameters"]) == list(expected.attrs["parameters"])


def _straddling(ids_seed: int = 1, *, spread_east: bool = False) -> gpd.GeoDataFrame:
    """Incidents at six points on both sides of UTM zones 17 and 18, many at each point.

    Their ``incident_id`` (drawn with ``ids_seed``) are not in the order of the index, so
    the order of the incidents that share a point is the ids'. ``spread_east``: those of
    the three eastern points each a few metres from the others (no two at one point).
    """
    rng = np.random.default_rng(7)
    points = [(-78.21, -7.10), (-78.20, -7.11), (-78.19, -7.10)]
    points += [(-77.52, -7.10), (-77.51, -7.11), (-77.50, -7.10)]
    at = np.repeat(np.arange(len(points)), 15)
    rng.shuffle(at)
    lon = np.array([points[k][0] for k in at])
    lat = np.array([points[k][1] for k in at])
    if spread_east:
        east = lon > -78
        lon[east] += np.arange(int(east.sum())) * 1e-5
    days = rng.integers(0, 84, len(at))
    ids = np.random.default_rng(ids_seed).permutation(len(at))
    frame = gpd.GeoDataFrame(
        {
            "incident_id": pd.array([f"I{k:03d}" for k in ids], dtype="string"),
            "occurred_at": pd.Timestamp("2024-01-01 10:00", tz="America/Lima")
            + pd.to_timedelta(days, unit="D"),
            "at_station": np.zeros(len(at), dtype=bool),
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    return frame


def _straddling_parts(frame: gpd.GeoDataFrame, folder: Path) -> list[Partition]:
    """Two partitions: every other incident of the western points, and the rest."""
    west = frame.geometry.x.to_numpy() < -78
    first = west & (np.arange(len(frame)) % 2 == 0)
    return write_partitions([("a", frame[first]), ("b", frame[~first])], folder)


def test_partitions_are_located_as_the_whole_table(tmp_path: Path) -> None:
    frame = _straddling()
    parts = _straddling_parts(frame, tmp_path)
    whole = locate(frame, exclude_at_station=True).crs
    assert whole.to_epsg() == 32718  # the centre of all of them is in zone 18
    # the first partition alone would be projected to zone 17: the CRS is the whole table's
    assert locate(parts[0].load(), exclude_at_station=True).crs.to_epsg() == 32717
    assert locate_crs(parts, exclude_at_station=True) == whole
    # as a table in a metric CRS keeps it
    metric = write_partitions([("a", frame.to_crs(32719))], tmp_path / "metric")
    assert locate_crs(metric, exclude_at_station=True).to_epsg() == 32719


def test_near_repeat_orders_incidents_at_one_point_by_their_id(tmp_path: Path) -> None:
    frame = _straddling()
    parts = _straddling_parts(frame, tmp_path)
    options = {"permutations": 99, "min_incidents": 10, "quiet": True}
    expected = near_repeat(frame, **options)
    got = near_repeat(parts, **options)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got.attrs == expected.attrs
    # the order matters: other ids (another order at each point) give other p-values
    other = near_repeat(_straddling(ids_seed=2), **options)
    assert not other["p_value"].equals(expected["p_value"])
    # without incident_id, incidents at one point keep the table's order (the index's)
    anonymous = frame.drop(columns="incident_id")
    expected = near_repeat(anonymous, **options)
    got = near_repeat(_straddling_parts(anonymous, tmp_path / "anon"), **options)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    # a sample of them too
    options["max_pairs"] = 300
    expected = near_repeat(frame, **options)
    assert "sample" in expected.attrs["parameters"]
    pd.testing.assert_frame_equal(near_repeat(parts, **options), expected, check_exact=True)
    # and the cube of both sides of the zone boundary
    trends = {"period": "week", "quiet": True}
    _assert_same_trends(
        emerging_hotspots(frame, **trends),
        emerging_hotspots(parts, **trends),
        tmp_path / "trends",
    )


def test_calendar_months_of_the_incidents_dates(accepted: gpd.GeoDataFrame) -> None:
    when = accepted["occurred_at"].dropna()
    assert calendar_months(when.min(), when.max()) == 10  # January to October 2020
    assert calendar_months(None, None) == 0


def test_incidents_at_one_point_of_one_partition_are_ordered_by_the_workers(
    pool: WorkerPool, tmp_path: Path
) -> None:
    # only the western partition holds incidents at one point: its ids are still read by
    # the workers (a lone task would run in this process)
    frame = _straddling(spread_east=True)
    west = frame.geometry.x.to_numpy() < -78
    parts = write_partitions([("a", frame[west]), ("b", frame[~west])], tmp_path)
    options = {"permutations": 99, "min_incidents": 10, "quiet": True}
    expected = near_repeat(frame, **options)
    before = rows_loaded()
    got = near_repeat(parts, pool=pool, **options)
    assert rows_loaded() == before
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got.attrs == expected.attrs
