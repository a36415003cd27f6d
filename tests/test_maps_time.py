"""Maps that move in time: monthly densities and counts, the emerging-hot-spot layer."""

from __future__ import annotations

import json
import re

import maps_data as md
import numpy as np
import pytest
import shapely

from parsc_geo._errors import ConfigError
from parsc_geo.maps import build_comisaria_map, render_map_html, write_atlas
from parsc_geo.maps.density_layer import DensityScale, monthly_densities
from parsc_geo.maps.timeline import Timeline

COMISARIA = "COMISARIA CAJAMARCA I"


def _call_payloads(page: str, name: str) -> list[dict]:
    """The JSON data of every ``parscGeo.<name>(map, {...})`` call of a page."""
    out = []
    for m in re.finditer(rf"parscGeo\.{name}\((?:\w+,\s*)?", page):
        data, _ = json.JSONDecoder().raw_decode(page, m.end())
        out.append(data)
    return out


# ---------------------------------------------------------------- monthly density
def test_monthly_density_is_the_kernel_density_of_that_month():
    from parsc_geo.density import kernel_density

    inc = md.incidents()
    raster = md.density()
    tl = Timeline.of(inc)
    assert tl.labels == ["enero 2020", "febrero 2020", "marzo 2020"]
    months = tl.index(inc)
    series = monthly_densities(inc, raster, months, len(tl))
    t = raster.transform
    rows, cols = raster.shape
    extent = (t.c, t.f - rows * raster.cell_size, t.c + cols * raster.cell_size, t.f)
    for i in range(3):
        # the reference: parsc_geo.density's own estimate from the month's incidents alone,
        # on the same grid, kernel and bandwidth
        ref = kernel_density(
            inc[months == i].to_crs(raster.crs),
            extent=extent,
            cell_size=raster.cell_size,
            bandwidth=raster.bandwidth,
            kernel=raster.kernel,
            crs=raster.crs,
            quiet=True,
        )
        got = series[i]
        assert got is not None and got.shape == ref.array.shape
        np.testing.assert_allclose(got, ref.array, rtol=1e-9, atol=1e-9)
    # maps_data: 12 incidents a month, so the months add up to the whole period's estimate
    whole = kernel_density(
        inc.to_crs(raster.crs),
        extent=extent,
        cell_size=raster.cell_size,
        bandwidth=raster.bandwidth,
        kernel=raster.kernel,
        crs=raster.crs,
        quiet=True,
    )
    np.testing.assert_allclose(sum(series), whole.array, rtol=1e-9, atol=1e-9)


def test_page_has_one_density_image_per_month_and_the_average():
    built = build_comisaria_map(
        md.incidents(), md.sectors(), comisaria=COMISARIA, density=md.density(), tiles=None
    )
    page = render_map_html(built.map)
    (density,) = _call_payloads(page, "density")
    assert len(density["urls"]) == 1 + 3
    assert density["whole"] == "promedio mensual del periodo completo"
    summary = built.summary["density"]
    # monthly peaks are each month's own; the whole image is the monthly average (÷ 3 months)
    assert summary["units"] == "incidentes por km² y por mes"
    assert summary["vmax"] == pytest.approx(md.density().array.max() / 3)


def test_density_scale_breaks_and_labels():
    scale = DensityScale.of([1, 10, 100])
    assert scale.labels() == ["1 a 10", "10 a 100", "100 o más"]
    # below the first break or NaN: 0 (not drawn); at a break: the class it starts (1 … n)
    np.testing.assert_array_equal(
        scale.classify(np.array([0.5, 1.0, 9.99, 10.0, 250.0, np.nan])), [0, 1, 1, 2, 3, 0]
    )
    for bad in ([10, 1], [0, 1], [5]):
        with pytest.raises(ConfigError):
            DensityScale.of(bad)


