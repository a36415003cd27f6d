"""XLSX, GeoJSON and KML/KMZ files read by chunks give what reading them whole gives (issue 17).

A distributed run's ingestion never holds a large file's rows at once: a workbook's sheet is
streamed a chunk of rows at a time (:class:`parsc_geo.io.excel.XlsxFile`), a GeoJSON file's
features streamed in one pass and a GeoPackage layer read by chunks of features
(:class:`parsc_geo.io.vector.VectorFile`), a KML or
KMZ file's placemarks streamed a chunk at a time (:class:`parsc_geo.io.kml.KmlFile`). The
reference is the whole file read at once by today's readers (:func:`parsc_geo.io.excel.read_xlsx`,
pandas' ``read_excel``; :func:`parsc_geo.io.kml.read_kml`, one XML tree; pyogrio reading the
whole layer): the same rows, cells and their types, row numbers, ``info`` and, ingested, the same
accepted rows, ids, quarantine and report. The files are hostile: empty cells, dates as dates
and as text, accents, formula-like text, cached formula results and error cells, missing
coordinates, repeated rows.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _ingest_fixtures import point, spy_chunk_at

from parsc_geo.ingest import IngestOptions, ingest_files
from parsc_geo.io import excel
from parsc_geo.io.excel import XlsxFile, read_xlsx

#: Header of the test files' incidents.
HEADER = ["FECHA", "HORA", "MODALIDAD", "LATITUD", "LONGITUD", "DESCRIPCION", "NUM"]


def _cells(i: int) -> list[object]:
    """Cells of incident ``i`` (None: an empty cell): every kind of hostile content in turn."""
    lat, lon = point(i % 400)
    k = i % 13
    date: object = dt.datetime(2020, 3, 1 + i % 28, i % 24, i % 60)
    if k == 1:
        date = f"0{1 + i % 9}/03/2020"  # a date as text
    elif k == 2:
        date = None  # no date
    cells: list[object] = [
        date,
        dt.time(i % 24, 15) if k == 3 else "10:30",
        ["Hurto", "Robo", "Extorsión", "Hurto de vehículo"][i % 4],
        lat,
        lon,
        f"cuadra {i % 97} señora Núñez",
        i,
    ]
    if k == 4:
        cells[3] = cells[4] = None  # missing coordinates
    elif k == 5:
        cells[5] = "=cmd|' /C calc'!A0"  # formula-like text
    elif k == 6:
        cells[6] = "NA"  # a text pandas reads as missing
    elif k == 7:
        cells[6] = True  # a boolean below numbers
    elif k == 8:
        cells[6] = 2.5
    elif k == 9:
        cells[5] = ""  # an empty text cell
    elif k == 10:
        cells[3], cells[4] = str(lat).replace(".", ","), str(lon)  # comma decimals
    return cells


def _write_workbook(path: Path, n: int) -> Path:
    """Write ``n`` incidents under a title, with a second sheet of data and an empty one."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    dates = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    times = book.add_format({"num_format": "hh:mm"})
    empty = book.add_worksheet("Vacía")
    del empty
    ws = book.add_worksheet("Denuncias")
    ws.write_string(0, 0, "REPORTE DE DENUNCIAS")  # a title above the header
    ws.write_string(1, 0, "Región Cajamarca")
    for c, name in enumerate(HEADER):
        ws.write_string(3, c, name)
    r = 4
    for i in range(n):
        for c, value in enumerate(_cells(i)):
            if value is None:
                continue
            if isinstance(value, bool):
                ws.write_boolean(r, c, value)
            elif isinstance(value, dt.datetime):
                ws.write_datetime(r, c, value, dates)
            elif isinstance(value, dt.time):
                ws.write_datetime(r, c, value, times)
            elif isinstance(value, str):
                ws.write_string(r, c, value)
            else:
                ws.write_number(r, c, value)
        if i % 211 == 0:
            r += 1  # a blank row
        if i % 307 == 0:
            r += 1
            ws.write_string(r, 2, "NA")  # a row of missing values only
        if i % 101 == 0:
            r += 1  # a cached formula result and an error cell
            ws.write_formula(r, 0, "=DATE(2020,3,5)", dates, 43895)
            ws.write_formula(r, 1, "=1/0", None, "#DIV/0!")
            ws.write_string(r, 2, "Hurto")
            ws.write_formula(r, 3, "=-7.17", None, -7.17)
            ws.write_formula(r, 4, "=-78.5", None, -78.5)
            ws.write_formula(r, 6, '="a"&"b"', None, "ab")
        r += 1
    for i in range(0, n, 5):  # every fifth incident repeated at the end: duplicates
        for c, value in enumerate(_cells(i)):
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                if isinstance(value, str):
                    ws.write_string(r, c, value)
                else:
                    ws.write_number(r, c, value)
        r += 1
    ws.write_string(r, 9, "celda suelta")  # a cell right of the header: an unnamed column
    other = book.add_worksheet("Otra")
    for c, name in enumerate(HEADER):
        other.write_string(0, c, name)
    other.write_string(1, 2, "Robo")
    book.close()
    return path


