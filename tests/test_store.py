import geopandas as gpd
import pandas as pd
import pytest

from parsc_geo._errors import InputDataError
from parsc_geo._provenance import file_sha256
from parsc_geo.workspace import Workspace


def incidents(ids, source="a.csv", hour=10):
    n = len(ids)
    return gpd.GeoDataFrame(
        {
            "incident_id": ids,
            "occurred_at": pd.to_datetime(
                [f"2020-03-0{1 + i % 9} {hour}:30" for i in range(n)]
            ).tz_localize("America/Lima"),
            "time_known": [True] * n,
            "modalidad": ["SIMPLE"] * n,
            "harm": [1.5] * n,
            "source": [source] * n,
            "source_row": list(range(1, n + 1)),
            "flags": [""] * n,
            "at_station": [False] * n,
        },
        geometry=gpd.points_from_xy([-78.5 - i / 1000 for i in range(n)], [-7.16] * n),
        crs="EPSG:4326",
    )


def quarantine(source="a.csv", n=2):
    return pd.DataFrame(
        {
            "source": [source] * n,
            "source_row": list(range(100, 100 + n)),
            "reason": ["missing_coordinates"] * n,
            "field": ["LATITUD"] * n,
            "value": [""] * n,
            "message": ["x"] * n,
            "raw": ["{}"] * n,
        }
    )


def test_import_is_idempotent_and_appends_only_new(tmp_path):
    ws = Workspace(tmp_path / "w.gpkg")
    assert not ws.exists
    r1 = ws.import_incidents(
        incidents(["a", "b", "c"]),
        quarantine(),
        sources=[{"source": "a.csv", "sha256": "s1", "rows_read": 5}],
    )
    assert r1["rows_new"] == 3 and r1["quarantine_added"] == 2
    # the same file again (same checksum): evaluated again, nothing is added, and its
    # quarantine rows replace those of the first import instead of being added twice
    r2 = ws.import_incidents(
        incidents(["a", "b", "c"]),
        quarantine(),
        sources=[{"source": "a.csv", "sha256": "s1", "rows_read": 5}],
    )
    assert r2["rows_new"] == 0 and r2["files_reimported"] == ["a.csv"]
    assert r2["rows_already_present"] == 3 and r2["quarantine_replaced"] == 2
    assert len(ws.read_incidents()) == 3
    assert len(ws.read_quarantine()) == 2
    # a new month overlapping the previous export: only unseen ids are added
    r3 = ws.import_incidents(
        incidents(["c", "d", "e"], source="b.csv"),
        quarantine("b.csv", 1),
        sources=[{"source": "b.csv", "sha256": "s2"}],
    )
    assert r3["rows_new"] == 2 and r3["rows_already_present"] == 1
    got = ws.read_incidents()
    assert list(got["incident_id"]) == ["a", "b", "c", "d", "e"]
    assert len(ws.read_quarantine()) == 3
    assert list(ws.imports()["source"]) == ["a.csv", "a.csv", "b.csv"]


def test_times_keep_their_zone_and_types(tmp_path):
    ws = Workspace(tmp_path / "w.gpkg")
    src = incidents(["a", "b"], hour=23)
    ws.import_incidents(src, quarantine(n=0), sources=[{"source": "a.csv", "sha256": "s"}])
    got = ws.read_incidents()
    assert str(got["occurred_at"].dt.tz) == "America/Lima"
    assert (got["occurred_at"].to_numpy() == src["occurred_at"].to_numpy()).all()
    assert got["occurred_at"].dt.hour.tolist() == [23, 23]
    assert got["time_known"].dtype == bool
    assert got.geometry.x.tolist() == pytest.approx(src.geometry.x.tolist())


