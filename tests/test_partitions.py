"""Partitions of a distributed run: each province's incidents read back exactly as cut."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from parsc_geo._errors import MissingDependencyError
from parsc_geo.datasets import sample_paths
from parsc_geo.ingest import IngestOptions
from parsc_geo.partitions import Partition, materialise, rows_loaded, write_partitions
from parsc_geo.workflow import ingest, province_subsets


@pytest.fixture(scope="module")
def accepted() -> pd.DataFrame:
    return ingest([sample_paths()["incidents"]], IngestOptions()).result.accepted


def test_partitions_read_back_the_provinces_as_cut(accepted: pd.DataFrame, tmp_path: Path) -> None:
    groups = province_subsets(accepted)
    before = rows_loaded()
    written = write_partitions(groups, tmp_path)
    # one file per province of the area, named by position, never by the data
    assert [p.key for p in written] == [name for name, _ in groups]
    assert sorted(f.name for f in tmp_path.iterdir()) == [
        f"p-{k:04d}.parquet" for k in range(len(groups))
    ]
    assert sum(len(p) for p in written) == len(accepted)  # every incident in one partition
    assert rows_loaded() == before  # writing reads nothing back
    for (_, frame), partition in zip(groups, written, strict=True):
        loaded = partition.load()
        # the same rows, order, index, columns, types and values (exact floats, geometry)
        pd.testing.assert_frame_equal(
            pd.DataFrame(loaded), pd.DataFrame(frame), check_exact=True, check_like=False
        )
        assert loaded.geometry.name == frame.geometry.name
        assert loaded.crs == frame.crs
        assert loaded.attrs == frame.attrs and "study_area" in loaded.attrs
    assert rows_loaded() - before == len(accepted)
    # a frame is its own incidents; a partition is read
    assert materialise(groups[0][1]) is groups[0][1]
    assert isinstance(written[0], Partition) and len(materialise(written[0])) == len(written[0])


def test_without_pyarrow_partitions_stop_with_the_install_hint(
    accepted: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import parsc_geo.partitions as partitions

    monkeypatch.setattr(partitions, "_has_pyarrow", lambda: False)  # as if not installed
    with pytest.raises(MissingDependencyError) as info:
        write_partitions(province_subsets(accepted)[:1], tmp_path)
    assert info.value.exit_code == 6
    assert "pip install 'parsc-geo[dask]'" in (info.value.hint or "")
    assert not list(tmp_path.iterdir())


def test_rows_are_cut_when_pickled_for_a_worker_or_taken_here(accepted: pd.DataFrame) -> None:
    import pickle

    import numpy as np

    from parsc_geo.partitions import Rows

    positions = np.array([5, 0, 17, 3])
    rows = Rows(accepted, positions)
    assert len(rows) == 4
    expected = accepted.iloc[[5, 0, 17, 3]]
    sent = pickle.loads(pickle.dumps(rows))
    # a worker receives the rows themselves (a table, not the whole table and positions)
    assert type(sent) is type(accepted)
    pd.testing.assert_frame_equal(pd.DataFrame(sent), pd.DataFrame(expected), check_exact=True)
    assert sent.attrs == accepted.attrs
    assert len(pickle.dumps(rows)) < len(pickle.dumps(accepted)) / 100
    pd.testing.assert_frame_equal(
        pd.DataFrame(materialise(rows)), pd.DataFrame(expected), check_exact=True
    )


def test_rows_of_a_partitioned_table_are_read_by_the_worker(
    accepted: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pickle

    import numpy as np

    import parsc_geo.partitions as partitions
    from parsc_geo.partitions import Partitioned, Rows
    from parsc_geo.workflow import province_positions

    groups = province_positions(accepted)
    written = write_partitions([(n, accepted.iloc[rows]) for n, rows in groups], tmp_path)
    table = Partitioned(accepted, [(p, rows) for p, (_, rows) in zip(written, groups, strict=True)])
    # fewer rows than READ_MIN_ROWS travel as the rows (a read would cost more)
    few = np.arange(10)
    assert table.rows(few).source is None and len(accepted) < partitions.READ_MIN_ROWS
    before = rows_loaded()
    pd.testing.assert_frame_equal(
        pd.DataFrame(pickle.loads(pickle.dumps(table.rows(few)))),
        pd.DataFrame(accepted.iloc[few]),
        check_exact=True,
    )
    assert rows_loaded() == before
    # from here on, every selection is read from the partitions, as large ones are
    monkeypatch.setattr(partitions, "READ_MIN_ROWS", 1)
    rng = np.random.default_rng(7)
    # rows of several provinces, every row of one province, and one row
    chosen = {
        "several": np.sort(rng.choice(len(accepted), 3000, replace=False)),
        "one province": groups[2][1],
        "one row": np.array([len(accepted) - 1]),
    }
    for what, positions in chosen.items():
        message = pickle.dumps(table.rows(positions))
        # the message names the partitions, positions and order (8 + 8 bytes a row): no
        # incident travels
        assert len(message) < 16 * len(positions) + 20_000, what
        before = rows_loaded()
        sent = pickle.loads(message)
        assert rows_loaded() > before, what  # read from the partitions, here the "worker"
        expected = accepted.iloc[positions]
        pd.testing.assert_frame_equal(
            pd.DataFrame(sent), pd.DataFrame(expected), check_exact=True, obj=what
        )
        assert sent.crs == expected.crs and sent.attrs == expected.attrs, what
    # a task reading a few columns: only those (in the table's order) and the geometry come,
    # read from the partitions or carried, with the same index, types and values
    few_columns = {"occurred_at", "fenomeno", "no such column", "incident_id"}
    kept = ["incident_id", "occurred_at", "fenomeno", "geometry"]
    assert [c for c in accepted.columns if c in kept] == kept
    for what, positions in chosen.items():
        expected = pd.DataFrame(accepted)[kept].iloc[positions]
        for source in (table, None):
            rows = (
                table.rows(positions, few_columns)
                if source is not None
                else Rows(accepted, positions, columns=few_columns)
            )
            sent = pickle.loads(pickle.dumps(rows))
            pd.testing.assert_frame_equal(
                pd.DataFrame(sent), expected, check_exact=True, obj=f"{what} {source}"
            )
            assert sent.geometry.name == "geometry" and sent.crs == accepted.crs
            assert sent.attrs == accepted.attrs
            pd.testing.assert_frame_equal(
                pd.DataFrame(materialise(rows)), expected, check_exact=True
            )
    # a row in no partition (a province outside the area): the rows themselves travel
    partial = Partitioned(accepted, [(written[0], groups[0][1])])
    outside = np.array([groups[0][1][0], groups[1][1][0]])
    before = rows_loaded()
    sent = pickle.loads(pickle.dumps(partial.rows(outside)))
    assert rows_loaded() == before
    pd.testing.assert_frame_equal(
        pd.DataFrame(sent), pd.DataFrame(accepted.iloc[outside]), check_exact=True
    )


def test_backtest_months_read_their_province_partition(
    accepted: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A month's task given the province's partition scores as one given the incidents."""
    import parsc_geo.partitions as partitions

    # the sample's provinces are below READ_MIN_ROWS: read them as large ones are read
    monkeypatch.setattr(partitions, "READ_MIN_ROWS", 1)
    from parsc_geo.area import area_of
    from parsc_geo.evaluation.accuracy import historical_accuracy
    from parsc_geo.hotspots._common import method_input
    from parsc_geo.workflow import province_subsets

    area = area_of(accepted)
    # two provinces (one large, one small), cut as the run cuts them: the backtest's with
    # the columns it reads, the partitions (written for every stage) with all of them
    names = ["Chota", "San Miguel"]
    groups = [(n, f) for n, f in province_subsets(accepted, area.provinces()) if n in names]
    written = write_partitions(groups, tmp_path)
    scopes = [
        ("provincia", n, f)
        for n, f in province_subsets(method_input(accepted), area.provinces())
        if n in names
    ]
    options = {"methods": ["kde"], "folds": 2, "pooled": area.place}
    given = historical_accuracy(scopes, **options)  # type: ignore[arg-type]
    before = rows_loaded()
    read = historical_accuracy(
        scopes,
        partitions={p.key: p for p in written},
        **options,  # type: ignore[arg-type]
    )
    tested = {s.name: len(s.folds) for s in given.scopes if s.scope == "provincia"}
    assert set(tested) == set(names) and all(tested.values())
    # each month read its province's partition (here, serially, in this process)
    sizes = {p.key: len(p) for p in written}
    assert rows_loaded() - before == sum(sizes[n] * k for n, k in tested.items())
    # the same figures, to the last digit
    assert read.as_dict() == given.as_dict()


