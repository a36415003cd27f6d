import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from _ingest_fixtures import LIMA, STATION_LAT, STATION_LON, kml_document, point, write_csv
from pyproj import Transformer
from shapely.geometry import Point

from parsc_geo import schema
from parsc_geo._errors import ConfigError, InputDataError
from parsc_geo.ingest import REASONS, IngestOptions, ingest_files

HEADER = ["ID", "FECHA", "HORA", "MODALIDAD", "LATITUD", "LONGITUD"]


def ok_row(i: int, **kw: object) -> list[object]:
    lat, lon = point(i)
    row = {"ID": f"D{i}", "FECHA": "05/03/2020", "HORA": f"{i % 24:02d}:10", "MODALIDAD": "Hurto"}
    row.update({"LATITUD": lat, "LONGITUD": lon})
    row.update(kw)
    return [row[h] for h in HEADER]


def run(tmp_path, rows, name="f.csv", header=HEADER, **opts):
    path = write_csv(tmp_path / name, header, rows, sep=";")
    return ingest_files([path], IngestOptions(**opts), assign=False)


def reasons(result) -> dict[int, str]:
    q = result.quarantine
    return dict(zip(q["source_row"].astype(int), q["reason"], strict=True))


# -- accounting and schema ---------------------------------------------------------------------


def test_clean_rows_accepted_in_canonical_schema(tmp_path):
    res = run(tmp_path, [ok_row(i) for i in range(4)])
    acc = res.accepted
    assert len(acc) == 4 and res.quarantine.empty
    assert list(acc.columns) == [*schema.INCIDENT_COLUMNS, "geometry"]
    assert acc.crs.to_epsg() == 4326
    assert str(acc["occurred_at"].dt.tz) == "America/Lima"
    assert acc["occurred_at"].iloc[1] == pd.Timestamp("2020-03-05 01:10", tz="America/Lima")
    assert acc["source"].tolist() == ["f.csv"] * 4
    assert acc["source_row"].tolist() == [1, 2, 3, 4]
    assert acc["incident_id"].tolist() == ["D0", "D1", "D2", "D3"]
    assert acc["delito_especifico"].tolist() == ["HURTO"] * 4
    assert acc.geometry.y.iloc[3] == pytest.approx(point(3)[0])
    t = res.report["total"]
    assert (t["rows_read"], t["rows_accepted"], t["rows_quarantined"]) == (4, 4, 0)
    json.dumps(res.report)  # serialisable


def test_every_reason_code(tmp_path):
    rows = [
        ok_row(0),
        ok_row(1, LATITUD="", LONGITUD=""),  # 2 missing
        ok_row(2, LATITUD="abc", LONGITUD="-78,5"),  # 3 unparseable
        ok_row(3, LATITUD=0, LONGITUD=0),  # 4 null island
        ok_row(4, LATITUD=LIMA[0], LONGITUD=LIMA[1]),  # 5 outside (swap also outside)
        ok_row(5, FECHA=""),  # 6 missing date
        ok_row(6, FECHA="31/02/2020"),  # 7 unparseable date
        ok_row(7, FECHA="05/03/1923"),  # 8 out of range
        ok_row(8, ID="D0"),  # 9 duplicate id
        ok_row(0, ID=""),  # 10 no id of its own; same place, time and type as row 1
    ]
    res = run(tmp_path, rows)
    assert reasons(res) == {
        2: "missing_coordinates",
        3: "unparseable_coordinates",
        4: "null_island",
        5: "outside_study_area",
        6: "missing_date",
        7: "unparseable_date",
        8: "date_out_of_range",
        9: "duplicate_id",
        10: "duplicate_place_time_type",
    }
    assert res.accepted["source_row"].tolist() == [1]
    q = res.quarantine
    assert list(q.columns) == list(schema.QUARANTINE_COLUMNS)
    msg = q.loc[q["source_row"] == 3, "message"].iloc[0]
    assert "f.csv" in msg and "fila 3" in msg and "LATITUD" in msg and "abc" in msg
    assert "Sugerencia" in msg
    raw = json.loads(q.loc[q["source_row"] == 3, "raw"].iloc[0])
    assert raw["LATITUD"] == "abc"
    t = res.report["files"][0]
    assert t["rows_read"] == t["rows_accepted"] + t["rows_quarantined"] == 10
    assert sum(t["reasons"].values()) == 9
    assert set(t["reasons"]) <= set(REASONS)


