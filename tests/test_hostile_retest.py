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


# -- privacy -------------------------------------------------------------------------------------


def test_a_sexual_offence_filed_with_a_robbery_modalidad_is_never_located(tmp_path):
    # PNP extracts split the category in three columns; the modalidad is often a generic word.
    # Before, genérico "CONTRA LA LIBERTAD" / específico "VIOLACION DE LA LIBERTAD SEXUAL" /
    # modalidad "ROBO" resolved to ROBO SIMPLE and 20 such rows at one house were published as
    # a place of the public map; the Código Penal heading must decide.
    import maps_data as md
    from privacy_checks import distances_m, published_lonlat
    from pyproj import Transformer

    house = (md.X0 + 6_000.0, md.Y0 + 6_000.0)  # rural, as in test_privacy
    to_deg = Transformer.from_crs("EPSG:32717", "EPSG:4326", always_xy=True)
    header = ["ID", "FECHA", "HORA", "DELITO_GENERICO", "DELITO_ESPECIFICO", "MODALIDAD"]
    lines = [",".join([*header, "LATITUD", "LONGITUD"])]
    lon, lat = to_deg.transform(*house)
    for i, (especifico, modalidad) in enumerate(
        [("VIOLACION DE LA LIBERTAD SEXUAL", "ROBO"), ("LIBERTAD SEXUAL", "AMENAZA")] * 10
    ):
        lines.append(
            f"H{i},05/0{1 + i % 9}/2020,22:00,CONTRA LA LIBERTAD,{especifico},{modalidad},"
            f"{lat:.6f},{lon:.6f}"
        )
    # 30 robberies in the city, 10 at each of three corners: published places of >= k
    for i in range(30):
        x, y = md.X0 + 300.0 * (i % 3), md.Y0 + 5.0 * (i // 3)
        lo, la = to_deg.transform(x, y)
        lines.append(f"C{i},05/03/2020,10:00,CONTRA EL PATRIMONIO,ROBO,AGRAVADO,{la:.6f},{lo:.6f}")
    csv = tmp_path / "columnas.csv"
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ws = tmp_path / "w.gpkg"
    res = invoke("-q", "ingest", str(csv), "-w", str(ws))
    assert res.exit_code == 0, res.output
    out = tmp_path / "publico"
    res = invoke("map", "-w", str(ws), "-o", str(out), "--public", "--tiles", "ninguna")
    assert res.exit_code == 0, res.output
    pages = sorted(out.glob("*.html"))
    assert pages
    for path in pages:
        page = path.read_text(encoding="utf-8")
        near = distances_m(published_lonlat(page), house)
        assert not len(near) or near.min() > 100.0, path.name
    report = json.loads((out / "privacidad.json").read_text(encoding="utf-8"))
    assert report["incidentes"]["no_ubicados"]["categoria_sensible"] == 20
    assert report["incidentes"]["entrada"] == 50


def test_the_heading_decides_for_every_modalidad():
    # unit view of the same rule: the específico (or genérico) heading wins over a modalidad
    # naming a non-sensitive category; a sensitive modalidad of the heading is kept as it is
    import pandas as pd

    from parsc_geo.taxonomy import is_sensitive, normalise_labels

    rows = [
        ("CONTRA LA LIBERTAD", "VIOLACION DE LA LIBERTAD SEXUAL", "ROBO"),
        ("CONTRA LA LIBERTAD", "LIBERTAD SEXUAL", "SECUESTRO"),
        ("CONTRA LA FAMILIA", "", "HURTO"),
        ("CONTRA EL PATRIMONIO", "ROBO", "AGRAVADO"),
        ("CONTRA LA LIBERTAD", "LIBERTAD SEXUAL", "MAY. 14 AÑOS"),
    ]
    generico, especifico, modalidad = (pd.Series(list(c)) for c in zip(*rows, strict=True))
    labels = normalise_labels(None, generico=generico, especifico=especifico, modalidad=modalidad)
    assert is_sensitive(labels).tolist() == [True, True, True, False, True]
    assert labels["delito_especifico"].tolist()[:2] == ["LIBERTAD SEXUAL", "LIBERTAD SEXUAL"]
    assert labels["delito_generico"].iloc[2] == "CONTRA LA FAMILIA"
    assert labels["modalidad"].iloc[4] == "VIOLACION MAYOR DE 14 AÑOS"


# -- the shell -----------------------------------------------------------------------------------


def test_output_piped_into_a_reader_that_quits_is_not_an_internal_error():
    # `parsc-geo info FILE | head -5`: the reader closes the pipe first; before, exit 1
    # "Error interno: BrokenPipeError" (a sample run of the user's shell, in a real process)
    import os
    import subprocess
    import sys

    from parsc_geo.datasets import sample_paths

    read, write = os.pipe()
    os.close(read)  # the reader is gone before parsc-geo writes its first line
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "parsc_geo", "info", str(sample_paths()["messy_csv"])],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    finally:
        os.close(write)
    assert proc.returncode == 5, proc.stderr
    assert "la salida se cerró" in proc.stderr
    assert "Error interno" not in proc.stderr and "Traceback" not in proc.stderr


# -- CSV parser ---------------------------------------------------------------------------------


