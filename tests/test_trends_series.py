"""Data for the emerging-hot-spot map layer: per-cell series, colours and the legend."""

from __future__ import annotations

import numpy as np
import shapely

from parsc_geo.grid import make_grid
from parsc_geo.trends.cube import SpaceTimeCube
from parsc_geo.trends.emerging import analyse_cube
from parsc_geo.trends.patterns import pattern_table
from parsc_geo.trends.series import cell_series, legend_table, trend_label


def _result():  # type: ignore[no-untyped-def]
    import pandas as pd

    grid = make_grid(shapely.box(775_000, 9_207_000, 776_000, 9_208_000), 100.0, crs="EPSG:32717")
    rng = np.random.default_rng(4)
    counts = rng.poisson(1.0, (len(grid), 12))
    counts[:12] += 2 * np.arange(12)  # a corner that heats up month after month
    starts = pd.date_range("2021-01-01", periods=12, freq="MS")
    cube = SpaceTimeCube(
        grid=grid,
        starts=starts,
        ends=starts + pd.offsets.MonthBegin(1),
        values=counts.astype(float),
        counts=counts,
        parameters={"weights": None},
    )
    return analyse_cube(cube, quiet=True)


def test_cell_series_has_everything_a_popup_needs() -> None:
    result = _result()
    series = cell_series(result)
    assert series.crs.to_epsg() == 4326
    assert len(series) == 100
    table = pattern_table("arcgis")
    for row in series.itertuples():
        assert row.color == table[row.pattern_key].color
        assert row.patron == table[row.pattern_key].patron
        assert len(row.counts) == len(row.z) == len(row.periods) == 12
    first = series.iloc[0]
    i = int(np.flatnonzero(result.cube.grid["cell_id"].to_numpy() == first["cell_id"])[0])
    assert first["counts"] == result.cube.counts[i].tolist()
    assert first["z"] == [round(v, 3) for v in result.z[i]]
    assert first["periods"][0] == "2021-01-01"
    # The heating corner is a hot pattern, read as a significant upward trend.
    assert first["pattern_key"].endswith("_hot")
    assert first["trend_es"].startswith("en aumento")
    only = cell_series(result, include_no_pattern=False)
    assert (only["pattern_key"] != "no_pattern").all()
    assert len(only) == int((result.pattern_key != "no_pattern").sum())


def test_legend_counts_cells_per_pattern() -> None:
    result = _result()
    legend = legend_table(result)
    assert len(legend) == 17
    assert legend["n_cells"].sum() == 100
    assert list(legend.columns) == ["pattern_key", "patron", "pattern", "color", "code", "n_cells"]
    assert legend_table(scheme="sfhotspot")["n_cells"].sum() == 0


def test_trend_label_in_spanish() -> None:
    assert trend_label(0.42, 0.003, 0.05) == "en aumento (τ = 0,42; p = 0,003)"
    assert trend_label(-0.5, 0.01, 0.05).startswith("en descenso")
    assert trend_label(0.1, 0.4, 0.05).startswith("sin tendencia significativa")
