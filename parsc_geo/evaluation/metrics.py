"""Forecast accuracy of a selection of grid cells: hit rate, PAI, PEI*, RRI and their curves.

A *selection* is the ``k`` best-ranked cells of one :class:`~parsc_geo.evaluation.cells.CellGrid`
(cells count whole, so its area is ``k · cell_size²``; see :mod:`parsc_geo.evaluation.cells`).
With ``n`` the test incidents inside the selection and ``N`` all test incidents (those outside
the grid included), ``a`` the selection's area and ``A`` the study area:

hit rate
    ``n / N``: the share of future incidents the selection captures.
PAI, predictive accuracy index (Chainey, Tompson & Uhlig 2008)
    ``(n / N) / (a / A)``: hit rate per share of area; 1 is what a random selection achieves.
PEI*, predictive efficiency index (Hunt 2016, as scored in the NIJ Real-Time Crime
Forecasting Challenge)
    ``n / n*``, with ``n*`` the most test incidents that *any* selection of the same number of
    cells of the same grid could hold: the sum of the ``k`` largest test counts. 1 means no
    selection of that area could have done better.
RRI, recapture rate index (Levine 2008)
    ``(n / m) / (N / M)`` with ``m`` and ``M`` the *training* incidents inside the selection
    and in total: how much of its share of past incidents the selection keeps in the test
    period. Above 1 the selected cells gained weight, below 1 they lost it (regression to the
    mean lowers it for selections made on past counts). Undefined (None) when ``m = 0``.

Coverage ``p`` of a study area of ``n_cells`` cells selects ``k = max(1, ⌊p·n_cells + ½⌋)``
cells (:func:`cells_for_coverage`), the same ``k`` for every method.

Ties at the cut
    A selection takes the cells scoring above the ``k``-th best score whole; the ``r`` places
    left go to the ``t`` cells tied at that score, each counting ``r / t`` (its *weight*,
    :func:`selection_weights`). Hits, training incidents inside and hence every metric are
    expected values under a random choice among tied cells: a method such as counts, whose
    scores tie often, neither gains nor loses by an arbitrary order of equal cells. A map of the
    selection (:func:`rank_cells`) lists one such choice, breaking ties by the grid's fixed
    pseudo-random cell order.

References
----------
Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping for predicting
spatial patterns of crime. *Security Journal* 21(1–2), 4–28.
Hunt, J. M. (2016). Do crime hot spots move? Exploring the effects of the modifiable areal unit
problem and modifiable temporal unit problem on crime hot spot stability. PhD thesis, American
University; the PEI* of the NIJ Real-Time Crime Forecasting Challenge (2017).
Levine, N. (2008). The "hottest" part of a hotspot: comments on "The utility of hotspot mapping
for predicting spatial patterns of crime". *Security Journal* 21(4), 295–302.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import ConfigError

#: Fewest cells whose largest values are looked for above a sampled cut (smaller: partitioned).
_SAMPLED_MIN_CELLS = 32_768
#: Values sampled (evenly spaced) to guess the cut.
_SAMPLE_SIZE = 4_096
#: The guessed cut keeps this many times the sample's share of the ``k`` largest, plus
#: :data:`_SAMPLE_SLACK` values: a few standard deviations of the sampling error.
_SAMPLE_MARGIN = 1.25
_SAMPLE_SLACK = 8
#: Coverages of the hit-rate and PAI curves: 0.5 % to 20 % of the study area in 0.5 % steps.
CURVE_COVERAGES: tuple[float, ...] = tuple(round(0.005 * i, 4) for i in range(1, 41))


def exact_dot(a: np.ndarray, b: np.ndarray) -> float:
    """Return ``sum(a * b)`` summed the same way in every process.

    A BLAS dot product splits long sums over threads, so a pool worker (one thread) and the
    main process could differ in the last digit; numpy's pairwise sum does not depend on them.
    """
    return float(np.sum(np.asarray(a, dtype=float) * np.asarray(b, dtype=float)))


def check_coverages(coverages: Any) -> tuple[float, ...]:
    """Return coverages (fractions in (0, 1]) as a sorted tuple without repeats.

    Raises
    ------
    ConfigError
        When a coverage is not a number in (0, 1].
    """
    values = [coverages] if isinstance(coverages, int | float) else list(coverages)
    if not values:
        raise ConfigError("indique al menos una cobertura (p. ej. 0.01 para el 1 %)")
    out = []
    for value in values:
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"cobertura no numérica: {value!r}") from None
        if not 0 < v <= 1:
            raise ConfigError(
                f"la cobertura debe ser una fracción del área entre 0 y 1; se recibió {value!r}",
                hint="0.01 es el 1 % del área de estudio",
            )
        out.append(v)
    return tuple(sorted(set(out)))


def coverage_key(coverage: float) -> str:
    """Return a coverage as the percentage text used in keys and file names (``1``, ``0.5``).

    Examples
    --------
    >>> coverage_key(0.01), coverage_key(0.005), coverage_key(0.125)
    ('1', '0.5', '12.5')
    """
    return f"{round(coverage * 100, 6):g}"


def cells_for_coverage(n_cells: int, coverage: float) -> int:
    """Return the number of cells of a selection covering ``coverage`` of ``n_cells`` cells.

    Examples
    --------
    >>> cells_for_coverage(1000, 0.01), cells_for_coverage(30, 0.05), cells_for_coverage(5, 0.01)
    (10, 2, 1)
    """
    return int(min(n_cells, max(1, int(np.floor(coverage * n_cells + 0.5)))))


def rank_cells(scores: np.ndarray, tiebreak: np.ndarray) -> np.ndarray:
    """Return cell indices from best to worst: higher score first, ties by higher ``tiebreak``.

    NaN scores rank last.
    """
    s = np.asarray(scores, dtype=float)
    s = np.where(np.isnan(s), -np.inf, s)
    tie_rank = np.argsort(np.argsort(np.asarray(tiebreak), kind="stable"), kind="stable")
    return np.lexsort((-tie_rank, -s))


def hit_rate(hits: float, n_test: float) -> float | None:
    """Return ``hits / n_test`` (None without test incidents)."""
    return float(hits) / float(n_test) if n_test > 0 else None


def pai(hits: float, n_test: float, selected_area: float, study_area: float) -> float | None:
    """Return the predictive accuracy index ``(hits / n_test) / (selected_area / study_area)``."""
    if n_test <= 0 or selected_area <= 0 or study_area <= 0:
        return None
    return (float(hits) / float(n_test)) / (float(selected_area) / float(study_area))


def pei_star(hits: float, best: float) -> float | None:
    """Return ``hits / best`` with ``best`` the most any same-size selection holds (None if 0)."""
    return float(hits) / float(best) if best > 0 else None


def rri(test_in: float, train_in: float, n_test: float, n_train: float) -> float | None:
    """Return Levine's recapture rate index ``(test_in / train_in) / (n_test / n_train)``."""
    if train_in <= 0 or n_test <= 0 or n_train <= 0:
        return None
    return (float(test_in) / float(train_in)) / (float(n_test) / float(n_train))


