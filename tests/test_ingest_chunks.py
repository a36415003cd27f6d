"""Reading by chunks gives what reading the whole file gives (issue 18, ingest at scale).

A large CSV file is read, checked and quarantined by chunks of text
(:meth:`parsc_geo.io.csv.CsvFile.chunks`, :func:`parsc_geo.ingest.ingest_files` with
``chunk_chars``). Whatever the chunk size, the rows, their cells, line numbers, problems and the
line accounting must be those of the whole file read at once (``chunk_chars=None``), and so must
the accepted rows, their ids, the quarantine and the report. The hand-made file below puts stray
quotes, quoted line breaks, blank lines and extra fields under every possible chunk boundary.

A large file is not decoded whole but read from disk a piece at a time (issue 17,
:data:`parsc_geo.io.csv.STREAM_MIN_BYTES`): every test runs twice, with the text decoded whole
and read from disk (the threshold lowered to 0), and the last tests compare the two readings of
files with every kind of line end, byte-order mark and encoding, with the blocks read from disk
cut at every byte.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _ingest_fixtures import point, spy_chunk_at

from parsc_geo._errors import InputDataError
from parsc_geo.ingest import IngestOptions, ingest_files
from parsc_geo.io import csv as csv_module
from parsc_geo.io.csv import CsvFile, read_csv


@pytest.fixture(autouse=True, params=["whole", "from_disk"])
def text_reading(request, monkeypatch) -> str:
    """Run a test with the default reading (small files decoded whole) and read from disk."""
    if request.param == "from_disk":
        monkeypatch.setattr(csv_module, "STREAM_MIN_BYTES", 0)
    return request.param


#: Physical lines of the hand-made file (1-based line numbers in the comments).
HOSTILE_LINES = [
    "fecha;modalidad;lat;lon;nota;x",  # 1 header
    "2021-03-01;Robo;-7.16;-78.51;uno;",  # 2 row
    "",  # 3 blank
    '2021-03-02;Hurto;-7.16;-78.51;"sin cierre;',  # 4 stray quote: its quote swallows row 5
    "2021-03-03;Hurto;-7.16;-78.51;tres;",  # 5 row
    '"',  # 6 row over lines 6-7: a quoted line break, first line short ("\r0" as csv writes it)
    '0";;;;;',  # 7
    '2021-03-04;Robo;-7.16;-78.51;"línea uno',  # 8 row over lines 8-9: a note over two lines
    'línea dos";',  # 9
    "2021-03-05;Robo;-7.16;-78.51;extra;;SOBRA",  # 10 a field more than the header
    '2021-03-06;Robo;-7.16;-78.51;"a"b;',  # 11 a quote in the middle of a cell: read leniently
    "   ",  # 12 blank (white space only)
    '2021-03-07;Robo;-7.16;-78.51;"abierta;',  # 13 stray quote never closed
    "2021-03-08;Robo;-7.16;-78.51;fin;",  # 14 row (no line end: the file's last line)
]


def _hostile_file(tmp_path: Path) -> Path:
    path = tmp_path / "hostil.csv"
    path.write_bytes("\n".join(HOSTILE_LINES).encode("utf-8"))
    return path


def _chunked(path: Path, chunk_chars: int | None) -> tuple[list, dict]:
    reader = CsvFile(path)
    tables = list(reader.chunks(chunk_chars))
    # a chunk parsed again (to quarantine rows found later) gives the same rows, also from the
    # file decoded again once the reader let go of its text
    reader.release()
    for k in (0, len(tables) - 1):
        again = reader.chunk(k)
        pd.testing.assert_frame_equal(again.data, tables[k].data)
        np.testing.assert_array_equal(again.line, tables[k].line)
    return tables, reader.info


def _assert_same_rows(tables: list, info: dict, whole) -> None:
    data = pd.concat([t.data for t in tables], ignore_index=True)
    pd.testing.assert_frame_equal(data, whole.data.reset_index(drop=True))
    for name in ("line", "source_row", "problem", "problem_text", "malformed"):
        joined = np.concatenate([getattr(t, name) for t in tables])
        np.testing.assert_array_equal(joined, getattr(whole, name), err_msg=name)
    assert info == whole.info


def test_hand_made_file_read_whole(tmp_path):
    # what the rules of parsc_geo.io.csv give, line by line (see the comments of HOSTILE_LINES)
    whole = read_csv(_hostile_file(tmp_path))
    assert whole.line.tolist() == [2, 4, 5, 6, 8, 10, 11, 13, 14]
    assert whole.problem.tolist() == [
        "",
        "unbalanced_quote",
        "",
        "",
        "",
        "malformed_row",
        "",
        "unbalanced_quote",
        "",
    ]
    assert whole.data["fecha"].tolist()[3] == "\n0"
    assert whole.data["nota"].tolist()[4] == "línea uno\nlínea dos"
    assert whole.data["nota"].tolist()[6] == "ab"
    # 14 lines = 1 header + 2 blank (3, 12) + 11 lines of rows (2, 4-11, 13, 14)
    info = whole.info
    assert (info["lines"], info["header_lines"], info["blank_lines"]) == (14, 1, 2)
    assert (info["row_lines"], info["multiline_rows"]) == (11, 2)


def test_every_chunk_boundary_gives_the_whole_file(tmp_path):
    path = _hostile_file(tmp_path)
    whole = read_csv(path)
    size = len(path.read_text(encoding="utf-8"))
    counts = set()
    for chunk_chars in range(1, size + 2):
        tables, info = _chunked(path, chunk_chars)
        counts.add(len(tables))
        _assert_same_rows(tables, info, whole)
    # from one line per chunk (13 lines below the header; the rows over lines 6-7 and 8-9 are
    # one chunk each: 13 - 2 = 11) to one chunk for the whole file
    assert max(counts) == 11
    assert min(counts) == 1


def test_stray_quote_at_the_end_of_every_chunk(tmp_path):
    # 300 rows, a quote never closed every 7 rows: with chunks of about 5 rows, stray quotes
    # fall at the start, the middle and the end of chunks, and their swallowed lines run past them
    lines = ["ID,FECHA,HORA,MODALIDAD,LATITUD,LONGITUD,DESCRIPCION"]
    stray = set(range(3, 300, 7))
    for i in range(300):
        lat, lon = point(i)
        desc = f'"robo {i}' if i in stray else f"robo {i}"
        lines.append(f"D{i},05/03/2020,10:{i % 60:02d},Hurto,{lat},{lon},{desc}")
    path = tmp_path / "comillas.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole = read_csv(path)
    # each stray quote is set aside on its own line (row i is line i + 2); no row is lost
    assert len(whole.data) == 300
    assert whole.line[whole.problem == "unbalanced_quote"].tolist() == [
        i + 2 for i in sorted(stray)
    ]
    row_chars = len(lines[1]) + 1
    for chunk_chars in (1, row_chars - 3, 5 * row_chars, 5 * row_chars + 17, 10_000):
        tables, info = _chunked(path, chunk_chars)
        _assert_same_rows(tables, info, whole)


def test_a_file_changed_while_read_is_an_input_error(tmp_path):
    path = _hostile_file(tmp_path)
    reader = CsvFile(path)
    list(reader.chunks(40))
    reader.release()
    # same length, one character changed: the chunks' offsets no longer hold
    path.write_bytes(path.read_bytes().replace(b"uno", b"dos"))
    with pytest.raises(InputDataError, match="cambió mientras se leía"):
        reader.chunk(1)


def _ingest_same(paths: list[Path], chunk_chars: int, spill: Path | None = None, **kwargs) -> None:
    whole = ingest_files(paths, chunk_chars=None, **kwargs)
    chunked = ingest_files(paths, chunk_chars=chunk_chars, **kwargs)
    pd.testing.assert_frame_equal(chunked.accepted, whole.accepted)
    pd.testing.assert_frame_equal(chunked.quarantine, whole.quarantine)
    assert chunked.report == whole.report
    assert chunked.sources == whole.sources
    if spill is not None:
        _spilled_same(whole, ingest_files(paths, chunk_chars=chunk_chars, spill=spill, **kwargs))


def _spilled_same(whole, spilled) -> None:
    """The rows waiting on disk (``spill``) come back as the rows held: partitions of them."""
    from parsc_geo.partitions import rows_loaded

    assert whole.parts is None
    parts = spilled.parts
    assert parts is not None and all(p.key == "" for p in parts)
    # several partitions, each of SPILL_ROWS or more accepted rows but a file's last one
    assert sum(len(p) for p in parts) == len(whole.accepted)
    assert len(spilled.accepted) == 0 and spilled.accepted.attrs == whole.accepted.attrs
    before = rows_loaded()
    frames = [p.load() for p in parts]
    assert rows_loaded() - before == len(whole.accepted)
    assert all(f.attrs == whole.accepted.attrs for f in frames)
    joined = pd.concat(frames) if frames else spilled.accepted
    pd.testing.assert_frame_equal(joined, whole.accepted, check_index_type=False)
    assert list(joined.index) == list(range(len(whole.accepted)))
    assert str(joined.crs) == str(whole.accepted.crs)
    pd.testing.assert_frame_equal(spilled.accepted, whole.accepted.iloc[:0], check_index_type=False)
    pd.testing.assert_frame_equal(spilled.quarantine, whole.quarantine)
    assert spilled.report == whole.report
    assert spilled.sources == whole.sources


@pytest.fixture
def small_spills(monkeypatch):
    """Partitions of a few rows, so that a small file gives several (SPILL_ROWS)."""
    from parsc_geo.ingest import files

    monkeypatch.setattr(files, "SPILL_ROWS", 7)


def test_ingest_by_chunks_identical_rows_ids_quarantine(tmp_path, small_spills):
    # no id column: ids come from the content, and identical rows are ranked -2, -3 … over the
    # whole file, across chunks; duplicates found across chunks are quarantined with their text
    rows = []
    for i in range(120):
        j = i % 40  # rows i, i + 40 and i + 80 are identical
        lat, lon = point(j)
        rows.append(f"0{1 + j % 9}/03/2020;1{j % 10}:00;Hurto;{lat};{lon};cuadra {j}")
    rows[50] = '05/03/2020;10:00;Hurto;"-7,1;-78,5;abierta'  # a stray quote
    rows[77] = "05/03/2020;10:00;Hurto;0;0;isla nula"  # a per-row problem
    path = tmp_path / "sin_id.csv"
    path.write_text(
        "FECHA;HORA;MODALIDAD;LATITUD;LONGITUD;DESCRIPCION\n" + "\n".join(rows) + "\n",
        encoding="utf-8",
    )
    whole = ingest_files([path], chunk_chars=None, assign=False)
    q = whole.quarantine.set_index("source_row")
    # rows 1-40 accepted; 80 - 2 repeats are duplicates of place, time and type (rows 51 and 78
    # of the file are the stray quote and the null island)
    assert len(whole.accepted) == 40
    assert q["reason"].value_counts().to_dict() == {
        "duplicate_place_time_type": 78,
        "unbalanced_quote": 1,
        "null_island": 1,
    }
    # the second and third identical rows get the first one's content id, ranked -2 and -3
    first = whole.accepted.set_index("source_row").loc[1, "incident_id"]
    assert (q.loc[41, "value"], q.loc[81, "value"]) == (f"{first}-2", f"{first}-3")
    for chunk_chars in (1, 500, 2_000):
        _ingest_same([path], chunk_chars, tmp_path / f"s{chunk_chars}", assign=False)


def test_ingest_by_chunks_of_several_files_with_duplicate_ids(tmp_path, small_spills):
    lines = ["ID,FECHA,HORA,MODALIDAD,LATITUD,LONGITUD,DESCRIPCION"]
    for i in range(200):
        lat, lon = point(i)
        lines.append(f"D{i % 150},05/03/2020,10:{i % 60:02d},Hurto,{lat},{lon},robo {i}")
    first = tmp_path / "a.csv"
    first.write_text("\n".join(lines) + "\n", encoding="utf-8")
    second = tmp_path / "b.csv"
    # b.csv: the header and rows 120-199 of a.csv
    second.write_text("\n".join(lines[:1] + lines[121:]) + "\n", encoding="utf-8")
    whole = ingest_files([first, second], chunk_chars=None, assign=False)
    # a.csv: ids D0-D149, then D0-D49 again (50 duplicates); b.csv: all 80 rows repeat a.csv's
    assert len(whole.accepted) == 150
    assert int((whole.quarantine["reason"] == "duplicate_id").sum()) == 130
    for chunk_chars in (300, 4_000):
        _ingest_same([first, second], chunk_chars, tmp_path / f"s{chunk_chars}", assign=False)


@pytest.mark.parametrize("chunk_chars", [200_000])
def test_bundled_sample_by_chunks(chunk_chars, tmp_path, monkeypatch):
    from parsc_geo.ingest import files as ingest_module

    monkeypatch.setattr(ingest_module, "SPILL_ROWS", 4_000)
    from parsc_geo.datasets import sample_paths

    paths = sample_paths()
    files = [paths["incidents"], paths["messy_csv"]]
    # the sample's CSV files are 3-4 MB: this splits them in 15-20 chunks
    assert all(p.stat().st_size > 10 * chunk_chars for p in files)
    _ingest_same(files, chunk_chars, tmp_path / "spill", options=IngestOptions(progress=False))


def _thefts(path: Path, n: int) -> Path:
    """Write ``n`` thefts with ids D0… at the sample's points, each at its own minute."""
    lines = ["ID,FECHA,HORA,MODALIDAD,LATITUD,LONGITUD"]
    for i in range(n):
        lat, lon = point(i)
        lines.append(f"D{i},05/03/2020,10:{i % 60:02d},Hurto,{lat},{lon}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_incidents_far_from_every_station_are_warned_of_once(tmp_path, small_spills, caplog):
    # assigned a few rows at a time, the ingestion warns once, of all of them, as whole
    import logging

    path = _thefts(tmp_path / "lejos.csv", 60)
    # 10 m from a police unit: nearly every incident is farther
    options = IngestOptions(station_max_distance_m=10.0, progress=False)
    warned = []
    for spill in (None, tmp_path / "spill"):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="parsc_geo.assign"):
            result = ingest_files([path], options, chunk_chars=300, spill=spill)
        warned.append([r.getMessage() for r in caplog.records if "far_from_station" in r.msg])
        far = result.accepted.attrs["assignment"]["n_far_from_station"]
        assert 40 < far <= 60
        assert warned[-1] and warned[-1][0].startswith(f"{far} incidente(s) a más de 0.01 km")
    assert len(warned[1]) == 1 and warned[1] == warned[0]


