"""Maps that lead somewhere: the atlas index, own and touching zones, words, base map, popups."""

from __future__ import annotations

import json
import math
import re

import maps_data as md
import numpy as np
import pytest
from shapely.geometry import box

from parsc_geo._errors import ConfigError
from parsc_geo.maps import build_comisaria_map, render_map_html, write_atlas
from parsc_geo.maps.basemap import basemap_data
from parsc_geo.maps.index import AtlasLink, file_title, run_links
from parsc_geo.maps.words import accuracy_for, accuracy_lines, parameter_lines
from parsc_geo.maps.zones import split_own

COMISARIA = "COMISARIA CAJAMARCA I"


def _geojson(page: str) -> list[dict]:
    out = []
    for m in re.finditer(r"parscGeo\.geojson\(", page):
        data, _ = json.JSONDecoder().raw_decode(page, m.end())
        out.extend(data["features"])
    return out


def _with_outside_zone():  # type: ignore[no-untyped-def]
    """maps_data's hotspots plus a KDE zone of 400 × 200 m with a quarter inside the sectors.

    The sectors span x = X0 - 800 … X0 + 800 (maps_data); the zone spans X0 + 700 … X0 + 1100:
    100 m of its 400 m width inside, 25 % of its area.
    """
    import geopandas as gpd
    import pandas as pd

    hs = md.hotspots()
    extra = hs[hs["hotspot_id"] == "kde-0001"].copy()
    extra["hotspot_id"] = "kde-0003"
    extra["n"] = 30
    extra["geometry"] = (
        gpd.GeoSeries([box(md.X0 + 700, md.Y0 - 100, md.X0 + 1100, md.Y0 + 100)], crs=md.UTM)
        .to_crs(4326)
        .to_numpy()
    )
    return gpd.GeoDataFrame(pd.concat([hs, extra], ignore_index=True), crs=hs.crs)


# ---------------------------------------------------------------- own and touching zones
def test_split_own_by_share_of_area():
    hs = _with_outside_zone()
    kde = hs[hs["method"] == "kde"]
    own, touching = split_own(kde, md.sectors())
    assert sorted(own["hotspot_id"]) == ["kde-0001", "kde-0002"]  # wholly inside
    assert touching["hotspot_id"].tolist() == ["kde-0003"]  # 25 % < 50 %
    own, touching = split_own(kde, md.sectors(), share=0.2)
    assert "kde-0003" in set(own["hotspot_id"]) and touching is None


def test_comisaria_page_never_lists_a_touching_zone_as_its_own(tmp_path):
    hs = _with_outside_zone()
    built = build_comisaria_map(
        md.incidents(), md.sectors(), comisaria=COMISARIA, hotspots=hs, tiles=None
    )
    # the 30-incident zone would rank first if it were the comisaría's own
    assert [t["badge"] for t in built.summary["top_hotspots"]] == ["K1", "K2"]
    assert [t["n"] for t in built.summary["top_hotspots"]] == [14, 9]
    assert built.summary["touching_zones"] == 1
    page = render_map_html(built.map)
    assert json.dumps("Zonas de la provincia que tocan la jurisdicción (1)") in page  # layer
    badges = [f["properties"].get("label") for f in _geojson(page)]
    assert "K3" not in badges
    paths = write_atlas(md.incidents(), hotspots=hs, sectors=md.sectors(), output_dir=tmp_path)
    index = paths[-1].read_text(encoding="utf-8")
    entry = index[index.index('href="comisaria-comisaria-cajamarca-i.html"') :]
    entry = entry[: entry.index("</li></ol>")]
    assert "30 incidentes" not in entry and "14 incidentes" in entry


def test_zone_badges_carry_the_method_letter():
    hs = md.hotspots()
    db = hs[hs["hotspot_id"] == "kde-0002"].copy()
    db["method"], db["hotspot_id"] = "dbscan", "dbscan-0001"
    import geopandas as gpd
    import pandas as pd

    both = gpd.GeoDataFrame(pd.concat([hs, db], ignore_index=True), crs=hs.crs)
    built = build_comisaria_map(
        md.incidents(), md.sectors(), comisaria=COMISARIA, hotspots=both, tiles=None
    )
    page = render_map_html(built.map)
    labels = sorted(
        f["properties"]["label"]
        for f in _geojson(page)
        if str(f["properties"].get("popup_title", "")).startswith("Zona crítica")
    )
    # each method numbers its own zones from 1; letters keep K1 and D1 apart
    assert labels == ["D1", "K1", "K2"]
    assert "parsc-badge-dbscan" in page and "parsc-badge-kde" in page
    assert "Zonas críticas: densidad kernel (KDE): letra K, 2 zonas; DBSCAN: letra D, 1 zona." in (
        page
    )