def test_only_columns_keeps_the_named_ones_in_order_with_the_geometry(
    accepted: pd.DataFrame,
) -> None:
    from parsc_geo.incidents import only_columns

    # named in another order, with one the table lacks; the geometry is not named
    kept = only_columns(accepted, {"occurred_at", "no_such_column", "incident_id"})
    # in the table's order (incident_id, occurred_at, then further on the geometry)
    assert list(kept.columns) == ["incident_id", "occurred_at", "geometry"]
    assert kept.geometry.name == "geometry" and kept.crs == accepted.crs
    assert kept.attrs == accepted.attrs and len(kept) == len(accepted)
    assert kept["incident_id"].equals(accepted["incident_id"])


def _provinces_and_rows(frame: pd.DataFrame, factor: int) -> tuple[list[str], int]:
    """A task of map_partitions: the partition's provinces (sorted) and rows times factor."""
    return sorted(set(frame["provincia"])), len(frame) * factor


def test_map_partitions_runs_each_partition_in_order_in_the_pool(
    accepted: pd.DataFrame, tmp_path: Path
) -> None:
    from parsc_geo.parallel import WorkerPool
    from parsc_geo.partitions import map_partitions

    groups = province_subsets(accepted)
    written = write_partitions(groups, tmp_path)
    expected = [([name], 2 * len(frame)) if len(frame) else ([], 0) for name, frame in groups]
    # serially, and in two worker processes (largest first, results in the partitions' order)
    assert map_partitions(_provinces_and_rows, written, columns=["provincia"], args=(2,)) == (
        expected
    )
    with WorkerPool(2) as pool:
        before = rows_loaded()
        assert (
            map_partitions(
                _provinces_and_rows, written, pool=pool, columns=["provincia"], args=(2,)
            )
            == expected
        )
        assert rows_loaded() == before  # the workers read them, not this process


