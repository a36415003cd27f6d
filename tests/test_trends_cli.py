"""CLI tests of ``parsc-geo trends`` and ``parsc-geo near-repeat``, and an independent
recomputation of the classification from the written cube."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pymannkendall
import pyogrio
import pytest
from click.testing import CliRunner
from scipy.spatial import cKDTree

from parsc_geo.cli.main import cli
from parsc_geo.trends.emerging import emerging_hotspots
from parsc_geo.trends.io import read_cube_table
from parsc_geo.trends.near_repeat import knox_bands

CRS = "EPSG:32717"
X0, Y0 = 775_000.0, 9_207_000.0
START = pd.Timestamp("2021-01-04 09:00", tz="America/Lima")


def _incidents() -> gpd.GeoDataFrame:
    """One year (364 days) of incidents over 3 km × 3 km: a uniform background, a cluster all
    year round and a cluster that appears in the last 12 weeks."""
    rng = np.random.default_rng(21)
    parts = [
        (rng.uniform([X0, Y0], [X0 + 3000, Y0 + 3000], (1500, 2)), rng.integers(0, 364, 1500)),
        (rng.normal([X0 + 2500, Y0 + 2500], 80, (600, 2)), rng.integers(0, 364, 600)),
        (rng.normal([X0 + 500, Y0 + 500], 80, (300, 2)), rng.integers(280, 364, 300)),
    ]
    xy = np.vstack([p[0] for p in parts])
    day = np.concatenate([p[1] for p in parts])
    n = len(day)
    frame = pd.DataFrame(
        {
            "incident_id": [f"t{i:05d}" for i in range(n)],
            "occurred_at": START + pd.to_timedelta(day, unit="D"),
            "fenomeno": np.where(np.arange(n) % 2 == 0, "patrimonio_espacio_publico", "otros"),
            "at_station": False,
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS)


@pytest.fixture(scope="module")
def incidents_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("trends") / "incidentes.gpkg"
    _incidents().to_crs("EPSG:4326").to_file(path, driver="GPKG")
    return path


@pytest.fixture(scope="module")
def trends_out(incidents_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("trends_out")
    args = ["trends", str(incidents_file), "--cell-size", "250", "-o", str(out), "--netcdf"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Tendencias:" in result.output
    return out


def test_trends_writes_cube_and_patterns(incidents_file: Path, trends_out: Path) -> None:
    cube = pyogrio.read_dataframe(trends_out / "cubo.gpkg", layer="cubo", read_geometry=False)
    cells = gpd.read_file(trends_out / "tendencias.gpkg", layer="tendencias")
    for column in ("cell_id", "period_start", "count", "z", "p", "significant"):
        assert column in cube.columns
    for column in ("cell_id", "patron", "pattern", "mk_tau", "mk_p"):
        assert column in cells.columns
    params = json.loads((trends_out / "tendencias_parametros.json").read_text(encoding="utf-8"))
    p = params["parameters"]
    # 363 days of span → 28-day periods (sfhotspot), 13 complete ones laid back from the end.
    assert (p["period"], p["period_auto"], p["n_periods"]) == ("28 days", True, 13)
    assert p["distance"] == pytest.approx(250 * np.sqrt(2)) and p["k"] == 1
    assert len(cube) == len(cells) * 13
    # The written values are those of the library on the same input and parameters.
    ref = emerging_hotspots(gpd.read_file(incidents_file), cell_size=250, quiet=True)
    bins = ref.bins()
    np.testing.assert_allclose(cube["z"].to_numpy(), bins["z"].to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(cube["count"].to_numpy(), bins["count"].to_numpy())
    assert list(cells["pattern"]) == list(ref.cells()["pattern"])

    # The cluster that appeared in the last 12 weeks is a new or consecutive hot spot; the
    # all-year cluster a persistent or intensifying one.
    def pattern_at(x: float, y: float) -> str:
        point = gpd.points_from_xy([x + 10], [y + 10], crs=CRS)[0]  # off the cell corners
        hit = cells[cells.to_crs(CRS).contains(point)]
        return str(hit["pattern"].iloc[0])

    assert pattern_at(X0 + 500, Y0 + 500) in {"New Hot Spot", "Consecutive Hot Spot"}
    assert pattern_at(X0 + 2500, Y0 + 2500) in {"Persistent Hot Spot", "Intensifying Hot Spot"}
    csv = pd.read_csv(trends_out / "tendencias.csv", encoding="utf-8-sig")
    assert list(csv["patron"]) == list(cells["patron"])
    assert csv["lon"].between(-79, -78).all()


def _mine_pattern(z: np.ndarray, sig: np.ndarray, tau: float, p: float) -> str:
    """An independent, plain reading of ArcGIS's rules for one cell (see the patterns docs)."""
    hot = [bool(s and v > 0) for v, s in zip(z, sig, strict=True)]
    cold = [bool(s and v < 0) for v, s in zip(z, sig, strict=True)]
    n = len(z)
    for name, mine, other, stronger in (("Hot", hot, cold, tau > 0), ("Cold", cold, hot, tau < 0)):
        if not mine[-1]:
            continue
        share = sum(mine) / n
        if round(share, 12) >= 0.9:
            if p <= 0.05 and tau != 0:
                return f"{'Intensifying' if stronger else 'Diminishing'} {name} Spot"
            return f"Persistent {name} Spot"
        if any(other):
            return f"Oscillating {name} Spot"
        if sum(mine) == 1:
            return f"New {name} Spot"
        run = 0
        while run < n and mine[n - 1 - run]:
            run += 1
        return f"{'Consecutive' if run == sum(mine) else 'Sporadic'} {name} Spot"
    for name, mine in (("Hot", hot), ("Cold", cold)):
        if round(sum(mine) / n, 12) >= 0.9:
            return f"Historical {name} Spot"
    return "No Pattern Detected"


