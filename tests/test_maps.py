"""Content tests of the rendered maps (layers, legends, colours and counts, bounds, escaping)."""

from __future__ import annotations

import datetime as dt
import json
import re
from html.parser import HTMLParser

import maps_data as md
import numpy as np
import pytest
from pyproj import Transformer

from parsc_geo import settings
from parsc_geo._errors import ConfigError, OutputError
from parsc_geo.maps import (
    add_legend,
    add_title_block,
    build_comisaria_map,
    build_province_map,
    new_map,
    render_map_html,
    write_atlas,
    write_map_html,
)
from parsc_geo.maps.layers import DENSITY_COLORS, GI_CLASSES, density_image
from parsc_geo.taxonomy import GENERICO_COLORS, GENERICO_LABELS_ES

COMISARIA = "COMISARIA CAJAMARCA I"


# ---------------------------------------------------------------- helpers (parse the page)
def overlays(page: str) -> list[str]:
    block = re.search(r"overlays :\s*\{(.*?)\},\s*\}", page, re.S)
    assert block, "no layer control"
    return [json.loads(k) for k in re.findall(r'^\s*("(?:[^"\\]|\\.)*")\s*:', block.group(1), re.M)]


def incident_payload(page: str) -> dict:
    match = re.search(r"parscGeo\.incidents\(\w+,\s*(\{.*?\}), \{\n", page, re.S)
    assert match, "no incident layer"
    return json.loads(match.group(1))


def geojson_payloads(page: str) -> list[dict]:
    return [
        json.loads(m)
        for m in re.findall(r"parscGeo\.geojson\((\{.*?\}),\s*\n\s*\{\"labelClass\"", page, re.S)
    ]


