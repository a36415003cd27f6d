import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from _ingest_fixtures import kml_document, point, write_csv
from shapely.geometry import Point, Polygon

from parsc_geo._errors import ConfigError, InputDataError
from parsc_geo.io import read_incident_file
from parsc_geo.io.columns import fold_name, parse_column_mapping, recognise_columns
from parsc_geo.io.csv import detect_delimiter, detect_encoding

HEADER = ["N° DENUNCIA", "FECHA", "HORA", "MODALIDAD", "LATITUD", "LONGITUD", "COMISARÍA"]


def rows(n: int) -> list[list[object]]:
    out = []
    for i in range(n):
        lat, lon = point(i)
        out.append(
            [f"D-{i}", "05/03/2020", "20:30", "Hurto agravado", lat, lon, "Comisaría Cajamarca"]
        )
    return out


# -- CSV ---------------------------------------------------------------------------------------


def test_detect_encoding_and_delimiter():
    assert detect_encoding("LATITUD;DESCRIPCIÓN".encode("utf-8-sig")) == "utf-8-sig"
    assert detect_encoding("DESCRIPCIÓN".encode()) == "utf-8"
    assert detect_encoding("DESCRIPCIÓN".encode("latin-1")) in ("cp1252", "latin-1")
    assert detect_delimiter("a;b;c") == ";"
    assert detect_delimiter("a,b,c") == ","
    assert detect_delimiter("a\tb") == "\t"


@pytest.mark.parametrize(
    ("sep", "encoding"), [(",", "utf-8"), (";", "utf-8-sig"), (";", "latin-1"), ("\t", "utf-8")]
)
def test_csv_variants(tmp_path, sep, encoding):
    path = write_csv(tmp_path / "f.csv", HEADER, rows(3), sep=sep, encoding=encoding)
    raw = read_incident_file(path)
    assert raw.kind == "csv"
    assert list(raw.data.columns) == HEADER  # no BOM left on the first header, accents intact
    assert raw.data["COMISARÍA"].iloc[0] == "Comisaría Cajamarca"
    assert raw.source_row.tolist() == [1, 2, 3]
    assert raw.info["delimiter"] == sep


def test_csv_ragged_rows_are_marked_not_dropped(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("ID,LATITUD,LONGITUD\n1,-7.17,-78.5\n2,-7.17,-78.5,extra,fields\n3,-7.17\n")
    raw = read_incident_file(path)
    assert len(raw.data) == 3
    assert raw.malformed.tolist() == [False, True, False]
    assert "extra" in raw.data.iloc[1, -1]


def test_empty_and_unsupported_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputDataError, match="está vacío"):
        read_incident_file(empty)
    other = tmp_path / "data.docx"
    other.write_text("x")
    with pytest.raises(InputDataError, match="no admitido"):
        read_incident_file(other)
    with pytest.raises(InputDataError, match="el archivo no existe"):
        read_incident_file(tmp_path / "missing.csv")


# -- XLSX --------------------------------------------------------------------------------------


def test_xlsx(tmp_path):
    df = pd.DataFrame(rows(2), columns=HEADER)
    df["FECHA"] = pd.to_datetime(["2020-03-05", "2020-03-06"])
    path = tmp_path / "f.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame().to_excel(xl, sheet_name="vacia", index=False)
        df.to_excel(xl, sheet_name="datos", index=False)
    raw = read_incident_file(path)
    assert raw.kind == "xlsx"
    assert raw.info["sheet"] == "datos"
    assert len(raw.data) == 2
    assert float(raw.data["LATITUD"].iloc[0]) == point(0)[0]
    assert raw.source_row.tolist() == [1, 2]


# -- vector formats ----------------------------------------------------------------------------