def test_classification_recomputed_from_the_written_cube(trends_out: Path) -> None:
    # The acceptance check on real data: re-read cubo.gpkg, rebuild each cell's series and
    # recompute z (esda on the space-time weights), the trend (pymannkendall) and the
    # pattern (the plain rules above) from it alone; compare with tendencias.gpkg.
    import libpysal
    import scipy.sparse as sp
    from esda import G_Local

    bins = read_cube_table(trends_out / "cubo.gpkg").sort_values(["cell_id", "period_start"])
    cells = gpd.read_file(trends_out / "tendencias.gpkg").sort_values("cell_id")
    params = json.loads((trends_out / "tendencias_parametros.json").read_text(encoding="utf-8"))
    distance, k = params["parameters"]["distance"], params["parameters"]["k"]
    n_cells, n_periods = len(cells), bins["period_start"].nunique()
    counts = bins["count"].to_numpy(float).reshape(n_cells, n_periods)
    # Space-time neighbours from the cells' centres: within the distance, same or k earlier
    # periods, self excluded (esda adds it with star=True).
    xy = cells[["x", "y"]].to_numpy()
    pairs = cKDTree(xy).query_pairs(distance * (1 + 1e-9), output_type="ndarray")
    spatial = sp.coo_matrix(
        (
            np.ones(2 * len(pairs)),
            (np.r_[pairs[:, 0], pairs[:, 1]], np.r_[pairs[:, 1], pairs[:, 0]]),
        ),
        shape=(n_cells, n_cells),
    ).tocsr() + sp.identity(n_cells)
    lags = sum(sp.eye(n_periods, k=-lag) for lag in range(k + 1))
    w_st = sp.kron(sp.csr_matrix(lags), spatial).tolil()
    w_st.setdiag(0)
    w = libpysal.weights.WSP(sp.csr_matrix(w_st)).to_W(silence_warnings=True)
    z = G_Local(counts.T.ravel(), w, transform="B", star=True, permutations=0).Zs
    z = z.reshape(n_periods, n_cells).T
    np.testing.assert_allclose(z, bins["z"].to_numpy().reshape(n_cells, n_periods), atol=1e-9)
    sig = bins["significant"].to_numpy(bool).reshape(n_cells, n_periods)
    mismatches = []
    for i, row in enumerate(cells.itertuples()):
        mk = pymannkendall.original_test(z[i])
        assert row.mk_tau == pytest.approx(mk.Tau, abs=1e-12)
        assert row.mk_p == pytest.approx(mk.p, abs=1e-12)
        expected = _mine_pattern(z[i], sig[i], mk.Tau, mk.p)
        if expected != row.pattern:
            mismatches.append((row.cell_id, expected, row.pattern))
    assert mismatches == []
    assert (cells["pattern"] != "No Pattern Detected").sum() > 0


def test_trends_netcdf_round_trip(trends_out: Path) -> None:
    import xarray as xr

    bins = read_cube_table(trends_out / "cubo.gpkg").sort_values(["cell_id", "period_start"])
    with xr.open_dataset(trends_out / "cubo.nc", engine="scipy") as ds:
        assert ds["GI_Z"].dims == ("cell", "time")
        np.testing.assert_allclose(ds["GI_Z"].values.ravel(), bins["z"].to_numpy(), rtol=1e-12)
        np.testing.assert_array_equal(ds["COUNT"].values.ravel(), bins["count"].to_numpy())
        assert "EPSG" in ds.attrs["crs_wkt"] or "UTM" in ds.attrs["crs_wkt"]


def test_trends_refuses_to_overwrite(incidents_file: Path, trends_out: Path) -> None:
    result = CliRunner().invoke(cli, ["trends", str(incidents_file), "-o", str(trends_out)])
    assert result.exit_code == 5
    assert "ya existe" in result.output


