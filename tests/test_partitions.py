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
