"""Tests of the columns shared by every hotspot method (parsc_geo.hotspots._common)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from parsc_geo._errors import CRSError, InputDataError
from parsc_geo.hotspots import hotspot_dbscan
from parsc_geo.hotspots._common import describe, prepare
from parsc_geo.schema import DAY_NAMES_ES

CRS = "EPSG:32717"
X0, Y0 = 775_000.0, 9_207_000.0


def _one_place() -> gpd.GeoDataFrame:
    """20 incidents within 30 m, with hand-chosen labels, places and times."""
    rng = np.random.default_rng(2)
    n = 20
    xy = rng.uniform(0, 30, (n, 2)) + np.array([X0, Y0])
    # modalidades: HURTO SIMPLE ×9, ROBO AGRAVADO ×6, HURTO AGRAVADO ×3, "SIMPLE" robo ×2
    esp = ["HURTO"] * 9 + ["ROBO"] * 6 + ["HURTO"] * 3 + ["ROBO"] * 2
    mod = ["SIMPLE"] * 9 + ["AGRAVADO"] * 6 + ["AGRAVADO"] * 3 + ["SIMPLE"] * 2
    # hours: 8 incidents at 20–21 h, 4 at 9 h, 3 with unknown time (midnight), 5 at 14 h
    hours = [20, 21, 20, 21, 20, 21, 20, 22] + [9] * 4 + [0] * 3 + [14] * 5
    time_known = [True] * 12 + [False] * 3 + [True] * 5
    # days: 2020-03-06 is a Friday; 7 Fridays, 7 Saturdays, 6 Mondays
    dates = ["2020-03-06"] * 7 + ["2020-03-07"] * 7 + ["2020-03-09"] * 6
    occurred = pd.to_datetime(
        [f"{d} {h:02d}:30" for d, h in zip(dates, hours, strict=True)]
    ).tz_localize("America/Lima")
    df = pd.DataFrame(
        {
            "incident_id": [f"i{i:02d}" for i in range(n)],
            "occurred_at": occurred,
            "time_known": time_known,
            "delito_especifico": esp,
            "modalidad": mod,
            "harm": np.arange(1, n + 1, dtype=float),
            "provincia": ["Cajamarca"] * 18 + ["Jaén"] * 2,
            "distrito": ["Cajamarca"] * 10 + ["Los Baños del Inca"] * 10,
            "comisaria": [None] * 20,
            "sector": ["SECTOR 2"] * 5 + ["SECTOR 1"] * 5 + [None] * 10,
            "at_station": [False] * 20,
        }
    )
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS)


def test_common_columns_by_hand() -> None:
    data = _one_place()
    prepared = prepare(data, exclude_at_station=True)
    square = shapely.box(X0 - 100, Y0 - 100, X0 + 400, Y0 + 400)  # 0.25 km²
    out = describe(prepared, np.zeros(len(data), dtype=int), [square], method="test", parameters={})
    row = out.iloc[0]
    assert row["hotspot_id"] == "test-0001"
    assert row["n"] == 20
    assert row["harm"] == pytest.approx(210.0)
    assert row["area_km2"] == pytest.approx(0.25)
    assert row["density"] == pytest.approx(80.0)
    assert row["provincia"] == "Cajamarca"
    # tie 10–10: the alphabetically first value wins
    assert row["distrito"] == "Cajamarca"
    assert row["comisaria"] is None
    assert row["sector"] == "SECTOR 1"  # tie 5–5 → alphabetical
    assert row["subsector"] is None  # column absent
    assert row["top_modalidades"] == "HURTO SIMPLE (9); ROBO AGRAVADO (6); HURTO AGRAVADO (3)"
    # known hours: 20 ×4, 21 ×3, 22 ×1, 9 ×4, 14 ×5 → best 3-hour window 20–23 h (8)
    assert row["peak_hours"] == "20–23 h"
    # 7 Fridays and 7 Saturdays: both, Friday first (weekday order on ties)
    assert row["peak_days"] == f"{DAY_NAMES_ES[4]}, {DAY_NAMES_ES[5]}"
    assert out.crs.to_epsg() == 4326


def test_peak_hours_none_without_known_times() -> None:
    data = _one_place()
    data["time_known"] = False
    prepared = prepare(data, exclude_at_station=True)
    out = describe(
        prepared,
        np.zeros(len(data), dtype=int),
        [shapely.box(X0, Y0, X0 + 100, Y0 + 100)],
        method="test",
        parameters={},
    )
    assert out["peak_hours"].iloc[0] is None
    assert out["peak_days"].iloc[0] is not None


def test_prepare_rejects_bad_input() -> None:
    with pytest.raises(InputDataError, match="GeoDataFrame"):
        prepare(pd.DataFrame({"a": [1]}), exclude_at_station=True)
    data = _one_place()
    with pytest.raises(CRSError):
        prepare(data.set_crs(None, allow_override=True), exclude_at_station=True)
    lines = data.copy()
    lines.loc[3, "geometry"] = shapely.LineString([(X0, Y0), (X0 + 1, Y0 + 1)])
    with pytest.raises(InputDataError, match="fila 4"):
        prepare(lines, exclude_at_station=True)


def test_station_stacks_excluded_and_counted() -> None:
    data = _one_place()
    data.loc[:4, "at_station"] = True
    prepared = prepare(data, exclude_at_station=True)
    assert prepared.info["n_excluded_at_station"] == 5
    assert len(prepared.points) == 15
    out = hotspot_dbscan(data, eps=100, min_samples=3, quiet=True)
    assert out["n"].sum() == 15
    assert out.attrs["parameters"]["n_excluded_at_station"] == 5


def test_boolean_columns_given_as_text() -> None:
    from parsc_geo._text import as_bool

    values = pd.Series(["true", "False", "0", "1", None, "sí", 1, 0.0, np.nan], dtype=object)
    assert as_bool(values).tolist() == [True, False, False, True, False, True, True, False, False]
    nullable = pd.Series([True, pd.NA, False], dtype="boolean")
    assert as_bool(nullable).tolist() == [True, False, False]
    data = _one_place()
    data["at_station"] = ["false"] * 15 + ["true"] * 5
    assert prepare(data, exclude_at_station=True).info["n_excluded_at_station"] == 5


@pytest.mark.parametrize("method", ["kde", "dbscan", "hdbscan", "gistar"])
def test_empty_input_declines_instead_of_failing(method):
    from parsc_geo.hotspots import run_method

    empty = gpd.GeoDataFrame({"incident_id": []}, geometry=gpd.GeoSeries([], crs=4326))
    result = run_method(method, empty, quiet=True)
    assert len(result) == 0
    assert "0 incidentes" in result.attrs["reason_es"]


@pytest.mark.parametrize("method", ["kde", "dbscan", "hdbscan", "gistar"])
def test_methods_read_only_their_input_columns(method: str) -> None:
    # hotspots_by_province hands the methods INPUT_COLUMNS only: the result must not change
    from parsc_geo.datasets import sample_paths
    from parsc_geo.hotspots import run_method
    from parsc_geo.hotspots._common import INPUT_COLUMNS
    from parsc_geo.ingest import IngestOptions
    from parsc_geo.workflow import ingest

    accepted = ingest([sample_paths()["incidents"]], IngestOptions()).result.accepted
    province = accepted[accepted["provincia"].str.upper() == "CHOTA"]
    province.attrs["synthetic"] = True
    keep = [c for c in province.columns if c in INPUT_COLUMNS or c == "geometry"]
    assert len(keep) < len(province.columns)
    full = run_method(method, province, quiet=True)
    only = run_method(method, province[keep], quiet=True)
    assert len(full) > 0
    pd.testing.assert_frame_equal(pd.DataFrame(full), pd.DataFrame(only))
    assert full.attrs == only.attrs