def test_trends_sfhotspot_scheme_and_options(incidents_file: Path, tmp_path: Path) -> None:
    args = [
        "trends", str(incidents_file), "-o", str(tmp_path), "--scheme", "sfhotspot",
        "--period", "month", "--align", "start", "--cell-size", "300", "--k", "0",
        "--fenomeno", "patrimonio_espacio_publico", "--dates", "2021-01:2021-12",
    ]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    cells = gpd.read_file(tmp_path / "tendencias.gpkg")
    assert set(cells["pattern"]) <= {
        "no pattern", "persistent hotspot", "emerging hotspot", "former hotspot",
        "intermittent hotspot", "persistent coldspot", "emerging coldspot", "former coldspot",
        "intermittent coldspot", "mixed hot/coldspot",
    }  # fmt: skip
    p = json.loads((tmp_path / "tendencias_parametros.json").read_text(encoding="utf-8"))
    # Calendar months from 2021-01-01 (given range): the 12 months of 2021.
    assert p["periods"][0] == {"start": "2021-01-01", "end_exclusive": "2021-02-01"}
    assert len(p["periods"]) == 12
    assert p["parameters"]["fenomenos"] == ["patrimonio_espacio_publico"]
    gdf = _incidents()
    local = gdf["occurred_at"].dt.tz_convert("America/Lima")
    selected = (gdf["fenomeno"] == "patrimonio_espacio_publico") & (local.dt.year == 2021)
    assert p["parameters"]["n_input"] == int(selected.sum())


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["--period", "fortnight"], 4, "periodo no reconocido"),
        (["--period", "year"], 3, "periodos completos"),
        (["--dates", "2021-13"], 2, "valor no válido para '--dates'"),
        (["--fenomeno", "robos"], 2, "valor no válido para '--fenomeno'"),
    ],
)
def test_trends_errors(
    incidents_file: Path, tmp_path: Path, extra: list[str], code: int, message: str
) -> None:
    result = CliRunner().invoke(cli, ["trends", str(incidents_file), "-o", str(tmp_path), *extra])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_trends_needs_dates(tmp_path: Path) -> None:
    path = tmp_path / "sin_fecha.geojson"
    _incidents().drop(columns="occurred_at").to_file(path, driver="GeoJSON")
    result = CliRunner().invoke(cli, ["trends", str(path), "-o", str(tmp_path / "o")])
    assert result.exit_code == 4
    assert "occurred_at" in result.output


def test_near_repeat_cli(incidents_file: Path, tmp_path: Path) -> None:
    args = [
        "near-repeat", str(incidents_file), "-o", str(tmp_path), "--space-bands", "0,100,200",
        "--time-bands", "0,7,14,inf", "--permutations", "19", "--seed", "4",
    ]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "repeticion.csv", encoding="utf-8-sig")
    assert list(table.columns) == [
        "d_min_m", "d_max_m", "t_min_days", "t_max_days", "observed", "expected", "ratio",
        "p_value",
    ]  # fmt: skip
    gdf = _incidents()
    days = (
        gdf["occurred_at"].dt.tz_convert("America/Lima").dt.tz_localize(None).dt.normalize()
        - pd.Timestamp("1970-01-01")
    ).dt.days.to_numpy(float)
    ref = knox_bands(
        gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy(), days, [0, 100, 200],
        [0, 7, 14, np.inf], permutations=19, seed=4,
    )  # fmt: skip
    # Points went through EPSG:4326 and back: distances move by nanometres only.
    np.testing.assert_array_equal(table["observed"], ref["observed"])
    np.testing.assert_allclose(table["expected"], ref["expected"], rtol=1e-12)
    document = json.loads((tmp_path / "repeticion_parametros.json").read_text(encoding="utf-8"))
    assert document["interpretation_es"] in result.output
    assert document["parameters"]["seed"] == 4


def test_near_repeat_rejects_bad_bands(incidents_file: Path, tmp_path: Path) -> None:
    args = ["near-repeat", str(incidents_file), "-o", str(tmp_path), "--space-bands", "0,200,100"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "crecientes" in result.output


def test_cube_rebuilt_from_the_written_files_gives_the_same_patterns(trends_out: Path) -> None:
    from parsc_geo.trends.emerging import analyse_cube
    from parsc_geo.trends.io import cube_from_table

    document = json.loads((trends_out / "tendencias_parametros.json").read_text(encoding="utf-8"))
    p = document["parameters"]
    cells = gpd.read_file(trends_out / "tendencias.gpkg")
    cells.attrs["parameters"] = {"cell_size": p["cell_size"], "shape": p["grid_shape"]}
    cube = cube_from_table(read_cube_table(trends_out / "cubo.csv"), cells, p)
    again = analyse_cube(cube, distance=p["distance"], k=p["k"], quiet=True)
    assert list(again.cells()["pattern"]) == list(cells.sort_values("cell_id")["pattern"])
    assert again.pattern_counts() == p["pattern_counts"]