def test_interrupted_import_leaves_workspace_unchanged(tmp_path, monkeypatch):
    path = tmp_path / "w.gpkg"
    ws = Workspace(path)
    ws.import_incidents(
        incidents(["a"]), quarantine(n=0), sources=[{"source": "a.csv", "sha256": "s1"}]
    )
    before = path.read_bytes()

    calls = {"n": 0}
    original = Workspace._write_to

    def failing(p, df, layer, *, append):
        calls["n"] += 1
        if calls["n"] == 2:  # fail after the incidents were written to the temporary copy
            raise KeyboardInterrupt
        original(p, df, layer, append=append)

    monkeypatch.setattr(Workspace, "_write_to", staticmethod(failing))
    with pytest.raises(KeyboardInterrupt):
        ws.import_incidents(
            incidents(["x", "y"], source="b.csv"),
            quarantine("b.csv"),
            sources=[{"source": "b.csv", "sha256": "s2"}],
        )
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["w.gpkg"]
    monkeypatch.undo()
    assert list(Workspace(path).read_incidents()["incident_id"]) == ["a"]


def test_metadata_and_missing_workspace(tmp_path):
    ws = Workspace(tmp_path / "w.gpkg")
    assert ws.metadata() == {}
    with pytest.raises(InputDataError, match="no existe"):
        ws.read_incidents()
    ws.set_metadata(synthetic=True, period=["2020-01-01", "2020-10-31"])
    ws.set_metadata(seed=7)
    assert ws.metadata() == {"synthetic": True, "period": ["2020-01-01", "2020-10-31"], "seed": 7}
    with pytest.raises(InputDataError, match="aún no contiene incidentes"):
        ws.read_incidents()


def test_file_sha256(tmp_path):
    p = tmp_path / "f.txt"
    p.write_bytes(b"abc")
    # SHA-256("abc") from FIPS 180-2, appendix B.1
    assert file_sha256(p) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_arrow_and_feature_writers_store_the_same_layer(tmp_path, monkeypatch):
    # issue 18: the workspace writes through Arrow when pyarrow is there; the stored layer
    # must be what the feature-by-feature writer stores (types, DATETIME text, NULLs, accents)
    import sqlite3

    import pyogrio

    from parsc_geo.workspace import gpkg

    frame = incidents(["x1", "x2", "x3"])
    frame["delito_generico"] = ["Extorsión", None, "Hurto agravado en vía pública"]
    frame.loc[1, "occurred_at"] = pd.NaT
    assert gpkg._use_arrow(frame)  # pyarrow is an install requirement
    stored = {}
    for arrow in (True, False):
        monkeypatch.setattr(gpkg, "_use_arrow", lambda df, arrow=arrow: arrow)
        ws = Workspace(tmp_path / f"ws_{arrow}.gpkg")
        ws.import_incidents(frame, quarantine(n=0), sources=[{"source": "a.csv", "sha256": "0"}])
        ws.import_incidents(
            incidents(["x4"]), quarantine(n=0), sources=[{"source": "b.csv", "sha256": "1"}]
        )
        info = pyogrio.read_info(ws.path, layer="incidents")
        with sqlite3.connect(ws.path) as con:
            rows = con.execute("SELECT * FROM incidents ORDER BY fid").fetchall()
        stored[arrow] = (list(info["fields"]), list(info["ogr_types"]), rows)
    assert stored[True] == stored[False]
    rows = stored[True][2]
    assert len(rows) == 4
    fields = ["fid", "geom", *stored[True][0]]
    texts = [r[fields.index("delito_generico")] for r in rows]
    assert texts[:3] == ["Extorsión", None, "Hurto agravado en vía pública"]
    assert rows[1][fields.index("occurred_at")] is None


def test_all_missing_text_column_keeps_the_feature_writer():
    from parsc_geo.workspace import gpkg

    table = pd.DataFrame({"a": [None, None], "b": ["x", "y"]}, dtype=object)
    assert not gpkg._use_arrow(table)
    assert not gpkg._use_arrow(table.iloc[:0])
    assert gpkg._use_arrow(table.fillna("z"))
