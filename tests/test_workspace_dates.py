"""The workspace stores date-times as GeoPackage DATETIME fields (UTC), and upgrades old ones.

QGIS's temporal controller reads a DATETIME field without expressions; the values are the
same instants as the local times given, and come back in the workspace's time zone.
"""

from __future__ import annotations

import sqlite3

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

from parsc_geo._errors import InputDataError
from parsc_geo.workspace import Workspace


def _incidents(ids: list[str], times: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "incident_id": ids,
            "occurred_at": pd.to_datetime(times, format="ISO8601").tz_convert("America/Lima"),
            "source": ["a.csv"] * len(ids),
            "source_row": list(range(1, len(ids) + 1)),
            "at_station": [False] * len(ids),
        },
        geometry=[Point(-78.5 + i / 100, -7.16) for i in range(len(ids))],
        crs="EPSG:4326",
    )


def _empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame(columns=["source", "source_row", "reason"])


def _declared(path, table: str) -> dict[str, str]:
    with sqlite3.connect(path) as con:
        return {row[1]: row[2] for row in con.execute(f'PRAGMA table_info("{table}")')}


def _stored(path, table: str, column: str) -> list[str]:
    with sqlite3.connect(path) as con:
        return [r[0] for r in con.execute(f'SELECT "{column}" FROM "{table}" ORDER BY fid')]


def test_imported_times_are_datetime_fields_in_utc(tmp_path):
    ws = Workspace(tmp_path / "w.gpkg")
    ws.import_incidents(
        _incidents(["a", "b"], ["2020-01-01T00:00:00-05:00", "2020-12-31T23:59:00-05:00"]),
        _empty_quarantine(),
        sources=[{"source": "a.csv", "sha256": "s1"}],
        metadata={"timezone": "America/Lima"},
    )
    assert _declared(ws.path, "incidents")["occurred_at"] == "DATETIME"
    assert _declared(ws.path, "imports")["imported_at"] == "DATETIME"
    # 00:00 in Lima (UTC−5) is 05:00 UTC; 23:59 on 31 December is 04:59 on 1 January, UTC
    assert _stored(ws.path, "incidents", "occurred_at") == [
        "2020-01-01T05:00:00Z",
        "2021-01-01T04:59:00Z",
    ]
    info = pyogrio.read_info(ws.path, layer="incidents")
    assert dict(zip(info["fields"], info["ogr_types"], strict=True))["occurred_at"] == (
        "OFTDateTime"
    )
    back = ws.read_incidents()["occurred_at"]
    assert str(back.dt.tz) == "America/Lima"
    assert [t.isoformat() for t in back] == [
        "2020-01-01T00:00:00-05:00",
        "2020-12-31T23:59:00-05:00",
    ]
    imported = ws.imports()["imported_at"]
    assert isinstance(imported.dtype, pd.DatetimeTZDtype)


def test_an_old_workspace_with_text_times_is_read_and_upgraded_by_its_next_write(tmp_path):
    path = tmp_path / "old.gpkg"
    old = _incidents(["a"], ["2020-03-05T14:30:00-05:00"])
    # the form workspaces were written in before: local ISO 8601 text with its offset
    old["occurred_at"] = ["2020-03-05T14:30:00-05:00"]
    pyogrio.write_dataframe(old, path, layer="incidents", driver="GPKG")
    log = pd.DataFrame(
        {"source": ["a.csv"], "sha256": ["s0"], "imported_at": ["2024-01-02T03:04:05+00:00"]}
    )
    pyogrio.write_dataframe(log, path, layer="imports", driver="GPKG")
    assert _declared(path, "incidents")["occurred_at"] == "TEXT"

    ws = Workspace(path)
    before = ws.read_incidents()
    assert before["occurred_at"].iloc[0].isoformat() == "2020-03-05T14:30:00-05:00"

    ws.import_incidents(
        _incidents(["b"], ["2020-03-06T08:00:00-05:00"]),
        _empty_quarantine(),
        sources=[{"source": "b.csv", "sha256": "s1"}],
    )
    assert _declared(path, "incidents")["occurred_at"] == "DATETIME"
    assert _declared(path, "imports")["imported_at"] == "DATETIME"
    assert _stored(path, "incidents", "occurred_at") == [
        "2020-03-05T19:30:00Z",
        "2020-03-06T13:00:00Z",
    ]
    after = ws.read_incidents()
    assert [t.isoformat() for t in after["occurred_at"]] == [
        "2020-03-05T14:30:00-05:00",
        "2020-03-06T08:00:00-05:00",
    ]
    log_after = ws.imports()
    assert log_after["imported_at"].iloc[0] == pd.Timestamp("2024-01-02T03:04:05Z")


def test_text_that_is_not_a_date_fails_the_upgrade_and_leaves_the_file(tmp_path):
    path = tmp_path / "old.gpkg"
    old = _incidents(["a"], ["2020-03-05T14:30:00-05:00"])
    old["occurred_at"] = ["ayer"]
    pyogrio.write_dataframe(old, path, layer="incidents", driver="GPKG")
    original = path.read_bytes()
    with pytest.raises(InputDataError, match="ayer"):
        Workspace(path).import_incidents(
            _incidents(["b"], ["2020-03-06T08:00:00-05:00"]),
            _empty_quarantine(),
            sources=[{"source": "b.csv", "sha256": "s1"}],
        )
    assert path.read_bytes() == original
