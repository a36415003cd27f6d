"""Acceptance: the messy sample, ingested, gives the clean sample plus the planted quarantine."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from parsc_geo.datasets import sample_paths

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def paths():
    return sample_paths()


@pytest.fixture(scope="module")
def manifest(paths):
    return json.loads(paths["manifest"].read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def clean(paths):
    return pd.read_csv(paths["incidents"], dtype=str, keep_default_na=False).set_index("id")


@pytest.fixture(scope="module")
def sectors(paths):
    from parsc_geo.sectors import read_sectors

    return read_sectors(paths["sectors"])


def _compare_with_clean(accepted, clean):
    acc = accepted.set_index("incident_id")
    assert acc.index.is_unique
    assert set(acc.index) == set(clean.index)
    acc = acc.loc[clean.index]
    np.testing.assert_allclose(
        acc.geometry.x.to_numpy(), clean["longitud"].astype(float), atol=5e-7
    )
    np.testing.assert_allclose(acc.geometry.y.to_numpy(), clean["latitud"].astype(float), atol=5e-7)
    for col in ("delito_generico", "delito_especifico", "modalidad"):
        assert (acc[col].to_numpy() == clean[col].to_numpy()).all(), col
    assert acc["label_known"].all()
    local = acc["occurred_at"].dt.tz_convert("America/Lima")
    assert (local.dt.strftime("%Y-%m-%d").to_numpy() == clean["fecha"].to_numpy()).all()
    known = clean["hora"].to_numpy() != ""
    assert (acc["time_known"].to_numpy() == known).all()
    hhmm = local.dt.strftime("%H:%M").to_numpy()
    assert (hhmm[known] == clean["hora"].to_numpy()[known]).all()
    for col in ("ubigeo", "comisaria", "comisaria_id", "sector", "subsector"):
        assert (acc[col].to_numpy() == clean[col].to_numpy()).all(), col
    return acc


def test_messy_sample_gives_clean_rows_plus_planted_quarantine(paths, manifest, clean, sectors):
    from parsc_geo.ingest import ingest_files

    result = ingest_files([paths["messy_csv"], paths["messy_kml"]], sectors=sectors)
    acc = _compare_with_clean(result.accepted, clean)

    planted = manifest["messy"]["planted"]
    swapped = {p["id"] for p in planted if p["flag"] == "latlon_swapped"}
    flagged = {i for i, f in acc["flags"].items() if "latlon_swapped" in f.split(";")}
    assert flagged == swapped and len(swapped) == 4
    assert set(acc.index[acc["at_station"].to_numpy()]) == set(
        manifest["messy"]["station_stack_ids"]
    )

    expected = {
        (paths[p["file"]].name, p["source_row"], p["reason"])
        for p in planted
        if p["outcome"] == "quarantined"
    }
    got = set(
        zip(
            result.quarantine["source"],
            result.quarantine["source_row"].astype(int),
            result.quarantine["reason"],
            strict=True,
        )
    )
    assert got == expected
    assert len(result.quarantine) == manifest["messy"]["quarantine_expected"]
    kml_ids = set(acc.index[acc["source"] == paths["messy_kml"].name])
    assert kml_ids == set(manifest["messy"]["kml_ids"])


def test_clean_sample_is_read_without_configuration(paths, manifest, clean, sectors):
    from parsc_geo.ingest import ingest_files

    result = ingest_files([paths["incidents"]], sectors=sectors)
    assert len(result.quarantine) == 0
    acc = _compare_with_clean(result.accepted, clean)
    assert set(acc.index[acc["at_station"].to_numpy()]) == set(
        manifest["messy"]["station_stack_ids"]
    )
    assert (acc["descripcion"].to_numpy() == clean["descripcion"].to_numpy()).all()
    assert (acc["flags"].isin(["", "station_stack"])).all()
