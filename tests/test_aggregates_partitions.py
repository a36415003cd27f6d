"""Aggregates of a distributed run computed from its partitions equal those of the whole table.

Issue 17: the priority's count table, the province summary's incidents per province and the
sector layers' incidents per subsector are computed by tasks that each read one province
partition; each result must be exactly what the incidents held in one process give (the
expected values come from the existing whole-table functions).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from parsc_geo.datasets import sample_paths
from parsc_geo.ingest import IngestOptions
from parsc_geo.partitions import Partition, rows_loaded, write_partitions
from parsc_geo.priority.counts import counts_from_partitions, counts_from_points
from parsc_geo.priority.coverage import COVERED_DISTRICTS, hull_of_points, points_hull
from parsc_geo.reports.qgis_layers import sector_counts_from_partitions, sector_layers
from parsc_geo.reports.rankings import (
    province_counts,
    province_counts_from_partitions,
    province_summary,
    write_rankings,
)
from parsc_geo.workflow import count_tables, ingest, province_positions


@pytest.fixture(scope="module")
def accepted() -> gpd.GeoDataFrame:
    return ingest([sample_paths()["incidents"]], IngestOptions()).result.accepted


@pytest.fixture(scope="module")
def moved(accepted: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The sample with a few incidents in a province of no study area (a partition of theirs)."""
    frame = accepted.copy()
    frame.attrs = dict(accepted.attrs)
    frame.loc[frame.index[[3, 50, 4000, 20000]], "provincia"] = "FUERA"
    return frame


