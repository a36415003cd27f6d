"""Knox test over bands: against pointpats' Knox, a brute-force n² count, and by hand."""

from __future__ import annotations

import itertools
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pointpats.spacetime import Knox

from parsc_geo._errors import ConfigError, InsufficientDataError
from parsc_geo.trends.near_repeat import (
    interpret_near_repeat,
    knox_bands,
    near_repeat,
    near_repeat_risk,
    parse_bands,
)

SEED = 12345


def _events(n: int = 300, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points over 2 km × 2 km and 120 days, plus 50 near repeats (≤ ~60 m, ≤ 4 days)."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 2000, (n, 2))
    days = rng.integers(0, 120, n).astype(float)
    xy[:50] = xy[50:100] + rng.normal(0, 30, (50, 2))
    days[:50] = days[50:100] + rng.integers(0, 5, 50)
    return xy, days


def _pointpats(xy: np.ndarray, days: np.ndarray, delta: float, tau: float, perms: int) -> Knox:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Knox(xy, days.reshape(-1, 1), delta=delta, tau=tau, permutations=perms)


def test_first_band_equals_pointpats_knox_with_the_same_seed() -> None:
    # pointpats counts d ≤ delta and Δ ≤ tau. With continuous coordinates no distance equals
    # 150 exactly, and with whole days Δ < 7 is Δ ≤ 6, so [0,150)×[0,7) is pointpats' (150, 6).
    xy, days = _events()
    ours = knox_bands(
        xy[:, 0], xy[:, 1], days, [0, 150, 300], [0, 7, 14], permutations=99, seed=SEED
    )
    np.random.seed(SEED)  # noqa: NPY002 - pointpats draws from the global RandomState
    ref = _pointpats(xy, days, 150, 6, 99)
    first = ours.iloc[0]
    assert first["observed"] == ref.observed[0, 0] == ref.nst
    assert first["expected"] == pytest.approx(ref.expected[0, 0], rel=1e-12)
    assert first["p_value"] == ref.p_sim
    assert first["p_value"] == 0.01  # a real near-repeat pattern: no permutation reached it


def test_every_band_equals_pointpats_by_inclusion_exclusion() -> None:
    # A band [d0,d1)×[t0,t1) = C(d1,t1) − C(d0,t1) − C(d1,t0) + C(d0,t0), C from pointpats.
    xy, days = _events(seed=3)
    s_edges, t_edges = [0, 100, 250, 400], [0, 5, 10, 30]
    ours = knox_bands(xy[:, 0], xy[:, 1], days, s_edges, t_edges, permutations=0)

    def cumulative(d: float, t: float) -> tuple[float, float]:
        if d == 0 or t == 0:
            return 0.0, 0.0
        k = _pointpats(xy, days, d, t - 1, 0)
        return k.observed[0, 0], k.expected[0, 0]

    row = 0
    for a, b in itertools.pairwise(s_edges):
        for c, d in itertools.pairwise(t_edges):
            parts = [cumulative(b, d), cumulative(a, d), cumulative(b, c), cumulative(a, c)]
            obs = parts[0][0] - parts[1][0] - parts[2][0] + parts[3][0]
            exp = parts[0][1] - parts[1][1] - parts[2][1] + parts[3][1]
            assert ours.loc[row, "observed"] == obs
            assert ours.loc[row, "expected"] == pytest.approx(exp, rel=1e-9, abs=1e-9)
            row += 1


def _brute_force(
    xy: np.ndarray,
    days: np.ndarray,
    s_edges: np.ndarray,
    t_edges: np.ndarray,
    perms: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The n × n reference: every pair's distance and days apart, then the same permutations."""
    n = len(days)
    iu = np.triu_indices(n, 1)
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))[iu]

    def count(t: np.ndarray) -> np.ndarray:
        dt = np.abs(t[:, None] - t[None, :])[iu]
        out = np.zeros((len(s_edges) - 1, len(t_edges) - 1))
        for i in range(len(s_edges) - 1):
            for j in range(len(t_edges) - 1):
                out[i, j] = np.sum(
                    (d >= s_edges[i]) & (d < s_edges[i + 1])
                    & (dt >= t_edges[j]) & (dt < t_edges[j + 1])
                )  # fmt: skip
        return out

    observed = count(days)
    rs = np.random.RandomState(seed)
    exceed = np.zeros_like(observed)
    for _ in range(perms):
        exceed += count(days[rs.permutation(n)]) >= observed
    return observed, (exceed + 1) / (perms + 1)


