"""The workspace contract, run on both backends: a GeoPackage file and a PostGIS schema.

Every check here holds for :class:`parsc_geo.workspace.Workspace` and for
:class:`parsc_geo.workspace.postgis.PostGISWorkspace` alike (see
:mod:`parsc_geo.workspace.base`); the PostGIS cases run against a real server (see
``tests/_postgis.py``).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from _postgis import pg_url, postgis_url  # noqa: F401 - fixtures used by name
from shapely.geometry import Polygon
from test_store import incidents, quarantine

from parsc_geo._errors import InputDataError
from parsc_geo.workspace import open_workspace


@pytest.fixture(params=["gpkg", "postgis"])
def ws(request, tmp_path):
    """An empty workspace of each backend."""
    if request.param == "gpkg":
        return open_workspace(tmp_path / "w.gpkg")
    return open_workspace(request.getfixturevalue("pg_url"))


def test_imports_follow_the_same_rules(ws):
    assert not ws.exists and ws.layers() == [] and ws.metadata() == {}
    r1 = ws.import_incidents(
        incidents(["a", "b", "c"]),
        quarantine(),
        sources=[{"source": "a.csv", "sha256": "s1", "rows_read": 5}],
    )
    assert ws.exists
    assert (r1["rows_new"], r1["rows_already_present"], r1["quarantine_added"]) == (3, 0, 2)
    # the same file again: nothing added, its 2 quarantine rows replace the earlier 2
    r2 = ws.import_incidents(
        incidents(["a", "b", "c"]),
        quarantine(),
        sources=[{"source": "a.csv", "sha256": "s1", "rows_read": 5}],
    )
    assert (r2["rows_new"], r2["rows_already_present"], r2["quarantine_replaced"]) == (0, 3, 2)
    assert r2["files_reimported"] == ["a.csv"] and r2["files"][0]["reimport"]
    # an overlapping new file: ids c is already there, d and e are new
    r3 = ws.import_incidents(
        incidents(["c", "d", "e", "d"], source="b.csv"),
        quarantine("b.csv", 1),
        sources=[{"source": "b.csv", "sha256": "s2"}],
    )
    assert (r3["rows_new"], r3["rows_already_present"]) == (2, 2)
    assert list(ws.read_incidents()["incident_id"]) == ["a", "b", "c", "d", "e"]
    q = ws.read_quarantine()
    assert sorted(zip(q["source"], q["sha256"], strict=True)) == [
        ("a.csv", "s1"),
        ("a.csv", "s1"),
        ("b.csv", "s2"),
    ]
    log = ws.imports()
    assert list(log["source"]) == ["a.csv", "a.csv", "b.csv"]
    assert list(log["rows_new"]) == [3, 0, 2]
    assert set(ws.layers()) == {"incidents", "quarantine", "imports"}


def test_a_file_quarantined_then_accepted_comes_in(ws):
    # first import: every row of the file quarantined (e.g. the wrong study area)
    ws.import_incidents(
        incidents([])[:0], quarantine(n=3), sources=[{"source": "a.csv", "sha256": "s1"}]
    )
    assert len(ws.read_quarantine()) == 3
    accepted = incidents(["x", "y"])
    accepted["source_row"] = [100, 101]  # two of the three quarantined rows
    again = ws.import_incidents(
        accepted, quarantine(n=0), sources=[{"source": "a.csv", "sha256": "s1"}]
    )
    entry = again["files"][0]
    assert (entry["rows_new"], entry["rows_quarantined_before"], entry["rows_now_accepted"]) == (
        2,
        3,
        2,
    )
    assert len(ws.read_quarantine()) == 0 and len(ws.read_incidents()) == 2


def test_times_zone_and_types_survive(ws):
    src = incidents(["a", "b"], hour=23)
    ws.import_incidents(src, quarantine(n=0), sources=[{"source": "a.csv", "sha256": "s"}])
    got = ws.read_incidents()
    assert str(got["occurred_at"].dt.tz) == "America/Lima"
    assert (got["occurred_at"].to_numpy() == src["occurred_at"].to_numpy()).all()
    assert got["occurred_at"].dt.hour.tolist() == [23, 23]
    assert got["time_known"].dtype == bool and got["at_station"].dtype == bool
    assert got["source_row"].tolist() == [1, 2] and got["harm"].tolist() == [1.5, 1.5]
    assert got.crs == "EPSG:4326"
    assert got.geometry.x.tolist() == pytest.approx(src.geometry.x.tolist(), abs=1e-12)


def test_a_zone_from_the_metadata(ws):
    toronto = incidents(["a"], hour=9)
    toronto["occurred_at"] = pd.to_datetime(["2021-07-01 09:15"]).tz_localize("America/Toronto")
    ws.import_incidents(
        toronto,
        quarantine(n=0),
        sources=[{"source": "a.csv", "sha256": "s"}],
        metadata={"timezone": "America/Toronto"},
    )
    got = ws.read_incidents()["occurred_at"]
    # 09:15 in Toronto (UTC-4 in July) is 13:15 UTC, read back as 09:15 Toronto time
    assert str(got.dt.tz) == "America/Toronto" and got.dt.hour.tolist() == [9]
    assert got.dt.tz_convert("UTC").dt.hour.tolist() == [13]


def test_booleans_with_missing_values(ws):
    accepted = incidents(["a", "b", "c"])
    accepted["time_known"] = pd.Series([True, False, None], dtype=object)
    ws.import_incidents(accepted, pd.DataFrame(), sources=[{"source": "a.csv", "sha256": "1"}])
    got = ws.read_incidents().set_index("incident_id")
    assert got["time_known"].to_dict() == {"a": True, "b": False, "c": False}


def test_metadata_and_a_missing_workspace(ws):
    with pytest.raises(InputDataError, match="no existe"):
        ws.read_incidents()
    ws.set_metadata(synthetic=True, period=["2020-01-01", "2020-10-31"])
    ws.set_metadata(seed=7, study_area={"code": "06", "name": "Cajamarca"})
    assert ws.metadata() == {
        "synthetic": True,
        "period": ["2020-01-01", "2020-10-31"],
        "seed": 7,
        "study_area": {"code": "06", "name": "Cajamarca"},
    }
    with pytest.raises(InputDataError, match="aún no contiene incidentes"):
        ws.read_incidents()
    with pytest.raises(InputDataError, match="no tiene la capa 'hotspots'"):
        ws.read_layer("hotspots")


def test_layers_are_replaced_and_keep_their_rows_order(ws):
    square = Polygon([(-78.52, -7.17), (-78.50, -7.17), (-78.50, -7.15), (-78.52, -7.15)])
    first = gpd.GeoDataFrame(
        {"hotspot_id": ["h2", "h1"], "n": [5, 3], "density": [1.25, 0.5]},
        geometry=[square, square.buffer(0.001)],
        crs="EPSG:4326",
    )
    ws.write_layer("hotspots", first)
    got = ws.read_layer("hotspots")
    assert got["hotspot_id"].tolist() == ["h2", "h1"] and got["n"].tolist() == [5, 3]
    assert got.geometry.iloc[0].equals(square)
    # replaced by another shape of table, in a projected CRS (UTM 17S)
    second = gpd.GeoDataFrame(
        {"hotspot_id": ["z"], "method": ["kde"]},
        geometry=[square.centroid],
        crs="EPSG:4326",
    ).to_crs("EPSG:32717")
    ws.write_layer("hotspots", second)
    got = ws.read_layer("hotspots")
    assert list(got.columns) == ["hotspot_id", "method", "geometry"]
    assert got.crs == "EPSG:32717" and got["method"].tolist() == ["kde"]
    assert got.geometry.iloc[0].x == pytest.approx(second.geometry.iloc[0].x)
    # an attribute table
    ws.write_layer("resumen", pd.DataFrame({"provincia": ["CAJAMARCA"], "n": [12]}))
    table = ws.read_layer("resumen")
    assert not isinstance(table, gpd.GeoDataFrame) and table["n"].tolist() == [12]
    assert ws.layers() == ["hotspots", "resumen"]


def test_sectors_and_describe(ws):
    square = Polygon([(-78.52, -7.17), (-78.50, -7.17), (-78.50, -7.15), (-78.52, -7.15)])
    sectors = gpd.GeoDataFrame(
        {
            "comisaria": ["CPNP A", "CPNP A"],
            "comisaria_id": ["1", "1"],
            "sector": ["SECTOR 2", "SECTOR 1"],
            "subsector": ["SS 2-1", "SS 1-1"],
        },
        geometry=[square, square.buffer(0.001)],
        crs="EPSG:4326",
    ).to_crs("EPSG:32717")
    ws.import_incidents(
        incidents(["a", "b"]),
        quarantine(n=1),
        sources=[{"source": "a.csv", "sha256": "s"}],
        sectors=sectors,
        metadata={"synthetic": True},
    )
    got = ws.read_sectors()
    assert got is not None and got.crs == "EPSG:4326"
    assert got["sector"].tolist() == ["SECTOR 1", "SECTOR 2"]  # natural order
    info = ws.describe()
    assert info["layers"] == {
        "incidents": 2,
        "quarantine": 1,
        "imports": 1,
        "sectors": 2,
        "parsc_metadata": 1,
    }
    assert info["metadata"] == {"synthetic": True}
    assert info["period"] == ["2020-03-01", "2020-03-02"]
    assert info["backend"] in {"GeoPackage", "PostGIS"}
    assert ws.read_incidents().attrs["synthetic"] is True


def test_a_snapshot_sees_the_state_it_began_with(ws):
    ws.import_incidents(
        incidents(["a"]), quarantine(n=0), sources=[{"source": "a.csv", "sha256": "s1"}]
    )
    other = open_workspace(ws.url if hasattr(ws, "url") else ws.path)  # another writer
    with ws.snapshot():
        before = ws.read_incidents()
        other.import_incidents(
            incidents(["b", "c"], source="b.csv"),
            quarantine("b.csv", 1),
            sources=[{"source": "b.csv", "sha256": "s2"}],
        )
        other.write_layer("hotspots", pd.DataFrame({"n": [1]}))
        # still the old state, for every layer
        assert list(ws.read_incidents()["incident_id"]) == list(before["incident_id"]) == ["a"]
        assert list(ws.imports()["source"]) == ["a.csv"]
        assert len(ws.read_quarantine()) == 0
        assert "hotspots" not in ws.layers()
    assert list(ws.read_incidents()["incident_id"]) == ["a", "b", "c"]
    assert "hotspots" in ws.layers()
