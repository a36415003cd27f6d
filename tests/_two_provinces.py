"""A small run of two provinces (Chota and Jaén) with two comisarías' sectors, for run tests."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from parsc_geo.datasets import sample_paths

CONFIG = """
title = "Prueba Chota y Jaén"
synthetic = true
[inputs]
incidents = ["incidentes.csv"]
sectors = "sectores.geojson"
[hotspots]
methods = ["kde", "gistar", "hdbscan"]
[priority]
bootstrap = 30
[maps]
tiles = false
"""


def write_two_provinces(folder: Path) -> Path:
    """Write the incidents of the sample in Chota and Jaén, their sectors and ``run.toml``."""
    paths = sample_paths()
    incidents = pd.read_csv(paths["incidents"], dtype=str, keep_default_na=False)
    chosen = incidents[incidents["ubigeo"].str.startswith(("0604", "0608"))]
    chosen.to_csv(folder / "incidentes.csv", index=False)
    sectors = gpd.read_file(paths["sectors"])
    sectors[sectors["comisaria"].str.contains("CHOTA|JAEN")].to_file(
        folder / "sectores.geojson", driver="GeoJSON"
    )
    (folder / "run.toml").write_text(CONFIG, encoding="utf-8")
    return folder
