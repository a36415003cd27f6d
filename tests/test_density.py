"""kernel_density: hand-computed values, checks of inputs, checks of outputs."""

import math

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Polygon, box

from parsc_geo import density as density_module
from parsc_geo._errors import ConfigError, CRSError, InputDataError, InsufficientDataError
from parsc_geo.density import DensityRaster, kernel_density

UTM = "EPSG:32717"
# Cell centres of the (0, 0, 2000, 2000) extent with 50 m cells are at 25 + 50 k.
EXTENT = (0.0, 0.0, 2000.0, 2000.0)


def points(xs, ys, crs=UTM, **columns):
    return gpd.GeoDataFrame(columns, geometry=gpd.points_from_xy(xs, ys), crs=crs)


def cell_of(raster, x, y):
    col, row = ~raster.transform @ (x, y)
    return math.floor(row), math.floor(col)


def quartic_km2(r, *distances):
    """Hand formula: 3/(π r²) (1 − d²/r²)² per m², summed, in incidents per km²."""
    return sum(3 / (math.pi * r**2) * (1 - d**2 / r**2) ** 2 for d in distances) * 1e6


def test_quartic_value_for_one_point_by_hand():
    r = kernel_density(
        points([1025], [1025]), bandwidth=500, cell_size=50, extent=EXTENT, quiet=True
    )
    # 3 / (π · 500²) = 3.8197186e-6 per m² = 3.8197186 per km² at the point itself
    assert r.array[cell_of(r, 1025, 1025)] == pytest.approx(3.8197186342, rel=1e-4)
    # three cells east (d = 150 m): 3.8197186 · (1 − 0.09)² = 3.8197186 · 0.8281
    assert r.array[cell_of(r, 1175, 1025)] == pytest.approx(3.8197186342 * 0.8281, rel=1e-4)
    # at d = 500 m and beyond the kernel is zero
    assert r.array[cell_of(r, 1525, 1025)] == 0.0
    assert r.array[cell_of(r, 1025, 1575)] == 0.0


def test_quartic_values_for_two_and_three_points_by_hand():
    xs, ys = [1025, 1325, 1025], [1025, 1025, 1425]
    two = kernel_density(
        points(xs[:2], ys[:2]), bandwidth=500, cell_size=50, extent=EXTENT, quiet=True
    )
    three = kernel_density(points(xs, ys), bandwidth=500, cell_size=50, extent=EXTENT, quiet=True)
    # at A: A itself (d=0) and B at 300 m: 1 + (1 − 0.36)² = 1.4096
    assert two.array[cell_of(two, 1025, 1025)] == pytest.approx(quartic_km2(500, 0, 300), rel=1e-4)
    assert two.array[cell_of(two, 1025, 1025)] == pytest.approx(3.8197186342 * 1.4096, rel=1e-4)
    # with C 400 m north of A: + (1 − 0.64)² = 0.1296
    assert three.array[cell_of(three, 1025, 1025)] == pytest.approx(3.8197186342 * 1.5392, rel=1e-4)
    # midway between A and B: 150 m from both, sqrt(150² + 400²) from C
    mid = quartic_km2(500, 150, 150, math.hypot(150, 400))
    assert mid == pytest.approx(3.8197186342 * (0.8281 * 2 + 0.27**2), rel=1e-9)
    assert three.array[cell_of(three, 1175, 1025)] == pytest.approx(mid, rel=1e-4)
    # a cell 450 m south of C and 300 m west of B... farther than 500 m from all but A
    assert three.array[cell_of(three, 725, 825)] == pytest.approx(
        quartic_km2(500, math.hypot(300, 200)), rel=1e-4
    )


def test_integrates_to_the_number_of_incidents_with_default_extent():
    rng = np.random.default_rng(3)
    xy = rng.normal(0, 800, (400, 2))
    for kernel in ("quartic", "gaussian", "epanechnikov", "triangular", "uniform"):
        r = kernel_density(points(xy[:, 0], xy[:, 1]), bandwidth=300, kernel=kernel, quiet=True)
        assert r.integral() == pytest.approx(400, rel=1e-9)
        assert r.parameters["integral"] == pytest.approx(400, rel=1e-9)


