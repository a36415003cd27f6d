"""The privacy rule of public outputs (issue 13): nobody located, places of at least k incidents.

The hostile test planted 20 family-violence reports at one rural house: the public map drew a
DBSCAN zone 0.08 m from the home with the popup "VIOLENCIA FAMILIAR (20)", and seven spellings
escaped the keyword filter as points. Here the house is planted again (and with each spelling)
and no coordinate of a public page may lie within 100 m of it.
"""

from __future__ import annotations

import json

import geopandas as gpd
import maps_data as md
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from privacy_checks import density_lonlat, distances_m, incident_lonlat, published_lonlat
from shapely.geometry import Point

from parsc_geo._errors import ConfigError
from parsc_geo.maps import write_atlas
from parsc_geo.privacy import (
    DEFAULT_K,
    REPORT_NAME,
    PrivacyRule,
    count_text,
    generalise,
    withheld_reasons,
)
from parsc_geo.taxonomy import normalise_labels

UTM = "EPSG:32717"
#: A rural house 6 km north-east of the fixture's city centre, in Cajamarca province, more than
#: 5 km from any INEI boundary vertex and 6 km from any police station (so that nothing else
#: published lies near it).
HOUSE = (md.X0 + 6_000.0, md.Y0 + 6_000.0)
SEVEN = [
    "VIOLENCIA INTRAFAMILIAR",
    "MALTRATO FAMILIAR",
    "VIOLENCIA DOMESTICA",
    "VIOLENCIA DE GENERO",
    "AGRESION CONTRA LAS MUJERES",
    "ESTUPRO",
    "ABUSO DE MENOR",
]


# ----------------------------------------------------------------------- the rule by hand
def _at(xy: list[tuple[float, float]], label: str = "ROBO AGRAVADO") -> gpd.GeoDataFrame:
    labels = normalise_labels(pd.Series([label] * len(xy)))
    frame = labels.reset_index(drop=True)
    frame["label_raw"] = label
    frame["incident_id"] = [f"h{i}" for i in range(len(xy))]
    frame["occurred_at"] = pd.Timestamp("2020-05-01 10:00", tz="America/Lima")
    frame["descripcion"] = "texto libre"
    return gpd.GeoDataFrame(frame, geometry=[Point(x, y) for x, y in xy], crs=UTM)


def test_places_by_hand():
    """k = 3, 100 m grid, one doubling. Cells are aligned on the UTM origin.

    - cell [774 000, 774 100) × [9 207 000, 9 207 100): 3 robberies → a place at its centre
      (774 050, 9 207 050), cell 100 m;
    - cells (774 100.., 9 207 000..) with 2 and (774 000.., 9 207 100..) with 1: fewer than 3
      each, pooled in their 200 m parent [774 000, 774 200) × [9 207 000, 9 207 200): 3 → a
      place at (774 100, 9 207 100), cell 200 m;
    - one robbery 5 km away: alone in its 200 m cell → suppressed;
    - one family-violence report in the first cell: never located (and not counted there).
    """
    robberies = _at(
        [
            (774_010, 9_207_010),
            (774_050, 9_207_090),
            (774_099, 9_207_001),
            (774_120, 9_207_020),
            (774_180, 9_207_080),
            (774_030, 9_207_150),
            (779_000, 9_212_000),
        ]
    )
    violence = _at([(774_020, 9_207_020)], "VIOLENCIA FAMILIAR")
    incidents = pd.concat([robberies, violence], ignore_index=True)
    pub = generalise(incidents, PrivacyRule(k=3, grid_m=100, levels=1))
    places = pub.places.to_crs(UTM)
    got = sorted(
        (round(g.x, 6), round(g.y, 6), c, n)
        for g, c, n in zip(places.geometry, places["cell_m"], places["n"], strict=True)
    )
    assert got == [(774_050, 9_207_050, 100.0, 3), (774_100, 9_207_100, 200.0, 3)]
    assert pub.withheld == {
        "categoria_sensible": 1,
        "categoria_no_reconocida": 0,
        "sin_ubicacion": 0,
        "suprimido_por_k": 1,
    }
    assert len(pub.points) == 6
    assert set(pub.points.columns).isdisjoint({"descripcion", "label_raw", "incident_id"})
    # each published incident sits at its place, at most half its cell's diagonal away
    moved = pub.points.to_crs(UTM).distance(incidents.loc[pub.points.index].to_crs(UTM))
    assert (moved <= pub.points["cell_m"] * np.sqrt(2) / 2 + 1e-6).all()