def test_malformed_row(tmp_path):
    path = tmp_path / "ragged.csv"
    lat, lon = point(0)
    path.write_text(
        "ID,FECHA,LATITUD,LONGITUD\n"
        f"1,05/03/2020,{lat},{lon}\n"
        f"2,05/03/2020,{lat},{lon},sobra,algo\n"
    )
    res = ingest_files([path], assign=False)
    assert reasons(res) == {2: "malformed_row"}


def test_swapped_coordinates_fixed_and_flagged(tmp_path):
    lat, lon = point(3)
    res = run(tmp_path, [ok_row(3, LATITUD=lon, LONGITUD=lat)])
    acc = res.accepted
    assert acc["flags"].iloc[0] == "latlon_swapped"
    assert acc.geometry.x.iloc[0] == pytest.approx(lon) and acc.geometry.y.iloc[0] == pytest.approx(
        lat
    )
    assert res.report["total"]["rows_fixed"] == 1


def test_date_without_time_is_not_given_one(tmp_path):
    res = run(tmp_path, [ok_row(0, HORA=""), ok_row(1, HORA="xx")])
    acc = res.accepted
    assert acc["time_known"].tolist() == [False, False]
    assert (acc["occurred_at"].dt.hour == 0).all()
    assert acc["flags"].tolist() == ["", "time_unparsed"]


def test_station_stack_kept_and_flagged(tmp_path):
    rows = [
        ok_row(i, LATITUD=STATION_LAT, LONGITUD=STATION_LON, HORA=f"{i:02d}:00") for i in range(3)
    ]
    rows.append(ok_row(10))
    res = run(tmp_path, rows)
    acc = res.accepted
    assert len(acc) == 4
    assert acc["at_station"].tolist() == [True, True, True, False]
    assert acc["flags"].tolist() == ["station_stack"] * 3 + [""]
    # two points at a station are not a stack (minimum 3)
    res2 = run(tmp_path, rows[:2], name="g.csv")
    assert not res2.accepted["at_station"].any()


def test_study_area_by_ubigeo_prefix(tmp_path):
    # Cajamarca city is in province 0601 but not in 0608 (Jaén)
    assert len(run(tmp_path, [ok_row(0)], study_area="0601").accepted) == 1
    res = run(tmp_path, [ok_row(0)], name="g.csv", study_area="0608")
    assert reasons(res) == {1: "outside_study_area"}
    with pytest.raises(ConfigError, match="UBIGEO"):
        run(tmp_path, [ok_row(0)], name="h.csv", study_area="99")


def test_unknown_labels_reported(tmp_path):
    res = run(
        tmp_path, [ok_row(0, MODALIDAD="Pelea de gallos"), ok_row(1, MODALIDAD="Pelea de gallos")]
    )
    assert res.accepted["label_known"].tolist() == [False, False]
    assert res.accepted["label_raw"].iloc[0] == "Pelea de gallos"
    assert res.report["total"]["unknown_labels"] == {"Pelea de gallos": 2}


def test_no_coordinates_is_an_error_naming_the_file(tmp_path):
    path = write_csv(tmp_path / "nocoords.csv", ["FECHA", "DELITO"], [["05/03/2020", "Robo"]])
    with pytest.raises(
        InputDataError, match=r"nocoords\.csv: no se encontraron coordenadas"
    ) as err:
        ingest_files([path], assign=False)
    assert "--columns" in str(err.value)


# -- identifiers -------------------------------------------------------------------------------