def test_weights_column_equals_array_and_duplicated_points():
    xs, ys = [100.0, 400.0, 900.0], [100.0, 700.0, 300.0]
    gdf = points(xs, ys, harm=[2.0, 1.0, 0.5])
    by_column = kernel_density(gdf, bandwidth=400, cell_size=50, weights="harm", quiet=True)
    by_array = kernel_density(gdf, bandwidth=400, cell_size=50, weights=[2.0, 1.0, 0.5], quiet=True)
    np.testing.assert_array_equal(by_column.array, by_array.array)
    assert by_column.integral() == pytest.approx(3.5)
    # weight 2 is the same as the point twice (weights 0.5 as half a point)
    doubled = points([100.0, 100.0, 400.0, 900.0], [100.0, 100.0, 700.0, 300.0])
    r = kernel_density(doubled, bandwidth=400, cell_size=50, weights=[1, 1, 1, 0.5], quiet=True)
    np.testing.assert_allclose(r.array, by_column.array, rtol=1e-12, atol=1e-15)
    assert by_column.parameters["weights"] == "harm"


def test_units_per_cell_and_conversion():
    gdf = points([0, 300, 350], [0, 100, 500])
    per_km2 = kernel_density(gdf, bandwidth=400, cell_size=40, quiet=True)
    per_cell = kernel_density(gdf, bandwidth=400, cell_size=40, units="per_cell", quiet=True)
    # one 40 m cell is 0.0016 km²
    np.testing.assert_allclose(per_cell.array, per_km2.array * 0.0016, rtol=1e-12)
    assert per_cell.array.sum() == pytest.approx(3.0)
    np.testing.assert_allclose(per_km2.to_units("per_cell").array, per_cell.array, rtol=1e-12)
    np.testing.assert_allclose(per_cell.to_units("per_km2").array, per_km2.array, rtol=1e-12)
    assert per_cell.units == "per_cell" and per_cell.parameters["units"] == "per_cell"


def test_points_outside_a_given_extent_contribute_inside():
    # a point 125 m west of the extent: the first column's centre (x = 25) is 150 m away
    r = kernel_density(
        points([-125], [1025]), bandwidth=500, cell_size=50, extent=EXTENT, quiet=True
    )
    assert r.array[cell_of(r, 25, 1025)] == pytest.approx(quartic_km2(500, 150), rel=1e-4)
    assert r.array[cell_of(r, 325, 1025)] == pytest.approx(quartic_km2(500, 450), rel=1e-4)
    assert r.array[cell_of(r, 375, 1025)] == 0.0
    assert r.shape == (40, 40)
    assert r.bounds == (0.0, 0.0, 2000.0, 2000.0)


def test_extent_from_geodataframe():
    area = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 600)], crs=UTM)
    r = kernel_density(points([500], [300]), bandwidth=200, cell_size=50, extent=area, quiet=True)
    assert r.shape == (12, 20) and r.bounds == (0.0, 0.0, 1000.0, 600.0)


def test_geographic_input_is_projected_to_utm_17s():
    rng = np.random.default_rng(1)
    lon = -78.51 + rng.normal(0, 0.01, 200)
    lat = -7.16 + rng.normal(0, 0.01, 200)
    geo = points(lon, lat, crs="EPSG:4326")
    r = kernel_density(geo, bandwidth=400, cell_size=50, quiet=True)
    assert r.crs.to_epsg() == 32717
    same = kernel_density(geo.to_crs(UTM), bandwidth=400, cell_size=50, quiet=True)
    np.testing.assert_allclose(r.array, same.array, rtol=1e-9, atol=1e-12)
    assert r.parameters["crs_rule"] == "chosen from the data"


def test_mask_sets_outside_cells_to_nan():
    gdf = points([500, 600], [500, 520])
    square = Polygon([(300, 300), (700, 300), (700, 700), (300, 700)])
    full = kernel_density(gdf, bandwidth=300, cell_size=50, quiet=True)
    masked = kernel_density(gdf, bandwidth=300, cell_size=50, mask=square, quiet=True)
    gx, gy = full.centres()
    inside = (gx > 300) & (gx < 700) & (gy > 300) & (gy < 700)
    assert np.isnan(masked.array[~inside]).all()
    np.testing.assert_array_equal(masked.array[inside], full.array[inside])
    assert masked.parameters["mask_cells_inside"] == int(inside.sum()) == 64
    # the same mask as a GeoDataFrame in longitude/latitude
    mask_geo = gpd.GeoSeries([square], crs=UTM).to_crs("EPSG:4326")
    again = kernel_density(gdf, bandwidth=300, cell_size=50, mask=mask_geo, quiet=True)
    assert np.isfinite(again.array).sum() == 64


