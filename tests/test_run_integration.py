"""The monthly run reports everything it knows: accuracy, trends, near repeats, QGIS, dates."""

import json
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from _chota import write_chota
from click.testing import CliRunner
from openpyxl import load_workbook

from parsc_geo.cli.main import cli
from parsc_geo.evaluation.cells import auto_cell_size, default_study_area, make_cell_grid
from parsc_geo.workspace import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    """A run on the synthetic sample's Chota province, January to April 2020."""
    folder = tmp_path_factory.mktemp("entrada")
    write_chota(folder, before="2020-05-01")
    (folder / "run.toml").write_text(
        """
title = "Prueba Chota"
synthetic = true
[inputs]
incidents = ["chota.csv"]
sectors = "sectores.geojson"
[hotspots]
methods = ["gistar"]
[priority]
bootstrap = 10
[maps]
tiles = false
[evaluation]
folds = 2
[near_repeat]
permutations = 19
[trends]
period = "2 weeks"
""",
        encoding="utf-8",
    )
    out = folder / "salida"
    result = CliRunner().invoke(
        cli, ["run", str(folder / "run.toml"), "--output", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return out


def by_hand(train: np.ndarray, test: np.ndarray, k: int) -> tuple[float, float]:
    """Return the incidents the ``k`` cells of most training incidents hold, and the best ``k``.

    Cells tied at the cut share the places left (r of t tied cells: each counts r / t).
    """
    cut = np.sort(train)[::-1][k - 1]
    above = train > cut
    tied = train == cut
    hits = test[above].sum() + (k - above.sum()) / tied.sum() * test[tied].sum()
    return float(hits), float(np.sort(test)[::-1][:k].sum())


def test_run_json_accuracy_recomputed_by_hand(run_folder):
    meta = json.loads((run_folder / "run.json").read_text(encoding="utf-8"))
    evaluation = meta["evaluacion"]
    region, chota = evaluation["scopes"][0], evaluation["scopes"][1]
    assert region["scope"] == "región" and chota["name"] == "Chota"
    assert [f["origin"] for f in chota["folds"]] == ["2020-03-01", "2020-04-01"]
    incidents = Workspace(run_folder / "workspace.gpkg").read_incidents()
    incidents = incidents[~incidents["at_station"].astype(bool)].to_crs("EPSG:32717")
    local = incidents["occurred_at"].dt.tz_localize(None)
    for fold in chota["folds"]:
        origin, end = pd.Timestamp(fold["origin"]), pd.Timestamp(fold["test_end"])
        train, test = incidents[local < origin], incidents[(local >= origin) & (local < end)]
        assert (len(train), len(test)) == (fold["n_train"], fold["n_test"])
        xt, yt = train.geometry.x.to_numpy(), train.geometry.y.to_numpy()
        polygon = default_study_area(xt, yt)
        grid = make_cell_grid(polygon, auto_cell_size(polygon.area), "EPSG:32717")
        assert grid.n_cells == fold["n_cells"]
        train_counts = grid.counts(grid.locate(xt, yt))
        test_counts = grid.counts(
            grid.locate(test.geometry.x.to_numpy(), test.geometry.y.to_numpy())
        )
        for share, key in ((0.01, "1"), (0.05, "5")):
            k = int(np.floor(share * grid.n_cells + 0.5))
            hits, best = by_hand(train_counts, test_counts, k)
            got = fold["methods"]["counts"][key]
            assert got["n_cells"] == k
            assert got["hits"] == pytest.approx(hits)
            assert got["hit_rate"] == pytest.approx(hits / len(test))
            assert got["pai"] == pytest.approx((hits / len(test)) / (k / grid.n_cells))
            assert got["pei_star"] == pytest.approx(hits / best)
    # one province: the region is that province
    for key in ("1", "5"):
        assert region["summary"]["counts"][key]["pai"] == pytest.approx(
            np.mean([f["methods"]["counts"][key]["pai"] for f in chota["folds"]])
        )
    assert set(region["summary"]) == {"counts", "gistar", "auto"}


def test_resumen_reads_what_the_run_found(run_folder):
    text = (run_folder / "RESUMEN.md").read_text(encoding="utf-8")
    meta = json.loads((run_folder / "run.json").read_text(encoding="utf-8"))
    sections = [line for line in text.splitlines() if line.startswith("## ")]
    assert sections == [
        "## Qué cambió este mes",
        "## Resumen",
        "## Precisión histórica",
        "## Abrir primero",
    ]
    counts = meta["evaluacion"]["scopes"][0]["summary"]["counts"]
    base = f"{counts['1']['hit_rate'] * 100:.0f} % y {counts['5']['hit_rate'] * 100:.0f} %"
    assert f"contar los delitos de los meses anteriores habría dado {base}" in text
    assert "marzo de 2020 y abril de 2020" in text
    assert "- Chota:" in text
    nr = meta["counts"]["repeticion"]
    assert nr["estado"] == "ok"
    assert f"Repetición cercana: {nr['interpretacion']}" in text
    hot = meta["counts"]["hotspots"]
    # Gi* hotspots are zones of contiguous hot cells, not cells
    assert hot["gistar_celdas_calientes"] >= hot["gistar"] > 0
    assert f"Gi* {hot['gistar']} (de {hot['gistar_celdas_calientes']} celdas" in text
    assert "- `proyecto.qgz`" in text


def test_hotspots_gpkg_holds_zones_and_each_zone_counts_incidents_once(run_folder):
    zones = gpd.read_file(run_folder / "hotspots" / "hotspots.gpkg", layer="hotspots")
    hot = zones[zones["gi_class"].astype(str).str.startswith("caliente")]
    meta = json.loads((run_folder / "run.json").read_text(encoding="utf-8"))
    assert len(hot) == meta["counts"]["hotspots"]["gistar"]
    assert hot["n_cells"].sum() == meta["counts"]["hotspots"]["gistar_celdas_calientes"]
    assert hot["hotspot_id"].is_unique


def test_trends_outputs_and_qgis_project(run_folder):
    for name in ("cubo.gpkg", "cubo.csv", "tendencias.gpkg", "tendencias.csv"):
        assert (run_folder / "tendencias" / name).is_file(), name
    assert (run_folder / "repeticion" / "repeticion.csv").is_file()
    assert (run_folder / "proyecto.qgz").is_file()
    meta = json.loads((run_folder / "run.json").read_text(encoding="utf-8"))
    assert meta["counts"]["qgis"]["capas"] >= 5
    trends = meta["counts"]["tendencias"]
    assert trends["estado"] == "ok"
    assert trends["periodos"] >= 5
    cells = gpd.read_file(run_folder / "tendencias" / "tendencias.gpkg")
    for key, n in trends["patrones"].items():
        assert (cells["pattern_key"] == key).sum() == n
    text = (run_folder / "RESUMEN.md").read_text(encoding="utf-8")
    changes = trends["cambios_por_provincia"]
    if changes:
        assert "- Chota:" in text.split("## Resumen")[0]
    else:
        assert "Ninguna celda es un punto caliente nuevo ni en aumento" in text


def test_dates_are_datetime_fields_and_rasters_say_synthetic(run_folder):
    with sqlite3.connect(run_folder / "workspace.gpkg") as db:
        columns = {row[1]: row[2] for row in db.execute("PRAGMA table_info(incidents)")}
    assert columns["occurred_at"] == "DATETIME"
    (tif,) = sorted((run_folder / "densidad").glob("*.tif"))
    with rasterio.open(tif) as src:
        tags = src.tags()
    assert "SINTETICO" in tags
    assert json.loads(tags["synthetic"]) is True


def test_accuracy_workbook_is_formatted(run_folder):
    book = load_workbook(run_folder / "evaluacion" / "precision_historica.xlsx")
    sheet = book["Precisión"]
    assert sheet.freeze_panes is not None
    assert sheet.auto_filter.ref
    header_row = next(
        r for r in sheet.iter_rows(min_row=1, max_row=sheet.max_row) if r[0].value == "Ámbito"
    )
    headers = [c.value for c in header_row]
    rate = headers.index("Tasa de acierto")
    first = sheet.cell(row=header_row[0].row + 1, column=rate + 1)
    assert first.number_format == "0.0%"
    assert 0 <= first.value <= 1
    assert sheet.column_dimensions["A"].width > 8
