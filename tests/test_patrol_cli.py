"""``parsc-geo patrol`` through click's CliRunner on a small workspace."""

from __future__ import annotations

import pandas as pd
import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner
from test_patrol_helpers import incidents, sector_layer

from parsc_geo.cli.main import cli
from parsc_geo.schema import QUARANTINE_COLUMNS
from parsc_geo.settings import SYNTHETIC_BANNER
from parsc_geo.workspace import Workspace


@pytest.fixture
def workspace(tmp_path):
    ws = Workspace(tmp_path / "ws.gpkg")
    ws.import_incidents(
        incidents(),
        pd.DataFrame(columns=list(QUARANTINE_COLUMNS)),
        sources=[{"source": "fixture.csv", "sha256": "0" * 64}],
        sectors=sector_layer(),
        metadata={"synthetic": True},
    )
    return ws.path


def test_help_ends_with_examples():
    result = CliRunner().invoke(cli, ["patrol", "--help"])
    assert result.exit_code == 0
    assert "Ejemplos:" in result.output
    assert "--visit-minutes" in result.output


def test_missing_workspace_is_a_data_error(tmp_path):
    result = CliRunner().invoke(
        cli, ["patrol", "--workspace", str(tmp_path / "none.gpkg"), "-o", str(tmp_path / "o")]
    )
    assert result.exit_code == 3
    assert "no existe" in result.output


def test_impossible_shifts_are_a_config_error(workspace, tmp_path):
    args = ["patrol", "-w", str(workspace), "-o", str(tmp_path / "o"), "--shifts", "4"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 4
    assert "superan las 24 h" in result.output


def test_unknown_comisaria_is_a_config_error(workspace, tmp_path):
    args = ["patrol", "-w", str(workspace), "-o", str(tmp_path / "o"), "--comisaria", "X"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 4
    assert "COMISARIA PNP DEMO" in result.output


@pytest.mark.slow
def test_patrol_writes_sheets_and_tables(workspace, tmp_path):
    out = tmp_path / "plan"
    args = [
        "patrol",
        "-w",
        str(workspace),
        "-o",
        str(out),
        "--points-method",
        "grid",
        "--patrol-units",
        "2",
        "--shifts",
        "2",
        "--shift-hours",
        "12",
        "--visit-minutes",
        "10",
        "--available-hours",
        "3",
        "--no-density",
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "SECTOR 1: 29 denuncias, 2 puntos críticos" in result.output
    # progress while it runs: each phase is announced when it starts, timed when it ends
    text = result.output
    planning = text.index("Planificando el patrullaje por sector…")
    writing = text.index("Escribiendo hojas, mapas y tablas de 3 sectores…")
    assert planning < text.index("Planificando el patrullaje por sector: listo en") < writing
    assert writing < text.index("SECTOR 1: 29 denuncias")
    assert "obsoleta" not in text
    schedule = pd.read_csv(out / "horario_patrullaje.csv")
    assert set(schedule["Unidad"]) <= {1, 2}
    assert set(schedule["Turno"]) <= {1, 2}
    assert (schedule["Minutos de visita"] == 10).all()
    used = (
        (schedule["Minutos de visita"] + schedule["Minutos de traslado"])
        .groupby(
            [schedule["Sector"], schedule["Tipo de día"], schedule["Turno"], schedule["Unidad"]]
        )
        .sum()
    )
    assert (used <= 180).all()
    pdf = pdfium.PdfDocument(str(out / "patrullaje_comisaria_pnp_demo.pdf"))
    try:
        assert len(pdf) == 5  # three overview pages, two pages of point cards
        assert SYNTHETIC_BANNER in pdf[0].get_textpage().get_text_range()
    finally:
        pdf.close()
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 5
    assert "--overwrite" in again.output


@pytest.mark.slow
def test_hotspots_layer_of_the_workspace_gives_the_points(workspace, tmp_path):
    import geopandas as gpd
    from shapely.geometry import box
    from test_patrol_helpers import UTM, X0, Y0

    cells = gpd.GeoDataFrame(
        {"hotspot_id": ["gistar-0007"]},
        geometry=[box(X0 + 100, Y0 + 300, X0 + 200, Y0 + 400)],
        crs=UTM,
    ).to_crs("EPSG:4326")
    Workspace(workspace).write_layer("hotspots_gistar", cells)
    out = tmp_path / "plan"
    args = ["patrol", "-w", str(workspace), "-o", str(out), "--hotspots-layer", "hotspots_gistar"]
    result = CliRunner().invoke(cli, [*args, "--no-density"])
    assert result.exit_code == 0, result.output
    points = pd.read_csv(out / "puntos_criticos.csv")
    assert list(points["ID de origen"]) == ["gistar-0007"]
    assert list(points["Sector"]) == ["SECTOR 1"]
    assert points["Denuncias"].iloc[0] >= 12