def _gdf(crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    pts = [Point(point(i)[1], point(i)[0]) for i in range(3)]
    gdf = gpd.GeoDataFrame({"DELITO": ["Robo", "TID", "CEE"]}, geometry=pts, crs="EPSG:4326")
    return gdf.to_crs(crs)


@pytest.mark.parametrize(
    ("name", "driver"), [("f.geojson", "GeoJSON"), ("f.gpkg", "GPKG"), ("f.shp", None)]
)
def test_vector_points(tmp_path, name, driver):
    path = tmp_path / name
    _gdf("EPSG:32717").to_file(path, driver=driver) if driver else _gdf("EPSG:32717").to_file(path)
    raw = read_incident_file(path)
    assert raw.kind == "vector"
    assert raw.data["DELITO"].tolist() == ["Robo", "TID", "CEE"]
    from parsc_geo.io.coords import to_lonlat

    lon, lat = to_lonlat(raw.geom_x, raw.geom_y, raw.crs)
    assert np.allclose(lat, [point(i)[0] for i in range(3)], atol=1e-7)
    assert np.allclose(lon, [point(i)[1] for i in range(3)], atol=1e-7)


def test_vector_non_points_are_reported(tmp_path):
    lat, lon = point(0)
    poly = Polygon([(lon, lat), (lon + 0.001, lat), (lon, lat + 0.001)])
    gdf = gpd.GeoDataFrame({"DELITO": ["Robo", "Robo"]}, geometry=[poly, None], crs="EPSG:4326")
    path = tmp_path / "poly.geojson"
    gdf.to_file(path)
    raw = read_incident_file(path)
    assert raw.geom_problem.tolist() == ["Polygon", "empty"]
    assert np.isnan(raw.geom_x).all()


# -- KML / KMZ ---------------------------------------------------------------------------------


def _mymaps() -> str:
    lat0, lon0 = point(0)
    lat1, lon1 = point(1)
    return kml_document(
        {
            "ROBOS": [
                {
                    "name": "Robo agravado",
                    "lat": lat0,
                    "lon": lon0,
                    "data": {"FECHA_HECHO": "05/03/2020", "HORA": "21:15"},
                    "description": "FECHA_HECHO: 05/03/2020<br>Referencia: Jr. Amalia Puga",
                }
            ],
            "VIOLENCIA FAMILIAR": [{"name": "Incidente 2", "lat": lat1, "lon": lon1}],
        }
    )


def test_kml(tmp_path):
    path = tmp_path / "mymaps.kml"
    path.write_text(_mymaps(), encoding="utf-8")
    raw = read_incident_file(path)
    assert raw.kind == "kml"
    assert raw.data["NAME"].tolist() == ["Robo agravado", "Incidente 2"]
    assert raw.data["FOLDER"].tolist() == ["ROBOS", "VIOLENCIA FAMILIAR"]
    assert raw.data["HORA"].iloc[0] == "21:15"
    assert raw.data["Referencia"].iloc[0] == "Jr. Amalia Puga"  # from the description lines
    assert "<br>" not in raw.data["DESCRIPTION"].iloc[0]
    assert raw.geom_x.tolist() == [point(0)[1], point(1)[1]]
    assert raw.geom_y.tolist() == [point(0)[0], point(1)[0]]


def test_kmz(tmp_path):
    path = tmp_path / "mymaps.kmz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("doc.kml", _mymaps())
    raw = read_incident_file(path)
    assert len(raw.data) == 2
    assert raw.info["format"] == "KMZ"


def test_kml_entity_expansion_is_refused(tmp_path):
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><kml><Document><name>&b;</name></Document></kml>'
    )
    path = tmp_path / "bomb.kml"
    path.write_text(bomb)
    with pytest.raises(InputDataError, match="KML"):
        read_incident_file(path)


# -- column recognition ------------------------------------------------------------------------


def test_fold_name():
    assert fold_name("\ufeffN° Denuncia ") == "N_DENUNCIA"
    assert fold_name("Año del hecho") == "ANO_DEL_HECHO"


def test_recognise_spanish_english_and_sidpol():
    cols = recognise_columns(
        ["Latitud", "Longitud", "Fecha_Hecho", "Hora", "Modalidad", "SECTOR", "SUB SECTOR"]
    )
    assert cols == {
        "lat": "Latitud",
        "lon": "Longitud",
        "date": "Fecha_Hecho",
        "time": "Hora",
        "modalidad": "Modalidad",
        "sector": "SECTOR",
        "subsector": "SUB SECTOR",
    }
    en = recognise_columns(["lat", "lng", "date", "crime_type"])
    assert en == {"lat": "lat", "lon": "lng", "date": "date", "label": "crime_type"}
    sidpol = recognise_columns(
        ["id_dgc", "lat_hecho", "long_hecho", "fecha_hora_hecho", "observacion"]
    )
    assert sidpol["lat"] == "lat_hecho" and sidpol["lon"] == "long_hecho"
    assert sidpol["datetime"] == "fecha_hora_hecho" and sidpol["observacion"] == "observacion"


def test_explicit_mapping_wins_and_is_checked():
    cols = recognise_columns(["Y", "X", "COORD_Y"], {"lat": "coord_y"})
    assert cols["lat"] == "COORD_Y" and cols["lon"] == "X"
    with pytest.raises(ConfigError, match="no está en el archivo"):
        recognise_columns(["A"], {"lat": "LATITUD"}, source="f.csv")
    assert parse_column_mapping(["lat=Y_WGS, lon=X_WGS", "date=F"]) == {
        "lat": "Y_WGS",
        "lon": "X_WGS",
        "date": "F",
    }
    with pytest.raises(ConfigError, match="de columna desconocido"):
        parse_column_mapping("latitude=Y")
    with pytest.raises(ConfigError, match="campo=COLUMNA"):
        parse_column_mapping("lat")
