"""A distributed run's backtest: each province's tasks plan and test from its partition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from parsc_geo.datasets import sample_paths
from parsc_geo.evaluation.accuracy import HistoricalAccuracy, historical_accuracy
from parsc_geo.hotspots._common import method_input
from parsc_geo.ingest import IngestOptions
from parsc_geo.parallel import WorkerPool
from parsc_geo.partitions import rows_loaded, write_partitions
from parsc_geo.workflow import ingest, province_subsets

#: a backtest small enough for a test: two methods, two months, two candidates of auto
OPTIONS: dict[str, Any] = {
    "methods": ("kde", "gistar"),
    "folds": 2,
    "auto_candidates": ("counts", "kde_300"),
    "pooled": "Cajamarca",
}


@pytest.fixture(scope="module")
def accepted() -> pd.DataFrame:
    return ingest([sample_paths()["incidents"]], IngestOptions()).result.accepted


def scopes(accepted: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Return four provinces, one of a month only (too short), one without incidents."""
    groups = province_subsets(accepted)[:4]
    name, chota = next((n, f) for n, f in province_subsets(accepted) if n == "Chota")
    when = pd.to_datetime(chota["occurred_at"])
    last = chota[(when.dt.year == when.max().year) & (when.dt.month == when.max().month)]
    return [*groups, (f"{name} (último mes)", last), ("Vacía", chota.iloc[:0])]


def assert_same(got: HistoricalAccuracy, expected: HistoricalAccuracy) -> None:
    assert got.as_dict() == expected.as_dict()
    assert got.parameters == expected.parameters
    assert got.table() == expected.table()
    assert got.markdown_es() == expected.markdown_es()


def test_the_partitions_backtest_is_the_whole_tables(
    accepted: pd.DataFrame, tmp_path: Path
) -> None:
    groups = scopes(accepted)
    # the pipeline's scopes: each province's incidents, the columns a backtest reads
    expected = historical_accuracy(
        [("provincia", name, method_input(frame)) for name, frame in groups], **OPTIONS
    )
    reasons = [s.reason for s in expected.scopes]
    assert expected.region.ok and all(r is None for r in reasons[1:5])
    assert reasons[5] is not None and "hacen falta" in reasons[5]
    assert reasons[6] == "sin incidentes"
    parts = write_partitions(groups, tmp_path)
    read = [("provincia", p.key, p) for p in parts]
    assert_same(historical_accuracy(read, **OPTIONS), expected)
    before = rows_loaded()
    with WorkerPool(2) as pool:
        got = historical_accuracy(read, workers=pool, **OPTIONS)
    # every province's tasks read its partition in the workers, whatever its size
    assert rows_loaded() == before
    assert_same(got, expected)
    # tables and partitions together: each scope's figures, in the scopes' order
    mixed = [
        ("provincia", name, method_input(frame)) if k % 2 else read[k]
        for k, (name, frame) in enumerate(groups)
    ]
    assert_same(historical_accuracy(mixed, **OPTIONS), expected)
