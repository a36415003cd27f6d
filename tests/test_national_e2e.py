"""A new user in Arequipa: sample → ingest --study-area 04 → run, checked against independent joins.

Tried as a new user would (issue 17): ``parsc-geo sample --study-area 04``, then ``parsc-geo ingest
arequipa.csv --study-area 04`` assigns districts, provinces, stations and populations of
Arequipa, and ``run`` writes the atlas, the priority table and the patrol plans naming Arequipa.
"""

from __future__ import annotations

import csv
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from parsc_geo._data import boundaries_dir
from parsc_geo.cli.main import cli
from parsc_geo.workspace import Workspace

pytestmark = pytest.mark.slow


def _arequipa_layers() -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    """Districts, CENACOM units and population of Arequipa read straight from the files."""
    pyogrio.set_gdal_config_options({"CPL_VSIL_GZIP_WRITE_PROPERTIES": "NO"})
    districts = pyogrio.read_dataframe(
        f"/vsigzip/{boundaries_dir() / 'peru_limites.gpkg.gz'}",
        layer="distritos",
        where="ubigeo LIKE '04%'",
    )
    stations = pd.read_csv(boundaries_dir() / "peru_comisarias_cenacom2017.csv", dtype=str)
    stations = stations[stations["ubigeo"].str.startswith("04") & stations["longitud"].notna()]
    population = pd.read_csv(boundaries_dir() / "peru_poblacion_distrital.csv", dtype=str)
    population = population[population["ubigeo"].str.startswith("04")]
    return districts, stations, population


@pytest.fixture(scope="module")
def arequipa(tmp_path_factory):
    root = tmp_path_factory.mktemp("arequipa")
    runner = CliRunner()
    sample = runner.invoke(
        cli,
        [
            "sample",
            "--study-area",
            "04",
            "--start",
            "2020-09",
            "--months",
            "2",
            "--scale",
            "0.2",
            "--sector-comisarias",
            "1",
            "-o",
            str(root / "muestra"),
        ],
    )
    assert sample.exit_code == 0, sample.output
    csv_path = root / "muestra" / "incidents" / "sintetico_arequipa_2020_incidentes.csv"
    sectors = root / "muestra" / "boundaries" / "sintetico_sectores_comisarias_arequipa.geojson"
    # the file a user would have: renamed, nothing in its name says "sintético"
    user_file = root / "arequipa.csv"
    user_file.write_bytes(csv_path.read_bytes())
    ingest = runner.invoke(
        cli,
        ["ingest", str(user_file), "--study-area", "04", "-w", str(root / "arequipa.gpkg")],
    )
    assert ingest.exit_code == 0, ingest.output
    config = root / "arequipa.toml"
    config.write_text(
        "\n".join(
            [
                'study_area = "04"',
                "synthetic = true",
                "[inputs]",
                'incidents = ["arequipa.csv"]',
                f'sectors = "{sectors.as_posix()}"',
                "[hotspots]",
                'methods = ["kde", "gistar"]',
                "[priority]",
                "bootstrap = 0",
                "",
            ]
        ),
        encoding="utf-8",
    )
    run = runner.invoke(cli, ["run", str(config), "-o", str(root / "salida")])
    assert run.exit_code == 0, run.output
    return root, ingest.output