def test_every_place_stands_for_k_incidents_whatever_the_data():
    rng = np.random.default_rng(3)
    xy = [(774_000 + rng.exponential(400), 9_207_000 + rng.exponential(400)) for _ in range(400)]
    incidents = _at(xy, "HURTO SIMPLE")
    for k in (1, 2, 5, 10):
        pub = generalise(incidents, PrivacyRule(k=k))
        assert pub.places["n"].min() >= k
        assert pub.places["n"].sum() == len(pub.points)
        assert len(pub.points) + pub.withheld["suprimido_por_k"] == 400
        # every published incident is at its place's coordinates
        joined = pub.points.merge(pub.places[["place_id", "geometry"]], on="place_id")
        assert (
            gpd.GeoSeries(joined["geometry_x"]).distance(gpd.GeoSeries(joined["geometry_y"])) == 0
        ).all()
    # the order of the rows does not change the result
    shuffled = incidents.sample(frac=1, random_state=1)
    a, b = generalise(incidents).places, generalise(shuffled).places
    assert a.drop(columns="geometry").equals(b.drop(columns="geometry"))


def test_withheld_reasons_follow_the_taxonomy_and_locations():
    frame = pd.concat(
        [
            _at([(774_000, 9_207_000)], "ESTUPRO"),
            _at([(774_000, 9_207_000)], "Pelea de gallos clandestina"),
            _at([(774_000, 9_207_000)], "HURTO SIMPLE"),
            _at([(774_000, 9_207_000)], "HURTO SIMPLE"),
        ],
        ignore_index=True,
    )
    frame["at_station"] = [False, False, True, False]
    assert withheld_reasons(frame).tolist() == [
        "categoria_sensible",
        "categoria_no_reconocida",
        "sin_ubicacion",
        "",
    ]


def test_rule_parameters_and_count_text():
    assert PrivacyRule().k == DEFAULT_K == 5
    assert PrivacyRule().cell_sizes == (100.0, 200.0, 400.0, 800.0, 1600.0)
    for bad in ({"k": 0}, {"k": 2.5}, {"grid_m": 0}, {"grid_m": float("nan")}, {"levels": -1}):
        with pytest.raises(ConfigError):
            PrivacyRule(**bad)  # type: ignore[arg-type]
    assert [count_text(n, 5) for n in (0, 1, 4, 5, 12_345)] == [
        "0",
        "menos de 5",
        "menos de 5",
        "5",
        "12\u00a0345",  # the project's thousands separator: a non-breaking space
    ]


# ----------------------------------------------------------------- the planted house, maps
def _house(label: str, n: int = 20) -> gpd.GeoDataFrame:
    """``n`` reports with ``label`` at the house, in the canonical schema (ingest's labels)."""
    rows = md.incidents().iloc[[0] * n].reset_index(drop=True)
    labels = normalise_labels(pd.Series([label] * n))
    for column in labels.columns:
        rows[column] = labels[column].to_numpy()
    rows["label_raw"] = label
    rows["incident_id"] = [f"house-{label}-{i}" for i in range(n)]
    rows["descripcion"] = "agresión en el domicilio"
    rows["sector"] = None
    rows["subsector"] = None
    rows["comisaria"] = None
    return gpd.GeoDataFrame(
        rows.drop(columns="geometry"), geometry=[Point(*HOUSE)] * n, crs=UTM
    ).to_crs("EPSG:4326")


def _neighbours() -> gpd.GeoDataFrame:
    """Three robberies 250–400 m from the house: fewer than k, so never published there."""
    rows = _at([(HOUSE[0] + 250, HOUSE[1]), (HOUSE[0], HOUSE[1] - 300), (HOUSE[0] + 400, HOUSE[1])])
    rows["provincia"] = "CAJAMARCA"
    rows["at_station"] = False
    return rows.to_crs("EPSG:4326")


def _planted(labels: list[str]) -> gpd.GeoDataFrame:
    frames = [md.incidents(), _neighbours()] + [_house(label) for label in labels]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")


