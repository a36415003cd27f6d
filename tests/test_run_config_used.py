"""Every option the run's configuration accepts reaches the stage that uses it."""

import json
from pathlib import Path

import pandas as pd
import pytest
from _chota import write_chota
from click.testing import CliRunner

from parsc_geo.cli.main import cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    """A run on Chota (January to March 2020) with non-default priority and patrol options."""
    folder = tmp_path_factory.mktemp("entrada")
    write_chota(folder, before="2020-04-01")
    (folder / "run.toml").write_text(
        """
title = "Opciones"
synthetic = true
[inputs]
incidents = ["chota.csv"]
sectors = "sectores.geojson"
[density]
bandwidth = 400
bandwidth_adjust = 0.5
[hotspots]
methods = ["gistar"]
[priority]
bootstrap = 5
k = 2
levels = ["provincia"]
top_modalidad = "hurto"
top_n = 3
maps = false
[maps]
enabled = false
[patrol]
block_hours = 3
eps = 80
min_count = 4
shifts = 2
first_shift_start = 7
revisit_minutes = 90
density = false
[evaluation]
enabled = false
[trends]
enabled = false
[near_repeat]
enabled = false
[qgis]
enabled = false
""",
        encoding="utf-8",
    )
    out = folder / "salida"
    result = CliRunner().invoke(
        cli, ["-q", "run", str(folder / "run.toml"), "-o", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return out


def test_priority_options_reach_the_priority_stage(run_folder):
    params = json.loads((run_folder / "run.json").read_text(encoding="utf-8"))["parameters"]
    prioridad = params["prioridad"]
    text = json.dumps(prioridad, ensure_ascii=False)
    assert '"k": 2' in text
    assert prioridad["levels"] == ["provincia"]
    files = {p.name for p in (run_folder / "prioridad").iterdir()}
    # the A3 table of the chosen modalidad, 3 rows at most; no document maps
    assert "a3_distritos_hurto.csv" in files and "a3_distritos_homicidios.csv" not in files
    top = pd.read_csv(run_folder / "prioridad" / "a3_distritos_hurto.csv")
    assert 1 <= len(top) <= 3
    assert not any(name.endswith((".png", ".pdf")) for name in files)


def test_patrol_and_density_options_reach_their_stages(run_folder):
    params = json.loads((run_folder / "run.json").read_text(encoding="utf-8"))["parameters"]
    patrol = json.dumps(params["patrullaje"], ensure_ascii=False)
    for expected in ('"block_hours": 3', '"eps_m": 80', '"min_count": 4', '"shifts": 2'):
        assert expected in patrol, (expected, patrol[:2000])
    assert '"first_shift_start": 7' in patrol and '"revisit_minutes": 90' in patrol
    density = json.dumps(params["densidad"], ensure_ascii=False)
    # 400 m halved by bandwidth_adjust = 0.5
    assert '"bandwidth_adjust": 0.5' in density and "200" in density