# ---------------------------------------------------------------- index and links
def test_index_links_run_outputs_and_every_page_links_back(tmp_path):
    run = tmp_path / "corrida"
    (run / "prioridad").mkdir(parents=True)
    (run / "patrullaje").mkdir()
    (run / "prioridad" / "tabla_prioridad_provincia.xlsx").write_bytes(b"x")
    (run / "patrullaje" / "patrullaje_comisaria_x.pdf").write_bytes(b"x")
    (run / "RESUMEN.md").write_text("x")
    atlas = run / "mapas"
    links = run_links(run, atlas)
    assert links == [
        AtlasLink(
            "Territorios de intervención prioritaria",
            "Tabla prioridad por provincia (Excel)",
            "../prioridad/tabla_prioridad_provincia.xlsx",
        ),
        AtlasLink(
            "Planes de patrullaje",
            "Patrullaje comisaría x (PDF)",
            "../patrullaje/patrullaje_comisaria_x.pdf",
        ),
        AtlasLink("Resumen de la corrida", "RESUMEN (texto)", "../RESUMEN.md"),
    ]
    paths = write_atlas(md.incidents(), sectors=md.sectors(), output_dir=atlas, links=links)
    index = paths[-1].read_text(encoding="utf-8")
    for link in links:
        assert f'href="{link.href}"' in index
    assert "parscGeo.overview(" in index
    for page in paths[:-1]:
        assert 'href="index.html"' in page.read_text(encoding="utf-8")


def test_index_refuses_urls_as_links(tmp_path):
    with pytest.raises(ConfigError, match="no es una ruta"):
        write_atlas(
            md.incidents(),
            output_dir=tmp_path,
            links=[("Tablas", "x", "javascript:alert(1)")],
        )


def test_file_titles_in_spanish():
    assert file_title("mapa_prioridad_distrito_violencia_mujer") == (
        "Mapa prioridad por distrito — Violencia contra las mujeres e integrantes del grupo "
        "familiar"
    )
    assert file_title("hotspots_kde") == "Hotspots KDE"


# ---------------------------------------------------------------- words
def test_parameters_in_words():
    assert parameter_lines(
        {"kernel": "quartic", "bandwidth": 1060.0, "métodos": "kde, gistar", "ranking": "harm"}
    ) == [
        "Núcleo de la densidad: cuártico",
        "Radio de búsqueda: 1,06 km",
        "Métodos de zonas críticas: densidad kernel (KDE), Getis-Ord Gi*",
        "Zonas ordenadas por: daño ponderado (gravedad de cada delito)",
    ]
    assert parameter_lines({"public": False, "otro_valor": 3}) == [
        "Mapa público: no",
        "Otro valor: 3",
    ]


ROWS = [
    {"method": "kde", "coverage_pct": 5, "hit_rate": 0.3, "pai": 6.0, "pei_star": 0.75},
    {"method": "counts", "coverage_pct": 5, "hit_rate": 0.25, "pai": 5.0, "pei_star": 0.625},
    {"method": "kde", "coverage_pct": 1, "hit_rate": 0.08, "pai": 8.0, "pei_star": 0.5},
    {"method": "counts", "coverage_pct": 1, "hit_rate": 0.1, "pai": 10.0, "pei_star": 0.625},
    {
        "method": "kde",
        "coverage_pct": 1,
        "hit_rate": 0.2,
        "pai": 20.0,
        "pei_star": 0.9,
        "provincia": "Jaén",
    },
]


