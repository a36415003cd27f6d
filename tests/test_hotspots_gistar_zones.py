"""Gi* hot zones: contiguous hot cells are one hotspot, its incidents counted once.

A constructed case: on a 100 m grid, two tight groups of incidents 2 km apart over a sparse
background. Each group fills a block of adjacent cells, so Gi* finds two hot zones; every
number of a zone is checked against its cells (the ``output="significant"`` rows carrying
its ``zone_id``), computed by hand from them.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from parsc_geo.hotspots import hotspot_gistar
from parsc_geo.hotspots.gistar import gistar_cells_and_zones

CRS = "EPSG:32717"
X0, Y0 = 770_000.0, 9_200_000.0


def _incidents() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(3)
    # two groups of 60 incidents each in a 200 m × 200 m block (2 × 2 cells of 100 m)
    a = rng.uniform([X0 + 1000, Y0 + 1000], [X0 + 1200, Y0 + 1200], (60, 2))
    b = rng.uniform([X0 + 3000, Y0 + 1000], [X0 + 3200, Y0 + 1200], (60, 2))
    background = rng.uniform([X0, Y0], [X0 + 4000, Y0 + 2500], (150, 2))
    xy = np.vstack([a, b, background])
    frame = pd.DataFrame(
        {
            "incident_id": [f"i{i:04d}" for i in range(len(xy))],
            "occurred_at": pd.Timestamp("2020-03-02 20:00", tz="America/Lima"),
            "time_known": True,
            "modalidad": ["ROBO"] * 60 + ["HURTO"] * 60 + ["OTRO"] * 150,
            "harm": [2.0] * 60 + [1.0] * 210,
            "provincia": ["A"] * 60 + ["B"] * 60 + ["A"] * 150,
            "at_station": False,
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS)


@pytest.fixture(scope="module")
def both() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    return gistar_cells_and_zones(_incidents(), cell_size=100.0, quiet=True)


def test_two_groups_give_two_zones_of_several_cells(both):
    cells, zones = both
    hot = cells[cells["zone_id"].notna()]
    assert len(zones) == 2 == zones.attrs["parameters"]["n_hot_zones"]
    assert len(hot) > len(zones)  # more hot cells than hotspots
    assert zones["zone_id"].tolist() == [1, 2]
    assert zones["hotspot_id"].tolist() == ["gistar-0001", "gistar-0002"]


def test_zone_numbers_equal_the_sums_over_their_cells(both):
    cells, zones = both
    hot = cells[cells["zone_id"].notna()]
    for _, zone in zones.iterrows():
        mine = hot[hot["zone_id"] == zone["zone_id"]]
        assert zone["n_cells"] == len(mine)
        assert zone["n"] == mine["n"].sum()
        assert zone["harm"] == pytest.approx(mine["harm"].sum())
        # the cells share no area: the zone's area is theirs (cells of 100 m = 0.01 km²)
        assert zone["area_km2"] == pytest.approx(0.01 * len(mine), rel=1e-6)
        assert zone["density"] == pytest.approx(zone["n"] / zone["area_km2"])
        # the zone's z is its hottest cell's
        assert zone["gi_z"] == pytest.approx(mine["gi_z"].max())
        merged = shapely.union_all(mine.to_crs(CRS).geometry.values)
        assert zone.geometry is not None
        assert gpd.GeoSeries([zone.geometry], crs="EPSG:4326").to_crs(CRS).iloc[
            0
        ].symmetric_difference(merged).area == pytest.approx(0.0, abs=1.0)


def test_each_group_is_its_own_zone_with_its_own_profile(both):
    _, zones = both
    # group a (ROBO, province A) and group b (HURTO, province B) each hold 60 incidents, plus
    # the background incidents that fall in their cells
    by_province = dict(zip(zones["provincia"], zones["n"], strict=True))
    assert set(by_province) == {"A", "B"}
    assert by_province["A"] >= 60 and by_province["B"] >= 60
    modalidades = dict(zip(zones["provincia"], zones["top_modalidades"], strict=True))
    assert modalidades["A"].startswith("ROBO")
    assert modalidades["B"].startswith("HURTO")


def test_zones_alone_equal_zones_computed_with_the_cells(both):
    _, zones = both
    alone = hotspot_gistar(_incidents(), cell_size=100.0, output="zones", quiet=True)
    pd.testing.assert_frame_equal(
        pd.DataFrame(alone.drop(columns="geometry")), pd.DataFrame(zones.drop(columns="geometry"))
    )


def test_no_hot_cell_gives_no_zone_with_the_reason():
    rng = np.random.default_rng(0)
    xy = np.column_stack(
        [
            np.repeat(np.arange(10) * 100.0 + 50, 10) + X0,
            np.tile(np.arange(10) * 100.0 + 50, 10) + Y0,
        ]
    )
    flat = gpd.GeoDataFrame(
        {"incident_id": [f"f{i}" for i in range(len(xy))], "at_station": False},
        geometry=gpd.points_from_xy(xy[:, 0] + rng.uniform(-1, 1, len(xy)), xy[:, 1]),
        crs=CRS,
    )
    zones = hotspot_gistar(flat, cell_size=100.0, output="zones", quiet=True)
    assert len(zones) == 0
    assert "zona" in zones.attrs["reason_es"] or "destaca" in zones.attrs["reason_es"]