def _same_tables(tables: list, whole) -> None:
    """The chunks' rows, cells (and their types), row numbers and info are the whole read's."""
    data = pd.concat([t.data for t in tables], ignore_index=True)
    pd.testing.assert_frame_equal(data, whole.data)
    assert data.map(type).equals(whole.data.map(type))
    np.testing.assert_array_equal(np.concatenate([t.source_row for t in tables]), whole.source_row)
    for t in tables:
        assert t.info == whole.info and t.kind == whole.kind and t.source == whole.source


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> Path:
    return _write_workbook(tmp_path_factory.mktemp("xlsx") / "denuncias.xlsx", 3_000)


def test_workbook_read_whole_is_hostile(workbook):
    # what the whole read (pandas' read_excel) makes of the workbook: the reference
    whole = read_xlsx(workbook)
    assert whole.info["sheet"] == "Denuncias" and whole.info["header_detected"]
    assert whole.info["header_row"] == 4
    assert list(whole.data.columns) == [*HEADER, "Unnamed: 7", "Unnamed: 8", "Unnamed: 9"]
    types = {type(v) for v in whole.data["NUM"]}
    assert types == {int, float, bool, str}
    assert "ab" in set(whole.data["NUM"]) and "" in set(whole.data["NUM"])
    assert any(isinstance(v, dt.datetime) for v in whole.data["FECHA"])
    assert any(isinstance(v, dt.time) for v in whole.data["HORA"])
    # the blank rows and rows of missing values only are not rows; numbers count from the header
    assert len(whole.data) == 3_000 + 30 + 600 + 1  # and the row of the loose cell
    assert whole.source_row[0] == 1 and whole.source_row[-1] > len(whole.data)
    assert "'Otra' (1 fila(s) bajo la primera)" in whole.info["warnings"][0]