# --- a large file read from disk a piece at a time gives the text decoded whole (issue 17) ---

#: Lines of the files below: multi-byte characters (2, 3 and 4 bytes in UTF-8, and U+200E,
#: which makes CPython store a string at 2 bytes a character), a quoted line break and a stray
#: quote, a blank line, a line of spaces, a trailing delimiter.
_TEXT_LINES = [
    "fecha;modalidad;lat;lon;nota",
    "2021-03-01;Robo;-7.16;-78.51;señal €5 \U0001f600",
    "",
    '2021-03-02;Hurto;-7.16;-78.51;"línea uno',
    'línea dos"',
    "2021-03-03;Hurto;-7.16;-78.51;marca\u200eoculta;",
    "   ",
    '2021-03-04;Robo;-7.16;-78.51;"abierta',
    "2021-03-05;Robo;-7.16;-78.51;fin",
]
#: Windows-1252 lines (no UTF-8 sequence: every accented letter is followed by ASCII).
_CP1252_LINES = [
    "fecha;modalidad;lat;lon;nota",
    "2021-03-01;Robo;-7.16;-78.51;Perú señal €5",
    "",
    '2021-03-02;Hurto;-7.16;-78.51;"línea uno',
    'línea dos"',
    "2021-03-03;Hurto;-7.16;-78.51;año;",
]


