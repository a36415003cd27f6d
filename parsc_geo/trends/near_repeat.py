"""Near-repeat analysis: the Knox test over bands of distance and days.

The table is the one Ratcliffe's Near Repeat Calculator reports.

For every pair of incidents, its distance d (metres) and the days apart Δ (whole calendar
days) place it in one space band ``d_min ≤ d < d_max`` and one time band
``t_min ≤ Δ < t_max``. For each cell of the band table:

- ``observed``: pairs in the space band and the time band;
- ``expected``: ``NS · NT / N``, where NS is the number of pairs in the space band, NT in
  the time band and N = n(n − 1)/2 all pairs. It is the exact mean of the permutation
  distribution below (a random permutation of the dates sends a given pair to a uniformly
  random pair of dates), so it does not wobble with the seed; the Near Repeat Calculator
  estimates the same mean from its simulations;
- ``ratio`` = observed / expected (the Knox ratio);
- ``p_value`` = (1 + #{permutations with a count ≥ observed}) / (permutations + 1): the dates
  are shuffled among the incidents (locations fixed), as in the Calculator and in pointpats'
  ``Knox`` (one-sided: an excess of close pairs).

Only the pairs closer than the largest finite distance edge are ever listed (k-d trees, a
block of points at a time); counts over all pairs (NT, and a final ``inf`` space band) come
from sorted dates (two binary searches per incident) and from the invariance of the multiset
of pair time differences under permutation, so no n × n matrix is built. Memory is about 10
bytes per listed pair (two int32 positions and a 16-bit space index), plus a block's worth.

References: Knox (1964); Ratcliffe (2009), Near Repeat Calculator v1.3 manual; Johnson et
al. (2007) for the Monte-Carlo version; Rey & al. pointpats ``spacetime.Knox``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import ConfigError, InsufficientDataError
from .._messages import announce
from ..localtime import incidents_zone
from ..settings import SEED

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import geopandas as gpd
    import pandas as pd

    from ..hotspots._common import Located
    from ..partitions import Partition

#: Default space bands (metres) and time bands (days).
DEFAULT_SPACE_BANDS: tuple[float, ...] = (0, 100, 200, 300, 400, 500)
DEFAULT_TIME_BANDS: tuple[float, ...] = (0, 7, 14, 21, 28)
#: Default number of permutations (as pointpats).
DEFAULT_PERMUTATIONS = 99
#: Fewest incidents for a Knox test.
MIN_INCIDENTS = 20
#: Pairs processed at once in the permutations (bounds the temporary arrays). Every array of
#: a chunk (bincount's 8-byte copy of its cells included: 4 MB) stays under glibc's mmap
#: threshold (parsc_geo._memory.MMAP_THRESHOLD), so the heap reuses them instead of fresh
#: pages for every chunk of every permutation: Knox on 211,000 incidents took 26.7 s in
#: chunks of 4 million pairs, 15.2 s in these.
_CHUNK = 500_000
#: Widest span of whole days counted through a look-up table of day gaps.
_MAX_DAY_SPAN = 1_000_000
#: Most pairs of incidents within the largest distance the test lists (10 bytes each).
MAX_PAIRS = 30_000_000
#: Candidate pairs found at once while listing the close pairs (bounds that step's memory).
_BLOCK_PAIRS = 2_000_000
COLUMNS: tuple[str, ...] = (
    "d_min_m",
    "d_max_m",
    "t_min_days",
    "t_max_days",
    "observed",
    "expected",
    "ratio",
    "p_value",
)


def parse_bands(text: str | Any, name: str) -> np.ndarray:
    """Read band edges such as ``"0,100,200"`` (``inf`` allowed last) into an array.

    Raises
    ------
    ConfigError
        Fewer than two edges, a non-number, a negative edge or edges not increasing.
    """
    if isinstance(text, str):
        parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
        try:
            edges = np.array(
                [np.inf if p.lower() in ("inf", "∞") else float(p) for p in parts], dtype=float
            )
        except ValueError:
            raise ConfigError(
                f"{name}: se esperaban números separados por comas; se recibió {text!r}",
                hint="p. ej. 0,100,200,300 (y opcionalmente inf al final)",
            ) from None
    else:
        edges = np.asarray(text, dtype=float).ravel()
    if edges.size < 2:
        raise ConfigError(f"{name}: se necesitan al menos dos límites; se recibió {text!r}")
    if np.any(np.isnan(edges)) or edges[0] < 0 or np.any(np.diff(edges) <= 0):
        raise ConfigError(
            f"{name}: los límites deben ser ≥ 0 y crecientes; se recibió {text!r}",
            hint="p. ej. 0,100,200,300",
        )
    if np.any(np.isinf(edges[:-1])):
        raise ConfigError(f"{name}: solo el último límite puede ser inf; se recibió {text!r}")
    return edges


def _pairs_closer_than(
    tree: Any, x: np.ndarray, y: np.ndarray, finite: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """List every pair closer than the last finite edge, with its space index.

    A pair (i, j), i < j, is listed when ``d = np.hypot(x[i] - x[j], y[i] - y[j]) < r``,
    ``r = finite[-1]``; its space index is ``np.searchsorted(finite, d, side="right")``.

    The pairs are found a block of points at a time (points sorted by x; each block about
    :data:`_BLOCK_PAIRS` candidate pairs): the pairs inside the block, then those between the
    block and the later points within ``r`` of it in x, each pair once. The candidates are
    the k-d trees' pairs within a hair more than ``r`` (their own rounding of distances may
    differ from ``np.hypot``'s in the last bit); the ``d < r`` test above decides. No list of
    every candidate pair exists at once: what stays is 10 bytes per listed pair (two int32
    positions, a 16-bit space index), written once into arrays sized by a count of the pairs.

    Returns
    -------
    (i, j, s_index, ns)
        int32 positions (in no particular order: every count is a sum over the pairs), the
        space index (int16, or int32 for 32,767 edges or more) and the pairs listed in each
        space index (int64, ``len(finite)`` of them).
    """
    from scipy.spatial import cKDTree

    n_rows = len(finite)
    small = np.int16 if n_rows < np.iinfo(np.int16).max else np.int32
    ns = np.zeros(n_rows, dtype=np.int64)
    r = float(finite[-1])
    n = len(x)
    if r <= 0 or n < 2:
        empty = np.zeros(0, dtype=np.int32)
        return empty, empty, np.zeros(0, dtype=small), ns
    reach = r * (1.0 + 1e-9)
    points = np.column_stack([x, y])
    # each point's neighbours (itself included) bound the pairs a block finds, and their sum
    # counts the candidate pairs (each twice)
    neighbours = tree.query_ball_point(points, reach, return_length=True)
    capacity = (int(neighbours.sum()) - n) // 2
    first = np.empty(capacity, dtype=np.int32)
    second = np.empty(capacity, dtype=np.int32)
    space = np.empty(capacity, dtype=small)
    by_x = np.argsort(x, kind="stable")
    xs = x[by_x]
    load = np.cumsum(neighbours[by_x] - 1)
    del neighbours
    filled = 0
    start = 0
    while start < n:
        before = int(load[start - 1]) if start else 0
        stop = int(np.searchsorted(load, before + _BLOCK_PAIRS, side="right"))
        stop = min(n, max(stop, start + 1))
        block = by_x[start:stop]
        block_tree = cKDTree(points[block])
        inner = block_tree.query_pairs(reach, output_type="ndarray")
        a = [block[inner[:, 0]]]
        b = [block[inner[:, 1]]]
        del inner
        reach_stop = int(np.searchsorted(xs, xs[stop - 1] + reach, side="right"))
        if reach_stop > stop:
            later = by_x[stop:reach_stop]
            cross = block_tree.sparse_distance_matrix(
                cKDTree(points[later]), reach, output_type="ndarray"
            )
            a.append(block[cross["i"]])
            b.append(later[cross["j"]])
            del cross
        lo = np.concatenate(a)
        hi = np.concatenate(b)
        del a, b
        low = np.minimum(lo, hi)
        high = np.maximum(lo, hi)
        del lo, hi
        d = np.hypot(x[low] - x[high], y[low] - y[high])
        close = d < r
        index = np.searchsorted(finite, d[close], side="right")
        found = len(index)
        if filled + found > len(first):
            # a k-d tree's rounding at the edge can add a pair to the count's; grow
            extra = filled + found - len(first) + _BLOCK_PAIRS
            first = np.concatenate([first, np.empty(extra, dtype=np.int32)])
            second = np.concatenate([second, np.empty(extra, dtype=np.int32)])
            space = np.concatenate([space, np.empty(extra, dtype=small)])
        first[filled : filled + found] = low[close]
        second[filled : filled + found] = high[close]
        space[filled : filled + found] = index
        ns += np.bincount(index, minlength=n_rows).astype(np.int64)
        filled += found
        start = stop
    return first[:filled], second[:filled], space[:filled], ns


def _pairs_within_days(sorted_days: np.ndarray, limit: float) -> int:
    """Return the number of unordered pairs whose days apart are < ``limit``."""
    n = len(sorted_days)
    if not np.isfinite(limit):
        return n * (n - 1) // 2
    if limit <= 0:
        return 0
    upper = np.searchsorted(sorted_days, sorted_days + limit, side="left")
    return int((upper - np.arange(n) - 1).sum())


def _band_of(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Return the band of each value (``edges[b] ≤ v < edges[b+1]``), or -1 outside."""
    band = np.searchsorted(edges, values, side="right") - 1
    band[(band < 0) | (band >= len(edges) - 1) | (values >= edges[-1])] = -1
    return band


