"""Hostile incident files for fuzzing the ingestion (CSV and KML/KMZ), and the checks of a run.

Used by ``tests/fuzz/test_fuzz_ingest.py`` (a short seeded run in the suite) and by
``benchmarks/fuzz_ingest.py`` (a long run). A generated file knows what it should give: its
data rows (``expected_rows``) when it was not mutated, so the checks can compare the rows read
with the rows written, independently of the reader.

The properties checked on every file (:func:`check_file`):

1. ``validate`` never exits 1 (an internal error) and prints no traceback: 0, or a data (3) or
   configuration (4) error with a message.
2. When it exits 0: rows read = accepted + quarantined, for the file and in total.
3. For CSV: the physical lines the reader counted equal the lines of the file counted here
   (``\\r\\n``, ``\\n`` and ``\\r`` ends), and they add up: lines above the header + header +
   blank lines + lines of rows.
4. When the file was not mutated, rows read = rows written (a quoted cell over several lines
   is one row); when its only damage is stray quotes in cells without quotes or line ends,
   the same: a stray quote loses no row.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from hypothesis import strategies as st

HEADER = ["ID", "FECHA", "HORA", "MODALIDAD", "LATITUD", "LONGITUD", "DESCRIPCION"]
#: Cells that are valid somewhere in Cajamarca's data.
GOOD = {
    "FECHA": ["05/03/2020", "2020-03-06", "7 de marzo de 2020", "1583366400000", "05/03"],
    "HORA": ["20:30", "8:05 pm", "2030", "", "25:99"],
    "MODALIDAD": ["HURTO", "ROBO AGRAVADO", "VIOL. FAM", "COACCIÓN", "Extorsión"],
    "LATITUD": ["-7.1634", "-7,1603", "-7.17", "7°09'36\"S", "9207000"],
    "LONGITUD": ["-78.5", "-78,5130", "-78.51", "775000", "-78.49"],
}
#: Text that has broken parsers, spreadsheets or date code before.
HOSTILE = [
    "",
    '"',
    '""',
    '"abierto',
    "a;b,c|d\te",
    '=HYPERLINK("x")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\x00",
    "\u2028",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "05/03/3020",
    "05/03/0202",
    "9999999999999",
    "31/02/2020",
    "NaN",
    "1e309",
    "-0",
    "0",
    "99999999999999999999999",
    "{{7*7}}",
    "<script>",
    "x" * 300,
    "ñÑáé",
]
_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass
class Sample:
    """A generated file: its name, bytes, encoding, and the data rows it holds if intact."""

    name: str
    data: bytes
    encoding: str
    expected_rows: int | None
    kind: str
    header_row: int = 1


def physical_lines(text: str) -> int:
    """Count the lines of a text as the CSV reader must (a last line end ends no line)."""
    if not text:
        return 0
    parts = _LINE_END.split(text)
    return len(parts) - 1 if parts[-1] == "" else len(parts)


def _cell(column: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(GOOD.get(column, ["D1", "texto"])),
        st.sampled_from(HOSTILE),
        st.text(st.characters(exclude_categories=("Cs",)), max_size=12),
    )


@st.composite
def csv_samples(draw: st.DrawFn) -> Sample:
    """A CSV file: random cells, delimiter, encoding, title rows, and maybe mutations."""
    n = draw(st.integers(0, 25))
    rows = [[draw(_cell(c)) if c != "ID" else f"F{i}" for c in HEADER] for i in range(n)]
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    buf = io.StringIO()
    # "\r\n" as terminator makes the writer quote every cell holding "\r" or "\n"
    writer = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    titles = draw(st.integers(0, 2))
    for t in range(titles):
        buf.write(f"REPORTE DE DENUNCIAS {t}\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(row)
    text = buf.getvalue()
    if draw(st.booleans()):
        text = text.replace("\r\n", "\n")
    mutation = draw(st.sampled_from(["none", "stray_quote", "extra_field", "bytes", "cut"]))
    expected: int | None = n
    if mutation == "stray_quote" and n:
        clean = all('"' not in c and "\n" not in c and "\r" not in c for r in rows for c in r)
        if clean and sep not in "".join("".join(r) for r in rows):
            lines = text.split("\n")
            k = titles + 1 + draw(st.integers(0, n - 1))
            field = draw(st.integers(1, len(HEADER) - 1))
            cells = lines[k].split(sep)
            cells[field] = '"' + cells[field]
            lines[k] = sep.join(cells)
            text = "\n".join(lines)
        else:
            expected = None
    elif mutation == "extra_field" and n:
        lines = text.split("\n")
        k = titles + 1 + draw(st.integers(0, n - 1))
        lines[k] = lines[k].rstrip("\r") + sep + "SOBRA"
        text = "\n".join(lines)
        expected = None
    elif mutation != "none":
        expected = None
    data = text.encode(encoding, errors="replace")
    if mutation == "bytes" and data:
        pos = draw(st.integers(0, len(data) - 1))
        data = data[:pos] + draw(st.binary(min_size=1, max_size=8)) + data[pos:]
    elif mutation == "cut" and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    return Sample("fuzz.csv", data, encoding, expected, "csv", titles + 1)


@st.composite
def _placemark(draw: st.DrawFn, i: int) -> str:
    name = escape(draw(st.one_of(st.sampled_from(GOOD["MODALIDAD"]), st.sampled_from(HOSTILE))))
    geometry = draw(
        st.sampled_from(["point", "point", "bad_point", "empty", "polygon", "multi", "multi1"])
    )
    lon = draw(st.floats(-78.8, -78.2))
    lat = draw(st.floats(-7.4, -6.9))
    coords = f"{lon},{lat},0"
    geo = {
        "point": f"<Point><coordinates>{coords}</coordinates></Point>",
        "bad_point": f"<Point><coordinates>{escape(draw(st.sampled_from(HOSTILE)))}"
        "</coordinates></Point>",
        "empty": "",
        "polygon": f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{coords} {coords} "
        f"{coords}</coordinates></LinearRing></outerBoundaryIs></Polygon>",
        "multi": f"<MultiGeometry><Point><coordinates>{coords}</coordinates></Point>"
        f"<Point><coordinates>{coords}</coordinates></Point></MultiGeometry>",
        "multi1": f"<MultiGeometry><Point><coordinates>{coords}</coordinates></Point>"
        "</MultiGeometry>",
    }[geometry]
    data = ""
    if draw(st.booleans()):
        key = draw(st.sampled_from(["FECHA", "HORA", "N° DENUNCIA", "DESCRIPCION", "x y"]))
        value = escape(draw(st.one_of(st.sampled_from(GOOD["FECHA"]), st.sampled_from(HOSTILE))))
        data = (
            f"<ExtendedData><Data name={quoteattr(key)}><value>{value}</value></Data>"
            "</ExtendedData>"
        )
    desc = ""
    if draw(st.booleans()):
        desc = f"<description><![CDATA[FECHA: 05/03/2020<br>{i}]]></description>"
    return f"<Placemark><name>{name}</name>{desc}{data}{geo}</Placemark>"


@st.composite
def kml_samples(draw: st.DrawFn) -> Sample:
    """A KML or KMZ file: nested folders, hostile names and geometries, maybe mutated."""
    n = draw(st.integers(0, 12))
    depth = draw(st.integers(0, 40))
    marks = [draw(_placemark(i)) for i in range(n)]
    folders_open = "".join(
        f"<Folder><name>{escape(draw(st.sampled_from([*HOSTILE, 'HURTOS'])))}</name>"
        for _ in range(depth)
    )
    body = folders_open + "".join(marks) + "</Folder>" * depth
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>' + body + "</Document></kml>"
    )
    data = text.encode("utf-8")
    expected: int | None = n
    mutation = draw(st.sampled_from(["none", "none", "cut", "bytes"]))
    if mutation == "cut" and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
        expected = None
    elif mutation == "bytes" and data:
        pos = draw(st.integers(0, len(data) - 1))
        data = data[:pos] + draw(st.binary(min_size=1, max_size=6)) + data[pos:]
        expected = None
    if draw(st.booleans()):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("doc.kml", data)
            if draw(st.booleans()):
                zf.writestr("capas/otra.kml", text.encode("utf-8"))
                expected = None if expected is None else expected + n
        return Sample("fuzz.kmz", buf.getvalue(), "utf-8", expected, "kml")
    return Sample("fuzz.kml", data, "utf-8", expected, "kml")


def check_file(sample: Sample, folder: Path) -> dict[str, object]:
    """Validate one sample through the CLI and assert the properties of the module docstring.

    Returns a small record (exit code, rows) for the long run's summary.
    """
    from click.testing import CliRunner

    from parsc_geo.cli.main import cli

    path = folder / sample.name
    path.write_bytes(sample.data)
    report = folder / "informe.json"
    report.unlink(missing_ok=True)
    res = CliRunner().invoke(
        cli, ["-q", "validate", str(path), "--report", str(report), "--undated", "keep"]
    )
    out = res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert res.exit_code in (0, 3, 4), (res.exit_code, out)
    assert "Traceback" not in out and "Error interno" not in out, out
    record: dict[str, object] = {"kind": sample.kind, "exit": res.exit_code}
    if res.exit_code != 0:
        return record
    rep = json.loads(report.read_text(encoding="utf-8"))
    total = rep["total"]
    assert total["rows_read"] == total["rows_accepted"] + total["rows_quarantined"], total
    for entry in rep["files"]:
        assert entry["rows_read"] == entry["rows_accepted"] + entry["rows_quarantined"], entry
    entry = rep["files"][0]
    record["rows"] = entry["rows_read"]
    fmt = entry["format"]
    if sample.kind == "csv":
        text = sample.data.decode(fmt["encoding"] if "fallback" not in fmt else "utf-8", "replace")
        if fmt["encoding"] in ("utf-8", "utf-8-sig") and "encoding_fallback" not in fmt:
            assert fmt["lines"] == physical_lines(text.lstrip("\ufeff")), (fmt, text[:200])
        assert (
            fmt["lines_above_header"] + fmt["header_lines"] + fmt["blank_lines"] + fmt["row_lines"]
            == fmt["lines"]
        ), fmt
        if fmt["multiline_rows"] == 0:
            assert entry["rows_read"] == fmt["row_lines"], fmt
    if sample.expected_rows is not None:
        if sample.kind == "csv":
            assert fmt["header_row"] == sample.header_row, (fmt, sample)
        assert entry["rows_read"] == sample.expected_rows, (entry["rows_read"], sample)
    return record
