"""Tests of KDE hotspots: areas above a density threshold."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from parsc_geo._errors import ConfigError
from parsc_geo.density import kernel_density
from parsc_geo.hotspots import hotspot_kde
from parsc_geo.hotspots.kde import parse_threshold
from parsc_geo.schema import HOTSPOT_COLUMNS

CRS = "EPSG:32717"
X0, Y0 = 775_000.0, 9_207_000.0


def _two_blobs(seed: int = 4) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    xy = np.vstack(
        [
            rng.normal([X0, Y0], 80, (120, 2)),
            rng.normal([X0 + 3000, Y0 + 2000], 100, (60, 2)),
            rng.uniform([X0 - 2000, Y0 - 2000], [X0 + 5000, Y0 + 4000], (80, 2)),
        ]
    )
    df = pd.DataFrame({"incident_id": [f"k{i:03d}" for i in range(len(xy))], "harm": 1.5})
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS)


def test_parse_threshold() -> None:
    assert parse_threshold("p99") == ("percentile", 99.0)
    assert parse_threshold("P97.5") == ("percentile", 97.5)
    assert parse_threshold("2mean") == ("mean_multiple", 2.0)
    assert parse_threshold("3x mean") == ("mean_multiple", 3.0)
    assert parse_threshold(150) == ("absolute", 150.0)
    assert parse_threshold("150") == ("absolute", 150.0)
    for bad in ("p100", "top", -3, "0mean"):
        with pytest.raises(ConfigError, match="threshold"):
            parse_threshold(bad)


def test_kde_areas_match_the_raster() -> None:
    data = _two_blobs()
    out = hotspot_kde(data, bandwidth=400, cell_size=50, threshold="p98", min_count=1, quiet=True)
    raster = kernel_density(data, bandwidth=400, cell_size=50, quiet=True)
    values = raster.array[raster.array > raster.array.max() * 1e-9]
    cut = np.percentile(values, 98)
    assert out["density_threshold"].iloc[0] == pytest.approx(cut)
    above = int((raster.array >= cut).sum())
    assert out["area_km2"].sum() == pytest.approx(above * 0.05 * 0.05)
    # every incident inside a polygon counts once; the rest lie in cells below the threshold
    joined = gpd.sjoin(data, out.to_crs(CRS)[["hotspot_id", "geometry"]], predicate="within")
    assert joined["incident_id"].is_unique
    assert out["n"].sum() == len(joined)
    assert np.allclose(out["harm"], 1.5 * out["n"])
    assert out["density_peak"].iloc[0] == pytest.approx(raster.array.max())
    assert list(out.columns[: len(HOTSPOT_COLUMNS) - 1]) == list(HOTSPOT_COLUMNS[:-1])
    assert out.attrs["parameters"]["density"]["bandwidth_m"] == 400


def test_kde_finds_both_blobs_first() -> None:
    data = _two_blobs()
    out = hotspot_kde(data, bandwidth=400, cell_size=50, quiet=True)
    centres = out.to_crs(CRS).geometry.centroid
    assert centres.iloc[0].distance(shapely.Point(X0, Y0)) < 200
    assert centres.iloc[1].distance(shapely.Point(X0 + 3000, Y0 + 2000)) < 300
    assert (out["n"] >= 5).all()


def test_kde_min_count_drops_small_areas() -> None:
    data = _two_blobs()
    loose = hotspot_kde(data, bandwidth=300, cell_size=50, threshold="p90", min_count=1, quiet=True)
    strict = hotspot_kde(
        data, bandwidth=300, cell_size=50, threshold="p90", min_count=20, quiet=True
    )
    assert len(strict) < len(loose)
    assert (strict["n"] >= 20).all()
    params = strict.attrs["parameters"]
    assert params["n_areas_below_min_count"] == params["n_areas_above_threshold"] - len(strict)
    assert sorted(strict["n"]) == sorted(loose.loc[loose["n"] >= 20, "n"])


def test_kde_shuffle_invariant() -> None:
    data = _two_blobs()
    a = hotspot_kde(data, threshold="p95", quiet=True)
    b = hotspot_kde(data.sample(frac=1, random_state=1), threshold="p95", quiet=True)
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert a.geometry.geom_equals_exact(b.geometry, tolerance=0).all()


def test_kde_declines(capsys: pytest.CaptureFixture[str]) -> None:
    out = hotspot_kde(_two_blobs().iloc[:10])
    assert len(out) == 0 and "at least 20" in out.attrs["reason"]
    assert "ningún hotspot" in capsys.readouterr().err
    none = hotspot_kde(_two_blobs(), threshold=1e9, quiet=True)
    assert len(none) == 0 and "holds" in none.attrs["reason"]
