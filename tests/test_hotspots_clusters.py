"""Tests of DBSCAN and HDBSCAN hotspots against scikit-learn run directly."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sklearn.cluster import DBSCAN, HDBSCAN

from parsc_geo._errors import ConfigError
from parsc_geo.hotspots import hotspot_dbscan, hotspot_hdbscan
from parsc_geo.hotspots.clusters import (
    _hdbscan_labels,
    _SingleTreeQueries,
    auto_min_samples,
    knee_distance,
)
from parsc_geo.schema import HOTSPOT_COLUMNS

CRS = "EPSG:32717"
X0, Y0 = 775_000.0, 9_207_000.0
CENTRES = [(0.0, 0.0), (3000.0, 500.0), (1000.0, 3500.0)]
SIZES = [80, 50, 30]


def _clustered(seed: int = 5) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    blobs = [
        rng.normal([X0 + cx, Y0 + cy], 60.0, (size, 2))
        for (cx, cy), size in zip(CENTRES, SIZES, strict=True)
    ]
    # sparse noise far from the blobs: 8 points on a ring 8–9 km from the first blob
    angle = rng.uniform(0, 2 * np.pi, 8)
    radius = rng.uniform(8000, 9000, 8)
    noise = np.column_stack([X0 + radius * np.cos(angle), Y0 + radius * np.sin(angle)])
    xy = np.vstack([*blobs, noise])
    n = len(xy)
    df = pd.DataFrame(
        {
            "incident_id": [f"inc-{i:03d}" for i in range(n)],
            "delito_especifico": "ROBO",
            "modalidad": "AGRAVADO",
            "harm": 2.0,
        }
    )
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS)


def _sklearn_partition(labels: np.ndarray, ids: np.ndarray) -> set[frozenset[str]]:
    return {frozenset(ids[labels == c]) for c in np.unique(labels[labels >= 0])}


def _our_partition(out: gpd.GeoDataFrame, data: gpd.GeoDataFrame) -> set[frozenset[str]]:
    polys = out.to_crs(CRS)
    joined = gpd.sjoin(data, polys[["hotspot_id", "geometry"]], predicate="within")
    assert joined["incident_id"].is_unique  # no incident in two hotspots
    return {frozenset(g["incident_id"]) for _, g in joined.groupby("hotspot_id")}


# ---------------------------------------------------------------- check inputs


def test_dbscan_rejects_bad_arguments() -> None:
    data = _clustered()
    with pytest.raises(ConfigError, match="hull"):
        hotspot_dbscan(data, hull="alpha", quiet=True)
    with pytest.raises(ConfigError, match="min_samples"):
        hotspot_dbscan(data, min_samples=0, quiet=True)
    with pytest.raises(ConfigError, match="eps"):
        hotspot_dbscan(data, eps=-1, quiet=True)
    with pytest.raises(ConfigError, match="buffer"):
        hotspot_hdbscan(data, buffer=-5, quiet=True)


# ---------------------------------------------------------------- check outputs


def test_dbscan_membership_equals_sklearn() -> None:
    data = _clustered()
    out = hotspot_dbscan(data, eps=150, min_samples=5, quiet=True)
    xy = np.column_stack([data.geometry.x, data.geometry.y])
    labels = DBSCAN(eps=150, min_samples=5).fit(xy).labels_
    expected = _sklearn_partition(labels, data["incident_id"].to_numpy())
    assert _our_partition(out, data) == expected
    assert out["n"].tolist() == sorted((len(s) for s in expected), reverse=True)
    assert out["n"].tolist() == SIZES
    assert list(out.columns[: len(HOTSPOT_COLUMNS) - 1]) == list(HOTSPOT_COLUMNS[:-1])
    assert out["hotspot_id"].tolist() == ["dbscan-0001", "dbscan-0002", "dbscan-0003"]
    assert np.allclose(out["harm"], 2.0 * out["n"])
    assert out.attrs["parameters"]["n_noise"] == 8
    assert (out["top_modalidades"] == [f"ROBO AGRAVADO ({n})" for n in SIZES]).all()


def test_hdbscan_membership_equals_sklearn() -> None:
    data = _clustered()
    out = hotspot_hdbscan(data, min_cluster_size=10, quiet=True)
    xy = np.column_stack([data.geometry.x, data.geometry.y])
    labels = HDBSCAN(min_cluster_size=10, copy=True).fit(xy).labels_
    expected = _sklearn_partition(labels, data["incident_id"].to_numpy())
    got = _our_partition(out, data)
    assert got == expected
    assert sorted(out["n"], reverse=True) == out["n"].tolist()
    assert "probability_mean" in out.columns


def test_hull_contains_members_and_convex_is_larger() -> None:
    data = _clustered()
    concave = hotspot_dbscan(data, eps=150, min_samples=5, buffer=0, quiet=True)
    convex = hotspot_dbscan(data, eps=150, min_samples=5, hull="convex", buffer=0, quiet=True)
    assert (convex["area_km2"].to_numpy() >= concave["area_km2"].to_numpy() - 1e-12).all()
    buffered = hotspot_dbscan(data, eps=150, min_samples=5, buffer=100, quiet=True)
    assert (buffered["area_km2"] > convex["area_km2"]).all()
    np.testing.assert_allclose(buffered["density"], buffered["n"] / buffered["area_km2"])


def test_automatic_parameters_announced_and_recorded(capsys: pytest.CaptureFixture[str]) -> None:
    data = _clustered()
    out = hotspot_dbscan(data)
    params = out.attrs["parameters"]
    assert params["eps_auto"] and params["min_samples_auto"]
    assert params["min_samples"] == auto_min_samples(len(data)) == max(5, round(2 * np.log(168)))
    assert 50 <= params["eps"] <= 1000
    assert "eps" in capsys.readouterr().err
    quiet = hotspot_dbscan(data, quiet=True)
    assert capsys.readouterr().err == ""
    assert quiet.attrs["parameters"]["eps"] == params["eps"]


def test_knee_distance_on_two_scales() -> None:
    # 100 points on a 10 m lattice and 10 isolated points 5 km apart: the knee is the lattice.
    gx, gy = np.meshgrid(np.arange(10) * 10.0, np.arange(10) * 10.0)
    far = np.arange(1, 11) * 5000.0
    x = np.concatenate([gx.ravel(), far])
    y = np.concatenate([gy.ravel(), np.zeros(10)])
    assert knee_distance(x, y, 1) == pytest.approx(10.0)


@pytest.mark.parametrize("func", [hotspot_dbscan, hotspot_hdbscan])
def test_shuffling_rows_changes_nothing(func: object) -> None:
    data = _clustered()
    a = func(data, quiet=True)  # type: ignore[operator]
    b = func(data.sample(frac=1, random_state=11), quiet=True)  # type: ignore[operator]
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert shapely.equals_exact(
        np.asarray(a.geometry.values), np.asarray(b.geometry.values), 0
    ).all()
    assert a.attrs["parameters"] == b.attrs["parameters"]


def test_declines_below_minimum(capsys: pytest.CaptureFixture[str]) -> None:
    data = _clustered().iloc[:6]
    out = hotspot_dbscan(data)
    assert len(out) == 0 and "at least 10" in out.attrs["reason"]
    assert "ningún hotspot" in capsys.readouterr().err
    out = hotspot_hdbscan(data, quiet=True)
    assert len(out) == 0 and out.attrs["reason"]
    assert capsys.readouterr().err == ""


def test_no_cluster_is_reported_not_invented() -> None:
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 1, (30, 2)) * 50_000 + np.array([X0, Y0])
    data = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS)
    out = hotspot_dbscan(data, eps=100, min_samples=5, quiet=True)
    assert len(out) == 0
    assert "no cluster" in out.attrs["reason"]


def test_stacked_cluster_stays_a_polygon() -> None:
    xy = np.array([[X0, Y0]] * 12 + [[X0 + 5000.0, Y0]] * 3)
    data = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS)
    out = hotspot_dbscan(data, eps=60, min_samples=5, buffer=0, quiet=True)
    assert len(out) == 1 and out["n"].item() == 12
    assert out.geometry.iloc[0].geom_type == "Polygon"
    assert out["area_km2"].item() == pytest.approx(np.pi * 1e-6, rel=0.01)


# ---------------------------------------------------------------- HDBSCAN implementation


def _blobs(seed: int, *, stacked: bool) -> gpd.GeoDataFrame:
    """Eight blobs of different sizes and spreads, 4–30 km apart (optionally with stacks)."""
    rng = np.random.default_rng(seed)
    centres = [(0, 0), (6000, 0), (0, 7000), (9000, 9000), (20000, 3000), (15000, 20000)]
    centres += [(30000, 30000), (4000, 25000)]
    parts = [
        rng.normal([X0 + cx, Y0 + cy], rng.uniform(40, 150), (int(rng.integers(40, 160)), 2))
        for cx, cy in centres
    ]
    if stacked:  # geocoding stacks: 15 incidents on one spot inside three blobs
        parts += [np.repeat(np.array([[X0 + cx, Y0 + cy]]), 15, axis=0) for cx, cy in centres[:3]]
    xy = np.round(np.vstack(parts), 1)
    return gpd.GeoDataFrame(
        {"incident_id": [f"b-{i:04d}" for i in range(len(xy))]},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=CRS,
    )


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("stacked", [False, True])
def test_hdbscan_same_clusters_as_sklearn_on_separated_blobs(seed: int, stacked: bool) -> None:
    data = _blobs(seed, stacked=stacked)
    out = hotspot_hdbscan(data, min_cluster_size=15, quiet=True)
    xy = np.column_stack([data.geometry.x, data.geometry.y])
    labels = HDBSCAN(min_cluster_size=15, copy=True).fit(xy).labels_
    expected = _sklearn_partition(labels, data["incident_id"].to_numpy())
    assert len(expected) >= 6
    assert _our_partition(out, data) == expected
    assert out.attrs["parameters"]["implementation"].startswith("hdbscan ")


def test_hdbscan_min_samples_counts_the_point_itself() -> None:
    # scikit-learn's convention: min_samples=3 → core distance to the 2nd other point.
    data = _clustered()
    xy = np.column_stack([data.geometry.x, data.geometry.y])
    for min_samples in (1, 3, 8):
        out = hotspot_hdbscan(data, min_cluster_size=10, min_samples=min_samples, quiet=True)
        model = HDBSCAN(min_cluster_size=10, min_samples=min_samples, copy=True).fit(xy)
        expected = _sklearn_partition(model.labels_, data["incident_id"].to_numpy())
        assert _our_partition(out, data) == expected
    single = hotspot_hdbscan(data, min_cluster_size=10, min_samples=1, quiet=True)
    assert single.attrs["parameters"]["implementation"].startswith("scikit-learn")


# ---------------------------------------------------------------- DBSCAN in linear memory


def _dbscan_case(seed: int) -> tuple[np.ndarray, float, int]:
    rng = np.random.default_rng(seed)
    kind = seed % 5
    if kind == 0:
        xy = rng.normal(0, 100, (int(rng.integers(10, 400)), 2))
    elif kind == 1:  # a lattice whose spacing is eps: neighbours exactly at eps
        g = np.arange(int(rng.integers(2, 15))) * 60.0
        gx, gy = np.meshgrid(g, g)
        xy = np.column_stack([gx.ravel(), gy.ravel()])
        xy = xy[rng.random(len(xy)) < 0.7]
    elif kind == 2:  # geocoding stacks
        base = rng.uniform(0, 500, (20, 2))
        xy = base[rng.integers(0, 20, 300)]
    elif kind == 3:  # blobs in whole metres
        centres = rng.uniform(0, 1500, (5, 2))
        xy = np.round(np.vstack([rng.normal(c, 40, (80, 2)) for c in centres]))
    else:
        xy = rng.uniform(0, 2000, (500, 2))
    eps = float(rng.choice([30.0, 60.0, 60.0 * np.sqrt(2), 100.0, 150.0]))
    return xy + np.array([X0, Y0]), eps, int(rng.integers(1, 12))


@pytest.mark.parametrize("seed", range(60))
def test_dbscan_labels_are_scikit_learns(seed: int) -> None:
    from parsc_geo.hotspots.clusters import dbscan_labels

    xy, eps, min_samples = _dbscan_case(seed)
    reference = DBSCAN(eps=eps, min_samples=min_samples).fit(xy)
    labels, core = dbscan_labels(xy, eps, min_samples)
    # the same numbers, not only the same groups: border points shared by two clusters
    # go to the same one
    np.testing.assert_array_equal(labels, reference.labels_)
    np.testing.assert_array_equal(np.flatnonzero(core), reference.core_sample_indices_)


def test_dbscan_memory_stays_linear_in_a_dense_area() -> None:
    import tracemalloc

    from parsc_geo.hotspots.clusters import dbscan_labels

    # 40,000 incidents within about 200 m: every point has thousands of neighbours within
    # 60 m, which scikit-learn would list (over 10⁸ indices, about a gigabyte)
    rng = np.random.default_rng(4)
    xy = rng.normal([X0, Y0], 70.0, (40_000, 2))
    tracemalloc.start()
    labels, core = dbscan_labels(xy, 60.0, 5)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 100e6
    assert core.sum() > 39_000 and labels.max() == 0


# ------------------------------------------------- HDBSCAN against the hdbscan package itself


def _density_case(seed: int) -> np.ndarray:
    """Blobs of very different densities over sparse background (no two equal distances)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 5000, (12, 2))
    spreads = rng.uniform(20, 300, 12)
    sizes = rng.integers(30, 400, 12)
    blobs = [rng.normal(c, s, (int(k), 2)) for c, s, k in zip(centres, spreads, sizes, strict=True)]
    return np.vstack([*blobs, rng.uniform(-500, 5500, (300, 2))])


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(
    ("min_cluster_size", "min_samples", "epsilon"), [(15, 15, 0.0), (25, 8, 0.0), (10, 10, 150.0)]
)
def test_hdbscan_labels_and_strengths_equal_the_hdbscan_package(
    seed: int, min_cluster_size: int, min_samples: int, epsilon: float
) -> None:
    """The single-tree core distances change nothing: same labels, same membership strengths."""
    import hdbscan

    xy = _density_case(seed)
    labels, strengths = _hdbscan_labels(
        xy,
        min_cluster_size=min_cluster_size,
        min_samples=min_samples,
        cluster_selection_epsilon=epsilon,
    )
    # the package counts min_samples without the point itself (scikit-learn counts it)
    model = hdbscan.HDBSCAN(
        min_cluster_size=min_cluster_size,
        min_samples=min_samples - 1,
        cluster_selection_epsilon=epsilon,
        algorithm="boruvka_kdtree",
        approx_min_span_tree=False,
        core_dist_n_jobs=1,
    ).fit(xy)
    assert labels.max() >= 3
    np.testing.assert_array_equal(labels, model.labels_)
    np.testing.assert_array_equal(strengths, model.probabilities_)