def best_capture(test_counts: np.ndarray, k: int) -> float:
    """Return ``n*``: the sum of the ``k`` largest cell counts."""
    counts = np.asarray(test_counts, dtype=float)
    if k <= 0 or counts.size == 0:
        return 0.0
    k = min(k, counts.size)
    positive = counts[counts > 0]
    if (
        positive.size < counts.size
        and bool(counts.min() >= 0)
        and bool(np.all(positive == np.floor(positive)))
        and float(positive.sum()) < 2.0**53
    ):
        # Counts of incidents are mostly zeros: the k largest are among the positive ones, and
        # sums of whole numbers are exact in any order.
        if positive.size <= k:
            return float(positive.sum())
        # whole numbers sum exactly in any order
        return float(largest_values(positive, k).sum())
    return float(np.partition(counts, counts.size - k)[counts.size - k :].sum())


def clean_scores(scores: np.ndarray) -> np.ndarray:
    """Return scores as floats with NaN as −∞ (ranked last)."""
    s = np.asarray(scores, dtype=float)
    if not s.size or not np.isnan(s.min()):
        return s  # most rankings have no NaN (the minimum is NaN when one is): no copy
    return np.where(np.isnan(s), -np.inf, s)


def cut_values(scores: np.ndarray, ks: Any) -> np.ndarray:
    """Return the ``k``-th largest score for each ``k`` in ``ks`` (NaN scores count as −∞).

    One partition at the ranks asked, over the values that can hold them only (see
    :func:`_ranked`): backtests ask for the cuts of thousands of rankings.

    Examples
    --------
    >>> cut_values(np.array([5.0, 3.0, 3.0, 1.0]), [1, 2, 4]).tolist()
    [5.0, 3.0, 1.0]
    """
    s = clean_scores(scores)
    ks_arr = np.asarray(ks, dtype=np.int64)
    n = s.size
    if n == 0 or ks_arr.size == 0:
        return np.full(ks_arr.shape, -np.inf)
    ranks = np.clip(ks_arr, 1, n)
    wanted = np.unique(ranks)
    values, _ = _ranked(s, wanted)
    return np.asarray(values[np.searchsorted(wanted, ranks)], dtype=float)


