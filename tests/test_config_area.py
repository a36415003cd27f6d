"""The study area and the station distance limit in the run configuration and on the CLI."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from click.testing import CliRunner
from shapely.geometry import box

from parsc_geo._errors import ConfigError
from parsc_geo.cli.main import cli
from parsc_geo.config import RunConfig, parse_config
from parsc_geo.workspace import Workspace


def _config(tmp_path, **extra):
    data = tmp_path / "d.csv"
    data.write_text("lat,lon\n-16.4,-71.5\n", encoding="utf-8")
    return parse_config({"inputs": {"incidents": "d.csv"}, **extra}, base=tmp_path)


def test_default_title_names_the_study_area(tmp_path):
    assert _config(tmp_path).run_title == "Mapa del delito — región Cajamarca"
    cfg = _config(tmp_path, study_area="arequipa")
    assert cfg.study_area == "arequipa"
    assert cfg.run_title == "Mapa del delito — región Arequipa"
    assert cfg.to_dict()["title"] == "Mapa del delito — región Arequipa"
    assert _config(tmp_path, title="Mi título", study_area="04").run_title == "Mi título"
    assert RunConfig(incidents=[]).station_max_distance == 50_000.0


def test_polygon_study_area_is_relative_to_the_config_file(tmp_path):
    gpd.GeoDataFrame(geometry=[box(-71.6, -16.5, -71.4, -16.3)], crs="EPSG:4326").to_file(
        tmp_path / "zona.geojson"
    )
    cfg = _config(tmp_path, study_area="zona.geojson")
    assert cfg.study_area == str((tmp_path / "zona.geojson").resolve())


@pytest.mark.parametrize(
    ("extra", "text"),
    [
        ({"study_area": "santa rosa"}, "ambiguo"),
        ({"study_area": "99"}, "ningún distrito"),
        ({"study_area": 4}, "código UBIGEO"),
        ({"inputs": {"incidents": "d.csv", "station_max_distance": -1}}, "station_max_distance"),
        ({"inputs": {"incidents": "d.csv", "station_max_distance": True}}, "station_max_distance"),
    ],
)
def test_bad_values_are_listed_config_errors(tmp_path, extra, text):
    (tmp_path / "d.csv").write_text("lat,lon\n-7.1,-78.5\n", encoding="utf-8")
    data = {"inputs": {"incidents": "d.csv"}, **extra}
    with pytest.raises(ConfigError, match=text):
        parse_config(data, base=tmp_path)


def test_a_foreign_file_is_not_given_to_a_peruvian_station(tmp_path):
    """Issue 11: every incident of a foreign file went to one station thousands of km away."""
    # Toronto, with its own polygon as the study area so that nothing is quarantined
    rows = ["id,fecha,lat,lon,delito"] + [
        f"T{k},2020-05-0{k % 9 + 1},{43.65 + k * 0.001:.4f},{-79.38 - k * 0.001:.4f},ROBO"
        for k in range(12)
    ]
    (tmp_path / "toronto.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    gpd.GeoDataFrame(geometry=[box(-79.6, 43.5, -79.1, 43.9)], crs="EPSG:4326").to_file(
        tmp_path / "toronto.geojson"
    )
    ws = tmp_path / "ws.gpkg"
    result = CliRunner().invoke(
        cli,
        [
            "ingest",
            str(tmp_path / "toronto.csv"),
            "--study-area",
            str(tmp_path / "toronto.geojson"),
            "--timezone",
            "America/Toronto",
            "-w",
            str(ws),
            "--report",
            str(tmp_path / "r.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "12 incidente(s) a más de 50 km" in result.output
    incidents = Workspace(ws).read_incidents()
    assert len(incidents) == 12
    assert (incidents["comisaria"] == "").all() and (incidents["ubigeo"] == "").all()
    assert incidents["flags"].str.contains("far_from_station").all()
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["total"]["rows_accepted"] == 12
    assert Workspace(ws).metadata()["study_area"]["tipo"] == "poligono"


def test_a_workspace_remembers_its_study_area(tmp_path):
    rows = ["id,fecha,lat,lon,delito"] + [
        f"A{k},2020-05-0{k % 9 + 1},{-16.40 + k * 0.001:.4f},{-71.53 - k * 0.001:.4f},ROBO"
        for k in range(10)
    ]
    (tmp_path / "a.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    more = [rows[0]] + [r.replace("A", "B", 1) for r in rows[1:]]
    (tmp_path / "b.csv").write_text("\n".join(more) + "\n", encoding="utf-8")
    ws = str(tmp_path / "ws.gpkg")
    first = CliRunner().invoke(
        cli, ["ingest", str(tmp_path / "a.csv"), "-w", ws, "--study-area", "04"]
    )
    assert first.exit_code == 0, first.output
    # no --study-area: the workspace's (Arequipa), not Cajamarca's, which would quarantine all
    second = CliRunner().invoke(cli, ["ingest", str(tmp_path / "b.csv"), "-w", ws])
    assert second.exit_code == 0, second.output
    assert "aceptadas 10" in second.output
    incidents = Workspace(ws).read_incidents()
    assert len(incidents) == 20 and set(incidents["ubigeo"].str[:4]) == {"0401"}
    assert incidents.attrs["study_area"]["ubigeo"] == ["04"]
