"""``parsc-geo sectors``: the bundled sample's comisarías, output files and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from parsc_geo._data import boundaries_dir
from parsc_geo.cli.main import cli
from parsc_geo.districting.design import DesignOptions, design_sectors
from parsc_geo.ingest import ingest_files
from parsc_geo.sectors import check_sectors, read_sectors

ROOT = Path(__file__).resolve().parents[1]
INCIDENTS = ROOT / "incidents" / "sintetico_cajamarca_2020_incidentes.csv"
SECTORS = boundaries_dir() / "sintetico_sectores_comisarias.geojson"
SAMPLE_COMISARIAS = (
    "COMISARIA CAJAMARCA I",
    "COMISARÍA CAJAMARCA II",
    "COMISARIA SECTORIAL JAEN",
    "COMISARIA SECTORIAL CHOTA",
)


@pytest.fixture(scope="module")
def sample() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    sectors = read_sectors(SECTORS)
    incidents = ingest_files([INCIDENTS], assign=False).accepted
    return incidents, sectors


@pytest.mark.parametrize("name", SAMPLE_COMISARIAS)
def test_sample_designs_are_balanced_contiguous_and_better(
    sample: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], name: str, tmp_path: Path
) -> None:
    incidents, sectors = sample
    design = design_sectors(
        incidents, name, sectors=sectors, options=DesignOptions(workload="incidents")
    )
    new = design.designed.summary["sector"]
    old = design.existing.summary["sector"] if design.existing else {}
    assert new["cv_denuncias"] <= 0.15
    assert (
        new["contiguos"]
        == new["unidades"]
        == sectors.loc[sectors["comisaria"] == name, "sector"].nunique()
    )
    assert old["cv_denuncias"] > new["cv_denuncias"]
    assert all(g.geom_type == "Polygon" for g in design.designed.sectors.geometry)
    assert new["hueco_km2"] < 1e-4 and new["solape_km2"] < 1e-4 and new["fuera_km2"] < 1e-4
    # The designed sectors' incidents add up to those inside the jurisdiction.
    sector_rows = design.designed.units.query("nivel == 'sector'")
    assert sector_rows["denuncias"].sum() == design.blocks.frame["denuncias"].sum()
    # Fed back as a sector layer: read and checked with no repair, gap or overlap.
    path = tmp_path / "disenados.geojson"
    design.layer.to_file(path)
    _, report = check_sectors(read_sectors(path))
    assert report.ok and not report.repaired, report.summary()


def test_design_cli_writes_a_layer_read_sectors_accepts(tmp_path: Path) -> None:
    out = tmp_path / "sectores"
    result = CliRunner().invoke(
        cli,
        [
            "sectors",
            "design",
            str(INCIDENTS),
            "--sector-layer",
            str(SECTORS),
            "--comisaria",
            "COMISARIA SECTORIAL CHOTA",
            "--workload",
            "incidents",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "coeficiente de variación" in result.output
    layer = read_sectors(out / "sectores_disenados.geojson")
    _, report = check_sectors(layer)
    assert report.ok and not report.repaired, report.summary()
    assert set(layer["comisaria"]) == {"COMISARIA SECTORIAL CHOTA"}
    assert layer["sector"].nunique() == 3
    assert layer["subsector"].str.match(r"^SUB SECTOR \d+$").all()  # Chota numbers its subsectors
    raw = gpd.read_file(out / "sectores_disenados.geojson")
    for column in ("denuncias", "dano", "poblacion", "area_km2", "carga"):
        assert column in raw.columns
    gpkg = read_sectors(out / "sectores_disenados.gpkg", layer="sectores_disenados")
    assert len(gpkg) == len(layer)
    table = pd.read_csv(out / "evaluacion_sectores.csv")
    assert set(table["plan"]) == {"existente", "diseñado"}
    sectors_new = table[(table["plan"] == "diseñado") & (table["nivel"] == "sector")]
    assert sectors_new["denuncias"].sum() == raw["denuncias"].sum()
    summary = pd.read_csv(out / "evaluacion_resumen.csv")
    cv = summary[(summary["clave"] == "cv_denuncias") & (summary["nivel"] == "sector")].iloc[0]
    assert cv["diseñado"] <= 0.15 < cv["existente"]
    assert cv["cambio"] == pytest.approx(cv["diseñado"] - cv["existente"], rel=1e-4)
    book = load_workbook(out / "evaluacion_sectores.xlsx")
    sheet = book["Sectores"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref.startswith("A1:")
    assert sheet["A1"].value == "Comisaría" and sheet["A1"].font.bold
    assert sheet.column_dimensions["A"].width >= len("COMISARIA SECTORIAL CHOTA")
    record = json.loads((out / "diseno_sectores.json").read_text(encoding="utf-8"))
    params = record["comisarias"][0]["parametros"]
    assert params["sectores"] == 3 and params["carga"]["pesos"] == {"incidents": 1.0}
    assert "búsqueda local" in params["algoritmo"]
    assert (out / "mapa_sectores_comisaria_sectorial_chota.pdf").stat().st_size > 10_000
    assert (out / "mapa_sectores_comisaria_sectorial_chota.png").stat().st_size > 10_000


def test_design_cli_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "sectores_disenados.geojson").write_text("{}")
    result = CliRunner().invoke(
        cli,
        [
            "sectors",
            "design",
            str(INCIDENTS),
            "--comisaria",
            "CHOTA",
            "--sectors",
            "2",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 5
    assert "--overwrite" in result.output


def test_unknown_comisaria_exits_4_with_close_names(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["sectors", "design", str(INCIDENTS), "--comisaria", "COMISARIA JAEM", "-o", str(tmp_path)],
    )
    assert result.exit_code == 4
    assert "COMISARIA SECTORIAL JAEN" in result.output
    assert "Traceback" not in result.output


def test_missing_input_exits_3(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["sectors", "design", str(tmp_path / "nada.csv"), "--comisaria", "CHOTA"]
    )
    assert result.exit_code == 3
    assert "no existe" in result.output


def test_evaluate_cli(tmp_path: Path) -> None:
    out = tmp_path / "ev"
    result = CliRunner().invoke(
        cli,
        [
            "sectors",
            "evaluate",
            str(INCIDENTS),
            "--sectors",
            str(SECTORS),
            "--comisaria",
            "COMISARIA CAJAMARCA I",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "concentra el" in result.output and "del área" in result.output
    table = pd.read_csv(out / "evaluacion_sectores.csv")
    sectors = table[table["nivel"] == "sector"]
    assert len(sectors) == 6 and len(table[table["nivel"] == "subsector"]) == 36
    assert sectors["pct_denuncias"].sum() == pytest.approx(100)
    assert set(sectors["contiguo"]) == {"sí"}
    # CENACOM gives COMISARIA CAJAMARCA I 112 officers: 112/6 per sector.
    assert sectors["efectivos"].iloc[0] == pytest.approx(112 / 6, rel=1e-5)
    assert (out / "mapa_evaluacion_comisaria_cajamarca_i.png").exists()
    record = json.loads((out / "evaluacion_sectores.json").read_text(encoding="utf-8"))
    assert record["comisarias"][0]["resumen"]["sector"]["unidades"] == 6


def test_evaluate_without_a_layer_exits_3(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["sectors", "evaluate", str(INCIDENTS), "-o", str(tmp_path)])
    assert result.exit_code == 3
    assert "--sectors" in result.output


def test_help_ends_with_examples() -> None:
    for args in (
        ["sectors", "--help"],
        ["sectors", "design", "--help"],
        ["sectors", "evaluate", "--help"],
    ):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0
        assert "Ejemplos:" in result.output
