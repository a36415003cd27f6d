"""No spreadsheet output holds a formula that came from data (issue 13, OWASP CSV injection).

A hostile run (sector names and crime labels that are formulas, a row whose coordinate is a
formula) writes every CSV and XLSX of the monthly chain; each is reopened with ``csv`` and
openpyxl and every cell checked. Numbers must come out unchanged.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from parsc_geo.cli.main import cli
from parsc_geo.datasets import sample_paths
from parsc_geo.io.tables import is_formula_like, neutralise_cell, neutralise_frame

HYPERLINK = '=HYPERLINK("http://evil.example/x","clic")'
HOSTILE_SUBSECTORS = [HYPERLINK, "-2+3+cmd|' /C calc'!A0", "\tTAB=1+1", "\r=1+1"]
HOSTILE_SECTOR = "@SUM(1,1)"
HOSTILE_COMISARIA = "+CMD|' /C calc'!A0"
HOSTILE_LABEL = "=1+1 ROBO"
HOSTILE_DESCRIPTION = "=cmd|' /C calc'!A0"


def dangerous(value: object) -> bool:
    """Whether a CSV cell would be evaluated as a formula by a spreadsheet program."""
    return isinstance(value, str) and is_formula_like(value)


# -- the neutraliser --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1+1", "'+1+1"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=1+1", "'=1+1"),  # already neutral: applying twice changes nothing
        ("SECTOR 1", "SECTOR 1"),
        ("a=1", "a=1"),
        ("", ""),
        ("-7.16", "-7.16"),  # text that is a plain number stays a number
        ("+3", "+3"),
        ("-1e-05", "-1e-05"),
        ("-3,5", "-3,5"),
        ("-", "'-"),
        ("-∞", "'-∞"),
        (-7.16, -7.16),
        (np.int64(-3), np.int64(-3)),
        (None, None),
    ],
)
def test_neutralise_cell(value, expected):
    assert neutralise_cell(value) == expected


def test_neutralise_frame_changes_text_only():
    frame = pd.DataFrame(
        {
            "=nombre": ["=A1", "ok", None],
            "n": [-1, 2, 3],
            "x": [-7.5, 0.0, np.nan],
            "cat": pd.Categorical(["@a", "b", "b"]),
            "s": pd.array(["+x", None, "y"], dtype="string"),
        }
    )
    out = neutralise_frame(frame)
    assert list(out.columns) == ["'=nombre", "n", "x", "cat", "s"]
    assert out.iloc[:2, 0].tolist() == ["'=A1", "ok"] and pd.isna(out.iloc[2, 0])
    pd.testing.assert_series_equal(out["n"], frame["n"])
    pd.testing.assert_series_equal(out["x"], frame["x"])
    assert out["cat"].tolist() == ["'@a", "b", "b"]
    assert out["s"].tolist()[0] == "'+x" and out["s"].tolist()[2] == "y"
    assert pd.isna(out["s"].tolist()[1])
    assert frame.iloc[0, 0] == "=A1"  # the input is not changed


# -- a hostile run ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostil")
    paths = sample_paths()
    incidents = pd.read_csv(paths["incidents"], dtype=str, keep_default_na=False)
    chota = incidents[incidents["ubigeo"].str.startswith("0604")].copy()
    chota.loc[chota.index[:30], "modalidad"] = HOSTILE_LABEL
    chota.loc[chota.index[:30], "delito_especifico"] = HOSTILE_LABEL
    chota.loc[chota.index[30:60], "descripcion"] = HOSTILE_DESCRIPTION
    broken = chota.head(1).copy()
    broken["id"] = "@ROTO-1"
    broken["latitud"] = HYPERLINK
    pd.concat([chota, broken]).to_csv(folder / "chota.csv", index=False)
    sectors = gpd.read_file(paths["sectors"])
    sectors = sectors[sectors["comisaria"].str.contains("CHOTA")].copy()
    sectors["comisaria"] = HOSTILE_COMISARIA
    sectors["sector"] = [HOSTILE_SECTOR if i % 2 else s for i, s in enumerate(sectors["sector"])]
    sectors["subsector"] = [
        HOSTILE_SUBSECTORS[i] if i < len(HOSTILE_SUBSECTORS) else s
        for i, s in enumerate(sectors["subsector"])
    ]
    sectors.to_file(folder / "sectores.geojson", driver="GeoJSON")
    (folder / "run.toml").write_text(
        """
