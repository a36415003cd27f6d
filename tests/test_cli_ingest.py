import json

import pandas as pd
import pytest
from _ingest_fixtures import LIMA, kml_document, point, write_csv
from click.testing import CliRunner

from parsc_geo.cli.main import cli
from parsc_geo.workspace import Workspace

HEADER = ["N° DENUNCIA", "FECHA_HECHO", "HORA", "MODALIDAD", "LATITUD", "LONGITUD"]


def row(i: int, month: int = 3, **kw: object) -> list[object]:
    lat, lon = point(i)
    r = {
        "N° DENUNCIA": f"D{month}-{i}",
        "FECHA_HECHO": f"{1 + i % 28:02d}/{month:02d}/2020",
        "HORA": "21:30",
        "MODALIDAD": "VIOL. FAM" if i % 2 else "HURTO AGRAVADO DURANTE LA NOCHE",
        "LATITUD": str(lat).replace(".", ","),
        "LONGITUD": str(lon).replace(".", ","),
    }
    r.update(kw)
    return [r[h] for h in HEADER]


@pytest.fixture
def files(tmp_path):
    march = write_csv(
        tmp_path / "marzo.csv",
        HEADER,
        [row(i) for i in range(6)]
        + [row(6, LATITUD="", LONGITUD=""), row(7, LATITUD=LIMA[0], LONGITUD=LIMA[1])],
        sep=";",
        encoding="latin-1",
    )
    lat, lon = point(30)
    kml = tmp_path / "mymaps.kml"
    kml.write_text(
        kml_document(
            {
                "ROBOS": [
                    {"name": "x", "lat": lat, "lon": lon, "data": {"FECHA_HECHO": "02/03/2020"}}
                ]
            }
        ),
        encoding="utf-8",
    )
    april = write_csv(
        tmp_path / "abril.csv", HEADER, [row(i, month=4) for i in range(3)] + [row(0)], sep=";"
    )
    return march, kml, april


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_ingest_writes_workspace_report_and_quarantine(tmp_path, files):
    march, kml, _ = files
    ws = tmp_path / "w.gpkg"
    report = tmp_path / "informe.json"
    res = invoke("ingest", str(march), str(kml), "-w", str(ws), "--report", str(report))
    assert res.exit_code == 0, res.output
    assert "aceptadas 6" in res.output and "en cuarentena 2" in res.output

    incidents = Workspace(ws).read_incidents()
    assert len(incidents) == 7
    assert set(incidents["source"]) == {"marzo.csv", "mymaps.kml"}
    assert (
        incidents.loc[incidents["incident_id"] == "D3-1", "fenomeno"].iloc[0] == "violencia_mujer"
    )
    assert (incidents["ubigeo"] == "060101").all()
    assert str(incidents["occurred_at"].dt.tz) == "America/Lima"

    rep = json.loads(report.read_text(encoding="utf-8"))
    t = rep["total"]
    assert (t["rows_read"], t["rows_accepted"], t["rows_quarantined"]) == (9, 7, 2)
    assert t["reasons"] == {"missing_coordinates": 1, "outside_study_area": 1}
    assert rep["workspace"]["rows_new"] == 7
    quarantine = pd.read_csv(rep["quarantine_path"], encoding="utf-8-sig")
    assert sorted(quarantine["Código del motivo"]) == ["missing_coordinates", "outside_study_area"]
    assert quarantine["Fila"].tolist() == [7, 8]
    assert len(Workspace(ws).read_quarantine()) == 2


def test_reimport_adds_nothing_and_new_month_appends(tmp_path, files):
    march, _, april = files
    ws = tmp_path / "w.gpkg"
    assert invoke("ingest", str(march), "-w", str(ws)).exit_code == 0
    before = Workspace(ws).read_incidents()
    again = invoke("ingest", str(march), "-w", str(ws))
    assert again.exit_code == 0 and "0 incidentes nuevos" in again.output
    pd.testing.assert_frame_equal(
        Workspace(ws).read_incidents().drop(columns="geometry"), before.drop(columns="geometry")
    )
    more = invoke("ingest", str(april), "-w", str(ws))
    assert more.exit_code == 0
    after = Workspace(ws).read_incidents()
    # April adds 3 new incidents; its copy of a March row is already present
    assert len(after) == len(before) + 3


def test_validate_writes_only_the_report(tmp_path, files):
    march, kml, _ = files
    before = set(tmp_path.iterdir())
    report = tmp_path / "validacion.json"
    res = invoke("validate", str(march), str(kml), "--report", str(report))
    assert res.exit_code == 0, res.output
    assert set(tmp_path.iterdir()) - before == {report}
    rep = json.loads(report.read_text(encoding="utf-8"))
    assert rep["files"][0]["columns"]["incident_id"] == "N° DENUNCIA"
    assert rep["files"][0]["format"]["encoding"] in ("cp1252", "latin-1")
    assert (
        rep["total"]["rows_read"]
        == rep["total"]["rows_accepted"] + rep["total"]["rows_quarantined"]
    )


