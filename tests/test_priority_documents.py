"""What the committee reads: names with accents, rounded Spanish tables, formatted XLSX and
document maps whose names, legend, scale bar and north arrow never cover each other."""

import csv
import itertools
import math
import re

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from parsc_geo._text import fold
from parsc_geo.boundaries import load_districts, load_provinces, population_for_year
from parsc_geo.priority import compute_priority
from parsc_geo.priority.counts import classify_counts
from parsc_geo.priority.maps import _scale_length, priority_figure
from parsc_geo.priority.names import name_table, unit_names
from parsc_geo.priority.outputs import MAPS_PDF, write_priority_outputs
from parsc_geo.priority.stability import stability_percent
from parsc_geo.projection import to_metric


@pytest.fixture(scope="module")
def result():
    """A year of robberies and homicides in every district (more in three provinces)."""
    rng = np.random.default_rng(12)
    rows = []
    for r in population_for_year(2020, "distrito").itertuples(index=False):
        hot = 3.0 if r.ubigeo_prov in ("0601", "0608", "0605") else 1.0
        for month in (2, 7, 11):
            for categoria, rate in (("Robo", 2e-4), ("HOMICIDIO", 3e-5)):
                k = int(rng.poisson(r.poblacion * rate * hot))
                if k:
                    rows.append((r.ubigeo, 2020, month, categoria, k))
    df = pd.DataFrame(rows, columns=["ubigeo", "anio", "mes", "categoria", "n"])
    df["anio"] = df["anio"].astype("Int64")
    df["mes"] = df["mes"].astype("Int64")
    df["source"] = "DATASET_Denuncias_Policiales.csv"
    df["source_row"] = range(1, len(df) + 1)
    table = classify_counts(df)
    table.attrs["format"] = "sidpol"
    return compute_priority(
        table,
        fenomenos=["patrimonio_espacio_publico", "muertes_violentas"],
        n_boot=30,
        period="2020",
        synthetic=True,
    )


# ---------------------------------------------------------------- names