class TooManyPairsError(InsufficientDataError):
    """More pairs of incidents within the largest distance than the Knox test can list.

    :func:`knox_bands` no longer raises it (it tests a random sample instead, see
    :func:`budget_sample`); kept for callers that catch it.
    """


def _close_pairs(tree: Any, n: int, radius: float, max_pairs: int) -> int | None:
    """Return the unordered pairs closer than ``radius``, or None when all pairs fit anyway."""
    if n * (n - 1) // 2 <= max_pairs:
        return None
    # A dual-tree count: whole node pairs are counted without listing their points.
    return (int(tree.count_neighbors(tree, radius)) - n) // 2


def budget_sample(
    x: np.ndarray, y: np.ndarray, radius: float, close: int, max_pairs: int, seed: int
) -> tuple[np.ndarray, int]:
    """Return a random sample of incidents with at most ``max_pairs`` pairs closer than ``radius``.

    The test lists every pair closer than the largest distance and counts them again for every
    permutation; those pairs grow with the square of the incidents of one area (629 million
    within 500 m for 211,000 incidents in one city), far beyond the memory. A simple random
    sample keeps a fraction f of the incidents, hence about f² of every pair count, and the Knox
    ratios (observed over expected pairs) keep their expectation: the test of a sample is a
    test of the same space-time interaction with fewer pairs. The size starts at
    ``n · sqrt(max_pairs / close)`` and shrinks until the sample's own count of close pairs is
    within the budget.

    Parameters
    ----------
    x, y
        Metric coordinates of every incident.
    radius
        The largest finite distance edge (metres).
    close
        Pairs of all incidents closer than ``radius``.
    max_pairs
        The budget of listed pairs.
    seed
        Seed of ``numpy.random.RandomState(seed).choice(n, m, replace=False)``.

    Returns
    -------
    (numpy.ndarray, int)
        Sorted positions of the sampled incidents, and their pairs closer than ``radius``.
    """
    from scipy.spatial import cKDTree

    n = len(x)
    m = min(n, max(2, int(n * np.sqrt(max_pairs / close))))
    while True:
        keep = np.sort(np.random.RandomState(seed).choice(n, m, replace=False))
        sub = cKDTree(np.column_stack([x[keep], y[keep]]))
        within = (int(sub.count_neighbors(sub, radius)) - m) // 2
        if within <= max_pairs or m <= 2:
            return keep, within
        m = max(2, min(m - 1, int(m * np.sqrt(max_pairs / within) * 0.99)))