def test_bandwidth_adjust_multiplies_given_and_automatic_bandwidths():
    rng = np.random.default_rng(5)
    xy = rng.normal(0, 1000, (300, 2))
    gdf = points(xy[:, 0], xy[:, 1])
    base = kernel_density(gdf, bandwidth=400, cell_size=50, quiet=True)
    half = kernel_density(gdf, bandwidth=800, bandwidth_adjust=0.5, cell_size=50, quiet=True)
    np.testing.assert_array_equal(base.array, half.array)
    auto = kernel_density(gdf, quiet=True)
    auto2 = kernel_density(gdf, bandwidth_adjust=2, quiet=True)
    assert auto2.bandwidth == pytest.approx(2 * auto.bandwidth)
    assert auto2.parameters["bandwidth_unadjusted_m"] == pytest.approx(auto.bandwidth)


def test_automatic_choices_are_announced_and_recorded(capsys):
    rng = np.random.default_rng(2)
    xy = rng.normal(0, 1500, (500, 2))
    r = kernel_density(points(xy[:, 0], xy[:, 1]))
    err = capsys.readouterr().err
    assert "ancho de banda" in err and "silverman" in err and "celda de" in err
    p = r.parameters
    assert p["bandwidth_rule"] == "silverman" and p["cell_size_rule"] != "given"
    assert p["bandwidth_m"] == r.bandwidth and p["cell_size_m"] == r.cell_size
    assert r.cell_size >= 50
    assert r.cell_size <= r.bandwidth / 4 + 1  # rounded up to a whole metre
    kernel_density(points(xy[:, 0], xy[:, 1]), quiet=True)
    assert capsys.readouterr().err == ""


def test_automatic_cell_size_never_below_50_m_and_bandwidth_floor():
    # a tight cluster: Silverman gives a few metres; raised to a 200 m quartic radius
    rng = np.random.default_rng(4)
    xy = rng.normal(0, 20, (300, 2))
    r = kernel_density(points(xy[:, 0], xy[:, 1]), quiet=True)
    assert r.bandwidth == 200.0 and r.parameters["bandwidth_floor_m"] == 200.0
    assert r.parameters["bandwidth_unadjusted_m"] < 50
    assert r.cell_size == 50.0
    g = kernel_density(points(xy[:, 0], xy[:, 1]), kernel="gaussian", quiet=True)
    # the same floor as a gaussian σ (canonical conversion, factor 2.779)
    assert g.bandwidth == pytest.approx(200 / 2.7792, rel=1e-4)


def test_large_grid_warns_and_huge_grid_is_refused(monkeypatch):
    gdf = points([0, 5000], [0, 5000])
    monkeypatch.setattr(density_module, "MAX_CELLS_WARNING", 1000)
    with pytest.warns(UserWarning, match="cuadrícula grande"):
        kernel_density(gdf, bandwidth=400, cell_size=50, quiet=True)
    monkeypatch.setattr(density_module, "MAX_CELLS_HARD", 5000)
    with pytest.raises(ConfigError, match="demasiado grande"):
        kernel_density(gdf, bandwidth=400, cell_size=50, quiet=True)


def test_coarse_cell_warns():
    with pytest.warns(UserWarning, match="es gruesa"):
        kernel_density(points([0, 10], [0, 10]), bandwidth=200, cell_size=150, quiet=True)


def test_automatic_cell_grid_is_capped(monkeypatch):
    from parsc_geo import grid

    # the automatic cell-size rules live in parsc_geo.grid
    monkeypatch.setattr(grid, "MAX_CELLS_WARNING", 2500)
    monkeypatch.setattr(density_module, "MAX_CELLS_WARNING", 2500)
    r = kernel_density(points([0, 20000], [0, 20000]), bandwidth=400, quiet=True)
    assert "limited" in r.parameters["cell_size_rule"]
    assert r.array.size <= 2500


# ---- check inputs ---------------------------------------------------------------------------


def test_rejects_non_geodataframe_and_empty():
    with pytest.raises(InputDataError, match="GeoDataFrame"):
        kernel_density([(0, 0)])
    with pytest.raises(InsufficientDataError, match="no hay incidentes"):
        kernel_density(points([], []), bandwidth=100)


def test_rejects_missing_and_non_point_geometries():
    gdf = points([0, 1, 2], [0, 1, 2])
    gdf.loc[1, "geometry"] = None
    with pytest.raises(
        InputDataError, match=r"1 de 3 incidentes no tienen ubicación \(el primero en la fila 1\)"
    ):
        kernel_density(gdf, bandwidth=100)
    polys = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs=UTM)
    with pytest.raises(InputDataError, match="no son puntos"):
        kernel_density(polys, bandwidth=100)


