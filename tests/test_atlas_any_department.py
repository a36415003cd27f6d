"""The atlas of a department other than Cajamarca: its provinces are drawn, with a density."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from parsc_geo.cli.main import cli


@pytest.mark.slow
def test_map_of_an_arequipa_province_draws_its_page_with_a_density(tmp_path: Path) -> None:
    runner = CliRunner()
    # one month of synthetic complaints in Caravelí (Arequipa, UBIGEO 0403)
    result = runner.invoke(
        cli, ["-q", "sample", "--study-area", "0403", "--months", "1", "-o", str(tmp_path / "m")]
    )
    assert result.exit_code == 0, result.output
    (csv,) = (tmp_path / "m" / "incidents").glob("*_incidentes.csv")
    ws = tmp_path / "aq.gpkg"
    result = runner.invoke(cli, ["-q", "ingest", str(csv), "--study-area", "0403", "-w", str(ws)])
    assert result.exit_code == 0, result.output
    # before: "ninguno de los … incidentes está en las 13 provincias" (Cajamarca's only), and
    # a province page without a given density looked its polygon up among Cajamarca's
    result = runner.invoke(cli, ["map", "-w", str(ws), "-o", str(tmp_path / "mapas")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "mapas" / "provincia-caraveli.html").read_text(encoding="utf-8")
    assert "Caravelí" in page or "CARAVELI" in page
    assert "Densidad (incidentes/km²)" in page