@dataclass(frozen=True)
class _Pool:
    """Cells that hold every cell scoring at or above some cuts (found while ranking).

    ``cells`` (increasing) are all the cells scoring ``≥ floor`` (``> floor`` when
    ``strict``). A strict pool may know the tie at its floor: ``from_floor`` cells score
    ``≥ floor`` (so ``from_floor − cells.size`` tie at it); 0 when not counted.
    """

    cells: np.ndarray
    floor: float
    strict: bool
    from_floor: int = 0

    def holds(self, cut: float) -> bool:
        """Return whether every cell scoring ``≥ cut`` is among :attr:`cells`."""
        return cut > self.floor or (not self.strict and cut == self.floor)

    def knows_tie(self, cut: float) -> bool:
        """Return whether the cells scoring ``≥ cut`` are counted: a cut at the floor's tie."""
        return self.strict and self.from_floor > 0 and cut == self.floor


def _ranked(s: np.ndarray, ranks: np.ndarray) -> tuple[np.ndarray, _Pool | None]:
    """Return the ``r``-th largest value of ``s`` for each of the sorted ``ranks`` (1 ≤ r ≤ size).

    The values are those of one partition of the whole at every rank; the work is not. Dense
    grids (KDE scores) look above a cut guessed from a sample; scores of sparse incidents are
    mostly zeros, and the partition runs over the positive values only, zeros filling the rest.
    The cells looked at come with the values (a :class:`_Pool`, None: the whole grid), so
    that the selections at those ranks need not look at the others (:func:`selections`).
    """
    n = s.size
    k = int(ranks[-1])
    if n >= _SAMPLED_MIN_CELLS and k * 4 <= n:
        found = _sampled(s, ranks)
        if found is not None:
            return found
    positive = s > 0
    n_pos = int(np.count_nonzero(positive))
    if n_pos >= k and n_pos < n:
        cells = np.flatnonzero(positive)
        return _kth_largest(s[cells], ranks), _Pool(cells, 0.0, strict=True)
    if n_pos < k and int(np.count_nonzero(s == 0)) == n - n_pos:
        # the ranks beyond the positive scores fall in the tie at 0 (every cell is ≥ 0)
        return _above_a_tie(s, ranks, np.flatnonzero(positive), 0.0, n)
    return _kth_largest(s, ranks), None


def _above_a_tie(
    s: np.ndarray, ranks: np.ndarray, cells: np.ndarray, tie: float, from_tie: int
) -> tuple[np.ndarray, _Pool]:
    """Return the values at ``ranks`` (≤ ``from_tie``) when ``cells`` score above a tie.

    ``cells`` are all the cells scoring above ``tie`` and ``from_tie`` those scoring ``≥ tie``:
    the ranks beyond the cells take the tie's value.
    """
    inside = ranks[ranks <= cells.size]
    head = _kth_largest(s[cells], inside) if inside.size else np.zeros(0)
    values = np.concatenate([head, np.full(ranks.size - inside.size, tie)])
    return values, _Pool(cells, tie, strict=True, from_floor=from_tie)