def _joined(lines: list[str], ends: list[str]) -> str:
    """Join lines with the line ends ``ends`` in turn (no end after the last line)."""
    return "".join(line + ends[i % len(ends)] for i, line in enumerate(lines[:-1])) + lines[-1]


#: Files read from disk: (bytes, the encoding decode_bytes gives).
_STREAMED = {
    "crlf": (_joined(_TEXT_LINES, ["\r\n"]).encode("utf-8"), "utf-8"),
    "crlf_final": ((_joined(_TEXT_LINES, ["\r\n"]) + "\r\n").encode("utf-8"), "utf-8"),
    "mixed_ends": ((_joined(_TEXT_LINES, ["\n", "\r\n", "\r"]) + "\r").encode("utf-8"), "utf-8"),
    "bom": (b"\xef\xbb\xbf" + _joined(_TEXT_LINES, ["\r\n", "\n"]).encode("utf-8"), "utf-8-sig"),
    "two_boms": (
        b"\xef\xbb\xbf\xef\xbb\xbf" + _joined(_TEXT_LINES, ["\n"]).encode("utf-8"),
        "utf-8-sig",
    ),
    "cp1252": (_joined(_CP1252_LINES, ["\r\n", "\r"]).encode("cp1252"), "cp1252"),
}
#: Files decoded whole whatever their size: (bytes, the encoding decode_bytes gives).
_WHOLE = {
    # UTF-8 lines and a Windows-1252 line: read line by line
    "mixed_encodings": (
        _joined(_TEXT_LINES, ["\n"]).encode("utf-8") + "\n2021;Robo;0;0;Perú".encode("cp1252"),
        "utf-8",
    ),
    # a byte Windows-1252 does not define (0x81): Latin-1
    "latin1": (_joined(_CP1252_LINES, ["\n"]).encode("cp1252") + b"\x81", "latin-1"),
    "utf16": (_joined(_TEXT_LINES, ["\r\n"]).encode("utf-16"), "utf-16"),
}