def test_ingest_assigns_like_an_independent_spatial_join(arequipa):
    root, output = arequipa
    assert "Área de estudio: Arequipa (8 provincias)" in output
    ws = Workspace(root / "arequipa.gpkg")
    assert ws.metadata()["study_area"]["ubigeo"] == ["04"]
    incidents = ws.read_incidents()
    raw = pd.read_csv(root / "arequipa.csv", dtype=str)
    assert len(incidents) == len(raw) > 400
    districts, stations, _ = _arequipa_layers()
    # districts and provinces: a plain point-in-polygon join (geopandas/shapely), for the
    # points that lie in exactly one district polygon (the others test the overlap rule)
    pts = incidents[["incident_id", "ubigeo", "provincia", "geometry"]].to_crs("EPSG:4326")
    joined = gpd.sjoin(pts, districts.rename(columns={"ubigeo": "d", "provincia": "p"}))
    single = joined.groupby("incident_id").filter(lambda g: len(g) == 1)
    assert len(single) >= 0.99 * len(pts)
    assert (single["ubigeo"] == single["d"]).all()
    assert (single["provincia"] == single["p"]).all()
    assert set(incidents["ubigeo"].str[:2]) == {"04"}
    # stations: nearest CENACOM unit of Arequipa in UTM 18S (brute force), within 50 km, for
    # incidents outside the synthetic sectors
    free = incidents[incidents["subsector"] == ""].to_crs("EPSG:32718")
    st = gpd.GeoSeries.from_xy(
        stations["longitud"].astype(float), stations["latitud"].astype(float), crs="EPSG:4326"
    ).to_crs("EPSG:32718")
    dx = free.geometry.x.to_numpy()[:, None] - st.x.to_numpy()[None, :]
    dy = free.geometry.y.to_numpy()[:, None] - st.y.to_numpy()[None, :]
    dist = np.hypot(dx, dy)
    expected = np.where(
        dist.min(axis=1) <= 50_000, stations["id_n"].to_numpy()[dist.argmin(axis=1)], ""
    )
    assert (free["comisaria_id"].to_numpy() == expected).all()
    # the generator (an independent implementation) placed the same comisarías outside its
    # synthetic sectors (this import has no sector layer)
    outside = raw[raw["subsector"].isna()].set_index("id")["comisaria_id"].fillna("")
    got = incidents.set_index("incident_id")["comisaria_id"].reindex(outside.index)
    assert len(outside) > 300 and (got == outside).all()


def test_run_names_arequipa_and_uses_its_populations(arequipa):
    root, _ = arequipa
    out = root / "salida"
    index = (out / "mapas" / "index.html").read_text(encoding="utf-8")
    assert "<h1>Atlas del mapa del delito — Arequipa</h1>" in index
    assert "Cajamarca" not in index
    assert (
        (out / "RESUMEN.md")
        .read_text(encoding="utf-8")
        .startswith("# Mapa del delito — región Arequipa")
    )
    plan = (out / "prioridad" / "territorios_priorizados.md").read_text(encoding="utf-8")
    assert plan.startswith("# Territorios de Intervención Prioritaria Región Arequipa")
    # the priority detail: every district of Arequipa with its INEI population (2020 is the
    # population year nearest a 2020 period)
    detail = pd.read_csv(
        out / "prioridad" / "prioridad_detalle.csv", dtype={"UBIGEO": str}, encoding="utf-8-sig"
    )
    _, _, population = _arequipa_layers()
    districts = detail[detail["Nivel territorial"] == "Distrito"].drop_duplicates("UBIGEO")
    assert set(districts["UBIGEO"]) == set(population["ubigeo"])
    assert set(districts["Departamento"]) == {"Arequipa"}
    expected = population.set_index("ubigeo")["poblacion_estimada_2020"].astype(int)
    got = districts.set_index("UBIGEO")["Población"].astype(int)
    assert (got.sort_index() == expected.sort_index()).all()
    provinces = detail[detail["Nivel territorial"] == "Provincia"].drop_duplicates("UBIGEO")
    assert sorted(provinces["UBIGEO"]) == [f"04{k:02d}" for k in range(1, 9)]
    # every province of Arequipa in the ranking summary; the patrol plan of its comisaría
    with (out / "hotspots" / "resumen_provincias_kde.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [r["UBIGEO"] for r in rows if r["UBIGEO"]] == [f"04{k:02d}" for k in range(1, 9)]
    assert list((out / "patrullaje").glob("patrullaje_comisaria_palacio_viejo.pdf"))
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["parameters"]["area_de_estudio"]["zona_utm"] == "18S"
    assert run["counts"]["patrullaje"]["sectores"] > 0
