"""Hostile and broken incident files (issue 13): nothing lost, a clear error, never exit 1.

Every file here comes from the hostile test of the first landing. Each test checks the exit
code, the row accounting (rows read = accepted + quarantined, and the physical lines of the
file) and the rows that had to be quarantined, by line number.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from _ingest_fixtures import kml_document, point
from click.testing import CliRunner
from shapely.geometry import Point

from parsc_geo.cli.main import cli
from parsc_geo.ingest import IngestOptions, ingest_files
from parsc_geo.io.csv import read_csv

HEADER = "ID,FECHA,HORA,MODALIDAD,LATITUD,LONGITUD,DESCRIPCION"


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def data_lines(n: int, *, stray: tuple[int, ...] = ()) -> list[str]:
    """``n`` data lines (row i is line i + 2); rows in ``stray`` open a quote never closed."""
    lines = []
    for i in range(n):
        lat, lon = point(i)
        desc = f'"robo en la cuadra {i}' if i in stray else f"robo en la cuadra {i}"
        lines.append(f"D{i},05/03/2020,10:{i % 60:02d},Hurto,{lat},{lon},{desc}")
    return lines


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def report_of(tmp_path: Path, *files: Path, extra: tuple[str, ...] = ()) -> tuple[int, dict]:
    out = tmp_path / "informe.json"
    res = invoke("-q", "validate", *map(str, files), "--report", str(out), "--overwrite", *extra)
    assert res.exit_code == 0, res.output
    return res.exit_code, json.loads(out.read_text(encoding="utf-8"))


def accounted(entry: dict) -> int:
    assert entry["rows_read"] == entry["rows_accepted"] + entry["rows_quarantined"]
    return int(entry["rows_read"])


# -- stray quotes, extra fields ----------------------------------------------------------------


def test_one_stray_quote_loses_no_row(tmp_path):
    # row 10 (line 11) opens a quote that is never closed: before, validate read 10 of 200
    path = write(tmp_path / "comilla.csv", [HEADER, *data_lines(200, stray=(9,))])
    _, rep = report_of(tmp_path, path)
    entry = rep["files"][0]
    assert accounted(entry) == 200
    assert entry["rows_accepted"] == 199
    assert entry["reasons"] == {"unbalanced_quote": 1}
    assert entry["format"]["lines"] == 201  # header + 200 data lines, all accounted for


def test_later_stray_quotes_do_not_swallow_rows(tmp_path):
    # rows 51 and 191 open quotes: before, row 51's quote swallowed 140 rows into one description
    path = write(tmp_path / "comillas.csv", [HEADER, *data_lines(200, stray=(50, 190))])
    raw = read_csv(path)
    assert len(raw.data) == 200
    assert raw.line[raw.problem == "unbalanced_quote"].tolist() == [52, 192]
    assert raw.data["DESCRIPCION"].iloc[100] == "robo en la cuadra 100"
    result = ingest_files([path], assign=False)
    q = result.quarantine
    assert q["source_row"].tolist() == [51, 191]
    assert q["field"].tolist() == ["línea 52", "línea 192"]
    assert len(result.accepted) == 198


def test_quoted_multiline_description_is_one_row(tmp_path):
    # a legitimate description over three lines (quoted) is one row, not a stray quote
    lines = [HEADER, *data_lines(3)]
    lines[2] = lines[2].replace("robo en la cuadra 1", '"robo en la cuadra 1\nfrente al\nmercado"')
    path = write(tmp_path / "multilinea.csv", lines)
    raw = read_csv(path)
    assert len(raw.data) == 3 and not raw.malformed.any()
    assert raw.data["DESCRIPCION"].iloc[1] == "robo en la cuadra 1\nfrente al\nmercado"
    assert raw.line.tolist() == [2, 3, 6]
    assert raw.info["lines"] == 6 and raw.info["multiline_rows"] == 1


def test_extra_field_on_the_first_row_shifts_nothing(tmp_path):
    lines = [HEADER, *data_lines(200)]
    lines[1] += ",SOBRA"
    path = write(tmp_path / "extra.csv", lines)
    result = ingest_files([path], assign=False)
    # before: pandas took the first column as the index and all 200 rows were quarantined
    assert len(result.accepted) == 199
    q = result.quarantine
    assert q["reason"].tolist() == ["malformed_row"] and q["source_row"].tolist() == [1]
    assert result.accepted["incident_id"].iloc[0] == "D1"
    assert result.accepted["descripcion"].iloc[0] == "robo en la cuadra 1"


# -- encodings ---------------------------------------------------------------------------------


def test_latin1_bytes_after_the_first_mebibyte_are_not_replaced(tmp_path):
    rows = data_lines(20_000)
    rows = [r.replace(",Hurto,", ",ROBO AGRAVADO,") for r in rows]
    head = (HEADER + "\n" + "\n".join(rows) + "\n").encode("utf-8")
    assert len(head) > 2**20
    late = "D99999,05/03/2020,10:00,COACCIÓN,-7.17,-78.5,en la comisaría\n".encode("latin-1")
    path = tmp_path / "mixto.csv"
    # a UTF-8 accent early on, Latin-1 bytes after the first MiB
    path.write_bytes(head.replace(b"cuadra 1\n", "cuadra 1 (ñ)\n".encode()) + late)
    raw = read_csv(path)
    assert raw.data["MODALIDAD"].iloc[-1] == "COACCIÓN"
    assert raw.data["DESCRIPCION"].iloc[-1] == "en la comisaría"
    assert raw.data["DESCRIPCION"].iloc[1] == "robo en la cuadra 1 (ñ)"
    assert raw.info["encoding"] == "utf-8"
    assert raw.info["encoding_fallback_lines"] == [20_002]
    result = ingest_files([path], IngestOptions(), assign=False)
    assert any("20002" in w for w in result.report["files"][0]["warnings"])


def test_excel_unicode_text_utf16_tab_separated(tmp_path):
    lines = [HEADER.replace(",", "\t")] + [r.replace(",", "\t") for r in data_lines(4)]
    lines[2] = lines[2].replace("Hurto", "Extorsión")
    path = write(tmp_path / "unicode.txt", lines, encoding="utf-16")  # BOM + UTF-16 LE
    result = ingest_files([path], assign=False)
    assert len(result.accepted) == 4
    assert result.accepted["label_raw"].tolist()[1] == "Extorsión"
    assert result.report["files"][0]["format"]["encoding"] == "utf-16"


# -- files that used to end in an internal error -------------------------------------------------


def test_header_only_csv_is_zero_rows_not_an_error(tmp_path):
    path = write(tmp_path / "solo_encabezado.csv", [HEADER])
    _, rep = report_of(tmp_path, path)
    entry = rep["files"][0]
    assert accounted(entry) == 0
    assert any("no tiene filas de datos" in w for w in entry["warnings"])


def test_file_cut_inside_a_quoted_header_is_a_data_error(tmp_path):
    path = tmp_path / "cortado.csv"
    path.write_text('ID,"FECHA,HORA', encoding="utf-8")
    res = invoke("validate", str(path))
    assert res.exit_code == 3
    assert "encabezados" in res.output and "Traceback" not in res.output


def test_dates_outside_pandas_range_quarantine_their_row_only(tmp_path):
    lines = [HEADER, *data_lines(5)]
    lines[1] = lines[1].replace("05/03/2020", "05/03/3020")
    lines[2] = lines[2].replace("05/03/2020", "05/03/0202")
    lines[3] = lines[3].replace("05/03/2020", "9999999999999")  # 13 digits: year 2286
    lines[4] = lines[4].replace("05/03/2020", "1583366400000")  # 13 digits: 2020-03-05 UTC
    path = write(tmp_path / "fechas.csv", lines)
    _, rep = report_of(tmp_path, path)
    entry = rep["files"][0]
    assert accounted(entry) == 5
    assert entry["reasons"] == {"date_out_of_range": 3}
    result = ingest_files([path], assign=False)
    assert sorted(result.quarantine["source_row"].tolist()) == [1, 2, 3]
    # 1583366400000 ms = 2020-03-05 00:00 UTC = 2020-03-04 19:00 in Lima
    when = result.accepted.set_index("source_row")["occurred_at"]
    assert when.loc[4] == pd.Timestamp("2020-03-04 19:00", tz="America/Lima")


def _deep_kml(depth: int) -> str:
    mark = (
        "<Placemark><name>Hurto</name><ExtendedData><Data name='FECHA'><value>05/03/2020"
        "</value></Data></ExtendedData><Point><coordinates>-78.5,-7.17,0</coordinates></Point>"
        "</Placemark>"
    )
    return (
        '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        + "<Folder><name>f</name>" * depth
        + mark
        + "</Folder>" * depth
        + "</Document></kml>"
    )


def test_kml_three_thousand_folders_deep(tmp_path):
    path = tmp_path / "profundo.kml"
    path.write_text(_deep_kml(3000), encoding="utf-8")
    _, rep = report_of(tmp_path, path)
    entry = rep["files"][0]
    assert accounted(entry) == 1 and entry["rows_accepted"] == 1


def test_kmz_zip_bomb_is_refused(tmp_path):
    path = tmp_path / "bomba.kmz"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        # 300 MiB of spaces compress to about 300 KiB
        payload = b'<?xml version="1.0"?><kml><Document>' + b" " * (300 * 2**20) + b"</Document>"
        zf.writestr("doc.kml", payload + b"</kml>")
    path.write_bytes(buf.getvalue())
    assert path.stat().st_size < 2**20
    res = invoke("validate", str(path))
    assert res.exit_code == 3
    assert "bomba zip" in res.output and "Traceback" not in res.output


def test_names_longer_than_255_bytes(tmp_path):
    path = write(tmp_path / "ok.csv", [HEADER, *data_lines(3)])
    long_name = "informe_" + "ñ" * 200 + ".json"  # 408 bytes in UTF-8
    res = invoke("validate", str(path), "--report", str(tmp_path / long_name))
    assert res.exit_code == 5
    assert "255" in res.output and "Traceback" not in res.output
    res = invoke("ingest", str(path), "-w", str(tmp_path / ("w" * 300 + ".gpkg")))
    assert res.exit_code == 5
    res = invoke("validate", str(tmp_path / ("d" * 300 + ".csv")))
    assert res.exit_code == 3


# -- geometries and derived identifiers --------------------------------------------------------


def test_kml_multigeometry_of_two_points_is_not_taken_at_its_first_point(tmp_path):
    lat, lon = point(0)
    two = (
        "<Placemark><name>Hurto</name><MultiGeometry>"
        f"<Point><coordinates>{lon},{lat},0</coordinates></Point>"
        f"<Point><coordinates>{lon + 0.01},{lat},0</coordinates></Point>"
        "</MultiGeometry></Placemark>"
    )
    one = (
        "<Placemark><name>Robo</name><MultiGeometry>"
        f"<Point><coordinates>{lon},{lat - 0.01},0</coordinates></Point>"
        "</MultiGeometry></Placemark>"
    )
    path = tmp_path / "multi.kml"
    path.write_text(
        '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        + two
        + one
        + "</Document></kml>",
        encoding="utf-8",
    )
    result = ingest_files([path], IngestOptions(undated="keep"), assign=False)
    q = result.quarantine
    assert q["reason"].tolist() == ["not_a_point"]
    assert q["value"].tolist() == ["MultiGeometry con 2 puntos"]
    assert result.accepted.geometry.y.tolist() == pytest.approx([lat - 0.01])


def _marks(offset: int, n: int) -> list[dict[str, object]]:
    out = []
    for i in range(offset, offset + n):
        lat, lon = point(i)
        out.append({"name": "Hurto", "lat": lat, "lon": lon, "data": {"FECHA": "05/03/2020"}})
    return out


def test_every_kml_inside_a_kmz_is_read(tmp_path):
    path = tmp_path / "varios.kmz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("doc.kml", kml_document({"HURTOS": _marks(0, 3)}))
        zf.writestr("capas/robos.kml", kml_document({"ROBOS": _marks(10, 2)}))
    result = ingest_files([path], assign=False)
    assert len(result.accepted) == 5
    entry = result.report["files"][0]
    assert entry["format"]["kml_files"] == {"doc.kml": 3, "capas/robos.kml": 2}
    assert any("capas/robos.kml (2 marcas)" in w for w in entry["warnings"])


def test_identical_attributes_at_different_places_are_not_duplicates(tmp_path):
    # no id column; same attributes (type and date), different places: distinct incidents
    points = [Point(point(i)[1], point(i)[0]) for i in range(4)]
    attrs = {"DELITO": ["HURTO"] * 4, "FECHA": ["05/03/2020"] * 4, "HORA": ["10:00"] * 4}
    gdf = gpd.GeoDataFrame(attrs, geometry=points, crs="EPSG:4326")
    files = []
    for name, driver in (("p.geojson", "GeoJSON"), ("p.shp", "ESRI Shapefile")):
        gdf.to_file(tmp_path / name, driver=driver)
        files.append(tmp_path / name)
    kml = tmp_path / "p.kml"
    kml.write_text(kml_document({"HURTO": _marks(0, 4)}), encoding="utf-8")
    kmz = tmp_path / "p.kmz"
    with zipfile.ZipFile(kmz, "w") as zf:
        zf.writestr("doc.kml", kml.read_text(encoding="utf-8"))
    for path in (*files, kml, kmz):
        result = ingest_files([path], assign=False)
        assert len(result.accepted) == 4, (path.name, result.quarantine["reason"].tolist())
        assert result.accepted["incident_id"].is_unique


def test_derived_ids_are_stable_and_identical_rows_are_counted(tmp_path):
    # the same row twice without time: two complaints (kept, ids -1/-2); a cumulative export
    # that repeats them finds the same ids
    lat, lon = point(0)
    header = "DELITO;FECHA;LATITUD;LONGITUD"
    row = f"HURTO;05/03/2020;{lat};{lon}"
    a = write(tmp_path / "a.csv", [header, row, row])
    b = write(tmp_path / "b.csv", [header, f"ROBO;06/03/2020;{lat};{lon}", row, row])
    ids_a = ingest_files([a], assign=False).accepted["incident_id"].tolist()
    ids_b = ingest_files([b], assign=False).accepted["incident_id"].tolist()
    assert len(ids_a) == 2 and ids_a[1] == ids_a[0] + "-2"
    assert ids_b[1:] == ids_a


# -- title rows above the header -----------------------------------------------------------------


def test_title_rows_above_the_header_csv(tmp_path):
    lines = ["REPORTE DE DENUNCIAS;;;;;;", "Comisaría Cajamarca - marzo 2020;;;;;;", ""]
    lines += [HEADER.replace(",", ";")] + [r.replace(",", ";") for r in data_lines(5)]
    path = write(tmp_path / "titulos.csv", lines)
    result = ingest_files([path], assign=False)
    assert len(result.accepted) == 5 and result.quarantine.empty
    entry = result.report["files"][0]
    assert entry["format"]["header_row"] == 4 and entry["format"]["header_detected"]
    assert any("línea 4" in w for w in entry["warnings"])
    # --header-row forces the line (here a wrong one: the title is taken as the header)
    res = invoke("validate", str(path), "--header-row", "1")
    assert res.exit_code == 3 and "no se encontraron coordenadas" in res.output
    assert invoke("-q", "validate", str(path), "--header-row", "4").exit_code == 0


def test_title_rows_above_the_header_xlsx(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Mapa del delito — Comisaría Cajamarca"])
    ws.append(["Generado el 01/04/2020"])
    ws.append([])
    ws.append(HEADER.split(","))
    for line in data_lines(3):
        ws.append(line.split(","))
    path = tmp_path / "titulos.xlsx"
    wb.save(path)
    result = ingest_files([path], assign=False)
    assert len(result.accepted) == 3
    assert result.accepted["source_row"].tolist() == [1, 2, 3]
    assert result.report["files"][0]["format"]["header_row"] == 4
    forced = ingest_files([path], IngestOptions(header_row=4), assign=False)
    assert len(forced.accepted) == 3


def test_kml_declaring_an_unknown_encoding_is_a_data_error(tmp_path):
    # found by benchmarks/fuzz_ingest.py: expat raised LookupError (exit 1)
    path = tmp_path / "codificacion.kml"
    path.write_text(_deep_kml(1).replace('version="1.0"', 'version="1.0" encoding="EUTF-8"'))
    res = invoke("validate", str(path))
    assert res.exit_code == 3
    assert "EUTF-8" in res.output and "Traceback" not in res.output


def test_trailing_delimiter_on_data_rows_only_loses_nothing(tmp_path):
    # an export that ends every data line with ";" (not the header): the empty field after
    # the last column is dropped, no row is quarantined and no column shifts
    lines = [HEADER.replace(",", ";")] + [r.replace(",", ";") + ";" for r in data_lines(4)]
    path = write(tmp_path / "final.csv", lines)
    result = ingest_files([path], assign=False)
    assert len(result.accepted) == 4 and result.quarantine.empty
    assert result.accepted["descripcion"].tolist() == [f"robo en la cuadra {i}" for i in range(4)]
