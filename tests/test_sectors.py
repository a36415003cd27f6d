import geopandas as gpd
import pytest
import shapely
from shapely.geometry import box

from parsc_geo._errors import InputDataError
from parsc_geo.sectors import check_sectors, dissolve_sectors, read_sectors, sort_key

# A local origin in Cajamarca city, in UTM 17S metres.
X0, Y0 = 774_000.0, 9_207_000.0


def layer(rows):
    gdf = gpd.GeoDataFrame(
        [
            {"comisaria": c, "comisaria_id": "1", "sector": s, "subsector": ss}
            for c, s, ss, _ in rows
        ],
        geometry=[g for *_, g in rows],
        crs="EPSG:32717",
    )
    return gdf.to_crs("EPSG:4326")


def sq(x, y, w, h):
    return box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def test_sort_key_natural_order():
    labels = ["SUB SECTOR AJ", "SUB SECTOR B", "SUB SECTOR AA", "SUB SECTOR Z", "SUB SECTOR A"]
    assert sorted(labels, key=sort_key) == [
        "SUB SECTOR A",
        "SUB SECTOR B",
        "SUB SECTOR Z",
        "SUB SECTOR AA",
        "SUB SECTOR AJ",
    ]
    assert sorted(["SECTOR 10", "SECTOR 2", "SECTOR 1"], key=sort_key) == [
        "SECTOR 1",
        "SECTOR 2",
        "SECTOR 10",
    ]
    # accents and case do not matter; missing labels go last
    assert sort_key("Sub Sector b") == sort_key("SUB SECTOR B")
    assert sorted([None, "SUB SECTOR C", "SUB SECTOR A"], key=sort_key) == [
        "SUB SECTOR A",
        "SUB SECTOR C",
        None,
    ]
    # AJ is the 36th label (bijective base 26)
    assert sort_key("SUB SECTOR AJ")[3] == 36


def test_clean_partition_passes():
    gdf = layer(
        [
            ("C1", "SECTOR 1", "SUB SECTOR A", sq(0, 0, 100, 100)),
            ("C1", "SECTOR 1", "SUB SECTOR B", sq(100, 0, 100, 100)),
            ("C1", "SECTOR 2", "SUB SECTOR C", sq(0, 100, 200, 100)),
        ]
    )
    _, report = check_sectors(gdf)
    assert report.ok, report.summary()


def test_overlap_gap_and_repair_are_reported_with_areas():
    bowtie = shapely.Polygon(
        [(X0 + 500, Y0), (X0 + 600, Y0 + 100), (X0 + 600, Y0), (X0 + 500, Y0 + 100)]
    )
    gdf = layer(
        [
            # A and B overlap on a 20 m x 100 m strip = 2,000 m²
            ("C1", "SECTOR 1", "SUB SECTOR A", sq(0, 0, 100, 100)),
            ("C1", "SECTOR 1", "SUB SECTOR B", sq(80, 0, 100, 100)),
            # a ring of four squares around a 50 m x 50 m hole = 2,500 m²
            ("C2", "SECTOR 1", "SUB SECTOR A", sq(0, 1000, 150, 50)),
            ("C2", "SECTOR 1", "SUB SECTOR B", sq(0, 1100, 150, 50)),
            ("C2", "SECTOR 1", "SUB SECTOR C", sq(0, 1050, 50, 50)),
            ("C2", "SECTOR 1", "SUB SECTOR D", sq(100, 1050, 50, 50)),
            ("C3", "SECTOR 1", "SUB SECTOR A", bowtie),
        ]
    )
    repaired, report = check_sectors(gdf)
    assert not report.ok
    assert len(report.overlaps) == 1
    ov = report.overlaps[0]
    assert (ov["comisaria"], ov["a"], ov["b"]) == ("C1", "SUB SECTOR A", "SUB SECTOR B")
    assert ov["area_m2"] == pytest.approx(2000, rel=0.01)
    assert len(report.gaps) == 1
    assert report.gaps[0]["comisaria"] == "C2"
    assert report.gaps[0]["area_m2"] == pytest.approx(2500, rel=0.01)
    # the gap's location is inside the hole (its centre is at x0+75, y0+1075)
    hole = sq(50, 1050, 50, 50)
    loc = gpd.GeoSeries.from_xy([report.gaps[0]["lon"]], [report.gaps[0]["lat"]], crs=4326)
    assert hole.contains(loc.to_crs(32717).iloc[0])
    assert [r["label"] for r in report.repaired] == ["SUB SECTOR A"]
    assert repaired.geometry.is_valid.all()
    # the bowtie is two triangles of 2,500 m² each
    assert repaired.to_crs(32717).geometry.iloc[-1].area == pytest.approx(5000, rel=0.01)