def _read_all(path: Path, chunk_chars: int | None) -> tuple[CsvFile, list, dict]:
    reader = CsvFile(path)
    tables = list(reader.chunks(chunk_chars))
    return reader, tables, reader.info


@pytest.mark.parametrize("name", sorted(_STREAMED))
def test_read_from_disk_gives_the_decoded_text(name, tmp_path, monkeypatch, text_reading):
    if text_reading == "whole":
        pytest.skip("compares both readings itself")
    data, encoding = _STREAMED[name]
    path = tmp_path / f"{name}.csv"
    path.write_bytes(data)
    # the reference: the whole file decoded at once, read as one chunk
    monkeypatch.setattr(csv_module, "STREAM_MIN_BYTES", 1 << 40)
    whole = read_csv(path)
    assert whole.info["encoding"] == encoding
    if name.startswith("crlf"):
        # the line ends are normalised: a quoted line break is "\n"
        assert whole.data["nota"].tolist()[1] == "línea uno\nlínea dos"
    monkeypatch.setattr(csv_module, "STREAM_MIN_BYTES", 0)
    # blocks read from disk of a few bytes: a block boundary falls on every byte, inside every
    # \r\n and every multi-byte character (the pass over the whole file, and the pieces)
    for scan_bytes, min_read in ((1, 1), (2, 3), (3, 2), (5, 7), (1 << 24, 1 << 16)):
        monkeypatch.setattr(csv_module, "_SCAN_BYTES", scan_bytes)
        monkeypatch.setattr(csv_module, "_MIN_READ", min_read)
        for chunk_chars in (None, 1, 2, 5, 17, 40, 101, 10_000):
            reader, tables, info = _read_all(path, chunk_chars)
            assert reader._streamed is not None  # read from disk
            _assert_same_rows(tables, info, whole)
            # a chunk parsed again from disk
            for k in (0, len(tables) - 1):
                again = reader.chunk(k)
                pd.testing.assert_frame_equal(again.data, tables[k].data)
                np.testing.assert_array_equal(again.line, tables[k].line)