@pytest.fixture(scope="module")
def sparse(moved: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One incident in 40: districts without a point, some inside the points' convex hull."""
    frame = moved.iloc[::40].copy()
    frame.attrs = dict(moved.attrs)
    return frame


def _partitions(frame: gpd.GeoDataFrame, folder: Path) -> list[Partition]:
    """Cut ``frame`` as a distributed run does: its provinces, then the others (if any)."""
    positions = province_positions(frame)
    parts = write_partitions([(name, frame.iloc[rows]) for name, rows in positions], folder)
    taken = np.zeros(len(frame), dtype=bool)
    for _, rows in positions:
        taken[rows] = True
    if not taken.all():
        others = frame.iloc[np.flatnonzero(~taken)]
        parts += write_partitions([("", others)], folder, prefix="otras")
    return parts


def _assert_same_counts(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert list(got.attrs.items()) == list(expected.attrs.items())  # the same keys, in order


@pytest.mark.parametrize("frame_name", ["accepted", "moved", "sparse"])
def test_counts_from_partitions_are_the_counts_of_the_whole_table(
    frame_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    from parsc_geo.parallel import WorkerPool

    frame = request.getfixturevalue(frame_name)
    parts = _partitions(frame, tmp_path)
    assert (parts[-1].key == "") == (frame_name != "accepted")
    expected = counts_from_points(frame, source="incidentes.csv")
    if frame_name == "sparse":  # districts without a point covered by the points' hull
        assert len(expected.attrs[COVERED_DISTRICTS]) > expected["ubigeo"].nunique()
    _assert_same_counts(counts_from_partitions(parts, source="incidentes.csv"), expected)
    with WorkerPool(2) as pool:
        before = rows_loaded()
        got = counts_from_partitions(parts, source="incidentes.csv", pool=pool)
        assert rows_loaded() == before  # the workers read the partitions, not this process
    _assert_same_counts(got, expected)


def test_count_tables_from_partitions_name_the_source_as_the_incidents_do(
    accepted: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    frame = accepted.iloc[:3000].copy()
    frame.attrs = {**accepted.attrs, "source": "/datos/denuncias.csv"}
    (expected,) = count_tables([], frame)
    (got,) = count_tables([], partitions=_partitions(frame, tmp_path))
    assert set(got["source"]) == {"denuncias.csv"}
    _assert_same_counts(got, expected)


def test_counts_of_a_partition_without_districts_when_others_have_them(
    accepted: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    # one province's incidents lost their district codes: the whole table is not assigned
    # again (others have codes), so they are counted as incidents without a district
    frame = accepted.copy()
    frame.attrs = dict(accepted.attrs)
    frame.loc[frame["provincia"] == "Chota", "ubigeo"] = ""
    expected = counts_from_points(frame)
    assert expected.attrs["without_ubigeo"] == int((frame["provincia"] == "Chota").sum())
    _assert_same_counts(counts_from_partitions(_partitions(frame, tmp_path)), expected)


def test_counts_of_incidents_never_assigned_assign_every_partition(
    accepted: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    # no district code anywhere: counts_from_points assigns the whole table; each partition
    # is assigned in its task instead, to the same districts
    frame = accepted.iloc[::15].copy()
    frame.attrs = dict(accepted.attrs)
    frame["ubigeo"] = ""
    expected = counts_from_points(frame)
    assert expected.attrs["without_ubigeo"] < len(frame) // 10  # assigned, not dropped
    _assert_same_counts(counts_from_partitions(_partitions(frame, tmp_path)), expected)


def test_the_hull_of_partial_hulls_is_the_hull_of_all_points() -> None:
    # the convex hull of each part's hull vertices is the hull of all points, byte for byte
    # (grid points: many on one line; random points; a single part)
    rng = np.random.default_rng(7)
    for trial in range(200):
        n = int(rng.integers(1, 50))
        xy = rng.integers(0, 5, size=(n, 2)) if trial % 2 else rng.normal(size=(n, 2)) * 1e4
        points = gpd.GeoDataFrame(geometry=shapely.points(xy.astype(float)), crs=32717)
        codes = pd.Series(["060101"] * n)
        whole = points_hull(points, codes, points.crs)
        label = rng.integers(0, int(rng.integers(1, 5)), n)
        parts = [
            shapely.get_coordinates(points_hull(points[label == k], codes[label == k], points.crs))
            for k in np.unique(label)
        ]
        assert hull_of_points(np.concatenate(parts)).wkb == whole.wkb


@pytest.mark.parametrize("exclude_at_station", [True, False])
def test_rankings_from_partition_counts_are_the_same_files(
    moved: gpd.GeoDataFrame, exclude_at_station: bool, tmp_path: Path
) -> None:
    from parsc_geo.area import area_of
    from parsc_geo.parallel import WorkerPool

    hotspots = gpd.GeoDataFrame(
        {
            "hotspot_id": ["h-1", "h-2", "h-3"],
            "method": ["dbscan", "dbscan", "kde"],
            "n": [40, 12, 30],
            "harm": [50.0, 12.0, 31.5],
            "density": [1.0, 2.0, 3.0],
            "provincia": ["Cajamarca", "Jaén", None],
            "comisaria": ["A", "B", None],
        },
        geometry=[shapely.Point(-78.5, -7.1)] * 3,
        crs=4326,
    )
    hotspots.attrs["parameters"] = {
        "min_incidents": 1000,
        "exclude_at_station": exclude_at_station,
    }
    declined = {"kde": {"Chota": "pocos"}}
    with WorkerPool(2) as pool:
        before = rows_loaded()
        counts = province_counts_from_partitions(_partitions(moved, tmp_path / "p"), pool=pool)
        assert rows_loaded() == before
    # the same numbers per name as the whole table's, "FUERA" included
    whole = province_counts(moved).set_index("provincia").sort_index()
    pd.testing.assert_frame_equal(counts.set_index("provincia").sort_index(), whole)
    assert whole.loc["FUERA", "n"] == 4
    assert (whole["n"] - whole["n_not_at_station"]).sum() == int(moved["at_station"].sum()) > 0
    expected = province_summary(hotspots[hotspots["method"] == "dbscan"], incidents=moved)
    got = province_summary(
        hotspots[hotspots["method"] == "dbscan"], counts=counts, area=area_of(moved)
    )
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    # the counts the summary shows depend on the method's rule for station stacks
    cajamarca = int((moved["provincia"] == "Cajamarca").sum())
    if exclude_at_station:
        cajamarca -= int(((moved["provincia"] == "Cajamarca") & moved["at_station"]).sum())
    assert expected.set_index("Provincia").loc["Cajamarca", "Incidentes"] == cajamarca
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _, files = write_rankings(hotspots, tmp_path / "a", declined=declined, incidents=moved)
    _, again = write_rankings(
        hotspots, tmp_path / "b", declined=declined, counts=counts, area=area_of(moved)
    )
    assert [f.name for f in files] == [f.name for f in again]
    for first, second in zip(files, again, strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name


def test_sector_counts_from_partitions_are_the_layers_counts(
    moved: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    from parsc_geo.parallel import WorkerPool
    from parsc_geo.sectors import read_sectors

    sectors = read_sectors(sample_paths()["sectors"])
    parts = _partitions(moved, tmp_path)
    expected = sector_layers(sectors, moved)
    assert expected["subsectores"]["n"].sum() > 0
    with WorkerPool(2) as pool:
        before = rows_loaded()
        counts = sector_counts_from_partitions(sectors, parts, pool=pool)
        assert rows_loaded() == before
    assert np.array_equal(counts, sector_counts_from_partitions(sectors, parts))
    got = sector_layers(sectors, counts=counts)
    for name, layer in expected.items():
        pd.testing.assert_frame_equal(
            pd.DataFrame(got[name]), pd.DataFrame(layer), check_exact=True
        )