@pytest.mark.parametrize("rows", [1, 7, 100, 1_000, 10_000])
def test_workbook_by_chunks_gives_the_whole_read(workbook, rows):
    reader = XlsxFile(workbook)
    tables = list(reader.chunks(rows))
    assert reader.whole_reason is None
    whole = read_xlsx(workbook)
    assert len(tables) == max(1, -(-len(whole.data) // rows))
    _same_tables(tables, whole)
    # a chunk read again (to quarantine its duplicates), in order and not
    for k in [*sorted({0, len(tables) // 2, len(tables) - 1}), 0]:
        again = reader.chunk(k)
        pd.testing.assert_frame_equal(again.data, tables[k].data)
        np.testing.assert_array_equal(again.source_row, tables[k].source_row)
    reader.release()


@pytest.mark.parametrize(
    ("sheet", "header_row"), [(None, 4), ("Denuncias", None), (1, 5), ("Otra", None), (2, None)]
)
def test_workbook_options_by_chunks(workbook, sheet, header_row):
    whole = read_xlsx(workbook, sheet=sheet, header_row=header_row)
    reader = XlsxFile(workbook, sheet=sheet, header_row=header_row)
    _same_tables(list(reader.chunks(250)), whole)
    assert reader.whole_reason is None


def test_workbook_errors_and_odd_sheets_are_read_whole(workbook, tmp_path):
    from parsc_geo._errors import InputDataError

    # a header row that is not there: the same error as the whole read
    with pytest.raises(InputDataError, match="fila de encabezados 99999 no existe"):
        list(XlsxFile(workbook, header_row=99_999).chunks(100))
    # a sheet that does not exist, an empty sheet, a broken file: read whole, which says why
    for sheet in ("Nada", 7):
        reader = XlsxFile(workbook, sheet=sheet)
        with pytest.raises(InputDataError, match="no se puede leer el libro"):
            list(reader.chunks(100))
        assert reader.whole_reason is not None
    reader = XlsxFile(workbook, sheet="Vacía")
    tables = list(reader.chunks(100))
    assert reader.whole_reason is not None and len(tables) == 1
    broken = tmp_path / "roto.xlsx"
    broken.write_bytes(workbook.read_bytes()[:5_000])
    with pytest.raises(InputDataError, match="no se puede leer el libro"):
        list(XlsxFile(broken).chunks(100))


def _ingest_same(path: Path, tmp_path: Path, monkeypatch, **options) -> None:
    """Ingested by chunks (spilled or not), ``path`` gives what it gives read whole."""
    from parsc_geo.ingest import files

    opts = IngestOptions(progress=False, **options)
    whole = ingest_files([path], opts, chunk_chars=None, assign=False)
    assert len(whole.accepted) > 100 and len(whole.quarantine) > 100
    monkeypatch.setattr(files, "SPILL_ROWS", 500)
    for spill in (None, tmp_path / "spill"):
        chunked = ingest_files([path], opts, assign=False, spill=spill)
        if spill is None:
            pd.testing.assert_frame_equal(chunked.accepted, whole.accepted)
        else:
            assert chunked.parts is not None and len(chunked.parts) > 1
            joined = pd.concat([p.load() for p in chunked.parts])
            pd.testing.assert_frame_equal(joined, whole.accepted, check_index_type=False)
        pd.testing.assert_frame_equal(chunked.quarantine, whole.quarantine)
        assert chunked.report == whole.report
        assert chunked.sources == whole.sources


def test_workbook_ingested_by_chunks(workbook, tmp_path, monkeypatch):
    read: list[int] = []
    chunks = XlsxFile.chunks

    def spying(self, rows):
        read.append(rows)
        return chunks(self, rows)

    monkeypatch.setattr(XlsxFile, "chunks", spying)
    monkeypatch.setattr(excel, "STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(excel, "CHUNK_ROWS", 100)
    _ingest_same(workbook, tmp_path, monkeypatch)
    # streamed in the spilled ingestion only (a distributed run's); read at once otherwise
    assert read == [100]
    # the hostile rows are quarantined: no date (the repeated rows lost their date cells),
    # no coordinates, duplicates found across chunks
    whole = ingest_files([workbook], IngestOptions(progress=False), chunk_chars=None, assign=False)
    assert set(whole.quarantine["reason"]) == {
        "missing_date",
        "missing_coordinates",
        "duplicate_place_time_type",
    }


# --- KML and KMZ: placemarks streamed a chunk at a time -------------------------------------


def _placemark(i: int) -> str:
    """A placemark of every kind in turn: data, description fields, times, odd geometries."""
    lat, lon = point(i % 300)
    k = i % 11
    when = f"<TimeStamp><when>2020-03-{1 + i % 28:02d}T10:{i % 60:02d}:00</when></TimeStamp>"
    if k == 1:
        when = "<TimeSpan><begin>2020-04-02</begin><end>2020-04-03</end></TimeSpan>"
    elif k == 2:
        when = ""
    geometry = f"<Point><coordinates>{lon},{lat},0</coordinates></Point>"
    if k == 3:
        geometry = (
            "<MultiGeometry><Point><coordinates>-78.5,-7.17</coordinates></Point>"
            "<Point><coordinates>-78.6,-7.18</coordinates></Point></MultiGeometry>"
        )
    elif k == 4:
        geometry = "<LineString><coordinates>-78.5,-7.17 -78.6,-7.18</coordinates></LineString>"
    elif k == 5:
        geometry = "<Point><coordinates></coordinates></Point>"
    elif k == 6:
        geometry = "<Point><coordinates>abc,def</coordinates></Point>"
    elif k == 7:
        geometry = ""
    data = (
        f'<ExtendedData><Data name="MODALIDAD"><value>{["Hurto", "Robo"][i % 2]}</value></Data>'
        f'<Data name="nota"><value>=cmd|&apos; /C calc&apos;!A0 Núñez {i % 50}</value></Data>'
    )
    if i % 17 == 0:
        data += f'<SchemaData><SimpleData name="ID_{i % 3}">X{i}</SimpleData></SchemaData>'
    if i % 23 == 0:
        data += '<Data name="name"><value>choca con NAME</value></Data>'
    data += "</ExtendedData>"
    desc = f"<description><![CDATA[<b>Tipo</b>: robo<br>Lugar: cuadra {i % 40}<br/>señal]]>"
    desc += "</description>"
    return f"<Placemark><name>Hurto {i % 9}</name>{desc}{when}{data}{geometry}</Placemark>"


def _kml_text(n: int, *, late_name: bool = False) -> str:
    """A KML document of ``n`` placemarks in nested folders (some repeated: duplicates)."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<kml xmlns="http://www.opengis.net/kml/2.2">',
    ]
    parts.append("<Document><name>Denuncias</name><Style id='s'><IconStyle/></Style>")
    parts.append("<Placemark><name>suelta</name><Point><coordinates>-78.5,-7.17</coordinates>")
    parts.append("</Point></Placemark>")
    parts.append("<NetworkLink><name>remoto</name></NetworkLink>")
    for f in range(0, n, 250):
        name = f"<name>HURTOS {f // 250}</name>"
        parts.append("<Folder>" + ("" if late_name else name))
        parts.append("<Folder><name>Marzo</name>" if f % 500 == 0 else "<Folder>")
        parts.extend(_placemark(i) for i in range(f, min(f + 250, n)))
        parts.append("</Folder>")
        parts.append("<Folder><name/><Placemark><name>sin carpeta</name></Placemark></Folder>")
        parts.append(("" if not late_name else name) + "</Folder>")
    # placemarks outside the walk (inside another element): not read, as a whole read
    parts.append("<Schema><Placemark><name>oculta</name></Placemark></Schema>")
    parts.extend(_placemark(i) for i in range(0, n, 7))  # repeated: duplicates
    parts.append(
        "<Placemark><name>última</name><ExtendedData><Data name='SOLO_AL_FINAL'><value>x"
        "</value></Data></ExtendedData><Point><coordinates>-78.51,-7.16</coordinates></Point>"
        "</Placemark>"
    )
    parts.append("</Document></kml>")
    return "\n".join(parts)


@pytest.fixture(scope="module")
def kml_files(tmp_path_factory) -> dict[str, Path]:
    import zipfile

    folder = tmp_path_factory.mktemp("kml")
    plain = folder / "denuncias.kml"
    plain.write_text(_kml_text(2_500), encoding="utf-8")
    kmz = folder / "denuncias.kmz"
    with zipfile.ZipFile(kmz, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("otra.kml", _kml_text(600))
        zf.writestr("doc.kml", _kml_text(1_500))
        zf.writestr("__MACOSX/doc.kml", "basura")
    late = folder / "tarde.kml"
    late.write_text(_kml_text(600, late_name=True), encoding="utf-8")
    return {"kml": plain, "kmz": kmz, "late": late}


def _kml_same(tables: list, whole) -> None:
    _same_tables(tables, whole)
    for name in ("geom_x", "geom_y", "geom_problem"):
        joined = np.concatenate([getattr(t, name) for t in tables])
        np.testing.assert_array_equal(joined, getattr(whole, name), err_msg=name)
    assert all(t.crs == whole.crs for t in tables)


def test_kml_read_whole_is_hostile(kml_files):
    from parsc_geo.io.kml import read_kml

    whole = read_kml(kml_files["kml"])
    data = whole.data
    assert len(data) == 1 + 2_500 + 10 + 358 + 1
    assert {"MODALIDAD", "nota", "ID_0", "ID_1", "ID_2", "name_DATA", "Lugar", "SOLO_AL_FINAL"} <= (
        set(data.columns)
    )
    assert data["FOLDER_PATH"].tolist()[1] == "HURTOS 0 / Marzo"
    assert "oculta" not in set(data["NAME"])
    assert {"MultiGeometry con 2 puntos", "LineString", "empty", ""} <= set(whole.geom_problem)
    assert "NetworkLink" in whole.info["warnings"][0]
    kmz = read_kml(kml_files["kmz"])
    assert kmz.info["kml_files"] == {"doc.kml": 1_500 + 6 + 215 + 2, "otra.kml": 600 + 3 + 86 + 2}
    assert list(kmz.data["KML_FILE"].unique()) == ["doc.kml", "otra.kml"]


@pytest.mark.parametrize(
    ("name", "rows"), [("kml", 1), ("kml", 100), ("kml", 100_000), ("kmz", 7), ("kmz", 1_000)]
)
def test_kml_by_chunks_gives_the_whole_read(kml_files, name, rows):
    from parsc_geo.io.kml import KmlFile, read_kml

    path = kml_files[name]
    whole = read_kml(path)
    reader = KmlFile(path)
    tables = list(reader.chunks(rows))
    assert reader.whole_reason is None
    assert len(tables) == max(1, -(-len(whole.data) // rows))
    _kml_same(tables, whole)
    for k in [*sorted({0, len(tables) // 2, len(tables) - 1}), 0]:
        again = reader.chunk(k)
        pd.testing.assert_frame_equal(again.data, tables[k].data)
        np.testing.assert_array_equal(again.source_row, tables[k].source_row)
    reader.release()


def test_kml_a_folder_named_after_its_placemarks_is_read_whole(kml_files):
    from parsc_geo.io.kml import KmlFile, read_kml

    path = kml_files["late"]
    whole = read_kml(path)
    assert whole.data["FOLDER_PATH"].tolist()[1].startswith("HURTOS 0")
    reader = KmlFile(path)
    tables = list(reader.chunks(100))
    assert reader.whole_reason is not None and "carpeta" in reader.whole_reason
    assert len(tables) == 1
    _kml_same(tables, whole)


def test_kml_unsafe_or_broken_files_fail_as_read_whole(tmp_path, monkeypatch):
    import zipfile

    from parsc_geo._errors import InputDataError
    from parsc_geo.io import kml
    from parsc_geo.io.kml import KmlFile, read_kml

    # a zip bomb (the limits lowered: 2 MiB of blanks expand 1,000 times)
    monkeypatch.setattr(kml, "RATIO_FROM_BYTES", 2**20)
    zip_bomb = tmp_path / "bomba.kmz"
    with zipfile.ZipFile(zip_bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("doc.kml", "<kml><Document>" + " " * 2**21 + "</Document></kml>")

    bomb = tmp_path / "bomba.kml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><kml><Document><Placemark><name>&b;</name>'
        "</Placemark></Document></kml>",
        encoding="utf-8",
    )
    external = tmp_path / "externa.kml"
    external.write_text(
        '<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<kml><Document><Placemark><name>&x;</name></Placemark></Document></kml>",
        encoding="utf-8",
    )
    broken = tmp_path / "rota.kml"
    broken.write_text("<kml><Document><Placemark><name>x</name></Document>", encoding="utf-8")
    for path in (bomb, external, broken, zip_bomb):
        with pytest.raises(InputDataError) as whole:
            read_kml(path)
        reader = KmlFile(path)
        with pytest.raises(InputDataError) as streamed:
            list(reader.chunks(10))
        assert str(streamed.value) == str(whole.value)
        assert reader.whole_reason is not None


@pytest.mark.parametrize("name", ["kml", "kmz"])
def test_kml_ingested_by_chunks(kml_files, name, tmp_path, monkeypatch):
    from parsc_geo.io import kml
    from parsc_geo.io.kml import KmlFile

    read: list[int] = []
    chunks = KmlFile.chunks

    def spying(self, rows):
        read.append(rows)
        return chunks(self, rows)

    monkeypatch.setattr(KmlFile, "chunks", spying)
    path = kml_files[name]
    # a KMZ is chosen by the size of its documents, not of the archive (10-30 times less)
    threshold = path.stat().st_size + 1 if name == "kmz" else 0
    if name == "kmz":
        import zipfile

        with zipfile.ZipFile(path) as zf:
            expanded = sum(len(zf.read(n)) for n in ("doc.kml", "otra.kml"))
        assert kml.document_bytes(path) == expanded > 3 * threshold
    monkeypatch.setattr(kml, "STREAM_MIN_BYTES", threshold)
    monkeypatch.setattr(kml, "CHUNK_PLACEMARKS", 100)
    _ingest_same(path, tmp_path, monkeypatch)
    # streamed in the spilled ingestion only (a distributed run's); read at once otherwise
    assert read == [100]


# --- GeoJSON (and GeoPackage) layers by chunks of features ---------------------------------


def _feature(i: int) -> dict:
    """A GeoJSON feature of every kind in turn: nulls, nested values, odd geometries."""
    lat, lon = point(i % 300)
    k = i % 12
    props: dict = {
        "ID": None if k == 1 else f"G{i % 2_900}",  # ids repeated at the end: duplicates
        "FECHA": f"2020-03-{1 + i % 28:02d}" if k != 2 else None,
        "HORA": f"1{i % 10}:{i % 60:02d}",
        "MODALIDAD": ["Hurto", "Robo", "Extorsión"][i % 3],
        "DESCRIPCION": "=cmd|' /C calc'!A0" if k == 3 else f"cuadra {i} Núñez",
        # an integer and a boolean with missing values in a few features only
        "NUM": None if i % 997 == 0 else i,
        "VERIFICADO": None if i % 1_301 == 0 else bool(i % 2),
        "DETALLE": {"a": i % 5, "b": [1, 2]} if k == 4 else None,
    }
    geometry: dict | None = {"type": "Point", "coordinates": [lon, lat]}
    if k == 5:
        geometry = None
    elif k == 6:
        geometry = {"type": "LineString", "coordinates": [[lon, lat], [lon + 0.01, lat]]}
    elif k == 7:
        geometry = {"type": "MultiPoint", "coordinates": [[lon, lat]]}
    elif k == 8:
        geometry = {"type": "MultiPoint", "coordinates": [[lon, lat], [lon, lat + 0.01]]}
    elif k == 9:
        geometry = {"type": "Point", "coordinates": [lat, lon]}  # swapped
    return {"type": "Feature", "properties": props, "geometry": geometry}


@pytest.fixture(scope="module")
def geojson_file(tmp_path_factory) -> Path:
    import json

    features = [_feature(i) for i in range(3_000)]
    path = tmp_path_factory.mktemp("geojson") / "denuncias.geojson"
    document = {"type": "FeatureCollection", "name": "denuncias", "features": features}
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def _vector_same(tables: list, whole) -> None:
    data = pd.concat([t.data for t in tables], ignore_index=True)
    pd.testing.assert_frame_equal(data, whole.data)
    assert data.map(repr).equals(whole.data.map(repr))  # 1.0 is not 1, nor True
    for name in ("source_row", "geom_x", "geom_y", "geom_problem"):
        joined = np.concatenate([getattr(t, name) for t in tables])
        np.testing.assert_array_equal(joined, getattr(whole, name), err_msg=name)
    assert all(t.info == whole.info and t.crs == whole.crs for t in tables)


def _geopackage(geojson_file: Path, path: Path, **renamed: str) -> Path:
    """Write the GeoJSON file's features as a GeoPackage layer."""
    import geopandas as gpd

    layer = gpd.read_file(geojson_file)
    # integers and booleans with missing values, as GeoPackage stores them
    layer["NUM"] = layer["NUM"].astype("Int64")
    layer["VERIFICADO"] = layer["VERIFICADO"].astype("boolean")
    layer.rename(columns=renamed).to_file(path)
    return path


def test_vector_layer_by_chunks_gives_the_whole_read(geojson_file, tmp_path):
    from parsc_geo.io.vector import VectorFile, read_vector

    path = _geopackage(geojson_file, tmp_path / "denuncias.gpkg")
    whole = read_vector(path)
    # the whole layer: integers and booleans with a missing value are decimals
    assert {repr(v) for v in whole.data["NUM"].iloc[:3]} == {"''", "1.0", "2.0"}
    assert {"LineString", "MultiPoint with several points", "empty"} <= set(whole.geom_problem)
    for rows in (100, 999, 2_999):
        reader = VectorFile(path)
        tables = list(reader.chunks(rows))
        assert len(tables) == -(-3_000 // rows)
        _vector_same(tables, whole)
        again = reader.chunk(len(tables) - 1)
        pd.testing.assert_frame_equal(again.data, tables[-1].data)


def _spy_open_arrow(monkeypatch) -> list[dict]:
    """Record the keyword arguments of every Arrow stream pyogrio opens."""
    import pyogrio

    opened: list[dict] = []
    open_arrow = pyogrio.open_arrow

    def spying(*args, **kwargs):
        opened.append(kwargs)
        return open_arrow(*args, **kwargs)

    monkeypatch.setattr(pyogrio, "open_arrow", spying)
    return opened


def test_a_large_geojson_file_is_streamed_in_one_pass(geojson_file, monkeypatch):
    from parsc_geo.io import vector
    from parsc_geo.io.vector import VectorFile, read_vector

    whole = read_vector(geojson_file)
    assert {repr(v) for v in whole.data["NUM"].iloc[:3]} == {"''", "1.0", "2.0"}
    assert repr(whole.data["DETALLE"].iloc[4]) == "{'a': 4, 'b': [1, 2]}"
    # a small file is read at once; a large one too, unless streaming is asked for
    opened = _spy_open_arrow(monkeypatch)
    assert geojson_file.stat().st_size < vector.GEOJSON_STREAM_MIN_BYTES
    reader = VectorFile(geojson_file, stream=True)
    assert len(list(reader.chunks(100))) == 1 and opened == []
    monkeypatch.setattr(vector, "GEOJSON_STREAM_MIN_BYTES", 0)
    assert len(list(VectorFile(geojson_file).chunks(100))) == 1 and opened == []
    for rows in (100, 999, 2_999):
        opened.clear()
        reader = VectorFile(geojson_file, stream=True)
        tables = list(reader.chunks(rows))
        assert reader.whole_reason is None
        assert len(tables) == -(-3_000 // rows)
        _vector_same(tables, whole)
        # one pass over the file for the chunks (with the geometries), opened first, its
        # batches read after one pass over the fields whose missing values and JSON decide
        # their type in the whole layer
        assert [k["read_geometry"] for k in opened] == [True, False]
        assert opened[1]["columns"] == ["NUM", "VERIFICADO", "DETALLE"]
        assert opened[0]["batch_size"] == rows
        # a chunk read again: onwards in an open stream, from the start for an earlier one
        last = len(tables) - 1
        for k in (last - 1, last, 0):
            pd.testing.assert_frame_equal(reader.chunk(k).data, tables[k].data)
        assert len(opened) == 4  # chunk(last - 1) opened one stream, chunk(0) another
        reader.release()


def test_a_geojson_file_streamed_or_a_geopackage_layer_by_chunks_is_ingested_as_whole(
    geojson_file, tmp_path, monkeypatch
):
    from parsc_geo.io import vector

    opened = _spy_open_arrow(monkeypatch)
    monkeypatch.setattr(vector, "CHUNK_FEATURES", 700)
    monkeypatch.setattr(vector, "GEOJSON_STREAM_MIN_BYTES", 0)
    _ingest_same(geojson_file, tmp_path, monkeypatch)
    # held: read at once; spilled (a distributed run's): one stream for the chunks (opened
    # first), a first pass over the counted fields, one more stream for the chunks that hold
    # duplicates
    assert [k["read_geometry"] for k in opened] == [True, False, True]
    assert all(k["batch_size"] == 700 for k in opened)

    read = spy_chunk_at(monkeypatch)
    _ingest_same(_geopackage(geojson_file, tmp_path / "denuncias.gpkg"), tmp_path, monkeypatch)
    # read whole once (the reference), then by chunks twice (held, spilled), and again
    # the chunks that hold duplicates
    assert read[0] == (0, None)
    assert read[1:6] == [(k * 700, 700) for k in range(5)]


def _typed_feature(i: int) -> dict:
    """A GeoJSON feature with a field of every type GDAL reads in a GeoJSON file.

    The values that decide a field's type in the whole layer come late (a missing integer,
    a second time zone, a JSON field's text), after the first chunks.
    """
    props = {
        "FECHA": None if i % 7 == 3 else f"2020-03-{1 + i % 28:02d}",
        "FECHA_HORA": None if i % 11 == 4 else f"2020-03-01T{i % 24:02d}:{i % 60:02d}:05",
        "CON_ZONA": f"2020-03-01T10:{i % 60:02d}:05-05:00",
        "ZONAS": f"2020-03-01T10:{i % 60:02d}:05" + ("-05:00" if i < 2_500 else "+01:00"),
        "ZONA_O_NO": f"2020-03-01T10:{i % 60:02d}:05.250" + ("" if i < 2_990 else "Z"),
        "HORA": f"{i % 24:02d}:{i % 60:02d}:05",
        "BOOL": bool(i % 2),
        "BOOL_NULOS": None if i == 2_950 else bool(i % 3),
        "ENTERO": i,
        "ENTERO_NULOS": None if i == 2_960 else i * 2,
        "GRANDE": 2**40 + i,
        "DECIMAL": i / 3,
        "DECIMAL_ENTERO": float(i),
        "TEXTO": "=cmd|' /C calc'!A0" if i % 5 == 0 else f"señora Núñez {i}",
        "OBJETO": {"a": i, "b": [1, "ñ"]} if i % 3 else None,
        "OBJETO_O_TEXTO": {"a": i} if i != 2_970 else "texto",
        "ENTEROS": [i, 2] if i % 4 else None,
        "DECIMALES": [1.5, float(i)],
    }
    geometry = {"type": "Point", "coordinates": [-77 + i / 1e4, -12]} if i % 9 else None
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _write_geojson(path: Path, features: list[dict]) -> Path:
    import json

    document = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_streamed_geojson_file_gives_the_whole_read_of_every_field_type(tmp_path, monkeypatch):
    import pyogrio

    from parsc_geo.io import vector
    from parsc_geo.io.vector import VectorFile, read_vector

    path = _write_geojson(tmp_path / "tipos.geojson", [_typed_feature(i) for i in range(3_000)])
    info = pyogrio.read_info(path)
    assert {str(t) for t in info["ogr_types"]} == {
        "OFTDate", "OFTDateTime", "OFTTime", "OFTInteger", "OFTInteger64", "OFTReal",
        "OFTString", "OFTIntegerList", "OFTRealList",
    }  # fmt: skip
    with pytest.warns(UserWarning, match="OBJETO_O_TEXTO"):
        whole = read_vector(path)
    row = whole.data.iloc[0].map(repr)
    # what the whole read makes of each type (decided over the whole layer)
    assert row["FECHA"] == "Timestamp('2020-03-01 00:00:00')"
    assert row["CON_ZONA"] == "Timestamp('2020-03-01 10:00:05-0500', tz='UTC-05:00')"
    assert row["ZONAS"] == "Timestamp('2020-03-01 15:00:05+0000', tz='UTC')"
    assert row["ZONA_O_NO"] == "Timestamp('2020-03-01 10:00:05.250000+0000', tz='UTC')"
    assert row["HORA"] == "datetime.time(0, 0, 5)"
    assert (row["BOOL"], row["BOOL_NULOS"], row["ENTERO"], row["ENTERO_NULOS"]) == (
        "False", "0.0", "0", "0.0"
    )  # fmt: skip
    assert row["OBJETO_O_TEXTO"] == "'{ \"a\": 0 }'"
    assert repr(whole.data["OBJETO"].iloc[1]) == "{'a': 1, 'b': [1, 'ñ']}"
    monkeypatch.setattr(vector, "GEOJSON_STREAM_MIN_BYTES", 0)
    for rows in (100, 999, 2_999):
        reader = VectorFile(path, stream=True)
        tables = list(reader.chunks(rows))
        assert reader.whole_reason is None and len(tables) == -(-3_000 // rows)
        _vector_same(tables, whole)


def test_a_geojson_file_the_stream_cannot_read_is_read_whole(tmp_path, monkeypatch):
    from parsc_geo._errors import InputDataError
    from parsc_geo.io import vector
    from parsc_geo.io.vector import VectorFile, read_vector

    opened = _spy_open_arrow(monkeypatch)
    monkeypatch.setattr(vector, "GEOJSON_STREAM_MIN_BYTES", 0)
    features = [_feature(i) for i in range(300)]
    for i, feature in enumerate(features):
        feature["properties"]["ETIQUETAS"] = ["a", f"ñ{i}"]  # a list of texts
    path = _write_geojson(tmp_path / "listas.geojson", features)
    reader = VectorFile(path, stream=True)
    tables = list(reader.chunks(100))
    # the stream opened finds the list, then the file is read whole
    assert len(tables) == 1 and len(opened) == 1
    assert "ETIQUETAS" in str(reader.whole_reason)
    _vector_same(tables, read_vector(path))
    assert reader.chunk(0) is tables[0]
    # a file GDAL cannot open: read whole, which says why
    broken = tmp_path / "roto.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [{"type": ', encoding="utf-8")
    reader = VectorFile(broken, stream=True)
    with pytest.raises(InputDataError, match="no se puede leer el archivo como capa vectorial"):
        list(reader.chunks(100))
    assert reader.whole_reason is not None


def test_a_layer_whose_names_cannot_be_written_in_sql_is_read_whole(
    geojson_file, tmp_path, monkeypatch
):
    # the missing integers are counted by OGR SQL; a field named with a quote or a backslash
    # is never written into it (OGR SQL has no escape for them): the layer is read whole
    import pyogrio

    from parsc_geo.io.vector import VectorFile, read_vector

    queries: list[str] = []
    read_dataframe = pyogrio.read_dataframe

    def spying(*args, **kwargs):
        if kwargs.get("sql"):
            queries.append(kwargs["sql"])
        return read_dataframe(*args, **kwargs)

    monkeypatch.setattr(pyogrio, "read_dataframe", spying)
    # a plain name is counted in SQL
    path = _geopackage(geojson_file, tmp_path / "simple.gpkg")
    assert len(list(VectorFile(path).chunks(100))) == 30
    assert len(queries) == 1 and '"NUM"' in queries[0]
    queries.clear()
    for name in ('NUM") AS c0 FROM "otra', "NUM\\"):
        path = _geopackage(geojson_file, tmp_path / "rara.gpkg", NUM=name)
        whole = read_vector(path)
        assert name in whole.data.columns
        tables = list(VectorFile(path).chunks(100))
        assert len(tables) == 1
        _vector_same(tables, whole)
        assert queries == []
        path.unlink()