def test_content_ids_are_stable_and_independent_of_file_name(tmp_path):
    header = ["FECHA", "HORA", "MODALIDAD", "LATITUD", "LONGITUD"]
    rows = [r[1:] for r in (ok_row(0), ok_row(1))]
    a = run(tmp_path, rows, name="enero.csv", header=header)
    b = run(tmp_path, rows[::-1], name="copia.csv", header=header)
    ids_a = a.accepted["incident_id"].tolist()
    ids_b = b.accepted["incident_id"].tolist()
    assert ids_a == ids_b[::-1]
    assert all(i.startswith("h") and len(i) == 17 for i in ids_a)
    assert ids_a[0] != ids_a[1]


# -- other formats -----------------------------------------------------------------------------


def test_utm_columns(tmp_path):
    lat, lon = point(5)
    e, n = Transformer.from_crs("EPSG:4326", "EPSG:32717", always_xy=True).transform(lon, lat)
    header = ["FECHA", "DELITO", "ESTE", "NORTE", "ZONA"]
    res = run(tmp_path, [["05/03/2020", "Robo", round(e, 2), round(n, 2), "17S"]], header=header)
    acc = res.accepted
    assert acc.geometry.x.iloc[0] == pytest.approx(lon, abs=1e-6)
    assert acc.geometry.y.iloc[0] == pytest.approx(lat, abs=1e-6)
    assert acc["flags"].iloc[0] == "utm_converted"


def test_sidpol_records(tmp_path):
    lat, lon = point(2)
    header = [
        "id_dgc",
        "fecha_hora_hecho",
        "tipo_hecho",
        "subtipo_hecho",
        "modalidad_hecho",
        "lat_hecho",
        "long_hecho",
        "observacion",
        "comisaria_hecho",
    ]
    rows = [
        [
            101,
            1583458200000,
            "PATRIMONIO (DELITO)",
            "ROBO",
            "ROBO AGRAVADO A MANO ARMADA",
            lat,
            lon,
            "COORDENADA OK",
            "CPNP X",
        ],
        [
            101,
            1583458200000,
            "PATRIMONIO (DELITO)",
            "HURTO",
            "HURTO AGRAVADO",
            lat,
            lon,
            "COORDENADA OK",
            "CPNP X",
        ],
        [
            102,
            1583458200000,
            "PATRIMONIO (DELITO)",
            "HURTO",
            "HURTO",
            lat,
            lon,
            "GEO FORZADA AL CENTROIDE DE COMISARIA",
            "CPNP X",
        ],
    ]
    res = run(tmp_path, rows, header=header)
    acc = res.accepted
    assert len(acc) == 3  # one complaint with two offences keeps both
    assert acc["incident_id"].iloc[0] != acc["incident_id"].iloc[1]
    assert acc["incident_id"].str.startswith("101-").iloc[0]
    # 1583458200000 ms = 2020-03-06 01:30 UTC = 2020-03-05 20:30 Lima
    assert acc["occurred_at"].iloc[0] == pd.Timestamp("2020-03-05 20:30", tz="America/Lima")
    assert acc["modalidad"].tolist() == ["AGRAVADO", "AGRAVADO", "SIMPLE"]
    assert acc["at_station"].tolist() == [False, False, True]
    assert acc["comisaria_reportada"].iloc[0] == "CPNP X"


def test_datacrim_web_mercator_geojson(tmp_path):
    lat, lon = point(4)
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(lon, lat)
    gdf = gpd.GeoDataFrame(
        {"UBIGEO": ["060101"], "DELITO_ESP": ["ROBO AGRAVADO"]},
        geometry=[Point(x, y)],
        crs="EPSG:3857",
    )
    path = tmp_path / "datacrim.geojson"
    gdf.to_file(path)
    res = ingest_files([path], assign=False)
    acc = res.accepted
    assert acc.geometry.x.iloc[0] == pytest.approx(lon, abs=1e-7)
    assert acc["modalidad"].iloc[0] == "AGRAVADO"
    assert acc["occurred_at"].isna().all()  # DATACRIM points carry no date
    assert "no se encontró columna de fecha" in res.report["files"][0]["warnings"][0]