def test_same_density_classes_on_every_page(tmp_path):
    paths = write_atlas(
        md.incidents(),
        sectors=md.sectors(),
        densities={"Cajamarca": md.density()},
        output_dir=tmp_path,
        tiles=None,
        density_breaks=[0.5, 5, 50],
    )
    for path in paths[:2]:
        page = path.read_text(encoding="utf-8")
        labels = re.findall(
            r'<span class="parsc-entry">([^<]*)</span>',
            page[page.index('id="parsc-legend-densidad"') :].split("</details>")[0],
        )
        assert labels == ["0,5 a 5", "5 a 50", "50 o más"]


# ---------------------------------------------------------------- counts per month
def test_period_control_counts_and_sector_series():
    built = build_comisaria_map(md.incidents(), md.sectors(), comisaria=COMISARIA, tiles=None)
    page = render_map_html(built.map)
    (control,) = _call_payloads(page, "periodControl")
    assert control["counts"] == [12, 12, 12]  # maps_data: month 1 + k % 3 of k = 0..35
    sectors = [
        f
        for fc in _call_payloads(page, "geojson")
        for f in fc["features"]
        if str(f["properties"].get("popup_title", "")).startswith("SECTOR ")
    ]
    # SECTOR 1 = subsectors A, B (k % 4 in {0, 1}): 18 incidents; each month 6 of them
    # (k % 12 runs over all pairs of k % 4 and k % 3 once every 12 incidents)
    tooltips = {f["properties"]["popup_title"]: f["properties"]["tooltip"] for f in sectors}
    assert tooltips["SECTOR 1"][1] == {"n": [18, 6, 6, 6]}
    assert tooltips["SECTOR 2"][1] == {"n": [18, 6, 6, 6]}


# ---------------------------------------------------------------- emerging hot spots
def _trends():  # type: ignore[no-untyped-def]
    """A 12-month cube on a 200 m grid over the comisaría; one corner heats up."""
    import pandas as pd

    from parsc_geo.grid import make_grid
    from parsc_geo.trends.cube import SpaceTimeCube
    from parsc_geo.trends.emerging import analyse_cube

    grid = make_grid(
        shapely.box(md.X0 - 1000, md.Y0 - 400, md.X0 + 1000, md.Y0 + 400), 200.0, crs=md.UTM
    )
    rng = np.random.default_rng(4)
    counts = rng.poisson(1.0, (len(grid), 12))
    counts[:6] += 2 * np.arange(12)
    starts = pd.date_range("2021-01-01", periods=12, freq="MS")
    cube = SpaceTimeCube(
        grid=grid,
        starts=starts,
        ends=starts + pd.offsets.MonthBegin(1),
        values=counts.astype(float),
        counts=counts,
        parameters={"weights": None},
    )
    return analyse_cube(cube, quiet=True)


def test_emerging_layer_cells_series_colours_and_legend():
    from parsc_geo.trends.series import cell_series

    result = _trends()
    built = build_comisaria_map(
        md.incidents(), md.sectors(), comisaria=COMISARIA, trends=result, tiles=None
    )
    page = render_map_html(built.map)
    cells = cell_series(result, include_no_pattern=False)
    area = md.sectors().to_crs(cells.crs).union_all()
    expected = cells[cells.intersects(area)]
    assert len(expected) > 0
    drawn = [
        f["properties"]
        for fc in _call_payloads(page, "geojson")
        for f in fc["features"]
        if "series" in f["properties"]
    ]
    assert len(drawn) == len(expected)
    assert sorted(p["series"]["counts"] for p in drawn) == sorted(expected["counts"])
    colour_of = dict(zip(expected["patron"], expected["color"], strict=False))
    for p in drawn:
        assert p["style"]["fillColor"] == colour_of[p["tooltip"]]
        assert p["trend"].startswith("Tendencia de z (Mann-Kendall): ")
        assert p["trend"].removeprefix("Tendencia de z (Mann-Kendall): ") in set(
            expected["trend_es"]
        )
    # the heating corner: a hot pattern whose z rises (Mann-Kendall: "en aumento")
    assert any(p["trend"].endswith(")") and "en aumento" in p["trend"] for p in drawn)
    assert built.summary["trends"] == expected["pattern_key"].value_counts().to_dict()
    assert "Tendencias (puntos calientes emergentes)" in page
    # the popup's axis: month labels of the cube
    assert re.search(r'"periods":\s*\["ene 2021", ?"feb 2021"', page)