def _band_table(
    i: np.ndarray, j: np.ndarray, s_index: np.ndarray, t_edges: np.ndarray, n_rows: int
) -> Callable[[np.ndarray], np.ndarray]:
    """Return the counter of listed pairs by (space index, time band) for any times."""
    n_t = len(t_edges) - 1

    def table(times: np.ndarray) -> np.ndarray:
        counts = np.zeros(n_rows * n_t, dtype=np.int64)
        for start in range(0, len(i), _CHUNK):
            sl = slice(start, start + _CHUNK)
            band = _band_of(np.abs(times[i[sl]] - times[j[sl]]), t_edges)
            ok = band >= 0
            counts += np.bincount(s_index[sl][ok] * n_t + band[ok], minlength=n_rows * n_t).astype(
                np.int64
            )
        return counts.reshape(n_rows, n_t)

    return table


def _day_table(
    t: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    s_index: np.ndarray,
    t_edges: np.ndarray,
    n_rows: int,
) -> Callable[[np.ndarray], np.ndarray] | None:
    """Return :func:`_band_table`'s counter for whole-day times, or None for other times.

    Days apart are then small whole numbers: their time band is looked up in a table built
    once (the same ``_band_of`` of each possible gap), and each pair's (space, time) cell is
    one small integer, so a permutation costs two gathers, a look-up and one ``bincount``
    instead of a binary search per pair.
    """
    if len(t) == 0 or not np.array_equal(t, np.round(t)):
        return None
    low, high = float(t.min()), float(t.max())
    span = high - low
    if span > _MAX_DAY_SPAN:
        return None
    n_t = len(t_edges) - 1
    width = n_rows * (n_t + 1)
    # 16-bit days and cells halve the memory the gathers stream through (most of the time)
    small = np.int16 if max(span, width) < np.iinfo(np.int16).max else np.int32
    # column n_t collects the gaps outside every band; it is dropped after counting
    band = _band_of(np.arange(int(span) + 1, dtype=float), t_edges)
    lookup = np.where(band >= 0, band, n_t).astype(small)
    # the cell of a pair is base + its gap's band: base (the space index's first cell) is
    # the only per-pair array made here (the positions are used as they are)
    base = np.multiply(s_index, n_t + 1, dtype=small)
    first = i.astype(np.int32, copy=False)
    second = j.astype(np.int32, copy=False)

    def table(times: np.ndarray) -> np.ndarray:
        days = (times - low).astype(small)
        counts = np.zeros(width, dtype=np.int64)
        for start in range(0, len(first), _CHUNK):
            sl = slice(start, start + _CHUNK)
            gap = np.take(days, first[sl])
            gap -= np.take(days, second[sl])
            np.abs(gap, out=gap)
            cell = np.take(lookup, gap)
            cell += base[sl]
            counts += np.bincount(cell, minlength=width)
        return counts.reshape(n_rows, n_t + 1)[:, :n_t]

    return table


