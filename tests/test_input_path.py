"""One input path: every analysis command reads incident points the same way.

Reproduces two failures of issue 11: a GeoJSON whose ``at_station`` holds the text "false"
lost every point in ``density`` and kept them in ``hotspots``; ``hotspots`` refused a CSV that
``density`` read.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from _ingest_fixtures import kml_document
from click.testing import CliRunner

from parsc_geo.cli.main import cli
from parsc_geo.hotspots.io import read_hotspots
from parsc_geo.incidents import select
from parsc_geo.io import read_points
from parsc_geo.workspace import Workspace

# Cajamarca city, around the Plaza de Armas
LON0, LAT0 = -78.5170, -7.1570
N = 300


def _points(n: int = N) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(21)
    # two tight groups (hotspots) and scattered background
    lon = np.concatenate(
        [
            LON0 + rng.normal(0, 0.0006, n // 3),
            LON0 + 0.02 + rng.normal(0, 0.0006, n // 3),
            LON0 + rng.uniform(-0.03, 0.05, n - 2 * (n // 3)),
        ]
    )
    lat = np.concatenate(
        [
            LAT0 + rng.normal(0, 0.0006, n // 3),
            LAT0 + 0.015 + rng.normal(0, 0.0006, n // 3),
            LAT0 + rng.uniform(-0.03, 0.04, n - 2 * (n // 3)),
        ]
    )
    return lon, lat


def _geojson_with_text_booleans(path: Path, at_station: list[str]) -> Path:
    lon, lat = _points(len(at_station))
    features = [
        {
            "type": "Feature",
            "properties": {"incident_id": f"i{i:04d}", "at_station": flag},
            "geometry": {"type": "Point", "coordinates": [float(x), float(y)]},
        }
        for i, (x, y, flag) in enumerate(zip(lon, lat, at_station, strict=True))
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _n_used_by_density(tif: Path) -> int:
    with rasterio.open(tif) as src:
        return int(json.loads(src.tags()["PARSC_GEO_PARAMETERS"])["n_incidents"])


# -- the two failures ----------------------------------------------------------------------------


def test_text_false_at_station_keeps_every_point_in_density_and_hotspots(tmp_path):
    # every value is the text "false": no point is stacked on a station
    src = _geojson_with_text_booleans(tmp_path / "puntos.geojson", ["false"] * N)
    tif = tmp_path / "d.tif"
    result = CliRunner().invoke(cli, ["density", str(src), "-o", str(tif), "--bandwidth", "300"])
    assert result.exit_code == 0, result.output
    assert _n_used_by_density(tif) == N
    result = CliRunner().invoke(cli, ["hotspots", str(src), "-m", "kde", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    layer = read_hotspots(tmp_path / "hotspots_kde.gpkg")
    assert layer.attrs["parameters"]["n_excluded_at_station"] == 0
    assert layer.attrs["parameters"]["n_used"] == N


def test_text_true_at_station_is_excluded_the_same_way_everywhere(tmp_path):
    # 1 in 10 is the text "true" (or "Sí"): those 30 are left out by both commands
    flags = ["true" if i % 20 == 0 else "Sí" if i % 20 == 10 else "0" for i in range(N)]
    src = _geojson_with_text_booleans(tmp_path / "puntos.geojson", flags)
    tif = tmp_path / "d.tif"
    result = CliRunner().invoke(cli, ["density", str(src), "-o", str(tif), "--bandwidth", "300"])
    assert result.exit_code == 0, result.output
    assert _n_used_by_density(tif) == N - N // 10
    result = CliRunner().invoke(cli, ["hotspots", str(src), "-m", "kde", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    layer = read_hotspots(tmp_path / "hotspots_kde.gpkg")
    assert layer.attrs["parameters"]["n_excluded_at_station"] == N // 10


def test_hotspots_reads_the_csv_that_density_reads(tmp_path):
    lon, lat = _points()
    src = tmp_path / "denuncias.csv"
    # semicolon separator and decimal commas, as Excel writes them in Peru
    pd.DataFrame(
        {
            "LONGITUD": [f"{v:.6f}".replace(".", ",") for v in lon],
            "LATITUD": [f"{v:.6f}".replace(".", ",") for v in lat],
        }
    ).to_csv(src, sep=";", index=False)
    tif = tmp_path / "d.tif"
    result = CliRunner().invoke(cli, ["density", str(src), "-o", str(tif), "--bandwidth", "300"])
    assert result.exit_code == 0, result.output
    assert _n_used_by_density(tif) == N
    result = CliRunner().invoke(cli, ["hotspots", str(src), "-m", "dbscan", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    layer = read_hotspots(tmp_path / "hotspots_dbscan.gpkg")
    assert layer.attrs["parameters"]["n_used"] == N
    # the two planted groups of 100 points are found
    assert len(layer) >= 2 and int(layer["n"].max()) >= 90


# -- read_points on every format -----------------------------------------------------------------


def _frame(n: int = 6) -> pd.DataFrame:
    lon, lat = _points(30)
    return pd.DataFrame(
        {
            "incident_id": [f"a{i}" for i in range(n)],
            "LONGITUD": lon[:n],
            "LATITUD": lat[:n],
            "at_station": ["false", "true", "0", "1", "no", "sí"][:n],
            "harm": ["2", "3.5", "", "1", "4", "1"][:n],
        }
    )


def _expected_lonlat() -> tuple[np.ndarray, np.ndarray]:
    lon, lat = _points(30)
    return lon[:6], lat[:6]


def _write(fmt: str, tmp_path: Path) -> Path:
    df = _frame()
    gdf = gpd.GeoDataFrame(
        df.drop(columns=["LONGITUD", "LATITUD"]),
        geometry=gpd.points_from_xy(df["LONGITUD"], df["LATITUD"]),
        crs="EPSG:4326",
    )
    if fmt == "csv":
        path = tmp_path / "p.csv"
        df.to_csv(path, index=False)
    elif fmt == "xlsx":
        path = tmp_path / "p.xlsx"
        df.to_excel(path, index=False)
    elif fmt == "geojson":
        path = tmp_path / "p.geojson"
        gdf.to_file(path)
    elif fmt == "gpkg":
        path = tmp_path / "p.gpkg"
        gdf.to_file(path, layer="puntos")
    elif fmt == "shp":
        path = tmp_path / "p.shp"
        gdf.to_file(path)
    else:
        lon, lat = _expected_lonlat()
        placemarks = [
            {
                "name": f"a{i}",
                "lat": float(lat[i]),
                "lon": float(lon[i]),
                "data": {"at_station": df["at_station"][i], "harm": df["harm"][i]},
            }
            for i in range(6)
        ]
        text = kml_document({"PUNTOS": placemarks})
        if fmt == "kml":
            path = tmp_path / "p.kml"
            path.write_text(text, encoding="utf-8")
        else:
            path = tmp_path / "p.kmz"
            with zipfile.ZipFile(path, "w") as zf:
                zf.writestr("doc.kml", text)
    return path


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "geojson", "gpkg", "shp", "kml", "kmz"])
def test_read_points_reads_every_format_the_same_way(tmp_path, fmt):
    points = read_points(_write(fmt, tmp_path))
    lon, lat = _expected_lonlat()
    assert len(points) == 6
    assert points.crs.to_epsg() == 4326
    np.testing.assert_allclose(points.geometry.x, lon, atol=1e-9)
    np.testing.assert_allclose(points.geometry.y, lat, atol=1e-9)
    # "false", "true", "0", "1", "no", "sí" → F T F T F T, in every format
    assert points["at_station"].tolist() == [False, True, False, True, False, True]
    assert points["harm"].tolist()[:2] == [2.0, 3.5] and np.isnan(points["harm"].iloc[2])
    assert points.attrs["source"].endswith(f"p.{fmt}")


def test_read_points_reads_a_workspace_by_path_or_by_default(tmp_path, monkeypatch):
    lon, lat = _expected_lonlat()
    accepted = gpd.GeoDataFrame(
        {
            "incident_id": ["w1", "w2"],
            "occurred_at": pd.to_datetime(["2020-03-05 21:15", "2020-03-06 08:00"]).tz_localize(
                "America/Lima"
            ),
            "at_station": [False, True],
            "source": "x.csv",
        },
        geometry=gpd.points_from_xy(lon[:2], lat[:2]),
        crs="EPSG:4326",
    )
    ws = Workspace(tmp_path / "workspace.gpkg")
    ws.import_incidents(
        accepted,
        pd.DataFrame(columns=["source"]),
        sources=[{"source": "x.csv", "sha256": "0"}],
        metadata={"synthetic": True},
    )
    by_path = read_points(tmp_path / "workspace.gpkg")
    monkeypatch.chdir(tmp_path)
    by_default = read_points()
    for points in (by_path, by_default):
        assert points["incident_id"].tolist() == ["w1", "w2"]
        assert points["at_station"].tolist() == [False, True]
        assert points.attrs["synthetic"] is True
        assert str(points["occurred_at"].dt.tz) == "America/Lima"


def test_read_points_errors(tmp_path):
    from parsc_geo._errors import ConfigError, InputDataError

    with pytest.raises(InputDataError, match="no existe"):
        read_points(tmp_path / "nada.csv")
    bad = tmp_path / "sin_coordenadas.csv"
    pd.DataFrame({"A": [1, 2]}).to_csv(bad, index=False)
    with pytest.raises(ConfigError, match="--lon-col"):
        read_points(bad)
    holes = tmp_path / "huecos.csv"
    pd.DataFrame({"LON": [LON0, "x", LON0], "LAT": [LAT0, LAT0, ""]}).to_csv(holes, index=False)
    with pytest.raises(InputDataError, match=r"2 de 3 filas .* fila de datos 2"):
        read_points(holes)


def test_read_points_times_become_lima_times(tmp_path):
    df = _frame(2)
    df["occurred_at"] = ["2020-03-05T21:15:00-05:00", "2020-03-06 08:00"]
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    times = read_points(path)["occurred_at"]
    assert str(times.dt.tz) == "America/Lima"
    assert times.dt.hour.tolist() == [21, 8]


# -- select ----------------------------------------------------------------------------------------


def _incidents() -> gpd.GeoDataFrame:
    lon, lat = _expected_lonlat()
    return gpd.GeoDataFrame(
        {
            "fenomeno": ["violencia_mujer", "otros", "otros", "violencia_mujer", "otros", "otros"],
            "occurred_at": pd.to_datetime(
                ["2020-01-31", "2020-02-01", "2020-03-15", "2020-03-31", None, "2019-12-31"]
            ).tz_localize("America/Lima"),
            "at_station": ["false", "true", "0", "no", "sí", "False"],
        },
        geometry=[*gpd.points_from_xy(lon[:5], lat[:5]), None],
        crs="EPSG:4326",
    )


def test_select_counts_every_step():
    chosen = select(_incidents())
    record = chosen.attrs["selection"]
    # row 5 has no geometry; rows 1 ("true") and 4 ("sí") are stacked on a station
    assert chosen.index.tolist() == [0, 2, 3]
    assert record["n_missing_geometry"] == 1
    assert record["n_excluded_at_station"] == 2
    assert record["n_used"] == 3


def test_select_fenomeno_period_and_station_option():
    chosen = select(_incidents(), fenomenos=["otros"], period="2020-02:2020-03")
    # "otros" with a location: rows 1, 2, 4; in February–March 2020: rows 1, 2; row 1 stacked
    assert chosen.index.tolist() == [2]
    record = chosen.attrs["selection"]
    assert record["n_other_fenomeno"] == 2 and record["n_outside_period"] == 1
    assert record["period"] == "2020-02:2020-03"
    kept = select(_incidents(), fenomenos=["otros"], include_at_station=True)
    assert kept.index.tolist() == [1, 2, 4]


def test_select_area_by_ubigeo_prefix():
    points = _incidents()
    # the first five points are in Cajamarca city (province 0601); move one to Lima
    points.loc[[0], "geometry"] = gpd.points_from_xy([-77.03], [-12.05])
    chosen = select(points, area="0601", include_at_station=True)
    assert chosen.index.tolist() == [1, 2, 3, 4]
    assert chosen.attrs["selection"]["n_outside_area"] == 1


def test_select_refuses_unknown_fenomeno():
    from parsc_geo._errors import ConfigError

    with pytest.raises(ConfigError, match="desconocido"):
        select(_incidents(), fenomenos=["robos"])
