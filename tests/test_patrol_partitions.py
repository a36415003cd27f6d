"""A distributed run's patrol plan: each sector's task reads its incidents from the partitions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal

from parsc_geo._errors import InputDataError
from parsc_geo.datasets import sample_paths
from parsc_geo.ingest import IngestOptions
from parsc_geo.parallel import WorkerPool
from parsc_geo.partitions import Partition, rows_loaded, write_partitions
from parsc_geo.patrol import PatrolPlan, plan_patrols
from parsc_geo.patrol.plan import start_plan_patrols
from parsc_geo.workflow import Ingested, ingest, province_subsets

#: the frames a plan's tables and sheets are made of
FRAMES = (
    "points_frame",
    "schedule_frame",
    "windows_frame",
    "summary_frame",
    "modalidades_frame",
    "hour_day_frame",
    "incidents_frame",
)


@pytest.fixture(scope="module")
def sample() -> Ingested:
    paths = sample_paths()
    return ingest([paths["incidents"]], IngestOptions(), sectors_path=paths["sectors"])


def assert_same_plan(got: PatrolPlan, expected: PatrolPlan) -> None:
    """Assert that two plans hold the same sectors, incidents, points, schedules and tables."""
    assert got.crs == expected.crs
    assert got.schedule_options == expected.schedule_options
    assert got.parameters == expected.parameters
    assert (got.period, got.n_outside) == (expected.period, expected.n_outside)
    assert len(got.sectors) == len(expected.sectors)
    for a, b in zip(got.sectors, expected.sectors, strict=True):
        assert (a.comisaria, a.comisaria_id, a.sector) == (b.comisaria, b.comisaria_id, b.sector)
        assert a.geometry.equals_exact(b.geometry, 0.0)
        assert_geodataframe_equal(a.subsectors, b.subsectors)
        # the same rows, order, index, columns, types, exact values and geometries
        assert_geodataframe_equal(a.incidents, b.incidents, check_less_precise=False)
        assert a.incidents.attrs == b.incidents.attrs
        pd.testing.assert_frame_equal(a.hour_day, b.hour_day, check_exact=True)
        assert (a.windows, a.points, a.tour) == (b.windows, b.points, b.tour)
        assert (a.travel_minutes, a.schedules, a.notes) == (b.travel_minutes, b.schedules, b.notes)
    for name in FRAMES:
        pd.testing.assert_frame_equal(
            pd.DataFrame(getattr(got, name)()),
            pd.DataFrame(getattr(expected, name)()),
            check_exact=True,
        )


def test_the_provinces_partitions_give_the_plan_of_the_whole_table(
    sample: Ingested, tmp_path: Path
) -> None:
    accepted, sectors = sample.result.accepted, sample.sectors
    assert sectors is not None
    expected = plan_patrols(accepted, sectors)
    assert sum(sp.n_incidents for sp in expected.sectors) > 0
    parts = write_partitions(province_subsets(accepted), tmp_path)
    assert_same_plan(plan_patrols(parts, sectors), expected)


def _scattered(
    accepted: pd.DataFrame, sectors: gpd.GeoDataFrame, folder: Path
) -> tuple[pd.DataFrame, gpd.GeoDataFrame, list[Partition]]:
    """Return incidents, sectors and partitions where sectors span partitions, one has none.

    Every 7th incident goes to a province of no study area (a partition of its own, written
    last, as a run writes it): most sectors' rows then come from two partitions, interleaved
    in the table's order. A sector of the layer has no incident, a partition none either.
    """
    moved = accepted.copy()
    moved.attrs = accepted.attrs
    others = np.arange(0, len(moved), 7)
    moved.loc[moved.index[others], "provincia"] = "FUERA"
    ghost = sectors.iloc[:1].copy()
    ghost["sector"] = "SECTOR 99"
    layer = gpd.GeoDataFrame(pd.concat([sectors, ghost], ignore_index=True), crs=sectors.crs)
    # and a province without incidents (the sector without any reads none of its file)
    parts = write_partitions([*province_subsets(moved), ("VACÍA", moved.iloc[:0])], folder)
    parts += write_partitions([("", moved.iloc[others])], folder, prefix="otras")
    assert sum(len(p) for p in parts) == len(moved)
    return moved, layer, parts


def test_sectors_across_partitions_and_without_incidents_on_a_pool(
    sample: Ingested, tmp_path: Path
) -> None:
    assert sample.sectors is not None
    moved, layer, parts = _scattered(sample.result.accepted, sample.sectors, tmp_path)
    expected = plan_patrols(moved, layer)
    assert [sp.n_incidents for sp in expected.sectors if sp.sector == "SECTOR 99"] == [0]
    before = rows_loaded()
    with WorkerPool(2) as pool:
        got = plan_patrols(parts, layer, workers=pool)
    # the workers read the rows: this process read none
    assert rows_loaded() == before
    assert_same_plan(got, expected)
    # and serially (every task here), with the run's other options
    options: dict[str, Any] = {"method": "grid", "cell_size_m": 150.0, "risk": "harm"}
    assert_same_plan(plan_patrols(parts, layer, **options), plan_patrols(moved, layer, **options))


def test_one_comisaria_only(sample: Ingested, tmp_path: Path) -> None:
    accepted, sectors = sample.result.accepted, sample.sectors
    assert sectors is not None
    name = str(sectors["comisaria"].iloc[0])
    parts = write_partitions(province_subsets(accepted), tmp_path)
    expected = plan_patrols(accepted, sectors, comisaria=name)
    assert {sp.comisaria for sp in expected.sectors} == {name}
    assert_same_plan(plan_patrols(parts, sectors, comisaria=name), expected)


def test_partitions_lacking_a_column_are_rejected_as_the_table(
    sample: Ingested, tmp_path: Path
) -> None:
    sectors = sample.sectors
    assert sectors is not None
    unassigned = sample.result.accepted.drop(columns=["subsector", "harm"])
    parts = write_partitions(province_subsets(unassigned)[:3], tmp_path)
    with pytest.raises(InputDataError) as expected:
        plan_patrols(unassigned, sectors)
    before = rows_loaded()
    with WorkerPool(1) as pool, pytest.raises(InputDataError) as got:
        start_plan_patrols(parts, sectors, pool=pool)
    assert str(got.value) == str(expected.value) and "subsector" in str(got.value)
    assert got.value.hint == expected.value.hint
    assert rows_loaded() == before  # checked on the files' schemas
    # incidents without a CRS, too
    bare = sample.result.accepted.iloc[:50].copy()
    bare.geometry.array.crs = None
    parts = write_partitions([("a", bare)], tmp_path / "sin_src")
    with pytest.raises(InputDataError, match="no tienen SRC"):
        plan_patrols(parts, sectors)