def knox_bands(
    x: np.ndarray,
    y: np.ndarray,
    days: np.ndarray,
    space_bands: Any = DEFAULT_SPACE_BANDS,
    time_bands: Any = DEFAULT_TIME_BANDS,
    *,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int | None = None,
    max_pairs: int | None = None,
    quiet: bool = False,
) -> pd.DataFrame:
    """Run the Knox test on every pair of a space band and a time band.

    Parameters
    ----------
    x, y
        Metric coordinates of the incidents.
    days
        Occurrence day of each incident (e.g. days since 1970-01-01).
    space_bands, time_bands
        Band edges (metres, days), increasing from ≥ 0; the last may be ``inf``.
    permutations
        Monte-Carlo permutations of the dates (0: no p-values).
    seed
        Seed of the permutations (None: :data:`parsc_geo.settings.SEED`). The permutations
        are drawn with ``numpy.random.RandomState(seed).permutation``, whose stream numpy
        keeps fixed across versions; the same seed given to ``numpy.random.seed`` before
        pointpats' ``Knox`` draws the same permutations.
    max_pairs
        Most pairs closer than the largest finite distance edge the test lists (None:
        :data:`MAX_PAIRS`). Above it, the test runs on a random sample of the incidents
        drawn with ``seed`` (:func:`budget_sample`), announced and recorded in
        ``attrs["parameters"]["sample"]``.
    quiet
        Log the sample as DEBUG instead of INFO.

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS`, one row per (space band, time band), space band first;
        ``attrs["parameters"]`` records the bands, counts and seed.
    """
    import pandas as pd
    from scipy.spatial import cKDTree

    s_edges = parse_bands(space_bands, "space_bands")
    t_edges = parse_bands(time_bands, "time_bands")
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    t = np.asarray(days, dtype=float)
    n = len(x)
    if not (len(y) == n == len(t)):
        raise ConfigError("x, y y days deben tener la misma longitud")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and np.all(np.isfinite(t))):
        raise ConfigError("x, y y days deben ser finitos")
    if permutations < 0:
        raise ConfigError(f"permutations debe ser ≥ 0; se recibió {permutations}")
    if n < 2:
        raise InsufficientDataError(f"la prueba de Knox necesita al menos 2 incidentes; hay {n}")
    seed = SEED if seed is None else int(seed)
    n_s, n_t = len(s_edges) - 1, len(t_edges) - 1
    open_space = bool(np.isinf(s_edges[-1]))
    finite = s_edges[:-1] if open_space else s_edges
    radius = float(finite[-1])
    total = n * (n - 1) // 2
    tree = cKDTree(np.column_stack([x, y]))
    budget = MAX_PAIRS if max_pairs is None else int(max_pairs)
    if budget < 1:
        raise ConfigError(f"max_pairs debe ser ≥ 1; se recibió {max_pairs}")
    sample: dict[str, Any] | None = None
    close = _close_pairs(tree, n, radius, budget)
    if close is not None and close > budget:
        keep, within = budget_sample(x, y, radius, close, budget, seed)
        sample = {
            "n_incidents_total": int(n),
            "close_pairs_total": int(close),
            "sample_size": len(keep),
            "close_pairs_sample": int(within),
            "max_pairs": budget,
            "seed": seed,
        }
        announce(logger, _sample_text(sample, radius), quiet=quiet)
        x, y, t = x[keep], y[keep], t[keep]
        n = len(keep)
        total = n * (n - 1) // 2
        tree = cKDTree(np.column_stack([x, y]))
    # Space index of each listed pair: 0 for "closer than the first edge", then bands 1…
    i, j, s_index, ns_listed = _pairs_closer_than(tree, x, y, finite)
    del tree
    # The permutations gather both dates of every pair a hundred times. Numbered in x order
    # (the order the pairs were listed in, block by block), a pair's two points and the next
    # pair's are close in memory; numbered as given, each gather missed the cache (Knox on
    # 211,000 incidents: 29 s instead of 20). Every count is the same (a pair is a pair).
    by_x = np.argsort(x, kind="stable")
    rank = np.empty(n, dtype=np.int32)
    rank[by_x] = np.arange(n, dtype=np.int32)
    for start in range(0, len(i), _CHUNK):  # in place, by chunks (no copy of the pairs)
        sl = slice(start, start + _CHUNK)
        i[sl] = rank[i[sl]]
        j[sl] = rank[j[sl]]
    del rank
    n_listed = len(i)
    n_rows = len(finite)  # below-first-edge row + finite bands
    sorted_days = np.sort(t)
    nt_cum = np.array([_pairs_within_days(sorted_days, e) for e in t_edges], dtype=np.int64)
    nt = np.diff(nt_cum)

    table = _day_table(t, i, j, s_index, t_edges, n_rows) or _band_table(
        i, j, s_index, t_edges, n_rows
    )
    del i, j, s_index  # the counter keeps what it reads

    def finish(grid: np.ndarray) -> np.ndarray:
        out = grid[1:]
        if open_space:
            out = np.vstack([out, nt - grid.sum(axis=0)])
        return out

    observed = finish(table(t[by_x]))
    ns = ns_listed[1:].astype(np.int64)
    if open_space:
        ns = np.append(ns, total - n_listed)
    expected = ns[:, None] * nt[None, :] / total if total else np.zeros((n_s, n_t))
    exceed = np.zeros((n_s, n_t), dtype=np.int64)
    if permutations:
        rs = np.random.RandomState(seed)
        for _ in range(int(permutations)):
            exceed += finish(table(t[rs.permutation(n)][by_x])) >= observed
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, observed / expected, np.nan)
    p_value = (exceed + 1.0) / (permutations + 1.0) if permutations else np.full((n_s, n_t), np.nan)
    frame = pd.DataFrame(
        {
            "d_min_m": np.repeat(s_edges[:-1], n_t),
            "d_max_m": np.repeat(s_edges[1:], n_t),
            "t_min_days": np.tile(t_edges[:-1], n_s),
            "t_max_days": np.tile(t_edges[1:], n_s),
            "observed": observed.ravel(),
            "expected": expected.ravel(),
            "ratio": ratio.ravel(),
            "p_value": p_value.ravel(),
        }
    )
    frame.attrs["parameters"] = {
        "space_bands_m": [float(e) for e in s_edges],
        "time_bands_days": [float(e) for e in t_edges],
        "permutations": int(permutations),
        "seed": seed,
        "n_incidents": int(n),
        "n_pairs": int(total),
        "n_pairs_listed": n_listed,
    }
    if sample is not None:
        frame.attrs["parameters"]["sample"] = sample
    return frame