@pytest.mark.parametrize("name", sorted(_WHOLE))
def test_other_encodings_are_decoded_whole(name, tmp_path, text_reading):
    data, encoding = _WHOLE[name]
    path = tmp_path / f"{name}.csv"
    path.write_bytes(data)
    reader, tables, info = _read_all(path, 7)
    assert reader._streamed is None
    assert info["encoding"] == encoding
    _assert_same_rows(tables, info, read_csv(path))


def test_blank_file_read_from_disk_is_empty(tmp_path, text_reading):
    for data in (b"", b"\xef\xbb\xbf", b" \r\n\t\r  \n"):
        path = tmp_path / "blanco.csv"
        path.write_bytes(data)
        with pytest.raises(InputDataError, match="vacío"):
            CsvFile(path)


def test_a_file_changed_between_chunks_read_from_disk(tmp_path, monkeypatch, text_reading):
    import os

    if text_reading == "whole":
        pytest.skip("a file decoded whole is not read again between chunks")
    path = _hostile_file(tmp_path)
    reader = CsvFile(path)
    chunks = reader.chunks(40)
    next(chunks)
    stat = path.stat()
    # the same bytes, a later modification time (touched, or copied over): read on
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    next(chunks)
    # the same size, one character changed: the chunks' offsets no longer hold
    path.write_bytes(path.read_bytes().replace(b"tres", b"tras"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2 * 10**9))
    with pytest.raises(InputDataError, match="cambió mientras se leía"):
        list(chunks)
    # a file that grew
    path = _hostile_file(tmp_path)
    reader = CsvFile(path)
    chunks = reader.chunks(40)
    next(chunks)
    with path.open("ab") as handle:
        handle.write(b"\n2021-03-09;Robo;-7.16;-78.51;otra;")
    with pytest.raises(InputDataError, match="cambió mientras se leía"):
        list(chunks)


