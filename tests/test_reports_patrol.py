"""Patrol sheets and tables: pages render, text is there, files are deterministic."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pypdfium2 as pdfium
import pytest
from test_patrol_helpers import incidents, sector_layer

from parsc_geo._errors import OutputError
from parsc_geo.patrol import plan_patrols
from parsc_geo.reports import write_patrol_outputs
from parsc_geo.settings import SYNTHETIC_BANNER

PDF = "patrullaje_comisaria_pnp_demo.pdf"

# Drawing and saving A4 pages takes a few seconds (1–2 s per page on a busy machine).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def plan():
    return plan_patrols(incidents(), sector_layer(), method="grid", cell_size_m=100)


@pytest.fixture(scope="module")
def written(plan, tmp_path_factory):
    out = tmp_path_factory.mktemp("patrol")
    paths = write_patrol_outputs(plan, out, synthetic=True)
    return out, paths


def _page_texts(path):
    pdf = pdfium.PdfDocument(str(path))
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def test_one_page_per_sector_in_label_order(written):
    out, _ = written
    texts = _page_texts(out / PDF)
    # SECTOR 1 (2 points) and SECTOR 2 (1 point): overview and a page of cards; SECTOR 10
    # has no critical point, so no cards
    assert len(texts) == 5
    assert [t.startswith("Plan de patrullaje") or "Plan de patrullaje —" in t for t in texts] == [
        True,
        False,
        True,
        False,
        True,
    ]
    for k, sector in ((1, "SECTOR 1"), (3, "SECTOR 2")):
        assert f"Puntos críticos — {sector}" in texts[k]
        assert "Lat. " in texts[k] and "UTM 17S" in texts[k]
    texts = texts[0::2]
    for text, sector in zip(texts, ["SECTOR 1", "SECTOR 2", "SECTOR 10"], strict=True):
        assert f"Plan de patrullaje — {sector}" in text
        assert "COMISARIA PNP DEMO" in text
        assert "Puntos críticos" in text
        assert "Denuncias por hora y día" in text
        assert "miércoles" in text and "domingo" in text
        assert "Horario de visitas" in text
        assert "Koper" in text
        assert SYNTHETIC_BANNER in text
        assert "USO INTERNO" in text


def test_page_shows_the_ranked_table_and_totals(written, plan):
    out, _ = written
    text = _page_texts(out / PDF)[0].replace("\r\n", "\n")
    sp = plan.sectors[0]
    assert "ROBO AGRAVADO (12)" in text
    assert (
        f"Total del sector\n{sp.n_incidents}" in text
        or f"Total del sector {sp.n_incidents}" in text
    )
    assert f"{sp.n_no_time} sin hora" in text
    assert "Periodo:" in text


def test_pages_render_to_a4_images(written):
    out, _ = written
    pdf = pdfium.PdfDocument(str(out / PDF))
    try:
        for i in range(len(pdf)):
            width, height = pdf[i].get_size()
            assert (width, height) == pytest.approx((8.27 * 72, 11.69 * 72), abs=1)
            image = pdf[i].render(scale=0.5).to_pil()
            pixels = np.asarray(image.convert("L"), dtype=float)
            assert pixels.std() > 10  # not a blank page
            assert (pixels < 100).mean() > 0.005  # dark text and lines are drawn
    finally:
        pdf.close()


def test_png_per_sector(written):
    out, _ = written
    pngs = sorted((out / "png").glob("*.png"))
    assert [p.name for p in pngs] == [
        "patrullaje_comisaria_pnp_demo_sector_1.png",
        "patrullaje_comisaria_pnp_demo_sector_10.png",
        "patrullaje_comisaria_pnp_demo_sector_1_puntos.png",
        "patrullaje_comisaria_pnp_demo_sector_2.png",
        "patrullaje_comisaria_pnp_demo_sector_2_puntos.png",
    ]
    from PIL import Image

    with Image.open(pngs[0]) as im:
        # A4 is 210 mm x 297 mm; at 150 dpi that is 1240.2 x 1753.9 pixels
        width, height = im.size
        assert abs(width - 210 / 25.4 * 150) <= 1
        assert abs(height - 297 / 25.4 * 150) <= 1


def test_tables_reopen_with_the_plan_values(written, plan):
    out, paths = written
    assert all(p.exists() for p in paths)
    points = pd.read_csv(out / "puntos_criticos.csv")
    assert list(points["ID punto"]) == list(plan.points_frame()["punto_id"])
    assert "Daño ponderado" in points.columns and "Comisaría" in points.columns
    gpkg = gpd.read_file(out / "puntos_criticos.gpkg", layer="puntos_criticos")
    geojson = gpd.read_file(out / "puntos_criticos.geojson")
    assert len(gpkg) == len(geojson) == len(points) == 3
    assert gpkg.crs.to_epsg() == 4326
    assert list(gpkg["n"]) == list(points["Denuncias"])
    summary = pd.read_csv(out / "resumen_sectores.csv")
    sectors = summary[summary["Nivel"] == "sector"]
    assert (
        sectors["Denuncias"].sum()
        == summary.loc[summary["Nivel"] == "subsector", "Denuncias"].sum()
    )
    schedule = pd.read_csv(out / "horario_patrullaje.csv")
    used = (
        (schedule["Minutos de visita"] + schedule["Minutos de traslado"])
        .groupby(
            [schedule["Sector"], schedule["Tipo de día"], schedule["Turno"], schedule["Unidad"]]
        )
        .sum()
    )
    assert (used <= plan.schedule_options.available_minutes).all()
    xlsx = pd.read_excel(out / "plan_patrullaje.xlsx", sheet_name=None)
    assert set(xlsx) == {
        "Puntos críticos",
        "Horario",
        "Ventanas",
        "Resumen",
        "Modalidades",
        "Hora y día",
    }
    assert len(xlsx["Horario"]) == len(schedule)
    meta = json.loads((out / "plan_patrullaje.json").read_text(encoding="utf-8"))
    assert meta["synthetic"] is True
    assert meta["parameters"]["visit_minutes"] == 15
    assert [s["sector"] for s in meta["sectors"]] == ["SECTOR 1", "SECTOR 2", "SECTOR 10"]


def test_existing_outputs_are_not_overwritten(written, plan):
    out, _ = written
    before = (out / "puntos_criticos.csv").read_bytes()
    with pytest.raises(OutputError, match="exist"):
        write_patrol_outputs(plan, out, density=False)
    assert (out / "puntos_criticos.csv").read_bytes() == before


def test_same_input_gives_identical_files(written, plan, tmp_path):
    out, _ = written
    again = plan_patrols(incidents(), sector_layer(), method="grid", cell_size_m=100)
    write_patrol_outputs(again, tmp_path, synthetic=True)
    for name in (
        PDF,
        "puntos_criticos.csv",
        "horario_patrullaje.csv",
        "resumen_sectores.csv",
        "modalidades_sectores.csv",
        "hora_dia_sectores.csv",
        "ventanas_patrullaje.csv",
        "puntos_criticos.geojson",
        "puntos_criticos.gpkg",
        "plan_patrullaje.xlsx",
        "plan_patrullaje.json",
        "png/patrullaje_comisaria_pnp_demo_sector_1.png",
    ):
        assert (out / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_overwrite_replaces_and_pdf_dates_are_fixed(plan, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1600000000")
    layer = sector_layer()
    small = plan_patrols(
        incidents(), layer[layer["sector"] == "SECTOR 2"], comisaria="9999", method="grid"
    )
    assert [sp.sector for sp in small.sectors] == ["SECTOR 2"]
    assert small.n_outside == int((incidents()["sector"] != "SECTOR 2").sum())
    write_patrol_outputs(small, tmp_path, density=False)
    write_patrol_outputs(small, tmp_path, density=False, overwrite=True)
    raw = (tmp_path / PDF).read_bytes()
    assert b"D:20200913" in raw  # 1600000000 s = 2020-09-13 12:26:40 UTC
    text = _page_texts(tmp_path / PDF)[0]
    assert SYNTHETIC_BANNER not in text


def test_sector_without_incidents_gets_no_sheet_but_a_summary_line(tmp_path):
    layer = sector_layer()
    empty = layer[layer["sector"] == "SECTOR 10"].copy()
    empty["sector"] = "SECTOR 11"
    both = pd.concat([layer[layer["sector"] == "SECTOR 2"], empty], ignore_index=True)
    plan = plan_patrols(incidents(), both, method="grid")
    assert [sp.n_incidents > 0 for sp in plan.sectors] == [True, False]
    paths = write_patrol_outputs(plan, tmp_path, density=False)
    assert all(p.exists() for p in paths)
    texts = _page_texts(tmp_path / PDF)
    assert len(texts) == 2  # SECTOR 2: overview and cards; SECTOR 11: no page
    assert "Plan de patrullaje — SECTOR 11" not in " ".join(texts)
    assert "Sin denuncias en el periodo (sin hoja): SECTOR 11." in texts[0].replace("\r\n", " ")
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == [
        "patrullaje_comisaria_pnp_demo_sector_2.png",
        "patrullaje_comisaria_pnp_demo_sector_2_puntos.png",
    ]
    summary = pd.read_csv(tmp_path / "resumen_sectores.csv")
    row = summary[(summary["Nivel"] == "sector") & (summary["Sector"] == "SECTOR 11")]
    assert list(row["Denuncias"]) == [0]
    assert list(row["Observación"]) == ["sin denuncias en el periodo: sin hoja de patrullaje"]
    meta = json.loads((tmp_path / "plan_patrullaje.json").read_text(encoding="utf-8"))
    assert meta["sectors_without_sheet"] == [
        {"comisaria": "COMISARIA PNP DEMO", "sector": "SECTOR 11"}
    ]
    assert [s["sheet_pages"] for s in meta["sectors"]] == [2, 0]


def test_comisaria_without_incidents_gets_no_pdf(tmp_path):
    layer = sector_layer()
    empty = layer[layer["sector"] == "SECTOR 10"].copy()
    empty["comisaria"] = "COMISARIA VACIA"
    empty["comisaria_id"] = "8888"
    plan = plan_patrols(incidents(), empty, method="grid")
    assert plan.sectors[0].n_incidents == 0
    paths = write_patrol_outputs(plan, tmp_path, density=False)
    assert not [p for p in paths if p.suffix in (".pdf", ".png")]
    assert not list(tmp_path.glob("*.pdf")) and not list((tmp_path / "png").glob("*"))
    summary = pd.read_csv(tmp_path / "resumen_sectores.csv")
    assert list(summary.loc[summary["Nivel"] == "comisaría", "Observación"]) == [
        "sin denuncias en el periodo: sin hojas de patrullaje"
    ]
    assert gpd.read_file(tmp_path / "puntos_criticos.gpkg").empty


def test_modalidad_totals_add_up_as_a_loop_over_incidents():
    import numpy as np

    from parsc_geo.reports.patrol_sheet import _modalidad_totals
    from parsc_geo.schema import modalidad_label

    rng = np.random.default_rng(5)
    n = 500
    frame = pd.DataFrame(
        {
            # ("OTROS", "ROBO") and ("ROBO", "ROBO") share a label; missing values as text
            "delito_especifico": rng.choice(["HURTO", "ROBO", "OTROS", None, np.nan], n),
            "modalidad": rng.choice(["SIMPLE", "ROBO", "AGRAVADO", None], n),
            "harm": rng.gamma(1.0, 3.7, n),
        }
    )
    expected: dict[str, list[float]] = {}
    columns = (frame["delito_especifico"], frame["modalidad"], frame["harm"])
    for esp, mod, harm in zip(*columns, strict=True):
        label = modalidad_label(str(esp), str(mod))
        expected.setdefault(label, [0, 0.0])
        expected[label][0] += 1
        expected[label][1] += float(harm)
    assert _modalidad_totals(frame) == expected
    assert _modalidad_totals(frame.iloc[:0]) == {}


def _column_widths(ws) -> dict[str, float]:
    """Return column letter → width; XlsxWriter writes equal neighbours as one <col> range."""
    from openpyxl.utils import get_column_letter

    widths = {}
    for dim in ws.column_dimensions.values():
        if dim.min is None:
            continue
        for k in range(dim.min, dim.max + 1):
            widths[get_column_letter(k)] = dim.width
    return widths


def test_workbook_is_formatted_for_people(written):
    from openpyxl import load_workbook

    out, _ = written
    book = load_workbook(out / "plan_patrullaje.xlsx")
    points = pd.read_csv(out / "puntos_criticos.csv", dtype=str, keep_default_na=False)
    for ws in book.worksheets:
        # header frozen, filter buttons over the whole table, bold headers
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"
        assert all(c.font.b for c in ws[1])
        widths = _column_widths(ws)
        for cell in ws[1]:
            width = widths[cell.column_letter]
            # as wide as the header plus 2 characters, between 6 and 60 (XlsxWriter adds
            # 0.71 of padding to the width it is given)
            assert min(60, len(cell.value) + 2) <= width <= 60.72, (ws.title, cell.value)
    ws = book["Puntos críticos"]
    header = {c.value: c.column for c in ws[1]}
    widths = _column_widths(ws)
    # text columns as wide as their longest value (+2), up to 60
    for name in ("Comisaría", "Referencia", "Modalidades principales"):
        letter = ws.cell(1, header[name]).column_letter
        longest = max(len(v) for v in points[name])
        assert widths[letter] >= min(60, longest + 2), name
    # numbers stay numbers, shown with their format
    row = 2
    assert ws.cell(row, header["Latitud"]).number_format == "0.00000"
    assert ws.cell(row, header["Longitud"]).number_format == "0.00000"
    assert ws.cell(row, header["Daño ponderado"]).number_format == "#,##0.0"
    assert ws.cell(row, header["Denuncias"]).number_format == "#,##0"
    assert ws.cell(row, header["UTM este (m)"]).number_format == "0"
    assert ws.cell(row, header["Latitud"]).value == pytest.approx(float(points["Latitud"][0]))
    assert ws.cell(row, header["Denuncias"]).value == int(points["Denuncias"][0])
    assert ws.cell(row, header["Enlace geo (QR)"]).value == points["Enlace geo (QR)"][0]


def test_workbook_text_that_looks_like_a_formula_stays_text(tmp_path):
    from openpyxl import load_workbook

    layer = sector_layer()
    layer["comisaria"] = '=HYPERLINK("http://x.example","clic")'
    data = incidents()
    data["comisaria"] = layer["comisaria"].iloc[0]
    plan = plan_patrols(data, layer, method="grid", cell_size_m=100)
    write_patrol_outputs(plan, tmp_path, density=False)
    ws = load_workbook(tmp_path / "plan_patrullaje.xlsx")["Puntos críticos"]
    column = next(c.column for c in ws[1] if c.value == "Comisaría")
    cell = ws.cell(2, column)
    # a string cell (never a formula cell), shown as typed thanks to the quote prefix
    assert cell.data_type == "s"
    assert cell.value == '=HYPERLINK("http://x.example","clic")'
    assert cell.quotePrefix is True


def test_sheet_explains_abbreviations_and_units(written):
    out, _ = written
    text = " ".join(_page_texts(out / PDF)[0].replace("\r\n", " ").split())
    assert "Abreviaturas y unidades" in text
    # what the table headers, schedule and cards abbreviate is spelled out
    for said in (
        "N.º: número del punto crítico",
        "P3: punto crítico n.º 3",
        "Subs.: subsector",
        "Den.: denuncias registradas",
        "Daño: daño ponderado",
        "Ord.: orden de visita",
        "U2: unidad de patrullaje n.º 2",
        "m²: metros cuadrados",
        "UTM 17S: zona UTM 17, hemisferio sur",
    ):
        assert said in text, said


def _knox_table(p_first: float) -> pd.DataFrame:
    """Two space bands (0–200 m, 200 m+) × two time bands (0–14 d, 14 d+), 999 permutations."""
    inf = float("inf")
    table = pd.DataFrame(
        {
            "d_min_m": [0.0, 0.0, 200.0, 200.0],
            "d_max_m": [200.0, 200.0, inf, inf],
            "t_min_days": [0.0, 14.0, 0.0, 14.0],
            "t_max_days": [14.0, inf, 14.0, inf],
            "observed": [30, 40, 100, 830],
            "expected": [12.0, 58.0, 118.0, 812.0],
            "ratio": [30 / 12, 40 / 58, 100 / 118, 830 / 812],
            "p_value": [p_first, 0.9, 0.8, 0.3],
        }
    )
    table.attrs["parameters"] = {"permutations": 999}
    return table


def test_near_repeat_advice_is_printed_for_the_crew(plan, tmp_path):
    from parsc_geo.reports.patrol_sheet import near_repeat_advice

    advice = near_repeat_advice(_knox_table(0.001), label="un robo")
    # the first band only is raised: 200 m, 14 days, ratio 30 / 12 = 2,5
    assert advice.advice == (
        "Tras un robo, vuelva a la zona (200 m alrededor) en los 14 días siguientes: el riesgo "
        "allí es 2,5 veces mayor de lo esperado (prueba de Knox, p ≤ 0,05, 999 permutaciones)."
    )
    write_patrol_outputs(plan, tmp_path, density=False, near_repeat=advice)
    text = " ".join(_page_texts(tmp_path / PDF)[0].replace("\r\n", " ").split())
    assert "vuelva a la zona (200 m alrededor) en los 14 días siguientes" in text

    # no near repeat found: no advice, the finding goes to the notes
    none = near_repeat_advice(_knox_table(0.4), label="un robo")
    assert none.advice is None
    again = tmp_path / "sin"
    write_patrol_outputs(plan, again, density=False, near_repeat=none)
    text = " ".join(_page_texts(again / PDF)[0].replace("\r\n", " ").split())
    assert "vuelva a la zona" not in text
    assert "No se detecta repetición cercana" in text


def test_started_with_a_pool_then_finished_gives_the_same_files(written, tmp_path):
    # What a run does: the plan's sectors and the sheets start in a pool of two processes and
    # are collected later; the tables exist when start_patrol_outputs returns, the files then
    # are those of the serial path (the module fixture), byte for byte.
    from parsc_geo.parallel import WorkerPool
    from parsc_geo.patrol.plan import start_plan_patrols
    from parsc_geo.reports.patrol_outputs import start_patrol_outputs

    out, paths = written
    with WorkerPool(2) as pool:
        planning = start_plan_patrols(
            incidents(), sector_layer(), method="grid", cell_size_m=100, pool=pool
        )
        planned, sheets = start_patrol_outputs(
            planning.results()[0], tmp_path, synthetic=True, pool=pool
        )
        assert (tmp_path / "puntos_criticos.csv").exists()
        assert sheets.results() == planned
    assert [p.relative_to(tmp_path) for p in planned] == [p.relative_to(out) for p in paths]
    for path in paths:
        assert path.read_bytes() == (tmp_path / path.relative_to(out)).read_bytes(), path.name


def test_sheets_drawn_early_in_drafts_then_moved_give_the_same_files(written, plan, tmp_path):
    # What a parallel run does since the sheets start after repeticion: they are drawn as
    # background tasks into a drafts folder, the output folder holds nothing until the tables
    # are written, and collecting moves them into place: the serial path's files, byte for byte.
    from parsc_geo.parallel import WorkerPool
    from parsc_geo.reports.patrol_outputs import start_patrol_outputs, start_patrol_sheets

    out, paths = written
    target, drafts = tmp_path / "patrullaje", tmp_path / "borradores"
    drafts.mkdir()
    (drafts / "notas.txt").write_text("del usuario", encoding="utf-8")
    with WorkerPool(2) as pool:
        sheets = start_patrol_sheets(plan, target, drafts, synthetic=True, pool=pool)
        assert not target.exists()
        planned, pending = start_patrol_outputs(
            plan, target, synthetic=True, pool=pool, sheets=sheets
        )
        assert pending.results() == planned
    # only the folder the sheets were drawn in is removed: the user's folder and file stay
    assert [p.name for p in drafts.iterdir()] == ["notas.txt"]
    assert [p.relative_to(target) for p in planned] == [p.relative_to(out) for p in paths]
    for path in paths:
        assert path.read_bytes() == (target / path.relative_to(out)).read_bytes(), path.name
