"""Failures seen on real data (issue 11): dates without year, UTM zones, projected values read
as degrees, time zones outside Peru, and complaints with several victims.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from _ingest_fixtures import point, write_csv
from click.testing import CliRunner
from pyproj import Transformer
from shapely.geometry import box

from parsc_geo._errors import ConfigError, InputDataError
from parsc_geo.cli.main import cli
from parsc_geo.config import parse_config
from parsc_geo.ingest import IngestOptions, ingest_files
from parsc_geo.io import read_points
from parsc_geo.workspace import Workspace

HEADER = ["ID", "FECHA", "HORA", "MODALIDAD", "LATITUD", "LONGITUD"]
#: Toronto City Hall and Lima's Plaza Mayor (lat, lon).
TORONTO = (43.6534, -79.3841)
LIMA_CENTRO = (-12.0453, -77.0311)


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def rows(dates: list[str]) -> list[list[object]]:
    out = []
    for i, d in enumerate(dates):
        lat, lon = point(i)
        out.append([f"D{i}", d, "20:15", "HURTO", lat, lon])
    return out


def area_file(tmp_path, name: str, lat: float, lon: float, half: float = 0.2):
    import geopandas as gpd

    path = tmp_path / name
    area = box(lon - half, lat - half, lon + half, lat + half)
    gpd.GeoDataFrame(geometry=[area], crs="EPSG:4326").to_file(path, driver="GeoJSON")
    return path


# -- dates without a year ------------------------------------------------------------------------


def test_day_and_month_without_year(tmp_path):
    path = write_csv(tmp_path / "sin_anio.csv", HEADER, rows(["05/03", "6 de marzo", "07-mar"]))
    report = tmp_path / "r.json"
    # default: quarantined as missing_year, the hint naming --year and --undated
    res = invoke("ingest", str(path), "-w", str(tmp_path / "a.gpkg"), "--report", str(report))
    assert res.exit_code == 0, res.output
    assert "fecha sin año" in res.output and "missing_year" not in res.output
    q = pd.read_csv(tmp_path / "r_cuarentena.csv", encoding="utf-8-sig")
    assert q["Código del motivo"].tolist() == ["missing_year"] * 3
    message = q["Mensaje"].iloc[0]
    assert "--year" in message and "--undated keep" in message

    res = invoke("-q", "ingest", str(path), "-w", str(tmp_path / "b.gpkg"), "--year", "2020")
    assert res.exit_code == 0, res.output
    got = Workspace(tmp_path / "b.gpkg").read_incidents().set_index("incident_id")
    assert got.loc["D0", "occurred_at"] == pd.Timestamp("2020-03-05 20:15", tz="America/Lima")
    assert got.loc["D1", "occurred_at"] == pd.Timestamp("2020-03-06 20:15", tz="America/Lima")
    assert got.loc["D2", "occurred_at"] == pd.Timestamp("2020-03-07 20:15", tz="America/Lima")


def test_undated_keep_and_quarantine(tmp_path):
    path = write_csv(tmp_path / "f.csv", HEADER, rows(["05/03/2020", "", "05/03", "31/02/2020"]))
    kept = ingest_files([path], IngestOptions(undated="keep"), assign=False)
    acc = kept.accepted.set_index("source_row")
    assert sorted(acc.index) == [1, 2, 3]
    assert acc.loc[[2, 3], "occurred_at"].isna().all()
    assert acc.loc[2, "flags"] == "undated" and acc.loc[1, "flags"] == ""
    # a date that is not a date stays in quarantine, whatever --undated says
    assert kept.quarantine["reason"].tolist() == ["unparseable_date"]
    default = ingest_files([path], IngestOptions(), assign=False)
    assert default.quarantine["reason"].tolist() == [
        "missing_date",
        "missing_year",
        "unparseable_date",
    ]


def test_year_and_undated_in_config_files(tmp_path):
    path = write_csv(tmp_path / "f.csv", HEADER, rows(["05/03", ""]))
    config = tmp_path / "ingesta.toml"
    config.write_text('year = 2019\nundated = "keep"\n', encoding="utf-8")
    out = tmp_path / "r.json"
    res = invoke("-q", "validate", str(path), "--config", str(config), "--report", str(out))
    assert res.exit_code == 0, res.output
    rep = json.loads(out.read_text(encoding="utf-8"))
    assert rep["total"]["rows_accepted"] == 2
    assert rep["parameters"]["year"] == 2019 and rep["parameters"]["undated"] == "keep"
    # the monthly run's [inputs] accepts the same keys, checked by the same rules
    run = parse_config(
        {"inputs": {"incidents": str(path), "year": 2019, "undated": "keep"}}, base=tmp_path
    )
    assert run.ingest == {"year": 2019, "undated": "keep"}
    with pytest.raises(ConfigError, match=r"inputs\.undated"):
        parse_config({"inputs": {"incidents": str(path), "undated": "borrar"}}, base=tmp_path)
    with pytest.raises(ConfigError, match=r"inputs\.year"):
        parse_config({"inputs": {"incidents": str(path), "year": 20}}, base=tmp_path)


# -- UTM zones and projected coordinates ---------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [("18N", "18N"), ("1s", "1S"), ("60N", "60N"), ("32718", "18S"), ("EPSG:32618", "18N")],
)
def test_every_utm_zone_is_accepted_on_the_command_line(tmp_path, given, expected):
    path = write_csv(tmp_path / "f.csv", HEADER, rows(["05/03/2020"]))
    out = tmp_path / "r.json"
    res = invoke("-q", "validate", str(path), "--utm-zone", given, "--report", str(out))
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text(encoding="utf-8"))["parameters"]["utm_zone"] == expected


def test_utm_columns_of_a_northern_zone(tmp_path):
    # Bogotá in UTM 18N, with a study area around it (and its time zone)
    lat, lon = 4.7110, -74.0721
    e, n = Transformer.from_crs("EPSG:4326", "EPSG:32618", always_xy=True).transform(lon, lat)
    path = write_csv(
        tmp_path / "utm.csv",
        ["ID", "FECHA", "MODALIDAD", "ESTE", "NORTE"],
        [["B1", "05/03/2020", "HURTO", round(e, 2), round(n, 2)]],
    )
    opts = IngestOptions(
        utm_zone="18N",
        study_area=area_file(tmp_path, "bogota.geojson", lat, lon),
        timezone="America/Bogota",
    )
    result = ingest_files([path], opts, assign=False)
    assert result.accepted.geometry.x.iloc[0] == pytest.approx(lon, abs=1e-6)
    assert result.accepted.geometry.y.iloc[0] == pytest.approx(lat, abs=1e-6)


def test_utm_zone_defaults_to_the_study_area_zone(tmp_path):
    # ESTE/NORTE in Lima (zone 18S) without a zone: the study area's zone is used, announced
    lat, lon = LIMA_CENTRO
    e, n = Transformer.from_crs("EPSG:4326", "EPSG:32718", always_xy=True).transform(lon, lat)
    path = write_csv(
        tmp_path / "lima.csv",
        ["ID", "FECHA", "MODALIDAD", "ESTE", "NORTE"],
        [["L1", "05/03/2020", "HURTO", round(e, 2), round(n, 2)]],
    )
    opts = IngestOptions(study_area=area_file(tmp_path, "lima.geojson", lat, lon))
    result = ingest_files([path], opts, assign=False)
    assert result.accepted.geometry.y.iloc[0] == pytest.approx(lat, abs=1e-6)
    params = result.report["parameters"]
    assert params["utm_zone"] == "18S" and params["automatic"]["utm_zone"] == "18S"


def test_projected_values_in_latitude_longitude_columns_are_named_as_such(tmp_path):
    # Lima's UTM 18S values in LATITUD/LONGITUD: read with Cajamarca's zone they land outside
    lat, lon = LIMA_CENTRO
    e, n = Transformer.from_crs("EPSG:4326", "EPSG:32718", always_xy=True).transform(lon, lat)
    data = rows(["05/03/2020"] * 2)
    data[0][4], data[0][5] = round(n, 1), round(e, 1)
    data[1][4], data[1][5] = 25_000_000, 31_000_000  # no projection of the Earth reaches this
    path = write_csv(tmp_path / "proyectadas.csv", HEADER, data)
    report = tmp_path / "r.json"
    res = invoke("ingest", str(path), "-w", str(tmp_path / "w.gpkg"), "--report", str(report))
    assert res.exit_code == 0, res.output
    assert "fuera del área de estudio" not in res.output
    q = pd.read_csv(tmp_path / "r_cuarentena.csv", encoding="utf-8-sig")
    assert q["Código del motivo"].tolist() == ["projected_coordinates"] * 2
    msg = q["Mensaje"].iloc[0]
    assert "las coordenadas parecen proyectadas" in msg and "use --input-crs o --utm-zone" in msg
    # with the zone given, the same row is read where it is (and is outside Cajamarca)
    res = invoke(
        "-q", "validate", str(path), "--utm-zone", "18S", "--study-area",
        str(area_file(tmp_path, "lima.geojson", lat, lon)),
    )  # fmt: skip
    assert res.exit_code == 0 and "aceptadas 1" in res.output


def test_read_points_names_projected_values(tmp_path):
    path = tmp_path / "puntos.csv"
    path.write_text("LONGITUD,LATITUD\n775000,9207000\n-78.5,-7.1\n", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"parecen proyectadas.*use --input-crs o --utm-zone"):
        read_points(path)
    utm = tmp_path / "utm.csv"
    utm.write_text("LONGITUD,LATITUD\n775000,9207000\n", encoding="utf-8")
    points = read_points(utm, input_crs="EPSG:32717").to_crs("EPSG:4326")
    lon, lat = Transformer.from_crs("EPSG:32717", "EPSG:4326", always_xy=True).transform(
        775000, 9207000
    )
    assert points.geometry.x.iloc[0] == pytest.approx(lon)
    assert points.geometry.y.iloc[0] == pytest.approx(lat)
    res = invoke("density", str(path), "-o", str(tmp_path / "d.tif"))
    assert res.exit_code == 3 and "parecen proyectadas" in res.output
    assert "fuera del área" not in res.output


# -- time zones ----------------------------------------------------------------------------------


def test_times_are_local_to_the_study_area(tmp_path):
    lat, lon = TORONTO
    path = write_csv(
        tmp_path / "toronto.csv",
        HEADER,
        [
            ["T1", "05/07/2020", "10:00", "ROBBERY", lat, lon],
            ["T2", "05/01/2020", "10:00", "X", lat, lon],
        ],
    )
    area = area_file(tmp_path, "toronto.geojson", lat, lon)
    ws = tmp_path / "w.gpkg"
    # outside Peru the time zone must be given: no silent −05:00
    res = invoke("ingest", str(path), "-w", str(ws), "--study-area", str(area))
    assert res.exit_code == 4 and "--timezone" in res.output
    res = invoke(
        "-q", "ingest", str(path), "-w", str(ws), "--study-area", str(area),
        "--timezone", "America/Toronto",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    got = Workspace(ws).read_incidents().set_index("incident_id")["occurred_at"]
    assert str(got.dt.tz) == "America/Toronto"
    # 10:00 in July is daylight time (UTC−4), in January standard time (UTC−5)
    assert got.loc["T1"].tz_convert("UTC") == pd.Timestamp("2020-07-05 14:00", tz="UTC")
    assert got.loc["T2"].tz_convert("UTC") == pd.Timestamp("2020-01-05 15:00", tz="UTC")
    assert got.dt.hour.tolist() == [10, 10]


def test_time_zone_of_peru_is_chosen_and_recorded(tmp_path):
    path = write_csv(tmp_path / "f.csv", HEADER, rows(["05/03/2020"]))
    result = ingest_files([path], assign=False)
    params = result.report["parameters"]
    assert params["timezone"] == "America/Lima"
    assert params["automatic"]["timezone"] == "America/Lima"
    with pytest.raises(ConfigError, match="timezone"):
        IngestOptions(timezone="America/Cajamarca").check()


# -- several victims -----------------------------------------------------------------------------


def test_several_victims_with_their_own_ids_are_not_duplicates(tmp_path):
    lat, lon = point(0)
    same = ["05/03/2020", "20:15", "LESIONES", lat, lon]
    path = write_csv(
        tmp_path / "victimas.csv",
        HEADER,
        [["V1", *same], ["V2", *same], ["V3", *same], ["V1", *same], ["", *same]],
    )
    result = ingest_files([path], assign=False)
    # three victims of one event: three records; V1 again is a copy; a row without an id of
    # its own at the same place, time and type is a copy of one of them
    assert result.accepted["incident_id"].tolist() == ["V1", "V2", "V3"]
    reasons = dict(zip(result.quarantine["source_row"], result.quarantine["reason"], strict=True))
    assert reasons == {4: "duplicate_id", 5: "duplicate_place_time_type"}


def test_database_timestamps_with_an_hour_offset():
    # Toronto's open crime data (and PostgreSQL exports) write "2017/02/28 05:00:00+00": UTC,
    # slashes and an offset in hours; 05:00 UTC is midnight in Toronto (EST, UTC−5) in
    # February and 01:00 (EDT, UTC−4) in August
    from parsc_geo.io.dates import parse_occurrence

    dates = pd.Series(["2017/02/28 05:00:00+00", "2016-08-20 05:00:00+00"])
    hours = pd.Series(["11", "10"])
    t = parse_occurrence(date=dates, time=hours, datetime_=None, n=2, tz="America/Toronto")
    assert t.status.tolist() == ["", ""]
    assert t.occurred_at.iloc[0] == pd.Timestamp("2017-02-28 11:00", tz="America/Toronto")
    # 01:00 local has a time of day already: the hour column does not replace it
    assert t.occurred_at.iloc[1] == pd.Timestamp("2016-08-20 01:00", tz="America/Toronto")
    assert t.time_known.tolist() == [True, True]


def test_quoted_line_break_in_a_row_with_a_short_first_line_is_one_row(tmp_path):
    # a bare CR inside a quoted cell (written by Python's csv or Excel) is a line break inside
    # the row: the row is read once and keeps its line; a note over several lines in the last
    # column is one row too, and an unclosed quote that swallowed a whole row is set aside
    lat, lon = point(3)
    header = ["fecha", "modalidad", "lat", "lon", "nota", "x"]
    rows = [
        ["\r0", "", "", "", "", ""],
        ["2021-03-04", "Robo", lat, lon, "línea uno\nlínea dos", ""],
    ]
    path = write_csv(tmp_path / "cr.csv", header, rows, sep=";")
    res = ingest_files([path], assign=False)
    t = res.report["total"]
    assert (t["rows_read"], t["rows_accepted"], t["rows_quarantined"]) == (2, 1, 1)
    assert sorted(res.quarantine["source_row"].tolist() + res.accepted["source_row"].tolist()) == [
        1,
        2,
    ]
    # a row whose middle line closes one quoted cell and opens another ("\n0";;;;;"\n")
    path = write_csv(tmp_path / "lf.csv", header, [["\n0", "", "", "", "", "\n"]], sep=";")
    t = ingest_files([path], assign=False).report["total"]
    assert (t["rows_read"], t["rows_quarantined"]) == (1, 1)
    bad = tmp_path / "abierta.csv"
    bad.write_text(
        f'fecha;modalidad;lat;lon;nota;x\n2021-03-04;Robo;{lat};{lon};"sin cierre;\n'
        f'2021-03-05;Hurto;{lat};{lon};fin";\n',
        encoding="utf-8",
    )
    res = ingest_files([bad], assign=False)
    t = res.report["total"]
    assert t["rows_read"] == t["rows_accepted"] + t["rows_quarantined"] == 2