def test_a_spill_folder_keeps_what_it_held_and_a_failed_ingestion_leaves_nothing(
    tmp_path, small_spills, monkeypatch
):
    # the named folder gets a folder of the ingestion's own: a file of the same name as the
    # ingestion's is not overwritten, and a failure removes what the ingestion wrote
    from parsc_geo.ingest import files as ingest_module

    path = _thefts(tmp_path / "a.csv", 40)
    spill = tmp_path / "carpeta"
    spill.mkdir()
    (spill / "filas-00001.parquet").write_text("del usuario", encoding="utf-8")
    result = ingest_files([path], chunk_chars=300, assign=False, spill=spill)
    assert result.parts and all(Path(p.path).parent.parent == spill for p in result.parts)
    assert sum(len(p) for p in result.parts) == 40
    assert (spill / "filas-00001.parquet").read_text(encoding="utf-8") == "del usuario"

    def failing(*args, **kwargs):
        raise RuntimeError("falla a propósito")

    monkeypatch.setattr(ingest_module, "_by_partitions", failing)
    before = sorted(p.name for p in spill.iterdir())
    with pytest.raises(RuntimeError, match="a propósito"):
        ingest_files([path], chunk_chars=300, assign=False, spill=spill)
    # the spilled chunks of the failed call were written, then removed with its folder
    assert sorted(p.name for p in spill.iterdir()) == before


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".zip"])
def test_a_large_vector_layer_is_read_by_chunks_of_features(tmp_path, monkeypatch, suffix):
    # a GeoPackage, Shapefile or zipped Shapefile layer of more than CHUNK_FEATURES features is
    # read a chunk of features at a time (issue 17): the same rows, ids, quarantine and
    # report as whole,
    # also with duplicates found across chunks (their chunk is read again to quarantine them)
    import geopandas as gpd

    from parsc_geo.datasets import sample_paths
    from parsc_geo.io import vector

    table = pd.read_csv(sample_paths()["incidents"], dtype=str, keep_default_na=False)
    table = table.iloc[:3_000]
    # 40 rows repeated at the end (duplicate ids across chunks), one far from Peru
    table = pd.concat([table, table.iloc[100:140]], ignore_index=True)
    lon, lat = table.pop("longitud").astype(float), table.pop("latitud").astype(float)
    lon[7], lat[7] = 10.0, 50.0  # far from Peru: quarantined
    points = gpd.points_from_xy(lon, lat)
    # a shapefile's field names have at most 10 characters
    table.columns = [c[:10] for c in table.columns]
    layer = gpd.GeoDataFrame(table, geometry=points, crs="EPSG:4326")
    path = tmp_path / f"capa{suffix}"
    if suffix == ".zip":
        _zipped_shapefile(layer, path)
    else:
        layer.to_file(path)
    read = spy_chunk_at(monkeypatch)
    whole = ingest_files([path], chunk_chars=None, assign=False)
    assert read == [(0, None)]
    assert int((whole.quarantine["reason"] == "duplicate_id").sum()) == 40
    assert whole.report["total"]["rows_read"] == 3_040
    monkeypatch.setattr(vector, "CHUNK_FEATURES", 700)
    monkeypatch.setattr(ingest_module_of_files(), "SPILL_ROWS", 1_000)
    for spill in (None, tmp_path / "spill"):
        read.clear()
        chunked = ingest_files([path], assign=False, spill=spill)
        # five chunks of 700 features, then the last one again (its duplicates' raw rows)
        assert read[:5] == [(k * 700, 700) for k in range(5)] and read[5:] == [(2_800, 700)]
        if spill is None:
            pd.testing.assert_frame_equal(chunked.accepted, whole.accepted)
        else:
            _spilled_same(whole, chunked)
        pd.testing.assert_frame_equal(chunked.quarantine, whole.quarantine)
        assert chunked.report == whole.report
        assert chunked.sources == whole.sources