def _sample_text(sample: dict[str, Any], radius: float) -> str:
    """Return the announcement of Knox's random sample (``attrs["parameters"]["sample"]``)."""
    return (
        f"Prueba de Knox sobre una muestra aleatoria de {_whole(sample['sample_size'])} de "
        f"{_whole(sample['n_incidents_total'])} incidentes: los "
        f"{_whole(sample['close_pairs_total'])} pares a menos de {_whole(radius)} m "
        f"superan el límite de {_whole(sample['max_pairs'])} (semilla {sample['seed']})"
    )


def announce_sample(table: pd.DataFrame, *, quiet: bool = False) -> None:
    """Announce the random sample :func:`knox_bands` drew for ``table``, if it drew one.

    For a table computed in another process (a pool's worker), whose announcement was not
    seen here.
    """
    parameters = table.attrs.get("parameters", {})
    sample = parameters.get("sample")
    if sample is None:
        return
    radius = max(e for e in parameters["space_bands_m"] if np.isfinite(e))
    announce(logger, _sample_text(sample, radius), quiet=quiet)


def near_repeat_task(task: tuple[gpd.GeoDataFrame, dict[str, Any]]) -> pd.DataFrame:
    """Return ``near_repeat(incidents, **options)`` for ``(incidents, options)`` (a pool task).

    The sample's announcement is left to the caller (:func:`announce_sample`).
    """
    data, options = task
    return near_repeat(data, **{**options, "quiet": True})


def incident_days(dates: pd.Series) -> np.ndarray:
    """Return whole days since 1970-01-01 of local dates (see ``periods.local_dates``)."""
    import pandas as pd

    return np.asarray((dates - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype=float))


