"""The sample's Chota province as a run's inputs: its incidents and its comisarías' sectors."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from parsc_geo.datasets import sample_paths


def chota_incidents(before: str | None = None) -> pd.DataFrame:
    """Return the sample's Chota incidents (UBIGEO 0604) as text, those before ``before`` only."""
    incidents = pd.read_csv(sample_paths()["incidents"], dtype=str, keep_default_na=False)
    chota = incidents[incidents["ubigeo"].str.startswith("0604")]
    return chota[chota["fecha"] < before] if before else chota


def write_chota_sectors(folder: Path) -> Path:
    """Write the sectors of Chota's comisarías as ``folder/sectores.geojson``; return the path."""
    sectors = gpd.read_file(sample_paths()["sectors"])
    path = folder / "sectores.geojson"
    sectors[sectors["comisaria"].str.contains("CHOTA")].to_file(path, driver="GeoJSON")
    return path


def write_chota(folder: Path, before: str | None = None) -> None:
    """Write ``chota.csv`` (incidents before ``before``) and ``sectores.geojson`` in ``folder``."""
    chota_incidents(before).to_csv(folder / "chota.csv", index=False)
    write_chota_sectors(folder)