def test_tolerance_hides_tiny_slivers():
    gdf = layer(
        [
            ("C1", "SECTOR 1", "SUB SECTOR A", sq(0, 0, 100, 100)),
            ("C1", "SECTOR 1", "SUB SECTOR B", sq(99.5, 0, 100, 100)),  # 50 m² overlap
        ]
    )
    assert check_sectors(gdf, tolerance_m2=100)[1].ok
    assert not check_sectors(gdf, tolerance_m2=10)[1].ok


def test_subsector_outside_its_sector():
    gdf = layer(
        [
            ("C1", "SECTOR 1", "", sq(0, 0, 100, 100)),  # sector outline
            ("C1", "SECTOR 1", "SUB SECTOR A", sq(0, 0, 100, 100)),
            ("C1", "SECTOR 1", "SUB SECTOR B", sq(100, 0, 30, 100)),  # 3,000 m² outside
        ]
    )
    _, report = check_sectors(gdf)
    assert len(report.outside) == 1
    assert report.outside[0]["subsector"] == "SUB SECTOR B"
    assert report.outside[0]["area_m2"] == pytest.approx(3000, rel=0.01)


def test_read_sectors_recognises_columns_and_orders(tmp_path):
    gdf = gpd.GeoDataFrame(
        {
            "COMISARÍA": ["C1", "C1", "C1"],
            "ID_N": ["10", "10", "10"],
            "SECTOR": ["SECTOR 1", "SECTOR 1", "SECTOR 1"],
            "SUB_SECTOR": ["SUB SECTOR AA", "SUB SECTOR B", "SUB SECTOR A"],
        },
        geometry=[sq(0, 0, 10, 10), sq(10, 0, 10, 10), sq(20, 0, 10, 10)],
        crs="EPSG:32717",
    )
    path = tmp_path / "s.geojson"
    gdf.to_file(path)
    out = read_sectors(path)
    assert out.crs.to_epsg() == 4326
    assert list(out["subsector"]) == ["SUB SECTOR A", "SUB SECTOR B", "SUB SECTOR AA"]
    assert set(out["comisaria_id"]) == {"10"}
    sectors = dissolve_sectors(out)
    assert len(sectors) == 1
    assert sectors.to_crs(32717).area.iloc[0] == pytest.approx(300, rel=0.01)


def test_read_sectors_rejects_points_naming_the_feature(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"sector": ["S1", "S2"]},
        geometry=[sq(0, 0, 10, 10), shapely.Point(X0, Y0)],
        crs="EPSG:32717",
    )
    path = tmp_path / "p.gpkg"
    gdf.to_file(path)
    with pytest.raises(InputDataError, match="elemento 2"):
        read_sectors(path)
    with pytest.raises(InputDataError, match="no existe"):
        read_sectors(tmp_path / "missing.geojson")


def test_summary_names_each_problem_in_spanish():
    gdf = layer(
        [
            ("C1", "SECTOR 1", "SUB SECTOR A", sq(0, 0, 100, 100)),
            ("C1", "SECTOR 1", "SUB SECTOR B", sq(80, 0, 100, 100)),
        ]
    )
    text = check_sectors(gdf)[1].summary()
    assert text.splitlines()[0].startswith("capa de sectores: 0 polígonos reparados, 1 solapes")
    assert "solape SUB SECTOR A / SUB SECTOR B (C1): 2000 m²" in text