class LegendParser(HTMLParser):
    """Collect legend entries: (section title, colour, label, count)."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[tuple[str, str, str, str]] = []
        self.section = ""
        self._in: str | None = None
        self._cur: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class") or ""
        if tag == "summary":
            self._in = "summary"
            self.section = ""
        elif tag == "li" and "data-color" in a:
            self._cur = {"color": a["data-color"], "label": "", "count": ""}
        elif tag == "span" and "parsc-entry" in cls:
            self._in = "label"
        elif tag == "span" and "parsc-count" in cls:
            self._in = "count"

    def handle_endtag(self, tag):
        if tag == "li" and self._cur:
            c = self._cur
            self.entries.append((self.section, c["color"], c["label"], c["count"]))
            self._cur = {}
        if tag in ("summary", "span"):
            self._in = None

    def handle_data(self, data):
        if self._in == "summary":
            self.section += data
        elif self._in in ("label", "count") and self._cur:
            self._cur[self._in] += data


def legend(page: str) -> list[tuple[str, str, str, str]]:
    block = re.search(r'<details class="parsc-legends".*?</details>', page, re.S)
    parser = LegendParser()
    parser.feed(page[page.index('class="parsc-legends"') :])
    assert block
    return parser.entries


def fit_bounds(page: str) -> tuple[float, float, float, float]:
    m = re.search(
        r"fitBounds\(\s*\[\[([-\d.]+),\s*([-\d.]+)\],\s*\[([-\d.]+),\s*([-\d.]+)\]\]", page
    )
    assert m
    s, w, n, e = map(float, m.groups())
    return w, s, e, n


@pytest.fixture(scope="module")
def comisaria_page() -> str:
    built = build_comisaria_map(
        md.incidents(payload=True),
        md.sectors(),
        comisaria=COMISARIA,
        hotspots=md.hotspots(),
        density=md.density(),
        synthetic=True,
        tiles=None,
    )
    return render_map_html(built.map)


@pytest.fixture(scope="module")
def province_page() -> str:
    built = build_province_map(
        md.incidents(payload=True),
        province="cajamarca",
        hotspots=md.hotspots(),
        density=md.density(),
        tiles="OpenStreetMap",
        parameters={"bandwidth": 300.0, "kernel": "quartic"},
    )
    return render_map_html(built.map)


# ---------------------------------------------------------------- layers
def test_comisaria_layers(comisaria_page):
    names = overlays(comisaria_page)
    assert names == [
        "Mapa base sin conexión: capitales y centros poblados (1)",
        "Densidad de incidentes",
        "Distritos (1)",
        "Sectores (2)",
        "Subsectores con número de incidentes (4)",
        "Zonas críticas por densidad kernel (KDE) (2)",
        "Comisarías y dependencias policiales (2)",
        "Incidentes: Violencia contra las mujeres e integrantes del grupo familiar (8)",
        "Incidentes: Muertes violentas (2)",
        "Incidentes: Delitos patrimoniales en espacios públicos (18)",
        "Incidentes: Otros delitos (8)",
    ]


def test_province_layers_include_gistar_and_provinces(province_page):
    names = overlays(province_page)
    assert "Provincias (1)" in names
    # 13 districts in Cajamarca province (INEI).
    assert "Distritos (12)" in names
    assert "Gi*: celdas calientes y frías (6)" in names  # the non-significant cell is not drawn
    assert len(names) == 11
    assert names[0].startswith("Mapa base sin conexión")
    assert '"OpenStreetMap"' in province_page  # base layer offered


def test_subsector_labels_and_counts(comisaria_page):
    fcs = geojson_payloads(comisaria_page)
    labels = {
        f["properties"]["label"][0]: f["properties"]["label"][1]["n"]
        for fc in fcs
        for f in fc["features"]
        if isinstance(f["properties"].get("label"), list)
    }
    # Incidents k = 0..35 are placed A, B, C, D in turn (k % 4): 36 / 4 = 9 each; their month
    # is 1 + k % 3, and the 9 k of one subsector cycle through k % 3: 3 per month.
    for sub in "ABCD":
        assert labels[f"SUB SECTOR {sub}: "] == [9, 3, 3, 3]


def test_hotspots_ranked_by_count(comisaria_page):
    fcs = geojson_payloads(comisaria_page)
    ranked = [
        f
        for fc in fcs
        for f in fc["features"]
        if f["properties"].get("popup_title", "").startswith("Zona crítica")
    ]
    by_rank = {
        f["properties"]["label"]: {k: v for k, v in f["properties"]["popup"] if isinstance(k, str)}
        for f in ranked
    }
    # K = kernel density zones, numbered by n descending (14 before 9)
    assert by_rank["K1"]["Incidentes en todo el periodo"] == "14"
    assert by_rank["K2"]["Incidentes en todo el periodo"] == "9"
    assert by_rank["K1"]["Horas pico"] == "19–22 h"


def test_gistar_colours_by_class(province_page):
    fcs = geojson_payloads(province_page)
    colours = [
        f["properties"]["style"]["fillColor"]
        for fc in fcs
        for f in fc["features"]
        if f["properties"].get("popup_title", "").startswith(("Caliente", "Frío"))
    ]
    assert sorted(colours) == sorted(c for _, c in GI_CLASSES.values())


# ---------------------------------------------------------------- legend, colours and counts
def test_incident_legend_colours_and_counts(comisaria_page):
    entries = [e for e in legend(comisaria_page) if e[0] == "Incidentes por delito genérico"]
    expected: dict[str, int] = {}
    for gen, *_, count in md.KINDS:
        expected[gen] = expected.get(gen, 0) + count
    got = {label: (colour, int(count.replace(",", ""))) for _, colour, label, count in entries}
    assert got == {GENERICO_LABELS_ES[g]: (GENERICO_COLORS[g], n) for g, n in expected.items()}


def test_point_colours_match_categories(comisaria_page):
    d = incident_payload(comisaria_page)
    colours = [d["generico_colors"][g] for g in d["g"]]
    expected: dict[str, int] = {}
    for gen, *_, count in md.KINDS:
        expected[GENERICO_COLORS[gen]] = expected.get(GENERICO_COLORS[gen], 0) + count
    assert {c: colours.count(c) for c in set(colours)} == expected
    assert len(d["lat"]) == md.N_INCIDENTS


def period_payload(page: str) -> dict:
    match = re.search(r"parscGeo\.periodControl\(\w+, (\{.*?\})\);\n", page, re.S)
    assert match, "no period control"
    return json.loads(match.group(1))


def test_month_filter_counts(comisaria_page):
    d = period_payload(comisaria_page)
    # maps_data: month 1 + k % 3 for k = 0..35, 12 per month
    assert d["labels"] == ["enero 2020", "febrero 2020", "marzo 2020"]
    assert d["counts"] == [12, 12, 12] and d["total"] == 36
    assert any("densidad" in line for line in d["note"])  # the page says what follows it


def test_popup_fields_internal(comisaria_page):
    d = incident_payload(comisaria_page)
    assert "HURTO SIMPLE" in d["modalidades"]
    # every fifth incident has no known time
    assert sum(1 for h in d["h"] if h < 0) == md.N_INCIDENTS // 5
    assert d["dates"][0].startswith("2020-01")


def density_payload(page: str) -> dict:
    match = re.search(r"parscGeo\.density\(\w+,\s*(\{.*?\})\);\n", page, re.S)
    assert match, "no density layer"
    return json.loads(match.group(1))


def test_density_classes_legend(comisaria_page):
    entries = [e for e in legend(comisaria_page) if e[0].startswith("Densidad")]
    assert [label for _, _, label, _ in entries] == [
        "0,1 a 0,3",
        "0,3 a 1",
        "1 a 3",
        "3 a 10",
        "10 a 30",
        "30 a 100",
        "100 o más",
    ]
    assert "Densidad (incidentes por km² y por mes)" in comisaria_page
    # one image for the whole period and one per month (3 months in maps_data)
    assert len(density_payload(comisaria_page)["urls"]) == 4
    assert "heatLayer" not in comisaria_page


def test_density_image_georeferenced_and_ramp():
    import base64
    from io import BytesIO

    from PIL import Image

    raster = md.density()
    url, bounds, vmax = density_image(raster)
    assert vmax == 25.0
    (south, west), (north, east) = bounds
    to_ll = Transformer.from_crs(32717, 4326, always_xy=True)
    t = raster.transform
    corners = [to_ll.transform(t.c + dx, t.f + dy) for dx in (0, 1500) for dy in (0, -1000)]
    lons, lats = zip(*corners, strict=True)
    cell_deg = 50 / 111_000
    # the image edges are the raster's edges to within one cell (Web Mercator resampling)
    assert abs(west - min(lons)) < cell_deg and abs(east - max(lons)) < cell_deg
    assert abs(south - min(lats)) < cell_deg and abs(north - max(lats)) < cell_deg
    img = np.asarray(Image.open(BytesIO(base64.b64decode(url.split(",", 1)[1]))))
    row = img[img.shape[0] // 2]
    assert (row[:3, 3] == 0).all()  # zero density (west edge) is transparent
    top = tuple(int(DENSITY_COLORS[-1][i : i + 2], 16) for i in (1, 3, 5))
    assert np.abs(row[-2, :3].astype(int) - np.array(top)).max() <= 12  # east edge: top colour
    assert row[-2, 3] == 255


# ---------------------------------------------------------------- title block, banner, bounds
def test_banner_and_internal_notice(comisaria_page, province_page):
    assert settings.SYNTHETIC_BANNER in comisaria_page
    assert 'id="parsc-synthetic-banner"' in comisaria_page
    assert 'id="parsc-synthetic-banner"' not in province_page
    for page in (comisaria_page, province_page):
        assert settings.INTERNAL_NOTICE in page


def test_title_block_fields(province_page):
    assert "Mapa del delito — Provincia de Cajamarca" in province_page
    for label in ("Lugar", "Periodo", "Fuente", "Generado"):
        assert f">{label}<" in province_page
    assert ">Cómo se hizo este mapa<" in province_page
    # maps_data: month 1 + k % 3, day 3 + k % 20; latest March day: k = 17 → 20
    assert "2020-01-03 a 2020-03-20" in province_page
    # parameters in words, not code values
    assert "<li>Radio de búsqueda: 300 m</li>" in province_page
    assert "<li>Núcleo de la densidad: cuártico</li>" in province_page
    assert "bandwidth" not in province_page and "<code>" not in province_page


def test_province_bounds_match_boundary(province_page):
    from parsc_geo.boundaries import load_provinces

    p = load_provinces()
    expected = p[p["provincia"] == "Cajamarca"].total_bounds
    assert np.allclose(fit_bounds(province_page), expected, atol=1e-9)


def test_comisaria_bounds_frame_sectors(comisaria_page):
    w, s, e, n = fit_bounds(comisaria_page)
    sw, ss, se, sn = md.sectors().total_bounds
    margin = 300 / 111_000
    assert w < sw and s < ss and e > se and n > sn
    assert np.allclose(
        [w, s, e, n], [sw - margin, ss - margin, se + margin, sn + margin], atol=1e-3
    )


def test_coordinates_rounded(comisaria_page):
    for fc in geojson_payloads(comisaria_page):
        text = json.dumps([f["geometry"] for f in fc["features"]])
        assert not re.search(r"\d\.\d{6,}", text)
    d = incident_payload(comisaria_page)
    assert d["decimals"] == settings.COORD_DECIMALS
    assert all(isinstance(v, int) for v in d["lat"][:5])


# ---------------------------------------------------------------- escaping
@pytest.mark.parametrize("payload", [md.XSS_IMG, md.XSS_SCRIPT])
def test_payloads_never_raw(comisaria_page, payload):
    assert payload not in comisaria_page
    # the text is still there, escaped for JSON inside a script
    escaped = payload.replace("<", "\\u003c").replace(">", "\\u003e")
    assert escaped in comisaria_page


def test_escaping_in_title_and_legend():
    m = new_map(bounds=(-78.6, -7.2, -78.4, -7.1), tiles=None)
    add_title_block(m, title=md.XSS_SCRIPT, place=md.XSS_IMG, period=None, source="x")
    add_legend(m, md.XSS_IMG, [("#000000", md.XSS_SCRIPT, 1)])
    page = render_map_html(m)
    assert md.XSS_IMG not in page and md.XSS_SCRIPT not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_address_text_is_data_of_internal_popups(comisaria_page):
    # descripcion holds the address/reference columns of police exports (io.columns): internal
    # pages carry it as JSON data for the popup, never as markup (public pages: test_maps_public)
    d = incident_payload(comisaria_page)
    assert "texto libre del denunciante" in d["addresses"]
    assert len(d["ad"]) == md.N_INCIDENTS


# ---------------------------------------------------------------- errors and files
def test_bad_bounds_and_unknown_province():
    with pytest.raises(ConfigError, match="bounds"):
        new_map(bounds=(10, 10, 0, 0))
    with pytest.raises(ConfigError, match="provincia desconocida"):
        build_province_map(md.incidents(), province="Lima")
    with pytest.raises(ConfigError, match="no hay sectores"):
        build_comisaria_map(md.incidents(), md.sectors(), comisaria="OTRA")


def test_write_map_refuses_overwrite(tmp_path):
    m = new_map(bounds=(-78.6, -7.2, -78.4, -7.1), tiles=None)
    out = write_map_html(m, tmp_path / "a.html")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(OutputError, match="ya existe"):
        write_map_html(m, tmp_path / "a.html")
    write_map_html(m, tmp_path / "a.html", overwrite=True)


def test_write_atlas_files_and_index(tmp_path):
    paths = write_atlas(
        md.incidents(),
        hotspots=md.hotspots(),
        sectors=md.sectors(),
        densities={"Cajamarca": md.density(), f"comisaria:{COMISARIA}": md.density()},
        output_dir=tmp_path,
        synthetic=True,
        tiles=None,
    )
    assert [p.name for p in paths] == [
        "provincia-cajamarca.html",
        "comisaria-comisaria-cajamarca-i.html",
        "index.html",
    ]
    index = paths[-1].read_text(encoding="utf-8")
    assert 'href="provincia-cajamarca.html"' in index
    assert 'href="comisaria-comisaria-cajamarca-i.html"' in index
    assert settings.SYNTHETIC_BANNER in index
    assert "36 incidentes" in index
    assert "<span class='badge'>K1</span> densidad kernel (KDE): 14 incidentes" in index
    with pytest.raises(OutputError, match="ya existe"):
        write_atlas(md.incidents(), sectors=md.sectors(), output_dir=tmp_path, tiles=None)


# ------------------------------------------------------- ranking labels, density on the fly
def test_labels_are_consecutive_and_follow_table_rank():
    from parsc_geo.maps.zones import rank_within

    hs = md.hotspots()
    kde = hs[hs["method"] == "kde"].copy()
    # a table ranking over a larger unit: kde-0002 before kde-0001 despite fewer incidents
    kde["rank"] = [3, 7]
    ranked = rank_within(kde)
    assert ranked["hotspot_id"].tolist() == ["kde-0002", "kde-0001"]
    assert ranked["map_rank"].tolist() == [1, 2]
    # without a rank column: by n descending (14 before 9)
    assert rank_within(hs[hs["method"] == "kde"])["hotspot_id"].tolist() == [
        "kde-0001",
        "kde-0002",
    ]


def test_province_hotspots_selected_by_province_column():
    hs = md.hotspots()
    hs.loc[hs["hotspot_id"] == "kde-0002", "provincia"] = "Chota"  # another province's row
    built = build_province_map(md.incidents(), province="Cajamarca", hotspots=hs, tiles=None)
    assert built.summary["hotspots"] == {"kde": 1}
    assert built.summary["top_hotspots"][0]["n"] == 14


def test_write_atlas_computes_density(tmp_path):
    paths = write_atlas(md.incidents(), sectors=md.sectors(), output_dir=tmp_path, tiles=None)
    page = paths[1].read_text(encoding="utf-8")
    assert len(density_payload(page)["urls"]) == 4  # whole period + 3 months
    assert "Densidad: núcleo cuártico" in page


def test_write_atlas_density_options_and_keys(tmp_path):
    paths = write_atlas(
        md.incidents(),
        sectors=md.sectors(),
        densities={"CAJAMARCA": md.density()},  # key case and accents are ignored
        density_options={"bandwidth": 400.0, "cell_size": 25.0},
        output_dir=tmp_path,
        tiles=None,
    )
    province, comisaria = (p.read_text(encoding="utf-8") for p in paths[:2])
    _, bounds, _ = density_image(md.density())
    given = np.ravel(density_payload(province)["bounds"])
    assert np.allclose(given, np.ravel(bounds), atol=1e-4)  # the given raster's extent
    # computed with the options
    assert "radio de búsqueda: 400 m (fijado en la configuración); celdas de 25 m" in comisaria


def test_same_map_renders_to_the_same_bytes():
    from parsc_geo.maps import add_title_block, new_map
    from parsc_geo.maps.base import render_map_html

    def page() -> str:
        m = new_map(bounds=(-78.7, -7.3, -78.4, -7.0), tiles=None)
        add_title_block(
            m,
            title="Prueba",
            place="Cajamarca",
            period="2020",
            source="prueba",
            generated=dt.datetime(2020, 11, 1),
        )
        return render_map_html(m)

    first, second = page(), page()
    assert first == second
    assert "map_00000000000000000000000000000001" in first