def test_a_quoted_description_over_128_kib_spanning_lines_is_one_row(tmp_path):
    # 20 rows; row 6 holds a quoted description of 30 000 lines (630 000 characters). With the
    # csv module's default field limit (131 072) validate read 30 020 rows: row 6 became
    # 'unbalanced_quote' and each of its lines a row
    lines = [",".join(HEADER)]
    for i, r in enumerate(rows(20)):
        if i == 5:
            r[6] = '"' + "linea de la denuncia\n" * 30_000 + '"'
        lines.append(",".join(r))
    path = tmp_path / "descripcion_larga.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "informe.json"
    res = invoke("-q", "validate", str(path), "--report", str(out))
    assert res.exit_code == 0, res.output
    entry = json.loads(out.read_text(encoding="utf-8"))["files"][0]
    assert entry["rows_read"] == 20
    assert entry["rows_accepted"] == 20


def test_a_second_geopackage_layer_with_complaints_is_named_not_silently_dropped(tmp_path):
    # 12 points in layer 'enero', 5 in 'febrero': before, only the first layer was read and
    # the report said nothing of the other 5
    import geopandas as gpd
    from shapely.geometry import Point

    def layer(n: int) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(
            {"ID": [f"P{i}" for i in range(n)], "FECHA": ["05/03/2020"] * n, "MODALIDAD": "Hurto"},
            geometry=[Point(point(i)[1], point(i)[0]) for i in range(n)],
            crs="EPSG:4326",
        )

    path = tmp_path / "capas.gpkg"
    layer(12).to_file(path, layer="enero")
    layer(5).to_file(path, layer="febrero")
    out = tmp_path / "informe.json"
    res = invoke("-q", "validate", str(path), "--report", str(out))
    assert res.exit_code == 0, res.output
    entry = json.loads(out.read_text(encoding="utf-8"))["files"][0]
    assert entry["rows_read"] == 12 == entry["rows_accepted"] + entry["rows_quarantined"]
    assert "'febrero' (5 entidad(es))" in " ".join(entry["warnings"])


# -- the terminal --------------------------------------------------------------------------------


def test_escape_sequences_in_data_are_shown_not_run_by_the_terminal(tmp_path):
    # a crime label carrying an OSC sequence (sets the terminal's title; others clear the
    # screen or rewrite printed lines) reached the terminal raw through validate's summary,
    # and a file name through the error message
    label = "\x1b]0;PWN\x07Hurto raro\x1b[2J"
    path = tmp_path / "escape.csv"
    path.write_text(
        f"ID,FECHA,HORA,MODALIDAD,LATITUD,LONGITUD\n1,05/03/2020,10:00,{label},-7.17,-78.5\n",
        encoding="utf-8",
    )
    res = invoke("validate", str(path))
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.output and "\x07" not in res.output
    assert "\\x1b]0;PWN\\x07" in res.output  # shown, escaped
    missing = tmp_path / "no\x1b]0;PWN\x07existe.csv"
    res = invoke("validate", str(missing))
    assert res.exit_code == 3, res.output
    assert "\x1b" not in res.output and "\\x1b]0;PWN\\x07" in res.output


# -- outputs of distinct names that give one slug --------------------------------------------------


def test_two_comisarias_whose_names_give_one_slug_get_two_patrol_pdfs(tmp_path):
    # "COMISARIA ¿X?" (sector 1) and "COMISARIA ¡X!" (sectors 2, 3) both slug to
    # "comisaria_x": before, the second PDF was written over the first (2 pages in all, the
    # ¿X? sheet lost) while the command said every file was written
    import geopandas as gpd
    import pandas as pd
    import pypdfium2 as pdfium

    from parsc_geo.datasets import sample_paths

    paths = sample_paths()
    sample = pd.read_csv(paths["incidents"], dtype=str, keep_default_na=False)
    sample[sample["ubigeo"].str.startswith("0604")].to_csv(tmp_path / "chota.csv", index=False)
    sectors = gpd.read_file(paths["sectors"])
    sectors = sectors[sectors["comisaria"] == "COMISARIA SECTORIAL CHOTA"].copy()
    first = sectors["sector"] == "SECTOR 1"
    sectors["comisaria"] = ["COMISARIA ¿X?" if f else "COMISARIA ¡X!" for f in first]
    sectors["comisaria_id"] = [9001 if f else 9002 for f in first]
    sectors.to_file(tmp_path / "sectores.geojson", driver="GeoJSON")
    ws = tmp_path / "w.gpkg"
    res = invoke(
        "-q",
        "ingest",
        str(tmp_path / "chota.csv"),
        "--sectors",
        str(tmp_path / "sectores.geojson"),
        "-w",
        str(ws),
    )
    assert res.exit_code == 0, res.output
    out = tmp_path / "patrullaje"
    res = invoke("-q", "patrol", "-w", str(ws), "-o", str(out))
    assert res.exit_code == 0, res.output
    pdfs = sorted(out.glob("*.pdf"))
    assert [p.name for p in pdfs] == ["patrullaje_comisaria_x-2.pdf", "patrullaje_comisaria_x.pdf"]
    pages = {p.name: len(pdfium.PdfDocument(str(p))) for p in pdfs}
    # one page per sector: ¿X? has 1, ¡X! has 2 (3 sectors in all)
    assert sorted(pages.values()) == [1, 2]