def test_rejects_missing_crs_and_geographic_analysis_crs():
    with pytest.raises(CRSError, match="no tienen sistema de referencia de coordenadas"):
        kernel_density(gpd.GeoDataFrame(geometry=gpd.points_from_xy([0], [0])), bandwidth=100)
    with pytest.raises(CRSError, match="proyectado"):
        kernel_density(points([0], [0]), bandwidth=100, crs="EPSG:4326")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kernel": "box"}, "kernel debe ser uno de"),
        ({"bandwidth": -5}, "bandwidth debe ser un número positivo"),
        ({"bandwidth": "wide"}, "bandwidth debe ser un número de metros o uno de"),
        ({"bandwidth": True}, "bandwidth debe ser un número positivo"),
        ({"bandwidth_adjust": 0}, "bandwidth_adjust debe ser un número positivo"),
        ({"cell_size": 0}, "cell_size debe ser un número positivo"),
        ({"units": "per_m2"}, "units debe ser uno de"),
        ({"extent": (10, 0, 0, 10)}, "maxx > minx"),
        ({"extent": "all"}, "extent debe ser"),
        ({"weights": "harm"}, "no se encontró la columna de pesos 'harm'"),
        ({"weights": [1.0]}, r"un valor por incidente \(2\)"),
        ({"mask": "district"}, "mask debe ser polígonos"),
    ],
)
def test_rejects_bad_arguments(kwargs, message):
    args = {"bandwidth": 100, "quiet": True, **kwargs}
    with pytest.raises(ConfigError, match=message):
        kernel_density(points([0, 10], [0, 10]), **args)


def test_rejects_bad_weights_naming_the_row():
    gdf = points([0, 10, 20], [0, 10, 20], harm=[1.0, -2.0, 1.0])
    with pytest.raises(
        InputDataError, match=r"1 valores son negativos \(el primero en la fila 1: -2.0\)"
    ):
        kernel_density(gdf, bandwidth=100, weights="harm")
    gdf["harm"] = [1.0, 2.0, float("nan")]
    with pytest.raises(
        InputDataError, match=r"faltan o no son números \(el primero en la fila 2\)"
    ):
        kernel_density(gdf, bandwidth=100, weights="harm")
    gdf["harm"] = 0.0
    with pytest.raises(InputDataError, match="todos los pesos son cero"):
        kernel_density(gdf, bandwidth=100, weights="harm")


def test_automatic_bandwidth_without_spread_uses_the_minimum(capsys):
    one = kernel_density(points([0], [0]))
    assert one.bandwidth == 200.0 and one.parameters["bandwidth_rule"] == "minimum"
    assert "al menos 2 puntos" in one.parameters["bandwidth_rule_details"]["reason"]
    assert "el mínimo" in capsys.readouterr().err
    stack = kernel_density(points([5, 5, 5], [7, 7, 7]), kernel="gaussian", bandwidth_adjust=2)
    assert "mismo lugar" in stack.parameters["bandwidth_rule_details"]["reason"]
    assert stack.bandwidth == pytest.approx(2 * 200 / 2.7792, rel=1e-4)
    assert stack.integral() == pytest.approx(3.0)


def test_density_raster_properties():
    r = kernel_density(
        points([1025], [1025]), bandwidth=500, cell_size=50, extent=EXTENT, quiet=True
    )
    assert isinstance(r, DensityRaster)
    assert r.cell_area_km2 == pytest.approx(0.0025)
    gx, gy = r.centres()
    assert gx[0, 0] == 25 and gy[0, 0] == 1975  # first row is north
    assert gx.shape == r.shape == (40, 40)


def test_linear_binning_preserves_mass_and_centre_of_mass():
    # Linear binning keeps each point's weight and its first moments (Wand 1994, section 2).
    from parsc_geo._kernels import linear_binning

    rng = np.random.default_rng(12)
    x, y = rng.uniform(100, 900, 50), rng.uniform(100, 900, 50)
    w = rng.uniform(0.5, 2.0, 50)
    grid = linear_binning(x, y, w, x0=0.0, ytop=1000.0, cell_size=50.0, shape=(20, 20))
    cx = 25 + 50 * np.arange(20)
    cy = 1000 - 25 - 50 * np.arange(20)
    assert grid.sum() == pytest.approx(w.sum(), rel=1e-12)
    assert (grid * cx[None, :]).sum() == pytest.approx((w * x).sum(), rel=1e-12)
    assert (grid * cy[:, None]).sum() == pytest.approx((w * y).sum(), rel=1e-12)
    # one point at a cell centre lands entirely in that cell
    one = linear_binning(
        np.array([125.0]), np.array([875.0]), np.ones(1), x0=0.0, ytop=1000.0, cell_size=50.0,
        shape=(20, 20),
    )  # fmt: skip
    assert one[2, 2] == 1.0 and one.sum() == 1.0