def test_all_bands_and_p_values_equal_a_brute_force_count_including_open_bands() -> None:
    xy, days = _events(n=200, seed=5)
    s_edges = np.array([0, 50, 120, 300, np.inf])
    t_edges = np.array([0, 3, 8, 20, np.inf])
    ours = knox_bands(xy[:, 0], xy[:, 1], days, s_edges, t_edges, permutations=39, seed=7)
    observed, p = _brute_force(xy, days, s_edges, t_edges, 39, 7)
    np.testing.assert_array_equal(ours["observed"].to_numpy(), observed.ravel())
    np.testing.assert_allclose(ours["p_value"].to_numpy(), p.ravel())
    assert ours["observed"].sum() == 200 * 199 // 2  # open bands: every pair is counted once


def test_expected_by_hand_on_four_events() -> None:
    # Events at x = 0, 10, 500, 510 (y = 0) on days 0, 1, 0, 30. Pairs (6):
    # (0,1): 10 m, 1 d  (0,2): 500 m, 0 d  (0,3): 510 m, 30 d
    # (1,2): 490 m, 1 d (1,3): 500 m, 29 d (2,3): 10 m, 30 d
    # Band [0,100)×[0,7): observed 1 (pair 0–1); NS = 2 (0–1, 2–3), NT = 3 (0–1, 0–2, 1–2),
    # expected = 2·3/6 = 1.0, ratio 1.0.
    ours = knox_bands(
        np.array([0.0, 10, 500, 510]), np.zeros(4), np.array([0.0, 1, 0, 30]),
        [0, 100], [0, 7], permutations=0,
    )  # fmt: skip
    assert ours.loc[0, "observed"] == 1
    assert ours.loc[0, "expected"] == pytest.approx(1.0)
    assert ours.loc[0, "ratio"] == pytest.approx(1.0)
    assert np.isnan(ours.loc[0, "p_value"])


def test_bands_are_closed_below_and_open_above() -> None:
    # Two events exactly 100 m and 7 days apart fall in [100, 200)×[7, 14), not in the first.
    ours = knox_bands(
        np.array([0.0, 100]), np.zeros(2), np.array([0.0, 7]), [0, 100, 200], [0, 7, 14],
        permutations=0,
    )  # fmt: skip
    assert list(ours["observed"]) == [0, 0, 0, 1]


def test_parse_bands() -> None:
    np.testing.assert_array_equal(parse_bands("0,100, 200", "s"), [0, 100, 200])
    assert np.isinf(parse_bands("0,7,inf", "t")[-1])
    for bad in ("0", "0,a", "100,50", "-1,5", "0,inf,7"):
        with pytest.raises(ConfigError):
            parse_bands(bad, "space_bands")


def _table(ratio: list[float], p: list[float]) -> pd.DataFrame:
    """A 3 × 3 band table (0/100/200/300 m × 0/7/14/21 days) with observed = ratio · 10."""
    rows = []
    k = 0
    for d0 in (0, 100, 200):
        for t0 in (0, 7, 14):
            rows.append((d0, d0 + 100, t0, t0 + 7, 10 * ratio[k], 10.0, ratio[k], p[k]))
            k += 1
    frame = pd.DataFrame(rows, columns=["d_min_m", "d_max_m", "t_min_days", "t_max_days",
                                        "observed", "expected", "ratio", "p_value"])  # fmt: skip
    frame.attrs["parameters"] = {"permutations": 99}
    return frame


def test_interpretation_of_a_near_repeat_zone() -> None:
    # Significant and above 1: (0–100, 0–7), (0–100, 7–14), (100–200, 0–7), but not
    # (200–300, 0–7) nor (0–100, 14–21). Zone: 200 m × 14 days; its ratio is the summed
    # observed over summed expected of the 4 bands inside: (20 + 18 + 16 + 10)/40 = 1.6.
    table = _table(
        [2.0, 1.8, 1.0, 1.6, 1.0, 1.0, 1.1, 1.0, 1.0],
        [0.01, 0.02, 0.5, 0.03, 0.6, 0.5, 0.3, 0.5, 0.5],
    )
    risk = near_repeat_risk(table)
    assert risk is not None
    assert (risk.distance_m, risk.days) == (200.0, 14.0)
    assert risk.ratio == pytest.approx(1.6)
    assert interpret_near_repeat(table, label="un robo") == (
        "Tras un robo, el riesgo en 200 m se mantiene 1,6 veces mayor durante 14 días "
        "(prueba de Knox, p ≤ 0,05, 99 permutaciones)."
    )