def test_accuracy_panel_in_words():
    lines = accuracy_lines(accuracy_for(ROWS, "Cajamarca"))
    # hit rate 0.1 in 1 % of the area: PAI = 0.1 / 0.01 = 10 (rows are consistent by design)
    assert lines[:4] == [
        "En el 1 % del área, conteo del periodo anterior (referencia): habría contenido el "
        "10 % de los delitos del periodo siguiente (PAI 10,0; PEI* 0,625).",
        "En el 1 % del área, densidad kernel (KDE): habría contenido el 8,0 % de los delitos "
        "del periodo siguiente (PAI 8,00; PEI* 0,500).",
        "En el 5 % del área, conteo del periodo anterior (referencia): habría contenido el "
        "25 % de los delitos del periodo siguiente (PAI 5,00; PEI* 0,625).",
        "En el 5 % del área, densidad kernel (KDE): habría contenido el 30 % de los delitos "
        "del periodo siguiente (PAI 6,00; PEI* 0,750).",
    ]
    assert lines[-1].startswith("PAI: cuántas veces más delitos por km²")
    # a province with its own rows gets them (accents and case ignored)
    assert accuracy_lines(accuracy_for(ROWS, "JAEN"))[0].startswith(
        "En el 1 % del área, densidad kernel (KDE): habría contenido el 20 %"
    )


def test_accuracy_panel_on_pages(tmp_path):
    paths = write_atlas(
        md.incidents(), sectors=md.sectors(), output_dir=tmp_path, accuracy=ROWS[:4]
    )
    for page in paths[:-1]:
        text = page.read_text(encoding="utf-8")
        assert "Precisión histórica (toda el área de estudio)" in text
        assert "habría contenido el 30 % de los delitos" in text
    short = write_atlas(
        md.incidents(), sectors=md.sectors(), output_dir=tmp_path / "corto", accuracy=[]
    )
    assert "Sin datos suficientes para medirla" in short[0].read_text(encoding="utf-8")
    with pytest.raises(ConfigError, match="accuracy"):
        write_atlas(md.incidents(), output_dir=tmp_path / "malo", accuracy=[{"method": "kde"}])


# ---------------------------------------------------------------- offline base map
def test_base_map_places_from_bundled_tables():
    from parsc_geo import boundaries

    bounds = (-78.60, -7.25, -78.40, -7.05)  # around the city of Cajamarca
    data = basemap_data(bounds, prefix="06")
    lat = np.asarray(data["lat"]) / 10 ** data["decimals"]
    lon = np.asarray(data["lon"]) / 10 ** data["decimals"]
    kinds = [data["kinds"][k]["name"] for k in data["k"]]
    # places inside the frame; district names at a point of each district the frame touches
    place = np.array([k != "district" for k in kinds])
    inside_frame = (lon >= bounds[0]) & (lon <= bounds[2]) & (lat >= bounds[1]) & (lat <= bounds[3])
    assert inside_frame[place].all() and place.sum() > 10
    pairs = set(zip(data["names"], kinds, strict=True))
    assert ("Cajamarca", "province_capital") in pairs and ("Cajamarca", "district") in pairs
    # every bundled capital inside the frame is drawn, each once
    caps = boundaries.load_capitals(prefix="06")
    inside = caps[
        caps["longitud"].between(bounds[0], bounds[2])
        & caps["latitud"].between(bounds[1], bounds[3])
    ]
    capital_kinds = {"province_capital", "district_capital"}
    assert sum(k in capital_kinds for k in kinds) == len(inside)