def near_repeat(
    data: gpd.GeoDataFrame | Sequence[Partition],
    *,
    space_bands: Any = DEFAULT_SPACE_BANDS,
    time_bands: Any = DEFAULT_TIME_BANDS,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int | None = None,
    time_column: str = "occurred_at",
    exclude_at_station: bool = True,
    min_incidents: int = MIN_INCIDENTS,
    max_pairs: int | None = None,
    quiet: bool = False,
    pool: Any = 1,
) -> pd.DataFrame:
    """Run :func:`knox_bands` on incident points (projected to their metric CRS).

    Incidents without a date or a point are left out (counted in the parameters), as are
    those stacked on a police station unless ``exclude_at_station`` is False (a stack of
    reports at the station would read as a near repeat at distance 0).

    Parameters
    ----------
    data
        The incidents, or the partitions holding them, every incident in one
        (:func:`parsc_geo.partitions.write_partitions`, as a distributed run writes them;
        the table's index unique and ascending): then tasks of ``pool`` that each read one
        partition (:func:`parsc_geo.partitions.map_partitions`) find the metric CRS of the
        whole table (:func:`parsc_geo.hotspots._common.locate_crs`) and return the index,
        metric x, y and day of each of its usable dated incidents. This process puts them
        back in the table's order (the index) and in the test's
        (:func:`parsc_geo.hotspots._common.canonical_order`; the ``incident_id`` of
        incidents at the same point, which decides between them, is asked of the partitions
        that hold them): the seeded sample and permutations see the incidents in the same
        order, so the table is the whole table's, value for value, and this process never
        holds the incidents (36 bytes per usable dated incident while their order is found,
        then 24). With a pool of several workers, the test itself (its close pairs and
        permutations) runs in one of them, as a background task.
    space_bands, time_bands
        Band edges in metres and days (see :func:`knox_bands`).
    permutations, seed
        Monte-Carlo permutations of the dates and their seed.
    time_column
        Column of the occurrence times.
    exclude_at_station
        Leave out the incidents stacked on a police station.
    min_incidents
        Fewest usable incidents.
    max_pairs
        Most close pairs listed (see :func:`knox_bands`).
    quiet
        Do not announce the random sample.
    pool
        Where the tasks of partitions run: a :class:`parsc_geo.parallel.WorkerPool` (or Dask
        pool), or a number of workers (unused for a table).

    Returns
    -------
    pandas.DataFrame
        The band table (:func:`knox_bands`), its parameters in ``attrs["parameters"]``.

    Raises
    ------
    InsufficientDataError
        Fewer than ``min_incidents`` usable incidents.
    ConfigError
        No time column, or bad bands.
    """
    from ..parallel import WorkerPool
    from ..partitions import as_partitions

    options: dict[str, Any] = {
        "space_bands": space_bands,
        "time_bands": time_bands,
        "permutations": permutations,
        "seed": seed,
        "time_column": time_column,
        "min_incidents": min_incidents,
        "max_pairs": max_pairs,
    }
    partitions = as_partitions(data)
    if partitions is None:
        x, y, days, info = _table_points(data, time_column, exclude_at_station)
        return _knox_of_incidents(x, y, days, info, quiet=quiet, **options)
    points = _partitions_points(partitions, time_column, exclude_at_station, pool)
    if not isinstance(pool, WorkerPool):
        return _knox_of_incidents(*points, quiet=quiet, **options)
    # the pairs and permutations (hundreds of megabytes for a country) in a worker, as a
    # background task (it goes there even alone): this process keeps only the 24 bytes of
    # each incident it sends
    table = pool.start(_knox_task, [(points, options)], background=True).results()[0]
    announce_sample(table, quiet=quiet)
    return table


def _knox_task(
    task: tuple[tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]], dict[str, Any]],
) -> pd.DataFrame:
    """Return :func:`_knox_of_incidents` of ``(points, options)`` (a pool task, quiet)."""
    points, options = task
    return _knox_of_incidents(*points, quiet=True, **options)