def ingest_module_of_files():
    """The module of ingest_files (its SPILL_ROWS)."""
    from parsc_geo.ingest import files

    return files


def _zipped_shapefile(layer, path: Path, extra: dict[str, str] | None = None) -> Path:
    """Write ``layer`` as a Shapefile zipped into ``path`` (and ``extra`` files beside it)."""
    import zipfile

    folder = path.parent / f"{path.stem}-shp"
    folder.mkdir()
    layer.to_file(folder / "capa.shp")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member in sorted(folder.iterdir()):
            zf.write(member, member.name)
        for name, text in (extra or {}).items():
            zf.writestr(name, text)
    return path


def test_a_zip_of_another_layer_than_one_shapefile_is_read_whole(tmp_path):
    # GDAL reaches a chunk of a GeoJSON file from its start (N chunks, N readings): a zip
    # holding one (or a Shapefile and something else) is not read by chunks of features
    import geopandas as gpd

    from parsc_geo.io.vector import VectorFile

    layer = gpd.GeoDataFrame(
        {"ID": [f"A{i}" for i in range(30)]},
        geometry=gpd.points_from_xy([-78.5] * 30, [-7.1] * 30),
        crs="EPSG:4326",
    )
    alone = _zipped_shapefile(layer, tmp_path / "sola.zip")
    assert len(list(VectorFile(alone).chunks(10))) == 3
    both = _zipped_shapefile(layer, tmp_path / "dos.zip", {"otra.geojson": layer.to_json()})
    assert len(list(VectorFile(both).chunks(10))) == 1