def test_info_on_workspace_and_file(tmp_path, files):
    march, _, _ = files
    ws = tmp_path / "w.gpkg"
    invoke("ingest", str(march), "-w", str(ws))
    res = invoke("info", str(ws), "--json")
    assert res.exit_code == 0
    info = json.loads(res.output)
    assert info["layers"]["incidents"] == 6
    res = invoke("info", str(march), "--json")
    info = json.loads(res.output)
    assert info["rows_read"] == 8 and info["rows_accepted"] == 6
    assert info["period"] == ["2020-03-01", "2020-03-06"]
    text = invoke("info", str(march))
    assert "filas en cuarentena: 2" in text.output
    assert "rows_quarantined" not in text.output
    english = invoke("--lang", "en", "info", str(march))
    assert "rows quarantined: 2" in english.output


def test_user_mistakes_exit_with_codes(tmp_path, files):
    march, _, _ = files
    nocoords = write_csv(tmp_path / "sin.csv", ["FECHA", "DELITO"], [["05/03/2020", "Robo"]])
    res = invoke("validate", str(nocoords))
    assert res.exit_code == 3
    assert "sin.csv" in res.output and "Traceback" not in res.output
    res = invoke("validate", str(march), "--columns", "latitud")
    assert res.exit_code == 4
    report = tmp_path / "r.json"
    report.write_text("{}")
    res = invoke("validate", str(march), "--report", str(report))
    assert res.exit_code == 5
    assert invoke("validate", str(march), "--report", str(report), "--overwrite").exit_code == 0


def test_config_file(tmp_path):
    path = write_csv(
        tmp_path / "raro.csv",
        ["CODIGO_X", "DIA_EVENTO", "COORD_N", "COORD_E", "QUE"],
        [["A1", "05/03/2020", *[str(v) for v in point(0)], "Robo"]],
    )
    cfg = tmp_path / "ingest.toml"
    cfg.write_text(
        '[ingest]\nmin_date = "2019-01-01"\n'
        '[ingest.columns]\nincident_id = "CODIGO_X"\ndate = "DIA_EVENTO"\nlat = "COORD_N"\n'
        'lon = "COORD_E"\nlabel = "QUE"\n',
        encoding="utf-8",
    )
    report = tmp_path / "r.json"
    res = invoke("validate", str(path), "--config", str(cfg), "--report", str(report))
    assert res.exit_code == 0, res.output
    rep = json.loads(report.read_text(encoding="utf-8"))
    assert rep["total"]["rows_accepted"] == 1
    assert rep["parameters"]["min_date"] == "2019-01-01"
    bad = tmp_path / "bad.toml"
    bad.write_text("cell_size = 5\n")
    assert invoke("validate", str(path), "--config", str(bad)).exit_code == 4


@pytest.mark.parametrize("name", ["ingest", "validate", "info"])
def test_help_ends_with_examples(name):
    res = invoke(name, "--help")
    assert res.exit_code == 0
    tail = res.output.strip().splitlines()
    idx = max(i for i, line in enumerate(tail) if line.strip() == "Ejemplos:")
    assert all(line.strip().startswith("parsc-geo") for line in tail[idx + 1 :])


def test_ingest_with_sector_layer(tmp_path, files):
    import geopandas as gpd
    from shapely.geometry import box

    march, _, _ = files
    lat, lon = point(0)
    sectors = gpd.GeoDataFrame(
        {
            "comisaria": ["COMISARIA CAJAMARCA I"] * 2,
            "comisaria_id": ["1027"] * 2,
            "sector": ["SECTOR 1", "SECTOR 1"],
            "subsector": ["SUB SECTOR A", "SUB SECTOR B"],
        },
        geometry=[
            box(lon - 0.0005, lat - 0.0005, lon + 0.0005, lat + 0.0005),
            box(lon + 0.01, lat, lon + 0.02, lat + 0.01),
        ],
        crs="EPSG:4326",
    )
    sector_file = tmp_path / "sectores.geojson"
    sectors.to_file(sector_file)
    ws = tmp_path / "w.gpkg"
    report = tmp_path / "r.json"
    res = invoke(
        "ingest", str(march), "-w", str(ws), "--sectors", str(sector_file), "--report", str(report)
    )
    assert res.exit_code == 0, res.output
    incidents = Workspace(ws).read_incidents().set_index("incident_id")
    assert incidents.loc["D3-0", "subsector"] == "SUB SECTOR A"
    assert incidents.loc["D3-1", "subsector"] == ""
    assert Workspace(ws).read_sectors() is not None
    rep = json.loads(report.read_text(encoding="utf-8"))
    assert rep["sectors"]["ok"] is True