def test_mymaps_kml_with_folders(tmp_path):
    lat0, lon0 = point(0)
    lat1, lon1 = point(1)
    lat2, lon2 = point(2)
    text = kml_document(
        {
            "ROBOS": [
                {
                    "name": "Punto 1",
                    "lat": lat0,
                    "lon": lon0,
                    "data": {"FECHA_HECHO": "05/03/2020", "HORA": "21:00"},
                }
            ],
            "HURTOS": [
                {
                    "name": "HURTO AGRAVADO DURANTE LA NOCHE",
                    "lat": lat1,
                    "lon": lon1,
                    "data": {"FECHA_HECHO": "06/03/2020"},
                }
            ],
            "OTROS": [
                {
                    "name": "Zona",
                    "polygon": f"{lon2},{lat2},0 {lon2 + 0.001},{lat2},0 {lon2},{lat2 + 0.001},0",
                }
            ],
        }
    )
    path = tmp_path / "mymaps.kml"
    path.write_text(text, encoding="utf-8")
    res = ingest_files([path], assign=False)
    acc = res.accepted
    # the folder gives the crime type when the placemark name is not a label
    assert acc["delito_especifico"].tolist() == ["ROBO", "HURTO"]
    assert acc["modalidad"].tolist() == ["SIMPLE", "AGRAVADO"]
    assert acc["label_raw"].tolist() == ["ROBOS", "HURTO AGRAVADO DURANTE LA NOCHE"]
    assert acc["time_known"].tolist() == [True, False]
    assert reasons(res) == {3: "not_a_point"}


def test_several_files_cross_file_duplicates(tmp_path):
    a = write_csv(tmp_path / "a.csv", HEADER, [ok_row(0), ok_row(1)], sep=";")
    b = write_csv(tmp_path / "b.csv", HEADER, [ok_row(1), ok_row(2)], sep=";")
    res = ingest_files([a, b], assign=False)
    files = {f["source"]: f for f in res.report["files"]}
    assert files["a.csv"]["rows_accepted"] == 2
    assert files["b.csv"]["rows_accepted"] == 1 and files["b.csv"]["reasons"] == {"duplicate_id": 1}
    assert res.report["total"]["rows_read"] == 4


def test_assignment_columns(tmp_path):
    res = ingest_files([write_csv(tmp_path / "a.csv", HEADER, [ok_row(0)], sep=";")])
    acc = res.accepted
    for col in schema.ASSIGNMENT_COLUMNS:
        assert col in acc.columns
    assert acc["ubigeo"].iloc[0] == "060101"


# -- property: every row accounted for ---------------------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

cell = st.one_of(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        max_size=12,
    ),
    st.sampled_from(
        ["", "0", "-7,17", "-78.5", "NULL", "05/03/2020", "31/02/2020", "20:30", "TID"]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(cell, cell, cell, cell, cell, cell), min_size=1, max_size=15), st.data())
def test_rows_read_equals_accepted_plus_quarantined(tmp_path, messy, data):
    good = data.draw(st.integers(min_value=0, max_value=5))
    rows = [list(r) for r in messy] + [ok_row(i) for i in range(good)]
    order = data.draw(st.permutations(range(len(rows))))
    rows = [rows[i] for i in order]
    path = write_csv(tmp_path / "messy.csv", HEADER, rows, sep=";")
    res = ingest_files([path], assign=False)
    t = res.report["total"]
    assert t["rows_read"] == len(rows)
    assert t["rows_read"] == t["rows_accepted"] + t["rows_quarantined"]
    assert len(res.accepted) == t["rows_accepted"] and len(res.quarantine) == t["rows_quarantined"]
    got_rows = sorted(res.accepted["source_row"].tolist() + res.quarantine["source_row"].tolist())
    assert got_rows == list(range(1, len(rows) + 1))
    assert np.isfinite(res.accepted.geometry.x).all()