@pytest.mark.parametrize("period", [None, "2020-03:2020-08"])
def test_a_distributed_runs_partitions_hold_every_incident_once(
    accepted: pd.DataFrame, tmp_path: Path, period: str | None
) -> None:
    import datetime as dt
    import itertools
    import json

    import numpy as np
    import pyarrow.parquet as pq

    from parsc_geo import pipeline
    from parsc_geo.config import RunConfig
    from parsc_geo.incidents import select
    from parsc_geo.ingest.files import IngestResult
    from parsc_geo.workflow import Ingested

    # two incidents (of the period) moved to a province of no study area: they go to a
    # partition of their own
    moved = accepted.copy()
    moved.attrs = accepted.attrs
    in_period = moved["occurred_at"].dt.month.between(3, 8).to_numpy()
    moved.loc[moved.index[np.flatnonzero(in_period)[[5, 7]]], "provincia"] = "FUERA"
    # the ingestion's chunks (issue 17): the accepted rows cut in three, not held here
    cuts = [0, 5_000, 12_345, len(moved)]
    chunks = [
        p
        for a, b in itertools.pairwise(cuts)
        for p in write_partitions([("", moved.iloc[a:b])], tmp_path / "chunks", prefix=f"c{a}")
    ]

    class _Dask:  # what _from_partitions asks of a pool: its scheduler
        scheduler, workers = "dask", 2

    config = RunConfig(incidents=[sample_paths()["incidents"]], period=period)
    state = pipeline.RunState(
        config=config, out=tmp_path / "out", command=None, started=dt.datetime(2024, 1, 1)
    )
    result = IngestResult(moved.iloc[:0], pd.DataFrame(), {}, [], chunks)
    state.ingested = Ingested(result, None, None)
    state.pool = _Dask()  # type: ignore[assignment]
    state.out.mkdir()
    tally = pipeline._split_by_province(state, chunks)
    parts = pipeline._from_partitions(state)
    assert parts is not None
    # what the whole table gives: its selection, without the texts only the import reads,
    # cut by province (as a local pool's run writes its partitions), then the others
    whole = moved if period is None else select(moved, period=period, include_at_station=True)
    whole = whole.drop(columns=list(pipeline.REPORTED_TEXTS))
    whole.attrs = {**moved.attrs, **({} if period is None else {"selection": whole.attrs})}
    if period is not None:
        whole.attrs["selection"] = select(moved, period=period, include_at_station=True).attrs[
            "selection"
        ]
        assert 0 < len(whole) < len(moved)
    expected = [*province_subsets(whole), ("", whole[whole["provincia"] == "FUERA"])]
    assert [p.key for p in parts] == [k for k, _ in expected] and len(parts[-1]) == 2
    for (_, frame), part in zip(expected, parts, strict=True):
        loaded = part.load()
        pd.testing.assert_frame_equal(
            pd.DataFrame(loaded), pd.DataFrame(frame), check_exact=True, check_index_type=False
        )
        assert loaded.crs == moved.crs and len(part) == len(frame)
        assert loaded.attrs == part.attrs == whole.attrs
        # written a chunk at a time, the file's geometry record claims no bounding box and
        # no geometry types (optional in GeoParquet: not known when it was written)
        geo = json.loads(pq.read_schema(part.path).metadata[b"geo"])["columns"]["geometry"]
        if len(frame):
            assert "bbox" not in geo and geo["geometry_types"] == []
            # a row group per chunk that held rows of the province
            assert pq.ParquetFile(part.path).num_row_groups <= len(chunks)
    index = np.concatenate([p.load().index.to_numpy() for p in parts])
    assert sorted(index) == list(whole.index)  # every incident once
    # the counts of the run (workspace stage), and the table without rows kept here
    assert tally == pipeline._Tally.of(whole)
    assert tally.n == len(whole) and sum(tally.provinces.values()) == len(whole)
    assert state.released is not None and not len(state.released)
    assert state.empty.attrs == whole.attrs
    assert list(state.empty.columns) == list(whole.columns)
    with pytest.raises(RuntimeError, match="holds no incidents"):
        _ = state.incidents
    assert pipeline._from_partitions(state) == parts  # written once
    state.pool = 2  # a local pool or a serial run: the stages read the incidents held here
    assert pipeline._from_partitions(state) is None


def test_the_crs_travels_in_the_partition_and_is_parsed_once(
    accepted: pd.DataFrame, tmp_path: Path
) -> None:
    import json

    import pyarrow.parquet as pq

    from parsc_geo.partitions import _parsed_crs

    written = write_partitions(province_subsets(accepted), tmp_path)
    # the files record no CRS (parsing a GeoParquet file's PROJJSON took 20 ms a read) …
    geo = json.loads(pq.read_schema(written[0].path).metadata[b"geo"])
    assert geo["columns"][geo["primary_column"]]["crs"] is None
    # … the partitions carry it, and reading them all parses it once in this process
    assert {p.crs for p in written} == {accepted.crs.srs}
    _parsed_crs.cache_clear()
    for partition in written:
        assert partition.load(["provincia"]).crs == accepted.crs
        assert partition.load(["provincia"], positions=[0]).crs == accepted.crs
    assert _parsed_crs.cache_info().misses == 1
    # the table written keeps its own CRS
    assert accepted.crs is not None and province_subsets(accepted)[0][1].crs == accepted.crs