def test_interpretation_without_a_near_repeat() -> None:
    table = _table([1.2] * 9, [0.2] * 9)
    assert near_repeat_risk(table) is None
    text = interpret_near_repeat(table)
    assert text.startswith(
        "No se detecta repetición cercana: tras un incidente, el riesgo en 100 m"
    )


def _incidents_frame(xy: np.ndarray, days: np.ndarray) -> gpd.GeoDataFrame:
    when = pd.Timestamp("2021-01-01 10:00", tz="America/Lima") + pd.to_timedelta(days, unit="D")
    frame = pd.DataFrame(
        {"incident_id": [f"r{i:03d}" for i in range(len(days))], "occurred_at": when}
    )
    return gpd.GeoDataFrame(
        frame,
        geometry=gpd.points_from_xy(xy[:, 0] + 775_000, xy[:, 1] + 9_207_000),
        crs="EPSG:32717",
    )


def test_near_repeat_from_points_equals_knox_bands() -> None:
    xy, days = _events(seed=8)
    gdf = _incidents_frame(xy, days).to_crs("EPSG:4326")
    table = near_repeat(gdf, space_bands="0,100,200", time_bands="0,7,14", permutations=19, seed=3)
    # Reprojecting to UTM and back moves points by nanometres: the counts are the same.
    direct = knox_bands(
        xy[:, 0], xy[:, 1], days, [0, 100, 200], [0, 7, 14], permutations=19, seed=3
    )
    np.testing.assert_array_equal(table["observed"], direct["observed"])
    assert table.attrs["parameters"]["n_incidents"] == 300


def test_near_repeat_declines_with_few_incidents() -> None:
    xy, days = _events(seed=2)
    with pytest.raises(InsufficientDataError, match="al menos 20"):
        near_repeat(_incidents_frame(xy[:10], days[:10]))


@pytest.mark.parametrize("span", [120, 40_000])
def test_whole_days_count_as_fractional_days_do(span: int) -> None:
    # Whole days go through a look-up table of day gaps (16-bit below 32,767 days, 32-bit
    # above); days shifted by a quarter are not whole and take the binary search per pair.
    # The shift leaves every gap, hence every count and permutation p-value, unchanged.
    rng = np.random.default_rng(5)
    xy, _ = _events(seed=5)
    days = rng.integers(0, span, len(xy)).astype(float)
    days[:50] = days[50:100] + rng.integers(0, 3, 50)
    bands = ([0, 100, 250, float("inf")], [0, 3, 10, float("inf")])
    whole = knox_bands(xy[:, 0], xy[:, 1], days, *bands, permutations=19, seed=SEED)
    shifted = knox_bands(xy[:, 0], xy[:, 1], days + 0.25, *bands, permutations=19, seed=SEED)
    pd.testing.assert_frame_equal(whole, shifted)
    # and the first cell by brute force: pairs closer than 100 m and fewer than 3 days apart
    i, j = np.triu_indices(len(xy), k=1)
    close = (np.hypot(*(xy[i] - xy[j]).T) < 100) & (np.abs(days[i] - days[j]) < 3)
    assert whole.loc[0, "observed"] == close.sum()


def test_too_many_close_pairs_test_a_random_sample_within_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 300 points within a 2 km square: C(300, 2) = 44,850 pairs in all; every pair closer than
    # 3 km (the diagonal is 2.83 km) is close. At a budget of 44,850 nothing changes.
    import parsc_geo.trends.near_repeat as nr

    xy, days = _events()
    monkeypatch.setattr(nr, "MAX_PAIRS", 44_850)
    whole = knox_bands(xy[:, 0], xy[:, 1], days, [0, 3000], [0, 7], permutations=9)
    assert whole.attrs["parameters"]["n_pairs_listed"] == 44_850
    assert "sample" not in whole.attrs["parameters"]
    # One pair less: m = int(300 · sqrt(44,849 / 44,850)) = 299 incidents, C(299, 2) = 44,551
    # pairs ≤ 44,849; the sample is RandomState(seed).choice(300, 299, replace=False), and the
    # table is the Knox test of those incidents.
    monkeypatch.setattr(nr, "MAX_PAIRS", 44_849)
    sampled = knox_bands(xy[:, 0], xy[:, 1], days, [0, 3000], [0, 7], permutations=9, seed=3)
    info = sampled.attrs["parameters"]["sample"]
    assert info == {
        "n_incidents_total": 300,
        "close_pairs_total": 44_850,
        "sample_size": 299,
        "close_pairs_sample": 44_551,
        "max_pairs": 44_849,
        "seed": 3,
    }
    keep = np.sort(np.random.RandomState(3).choice(300, 299, replace=False))
    monkeypatch.setattr(nr, "MAX_PAIRS", 10**9)
    direct = knox_bands(
        xy[keep, 0], xy[keep, 1], days[keep], [0, 3000], [0, 7], permutations=9, seed=3
    )
    pd.testing.assert_frame_equal(sampled, direct, check_like=False)
    assert "muestra aleatoria de 299 de 300 incidentes" in interpret_near_repeat(sampled)