def test_arcgis_esri_json_layer(tmp_path):
    # SIDPOL / DATACRIM layers saved from an ArcGIS REST query (f=json, Web Mercator, dates in
    # epoch milliseconds UTC)
    lat, lon = point(6)
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(lon, lat)
    doc = {
        "geometryType": "esriGeometryPoint",
        "spatialReference": {"wkid": 102100, "latestWkid": 3857},
        "fields": [
            {"name": "objectid", "type": "esriFieldTypeOID"},
            {"name": "fecha_hora_hecho", "type": "esriFieldTypeDate"},
            {"name": "modalidad_hecho", "type": "esriFieldTypeString"},
        ],
        "features": [
            {
                "attributes": {
                    "objectid": 1,
                    "fecha_hora_hecho": 1583458200000,
                    "modalidad_hecho": "ROBO AGRAVADO",
                },
                "geometry": {"x": x, "y": y},
            }
        ],
    }
    path = tmp_path / "capa_arcgis.json"
    path.write_text(json.dumps(doc))
    acc = ingest_files([path], assign=False).accepted
    assert acc.geometry.x.iloc[0] == pytest.approx(lon, abs=1e-7)
    assert acc.geometry.y.iloc[0] == pytest.approx(lat, abs=1e-7)
    assert acc["occurred_at"].iloc[0] == pd.Timestamp("2020-03-05 20:30", tz="America/Lima")
    assert acc["modalidad"].iloc[0] == "AGRAVADO"


def test_xlsx_with_excel_dates_and_times(tmp_path):
    import datetime as dt

    lat, lon = point(7)
    df = pd.DataFrame(
        {
            "Fecha": [dt.datetime(2020, 3, 5), dt.datetime(2020, 3, 6)],
            "Hora": [dt.time(21, 45), None],
            "Tipo de delito": ["Robo agravado", "Estafa"],
            "Latitud": [lat, lat],
            "Longitud": [lon, lon + 0.001],
        }
    )
    path = tmp_path / "registro.xlsx"
    df.to_excel(path, index=False)
    acc = ingest_files([path], assign=False).accepted
    assert acc["occurred_at"].tolist() == [
        pd.Timestamp("2020-03-05 21:45", tz="America/Lima"),
        pd.Timestamp("2020-03-06 00:00", tz="America/Lima"),
    ]
    assert acc["time_known"].tolist() == [True, False]
    assert acc["modalidad"].tolist() == ["AGRAVADO", "ESTAFA"]


def test_geopackage_in_projected_crs(tmp_path):
    lat, lon = point(8)
    gdf = gpd.GeoDataFrame(
        {"FECHA": ["05/03/2020"], "DELITO": ["TID"]}, geometry=[Point(lon, lat)], crs="EPSG:4326"
    ).to_crs("EPSG:32717")
    path = tmp_path / "puntos.gpkg"
    gdf.to_file(path, driver="GPKG")
    acc = ingest_files([path], assign=False).accepted
    assert acc.geometry.x.iloc[0] == pytest.approx(lon, abs=1e-7)
    assert acc.geometry.y.iloc[0] == pytest.approx(lat, abs=1e-7)
    assert acc["fenomeno"].iloc[0] == "bandas_criminales"


def test_kml_outer_folder_gives_the_type(tmp_path):
    lat, lon = point(9)
    inner = kml_document({"Marzo": [{"name": "Punto", "lat": lat, "lon": lon}]})
    text = inner.replace(
        "<Folder><name>Marzo</name>", "<Folder><name>ROBOS</name><Folder><name>Marzo</name>"
    )
    text = text.replace("</Folder>", "</Folder></Folder>")
    path = tmp_path / "anidado.kml"
    path.write_text(text, encoding="utf-8")
    acc = ingest_files([path], assign=False).accepted
    assert acc["delito_especifico"].tolist() == ["ROBO"]
    assert acc["label_raw"].tolist() == ["ROBOS"]