def test_trends_table_without_columns_is_refused():
    import geopandas as gpd

    bad = gpd.GeoDataFrame({"patron": ["x"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4326)
    with pytest.raises(ConfigError, match="tendencias"):
        build_comisaria_map(
            md.incidents(), md.sectors(), comisaria=COMISARIA, trends=bad, tiles=None
        )


def test_public_atlas_has_no_trends_layer(tmp_path):
    paths = write_atlas(
        md.incidents(),
        sectors=md.sectors(),
        output_dir=tmp_path,
        public=True,
        privacy_k=2,
        tiles=None,
        trends=_trends(),
    )
    for path in paths:
        page = path.read_text(encoding="utf-8")
        assert "Tendencias" not in page and '"series"' not in page


def test_months_in_the_incidents_own_zone():
    import pandas as pd

    # 2020-02-01 03:00 UTC is 2020-01-31 22:00 in Lima (UTC-5): January there, February in UTC
    df = pd.DataFrame({"occurred_at": pd.to_datetime(["2020-02-01 03:00"]).tz_localize("UTC")})
    df.attrs["timezone"] = "America/Lima"
    assert Timeline.of(df).codes == ("2020-01",)
    df.attrs["timezone"] = "UTC"
    assert Timeline.of(df).codes == ("2020-02",)
    naive = pd.DataFrame({"occurred_at": pd.to_datetime(["2020-02-01 03:00"])})
    assert Timeline.of(naive).codes == ("2020-02",)  # a naive time is a local clock reading


def _reprojected_alone(array, raster, warp):
    """One array reprojected by itself, as the density layer did before warping months together."""
    from rasterio.warp import Resampling, reproject

    dst = np.full((warp.height, warp.width), np.nan)
    reproject(
        source=array,
        destination=dst,
        src_transform=raster.transform,
        src_crs=raster.crs,
        dst_transform=warp.transform,
        dst_crs="EPSG:3857",
        src_nodata=np.nan,
        dst_nodata=np.nan,
        resampling=Resampling.bilinear,
    )
    return dst


@pytest.mark.parametrize("warp_bytes", [None, 3 * 2**20, 1])
def test_months_warped_together_are_the_pixels_of_each_alone(monkeypatch, warp_bytes):
    from affine import Affine
    from pyproj import CRS

    from parsc_geo.density import DensityRaster
    from parsc_geo.maps import density_layer

    if warp_bytes is not None:  # groups of a few months (3 MiB: 4 of them), or one at a time
        monkeypatch.setattr(density_layer, "WARP_BYTES", warp_bytes)
    rows, cols, cell = 260, 310, 100.0
    yy, xx = np.mgrid[0:rows, 0:cols]
    outside = (yy - rows / 2) ** 2 / (rows / 2) ** 2 + (xx - cols / 2) ** 2 / (cols / 2) ** 2 > 1
    rng = np.random.default_rng(5)
    months = [np.where(outside, np.nan, rng.gamma(0.5, 3.0, (rows, cols))) for _ in range(11)]
    raster = DensityRaster(
        array=months[0],
        transform=Affine(cell, 0, md.X0 - 15_000, 0, -cell, md.Y0 + 13_000),
        crs=CRS.from_epsg(32717),
        cell_size=cell,
        bandwidth=300.0,
        kernel="quartic",
        units="per_km2",
    )
    warp = density_layer._warp_of(raster, density_layer.MAX_IMAGE_SIZE)
    together = list(density_layer._warped_all(months, raster, warp))
    alone = [_reprojected_alone(a, raster, warp) for a in months]
    assert len(together) == len(alone) == 11
    for a, b in zip(together, alone, strict=True):
        assert np.array_equal(a, b, equal_nan=True)
    # months with other missing cells are warped one by one
    other = [*months[:3], np.where(xx < 5, np.nan, months[3])]
    mixed = list(density_layer._warped_all(other, raster, warp))
    assert all(
        np.array_equal(a, _reprojected_alone(b, raster, warp), equal_nan=True)
        for a, b in zip(mixed, other, strict=True)
    )
