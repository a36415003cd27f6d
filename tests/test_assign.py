import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from parsc_geo import boundaries
from parsc_geo.assign import assign_incidents


def points(lons, lats, flags=None):
    n = len(lons)
    return gpd.GeoDataFrame(
        {"incident_id": [f"i{i}" for i in range(n)], "flags": flags or [""] * n},
        geometry=gpd.points_from_xy(lons, lats),
        crs="EPSG:4326",
    )


def test_bundled_points_fall_in_their_own_district():
    # SOURCES.md: the 128 CENACOM stations and 127 capitals lie in their own district polygons.
    st = boundaries.load_stations()
    out = assign_incidents(points(st.geometry.x, st.geometry.y))
    assert (out["ubigeo"].to_numpy() == st["ubigeo"].to_numpy()).all()
    # a station is its own nearest station
    assert (out["comisaria_id"].to_numpy() == st["id_n"].to_numpy()).all()
    caps = boundaries.load_capitals()
    out = assign_incidents(points(caps["longitud"], caps["latitud"]))
    assert (out["ubigeo"].to_numpy() == caps["ubigeo"].to_numpy()).all()
    dist = boundaries.load_districts().set_index("ubigeo")
    assert (out["provincia"].to_numpy() == dist.loc[caps["ubigeo"], "provincia"].to_numpy()).all()
    assert (out["flags"] == "").all()


def test_nearest_station_matches_brute_force():
    rng = np.random.default_rng(1)
    lon = rng.uniform(-79.2, -78.0, 300)
    lat = rng.uniform(-7.6, -6.0, 300)
    out = assign_incidents(points(lon, lat))
    st = boundaries.load_stations().to_crs(32717)
    pts = gpd.GeoSeries.from_xy(lon, lat, crs=4326).to_crs(32717)
    sx, sy = st.geometry.x.to_numpy(), st.geometry.y.to_numpy()
    d2 = (pts.x.to_numpy()[:, None] - sx) ** 2 + (pts.y.to_numpy()[:, None] - sy) ** 2
    expected = st["id_n"].to_numpy()[d2.argmin(axis=1)]
    assert (out["comisaria_id"].to_numpy() == expected).all()


def test_gap_point_goes_to_nearest_district_and_is_flagged():
    d = boundaries.load_districts()
    # Two artificial districts 100 m apart (UTM), a point in the gap, one point far away.
    a = box(770_000, 9_200_000, 771_000, 9_201_000)
    b = box(771_100, 9_200_000, 772_100, 9_201_000)
    districts = gpd.GeoDataFrame(
        {"ubigeo": ["000001", "000002"], "distrito": ["A", "B"], "provincia": ["P", "P"]},
        geometry=[a, b],
        crs=32717,
    ).to_crs(4326)
    pts = gpd.GeoSeries(
        [
            shapely.Point(771_030, 9_200_500),
            shapely.Point(771_080, 9_200_500),
            shapely.Point(790_000, 9_200_500),
            shapely.Point(770_500, 9_200_500),
        ],
        crs=32717,
    ).to_crs(4326)
    inc = points(pts.x, pts.y, flags=["", "latlon_swapped", "", ""])
    out = assign_incidents(inc, districts=districts)
    assert list(out["ubigeo"]) == ["000001", "000002", "", "000001"]
    assert list(out["flags"]) == ["nearest_district", "latlon_swapped;nearest_district", "", ""]
    assert len(d) == 127  # bundled data untouched


def test_overlap_point_goes_to_the_district_it_is_deepest_in():
    a = box(770_000, 9_200_000, 771_000, 9_201_000)
    b = box(770_900, 9_200_000, 771_900, 9_201_000)  # 100 m overlap strip
    districts = gpd.GeoDataFrame(
        {"ubigeo": ["000001", "000002"], "distrito": ["A", "B"], "provincia": ["P", "P"]},
        geometry=[a, b],
        crs=32717,
    ).to_crs(4326)
    pts = gpd.GeoSeries(
        [shapely.Point(770_920, 9_200_500), shapely.Point(770_990, 9_200_500)], crs=32717
    ).to_crs(4326)
    out = assign_incidents(points(pts.x, pts.y), districts=districts)
    # 770,920 is 80 m inside A and 20 m inside B -> A; 770,990 is 10 m inside A, 90 m inside B -> B
    assert list(out["ubigeo"]) == ["000001", "000002"]


def test_sector_assignment_and_input_untouched():
    st = boundaries.load_stations()
    caj = st[st["id_n"] == "1027"].to_crs(32717).geometry.iloc[0]
    west = box(caj.x - 1000, caj.y - 500, caj.x, caj.y + 500)
    east = box(caj.x, caj.y - 500, caj.x + 1000, caj.y + 500)
    sectors = gpd.GeoDataFrame(
        {
            "comisaria": ["COMISARIA X"] * 2,
            "comisaria_id": ["1027"] * 2,
            "sector": ["SECTOR 1"] * 2,
            "subsector": ["SUB SECTOR B", "SUB SECTOR A"],
        },
        geometry=[east, west],
        crs=32717,
    ).to_crs(4326)
    pts = gpd.GeoSeries(
        [
            shapely.Point(caj.x - 300, caj.y),
            shapely.Point(caj.x + 300, caj.y),
            shapely.Point(caj.x + 5000, caj.y),
        ],
        crs=32717,
    ).to_crs(4326)
    inc = points(pts.x, pts.y)
    before = inc.copy()
    out = assign_incidents(inc, sectors=sectors)
    assert list(out["subsector"]) == ["SUB SECTOR A", "SUB SECTOR B", ""]
    assert list(out["sector"]) == ["SECTOR 1", "SECTOR 1", ""]
    assert list(out["comisaria"][:2]) == ["COMISARIA X", "COMISARIA X"]
    assert out["comisaria"].iloc[2] != ""  # nearest station outside the sectors
    pd.testing.assert_frame_equal(pd.DataFrame(inc), pd.DataFrame(before))
    assert "ubigeo" not in inc.columns


