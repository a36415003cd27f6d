"""prepare() and locate() against the straightforward geopandas chain, bit for bit.

prepare() selects, projects and sorts the incidents without copying every column three times,
and locate() gives its rows, order and coordinates without the frame. The reference here is
the plain chain they replace: drop missing or empty points and station stacks, ``to_crs``,
add ``_x``/``_y``, ``sort_values`` by (``_x``, ``_y``, ``incident_id``), ``reset_index``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS

from parsc_geo.hotspots._common import locate, prepare


def _incidents(crs: str = "EPSG:4326", z: bool = False) -> gpd.GeoDataFrame:
    """80 incidents near Cajamarca city with every awkward case prepare() has to keep in order.

    - 8 rows on one spot with scrambled ids (the sort falls to ``incident_id``), two of them
      with the same id (their input order must be kept) and one without an id;
    - 3 missing and 2 empty geometries; 6 stacked on a station (``at_station``);
    - a text index with repeated labels, rows in no particular order, ``attrs`` of its own.
    """
    rng = np.random.default_rng(11)
    n = 80
    lon = -78.51 + rng.uniform(-0.03, 0.03, n)
    lat = -7.16 + rng.uniform(-0.03, 0.03, n)
    lon[10:18], lat[10:18] = -78.5, -7.15
    ids: list[str | None] = [f"c{i:03d}" for i in rng.permutation(n)]
    ids[12] = ids[15] = "c-dup"
    ids[16] = None
    at_station = np.zeros(n, dtype=bool)
    at_station[[3, 11, 30, 31, 50, 79]] = True
    frame = pd.DataFrame(
        {
            "incident_id": pd.array(ids, dtype="str"),
            "order_given": np.arange(n),
            "occurred_at": pd.date_range("2021-01-01", periods=n, freq="17h", tz="UTC"),
            "modalidad": rng.choice(["ROBO", "HURTO", None], n),
            "harm": rng.uniform(0, 5, n),
            "at_station": at_station,
        },
        index=[f"r{i % 30}" for i in range(n)],
    )
    points = shapely.points(lon, lat, rng.uniform(2600, 2800, n)) if z else shapely.points(lon, lat)
    points[[5, 40, 66]] = None
    points[[20, 21]] = shapely.from_wkt("POINT EMPTY")
    data = gpd.GeoDataFrame(frame, geometry=points, crs="EPSG:4326")
    if crs != "EPSG:4326":
        data = data.to_crs(crs)
    data.attrs["timezone"] = "America/Lima"
    return data


def _reference(data: gpd.GeoDataFrame, exclude_at_station: bool, target: str) -> gpd.GeoDataFrame:
    """The plain geopandas chain prepare() stands for."""
    geometry = data.geometry
    usable = ~(geometry.isna() | geometry.is_empty)
    if exclude_at_station:
        usable &= ~data["at_station"]
    points = data[usable].to_crs(target)
    points["_x"] = points.geometry.x
    points["_y"] = points.geometry.y
    return points.sort_values(["_x", "_y", "incident_id"], kind="stable").reset_index(drop=True)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype == np.float64 and np.array_equal(a.view(np.int64), b.view(np.int64))


CASES = [
    # (input CRS, metric given, metric expected, exclude_at_station, 3-D points)
    ("EPSG:4326", None, "EPSG:32717", True, False),  # automatic UTM 17S for Cajamarca
    ("EPSG:4326", None, "EPSG:32717", False, False),  # station stacks kept
    ("EPSG:4326", "EPSG:24817", "EPSG:24817", True, False),  # PSAD56 / UTM 17S: datum shift
    ("EPSG:32717", None, "EPSG:32717", True, False),  # already metric: not projected
    ("EPSG:3857", "EPSG:32717", "EPSG:32717", True, False),  # another projection
    ("EPSG:4326", None, "EPSG:32717", True, True),  # points with a height
]


@pytest.mark.parametrize(("source", "metric", "expected", "exclude", "z"), CASES)
def test_prepare_equals_the_plain_geopandas_chain_bit_for_bit(
    source: str, metric: str | None, expected: str, exclude: bool, z: bool
) -> None:
    data = _incidents(source, z=z)
    ours = prepare(data, exclude_at_station=exclude, metric=metric)
    ref = _reference(data, exclude, expected)
    # 80 rows − 3 missing − 2 empty (− 6 on a station, none of them missing or empty)
    assert len(ours.points) == (69 if exclude else 75)
    assert list(ours.points.columns) == list(ref.columns)
    assert (ours.points.dtypes == ref.dtypes).all()
    pd.testing.assert_index_equal(ours.points.index, ref.index, exact=True)
    pd.testing.assert_frame_equal(
        ours.points.drop(columns="geometry"), ref.drop(columns="geometry"), check_exact=True
    )
    assert ours.points.geometry.name == ref.geometry.name
    assert ours.points.crs == ref.crs == CRS(expected)
    assert list(ours.points.geometry.to_wkb()) == list(ref.geometry.to_wkb())
    assert _same_bits(ours.x, ref["_x"].to_numpy())
    assert _same_bits(ours.y, ref["_y"].to_numpy())
    assert ours.crs == CRS(expected)
    assert ours.points.attrs["timezone"] == "America/Lima"
    assert ours.points.attrs["selection"]["n_used"] == len(ref)
    assert ours.info == {
        "n_input": 80,
        "n_missing_geometry": 5,
        "n_excluded_at_station": 6 if exclude else 0,
        "exclude_at_station": exclude,
        "n_used": len(ref),
        "crs_metric": CRS(expected).to_string(),
    }
    # the tie of 8 rows on one spot: ids ascending, the two "c-dup" in input order, no id last
    spot = ref[ref["order_given"].between(10, 17)]
    assert spot["incident_id"].iloc[-1] is pd.NA or pd.isna(spot["incident_id"].iloc[-1])
    dup = spot[spot["incident_id"] == "c-dup"]["order_given"].tolist()
    assert dup == [12, 15]


@pytest.mark.parametrize(("source", "metric", "expected", "exclude", "z"), CASES)
def test_locate_gives_the_rows_order_and_coordinates_of_prepare(
    source: str, metric: str | None, expected: str, exclude: bool, z: bool
) -> None:
    data = _incidents(source, z=z)
    prepared = prepare(data, exclude_at_station=exclude, metric=metric)
    located = locate(data, exclude_at_station=exclude, metric=metric)
    assert _same_bits(located.x, prepared.x)
    assert _same_bits(located.y, prepared.y)
    taken = data.drop(columns="geometry").iloc[located.rows].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        taken, prepared.points.drop(columns=["geometry", "_x", "_y"]), check_exact=True
    )
    assert located.crs == prepared.crs
    assert located.info == prepared.info
    assert located.selection == prepared.points.attrs["selection"]


def test_prepare_does_not_depend_on_the_input_order() -> None:
    data = _incidents()
    shuffled = data.iloc[np.random.default_rng(3).permutation(len(data))]
    a = prepare(data, exclude_at_station=True)
    b = prepare(shuffled, exclude_at_station=True)
    # only the rows with the same id on the same spot keep their input order
    ties = a.points["incident_id"] == "c-dup"
    pd.testing.assert_frame_equal(
        a.points[~ties].drop(columns="geometry"),
        b.points[~ties].drop(columns="geometry"),
        check_exact=True,
    )
    assert _same_bits(a.x, b.x) and _same_bits(a.y, b.y)


def test_prepare_of_no_incidents() -> None:
    data = _incidents().iloc[:0]
    prepared = prepare(data, exclude_at_station=True)
    located = locate(data, exclude_at_station=True)
    assert len(prepared.points) == len(located.rows) == 0
    assert prepared.crs == located.crs == CRS("EPSG:32717")
    assert list(prepared.points.columns) == [*data.columns, "_x", "_y"]