def test_single_tree_queries_give_the_dual_tree_distances() -> None:
    from sklearn.neighbors import KDTree

    xy = _density_case(7)
    tree = KDTree(xy, leaf_size=40)
    expected, _ = tree.query(xy, k=20, dualtree=True, breadth_first=True)
    got, indices = _SingleTreeQueries(tree).query(xy, k=20, dualtree=True, breadth_first=True)
    np.testing.assert_array_equal(got, expected)
    # and they are the true distances to the listed neighbours
    np.testing.assert_allclose(got, np.hypot(*(xy[indices] - xy[:, None, :]).transpose(2, 0, 1)))


def test_single_tree_queries_by_chunks_equal_one_query(monkeypatch) -> None:
    from sklearn.neighbors import KDTree

    from parsc_geo.hotspots import clusters

    xy = _density_case(11)
    tree = KDTree(xy, leaf_size=40)
    expected_d, expected_i = tree.query(xy, k=9)
    # chunks of 7 points: every chunk boundary but the last falls inside the points
    monkeypatch.setattr(clusters, "_QUERY_CHUNK", 7)
    got_d, got_i = _SingleTreeQueries(tree).query(xy, k=9)
    assert len(xy) % 7 and len(xy) > 7 * 3
    np.testing.assert_array_equal(got_d, expected_d)
    np.testing.assert_array_equal(got_i, expected_i)
    assert got_d.dtype == np.float64 and got_i.dtype == np.intp