def _sampled(s: np.ndarray, ranks: np.ndarray) -> tuple[np.ndarray, _Pool] | None:
    """Return the values at ``ranks`` found above a sampled cut (None: the guess failed).

    The cells ``≥`` the cut (:func:`_sampled_cut`) when they are at most half the
    grid; else, when the cut is the value of a tie that spreads over most of the grid (a
    Gi* score of every cell without incidents around), the cells above it, the ranks
    beyond them falling in the tie.
    """
    n = s.size
    k = int(ranks[-1])
    guess = _sampled_cut(s, k)
    above = s >= guess
    count = int(np.count_nonzero(above))
    if count < k:
        return None
    if count * 2 <= n:
        cells = np.flatnonzero(above)
        return _kth_largest(s[cells], ranks), _Pool(cells, guess, strict=False)
    higher = s > guess
    if int(np.count_nonzero(higher)) * 2 > n:
        return None
    return _above_a_tie(s, ranks, np.flatnonzero(higher), guess, count)


def _kth_largest(values: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Return the ``r``-th largest of ``values`` for each of the sorted ``ranks`` (≤ size)."""
    m = values.size
    return order_statistics(values, m - ranks)


def order_statistics(values: np.ndarray, at: Any) -> np.ndarray:
    """Return ``np.partition(values, at)[at]``: the values of rank ``at`` in increasing order.

    Always by the partition at several positions: numpy's partition at a single position
    (x86-simd-sort's vectorised quickselect on AVX2/AVX-512 machines) can take a hundred times
    longer on values with many ties (mostly zeros: a sparse grid's scores) than the
    introselect of several positions, whose values are the same. A lone position is asked
    with its neighbour.

    Examples
    --------
    >>> order_statistics(np.array([0.0, 3.0, 0.0, 1.0, 0.0]), [4]).tolist()
    [3.0]
    """
    at_arr = np.asarray(at, dtype=np.intp).ravel()
    return np.asarray(_partitioned(values, at_arr)[at_arr])


def _partitioned(values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Return ``values`` partitioned at the positions ``at``, a lone position with a neighbour.

    The values at ``at``, and those on either side of each, are those of ``np.partition``
    at ``at`` (see :func:`order_statistics` for why never at a single position).
    """
    m = values.size
    kth = at
    if m > 1 and at.size and int(at.min()) == int(at.max()):
        first = int(at[0])
        kth = np.array([first, first + 1] if first + 1 < m else [first - 1, first], dtype=np.intp)
    return np.partition(values, kth)


def largest_values(values: np.ndarray, k: int) -> np.ndarray:
    """Return the ``k`` largest of ``values`` (1 ≤ k ≤ size), in no particular order.

    Those of ``np.partition(values, size − k)[size − k:]``, partitioned at two positions (see
    :func:`order_statistics`: at one, mostly-zero counts take up to a hundred times longer).

    Examples
    --------
    >>> sorted(largest_values(np.array([0.0, 3.0, 0.0, 1.0, 2.0]), 2).tolist())
    [2.0, 3.0]
    """
    start = values.size - k
    return np.asarray(_partitioned(values, np.array([start], dtype=np.intp))[start:])


def _sampled_cut(s: np.ndarray, k: int) -> float:
    """Return a cut guessed by a sample of ``s``, most often a little below its ``k``-th largest.

    A partition of a whole grid's scores (hundreds of thousands of dense KDE values) costs
    several passes over them; a comparison costs one. Every ``step``-th value is sampled and
    the sample's value at a rank a little beyond the ``k`` largest's share becomes a cut ``t``:
    when at least ``k`` values are ``≥ t``, the ``k``-th largest is too, so the ``r``-th
    largest of those values is the ``r``-th largest of all for every ``r ≤ k`` (the same
    value, exactly). :func:`_sampled` checks the guess.
    """
    n = s.size
    step = max(1, n // _SAMPLE_SIZE)
    sample = s[::step]
    m = sample.size
    # rank in the sample of the k-th largest's share, with a margin for the sampling error
    want = min(m, math.ceil(m * k / n * _SAMPLE_MARGIN) + _SAMPLE_SLACK)
    return float(order_statistics(sample, [m - want])[0])


@dataclass(frozen=True)
class Selection:
    """The ``k`` best cells of one ranking: those above the cut whole, those tied at it shared.

    The cells scoring above :attr:`cut` count whole and the :attr:`n_tied` cells scoring the
    cut share the places left, each weighing :attr:`tie_weight` (see the module notes). The
    cells scoring ``≥ cut`` are listed (:attr:`cells`) when they are few; a tie spread over
    a province's empty cells selects most of its grid, and then the cells left out are
    listed instead (:attr:`left_out`).

    Attributes
    ----------
    scores
        Cleaned scores of every cell (:func:`clean_scores`).
    k
        Cells asked for.
    cut
        The ``k``-th largest score.
    n_above, n_tied
        Cells scoring above the cut, and at it.
    cells
        The cells scoring ``≥ cut`` (increasing), or None when :attr:`left_out` lists the
        others.
    left_out
        The cells scoring below the cut (increasing) when :attr:`cells` is None.
    """

    scores: np.ndarray
    k: int
    cut: float
    n_above: int
    n_tied: int
    cells: np.ndarray | None
    left_out: np.ndarray | None = None

    @property
    def tie_weight(self) -> float:
        """Return the weight of each cell tied at the cut: ``(k − n_above) / n_tied``."""
        return (self.k - self.n_above) / self.n_tied if self.n_tied else 0.0

    def weights_at(self, cells: np.ndarray) -> np.ndarray:
        """Return the selection weights of ``cells``: 1, :attr:`tie_weight` or 0."""
        s = self.scores[cells]
        return np.where(s > self.cut, 1.0, np.where(s == self.cut, self.tie_weight, 0.0))

    def cells_and_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the cells scoring ``≥ cut`` (increasing) and their selection weights."""
        if self.cells is not None:
            return self.cells, self._weights(self.scores[self.cells])
        keep = np.ones(self.scores.size, dtype=bool)
        keep[self.left_out] = False
        cells = np.flatnonzero(keep)
        return cells, self._weights(self.scores[cells])

    def _weights(self, values: np.ndarray) -> np.ndarray:
        return np.where(values > self.cut, 1.0, self.tie_weight)

    def captured(self, counts: np.ndarray, counted: np.ndarray | None = None) -> float:
        """Return the incidents (``counts`` per cell) inside the selection.

        The very number ``exact_dot(w, counts[cells])`` of the selected cells and weights
        (:meth:`cells_and_weights`): when the selected cells are many, the products of the
        few cells with counts are placed at their positions among the selected cells (the
        others are zeros), and the same sum is made over them. ``counted`` lists the cells
        whose counts are not zero (increasing), when known.
        """
        c = np.asarray(counts, dtype=float)
        if self.cells is not None:
            return exact_dot(self._weights(self.scores[self.cells]), c[self.cells])
        at = np.flatnonzero(c != 0.0) if counted is None else np.asarray(counted, dtype=np.int64)
        at = at[self.scores[at] >= self.cut]
        left_out = self.left_out if self.left_out is not None else np.zeros(0, dtype=np.int64)
        size = self.scores.size - left_out.size
        products = np.zeros(size)
        products[at - np.searchsorted(left_out, at)] = self._weights(self.scores[at]) * c[at]
        return float(np.sum(products))


#: Selections of more than this share of the grid list the cells left out instead.
_LISTED_SHARE = 0.5


def selections(scores: np.ndarray, ks: Any) -> list[Selection]:
    """Return the selection of the ``k`` best cells for each ``k`` in ``ks`` (NaN: −∞).

    The cuts are those of :func:`cut_values`. The cells looked at to rank the scores are the
    only ones looked at again when the selections lie among them (a sampled or positive cut,
    see :func:`_ranked`); a cut of 0 below positive scores and zeros selects every cell.

    Examples
    --------
    >>> [(x.cut, x.n_above, x.n_tied) for x in selections(np.array([5.0, 3.0, 3.0, 1.0]), [2])]
    [(3.0, 1, 2)]
    """
    s = clean_scores(scores)
    ks_list = [int(k) for k in np.asarray(ks, dtype=np.int64).ravel()]
    n = s.size
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return [Selection(s, k, -math.inf, 0, 0, empty) for k in ks_list]
    ranks = np.clip(np.asarray(ks_list, dtype=np.int64), 1, n)
    wanted = np.unique(ranks)
    values, pool = _ranked(s, wanted)
    cuts = values[np.searchsorted(wanted, ranks)]
    pooled = None if pool is None else s[pool.cells]
    out = []
    for k, cut in zip(ks_list, cuts.tolist(), strict=True):
        if pool is not None and pooled is not None and pool.holds(cut):
            at = pooled >= cut
            cells = pool.cells[at]
            n_above = int(np.count_nonzero(pooled[at] > cut))
            out.append(Selection(s, k, cut, n_above, cells.size - n_above, cells))
            continue
        if pool is not None and pool.knows_tie(cut):
            # a tie over most of the grid (the cells without incidents): the cells above it
            # and at it are counted, those below are listed
            n_above = pool.cells.size
            n_tied = pool.from_floor - n_above
            left_out = (
                np.zeros(0, dtype=np.int64) if pool.from_floor == n else np.flatnonzero(s < cut)
            )
            out.append(Selection(s, k, cut, n_above, n_tied, None, left_out))
            continue
        below = s < cut
        n_below = int(np.count_nonzero(below))
        n_above = int(np.count_nonzero(s > cut))
        n_tied = n - n_below - n_above
        if n - n_below <= _LISTED_SHARE * n:
            out.append(Selection(s, k, cut, n_above, n_tied, np.flatnonzero(~below)))
        else:
            out.append(Selection(s, k, cut, n_above, n_tied, None, np.flatnonzero(below)))
    return out


def selection_weights(scores: np.ndarray, k: int) -> np.ndarray:
    """Return each cell's share in the selection of the ``k`` best: 1, ``r / t`` if tied, or 0.

    Examples
    --------
    >>> selection_weights(np.array([5.0, 3.0, 3.0, 3.0, 1.0]), 2).tolist()
    [1.0, 0.3333333333333333, 0.3333333333333333, 0.3333333333333333, 0.0]
    """
    s = clean_scores(scores)
    n = s.size
    w = np.zeros(n)
    if k <= 0 or n == 0:
        return w
    if k >= n:
        return np.ones(n)
    idx, values = selections(s, [k])[0].cells_and_weights()
    w[idx] = values
    return w


def capture(scores: np.ndarray, counts: np.ndarray, ks: Any) -> np.ndarray:
    """Return the incidents (``counts`` per cell) inside the selection of each ``k`` in ``ks``.

    Ties at the cut are shared (see the module notes); equal to
    ``selection_weights(scores, k) @ counts`` for every ``k``.
    """
    s = clean_scores(scores)
    c = np.asarray(counts, dtype=float)
    n = s.size
    ks_arr = np.minimum(np.maximum(np.asarray(ks, dtype=np.int64), 0), n)
    if n == 0:
        return np.zeros(ks_arr.shape)
    if ks_arr.size <= 4:
        # A few cuts: one partition for all, no full sort (backtests call this thousands of
        # times).
        out = np.zeros(ks_arr.shape, dtype=float)
        for i, chosen in enumerate(selections(s, ks_arr)):
            if chosen.k > 0:
                out[i] = chosen.captured(c)
        return out
    order = np.argsort(-s, kind="stable")
    ss, cc = s[order], c[order]
    starts = np.flatnonzero(np.concatenate([[True], ss[1:] != ss[:-1]]))
    sizes = np.diff(np.concatenate([starts, [n]]))
    group_sum = np.add.reduceat(cc, starts)
    before = np.concatenate([[0.0], np.cumsum(group_sum)[:-1]])
    out = np.zeros(ks_arr.shape, dtype=float)
    positive = ks_arr > 0
    g = np.searchsorted(starts, ks_arr[positive] - 1, side="right") - 1
    taken = ks_arr[positive] - starts[g]
    out[positive] = before[g] + group_sum[g] * taken / sizes[g]
    return out


def expected_capture(scores: np.ndarray, test_counts: np.ndarray, k: int) -> float:
    """Return the test incidents in the ``k`` best cells, ties at the cut shared evenly."""
    return float(capture(scores, test_counts, [k])[0])


@dataclass(frozen=True)
class SelectionScore:
    """Accuracy of the ``n_cells`` best cells of one ranking at one coverage."""

    coverage: float
    n_cells: int
    area_km2: float
    hits: float
    best: float
    train_in: float
    hit_rate: float | None
    pai: float | None
    pei_star: float | None
    rri: float | None

    def as_dict(self) -> dict[str, Any]:
        """Return the score as a JSON-ready dictionary."""
        return {
            "coverage": self.coverage,
            "n_cells": self.n_cells,
            "area_km2": self.area_km2,
            "hits": self.hits,
            "best_hits": self.best,
            "train_in": self.train_in,
            "hit_rate": self.hit_rate,
            "pai": self.pai,
            "pei_star": self.pei_star,
            "rri": self.rri,
        }


def score_selection(
    scores: np.ndarray,
    test_counts: np.ndarray,
    train_counts: np.ndarray,
    *,
    n_test: float,
    n_train: float,
    coverages: tuple[float, ...],
    cell_area_km2: float,
) -> list[SelectionScore]:
    """Score the selections of a method's cell scores at each coverage.

    Parameters
    ----------
    scores
        The method's score per cell (higher is selected first).
    test_counts, train_counts
        Test and training incidents per cell.
    n_test, n_train
        All test and training incidents, those outside the grid included.
    coverages
        Fractions of the study area.
    cell_area_km2
        Area of one cell.

    Returns
    -------
    list of SelectionScore
        One per coverage, in the order given.
    """
    test = np.asarray(test_counts, dtype=float)
    n_cells = test.size
    ks = [cells_for_coverage(n_cells, p) for p in coverages]
    hits = capture(scores, test, ks)
    train_in = capture(scores, train_counts, ks)
    sorted_test = np.concatenate([[0.0], np.cumsum(np.sort(test)[::-1])])
    out = []
    for p, k, h, m in zip(coverages, ks, hits, train_in, strict=True):
        best = float(sorted_test[k])
        out.append(
            SelectionScore(
                coverage=float(p),
                n_cells=k,
                area_km2=k * cell_area_km2,
                hits=float(h),
                best=best,
                train_in=float(m),
                hit_rate=hit_rate(h, n_test),
                pai=pai(h, n_test, k, n_cells),
                pei_star=pei_star(h, best),
                rri=rri(h, m, n_test, n_train),
            )
        )
    return out


def capture_curve(
    scores: np.ndarray,
    test_counts: np.ndarray,
    *,
    n_test: float,
    coverages: tuple[float, ...] = CURVE_COVERAGES,
) -> dict[str, list[float | None]]:
    """Return the hit-rate and PAI curves of a method's cell scores over ``coverages``.

    Returns
    -------
    dict
        ``coverage``, ``hit_rate`` and ``pai`` lists of the same length.
    """
    test = np.asarray(test_counts, dtype=float)
    n_cells = test.size
    ks = [cells_for_coverage(n_cells, p) for p in coverages]
    hits = capture(scores, test, ks)
    return {
        "coverage": [float(p) for p in coverages],
        "hit_rate": [hit_rate(h, n_test) for h in hits],
        "pai": [pai(h, n_test, k, n_cells) for h, k in zip(hits, ks, strict=True)],
    }
