"""Sector design on constructed jurisdictions with hand-computed workloads."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from parsc_geo._errors import ConfigError
from parsc_geo.districting.blocks import make_blocks
from parsc_geo.districting.design import DesignOptions, design_sectors
from parsc_geo.districting.evaluate import contiguity
from parsc_geo.districting.jurisdiction import find_comisaria, polygon_parts
from parsc_geo.districting.partition import Graph, partition
from parsc_geo.districting.workload import block_table, combine

CRS = "EPSG:32717"
#: A corner in Cajamarca (UTM 17S) on multiples of 1 km, so 1 km cells align with the lattice.
X0, Y0 = 770_000.0, 9_200_000.0
#: Tiling tolerance of the designed sectors against the jurisdiction (m²): clipping and unions
#: of lattice cells leave floating-point slivers far below it.
TILING_TOLERANCE_M2 = 1.0


def incidents_at(points: list[tuple[float, float]], **columns: object) -> gpd.GeoDataFrame:
    frame = pd.DataFrame({"harm": [1.0] * len(points), **columns})
    return gpd.GeoDataFrame(
        frame,
        geometry=gpd.points_from_xy([p[0] for p in points], [p[1] for p in points]),
        crs=CRS,
    )


def grid_incidents(counts: list[list[int]]) -> gpd.GeoDataFrame:
    """Incidents at the centres of 1 km cells; ``counts[row][col]``, row 0 at the north."""
    points = []
    rows = len(counts)
    for r, line in enumerate(counts):
        for c, n in enumerate(line):
            cx = X0 + 1000 * c + 500
            cy = Y0 + 1000 * (rows - 1 - r) + 500
            points += [(cx + 10 * k, cy) for k in range(n)]
    return incidents_at(points)


def assert_tiles(layer: gpd.GeoDataFrame, territory: shapely.Geometry) -> None:
    geoms = layer.to_crs(CRS).geometry.to_numpy()
    union = shapely.union_all(geoms)
    assert shapely.area(shapely.symmetric_difference(union, territory)) < TILING_TOLERANCE_M2
    overlap = float(shapely.area(geoms).sum() - union.area)
    assert overlap < TILING_TOLERANCE_M2


def test_perfectly_balanceable_grid_is_found_balanced() -> None:
    # 4 × 3 km; per-block incidents below; total 44, so two sectors of 22 exist (the west and
    # east halves: 5+1+5+1+2+8 = 22 each) and the design must find an exact split.
    counts = [[5, 1, 1, 5], [5, 1, 1, 5], [2, 8, 8, 2]]
    territory = shapely.box(X0, Y0, X0 + 4000, Y0 + 3000)
    design = design_sectors(
        grid_incidents(counts),
        "COMISARIA SECTORIAL CHOTA",
        jurisdiction=territory,
        options=DesignOptions(
            n_sectors=2, n_subsectors=2, cell_size=1000, shape="square", station_sector=False
        ),
    )
    sectors = design.designed.units.query("nivel == 'sector'")
    assert sorted(sectors["denuncias"].tolist()) == [22.0, 22.0]
    assert design.designed.summary["sector"]["cv_denuncias"] == 0.0
    assert len(design.blocks) == 12
    assert_tiles(design.layer, territory)
    for geom in design.designed.sectors.geometry:
        assert geom.geom_type == "Polygon"
    # Subsectors: each sector of 22 splits in 2 of 11 (e.g. 5+1+5 and 1+2+8 by column).
    subs = design.designed.units.query("nivel == 'subsector'")
    assert len(subs) == 4
    assert subs["denuncias"].sum() == 44


def test_block_workloads_by_hand() -> None:
    # Two 1 km squares. West: 2 incidents (harm 3 and 5, one at 23:00 = night), east: one at
    # 10:00 (harm 2). Outside the jurisdiction: one incident that must not count.
    territory = shapely.box(X0, Y0, X0 + 2000, Y0 + 1000)
    blocks = make_blocks(territory, CRS, cell_size=1000, shape="square")
    times = pd.to_datetime(
        ["2020-03-01 23:00", "2020-03-02 12:00", "2020-03-03 10:00", "2020-03-03 10:00"]
    ).tz_localize("America/Lima")
    inc = incidents_at(
        [(X0 + 100, Y0 + 100), (X0 + 900, Y0 + 900), (X0 + 1500, Y0 + 500), (X0 + 5000, Y0)],
        occurred_at=times,
        time_known=[True, True, True, True],
    )
    inc["harm"] = [3.0, 5.0, 2.0, 7.0]
    table = block_table(blocks, inc, station_xy=(X0, Y0), population=None)
    west = int(np.argmin(blocks.frame["x"]))
    east = 1 - west
    assert table.loc[west, ["denuncias", "dano", "denuncias_noche"]].tolist() == [2, 8, 1]
    assert table.loc[east, ["denuncias", "dano", "denuncias_noche"]].tolist() == [1, 2, 0]
    assert table["area_km2"].tolist() == pytest.approx([1.0, 1.0])
    # Centroid distances from (X0, Y0): √(0.5² + 0.5²) and √(1.5² + 0.5²) km.
    assert table.loc[west, "distancia_km"] == pytest.approx(math.hypot(0.5, 0.5))
    assert table.loc[east, "distancia_km"] == pytest.approx(math.hypot(1.5, 0.5))
    # A mixture of incidents and area: shares (2/3, 1/3) and (1/2, 1/2), weights 0.5 each,
    # scaled to the 3 incidents: west = 3·(0.5·2/3 + 0.5·1/2) = 1.75, east = 1.25.
    mixed = combine(table, {"incidents": 0.5, "area": 0.5})
    assert mixed.values[west] == pytest.approx(1.75)
    assert mixed.values[east] == pytest.approx(1.25)


def test_separate_parts_and_empty_blocks_give_contiguous_sectors() -> None:
    # Two 3 × 2 km islands 500 m apart; all incidents on the west island, none on the east.
    west = shapely.box(X0, Y0, X0 + 3000, Y0 + 2000)
    east = shapely.box(X0 + 3500, Y0, X0 + 6500, Y0 + 2000)
    territory = shapely.union(west, east)
    rng = np.random.default_rng(5)
    pts = list(zip(rng.uniform(X0, X0 + 3000, 90), rng.uniform(Y0, Y0 + 2000, 90), strict=True))
    design = design_sectors(
        incidents_at(pts),
        "COMISARIA SECTORIAL CHOTA",
        jurisdiction=territory,
        options=DesignOptions(n_sectors=3, n_subsectors=2, cell_size=250, station_sector=False),
    )
    assert len(design.blocks.bridges) == 1
    assert_tiles(design.layer, territory)
    parts = polygon_parts(territory)
    for geom in design.designed.sectors.geometry:
        assert contiguity(geom, parts)[1]
    for geom in design.designed.subsectors.geometry:
        assert contiguity(geom, parts)[1]
    assert design.designed.units.query("nivel == 'sector'")["denuncias"].sum() == 90


def test_few_incidents_still_tile() -> None:
    territory = shapely.Point(X0 + 3000, Y0 + 3000).buffer(2500)
    design = design_sectors(
        incidents_at([(X0 + 3000, Y0 + 3000)]),
        "COMISARIA SECTORIAL CHOTA",
        jurisdiction=territory,
        options=DesignOptions(n_sectors=3, n_subsectors=2, station_sector=False),
    )
    assert_tiles(design.layer, territory)
    assert all(g.geom_type == "Polygon" for g in design.designed.sectors.geometry)
    assert design.designed.units.query("nivel == 'sector'")["denuncias"].sum() == 1


def test_partition_is_seeded_and_deterministic() -> None:
    territory = shapely.box(X0, Y0, X0 + 5000, Y0 + 4000)
    blocks = make_blocks(territory, CRS, cell_size=250)
    w = np.random.default_rng(1).gamma(0.3, size=len(blocks))
    graph = Graph.from_blocks(blocks)
    a = partition(graph, w, 5, seed=7)
    b = partition(graph, w, 5, seed=7)
    assert np.array_equal(a.labels, b.labels)
    assert a.cv <= 0.05
    assert {t["start"] for t in a.trials} >= {"bisection", "growth", "ward"}


def test_station_block_stays_in_sector_one() -> None:
    from pyproj import Transformer

    from parsc_geo.districting.blocks import locate

    chota = find_comisaria("COMISARIA SECTORIAL CHOTA")
    assert chota.station_lonlat is not None
    sx, sy = Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform(*chota.station_lonlat)
    # The station near the north-east corner of a 4 × 4 km square with even workload.
    territory = shapely.box(sx - 3800, sy - 3800, sx + 200, sy + 200)
    rng = np.random.default_rng(2)
    pts = list(
        zip(
            rng.uniform(sx - 3800, sx + 200, 400),
            rng.uniform(sy - 3800, sy + 200, 400),
            strict=True,
        )
    )
    design = design_sectors(
        incidents_at(pts),
        "CHOTA",
        jurisdiction=territory,
        options=DesignOptions(n_sectors=4, n_subsectors=2, cell_size=200, shape="square"),
    )
    assert design.parameters["estacion_fija"] is True
    block = int(locate(design.blocks, np.array([sx]), np.array([sy]))[0])
    assert design.blocks.frame["sector"].iloc[block] == "SECTOR 1"
    assert design.designed.summary["sector"]["cv_denuncias"] <= 0.15


def test_unknown_comisaria_lists_close_names() -> None:
    with pytest.raises(ConfigError) as info:
        find_comisaria("COMISARIA CAJAMARCA 1")
    assert "COMISARIA CAJAMARCA I" in str(info.value)


def test_partial_name_resolves_when_unique() -> None:
    assert find_comisaria("chota").comisaria_id == "1052"
    assert find_comisaria("1052").name == "COMISARIA SECTORIAL CHOTA"


def test_bad_options_are_reported_together() -> None:
    with pytest.raises(ConfigError) as info:
        DesignOptions(n_sectors=0, workload="crimes", cell_size=-5).check()
    text = str(info.value)
    assert "3 problemas" in text and "n_sectors" in text and "workload" in text


def test_more_sectors_than_blocks_is_a_config_error() -> None:
    territory = shapely.box(X0, Y0, X0 + 2000, Y0 + 1000)
    with pytest.raises(ConfigError, match="bloques"):
        design_sectors(
            incidents_at([(X0 + 10, Y0 + 10)]),
            "CHOTA",
            jurisdiction=territory,
            options=DesignOptions(n_sectors=5, cell_size=1000, shape="square"),
        )


def test_respect_districts_keeps_sectors_in_one_district() -> None:
    # Across the limit of Cajamarca (060101) and Baños del Inca (060108) districts.
    from parsc_geo.boundaries import load_districts

    districts = load_districts().to_crs(CRS)
    cajamarca = districts.loc[districts["ubigeo"] == "060101"].geometry.iloc[0]
    banos = districts.loc[districts["ubigeo"] == "060108"].geometry.iloc[0]
    border = shapely.intersection(cajamarca.boundary, banos.boundary).centroid
    territory = border.buffer(3000)
    design = design_sectors(
        incidents_at([(border.x + 100, border.y)]),
        "COMISARIA SECTORIAL BAÑOS DEL INCA",
        jurisdiction=territory,
        options=DesignOptions(n_sectors=3, n_subsectors=1, respect_districts=True),
    )
    frame = design.blocks.frame
    for _sector, group in frame.groupby("sector"):
        assert group["ubigeo"].nunique() == 1
    assert set(frame["ubigeo"]) == {"060101", "060108"}


def test_split_block_keeps_the_boundary() -> None:
    from parsc_geo.districting.blocks import split_block

    hexagon = make_blocks(shapely.box(X0, Y0, X0 + 2000, Y0 + 2000), CRS, cell_size=500)
    whole = next(g for g in hexagon.frame.geometry if len(g.exterior.coords) == 7)
    pieces = split_block(whole)
    assert len(pieces) == 6
    assert sum(p.area for p in pieces) == pytest.approx(whole.area)
    # No new corner on the boundary: every boundary corner of a piece is a hexagon corner.
    corners = {tuple(c) for c in np.round(shapely.get_coordinates(whole), 6)}
    centre = tuple(np.round(shapely.get_coordinates(whole.centroid)[0], 6))
    for piece in pieces:
        for c in np.round(shapely.get_coordinates(piece), 6):
            assert tuple(c) in corners or tuple(c) == centre
    concave = shapely.Polygon([(0, 0), (4, 0), (4, 4), (2, 1), (0, 4)])
    parts = split_block(concave)
    assert sum(p.area for p in parts) == pytest.approx(concave.area)
    assert shapely.union_all(parts).equals(concave)


def test_a_town_in_few_blocks_is_cut_until_it_balances() -> None:
    # 400 incidents inside one 300 m disc of a 10 × 10 km jurisdiction: with automatic cells
    # (≈ 240 m) the town covers a handful of blocks; cutting them lets 4 sectors share it.
    territory = shapely.box(X0, Y0, X0 + 10_000, Y0 + 10_000)
    rng = np.random.default_rng(11)
    r = 300 * np.sqrt(rng.uniform(size=400))
    a = rng.uniform(0, 2 * np.pi, 400)
    pts = list(zip(X0 + 5_000 + r * np.cos(a), Y0 + 5_000 + r * np.sin(a), strict=True))
    design = design_sectors(
        incidents_at(pts),
        "CHOTA",
        jurisdiction=territory,
        options=DesignOptions(n_sectors=4, n_subsectors=2, station_sector=False),
    )
    assert design.blocks.parameters["refined"] > 0
    assert any("triángulos" in m for m in design.messages)
    assert design.designed.summary["sector"]["cv_denuncias"] <= 0.15
    assert_tiles(design.layer, territory)
    assert all(g.geom_type == "Polygon" for g in design.designed.sectors.geometry)


def test_concave_jurisdiction_tiles_with_contiguous_sectors() -> None:
    # A five-pointed star (concave, narrow arms) with incidents everywhere.
    angles = np.linspace(np.pi / 2, np.pi / 2 + 2 * np.pi, 11)[:-1]
    radii = np.where(np.arange(10) % 2 == 0, 5000.0, 1800.0)
    star = shapely.Polygon(
        list(
            zip(X0 + 6000 + radii * np.cos(angles), Y0 + 6000 + radii * np.sin(angles), strict=True)
        )
    )
    rng = np.random.default_rng(4)
    xs, ys = rng.uniform(X0 + 1000, X0 + 11000, 3000), rng.uniform(Y0 + 1000, Y0 + 11000, 3000)
    inside = shapely.contains_xy(star, xs, ys)
    design = design_sectors(
        incidents_at(list(zip(xs[inside], ys[inside], strict=True))),
        "CHOTA",
        jurisdiction=star,
        options=DesignOptions(n_sectors=5, n_subsectors=3, station_sector=False),
    )
    assert_tiles(design.layer, star)
    assert all(g.geom_type == "Polygon" for g in design.designed.sectors.geometry)
    assert all(g.geom_type == "Polygon" for g in design.designed.subsectors.geometry)
    assert design.designed.summary["sector"]["cv_denuncias"] <= 0.15
