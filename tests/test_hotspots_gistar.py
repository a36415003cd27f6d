"""Tests of Getis-Ord Gi* hotspots: statistic vs PySAL esda, FDR vs scipy, classes, schema."""

from __future__ import annotations

import warnings

import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pytest
import shapely
from esda import G_Local
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from parsc_geo._errors import ConfigError
from parsc_geo.grid import contiguity_weights, distance_band_weights, make_grid
from parsc_geo.hotspots import hotspot_gistar
from parsc_geo.hotspots.gistar import classify, fdr_bh, gi_star_z, two_sided_p
from parsc_geo.schema import HOTSPOT_COLUMNS

CRS = "EPSG:32717"
X0, Y0 = 775_000.0, 9_207_000.0


def _esda_z(y: np.ndarray, w: libpysal.weights.W) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(G_Local(y, w, transform="B", star=True, permutations=0).Zs)


def _clustered_counts(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = rng.poisson(1.0, n).astype(float)
    y[rng.choice(n, n // 10, replace=False)] += rng.poisson(6.0, n // 10)
    return y


def _incidents(seed: int = 7) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    hot = rng.normal([X0 + 1500, Y0 + 1500], 120, (120, 2))
    background = rng.uniform([X0, Y0], [X0 + 4000, Y0 + 3000], (200, 2))
    xy = np.vstack([hot, background])
    n = len(xy)
    df = pd.DataFrame(
        {
            "incident_id": [f"id{i:04d}" for i in range(n)],
            "occurred_at": pd.Timestamp("2020-03-02 20:00", tz="America/Lima")
            + pd.to_timedelta(rng.integers(0, 24 * 60, n), unit="min"),
            "time_known": True,
            "delito_especifico": "HURTO",
            "modalidad": "SIMPLE",
            "harm": 1.0,
            "at_station": False,
        }
    )
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS)


# ---------------------------------------------------------------- statistic vs esda


def test_gi_star_equals_esda_distance_band_square() -> None:
    grid = make_grid(shapely.box(X0, Y0, X0 + 3000, Y0 + 2000), 100, crs=CRS)
    y = _clustered_counts(len(grid), 1)
    ours = gi_star_z(y, distance_band_weights(grid, 250.0))
    centres = np.column_stack([grid["x"], grid["y"]])
    w = libpysal.weights.DistanceBand(centres, threshold=250.0, binary=True, silence_warnings=True)
    np.testing.assert_allclose(ours, _esda_z(y, w), rtol=0, atol=1e-9)


def test_gi_star_equals_esda_queen_square() -> None:
    grid = make_grid(shapely.box(X0, Y0, X0 + 2000, Y0 + 1500), 100, crs=CRS)
    y = _clustered_counts(len(grid), 2)
    ours = gi_star_z(y, contiguity_weights(grid))
    w = libpysal.weights.Queen.from_dataframe(grid, use_index=False, silence_warnings=True)
    np.testing.assert_allclose(ours, _esda_z(y, w), rtol=0, atol=1e-9)


def test_gi_star_equals_esda_queen_hex() -> None:
    grid = make_grid(
        shapely.box(X0, Y0, X0 + 2000, Y0 + 1500), 150, shape="hex", crs=CRS, clip=False
    )
    y = _clustered_counts(len(grid), 3)
    ours = gi_star_z(y, contiguity_weights(grid))
    w = libpysal.weights.Queen.from_dataframe(grid, use_index=False, silence_warnings=True)
    np.testing.assert_allclose(ours, _esda_z(y, w), rtol=0, atol=1e-9)


def test_gi_star_textbook_example() -> None:
    # esda's documented example: DistanceBand(threshold=15) on six points, G_Local star, "B".
    points = [(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)]
    y = np.array([2, 3, 3.2, 5, 8, 7])
    w = libpysal.weights.DistanceBand(points, threshold=15)
    expected = [-1.39727626, -0.28917762, 0.65064964, -0.28917762, 1.23452088, 2.02424331]
    np.testing.assert_allclose(gi_star_z(y, w.sparse), expected, atol=1e-8)


def test_gi_star_constant_counts_give_nan() -> None:
    grid = make_grid(shapely.box(X0, Y0, X0 + 1000, Y0 + 1000), 100, crs=CRS)
    z = gi_star_z(np.ones(len(grid)), contiguity_weights(grid))
    assert np.isnan(z).all()


# ---------------------------------------------------------------- p-values and FDR


def test_fdr_equals_scipy() -> None:
    rng = np.random.default_rng(11)
    p = np.concatenate([rng.uniform(0, 1, 500), rng.uniform(0, 0.001, 50), [0.2, 0.2, 0.2]])
    np.testing.assert_allclose(fdr_bh(p), stats.false_discovery_control(p, method="bh"))


def test_fdr_keeps_nan() -> None:
    p = np.array([0.01, np.nan, 0.04, 0.03])
    expected = stats.false_discovery_control(np.array([0.01, 0.04, 0.03]), method="bh")
    out = fdr_bh(p)
    assert np.isnan(out[1])
    np.testing.assert_allclose(out[[0, 2, 3]], expected)


def test_two_sided_p_matches_scipy_norm() -> None:
    z = np.array([-3.0, -1.0, 0.0, 1.645, 2.576])
    np.testing.assert_allclose(two_sided_p(z), 2 * stats.norm.sf(np.abs(z)))


def test_classes_at_each_confidence_level() -> None:
    z = np.array([3.0, 2.0, 1.7, 0.5, -1.7, -2.0, -3.0, np.nan])
    p = np.array([0.005, 0.03, 0.08, 0.6, 0.08, 0.03, 0.005, np.nan])
    assert classify(z, p).tolist() == [
        "caliente_99",
        "caliente_95",
        "caliente_90",
        "no_significativo",
        "frio_90",
        "frio_95",
        "frio_99",
        "no_significativo",
    ]


# ---------------------------------------------------------------- hotspot_gistar end to end


def test_hotspot_gistar_rejects_bad_arguments() -> None:
    data = _incidents()
    with pytest.raises(ConfigError, match="grid_shape"):
        hotspot_gistar(data, grid_shape="round", quiet=True)
    with pytest.raises(ConfigError, match="alpha"):
        hotspot_gistar(data, alpha=1.5, quiet=True)
    with pytest.raises(ConfigError, match="output"):
        hotspot_gistar(data, output="cold", quiet=True)


@pytest.mark.parametrize("neighbours", ["distance", "queen"])
def test_hotspot_gistar_all_cells_match_esda(neighbours: str) -> None:
    data = _incidents()
    area = shapely.box(X0, Y0, X0 + 4000, Y0 + 3000)
    out = hotspot_gistar(
        data, cell_size=200, area=area, neighbours=neighbours, output="all", fdr=False, quiet=True
    )
    # Independent counts: spatial join of the points to an independently built grid.
    grid = make_grid(area, 200, crs=CRS)
    joined = gpd.sjoin(data, grid[["cell_id", "geometry"]], predicate="within")
    y = np.bincount(joined["cell_id"], minlength=len(grid)).astype(float)
    centres = np.column_stack([grid["x"], grid["y"]])
    if neighbours == "distance":
        w = libpysal.weights.DistanceBand(
            centres, threshold=200 * np.sqrt(2) + 1e-6, binary=True, silence_warnings=True
        )
    else:
        w = libpysal.weights.Queen.from_dataframe(grid, use_index=False, silence_warnings=True)
    expected = _esda_z(y, w)
    cells = out.to_crs(CRS)
    reps = cells.geometry.representative_point()
    cell_id = gpd.sjoin(
        gpd.GeoDataFrame(geometry=reps, crs=CRS), grid[["cell_id", "geometry"]], predicate="within"
    )["cell_id"].to_numpy()
    assert len(out) == len(grid)
    np.testing.assert_allclose(out["gi_z"].to_numpy(), expected[cell_id], atol=1e-9)
    np.testing.assert_array_equal(out["n"].to_numpy(), y[cell_id])
    np.testing.assert_allclose(out["gi_p"], 2 * stats.norm.sf(np.abs(expected[cell_id])))
    assert (np.diff(out["gi_z"].to_numpy()) <= 0).all()


def test_hotspot_gistar_schema_and_fdr_classes() -> None:
    data = _incidents()
    out = hotspot_gistar(data, cell_size=200, output="all", quiet=True)
    assert list(out.columns[: len(HOTSPOT_COLUMNS) - 1]) == list(HOTSPOT_COLUMNS[:-1])
    assert {"gi_z", "gi_p", "gi_p_fdr", "gi_class"} <= set(out.columns)
    assert out.crs.to_epsg() == 4326
    np.testing.assert_allclose(
        out["gi_p_fdr"], stats.false_discovery_control(out["gi_p"], method="bh")
    )
    assert out["gi_class"].tolist() == classify(out["gi_z"], out["gi_p_fdr"]).tolist()
    assert out["hotspot_id"].iloc[0] == "gistar-0001"
    assert out["hotspot_id"].is_unique
    params = out.attrs["parameters"]
    assert params["cell_size"] == 200 and params["distance_auto"] is True
    assert params["n_used"] == len(data)
    hot = hotspot_gistar(data, cell_size=200, quiet=True)
    assert len(hot) > 0
    assert set(hot["gi_class"]) <= {"caliente_99", "caliente_95"}
    assert (hot["gi_p_fdr"] <= 0.05).all()
    assert hot["n"].sum() <= len(data)
    # the constructed hotspot (120 points around X0+1500, Y0+1500) is found first
    first = hot.to_crs(CRS).geometry.iloc[0].centroid
    assert first.distance(shapely.Point(X0 + 1500, Y0 + 1500)) < 400


def test_hotspot_gistar_shuffle_invariant() -> None:
    data = _incidents()
    a = hotspot_gistar(data, cell_size=200, grid_shape="hex", quiet=True)
    b = hotspot_gistar(
        data.sample(frac=1, random_state=3), cell_size=200, grid_shape="hex", quiet=True
    )
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert a.geometry.geom_equals_exact(b.geometry, tolerance=0).all()


def test_hotspot_gistar_declines_with_few_incidents(capsys: pytest.CaptureFixture[str]) -> None:
    data = _incidents().iloc[:20]
    out = hotspot_gistar(data)
    assert len(out) == 0
    assert "at least 30" in out.attrs["reason"]
    assert list(out.columns[: len(HOTSPOT_COLUMNS) - 1]) == list(HOTSPOT_COLUMNS[:-1])
    assert "gi_class" in out.columns
    assert "ningún hotspot" in capsys.readouterr().err


def test_hotspot_gistar_excludes_station_stacks() -> None:
    data = _incidents()
    data.loc[:9, "at_station"] = True
    out = hotspot_gistar(data, cell_size=200, output="all", quiet=True)
    assert out.attrs["parameters"]["n_excluded_at_station"] == 10
    assert out["n"].sum() == len(data) - 10
    kept = hotspot_gistar(data, cell_size=200, output="all", quiet=True, exclude_at_station=False)
    assert kept["n"].sum() == len(data)


def test_hotspot_gistar_harm_weights() -> None:
    data = _incidents()
    data["harm"] = np.where(np.arange(len(data)) % 2 == 0, 2.0, 0.5)
    out = hotspot_gistar(data, cell_size=200, output="all", weights="harm", fdr=False, quiet=True)
    grid = make_grid(
        shapely.convex_hull(
            shapely.multipoints(np.column_stack([data.geometry.x, data.geometry.y]))
        ).buffer(200 * np.sqrt(2)),
        200,
        crs=CRS,
    )
    assert len(grid) == len(out)
    assert np.isclose(out["harm"].sum(), data["harm"].sum())


# ---------------------------------------------------------------- properties


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.integers(1, 300), elements=st.floats(0, 1)))
def test_fdr_property_equals_scipy(p: np.ndarray) -> None:
    np.testing.assert_allclose(fdr_bh(p), stats.false_discovery_control(p, method="bh"))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_gi_star_permutation_equivariant(seed: int) -> None:
    grid = make_grid(shapely.box(X0, Y0, X0 + 1200, Y0 + 900), 100, crs=CRS)
    rng = np.random.default_rng(seed)
    y = rng.poisson(2.0, len(grid)).astype(float)
    w = distance_band_weights(grid, 150.0)
    perm = rng.permutation(len(grid))
    z = gi_star_z(y, w)
    z_perm = gi_star_z(y[perm], w[perm][:, perm])
    np.testing.assert_allclose(z_perm, z[perm], atol=1e-12)


