"""CLI tests of ``parsc-geo evaluate`` and ``parsc-geo hotspots --method auto``."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from parsc_geo.cli.main import cli

X0, Y0 = 775_000.0, 9_207_000.0  # UTM 17S, Cajamarca
METHODS = ("auto", "counts", "counts_last", "kde", "gistar", "hdbscan")


def _points(seed: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Incidents over 2022–2023 around 12 stable spots plus background (metric, days)."""
    rng = np.random.default_rng(seed)
    spots = np.column_stack(
        [X0 + 400 + 500 * (np.arange(12) % 4), Y0 + 400 + 500 * (np.arange(12) // 4)]
    )
    n_spot, n_bg = 1400, 500
    xy = np.vstack(
        [
            spots[rng.integers(0, 12, n_spot)] + rng.normal(0, 40, (n_spot, 2)),
            rng.uniform([X0, Y0], [X0 + 2400, Y0 + 1900], (n_bg, 2)),
        ]
    )
    days = rng.uniform(0, 730, n_spot + n_bg)
    return xy[:, 0], xy[:, 1], days


def _lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pts = gpd.GeoSeries(gpd.points_from_xy(x, y), crs="EPSG:32717").to_crs("EPSG:4326")
    return pts.x.to_numpy(), pts.y.to_numpy()


@pytest.fixture
def peru_csv(tmp_path: Path) -> Path:
    x, y, days = _points()
    lon, lat = _lonlat(x, y)
    dates = pd.Timestamp("2022-01-01") + pd.to_timedelta(np.floor(days), unit="D")
    table = pd.DataFrame(
        {
            "LATITUD": lat.round(6),
            "LONGITUD": lon.round(6),
            "FECHA": dates.strftime("%d/%m/%Y"),  # Peruvian day-first dates
            "DELITO": "HURTO",
        }
    )
    # Rows a real export carries: a missing coordinate and a (0, 0) point, both dropped.
    table.loc[len(table)] = [np.nan, -78.5, "05/05/2022", "ROBO"]
    table.loc[len(table)] = [0.0, 0.0, "06/05/2022", "ROBO"]
    path = tmp_path / "denuncias.csv"
    table.to_csv(path, index=False)
    return path


def test_evaluate_writes_every_file(tmp_path: Path, peru_csv: Path) -> None:
    out = tmp_path / "eval"
    args = [
        "evaluate", str(peru_csv), "--split", "2023-01-01", "--coverage", "1,5",
        "--methods", ",".join(METHODS), "--bootstrap", "50", "-o", str(out),
    ]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "auto eligió" in result.output
    content = json.loads((out / "evaluacion.json").read_text(encoding="utf-8"))
    table = pd.read_csv(out / "evaluacion.csv", encoding="utf-8-sig")
    # Counts by hand from the generated dates: day < 365 is training (2022), the rest test.
    _, _, days = _points()
    assert content["n_train"] == int((np.floor(days) < 365).sum())
    assert content["n_test"] == int((np.floor(days) >= 365).sum())
    assert content["cell_size_m"] == 100.0
    assert content["study_area_km2"] > 0
    assert content["parameters"]["input"]["dropped_no_coordinates"] == 2
    assert content["auto"]["chosen"] in content["auto"]["candidates"]
    assert set(content["methods"]) == set(METHODS)
    assert len(table) == len(METHODS) * 2
    for method in METHODS:
        for key in ("1", "5"):
            entry = content["methods"][method][key]
            for field in ("hit_rate", "pai", "pei_star", "rri", "n_cells", "area_km2"):
                assert field in entry
            # PAI = hit rate / (selected cells / all cells)
            n_cells_total = round(content["study_area_km2"] / 0.01)
            assert entry["pai"] == pytest.approx(
                entry["hit_rate"] / (entry["n_cells"] / n_cells_total)
            )
            row = table[(table["method"] == method) & (table["coverage_pct"] == float(key))]
            assert row["hit_rate"].item() == pytest.approx(entry["hit_rate"])
            assert row["pei_star"].item() == pytest.approx(entry["pei_star"])
            cells = gpd.read_file(out / "seleccion" / f"{method}_{key}pct.geojson")
            assert cells.crs.to_epsg() == 4326
            assert len(cells) == entry["n_cells"]
            assert cells["rank"].tolist() == list(range(1, len(cells) + 1))
            assert {"score", "n_train", "n_test"} <= set(cells.columns)
    # The counts selection's training incidents add up to what the JSON reports inside it.
    counts_cells = gpd.read_file(out / "seleccion" / "counts_1pct.geojson")
    assert counts_cells["n_train"].sum() == pytest.approx(
        content["methods"]["counts"]["1"]["train_in"], abs=1.0
    )
    png = (out / "curvas_tasa_acierto.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_evaluate_other_city_columns_and_categories(tmp_path: Path) -> None:
    # Toronto-like export: English column names, UTC-stamped dates, categories of its own.
    x, y, days = _points(seed=3)
    lon, lat = _lonlat(x, y)
    stamps = pd.Timestamp("2022-01-01 05:00") + pd.to_timedelta(np.floor(days), unit="D")
    table = pd.DataFrame(
        {
            "occurrencedate": stamps.strftime("%Y/%m/%d %H:%M:%S+00"),
            "MCI": np.where(np.arange(len(x)) % 3 == 0, "Robbery", "Assault"),
            "Lat": lat,
            "Long": lon,
        }
    )
    path = tmp_path / "toronto_like.csv"
    table.to_csv(path, index=False)
    out = tmp_path / "eval"
    args = [
        "evaluate", str(path), "--date-col", "occurrencedate", "--split", "2023-01-01",
        "--category-col", "MCI", "--category", "Robbery", "--methods", "counts,kde_200",
        "--bootstrap", "0", "--no-offsets", "-o", str(out),
    ]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    content = json.loads((out / "evaluacion.json").read_text(encoding="utf-8"))
    assert content["parameters"]["input"]["categories"] == {
        "Robbery": int((table.MCI == "Robbery").sum())
    }
    robbery = np.arange(len(x)) % 3 == 0
    assert content["n_train"] + content["n_test"] == int(robbery.sum())
    assert content["n_test"] == int((robbery & (np.floor(days) >= 365)).sum())
    assert (out / "seleccion" / "kde_200_5pct.geojson").exists()


def test_evaluate_reads_month_first_dates(tmp_path: Path) -> None:
    # A US-style export: "Date" as MM/DD/YYYY hh:mm:ss AM/PM, which the Peruvian day-first
    # reading cannot take for days after the 12th; the whole column is read month first.
    x, y, days = _points(seed=4)
    lon, lat = _lonlat(x, y)
    stamps = pd.Timestamp("2022-01-01 15:30") + pd.to_timedelta(np.floor(days), unit="D")
    table = pd.DataFrame(
        {"Date": stamps.strftime("%m/%d/%Y %I:%M:%S %p"), "Latitude": lat, "Longitude": lon}
    )
    path = tmp_path / "us_export.csv"
    table.to_csv(path, index=False)
    out = tmp_path / "eval"
    args = ["evaluate", str(path), "--split", "2023-01-01", "--methods", "counts",
            "--bootstrap", "0", "--no-offsets", "-o", str(out)]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    content = json.loads((out / "evaluacion.json").read_text(encoding="utf-8"))
    assert content["n_test"] == int((np.floor(days) >= 365).sum())
    dates = content["parameters"]["input"]["date_columns"]["us_export.csv"]
    assert dates["column"] == "Date" and dates["unparsed"] == 0
    assert "mes primero" in dates["convention"]


def test_evaluate_errors_have_exit_codes(tmp_path: Path, peru_csv: Path) -> None:
    runner = CliRunner()
    no_date = tmp_path / "sin_fecha.csv"
    pd.read_csv(peru_csv).drop(columns="FECHA").to_csv(no_date, index=False)
    result = runner.invoke(cli, ["evaluate", str(no_date), "--split", "2023-01-01"])
    assert result.exit_code == 3
    assert "columna de fecha" in result.output
    result = runner.invoke(cli, ["evaluate", str(peru_csv), "--split", "mañana"])
    assert result.exit_code == 4
    assert "fecha no válida" in result.output
    result = runner.invoke(
        cli, ["evaluate", str(peru_csv), "--split", "2023-01-01", "--methods", "magia"]
    )
    assert result.exit_code == 4
    out = tmp_path / "eval"
    args = ["evaluate", str(peru_csv), "--split", "2023-01-01", "--methods", "counts",
            "--bootstrap", "0", "--no-offsets", "-o", str(out)]  # fmt: skip
    assert runner.invoke(cli, args).exit_code == 0
    again = runner.invoke(cli, args)
    assert again.exit_code == 5
    assert "ya existe" in again.output
    assert runner.invoke(cli, [*args, "--overwrite"]).exit_code == 0


def test_hotspots_auto_writes_selections(tmp_path: Path) -> None:
    x, y, days = _points(seed=5)
    times = pd.Timestamp("2022-01-01", tz="America/Lima") + pd.to_timedelta(days, unit="D")
    frame = gpd.GeoDataFrame(
        {"incident_id": [f"c{i:05d}" for i in range(len(x))], "occurred_at": times},
        geometry=gpd.points_from_xy(x, y),
        crs="EPSG:32717",
    ).to_crs("EPSG:4326")
    source = tmp_path / "incidentes.geojson"
    frame.to_file(source, driver="GeoJSON")
    out = tmp_path / "out"
    args = ["hotspots", str(source), "--method", "auto", "--coverage", "1,5", "-o", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    from parsc_geo.hotspots.io import read_hotspots

    layer = read_hotspots(out / "hotspots_auto.gpkg")
    selections = layer.attrs["parameters"]["selections"]
    assert set(selections) == {"1", "5"}
    for key in ("1", "5"):
        cells = gpd.read_file(out / f"seleccion_auto_{key}pct.geojson")
        assert cells.crs.to_epsg() == 4326
        assert len(cells) == selections[key]
        assert cells["rank"].tolist() == list(range(1, len(cells) + 1))
        assert np.all(np.diff(cells["score"].to_numpy()) <= 0)
    # The 1 % selection is the head of the 5 % one.
    one = gpd.read_file(out / "seleccion_auto_1pct.geojson")
    five = gpd.read_file(out / "seleccion_auto_5pct.geojson")
    assert one["cell_id"].tolist() == five["cell_id"].tolist()[: len(one)]
    assert (
        layer.attrs["parameters"]["auto"]["chosen"]
        in layer.attrs["parameters"]["auto"]["candidates"]
    )