def _table_points(
    data: gpd.GeoDataFrame, time_column: str, exclude_at_station: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Return x, y, day and info of a table's usable dated incidents, in the test's order."""
    located, dates = _located_dates(data, time_column, exclude_at_station, None)
    dated = dates.notna().to_numpy()
    return (
        located.x[dated],
        located.y[dated],
        incident_days(dates[dated]),
        {**located.info, "n_undated": int((~dated).sum())},
    )


def _partitions_points(
    partitions: Sequence[Partition], time_column: str, exclude_at_station: bool, pool: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Return :func:`_table_points` of the table of ``partitions``, from slim arrays of them.

    See :func:`near_repeat` (its ``data``).
    """
    from ..hotspots._common import canonical_order, locate_crs, merge_located
    from ..partitions import map_partitions

    crs = locate_crs(partitions, exclude_at_station=exclude_at_station, pool=pool)
    parts = map_partitions(
        _partition_points,
        partitions,
        pool=pool,
        # what locate() and the dates read (the time zone may come from occurred_at's type)
        columns=(time_column, "occurred_at", "at_station"),
        args=(time_column, exclude_at_station, crs),
    )
    info = merge_located([p[4] for p in parts], crs, exclude_at_station=exclude_at_station)
    info["n_undated"] = sum(p[5] for p in parts)
    # index, x, y, days and partition of every incident, then in the table's order (its
    # index is ascending)
    gathered = [np.concatenate([p[k] for p in parts]) if parts else np.zeros(0) for k in range(4)]
    gathered.append(np.repeat(np.arange(len(parts), dtype=np.int32), [len(p[0]) for p in parts]))
    del parts
    table_order = np.argsort(gathered[0], kind="stable")
    labels, x, y, days, owner = (a[table_order] for a in gathered)
    del gathered, table_order
    order = canonical_order(x, y, _tied_ids(partitions, labels, x, y, owner, pool))
    del labels, owner  # the test holds x, y and days only
    return x[order], y[order], days[order], info


def _located_dates(
    data: gpd.GeoDataFrame, time_column: str, exclude_at_station: bool, metric: Any
) -> tuple[Located, pd.Series]:
    """Return the usable incidents located (:func:`locate`) and their local dates."""
    from ..hotspots._common import locate
    from .periods import local_dates

    if time_column not in data.columns:
        raise ConfigError(
            f"los incidentes no tienen la columna de fecha {time_column!r}",
            hint="importe el archivo con 'parsc-geo ingest' y use el espacio de trabajo",
        )
    # the rows, order and coordinates of prepare(), and the one column read here: the
    # prepared frame of a million incidents held hundreds of megabytes through the test
    located = locate(data, exclude_at_station=exclude_at_station, metric=metric)
    times = data[time_column].take(located.rows).reset_index(drop=True)
    dates = local_dates(times, incidents_zone(data)).reset_index(drop=True)
    return located, dates


def _knox_of_incidents(
    x: np.ndarray,
    y: np.ndarray,
    days: np.ndarray,
    info: dict[str, Any],
    *,
    space_bands: Any,
    time_bands: Any,
    permutations: int,
    seed: int | None,
    time_column: str,
    min_incidents: int,
    max_pairs: int | None,
    quiet: bool,
) -> pd.DataFrame:
    """Return :func:`knox_bands` of the usable dated incidents, in :func:`near_repeat`'s order.

    ``info``: ``Located.info`` and ``n_undated``, recorded in the table's parameters.
    """
    n = len(x)
    if n < min_incidents:
        raise InsufficientDataError(
            f"solo {n} incidentes con fecha y ubicación; la prueba de Knox requiere al menos "
            f"{min_incidents}",
            hint="amplíe el periodo o el área, o incluya más fenómenos",
        )
    table = knox_bands(
        x,
        y,
        days,
        space_bands,
        time_bands,
        permutations=permutations,
        seed=seed,
        max_pairs=max_pairs,
        quiet=quiet,
    )
    table.attrs["parameters"].update({**info, "time_column": time_column})
    return table


def _partition_points(
    data: gpd.GeoDataFrame, time_column: str, exclude_at_station: bool, crs: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any], int]:
    """Return one partition's usable dated incidents for the Knox test (a task).

    ``(index, x, y, days, info, n_undated)``: the index, metric coordinates (in ``crs``) and
    :func:`incident_days` of each usable dated incident (in no particular order), the
    partition's ``Located.info`` and its usable incidents without a date.
    """
    located, dates = _located_dates(data, time_column, exclude_at_station, crs)
    dated = dates.notna().to_numpy()
    return (
        data.index.to_numpy()[located.rows[dated]],
        located.x[dated],
        located.y[dated],
        incident_days(dates[dated]),
        located.info,
        int((~dated).sum()),
    )


def _tied_ids(
    partitions: Sequence[Partition],
    labels: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    owner: np.ndarray,
    pool: Any,
) -> pd.Series | None:
    """Return the ``incident_id`` that orders incidents at the same point, or None.

    For incidents in the table's order (``labels``, ``x``, ``y``; ``owner``: the partition
    of each): a series with the ``incident_id`` of those sharing their point with another
    (read by the partitions that hold them) and missing values elsewhere, where
    :func:`parsc_geo.hotspots._common.canonical_order` never reads it. None when no two
    incidents share a point or the table has no ``incident_id``.
    """
    import pandas as pd

    from ..partitions import map_partitions

    tied = pd.DataFrame({"_x": x, "_y": y}).duplicated(keep=False).to_numpy()
    if not tied.any():
        return None
    holders = np.unique(owner[tied])
    # the partitions holding them; all when one does (a pool runs a lone task here)
    asked = [partitions[int(k)] for k in holders] if len(holders) > 1 else list(partitions)
    found = map_partitions(
        _ids_of,
        asked,
        pool=pool,
        columns=("incident_id",),
        args=(labels[tied],),
    )
    if any(f is None for f in found):
        return None
    ids = pd.concat([f for f in found if f is not None])
    where = np.searchsorted(labels, ids.index.to_numpy())
    # the column's own type (its sort), missing where no other incident shares the point
    return pd.Series(ids.array, index=where).reindex(np.arange(len(labels)))


def _ids_of(data: gpd.GeoDataFrame, labels: np.ndarray) -> pd.Series | None:
    """Return the ``incident_id`` of this partition's rows among ``labels`` (a task).

    Indexed by the rows' index; None when the table has no ``incident_id``.
    """
    if "incident_id" not in data.columns:
        return None
    return data["incident_id"][data.index.isin(labels)]


@dataclass(frozen=True)
class NearRepeatRisk:
    """The near-repeat zone: within ``distance_m`` and ``days`` the risk is ``ratio`` × higher."""

    distance_m: float
    days: float
    ratio: float
    alpha: float
    permutations: int


