"""``parsc-geo density`` through CliRunner: exit codes, then the GeoTIFF's values."""

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from click.testing import CliRunner
from shapely.geometry import box

from parsc_geo.cli.main import cli

# Cajamarca city, around the Plaza de Armas
LON0, LAT0 = -78.5170, -7.1570


@pytest.fixture
def lonlat():
    rng = np.random.default_rng(10)
    return LON0 + rng.normal(0, 0.008, 400), LAT0 + rng.normal(0, 0.008, 400)


def read_tif(path):
    with rasterio.open(path) as src:
        return src.read(1), src.res, src.crs, src.tags(), src.transform


def quartic_km2(r, d):
    return 3 / (math.pi * r**2) * (1 - d**2 / r**2) ** 2 * 1e6


def test_geojson_input_writes_geotiff_with_expected_values(tmp_path, lonlat):
    lon, lat = lonlat
    src = tmp_path / "puntos.geojson"
    gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_file(src)
    out = tmp_path / "densidad.tif"
    result = CliRunner().invoke(
        cli, ["density", str(src), "-o", str(out), "--bandwidth", "500", "--cell-size", "50"]
    )
    assert result.exit_code == 0, result.output
    assert "Escrito" in result.output and "400 incidentes" in result.output
    data, res, crs, tags, _ = read_tif(out)
    assert crs.to_epsg() == 32717 and res == (50.0, 50.0)
    assert data.sum() * 0.0025 == pytest.approx(400, rel=1e-5)
    params = json.loads(tags["PARSC_GEO_PARAMETERS"])
    assert params["bandwidth_m"] == 500 and params["kernel"] == "quartic"
    assert params["source"] == str(src)


def test_csv_single_point_value_by_hand(tmp_path):
    # one point: the peak cell holds 3/(π r²) when the point sits on a cell centre
    utm = gpd.GeoSeries(gpd.points_from_xy([775025.0], [9208025.0]), crs="EPSG:32717").to_crs(
        "EPSG:4326"
    )
    src = tmp_path / "uno.csv"
    pd.DataFrame({"LONGITUD": utm.x, "LATITUD": utm.y}).to_csv(src, index=False)
    out = tmp_path / "uno.tif"
    args = ["density", str(src), "-o", str(out), "--bandwidth", "400", "--cell-size", "50"]
    result = CliRunner().invoke(cli, [*args, "--dtype", "float64"])
    assert result.exit_code == 0, result.output
    data, _, _, _, transform = read_tif(out)
    col, row = ~transform @ (775025.0, 9208025.0)
    peak = data[math.floor(row), math.floor(col)]
    assert peak == pytest.approx(quartic_km2(400, 0), rel=1e-4)
    assert data.max() == pytest.approx(peak)
    # 100 m east: (1 − 100²/400²)² of the peak
    assert data[math.floor(row), math.floor(col) + 2] == pytest.approx(
        quartic_km2(400, 100), rel=1e-4
    )