def test_a_sample_for_a_dense_city_keeps_its_close_pairs_within_the_budget() -> None:
    # 3,000 incidents in a 1 km square have about C(3000, 2) · π · 0.1² ≈ 141,000 pairs
    # closer than 100 m; a budget of 20,000 keeps about 3000 · sqrt(20,000 / 141,000) ≈ 1,130.
    rng = np.random.default_rng(11)
    xy = rng.uniform(0, 1000, (3000, 2))
    days = rng.integers(0, 365, 3000).astype(float)
    table = knox_bands(
        xy[:, 0],
        xy[:, 1],
        days,
        [0, 50, 100],
        [0, 7, 14],
        permutations=0,
        seed=SEED,
        max_pairs=20_000,
    )
    info = table.attrs["parameters"]["sample"]
    i, j = np.triu_indices(3000, k=1)
    dist = np.hypot(*(xy[i] - xy[j]).T)
    assert info["close_pairs_total"] == int((dist < 100).sum())
    assert info["close_pairs_sample"] <= 20_000
    assert 1000 <= info["sample_size"] <= 1300
    keep = np.sort(np.random.RandomState(SEED).choice(3000, info["sample_size"], replace=False))
    sub_i, sub_j = np.triu_indices(len(keep), k=1)
    a, b = keep[sub_i], keep[sub_j]
    d = np.hypot(*(xy[a] - xy[b]).T)
    assert info["close_pairs_sample"] == int((d < 100).sum())
    # first cell by brute force on the sample: closer than 50 m and fewer than 7 days apart
    assert table.loc[0, "observed"] == int(((d < 50) & (np.abs(days[a] - days[b]) < 7)).sum())


