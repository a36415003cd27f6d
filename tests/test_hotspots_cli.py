"""CLI tests of ``parsc-geo hotspots`` and ``parsc-geo rank``."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from parsc_geo.cli.main import cli
from parsc_geo.hotspots import hotspot_gistar
from parsc_geo.hotspots.io import read_hotspots
from parsc_geo.settings import SYNTHETIC_BANNER
from parsc_geo.workspace import Workspace

CRS = "EPSG:32717"
X0, Y0 = 775_000.0, 9_207_000.0


def _incidents(n_noise: int = 150) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(9)
    xy = np.vstack(
        [
            rng.normal([X0, Y0], 70, (90, 2)),
            rng.normal([X0 + 2500, Y0 + 1500], 90, (60, 2)),
            rng.uniform([X0 - 2000, Y0 - 2000], [X0 + 5000, Y0 + 4000], (n_noise, 2)),
        ]
    )
    n = len(xy)
    df = pd.DataFrame(
        {
            "incident_id": [f"c{i:04d}" for i in range(n)],
            "occurred_at": pd.Timestamp("2020-05-01 18:00", tz="America/Lima")
            + pd.to_timedelta(np.arange(n) * 97, unit="min"),
            "time_known": True,
            "delito_especifico": "HURTO",
            "modalidad": "AGRAVADO",
            "fenomeno": "patrimonio_espacio_publico",
            "harm": 2.0,
            "source": "prueba.csv",
            "source_row": np.arange(1, n + 1),
            "flags": "",
            "at_station": np.arange(n) % 50 == 0,
            "provincia": "Cajamarca",
            "distrito": "Cajamarca",
            "comisaria": np.where(xy[:, 0] < X0 + 1200, "CPNP CAJAMARCA", "CPNP SAN JOSE"),
            "sector": np.where(xy[:, 1] < Y0 + 800, "SECTOR 1", "SECTOR 2"),
            "subsector": "",
        }
    )
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS)
    return gdf.to_crs("EPSG:4326")


@pytest.fixture
def incidents_file(tmp_path: Path) -> Path:
    path = tmp_path / "incidentes.geojson"
    _incidents().to_file(path, driver="GeoJSON")
    return path


def test_hotspots_gistar_from_file(tmp_path: Path, incidents_file: Path) -> None:
    out = tmp_path / "out"
    runner = CliRunner()
    args = [
        "hotspots", str(incidents_file), "--method", "gistar", "--cell-size", "200",
        "--cells", "all", "-o", str(out),
    ]  # fmt: skip
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    written = read_hotspots(out / "hotspots_gistar.gpkg")
    expected = hotspot_gistar(
        gpd.read_file(incidents_file), cell_size=200, output="all", quiet=True
    )
    assert len(written) == len(expected)
    np.testing.assert_allclose(written["gi_z"], expected["gi_z"], atol=1e-12)
    assert written["hotspot_id"].tolist() == expected["hotspot_id"].tolist()
    assert written.attrs["parameters"]["cell_size"] == 200
    assert written.attrs["parameters"]["n_excluded_at_station"] == 6
    # never overwrite without --overwrite
    again = runner.invoke(cli, args)
    assert again.exit_code == 5
    assert "ya existe" in again.output
    assert runner.invoke(cli, [*args, "--overwrite"]).exit_code == 0


@pytest.mark.parametrize("method", ["dbscan", "hdbscan", "kde"])
def test_hotspots_other_methods(tmp_path: Path, incidents_file: Path, method: str) -> None:
    result = CliRunner().invoke(
        cli, ["-q", "hotspots", str(incidents_file), "-m", method, "-o", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    written = read_hotspots(tmp_path / f"hotspots_{method}.gpkg")
    assert len(written) >= 2
    assert (written["method"] == method).all()
    assert written["n"].iloc[0] >= 50


def test_hotspots_declines_and_writes_empty_layer(tmp_path: Path) -> None:
    path = tmp_path / "pocos.geojson"
    _incidents().iloc[:12].to_file(path, driver="GeoJSON")
    result = CliRunner().invoke(
        cli, ["hotspots", str(path), "-m", "gistar", "--synthetic", "-o", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "ningún hotspot" in result.output
    written = read_hotspots(tmp_path / "hotspots_gistar.gpkg")
    assert len(written) == 0
    assert "at least 30" in written.attrs["reason"]
    assert written.attrs["synthetic"] is True


def test_hotspots_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(cli, ["hotspots", str(tmp_path / "nada.geojson"), "-o", str(tmp_path)])
    assert missing.exit_code == 3
    csv = tmp_path / "x.csv"
    csv.write_text("a,b\n1,2\n")
    # CSVs are read as by `density` (issue 11): one without coordinate columns is a
    # configuration error naming the options to use, as in every command
    no_coords = runner.invoke(cli, ["hotspots", str(csv), "-o", str(tmp_path)])
    assert no_coords.exit_code == 4 and "--lon-col" in no_coords.output
    bad = runner.invoke(cli, ["hotspots", "-m", "nope"])
    assert bad.exit_code == 2


def test_rank_from_workspace(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws.gpkg")
    quarantine = pd.DataFrame(
        columns=["source", "source_row", "reason", "field", "value", "message", "raw"]
    )
    ws.import_incidents(_incidents(), quarantine, sources=[{"source": "prueba.csv", "sha256": "x"}])
    ws.set_metadata(synthetic=True)
    runner = CliRunner()
    hs = runner.invoke(
        cli, ["-q", "hotspots", "-w", str(ws.path), "-m", "dbscan", "-o", str(tmp_path / "h")]
    )
    assert hs.exit_code == 0, hs.output
    out = tmp_path / "r"
    result = runner.invoke(
        cli,
        ["rank", str(tmp_path / "h" / "hotspots_dbscan.gpkg"), "-w", str(ws.path), "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(out / "resumen_provincias_dbscan.csv", encoding="utf-8-sig")
    assert len(summary) == 13
    assert (summary["Aviso"] == SYNTHETIC_BANNER).all()
    caj = summary[summary["Provincia"] == "Cajamarca"].iloc[0]
    assert caj["Hotspots"] >= 2
    assert caj["Incidentes"] == len(_incidents()) - 6
    assert (
        summary.loc[summary["Provincia"] == "Jaén", "Observación"]
        .item()
        .startswith("sin hotspots: no hay incidentes")
    )
    sectors = pd.read_csv(out / "ranking_sectores_dbscan.csv", encoding="utf-8-sig")
    first = sectors.groupby(["Comisaría", "Sector"])["Puesto"].min()
    assert (first == 1).all()
    hotspots = read_hotspots(tmp_path / "h" / "hotspots_dbscan.gpkg")
    provinces = pd.read_csv(out / "ranking_provincias_dbscan.csv", encoding="utf-8-sig")
    assert (
        provinces["Hotspot"].iloc[0]
        == hotspots.sort_values(["n", "harm", "hotspot_id"], ascending=[False, False, True])[
            "hotspot_id"
        ].iloc[0]
    )
    wb = load_workbook(out / "ranking_provincias_dbscan.xlsx")
    sheet = wb.active
    assert sheet["A2"].value == SYNTHETIC_BANNER
    assert sheet["A3"].value == "Provincia"
    # outputs exist: refuse without --overwrite
    again = runner.invoke(
        cli,
        ["rank", str(tmp_path / "h" / "hotspots_dbscan.gpkg"), "-w", str(ws.path), "-o", str(out)],
    )
    assert again.exit_code == 5


def test_rank_with_method_and_usage_errors(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws.gpkg")
    quarantine = pd.DataFrame(
        columns=["source", "source_row", "reason", "field", "value", "message", "raw"]
    )
    ws.import_incidents(_incidents(), quarantine, sources=[{"source": "prueba.csv", "sha256": "y"}])
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["-q", "rank", "-m", "gistar", "-w", str(ws.path), "--by", "harm", "--format", "csv",
         "--level", "comisaria", "-o", str(tmp_path / "r")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "r" / "ranking_comisarias_gistar.csv", encoding="utf-8-sig")
    assert set(table["Método"]) == {"gistar"}
    for _, group in table.groupby("Comisaría"):
        assert group["Puesto"].tolist() == list(range(1, len(group) + 1))
        assert (np.diff(group["Daño ponderado"].to_numpy()) <= 0).all()
    assert not (tmp_path / "r" / "ranking_provincias_gistar.csv").exists()
    assert runner.invoke(cli, ["rank", "-o", str(tmp_path / "x")]).exit_code == 2
