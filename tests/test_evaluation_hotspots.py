"""Tests of ``hotspot_auto`` and of Gi* hot zones (contiguous hot cells count as one)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from parsc_geo.hotspots import hotspot_auto, hotspot_gistar, run_method
from parsc_geo.hotspots.gistar import hot_zones
from parsc_geo.schema import HOTSPOT_COLUMNS

CRS = "EPSG:32717"
X0, Y0 = 775_000.0, 9_207_000.0


def _frame(xy: np.ndarray, days: np.ndarray) -> gpd.GeoDataFrame:
    times = pd.Timestamp("2022-01-01", tz="America/Lima") + pd.to_timedelta(days, unit="D")
    return gpd.GeoDataFrame(
        {"incident_id": [f"c{i:05d}" for i in range(len(xy))], "occurred_at": times},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=CRS,
    )


def test_hot_zones_by_hand() -> None:
    # Cells 0–1–2 in a chain (0 touches 1, 1 touches 2), cell 3 alone, cell 4 touches 3 but is
    # not hot. z orders the zones: the chain holds the highest z (5.0) → zone 1; cell 3 → 2.
    edges = [(0, 1), (1, 2), (3, 4)]
    w = sp.lil_matrix((5, 5))
    for i, j in edges:
        w[i, j] = w[j, i] = 1
    zones = hot_zones(
        np.array([True, True, True, True, False]), w, np.array([1.0, 5.0, 2.0, 4.0, 9.0])
    )
    assert zones.tolist() == [1, 1, 1, 2, 0]


def test_gistar_counts_zones_not_cells() -> None:
    # Two dense clusters 1.5 km apart on a background: each makes several contiguous hot
    # cells, which must be reported as two zones.
    rng = np.random.default_rng(8)
    xy = np.vstack(
        [
            rng.normal([X0 + 1000, Y0 + 1000], 90, (250, 2)),
            rng.normal([X0 + 2500, Y0 + 1000], 90, (250, 2)),
            rng.uniform([X0, Y0], [X0 + 3500, Y0 + 2000], (300, 2)),
        ]
    )
    out = hotspot_gistar(_frame(xy, np.zeros(len(xy))), cell_size=100, quiet=True)
    params = out.attrs["parameters"]
    assert params["n_hot_cells"] == len(out) > 2
    assert params["n_hot_zones"] == 2
    assert sorted(out["zone_id"].unique().tolist()) == [1, 2]
    # Existing columns are kept.
    assert {"gi_z", "gi_p", "gi_p_fdr", "gi_class"} <= set(out.columns)
    # Each zone lies around one cluster centre.
    metric = out.to_crs(CRS)
    for zone in (1, 2):
        cx = metric[out["zone_id"] == zone].geometry.centroid.x
        assert (cx.max() - cx.min()) < 800
    every = hotspot_gistar(_frame(xy, np.zeros(len(xy))), cell_size=100, output="all", quiet=True)
    assert every["zone_id"].isna().sum() == len(every) - params["n_hot_cells"]


def _history(days: float, n: int, seed: int = 1) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    spots = np.column_stack([X0 + 300 + 400 * np.arange(6), np.full(6, Y0 + 500)])
    xy = np.vstack(
        [
            spots[rng.integers(0, 6, n)] + rng.normal(0, 30, (n, 2)),
            rng.uniform([X0, Y0], [X0 + 2600, Y0 + 1000], (n // 3, 2)),
        ]
    )
    return _frame(xy, rng.uniform(0, days, len(xy)))


def test_hotspot_auto_schema_and_record() -> None:
    data = _history(365, 900)
    out = run_method("auto", data, coverage=(0.01, 0.05), quiet=True)
    assert list(out.columns[: len(HOTSPOT_COLUMNS) - 1]) == list(HOTSPOT_COLUMNS[:-1])
    assert {"cell_id", "rank", "score", "coverage_pct"} <= set(out.columns)
    params = out.attrs["parameters"]
    assert out["rank"].tolist() == list(range(1, len(out) + 1))
    assert len(out) == params["selections"]["5"]
    assert (out["coverage_pct"] == 1.0).sum() == params["selections"]["1"]
    auto = params["auto"]
    assert not auto["fallback"]
    assert auto["chosen"] in auto["candidates"]
    for scores in auto["candidates"].values():
        assert {"ratio", "lower_bound", "hit_rate_by_coverage"} <= set(scores)
    assert out.crs.to_epsg() == 4326
    # Every selected cell has history: no cell is picked at random.
    assert (out["score"] > 0).all()


def test_hotspot_auto_says_when_it_falls_back(capsys: pytest.CaptureFixture[str]) -> None:
    data = _history(20, 300)  # three weeks of history: no monthly folds
    out = hotspot_auto(data, coverage=0.05)
    auto = out.attrs["parameters"]["auto"]
    assert auto["fallback"]
    assert "historial insuficiente" in auto["reason"]
    assert "historial insuficiente" in capsys.readouterr().err


def test_hotspot_auto_declines_without_dates() -> None:
    data = _history(365, 100).drop(columns="occurred_at")
    out = hotspot_auto(data, quiet=True)
    assert len(out) == 0
    assert "fecha" in out.attrs["reason_es"]