def _lattice_events() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole-metre points where many pairs sit exactly on a band edge, plus stacked points.

    On a 60 m lattice, 3-4-5 triangles put pairs exactly 300 m apart (180, 240) and 600 m
    apart; 20 points repeat another point's place (distance 0). Days are whole.
    """
    rng = np.random.default_rng(21)
    grid = np.array([(60.0 * a, 60.0 * b) for a in range(12) for b in range(12)])
    xy = np.vstack([grid, grid[rng.choice(len(grid), 20)]])
    days = rng.integers(0, 60, len(xy)).astype(float)
    return xy[:, 0].copy(), xy[:, 1].copy(), days


def _every_close_pair(x: np.ndarray, y: np.ndarray, finite: np.ndarray) -> dict:
    """Brute force: {(i, j): space index} for every i < j closer than the last edge."""
    i, j = np.triu_indices(len(x), k=1)
    d = np.hypot(x[i] - x[j], y[i] - y[j])
    close = d < finite[-1]
    index = np.searchsorted(finite, d[close], side="right")
    return dict(
        zip(zip(i[close].tolist(), j[close].tolist(), strict=True), index.tolist(), strict=True)
    )


@pytest.mark.parametrize("block", [1, 37, 5_000, 2_000_000])
def test_close_pairs_listed_by_blocks_are_every_pair_closer_than_the_edge(
    monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    # Blocks of 1 candidate pair (one point each), 37, and all at once list the same pairs;
    # the pairs exactly 300 m apart are out (d < 300), those at 0 m are in.
    from scipy.spatial import cKDTree

    import parsc_geo.trends.near_repeat as nr

    monkeypatch.setattr(nr, "_BLOCK_PAIRS", block)
    x, y, _ = _lattice_events()
    finite = np.array([0.0, 60, 120, 300])
    i, j, s_index, ns = nr._pairs_closer_than(cKDTree(np.column_stack([x, y])), x, y, finite)
    assert i.dtype == j.dtype == np.int32 and s_index.dtype == np.int16
    expected = _every_close_pair(x, y, finite)
    listed = dict(zip(zip(i.tolist(), j.tolist(), strict=True), s_index.tolist(), strict=True))
    assert len(listed) == len(i)  # no pair twice
    assert listed == expected
    assert all(a < b for a, b in listed)
    np.testing.assert_array_equal(ns, np.bincount(list(expected.values()), minlength=4))
    # pairs exactly 300 m apart exist and are left out; stacked points (0 m) are in [0, 60)
    a, b = np.triu_indices(len(x), k=1)
    d = np.hypot(x[a] - x[b], y[a] - y[b])
    assert (d == 300).sum() > 0
    assert not any((p, q) in listed for p, q in zip(a[d == 300], b[d == 300], strict=True))
    stacked = list(zip(a[d == 0].tolist(), b[d == 0].tolist(), strict=True))
    assert len(stacked) >= 20 and all(listed[pair] == 1 for pair in stacked)


def test_close_pairs_when_the_count_falls_short_of_the_pairs_found() -> None:
    # A tree whose neighbour counts say "no pairs" leaves the arrays empty at first: the
    # listing grows them and still finds every pair.
    from scipy.spatial import cKDTree

    import parsc_geo.trends.near_repeat as nr

    class NoCount:
        def __init__(self, tree: cKDTree) -> None:
            self.tree = tree

        def query_ball_point(self, points: np.ndarray, r: float, **kwargs: object) -> np.ndarray:
            return np.ones(len(points), dtype=np.int64)

    x, y, _ = _lattice_events()
    finite = np.array([0.0, 100, 250])
    tree = NoCount(cKDTree(np.column_stack([x, y])))
    i, j, s_index, _ = nr._pairs_closer_than(tree, x, y, finite)
    listed = dict(zip(zip(i.tolist(), j.tolist(), strict=True), s_index.tolist(), strict=True))
    assert listed == _every_close_pair(x, y, finite)


@pytest.mark.parametrize("shift", [0.0, 0.5])
def test_knox_table_by_blocks_equals_the_brute_force_count(
    monkeypatch: pytest.MonkeyPatch, shift: float
) -> None:
    # Whole days (day table) and half days (binary search per pair), edges on lattice
    # distances, an open last band: every count and p-value equals the n × n reference, and
    # blocks of 3 candidate pairs give the table of one block, to the last digit.
    import parsc_geo.trends.near_repeat as nr

    x, y, days = _lattice_events()
    days = days + shift
    s_edges = np.array([0, 60, 120, 300, np.inf])
    t_edges = np.array([0, 7, 14, 21])
    args = (x, y, days, s_edges, t_edges)
    whole = knox_bands(*args, permutations=19, seed=5)
    monkeypatch.setattr(nr, "_BLOCK_PAIRS", 3)
    blocks = knox_bands(*args, permutations=19, seed=5)
    pd.testing.assert_frame_equal(whole, blocks, check_exact=True)
    assert whole.attrs == blocks.attrs
    observed, p = _brute_force(np.column_stack([x, y]), days, s_edges, t_edges, 19, 5)
    np.testing.assert_array_equal(whole["observed"].to_numpy(), observed.ravel())
    np.testing.assert_array_equal(whole["p_value"].to_numpy(), p.ravel())
    listed = _every_close_pair(x, y, s_edges[:-1])
    assert whole.attrs["parameters"]["n_pairs_listed"] == len(listed)


def test_a_test_run_in_a_pool_worker_is_announced_here_as_knox_announces_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A small parallel run computes the Knox test in a worker (near_repeat_task), whose log is
    # not this process's: announce_sample repeats here the announcement of its sample, the
    # same text knox_bands logs itself (299 of 300 incidents, as in the test above).
    from parsc_geo.parallel import WorkerPool
    from parsc_geo.trends.near_repeat import announce_sample, near_repeat_task

    xy, days = _events()
    frame = _incidents_frame(xy, days)
    options = {"space_bands": "0,3000", "time_bands": "0,7", "permutations": 9, "seed": 3}
    with caplog.at_level("INFO", logger="parsc_geo.trends.near_repeat"):
        here = near_repeat(frame, max_pairs=44_849, **options)
    [own] = [r.getMessage() for r in caplog.records if "muestra aleatoria" in r.getMessage()]
    assert "muestra aleatoria de 299 de 300 incidentes" in own
    caplog.clear()
    with WorkerPool(2) as pool:
        [there] = pool.start(
            near_repeat_task, [(frame, {**options, "max_pairs": 44_849})], background=True
        ).results()
    pd.testing.assert_frame_equal(here, there)
    assert there.attrs == here.attrs
    with caplog.at_level("INFO", logger="parsc_geo.trends.near_repeat"):
        announce_sample(there)
        announce_sample(near_repeat(frame, **options))  # no sample: nothing said
    assert [r.getMessage() for r in caplog.records] == [own]