def test_empty_input():
    out = assign_incidents(points([], []))
    assert len(out) == 0
    assert {"ubigeo", "provincia", "sector"} <= set(out.columns)


@pytest.mark.parametrize("crs", [32717, 3857])
def test_projected_input_is_assigned_like_geographic(crs):
    caps = boundaries.load_capitals().head(20)
    geo = points(caps["longitud"], caps["latitud"])
    out = assign_incidents(geo.to_crs(crs))
    assert list(out["ubigeo"]) == list(caps["ubigeo"])
    assert out.crs.to_epsg() == crs


# -- the distance limit of station assignment (issue 11) ----------------------------------------


def test_foreign_points_get_no_station_and_a_counted_warning(caplog):
    # Toronto (43.7 N, 79.4 W): ~5,500 km from Cajamarca. Before the limit, every point of such
    # a file was given to one Peruvian station.
    lon = np.array([-79.38, -79.40, -79.42, -78.51])
    lat = np.array([43.65, 43.70, 43.72, -7.16])  # the last one: Cajamarca city
    with caplog.at_level("WARNING", logger="parsc_geo"):
        out = assign_incidents(points(lon, lat))
    assert list(out["comisaria"][:3]) == ["", "", ""]
    assert list(out["comisaria_id"][:3]) == ["", "", ""]
    assert all("far_from_station" in f for f in out["flags"][:3])
    assert out["comisaria"].iloc[3] != "" and "far_from_station" not in out["flags"].iloc[3]
    assert out.attrs["assignment"]["n_far_from_station"] == 3
    assert "3 incidente(s) a más de 50 km" in caplog.text


def test_station_limit_is_a_distance_in_metres():
    st = boundaries.load_stations().to_crs(32717)
    target = st[st["id_n"] == "1027"].geometry.iloc[0]  # COMISARIA CAJAMARCA I
    # points due south of it at 1 km, 10 km and 30 km (UTM 17S, the default CRS for 06)
    ys = np.array([1_000.0, 10_000.0, 30_000.0])
    pts = gpd.GeoSeries.from_xy(np.full(3, target.x), target.y - ys, crs=32717).to_crs(4326)
    sx, sy = st.geometry.x.to_numpy(), st.geometry.y.to_numpy()
    px, py = np.full(3, target.x), target.y - ys
    nearest = np.sqrt((px[:, None] - sx) ** 2 + (py[:, None] - sy) ** 2).min(axis=1)
    limit = 2_000.0
    out = assign_incidents(points(pts.x, pts.y), station_max_distance_m=limit)
    assert list(nearest <= limit) == [True, False, False]  # 1 km, then 4.9 and 3.4 km
    assert list(out["comisaria_id"] != "") == [True, False, False]
    wide = assign_incidents(points(pts.x, pts.y))  # 50 km by default
    assert (wide["comisaria_id"] != "").all()


def test_sector_layer_wins_over_the_station_limit():
    square = box(-78.52, -7.17, -78.50, -7.15)
    sectors = gpd.GeoDataFrame(
        {"comisaria": ["C"], "comisaria_id": ["X"], "sector": ["SECTOR 1"], "subsector": [""]},
        geometry=[square],
        crs=4326,
    )
    out = assign_incidents(points([-78.51], [-7.16]), sectors=sectors, station_max_distance_m=1)
    assert out["comisaria"].iloc[0] == "C" and out["flags"].iloc[0] == ""


def test_assignment_follows_the_study_area():
    # Yanahuara (Arequipa): with the department's districts and stations, in UTM 18S
    caps = boundaries.load_capitals(prefix="04")
    out = assign_incidents(points(caps["longitud"], caps["latitud"]), area="04")
    inside = out["ubigeo"] == caps["ubigeo"]
    assert inside.mean() > 0.98  # capitals fall in their district (SOURCES.md: 1,869 of 1,874)
    assert set(out["ubigeo"].str[:2]) == {"04"}
    st = boundaries.load_stations(prefix="04").to_crs(32718)
    pts = gpd.GeoSeries.from_xy(caps["longitud"], caps["latitud"], crs=4326).to_crs(32718)
    sx, sy = st.geometry.x.to_numpy(), st.geometry.y.to_numpy()
    d2 = (pts.x.to_numpy()[:, None] - sx) ** 2 + (pts.y.to_numpy()[:, None] - sy) ** 2
    expected = np.where(
        np.sqrt(d2.min(axis=1)) <= 50_000, st["id_n"].to_numpy()[d2.argmin(axis=1)], ""
    )
    assert (out["comisaria_id"].to_numpy() == expected).all()
    assert out.attrs["assignment"]["metric_crs"] == "EPSG:32718"