def _dbscan_zones(incidents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Internal DBSCAN zones of every incident: one of them sits on the house."""
    from parsc_geo.hotspots import hotspot_dbscan

    return hotspot_dbscan(incidents, eps=150.0, min_samples=5, quiet=True)


def _zone_near_house(zones: gpd.GeoDataFrame) -> float:
    centroids = zones.to_crs(UTM).geometry.centroid
    return float(centroids.distance(Point(*HOUSE)).min())


@pytest.fixture(scope="module")
def planted_atlases(tmp_path_factory):
    """Internal and public atlases of the city fixture plus 20 reports at the house."""
    incidents = _planted(["VIOLENCIA FAMILIAR"])
    zones = _dbscan_zones(incidents)
    root = tmp_path_factory.mktemp("planted")
    common = {"hotspots": zones, "sectors": md.sectors(), "tiles": None, "synthetic": True}
    internal = write_atlas(incidents, output_dir=root / "interno", **common)
    public = write_atlas(incidents, output_dir=root / "publico", public=True, **common)
    offline = write_atlas(
        incidents, output_dir=root / "offline", public=True, offline=True, **common
    )
    return zones, internal, public, offline


def test_internal_map_shows_the_house_so_the_check_can_fail(planted_atlases):
    zones, internal, _, _ = planted_atlases
    assert _zone_near_house(zones) < 1.0  # the DBSCAN zone of the hostile test
    page = internal[0].read_text(encoding="utf-8")  # the province map
    assert distances_m(incident_lonlat(page), HOUSE).min() < 2.0
    assert distances_m(density_lonlat(page), HOUSE).min() < 100.0
    assert distances_m(published_lonlat(page), HOUSE).min() < 2.0


@pytest.mark.parametrize("which", [2, 3])
def test_public_pages_publish_nothing_near_the_house(planted_atlases, which):
    pages = planted_atlases[which]
    for path in pages:
        page = path.read_text(encoding="utf-8")
        near = distances_m(published_lonlat(page), HOUSE)
        assert not len(near) or near.min() > 100.0, path.name
        assert "VIOLENCIA FAMILIAR" not in page.upper().replace("Á", "A")
        assert "agresión en el domicilio" not in page


def test_privacidad_json_accounts_for_the_house(planted_atlases):
    public = planted_atlases[2]
    report = json.loads((public[-1].parent / REPORT_NAME).read_text(encoding="utf-8"))
    assert report["regla"]["k"] == 5 and report["regla"]["version"] == "1"
    withheld = report["incidentes"]["no_ubicados"]
    # 20 at the house + the fixture's 8 (5 violencia familiar, 3 violación)
    assert withheld["categoria_sensible"] == 20 + md.N_SENSITIVE
    # the three robberies near the house: alone in every cell up to 1 600 m
    assert withheld["suprimido_por_k"] >= 3
    total = report["incidentes"]["entrada"]
    assert total == md.N_INCIDENTS + 3 + 20
    assert report["incidentes"]["publicados_en_lugares"] + sum(withheld.values()) == total
    assert report["lugares"]["minimo_incidentes_por_lugar"] >= 5
    categories = report["categorias_sensibles_no_ubicadas"]
    assert categories["VIOLENCIA FAMILIAR"] == "25"  # the house's 20 and the fixture's 5
    assert categories["VIOLACION SEXUAL"] == "menos de 5"  # the fixture's 3
    assert report["zonas_criticas"]["metodos"] == ["dbscan"]
    assert [p["archivo"] for p in report["paginas"]] == [p.name for p in public[:-1]]


@pytest.mark.parametrize("label", SEVEN)
def test_each_of_the_seven_spellings_is_never_located(tmp_path, label):
    incidents = _planted([label])
    zones = _dbscan_zones(incidents)
    assert _zone_near_house(zones) < 1.0
    pages = write_atlas(
        incidents,
        hotspots=zones,
        sectors=md.sectors(),
        output_dir=tmp_path,
        public=True,
        tiles=None,
    )
    for path in pages:
        page = path.read_text(encoding="utf-8")
        near = distances_m(published_lonlat(page), HOUSE)
        assert not len(near) or near.min() > 100.0
        assert label not in page
    report = json.loads((tmp_path / REPORT_NAME).read_text(encoding="utf-8"))
    assert report["incidentes"]["no_ubicados"]["categoria_sensible"] == 20 + md.N_SENSITIVE


def test_larger_k_pools_more(tmp_path):
    incidents = _planted(["VIOLENCIA FAMILIAR"])
    small = generalise(incidents, PrivacyRule(k=2))
    large = generalise(incidents, PrivacyRule(k=10))
    assert large.places["n"].min() >= 10 and small.places["n"].min() >= 2
    assert large.withheld["suprimido_por_k"] >= small.withheld["suprimido_por_k"]


# ---------------------------------------------------------------------------- the commands
def _workspace(tmp_path, incidents: gpd.GeoDataFrame, zones: gpd.GeoDataFrame):
    from parsc_geo.schema import QUARANTINE_COLUMNS
    from parsc_geo.store import Workspace

    ws = Workspace(tmp_path / "w.gpkg")
    ws.import_incidents(
        incidents,
        pd.DataFrame(columns=list(QUARANTINE_COLUMNS)),
        sources=[{"source": "fixture.csv", "sha256": "0" * 64}],
        sectors=md.sectors(),
        metadata={"synthetic": True},
    )
    ws.write_layer("hotspots", zones)
    return ws.path


def test_cli_map_public_applies_the_rule(tmp_path):
    from parsc_geo.cli.main import cli

    incidents = _planted(SEVEN)
    ws = _workspace(tmp_path, incidents, _dbscan_zones(incidents))
    out = tmp_path / "publico"
    result = CliRunner().invoke(
        cli,
        [
            "map",
            "-w",
            str(ws),
            "-o",
            str(out),
            "--public",
            "--privacy-k",
            "6",
            "--tiles",
            "ninguna",
        ],
    )
    assert result.exit_code == 0, result.output
    pages = sorted(out.glob("*.html"))
    assert len(pages) == 3
    for path in pages:
        page = path.read_text(encoding="utf-8")
        near = distances_m(published_lonlat(page), HOUSE)
        assert not len(near) or near.min() > 100.0
    report = json.loads((out / REPORT_NAME).read_text(encoding="utf-8"))
    assert report["regla"]["k"] == 6
    assert report["incidentes"]["no_ubicados"]["categoria_sensible"] == 7 * 20 + md.N_SENSITIVE
    assert report["lugares"]["minimo_incidentes_por_lugar"] >= 6


@pytest.mark.slow
def test_run_with_public_maps_applies_the_rule(tmp_path):
    """``run`` with ``maps.public = true`` on a raw CSV: the house's rows go through ingest."""
    from pyproj import Transformer

    from parsc_geo.cli.main import cli
    from parsc_geo.datasets import sample_paths

    sample = pd.read_csv(sample_paths()["incidents"], dtype=str, keep_default_na=False)
    city = sample[sample["ubigeo"].str.startswith("0601")].head(600)
    lon, lat = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True).transform(*HOUSE)
    house = pd.concat([city.head(1)] * (20 * len(SEVEN)), ignore_index=True)
    house["delito_generico"] = ""
    house["delito_especifico"] = ""
    house["modalidad"] = [label for label in SEVEN for _ in range(20)]
    house["descripcion"] = "agresión en el domicilio"
    house[["comisaria", "comisaria_id", "sector", "subsector"]] = ""
    house["latitud"], house["longitud"] = f"{lat:.7f}", f"{lon:.7f}"
    house["id"] = [f"CASA-{i}" for i in range(len(house))]
    pd.concat([city, house]).to_csv(tmp_path / "denuncias.csv", index=False)
    (tmp_path / "run.toml").write_text(
        """
title = "Prueba pública"
synthetic = true
[inputs]
incidents = ["denuncias.csv"]
[hotspots]
methods = ["kde", "dbscan"]
[priority]
bootstrap = 5
[maps]
public = true
tiles = false
""",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["run", str(tmp_path / "run.toml"), "--output", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    maps = tmp_path / "out" / "mapas"
    report = json.loads((maps / REPORT_NAME).read_text(encoding="utf-8"))
    assert report["incidentes"]["no_ubicados"]["categoria_sensible"] >= 20 * len(SEVEN)
    for path in sorted(maps.glob("*.html")):
        page = path.read_text(encoding="utf-8")
        near = distances_m(published_lonlat(page), HOUSE)
        assert not len(near) or near.min() > 100.0, path.name


def test_priority_choropleth_suppresses_small_counts(tmp_path):
    """The priority map is public: 1 to k − 1 complaints and the rates revealing them hidden."""
    from parsc_geo.counts import counts_from_incidents
    from parsc_geo.priority import compute_priority
    from parsc_geo.priority_outputs import write_priority_map_html

    result = compute_priority([counts_from_incidents(md.incidents())], n_boot=0)
    table = result.table.copy()
    target = "violencia_mujer"
    rows = (table["objetivo"] == target) & (table["nivel_territorial"] == "provincia")
    assert rows.sum() == 13
    table["n"] = table["n"].astype(int)
    first, second = table.index[rows][:2]
    table.loc[first, ["n", "tasa"]] = [3, 0.2]  # small: suppressed
    table.loc[second, ["n", "tasa"]] = [5, 0.3]  # k: shown
    table.loc[[first, second], "con_datos"] = True  # both ranked (not "sin datos")
    result = result.__class__(**{**result.__dict__, "table": table})
    page = write_priority_map_html(result, tmp_path / "m.html", target=target).read_text("utf-8")
    assert page.count('"denuncias": "menos de 5"') == 1
    assert page.count('"denuncias": "5"') == 1
    assert '"tasa_txt": "0.3"' in page and '"tasa_txt": "0.2"' not in page
    assert "Recuentos menores que 5" in page
