"""Synthetic samples of any department, province or the whole country (``--study-area``)."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from _allocation import assert_follows_district_rule
from _shared import shared_reference
from click.testing import CliRunner

from parsc_geo import boundaries
from parsc_geo._data import boundaries_dir
from parsc_geo.cli.main import cli
from parsc_geo.datasets import generate_sample
from parsc_geo.datasets.generator import _area_counts
from parsc_geo.datasets.mix import Period

PLAN_TOTAL = 21_108  # the plan's table, January-October 2020


def _ratio(name: str) -> float:
    """Complaints 2017-2019 of a department over Cajamarca's, from the shared reference table."""
    table = pd.read_csv(shared_reference("denuncias_por_departamento_2016_2020.csv"))
    years = ["2017", "2018", "2019"]
    total = table.set_index("departamento")[years].sum(axis=1)
    return float(total[name] / total["CAJAMARCA"])


def test_vendored_department_table_is_the_reference():
    from importlib.resources import files

    vendored = (
        files("parsc_geo") / "data" / "denuncias_por_departamento_2016_2020.csv"
    ).read_bytes()
    reference = shared_reference("denuncias_por_departamento_2016_2020.csv").read_bytes()
    assert vendored == reference


@pytest.fixture(scope="module")
def arequipa():
    return generate_sample(area="04", start="2020-01", months=10, scale=0.1, sector_comisarias=2)


def test_volume_follows_the_department_complaints(arequipa):
    # Jan-Oct 2020 is the plan's reference period (SIDPPOL factor 1): Arequipa's total is
    # 21,108 × 0.1 × (25,500 + 28,112 + 25,383) / (9,453 + 10,856 + 11,421) = 21,108 × 0.1 ×
    # 78,995 / 31,730 = 5,255.0 (rounded once, then split by type with the largest remainder)
    assert _ratio("AREQUIPA") == pytest.approx(78_995 / 31_730)
    assert len(arequipa.incidents) == round(PLAN_TOTAL * 0.1 * 78_995 / 31_730)
    assert set(arequipa.incidents["ubigeo"].str[:2]) == {"04"}
    assert arequipa.parameters["study_area"]["ubigeo"] == ["04"]
    assert arequipa.parameters["study_area"]["zona_utm"] == "18S"
    assert arequipa.parameters["synthetic"] is True


def test_points_lie_in_their_district(arequipa):
    inc = arequipa.incidents
    pts = gpd.GeoDataFrame(
        inc[["id", "ubigeo"]],
        geometry=gpd.points_from_xy(inc["longitud"].astype(float), inc["latitud"].astype(float)),
        crs="EPSG:4326",
    )
    districts = boundaries.load_districts(prefix="04")[["ubigeo", "geometry"]]
    joined = gpd.sjoin(pts, districts.rename(columns={"ubigeo": "d"}), predicate="within")
    own = joined[joined["d"] == joined["ubigeo"]]
    assert own["id"].nunique() == len(inc)  # every point inside its own district polygon


def test_districts_follow_the_rule_within_the_department(arequipa):
    """w = 0.5 · population share + 0.5 · RENADEF share among Arequipa's 109 districts."""
    assert_follows_district_rule(arequipa.incidents, "04")


def test_sectors_belong_to_the_busiest_territorial_comisarias(arequipa):
    stations = pd.read_csv(boundaries_dir() / "peru_comisarias_cenacom2017.csv", dtype=str)
    own = stations[stations["ubigeo"].str.startswith("04") & stations["nombre"].notna()]
    own = own[own["tipo_dependencia"] == "Comisaría"]
    own = own[~own["nombre"].str.contains("TURISMO|FAMILIA|MUJER|CARRETERA|ESPECIALIZAD")]
    own = own.assign(staff=own["efectivos_asignados_total"].astype(int))
    top = own.sort_values(["staff", "id_n"], ascending=[False, True])["id_n"].head(2)
    assert set(arequipa.sectors["comisaria_id"]) == set(top)  # 0741 Palacio Viejo, 0794 JLByR
    # about one subsector per four officers, between 8 and 36
    for station_id, group in arequipa.sectors.groupby("comisaria_id"):
        staff = int(own.loc[own["id_n"] == station_id, "staff"].iloc[0])
        assert group["subsector"].nunique() == min(36, max(8, round(staff / 4)))


def test_national_year_is_about_1_2_million_without_generating_it():
    # 2022: SIDPPOL Cajamarca 22,545 complaints in 12 months; reference (Jan-Oct 2020) is
    # 17,563 × 10 / 12 → factor 22,545 × 12 / 12 / (17,563 × 10 / 12) = 1.54039...
    factor = 22_545 / (17_563 * 10 / 12)
    table = pd.read_csv(shared_reference("denuncias_por_departamento_2016_2020.csv"))
    expected = sum(round(PLAN_TOTAL * factor * _ratio(d)) for d in table["departamento"])
    from parsc_geo.area import resolve_area

    _, alloc = _area_counts(resolve_area("peru"), Period(2022, 1, 12), 1.0)
    assert int(alloc["n"].sum()) == expected
    assert 1_200_000 < expected < 1_350_000
    assert alloc["ubigeo"].str[:2].nunique() == 25


def test_sample_command_for_an_area_names_its_files(tmp_path):
    args = ["sample", "--study-area", "Moquegua", "--months", "1", "--scale", "0.5"]
    result = CliRunner().invoke(cli, [*args, "--sector-comisarias", "1", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "DATOS SINTÉTICOS" in result.output
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert files == [
        "boundaries/sintetico_sectores_comisarias_moquegua.geojson",
        "incidents/README.md",
        "incidents/SCHEMA.md",
        "incidents/sintetico_manifest.json",
        "incidents/sintetico_moquegua_2020_incidentes.csv",
    ]
    manifest = json.loads((tmp_path / "incidents" / "sintetico_manifest.json").read_text())
    assert manifest["synthetic"] is True and manifest["messy"] is None
    assert manifest["study_area"]["ubigeo"] == ["18"]
    readme = (tmp_path / "incidents" / "README.md").read_text(encoding="utf-8")
    assert "SINTÉTICA" in readme and "Moquegua" in readme and "--study-area 18" in readme
    layer = json.loads(
        (tmp_path / "boundaries" / "sintetico_sectores_comisarias_moquegua.geojson").read_text()
    )
    assert layer["synthetic"] is True
    assert all(f["properties"]["sintetico"] for f in layer["features"])
    again = CliRunner().invoke(cli, [*args, "--sector-comisarias", "1", "-o", str(tmp_path / "b")])
    assert again.exit_code == 0
    for name in files:
        assert (tmp_path / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