def test_csv_with_named_columns_weights_and_units(tmp_path, lonlat):
    lon, lat = lonlat
    src = tmp_path / "d.csv"
    pd.DataFrame({"x_lon": lon, "y_lat": lat, "peso": np.full(400, 2.0)}).to_csv(src, index=False)
    out = tmp_path / "celdas.tif"
    result = CliRunner().invoke(
        cli,
        [
            "density", str(src), "-o", str(out), "--lon-col", "x_lon", "--lat-col", "y_lat",
            "--weights", "peso", "--units", "per_cell", "--kernel", "gaussian",
            "--bandwidth", "150", "--cell-size", "40",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data, _, _, tags, _ = read_tif(out)
    assert data.sum() == pytest.approx(800, rel=1e-5)  # per cell: sums to Σ weights
    assert tags["units"] == "per_cell" and json.loads(tags["kernel"]) == "gaussian"


def test_semicolon_latin1_csv(tmp_path, lonlat):
    lon, lat = lonlat
    src = tmp_path / "denuncias.csv"
    frame = pd.DataFrame({"Longitud": lon, "Latitud": lat, "Comisaría": "CPNP CAJAMARCA"})
    src.write_bytes(frame.to_csv(sep=";", index=False).encode("latin-1"))
    out = tmp_path / "d.tif"
    result = CliRunner().invoke(
        cli, ["-q", "density", str(src), "-o", str(out), "--bandwidth", "300"]
    )
    assert result.exit_code == 0, result.output
    data, res, _, _, _ = read_tif(out)
    assert data.sum() * res[0] * res[1] / 1e6 == pytest.approx(400, rel=1e-5)


def test_workspace_input_excludes_station_stacks_and_filters_fenomeno(tmp_path, lonlat):
    from parsc_geo.workspace import Workspace

    lon, lat = lonlat
    n = len(lon)
    gdf = gpd.GeoDataFrame(
        {
            "incident_id": [f"i{i:04d}" for i in range(n)],
            "occurred_at": pd.Timestamp("2020-03-01 10:00", tz="America/Lima"),
            "time_known": True,
            "fenomeno": np.where(
                np.arange(n) % 4 == 0, "violencia_mujer", "patrimonio_espacio_publico"
            ),
            "harm": 1.0,
            "source": "a.csv",
            "source_row": np.arange(1, n + 1),
            "flags": "",
            "at_station": np.arange(n) < 10,
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    ws = tmp_path / "ws.gpkg"
    Workspace(ws).import_incidents(
        gdf, pd.DataFrame(), sources=[{"source": "a.csv", "sha256": "x", "rows_read": n}]
    )
    out = tmp_path / "ws.tif"
    result = CliRunner().invoke(
        cli, ["-q", "density", "-w", str(ws), "-o", str(out), "--bandwidth", "400"]
    )
    assert result.exit_code == 0, result.output
    assert "390 incidentes (10 en comisarías, excluidos)" in result.output
    data, res, _, tags, _ = read_tif(out)
    assert data.sum() * res[0] * res[1] / 1e6 == pytest.approx(390, rel=1e-5)
    assert json.loads(tags["excluded_at_station"]) == 10
    out2 = tmp_path / "pat.tif"
    result = CliRunner().invoke(
        cli,
        [
            "-q", "density", "-w", str(ws), "-o", str(out2), "--bandwidth", "400",
            "--fenomeno", "violencia_mujer", "--include-at-station",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data, res, _, _, _ = read_tif(out2)
    assert data.sum() * res[0] * res[1] / 1e6 == pytest.approx(100, rel=1e-5)


def test_mask_file_and_extent(tmp_path, lonlat):
    lon, lat = lonlat
    src = tmp_path / "p.gpkg"
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    pts.to_file(src)
    centre = pts.to_crs("EPSG:32717").union_all().centroid
    cx, cy = round(centre.x, -2), round(centre.y, -2)
    mask = tmp_path / "mask.geojson"
    gpd.GeoDataFrame(
        geometry=[box(cx - 500, cy - 500, cx + 500, cy + 500)], crs="EPSG:32717"
    ).to_file(mask)
    out = tmp_path / "m.tif"
    extent = f"{cx - 1000},{cy - 1000},{cx + 1000},{cy + 1000}"
    result = CliRunner().invoke(
        cli,
        ["density", str(src), "-o", str(out), "--mask", str(mask), "--extent", extent,
         "--bandwidth", "400", "--cell-size", "50"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with rasterio.open(out) as f:
        assert (f.width, f.height) == (40, 40)
        assert f.bounds.left == cx - 1000 and f.bounds.top == cy + 1000
        assert f.read(1, masked=True).count() == 400  # 20 × 20 cells inside the mask


def test_errors_and_exit_codes(tmp_path, lonlat):
    lon, lat = lonlat
    src = tmp_path / "p.csv"
    pd.DataFrame({"LONGITUD": lon, "LATITUD": lat}).to_csv(src, index=False)
    out = tmp_path / "d.tif"
    runner = CliRunner()
    assert runner.invoke(cli, ["density", str(src), "-o", str(out)]).exit_code == 0
    again = runner.invoke(cli, ["density", str(src), "-o", str(out)])
    assert again.exit_code == 5 and "--overwrite" in again.output
    assert runner.invoke(cli, ["density", str(src), "-o", str(out), "--overwrite"]).exit_code == 0
    bad_bw = runner.invoke(cli, ["density", str(src), "-o", str(out), "--bandwidth", "wide"])
    assert bad_bw.exit_code == 2 and "silverman" in bad_bw.output
    no_col = runner.invoke(
        cli, ["density", str(src), "-o", str(tmp_path / "w.tif"), "--weights", "harm"]
    )
    assert no_col.exit_code == 4 and "no se encontró la columna de pesos 'harm'" in no_col.output
    missing = runner.invoke(
        cli, ["density", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "x.tif")]
    )
    assert missing.exit_code == 3 and "el archivo no existe" in missing.output
    cols = tmp_path / "c.csv"
    pd.DataFrame({"a": [1], "b": [2]}).to_csv(cols, index=False)
    no_coords = runner.invoke(cli, ["density", str(cols), "-o", str(tmp_path / "y.tif")])
    assert no_coords.exit_code == 4 and "--lon-col" in no_coords.output
    bad_mask = tmp_path / "mask.geojson"
    bad_mask.write_text("not a vector")
    masked = runner.invoke(
        cli, ["density", str(src), "-o", str(tmp_path / "z.tif"), "--mask", str(bad_mask)]
    )
    assert masked.exit_code == 3 and "--mask" in masked.output
    assert not any((tmp_path / name).exists() for name in ("x.tif", "y.tif", "z.tif"))


def test_help_has_examples():
    result = CliRunner().invoke(cli, ["density", "--help"])
    assert result.exit_code == 0
    assert "Ejemplos:" in result.output and "parsc-geo density" in result.output
