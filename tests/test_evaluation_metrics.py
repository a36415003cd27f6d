"""Hand-computed tests of the forecast metrics: hit rate, PAI, PEI*, RRI, ties, curves."""

from __future__ import annotations

import numpy as np
import pytest

from parsc_geo._errors import ConfigError
from parsc_geo.evaluation.metrics import (
    best_capture,
    capture,
    capture_curve,
    cells_for_coverage,
    check_coverages,
    hit_rate,
    pai,
    pei_star,
    rank_cells,
    rri,
    score_selection,
    selection_weights,
)

# Ten cells. Scores rank cell 0 first, then cells 1 and 2 tied, then the rest at 0.
SCORES = np.array([5.0, 4.0, 4.0, 0, 0, 0, 0, 0, 0, 0])
TEST = np.array([3.0, 1.0, 2.0, 0, 0, 0, 4.0, 0, 0, 0])  # 10 inside the grid
TRAIN = np.array([6.0, 3.0, 3.0, 0, 0, 1.0, 0, 0, 0, 0])  # 13 inside the grid
N_TEST = 12  # 2 test incidents fell outside the grid
N_TRAIN = 15  # 2 training incidents fell outside the grid


def test_single_metrics_by_hand() -> None:
    # 6 of 24 incidents in 2 % of the area: hit rate 0.25, PAI 0.25 / 0.02 = 12.5.
    assert hit_rate(6, 24) == 0.25
    assert pai(6, 24, 2.0, 100.0) == pytest.approx(12.5)
    # 6 captured where the best 2-cell selection holds 8: PEI* 0.75.
    assert pei_star(6, 8) == 0.75
    # Levine's RRI: (6 test / 10 train inside) / (24 test / 40 train overall) = 0.6 / 0.6 = 1.
    assert rri(6, 10, 24, 40) == pytest.approx(1.0)
    assert rri(6, 4, 24, 40) == pytest.approx((6 / 4) / (24 / 40))  # 2.5: the cells gained
    assert hit_rate(1, 0) is None and pei_star(1, 0) is None and rri(1, 0, 5, 5) is None


def test_cells_for_coverage_rounds_half_up_and_keeps_one() -> None:
    # 1 % of 1 000 = 10; 5 % of 30 = 1.5 → 2; 1 % of 5 = 0.05 → at least 1; 2.5 % of 100 → 3.
    assert cells_for_coverage(1000, 0.01) == 10
    assert cells_for_coverage(30, 0.05) == 2
    assert cells_for_coverage(5, 0.01) == 1
    assert cells_for_coverage(100, 0.025) == 3
    assert cells_for_coverage(10, 1.0) == 10


def test_selection_weights_share_ties_at_the_cut() -> None:
    # k = 2: cell 0 whole, one place left for the two cells tied at 4 → ½ each.
    w = selection_weights(SCORES, 2)
    assert w.tolist() == [1.0, 0.5, 0.5, 0, 0, 0, 0, 0, 0, 0]
    # k = 4: cells 0–2 whole, one place for the seven tied at 0 → 1/7 each.
    w4 = selection_weights(SCORES, 4)
    assert w4[:3].tolist() == [1.0, 1.0, 1.0]
    assert w4[3:] == pytest.approx(np.full(7, 1 / 7))
    assert w4.sum() == pytest.approx(4)


def test_score_selection_by_hand() -> None:
    (s,) = score_selection(
        SCORES, TEST, TRAIN, n_test=N_TEST, n_train=N_TRAIN, coverages=(0.2,), cell_area_km2=0.01
    )
    # 20 % of 10 cells = 2 cells = 0.02 km².
    assert s.n_cells == 2 and s.area_km2 == pytest.approx(0.02)
    # hits = 3 + (1 + 2) / 2 = 4.5 of 12 test incidents.
    assert s.hits == pytest.approx(4.5)
    assert s.hit_rate == pytest.approx(4.5 / 12)
    # PAI = 0.375 / (2 / 10) = 1.875.
    assert s.pai == pytest.approx(1.875)
    # Best 2 cells hold 4 + 3 = 7 test incidents: PEI* = 4.5 / 7.
    assert s.best == 7
    assert s.pei_star == pytest.approx(4.5 / 7)
    # Training inside = 6 + (3 + 3) / 2 = 9; RRI = (4.5 / 9) / (12 / 15) = 0.625.
    assert s.train_in == pytest.approx(9)
    assert s.rri == pytest.approx(0.625)


def test_pei_star_is_one_for_the_optimal_selection() -> None:
    # Ranking by the test counts themselves is the best possible selection at every size.
    for coverage in (0.1, 0.2, 0.3, 0.5):
        (s,) = score_selection(
            TEST,
            TEST,
            TRAIN,
            n_test=N_TEST,
            n_train=N_TRAIN,
            coverages=(coverage,),
            cell_area_km2=0.01,
        )
        assert s.pei_star == pytest.approx(1.0)
    # 20 % of the cells: the two best hold 4 + 3 = 7.
    assert best_capture(TEST, 2) == 7


def test_capture_matches_weights_for_every_k() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        n = int(rng.integers(1, 40))
        scores = rng.integers(0, 4, n).astype(float)
        counts = rng.integers(0, 6, n).astype(float)
        ks = list(range(n + 1))
        all_at_once = capture(scores, counts, ks)
        for k in ks:
            by_weights = float(selection_weights(scores, k) @ counts)
            assert capture(scores, counts, [k])[0] == pytest.approx(by_weights)
            assert all_at_once[k] == pytest.approx(by_weights)


def test_nan_scores_rank_last() -> None:
    scores = np.array([np.nan, 1.0, 2.0])
    assert rank_cells(scores, np.array([3, 2, 1])).tolist() == [2, 1, 0]
    assert selection_weights(scores, 2).tolist() == [0.0, 1.0, 1.0]


def test_rank_cells_breaks_ties_by_tiebreak_key() -> None:
    # Cells 1 and 2 tie at 4: the larger key (cell 2) first.
    order = rank_cells(SCORES[:3], np.array([0, 5, 9], dtype=np.uint64))
    assert order.tolist() == [0, 2, 1]


def test_capture_curve_by_hand() -> None:
    curve = capture_curve(SCORES, TEST, n_test=N_TEST, coverages=(0.1, 0.2, 0.3))
    # 1 cell: 3; 2 cells: 4.5; 3 cells: 6 → hit rates 3/12, 4.5/12, 6/12.
    assert curve["hit_rate"] == pytest.approx([0.25, 0.375, 0.5])
    # PAI = hit rate / coverage: 2.5, 1.875, 1.667.
    assert curve["pai"] == pytest.approx([2.5, 1.875, 0.5 / 0.3])


def test_check_coverages() -> None:
    assert check_coverages([0.05, 0.01, 0.05]) == (0.01, 0.05)
    assert check_coverages(0.2) == (0.2,)
    for bad in ([0], [1.5], ["x"], []):
        with pytest.raises(ConfigError):
            check_coverages(bad)
