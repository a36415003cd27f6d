"""Hostile re-test of issue 13 on the merged fixes: new files and variants, through the CLI.

Each test reproduces a failure found by the re-test (it failed before its fix) and checks the
exit code, then reopens the outputs and checks values.
"""

from __future__ import annotations

import json
from pathlib import Path

from _ingest_fixtures import point
from click.testing import CliRunner
from openpyxl import Workbook

from parsc_geo.cli.main import cli

HEADER = ["ID", "FECHA", "HORA", "MODALIDAD", "LATITUD", "LONGITUD", "DESCRIPCION"]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def rows(n: int) -> list[list[str]]:
    out = []
    for i in range(n):
        lat, lon = point(i)
        out.append([f"R{i}", "05/03/2020", "10:00", "Hurto", str(lat), str(lon), f"robo {i}"])
    return out


def workbook(path: Path, sheets: dict[str, list[list[str]]]) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for name, table in sheets.items():
        ws = wb.create_sheet(name)
        for r in table:
            ws.append(r)
    wb.save(path)
    return path


# -- XLSX ----------------------------------------------------------------------------------------


def test_truncated_workbook_is_a_data_error_not_an_internal_one(tmp_path):
    # a workbook cut by a failed download is not a zip any more: before, exit 1 (BadZipFile)
    whole = workbook(tmp_path / "entero.xlsx", {"Datos": [HEADER, *rows(30)]})
    cut = tmp_path / "cortado.xlsx"
    cut.write_bytes(whole.read_bytes()[:3000])
    res = invoke("validate", str(cut))
    assert res.exit_code == 3, res.output
    assert "no se puede leer el libro" in res.output
    assert "Traceback" not in res.output


def test_a_second_sheet_with_complaints_is_named_not_silently_dropped(tmp_path):
    # 12 rows on the first sheet, 5 more on a second one: before, the report said nothing of
    # the 5 (rows read 12, no warning)
    path = workbook(
        tmp_path / "dos_hojas.xlsx",
        {"Enero": [HEADER, *rows(12)], "Febrero": [HEADER, *rows(5)]},
    )
    out = tmp_path / "informe.json"
    res = invoke("-q", "validate", str(path), "--report", str(out))
    assert res.exit_code == 0, res.output
    entry = json.loads(out.read_text(encoding="utf-8"))["files"][0]
    assert entry["rows_read"] == 12 == entry["rows_accepted"] + entry["rows_quarantined"]
    warning = " ".join(entry["warnings"])
    assert "'Febrero' (5 fila(s)" in warning
    assert "'Enero'" in warning  # the sheet that was read is named too


# -- mathtext ------------------------------------------------------------------------------------


def test_sectors_evaluate_prints_a_mathtext_comisaria_name_as_plain_text(tmp_path):
    # matplotlib's wrap=True measured the title as mathtext (ignoring text.parse_math): a
    # comisaría named "$\frac{a}{$" made 'sectors evaluate' exit 1 (ParseSyntaxException)
    import geopandas as gpd
    import pandas as pd
    import pypdfium2 as pdfium

    from parsc_geo.datasets import sample_paths

    paths = sample_paths()
    name = r"COMISARIA $\frac{a}{$ CHOTA"
    sample = pd.read_csv(paths["incidents"], dtype=str, keep_default_na=False)
    chota = sample[sample["comisaria"] == "COMISARIA SECTORIAL CHOTA"].copy()
    chota["comisaria"] = name
    chota.to_csv(tmp_path / "chota.csv", index=False)
    sectors = gpd.read_file(paths["sectors"])
    sectors = sectors[sectors["comisaria"] == "COMISARIA SECTORIAL CHOTA"].copy()
    sectors["comisaria"] = name
    sectors.to_file(tmp_path / "sectores.geojson", driver="GeoJSON")
    out = tmp_path / "ev"
    res = invoke(
        "sectors",
        "evaluate",
        str(tmp_path / "chota.csv"),
        "--sectors",
        str(tmp_path / "sectores.geojson"),
        "-o",
        str(out),
    )
    assert res.exit_code == 0, res.output
    (pdf,) = out.glob("*.pdf")
    text = pdfium.PdfDocument(str(pdf))[0].get_textpage().get_text_range()
    assert r"$\frac{a}{$" in text  # printed literally, dollar signs included
