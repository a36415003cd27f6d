"""DensityRaster GeoTIFF: round trip, tags, compression, tiling, no silent overwrite."""

import json

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from shapely.geometry import box

from parsc_geo._errors import ConfigError, InputDataError, OutputError
from parsc_geo.density import DensityRaster, kernel_density
from parsc_geo.settings import SYNTHETIC_BANNER

UTM = "EPSG:32717"


@pytest.fixture
def raster():
    rng = np.random.default_rng(9)
    xy = rng.normal([775000, 9208000], 600, (300, 2))
    gdf = gpd.GeoDataFrame(
        {"harm": rng.uniform(1, 3, 300)},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=UTM,
    )
    return kernel_density(gdf, weights="harm", quiet=True)


def test_geotiff_round_trip_with_tags(tmp_path, raster):
    path = raster.to_geotiff(tmp_path / "d.tif", dtype="float64")
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 32717
        assert src.transform == raster.transform
        assert (src.height, src.width) == raster.shape
        assert src.profile["compress"] == "deflate" and src.profile["tiled"]
        assert src.block_shapes[0] == (256, 256)
        np.testing.assert_array_equal(src.read(1), raster.array)
        tags = src.tags()
        assert json.loads(tags["kernel"]) == "quartic"
        assert json.loads(tags["bandwidth_rule"]) == "silverman"
        assert json.loads(tags["bandwidth_m"]) == raster.bandwidth
        assert json.loads(tags["weights"]) == "harm"
        assert tags["units"] == "per_km2"
        assert src.descriptions[0] == "Densidad de incidentes (incidentes por km²)"
        # the (weighted) count is preserved by the file
        total = src.read(1).sum() * src.res[0] * src.res[1] / 1e6
        assert total == pytest.approx(raster.parameters["total_weight"], rel=1e-9)
    back = DensityRaster.from_geotiff(path)
    np.testing.assert_array_equal(back.array, raster.array)
    assert back.transform == raster.transform and back.crs == raster.crs
    assert back.cell_size == raster.cell_size and back.bandwidth == raster.bandwidth
    assert back.kernel == "quartic" and back.units == "per_km2"
    assert back.parameters == json.loads(json.dumps(raster.parameters))


def test_float32_default_and_nan_nodata_for_mask(tmp_path):
    gdf = gpd.GeoDataFrame(geometry=gpd.points_from_xy([500, 600], [500, 520]), crs=UTM)
    r = kernel_density(gdf, bandwidth=300, cell_size=50, mask=box(300, 300, 700, 700), quiet=True)
    path = r.to_geotiff(tmp_path / "m.tif")
    with rasterio.open(path) as src:
        assert src.dtypes[0] == "float32" and np.isnan(src.nodata)
        data = src.read(1, masked=True)
        assert data.count() == 64
    back = DensityRaster.from_geotiff(path)
    np.testing.assert_allclose(back.array, r.array, rtol=1e-6, equal_nan=True)


def test_no_overwrite_unless_asked_and_no_temporary_files(tmp_path, raster):
    path = tmp_path / "sub" / "d.tif"
    raster.to_geotiff(path)
    with pytest.raises(OutputError, match="ya existe"):
        raster.to_geotiff(path)
    raster.to_units("per_cell").to_geotiff(path, overwrite=True)
    assert DensityRaster.from_geotiff(path).units == "per_cell"
    assert sorted(p.name for p in path.parent.iterdir()) == ["d.tif"]
    with pytest.raises(ConfigError, match="dtype"):
        raster.to_geotiff(tmp_path / "x.tif", dtype="int16")


def test_synthetic_tag(tmp_path, raster):
    path = raster.to_geotiff(tmp_path / "s.tif", synthetic=True)
    with rasterio.open(path) as src:
        assert src.tags()["SINTETICO"] == SYNTHETIC_BANNER
    plain = raster.to_geotiff(tmp_path / "p.tif")
    with rasterio.open(plain) as src:
        assert "SINTETICO" not in src.tags()


def test_from_geotiff_rejects_unreadable_and_rotated(tmp_path):
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"not a tiff")
    with pytest.raises(InputDataError, match="no se puede leer el GeoTIFF"):
        DensityRaster.from_geotiff(bad)
    rotated = tmp_path / "rot.tif"
    with rasterio.open(
        rotated,
        "w",
        driver="GTiff",
        width=2,
        height=2,
        count=1,
        dtype="float32",
        crs=UTM,
        transform=rasterio.Affine(10, 2, 0, 2, -10, 0),
    ) as dst:
        dst.write(np.zeros((1, 2, 2), dtype="float32"))
    with pytest.raises(InputDataError, match="orientada al norte"):
        DensityRaster.from_geotiff(rotated)
