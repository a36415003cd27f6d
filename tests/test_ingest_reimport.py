"""Re-importing a file re-evaluates it (issue 11): quarantined rows are not lost forever.

Before, a file whose rows were all quarantined (wrong study area, wrong column mapping) could
never be imported again: its checksum was in the import log, so the second ``ingest`` said
"archivos ya importados" and added nothing, even with ``--overwrite``.
"""

from __future__ import annotations

from _ingest_fixtures import point, write_csv
from click.testing import CliRunner

from parsc_geo.cli.main import cli
from parsc_geo.workspace import Workspace

HEADER = [
    "N° DENUNCIA",
    "FECHA_REGISTRO",
    "FECHA_HECHO",
    "HORA",
    "MODALIDAD",
    "LATITUD",
    "LONGITUD",
]


def rows(n: int) -> list[list[object]]:
    out = []
    for i in range(n):
        lat, lon = point(i)
        out.append([f"D{i}", "", f"{1 + i:02d}/03/2020", "21:30", "HURTO", lat, lon])
    return out


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_reimport_with_the_right_study_area_adds_the_quarantined_rows(tmp_path):
    path = write_csv(tmp_path / "marzo.csv", HEADER, rows(6), sep=";")
    ws = tmp_path / "w.gpkg"
    # Cajamarca city is not in the province 0608: every row is quarantined
    first = invoke("ingest", str(path), "-w", str(ws), "--study-area", "0608")
    assert first.exit_code == 0, first.output
    assert "0 incidentes nuevos" in first.output
    assert len(Workspace(ws).read_quarantine()) == 6

    second = invoke("ingest", str(path), "-w", str(ws), "--study-area", "0601", "--overwrite")
    assert second.exit_code == 0, second.output
    assert "6 incidentes nuevos" in second.output
    assert "marzo.csv (importado antes: evaluado de nuevo): 6 aceptadas ahora (nuevas)" in (
        second.output
    )
    assert "de 6 filas en cuarentena antes, 6 se aceptaron ahora" in second.output
    stored = Workspace(ws)
    assert sorted(stored.read_incidents()["incident_id"]) == [f"D{i}" for i in range(6)]
    # the quarantine of the first import is replaced by the (empty) one of the second
    assert len(stored.read_quarantine()) == 0

    third = invoke("ingest", str(path), "-w", str(ws), "--study-area", "0601")
    assert third.exit_code == 0
    assert "0 incidentes nuevos, 6 ya presentes" in third.output
    assert "0 aceptadas ahora (nuevas), 6 ya presentes, 0 en cuarentena" in third.output
    assert len(Workspace(ws).read_incidents()) == 6


def test_reimport_with_a_new_column_mapping_and_rows_quarantined_again(tmp_path):
    data = rows(5)
    data[4][5], data[4][6] = "", ""  # no coordinates: quarantined whatever the mapping
    path = write_csv(tmp_path / "abril.csv", HEADER, data, sep=";")
    ws = tmp_path / "w.gpkg"
    # the wrong date column: every row lacks a date
    first = invoke("ingest", str(path), "-w", str(ws), "--columns", "date=FECHA_REGISTRO")
    assert first.exit_code == 0, first.output
    reasons = sorted(Workspace(ws).read_quarantine()["reason"])
    assert reasons == ["missing_coordinates"] + ["missing_date"] * 4

    second = invoke("ingest", str(path), "-w", str(ws), "--columns", "date=FECHA_HECHO")
    assert second.exit_code == 0, second.output
    assert "4 aceptadas ahora (nuevas), 0 ya presentes, 1 en cuarentena de nuevo" in second.output
    assert "(sin coordenadas 1)" in second.output
    assert "de 5 filas en cuarentena antes, 4 se aceptaron ahora" in second.output
    stored = Workspace(ws)
    assert len(stored.read_incidents()) == 4
    q = stored.read_quarantine()
    assert q["reason"].tolist() == ["missing_coordinates"] and q["source_row"].tolist() == [5]
    log = stored.imports()
    assert log["source"].tolist() == ["abril.csv", "abril.csv"]
    assert log["rows_new"].tolist() == [0, 4]


def test_booleans_stored_as_text_read_back_as_booleans(tmp_path):
    # a missing value makes GeoPackage store the column as text ("True"/"False"); reading it
    # back with astype(bool) made every "False" True
    import geopandas as gpd
    import pandas as pd

    accepted = gpd.GeoDataFrame(
        {
            "incident_id": ["a", "b", "c"],
            "occurred_at": pd.to_datetime(["2020-03-05 10:00"] * 3).tz_localize("America/Lima"),
            "time_known": pd.Series([True, False, None], dtype=object),
            "at_station": [False, True, False],
            "source": "a.csv",
            "source_row": [1, 2, 3],
        },
        geometry=gpd.points_from_xy([-78.5, -78.51, -78.52], [-7.16] * 3),
        crs="EPSG:4326",
    )
    ws = Workspace(tmp_path / "w.gpkg")
    ws.import_incidents(accepted, pd.DataFrame(), sources=[{"source": "a.csv", "sha256": "1"}])
    got = ws.read_incidents().set_index("incident_id")
    assert got["time_known"].to_dict() == {"a": True, "b": False, "c": False}
    assert got["at_station"].to_dict() == {"a": False, "b": True, "c": False}


def test_first_occurrences_equal_pandas_duplicated_for_text_and_other_types() -> None:
    import numpy as np
    import pandas as pd

    from parsc_geo.workspace.importing import first_occurrences

    rng = np.random.default_rng(7)
    raw = [None if k % 97 == 0 else f"ID-{k % 1_000}" for k in rng.integers(0, 5_000, 20_000)]
    arrow = pd.Series(raw, dtype="str")
    assert arrow.dtype.storage == "pyarrow"
    expected = ~pd.Series(raw, dtype=object).duplicated(keep="first").to_numpy()
    assert expected.sum() < len(raw)  # there are repeats (and missing values, counted once)
    np.testing.assert_array_equal(first_occurrences(arrow), expected)
    # several chunks (a table read by chunks) give the same answer
    chunked = pd.concat([arrow.iloc[:7_000], arrow.iloc[7_000:]], ignore_index=True)
    np.testing.assert_array_equal(first_occurrences(chunked), expected)
    # other types go through pandas
    numbers = pd.Series(rng.integers(0, 50, 300))
    np.testing.assert_array_equal(
        first_occurrences(numbers), ~numbers.duplicated(keep="first").to_numpy()
    )