def test_hotspot_gistar_given_grid_equals_given_area() -> None:
    data = _incidents()
    area = shapely.box(X0, Y0, X0 + 4000, Y0 + 3000)
    grid = make_grid(area, 250, shape="hex", crs=CRS)
    a = hotspot_gistar(data, grid=grid, output="all", quiet=True)
    b = hotspot_gistar(data, area=area, cell_size=250, grid_shape="hex", output="all", quiet=True)
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert a.attrs["parameters"]["grid_shape"] == "hex"
    assert a.attrs["parameters"]["area"] == "grid given"


def test_hotspot_gistar_area_excludes_outside_points() -> None:
    data = _incidents()
    west = shapely.box(X0, Y0, X0 + 2000, Y0 + 3000)
    out = hotspot_gistar(data, area=west, cell_size=200, output="all", quiet=True)
    xs = data.geometry.x.to_numpy()
    inside = int(((xs >= X0) & (xs <= X0 + 2000)).sum())
    assert out["n"].sum() == inside
    assert out.attrs["parameters"]["n_outside_area"] == len(data) - inside


def test_missing_weights_column_is_reported_before_too_few_incidents() -> None:
    # two incidents are too few for Gi*, but a weights column that does not exist is a bad
    # parameter and is reported first (as KDE does), not hidden behind "too few incidents"
    few = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([775_000.0, 775_100.0], [9_208_000.0, 9_208_100.0]),
        crs="EPSG:32717",
    )
    with pytest.raises(ConfigError, match="columna de pesos 'harm'"):
        hotspot_gistar(few, weights="harm", quiet=True)
    assert len(hotspot_gistar(few, quiet=True)) == 0