def _basemap_reference(bounds, prefix):
    """basemap_data as first written (a row at a time): the prepared tables must match it."""
    from parsc_geo import boundaries, settings
    from parsc_geo._text import fold
    from parsc_geo.maps.basemap import _KIND, KINDS, SAME_PLACE_M, place_name

    pre = prefix or ""
    rows = []
    caps = boundaries.load_capitals(prefix=pre)
    cap = caps[
        caps["longitud"].between(bounds[0], bounds[2])
        & caps["latitud"].between(bounds[1], bounds[3])
    ]
    cap_xy = []
    for _, r in cap.iterrows():
        kind = "province_capital" if str(r["ubigeo"]).endswith("01") else "district_capital"
        rows.append((_KIND[kind], str(r["capital"]), float(r["latitud"]), float(r["longitud"])))
        cap_xy.append((fold(r["capital"]), float(r["latitud"]), float(r["longitud"])))
    districts = boundaries.load_districts(prefix=pre) if pre else None
    if districts is not None and len(districts):
        part = districts.cx[bounds[0] : bounds[2], bounds[1] : bounds[3]]
        points = part.to_crs(settings.CRS_GEOGRAPHIC).representative_point()
        for name, pt in zip(part["distrito"], points, strict=True):
            rows.append((_KIND["district"], str(name), float(pt.y), float(pt.x)))
    places = boundaries.load_settlements(prefix=pre)
    places = places[
        places["longitud"].between(bounds[0], bounds[2])
        & places["latitud"].between(bounds[1], bounds[3])
    ]
    for _, r in places.iterrows():
        name, y, x = str(r["centro_poblado"]), float(r["latitud"]), float(r["longitud"])
        # a place named like a capital within SAME_PLACE_M of it is that capital
        same = any(
            key == fold(name)
            and math.hypot((y - cy) * 111_000.0, (x - cx) * 111_000.0 * np.cos(np.radians(cy)))
            <= SAME_PLACE_M
            for key, cy, cx in cap_xy
        )
        if not same:
            kind = "urban" if str(r.get("tipo", "")).lower().startswith("urb") else "rural"
            rows.append((_KIND[kind], place_name(name), y, x))
    rows.sort(key=lambda t: (t[0], fold(t[1]), t[2], t[3]))
    scale = 10**settings.COORD_DECIMALS
    return {
        "decimals": settings.COORD_DECIMALS,
        "lat": [round(t[2] * scale) for t in rows],
        "lon": [round(t[3] * scale) for t in rows],
        "k": [t[0] for t in rows],
        "names": [t[1] for t in rows],
        "kinds": [k.as_json() for k in KINDS],
    }


@pytest.mark.parametrize(
    ("bounds", "prefix"),
    [
        ((-78.60, -7.25, -78.40, -7.05), "06"),  # the city of Cajamarca
        ((-80.0, -8.0, -77.0, -4.0), "06"),  # the whole department: 6,633 places
        ((-79.2, -6.9, -78.3, -6.0), "0604"),  # one province's tables
    ],
)
def test_base_map_prepared_places_match_a_row_at_a_time(bounds, prefix):
    # the populated places are prepared once per prefix for every page: same places, same order
    assert basemap_data(bounds, prefix=prefix) == _basemap_reference(bounds, prefix)


def test_base_map_layer_on_pages_and_optional(tmp_path):
    on = write_atlas(md.incidents(), sectors=md.sectors(), output_dir=tmp_path / "a", tiles=None)
    off = write_atlas(
        md.incidents(), sectors=md.sectors(), output_dir=tmp_path / "b", tiles=None, basemap=False
    )
    assert "parscGeo.basemap(" in on[0].read_text(encoding="utf-8")
    assert "parscGeo.basemap(" not in off[0].read_text(encoding="utf-8")


# ---------------------------------------------------------------- popups lead to the complaint
def test_internal_popups_carry_complaint_number_address_and_source(tmp_path):
    inc = md.incidents()
    inc["descripcion"] = [f"Jr. Amalia Puga {100 + k}" for k in range(len(inc))]
    built = build_comisaria_map(inc, md.sectors(), comisaria=COMISARIA, tiles=None)
    page = render_map_html(built.map)
    m = re.search(r"parscGeo\.incidents\(\w+,\s*", page)
    assert m
    data, _ = json.JSONDecoder().raw_decode(page, m.end())
    # incident k: number i{k:03d}, address "Jr. Amalia Puga {100 + k}", row k + 1 of fixture.csv
    for i in (0, 7, 35):
        k = int(data["ids"][data["id"][i]][1:])
        assert data["addresses"][data["ad"][i]] == f"Jr. Amalia Puga {100 + k}"
        assert data["sources"][data["src"][i]] == "fixture.csv" and data["row"][i] == k + 1
    assert built.summary["complaint_numbers"] == built.summary["addresses"] == md.N_INCIDENTS
    public = write_atlas(
        inc, sectors=md.sectors(), output_dir=tmp_path, public=True, privacy_k=2, tiles=None
    )
    for path in public:
        text = path.read_text(encoding="utf-8")
        assert "Amalia Puga" not in text and "i007" not in text and "fixture.csv" not in text