def test_the_name_table_corrects_only_what_the_boundaries_lack():
    districts = load_districts(prefix=["06"]).set_index("ubigeo")["distrito"]
    with open("parsc_geo/data/nombres_territorios.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(name_table()) == 20
    for row in rows:
        # the boundary name is the one recorded: a new boundary file cannot go unnoticed
        assert districts[row["ubigeo"]] == row["en_los_limites"]
        # the same letters, with accents (and the article of La Encañada)
        assert fold(row["nombre"]).removeprefix("LA ") == fold(row["en_los_limites"]).removeprefix(
            "LA "
        )
        assert row["nombre"] != row["en_los_limites"]
    assert unit_names("distrito", ["060501", "060801"]) == {
        "060501": "Contumazá",
        "060801": "Jaén",
    }
    assert unit_names("provincia", ["0603", "0605"]) == {"0603": "Celendín", "0605": "Contumazá"}
    assert unit_names("departamento", ["02"]) == {"02": "Áncash"}


def test_tables_name_units_with_their_accents(result):
    provinces = set(result.level("provincia")["provincia"])
    assert {"Contumazá", "Celendín", "Jaén", "San Ignacio"} <= provinces
    districts = set(result.level("distrito")["distrito"])
    assert {"Contumazá", "Cospán", "La Encañada", "Sócota"} <= districts
    assert set(result.table["departamento"]) == {"Cajamarca"}


# ---------------------------------------------------------------- CSV and XLSX


@pytest.fixture(scope="module")
def written(result, tmp_path_factory):
    out = tmp_path_factory.mktemp("prioridad")
    files = write_priority_outputs(result, out)
    return out, files


def read_rows(path):
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def decimals(text):
    return len(text.split(".")[1]) if "." in text else 0


def test_detail_csv_is_rounded_for_reading(written, result):
    out, _ = written
    rows = read_rows(out / "prioridad_detalle.csv")
    assert len(rows) == len(result.table)
    for row in rows:
        for header in (
            "Tasa por 100 000 hab.",
            "Tasa suavizada (Bayes empírico) por 100 000 hab.",
            "Tasa regional por 100 000 hab.",
            "Participación en el total regional (%)",
        ):
            assert decimals(row[header]) <= 1, (header, row[header])
        for header in ("Estabilidad del nivel (%)", "Peso de la tasa propia (%)"):
            assert row[header] == "" or row[header].isdigit(), (header, row[header])
    # one row by hand: Cajamarca province, robbery
    source = result.level("provincia").set_index(["objetivo", "codigo"])
    expected = source.loc[("patrimonio_espacio_publico", "0601")]
    row = next(
        r
        for r in rows
        if r["UBIGEO"] == "0601" and r["Fenómeno o modalidad"].startswith("Delitos patrim")
    )
    assert float(row["Tasa por 100 000 hab."]) == round(expected["tasa"], 1)
    assert int(row["Estabilidad del nivel (%)"]) == math.floor(expected["estabilidad"] * 100)
    assert int(row["Peso de la tasa propia (%)"]) == round(expected["peso_eb"] * 100)
    assert row["Provincia"] == "Cajamarca" and row["Con datos en el periodo"] == "sí"
    assert row["Nivel publicado"] == expected["nivel_publicado"] or (
        expected["nivel_publicado"] == "" and row["Nivel publicado"] == "SIN PRIORIDAD"
    )


def test_plan_csv_shows_stability_and_observation(written, result):
    out, _ = written
    rows = read_rows(out / "territorios_priorizados.csv")
    listed = [r for r in rows if r["N/O"]]
    assert listed
    by_name = result.level("provincia").set_index(["objetivo_nombre", "provincia"])
    for row in listed:
        assert row["ESTABILIDAD (%)"].isdigit()
        assert row["PROVINCIA"] == row["PROVINCIA"].upper()
    robbery = [r for r in listed if r["FENÓMENO"] == "DELITOS PATRIMONIALES EN ESPACIOS PÚBLICOS"]
    first = robbery[0]
    unit = by_name.loc[("Delitos patrimoniales en espacios públicos", first["PROVINCIA"].title())]
    assert int(first["ESTABILIDAD (%)"]) == stability_percent(unit["estabilidad"])
    assert first["CLÚSTER"] == unit["nivel_publicado"]


def test_xlsx_is_formatted(written):
    out, _ = written
    book = load_workbook(out / "territorios_priorizados.xlsx")
    assert book.sheetnames == [
        "Territorios priorizados",
        "Detalle provincias",
        "Detalle distritos",
        "Método",
    ]
    sheet = book["Territorios priorizados"]
    header = next(c.row for c in sheet["A"] if c.value == "FENÓMENO")
    assert sheet.freeze_panes == f"A{header + 1}"
    assert sheet.auto_filter.ref.startswith(f"A{header}:J")
    headers = [c.value for c in sheet[header]][:10]
    assert headers[8] == "ESTABILIDAD (%)"
    first = sheet[header + 1]
    assert first[6].number_format == "#,##0.0" and isinstance(first[6].value, float)
    assert first[8].number_format == "0%" and 0 <= first[8].value <= 1
    assert first[8].value * 100 == pytest.approx(round(first[8].value * 100))  # whole percent
    assert sheet.column_dimensions["J"].width >= 60
    values = [c.value for c in sheet["A"] if isinstance(c.value, str)]
    assert "Método" in values  # the method beside the table
    detail = book["Detalle provincias"]
    assert detail.freeze_panes == "A2"
    assert detail.auto_filter.ref.startswith("A1:")
    names = [c.value for c in detail[1]]
    rate = names.index("Tasa por 100 000 hab.") + 1
    stability = names.index("Estabilidad del nivel (%)") + 1
    assert detail.cell(2, rate).number_format == "#,##0.0"
    assert detail.cell(2, stability).number_format == "0%"
    assert detail.cell(2, names.index("Población") + 1).number_format == "#,##0"
    widths = [detail.column_dimensions[c].width for c in "ABCDEFGH"]
    assert all(w and w >= 8 for w in widths)


# ---------------------------------------------------------------- document maps


def test_scale_lengths_by_hand():
    # a quarter of 280 km is 70 km: the round length below it is 50 km
    assert _scale_length(280_000) == 50_000
    # a quarter of 9 km is 2.25 km: 2 km (2.5 km is too long)
    assert _scale_length(9_000) == 2_000
    # a quarter of 1 km is 250 m, a round length itself
    assert _scale_length(1_000) == 250


def boxes_in_data(layout, boxes):
    from shapely.geometry import box

    inverse = layout.ax.transData.inverted()
    out = []
    for b in boxes:
        (x0, y0), (x1, y1) = inverse.transform([[b.x0, b.y0], [b.x1, b.y1]])
        out.append(box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
    return out


@pytest.mark.parametrize(
    ("level", "target"),
    [("provincia", "muertes_violentas"), ("distrito", "patrimonio_espacio_publico")],
)
def test_names_never_overlap_and_stay_in_their_unit(result, level, target):
    fig, layout = priority_figure(result, level=level, target=target)
    renderer = fig.canvas.get_renderer()
    labels = layout.labels
    boxes = [t.get_window_extent(renderer) for t in labels]
    for (a, ta), (b, tb) in itertools.combinations(zip(boxes, labels, strict=True), 2):
        assert not a.overlaps(b), (ta.get_text(), tb.get_text())
    shapes = layout.frame.set_index("codigo").geometry
    for label, area in zip(labels, boxes_in_data(layout, boxes), strict=True):
        code = label.get_gid()
        if code.endswith("+"):  # a listed unit's name centred on it, crossing its border
            assert shapes[code[:-1]].contains(area.centroid)
        else:
            assert shapes[code].contains(area), label.get_text()
    # the scale bar and the north arrow sit on no territory and under no name
    territory = layout.frame.geometry.union_all()
    for piece in boxes_in_data(layout, layout.furniture.boxes):
        assert not piece.intersects(territory)
    for furniture, name in itertools.product(layout.furniture.boxes, boxes):
        assert not furniture.overlaps(name)
    # the legend and the lists are beside the map, not on it
    assert not layout.panel.get_window_extent(renderer).overlaps(
        layout.ax.get_window_extent(renderer)
    )
    assert layout.panel.get_legend() is not None


def test_province_map_names_every_province_with_accents(result):
    _, layout = priority_figure(result, level="provincia", target="patrimonio_espacio_publico")
    names = {t.get_text().replace("\n", " ") for t in layout.labels}
    expected = set(load_provinces(prefix=["06"])["provincia"])
    assert names == expected
    assert {"Contumazá", "Celendín", "Jaén"} <= names


def test_scale_bar_has_its_stated_length(result):
    _, layout = priority_figure(result, level="provincia", target="muertes_violentas")
    segments = [p for p in layout.ax.patches if p.get_gid() == "escala"]
    assert len(segments) == 2
    assert sum(p.get_width() for p in segments) == pytest.approx(layout.furniture.scale_m)
    # the axes are in metres: the territory's extent matches the boundaries in UTM
    metric = to_metric(load_provinces(prefix=["06"]))
    x0, _, x1, _ = metric.total_bounds
    assert layout.ax.get_xlim()[1] - layout.ax.get_xlim()[0] >= x1 - x0
    labels = [t.get_text() for t in layout.ax.texts if t.get_gid() == "escala"]
    assert labels == ["0", f"{int(layout.furniture.scale_m // 1000)} km"]
    assert any(t.get_text() == "N" and t.get_gid() == "norte" for t in layout.ax.texts)


def test_footer_names_the_real_sources(result):
    fig, _ = priority_figure(result, level="provincia", target="muertes_violentas")
    texts = " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
    assert "Fuente: denuncias policiales del SIDPOL" in texts
    assert "DATASET_Denuncias_Policiales.csv" in texts
    assert "población: INEI (estimación 2020)" in texts
    assert "límites: INEI vía mapsPERU" in texts
    assert "workspace" not in texts and "Regla: kmeans" not in texts
    assert "DATOS SINTÉTICOS" in texts


def test_every_map_is_a_page_of_the_pdf(written):
    import pypdfium2 as pdfium

    out, files = written
    pngs = [p for p in files if p.suffix == ".png"]
    assert len(pngs) == 4  # 2 targets × 2 levels
    document = pdfium.PdfDocument(str(out / MAPS_PDF))
    try:
        assert len(document) == len(pngs)
        text = document[0].get_textpage().get_text_range()
    finally:
        document.close()
    assert "Territorios de intervención prioritaria" in text
    assert "Contumazá" in text or "Jaén" in text


@pytest.mark.slow
def test_maps_drawn_by_workers_are_the_same_bytes(written, result, tmp_path):
    # Two workers draw the four document maps (each figure once, sent back for the PDF)
    # while this process writes the tables: every file is the serial run's, byte for byte.
    _, files = written
    parallel = write_priority_outputs(result, tmp_path, workers=2)
    assert [p.name for p in parallel] == [p.name for p in files]
    stamp = re.compile(rb"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")  # the HTML pages' time of writing
    for path in files:
        if path.name != "run.json":  # its creation time
            ours, serial = (tmp_path / path.name).read_bytes(), path.read_bytes()
            if path.suffix == ".html":
                ours, serial = stamp.sub(b"<hora>", ours), stamp.sub(b"<hora>", serial)
            assert ours == serial, path.name
    assert {p.suffix for p in files} >= {".png", ".pdf", ".xlsx", ".csv", ".html"}


def test_the_side_panel_lists_what_fits_and_counts_the_rest(result):
    import re

    fig, layout = priority_figure(result, level="distrito", target="patrimonio_espacio_publico")
    renderer = fig.canvas.get_renderer()
    texts = layout.panel.texts
    boxes = [t.get_window_extent(renderer) for t in texts]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    panel_box = layout.panel.get_window_extent(renderer)
    assert all(panel_box.y0 - 1 <= b.y0 and b.y1 <= panel_box.y1 + 1 for b in boxes)
    rows = result.level("distrito")
    rows = rows[rows["objetivo"] == "patrimonio_espacio_publico"]
    listed = ((rows["nivel"] != "") | (rows["incierto"] & rows["nivel_alternativo"].notna())).sum()
    heading = next(t.get_text() for t in texts if t.get_text().startswith("Distritos con nivel"))
    assert heading.endswith(f"({listed})")
    entries = [t for t in texts if re.match(r"[a-z]+\. ", t.get_text())]
    rest = [t.get_text() for t in texts if t.get_text().startswith("… y ")]
    shown = len(entries)
    assert shown + (int(re.search(r"\d+", rest[0]).group()) if rest else 0) == listed
    assert texts[-1].get_text().startswith("Rayado:") or "Punteado" in texts[-1].get_text()


def test_label_boxes_kept_between_maps_are_what_matplotlib_measures(result, monkeypatch):
    import io

    import matplotlib as mpl

    from parsc_geo.priority import maps as priority_maps
    from parsc_geo.reports.pdf import RC_PARAMS

    def png(fig):
        buf = io.BytesIO()
        fig.savefig(buf, dpi=72, format="png")
        return buf.getvalue()

    def names(layout):
        return [
            (t.get_text(), t.get_position(), t.get_fontsize(), t.get_gid()) for t in layout.labels
        ]

    # every attempt measured by a new artist, as before the boxes were kept: no key repeats
    with monkeypatch.context() as m:
        m.setattr(priority_maps, "_layout_key", lambda *args: object())
        fig, fresh = priority_figure(result, level="distrito", target="muertes_violentas")
        expected_png, expected = png(fig), names(fresh)
    priority_maps._LAYOUTS.clear()
    for _ in range(2):  # boxes measured on this map, then boxes kept from the first
        fig, layout = priority_figure(result, level="distrito", target="muertes_violentas")
        assert names(layout) == expected
        assert png(fig) == expected_png
    # a kept box is the one matplotlib gives the written name (keys under the maps' rc)
    renderer = fig.canvas.get_renderer()
    for text in layout.labels:
        with mpl.rc_context(RC_PARAMS):
            key = priority_maps._layout_key(
                text.get_text(), text.get_fontsize(), layout.ax, renderer
            )
        x, y = layout.ax.transData.transform(text.get_position())
        kept = priority_maps._LAYOUTS[key].translated(x, y)
        assert np.array_equal(kept.get_points(), text.get_window_extent(renderer).get_points())


def test_a_territory_is_united_once_for_the_same_polygons():
    from parsc_geo.priority.maps import _territory

    districts = to_metric(load_districts(prefix="0601")).geometry
    first = _territory(districts)
    assert first.equals(districts.union_all())
    assert _territory(districts.copy()) is first  # same polygons, same order: kept
    other = _territory(districts.iloc[::-1])  # another order is united again
    assert other is not first and other.equals(first)


def test_a_label_box_without_matplotlib_s_private_layout_is_the_public_box_moved_back():
    # a matplotlib whose Text has no _get_layout: the window extent less the anchor's position
    from matplotlib.transforms import Affine2D, Bbox

    from parsc_geo.priority.maps import _text_layout

    class PublicText:
        def get_transform(self):
            return Affine2D().scale(2.0).translate(10.0, 20.0)

        def get_unitless_position(self):
            return (5.0, 7.0)  # display (20, 34)

        def get_window_extent(self, renderer):
            return Bbox([[14.0, 30.0], [26.0, 38.0]])

    box = _text_layout(PublicText(), renderer=None)
    assert box.get_points().tolist() == [[-6.0, -4.0], [6.0, 4.0]]
