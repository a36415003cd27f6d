"""``map`` never reports success with nothing drawn (issue 11)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from click.testing import CliRunner
from shapely.geometry import box

from parsc_geo.cli.main import cli
from parsc_geo.datasets import sample_paths
from parsc_geo.workspace import Workspace


def test_map_of_incidents_outside_every_province_is_an_input_error(tmp_path):
    sample = pd.read_csv(sample_paths()["incidents"], dtype=str, keep_default_na=False)
    rows = sample.head(60).copy()
    # the same incidents 900 km further north (Colombia): outside the bundled provinces
    rows["latitud"] = (rows["latitud"].astype(float) + 8.0).map(lambda v: f"{v:.6f}")
    rows["ubigeo"] = ""
    rows.to_csv(tmp_path / "fuera.csv", index=False)
    area = box(-79.5, 0.0, -77.5, 2.0)
    gpd.GeoDataFrame(geometry=[area], crs="EPSG:4326").to_file(tmp_path / "area.geojson")
    ws = tmp_path / "ws.gpkg"
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "-q",
            "ingest",
            str(tmp_path / "fuera.csv"),
            "-w",
            str(ws),
            "--study-area",
            str(tmp_path / "area.geojson"),
            "--timezone",
            "America/Bogota",
        ],
    )
    assert result.exit_code == 0, result.output
    n = len(Workspace(ws).read_incidents())
    assert n > 40

    result = runner.invoke(cli, ["map", "-w", str(ws), "-o", str(tmp_path / "mapas")])
    assert result.exit_code == 3, result.output
    assert f"ninguno de los {n} incidentes" in result.output
    assert "0 mapa(s)" not in result.output
    assert not (tmp_path / "mapas").exists()