def near_repeat_risk(table: pd.DataFrame, *, alpha: float = 0.05) -> NearRepeatRisk | None:
    """Return the near-repeat zone of a Knox band table, or None when there is none.

    The zone grows from the closest, earliest band: along the first time band as long as
    successive space bands are significant (p ≤ ``alpha``) with a ratio above 1, and along the
    first space band as long as successive time bands are; its ratio is the summed observed
    over the summed expected pairs of every band inside it. Open (``inf``) bands are never
    part of it.
    """
    s_edges = np.unique(table["d_min_m"].to_numpy(float))
    t_edges = np.unique(table["t_min_days"].to_numpy(float))
    obs = table.pivot(index="d_min_m", columns="t_min_days", values="observed").to_numpy(float)
    exp = table.pivot(index="d_min_m", columns="t_min_days", values="expected").to_numpy(float)
    ratio = table.pivot(index="d_min_m", columns="t_min_days", values="ratio").to_numpy(float)
    p = table.pivot(index="d_min_m", columns="t_min_days", values="p_value").to_numpy(float)
    d_max = table.groupby("d_min_m")["d_max_m"].first().reindex(s_edges).to_numpy(float)
    t_max = table.groupby("t_min_days")["t_max_days"].first().reindex(t_edges).to_numpy(float)
    raised = (p <= alpha) & (ratio > 1)
    raised[~np.isfinite(d_max), :] = False
    raised[:, ~np.isfinite(t_max)] = False
    if raised.size == 0 or not raised[0, 0]:
        return None
    s_last = int(np.argmin(np.append(raised[:, 0], False))) - 1
    t_last = int(np.argmin(np.append(raised[0, :], False))) - 1
    zone_obs = obs[: s_last + 1, : t_last + 1].sum()
    zone_exp = exp[: s_last + 1, : t_last + 1].sum()
    permutations = int(table.attrs.get("parameters", {}).get("permutations", 0))
    return NearRepeatRisk(
        distance_m=float(d_max[s_last]),
        days=float(t_max[t_last]),
        ratio=float(zone_obs / zone_exp) if zone_exp > 0 else float("nan"),
        alpha=float(alpha),
        permutations=permutations,
    )


def _decimal(value: float, decimals: int = 1) -> str:
    """Format a number the Spanish way in prose: decimal comma (``1,8``)."""
    return f"{value:.{decimals}f}".replace(".", ",")


def _whole(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u00a0")


def interpret_near_repeat(
    table: pd.DataFrame, *, label: str = "un incidente", alpha: float = 0.05
) -> str:
    """Return a short Spanish reading of a Knox band table for the patrol plan.

    Parameters
    ----------
    table
        Output of :func:`knox_bands` or :func:`near_repeat`.
    label
        What happened, with its article: ``"un robo"``, ``"un incidente"``.
    alpha
        Significance level of the bands.

    Returns
    -------
    str
        E.g. "Tras un robo, el riesgo en 200 m se mantiene 1,8 veces mayor durante 14 días
        (prueba de Knox, p ≤ 0,05, 99 permutaciones)."
    """
    first = table.iloc[0] if len(table) else None
    risk = near_repeat_risk(table, alpha=alpha)
    permutations = int(table.attrs.get("parameters", {}).get("permutations", 0))
    test = f"prueba de Knox, p ≤ {_decimal(alpha, 2)}, {_whole(permutations)} permutaciones"
    sample = table.attrs.get("parameters", {}).get("sample")
    if sample:
        test += (
            f", muestra aleatoria de {_whole(sample['sample_size'])} de "
            f"{_whole(sample['n_incidents_total'])} incidentes"
        )
    if risk is None:
        if first is None:
            return "No hay pares de incidentes para evaluar la repetición cercana."
        return (
            f"No se detecta repetición cercana: tras {label}, el riesgo en "
            f"{_whole(float(first['d_max_m']))} m durante {_whole(float(first['t_max_days']))} "
            f"días no es mayor de lo esperado al azar ({test})."
        )
    return (
        f"Tras {label}, el riesgo en {_whole(risk.distance_m)} m se mantiene "
        f"{_decimal(risk.ratio)} veces mayor durante {_whole(risk.days)} días ({test})."
    )


#: How the interpretation names one incident of each fenómeno ("Tras un robo, …").
EVENT_LABELS_ES: dict[str, str] = {
    "violencia_mujer": "un hecho de violencia contra la mujer o la familia",
    "muertes_violentas": "una muerte violenta",
    "patrimonio_espacio_publico": "un delito patrimonial en la vía pública",
    "bandas_criminales": "un delito de banda criminal",
    "otros": "otro delito",
}


def event_label(fenomenos: tuple[str, ...] | list[str] = ()) -> str:
    """Return how to name one incident: the fenómeno's when exactly one is selected."""
    if len(fenomenos) == 1 and fenomenos[0] in EVENT_LABELS_ES:
        return EVENT_LABELS_ES[fenomenos[0]]
    return "un incidente"