title = "Prueba hostil"
synthetic = true
[inputs]
incidents = ["chota.csv"]
sectors = "sectores.geojson"
[hotspots]
methods = ["kde", "gistar"]
[priority]
bootstrap = 10
[maps]
tiles = false
""",
        encoding="utf-8",
    )
    out = folder / "out"
    result = CliRunner().invoke(cli, ["-q", "run", str(folder / "run.toml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def spreadsheets(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.suffix in (".csv", ".xlsx"))


def csv_cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


@pytest.mark.slow
def test_no_spreadsheet_of_a_hostile_run_holds_a_formula(hostile_run):
    files = spreadsheets(hostile_run)
    names = {p.relative_to(hostile_run).as_posix() for p in files}
    # the chain's tables are all there: patrol, rankings, priority, quarantine
    for expected in (
        "patrullaje/plan_patrullaje.xlsx",
        "patrullaje/puntos_criticos.csv",
        "prioridad/territorios_priorizados.xlsx",
        "prioridad/prioridad_detalle.csv",
        "ingesta/cuarentena.csv",
    ):
        assert expected in names, sorted(names)
    assert any(n.startswith("hotspots/") and n.endswith(".xlsx") for n in names)
    in_csv, in_xlsx = set(), set()
    for path in files:
        if path.suffix == ".xlsx":
            book = load_workbook(path)  # formulas kept as formulas, not values
            for sheet in book.worksheets:
                for row in sheet.iter_rows():
                    for cell in row:
                        # XLSX: text is stored as text (never an <f> formula) and text a
                        # spreadsheet would run carries Excel's quote prefix, so that editing
                        # the cell does not turn it into a formula either
                        assert cell.data_type != "f", (path.name, cell.coordinate, cell.value)
                        if dangerous(cell.value):
                            assert cell.data_type == "s" and cell.quotePrefix, (
                                path.name,
                                cell.coordinate,
                            )
                            in_xlsx.add(cell.value)
        else:
            for value in csv_cells(path):
                # CSV: the OWASP apostrophe in front of text a spreadsheet would run
                assert not dangerous(value), (path.name, value)
                if value.startswith("'"):
                    in_csv.add(value[1:])
    # the hostile text did reach the tables, protected
    # (names are stripped of surrounding blanks when sectors are read: "\tTAB…" arrives harmless)
    for text in (HYPERLINK, HOSTILE_SECTOR, HOSTILE_COMISARIA, HOSTILE_SUBSECTORS[1]):
        assert text in in_csv, text
        assert text in in_xlsx, text


@pytest.mark.slow
def test_numbers_of_a_hostile_run_stay_numbers(hostile_run):
    points = pd.read_csv(hostile_run / "patrullaje" / "puntos_criticos.csv", encoding="utf-8-sig")
    numeric = points.select_dtypes("number")
    assert len(numeric.columns) >= 3
    # negative coordinates are written as numbers, not as "'-7.1"
    lat = next(c for c in points.columns if "lat" in c.lower())
    assert points[lat].dtype == float and (points[lat] < 0).all()
    book = load_workbook(hostile_run / "patrullaje" / "plan_patrullaje.xlsx")
    sheet = book["Puntos críticos"]
    header = [c.value for c in sheet[1]]
    column = header.index(lat) + 1
    values = [sheet.cell(row=r, column=column).value for r in range(2, sheet.max_row + 1)]
    assert values == pytest.approx(points[lat].tolist())
    report = json.loads((hostile_run / "ingesta" / "report.json").read_text(encoding="utf-8"))
    quarantine = pd.read_csv(hostile_run / "ingesta" / "cuarentena.csv", encoding="utf-8-sig")
    assert len(quarantine) == report["total"]["rows_quarantined"] >= 1
    assert (quarantine["Fila"].dtype.kind) in "iu"
    # the rejected value (latitude / longitude) is kept, neutralised
    assert quarantine["Valor"].astype(str).str.startswith("'" + HYPERLINK).any()
