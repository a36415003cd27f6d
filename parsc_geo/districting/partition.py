"""Partition a block graph into k contiguous, compact regions of balanced workload.

Objective
---------
With ``W_s`` the workload of region ``s``, ``T`` the mean workload per region, ``P_s`` and
``A_s`` its perimeter and area::

    F = Σ_s ((W_s − T) / T)²  +  λ / k · Σ_s P_s / (2 √(π A_s))

The first term is ``k · CV²`` (CV, the coefficient of variation of the workloads); the second is
λ times the mean of ``1 / √PP`` (PP, the Polsby–Popper compactness ``4πA / P²``; 1 for a disk).
λ (:data:`DEFAULT_COMPACTNESS`) is small, so balance comes first and compactness decides between
moves that leave balance alone (for instance, where the blocks have no incidents).

Algorithm
---------
1. **Starts.**

   * *Recursive bisection*: the blocks are cut in two connected sets holding ``⌊k/2⌋ / k`` and
     the rest of the workload, recursively. Each cut sweeps the blocks in 8 directions, growing
     a connected set from the extreme block in order of its projection (graph growing, as in
     METIS); the cut nearest the wanted share wins (then the one nearest the area share);
     pieces the cut leaves detached join the grown side.
   * *Seeded region growing* (:data:`DEFAULT_STARTS` starts): ``k`` seeds drawn by weighted
     k-means++ (Arthur & Vassilvitskii 2007) on the block centroids, weights the blocks'
     workload and area shares, improved by a few Lloyd steps; then the region with the least
     load (workload share plus a quarter of its area share) takes its nearest unassigned
     neighbouring block, until every block is taken.
   * *Ward with contiguity* of PySAL ``spopt`` (``WardSpatial``) on the centroids: compact and
     contiguous, blind to the workload. spopt's SKATER, region k-means and max-p are not used:
     on 2,000 blocks they take from tens of seconds to minutes and balance no target.
2. **Local search** from every start: a boundary block moves to a neighbouring region when that
   lowers ``F`` and its own region stays connected without it (checked by a breadth-first
   search among the region's blocks). Blocks are visited in a seeded random order, pass after
   pass, until a pass moves nothing. This is the boundary-move descent of AZP (Openshaw 1977)
   and of Build Balanced Zones' refinement, with the balance target in the objective.
3. The start whose local optimum has the lowest ``F`` wins; every trial is reported.

Everything random comes from ``numpy.random.default_rng(seed)``; equal inputs give equal
partitions.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from .._errors import ConfigError

if TYPE_CHECKING:
    from .blocks import Blocks

#: λ, the weight of compactness against balance in the objective.
DEFAULT_COMPACTNESS: Final[float] = 0.05
#: Number of seeded region-growing starts.
DEFAULT_STARTS: Final[int] = 2
#: Upper bound on local-search passes (a pass that moves nothing ends the search earlier).
MAX_PASSES: Final[int] = 200
#: Improvements smaller than this are ignored (floating-point noise).
_EPS: Final[float] = 1e-12

#: Spanish names of the starts.
START_NAMES: Final[dict[str, str]] = {
    "bisection": "bisección recursiva",
    "growth": "crecimiento de regiones sembrado",
    "ward": "Ward con contigüidad (PySAL spopt)",
}


@dataclass
class Graph:
    """Blocks as a graph: adjacency, shared boundary lengths, areas, perimeters, centroids."""

    neighbours: list[list[int]]
    shared: list[list[float]]
    area: np.ndarray
    perimeter: np.ndarray
    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.neighbours)

    @classmethod
    def from_blocks(cls, blocks: Blocks) -> Graph:
        """Return the graph of :class:`~parsc_geo.districting.blocks.Blocks`."""
        f = blocks.frame
        return cls(
            neighbours=[list(nb) for nb in blocks.neighbours],
            shared=[list(sh) for sh in blocks.shared],
            area=f["area_m2"].to_numpy(float),
            perimeter=f["perimeter_m"].to_numpy(float),
            x=f["x"].to_numpy(float),
            y=f["y"].to_numpy(float),
        )

    def subgraph(self, members: list[int] | np.ndarray) -> Graph:
        """Return the graph induced by ``members`` (renumbered 0…m−1 in the given order)."""
        index = {int(b): k for k, b in enumerate(members)}
        neighbours: list[list[int]] = []
        shared: list[list[float]] = []
        for b in members:
            nb, sh = [], []
            for j, length in zip(self.neighbours[int(b)], self.shared[int(b)], strict=True):
                if j in index:
                    nb.append(index[j])
                    sh.append(length)
            neighbours.append(nb)
            shared.append(sh)
        idx = np.asarray(members, dtype=np.int64)
        return Graph(
            neighbours, shared, self.area[idx], self.perimeter[idx], self.x[idx], self.y[idx]
        )


@dataclass
class Partition:
    """Result of :func:`partition`.

    Attributes
    ----------
    labels
        Region (0 … k−1) of every block.
    start
        Which start won (``"bisection"``, ``"growth"`` or ``"ward"``) and ``algorithm``, its
        Spanish account.
    objective, cv
        ``F`` and the coefficient of variation of the regions' workloads.
    trials
        One dict per start: ``start``, ``seed``, ``objective``, ``cv``, ``moves``, ``passes``.
    """

    labels: np.ndarray
    start: str
    algorithm: str
    objective: float
    cv: float
    trials: list[dict[str, Any]] = field(default_factory=list)


def partition(
    graph: Graph,
    weights: np.ndarray,
    k: int,
    *,
    seed: int,
    pinned: int | None = None,
    compactness: float = DEFAULT_COMPACTNESS,
    starts: int = DEFAULT_STARTS,
    spopt: bool = True,
) -> Partition:
    """Split the graph into ``k`` contiguous regions balancing ``weights`` (see module notes).

    Parameters
    ----------
    graph
        Connected block graph (bridges included).
    weights
        Non-negative workload of each block.
    k
        Number of regions (at most the number of blocks).
    seed
        Seed of the starts and of the visiting order.
    pinned
        A block that never moves (the station's block): it seeds the first growth region.
    compactness
        λ of the objective.
    starts
        Number of region-growing starts.
    spopt
        Also start from spatially constrained Ward clustering of PySAL ``spopt``.

    Returns
    -------
    Partition
    """
    n = len(graph)
    w = np.asarray(weights, dtype=float)
    if len(w) != n:
        raise ConfigError(f"hay {len(w)} cargas para {n} bloques")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ConfigError("las cargas de los bloques deben ser números ≥ 0")
    if not 1 <= k <= n:
        raise ConfigError(f"no se pueden formar {k} regiones con {n} bloques")
    if not compactness >= 0:
        raise ConfigError(f"el peso de compacidad debe ser ≥ 0; se recibió {compactness!r}")
    if k == 1:
        labels = np.zeros(n, dtype=np.int64)
        return Partition(labels, "growth", "una sola región", 0.0, 0.0, [])
    rng = np.random.default_rng(seed)
    candidates: list[tuple[str, int, np.ndarray]] = [("bisection", 0, _bisect(graph, w, k, pinned))]
    for _ in range(max(1, starts)):
        trial_seed = int(rng.integers(2**31))
        labels = _grow(graph, w, k, np.random.default_rng(trial_seed), pinned)
        candidates.append(("growth", trial_seed, labels))
    if spopt:
        labels_ward = _ward(graph, k)
        if labels_ward is not None:
            candidates.append(("ward", 0, labels_ward))
    best: Partition | None = None
    trials: list[dict[str, Any]] = []
    for name, trial_seed, labels in candidates:
        search = _LocalSearch(graph, w, k, labels, compactness, pinned)
        moves, passes = search.run(np.random.default_rng([seed, trial_seed]))
        objective = search.objective()
        cv = search.cv()
        trials.append(
            {
                "start": name,
                "seed": trial_seed,
                "objective": objective,
                "cv": cv,
                "moves": moves,
                "passes": passes,
            }
        )
        if best is None or objective < best.objective - _EPS:
            result = np.asarray(search.lab, dtype=np.int64)
            algorithm = f"{START_NAMES[name]} + búsqueda local de bloques de borde"
            best = Partition(result, name, algorithm, objective, cv)
    assert best is not None
    best.trials = trials
    return best


def _kmeanspp(
    graph: Graph, p: np.ndarray, k: int, rng: np.random.Generator, first: int | None
) -> list[int]:
    xy = np.column_stack([graph.x, graph.y])
    seeds = [first if first is not None else int(rng.choice(len(p), p=p))]
    d2 = ((xy - xy[seeds[0]]) ** 2).sum(axis=1)
    for _ in range(1, k):
        q = p * d2
        if q.sum() <= 0:
            q = (d2 > 0).astype(float)
            if q.sum() <= 0:
                q = np.ones(len(p))
                q[seeds] = 0.0
        nxt = int(rng.choice(len(p), p=q / q.sum()))
        seeds.append(nxt)
        d2 = np.minimum(d2, ((xy - xy[nxt]) ** 2).sum(axis=1))
    for _ in range(5):
        d = ((xy[:, None, :] - xy[seeds][None, :, :]) ** 2).sum(axis=2)
        own = d.argmin(axis=1)
        moved = list(seeds)
        for s in range(k):
            if first is not None and s == 0:
                continue
            members = own == s
            mass = p[members].sum()
            if mass <= 0:
                continue
            centre = (xy[members] * p[members, None]).sum(axis=0) / mass
            candidates = np.flatnonzero(members)
            nearest = candidates[((xy[candidates] - centre) ** 2).sum(axis=1).argmin()]
            moved[s] = int(nearest)
        if len(set(moved)) < k or moved == seeds:
            break
        seeds = moved
    return seeds


def _grow(
    graph: Graph, w: np.ndarray, k: int, rng: np.random.Generator, pinned: int | None
) -> np.ndarray:
    n = len(graph)
    a = graph.area
    w_share = w / w.sum() if w.sum() > 0 else np.zeros(n)
    a_share = a / a.sum()
    p = w_share + a_share
    p = p / p.sum()
    seeds = _kmeanspp(graph, p, k, rng, pinned)
    labels = np.full(n, -1, dtype=np.int64)
    load = np.zeros(k)
    heaps: list[list[tuple[float, int]]] = [[] for _ in range(k)]
    sx, sy = graph.x[seeds], graph.y[seeds]

    def take(s: int, b: int) -> None:
        labels[b] = s
        load[s] += w_share[b] * k + 0.25 * a_share[b] * k
        for j in graph.neighbours[b]:
            if labels[j] < 0:
                d = (graph.x[j] - sx[s]) ** 2 + (graph.y[j] - sy[s]) ** 2
                heapq.heappush(heaps[s], (float(d), j))

    for s, b in enumerate(seeds):
        take(s, b)
    remaining = n - k
    active = set(range(k))
    while remaining and active:
        s = min(active, key=lambda r: (load[r], r))
        heap = heaps[s]
        while heap and labels[heap[0][1]] >= 0:
            heapq.heappop(heap)
        if not heap:
            active.discard(s)
            continue
        _, b = heapq.heappop(heap)
        take(s, b)
        remaining -= 1
    if remaining:  # only when the graph is not connected: give leftovers to a neighbour's region
        for b in np.flatnonzero(labels < 0).tolist():
            labels[b] = next((int(labels[j]) for j in graph.neighbours[b] if labels[j] >= 0), 0)
    return labels


#: Directions (degrees) of the sweeps that recursive bisection tries at every cut.
BISECTION_ANGLES: Final[tuple[float, ...]] = (0.0, 22.5, 45.0, 67.5, 90.0, 112.5, 135.0, 157.5)


def _bisect(graph: Graph, w: np.ndarray, k: int, pinned: int | None) -> np.ndarray:
    """Return labels from recursive bisection: contiguous halves of balanced workload."""
    from .blocks import components

    n = len(graph)
    labels = np.zeros(n, dtype=np.int64)
    total_w = float(w.sum())
    weight = w if total_w > 0 else graph.area
    jobs: list[tuple[np.ndarray, int, int]] = [(np.arange(n), k, 0)]
    while jobs:
        members, parts, offset = jobs.pop()
        if parts == 1:
            labels[members] = offset
            continue
        first = parts // 2
        side, rest = _best_cut(graph, weight, members, (first, parts), components)
        if pinned is not None and pinned in set(rest.tolist()):
            side, rest, first = rest, side, parts - first
        jobs.append((rest, parts - first, offset + first))
        jobs.append((side, first, offset))
    return labels


def _best_cut(
    graph: Graph,
    weight: np.ndarray,
    members: np.ndarray,
    split: tuple[int, int],
    components: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``members`` in two connected sets for ``split = (first, parts)`` regions.

    The first set gets ``first / parts`` of the weight and at least ``first`` blocks; the
    second at least ``parts − first`` blocks.
    """
    first, parts = split
    fraction = first / parts
    member_list = members.tolist()
    m = len(member_list)
    inside = set(member_list)
    total = float(weight[members].sum())
    area_total = float(graph.area[members].sum())
    best: tuple[tuple[float, float], np.ndarray, np.ndarray] | None = None
    for angle in BISECTION_ANGLES:
        for sign in (1.0, -1.0):
            theta = math.radians(angle)
            proj = sign * (graph.x * math.cos(theta) + graph.y * math.sin(theta))
            start = min(member_list, key=lambda b: (proj[b], b))
            order: list[int] = []
            seen = {start}
            heap = [(float(proj[start]), start)]
            while heap:
                _, b = heapq.heappop(heap)
                order.append(b)
                for j in graph.neighbours[b]:
                    if j in inside and j not in seen:
                        seen.add(j)
                        heapq.heappush(heap, (float(proj[j]), j))
            if len(order) < len(member_list):
                order.extend(sorted(inside - set(order)))
            idx = np.asarray(order, dtype=np.int64)
            cum = np.cumsum(weight[idx])[:-1]
            cum_area = np.cumsum(graph.area[idx])[:-1]
            gap = np.abs(cum - fraction * total) / max(total, 1e-300)
            area_gap = np.abs(cum_area - fraction * area_total) / area_total
            allowed = np.zeros(len(cum), dtype=bool)
            allowed[first - 1 : m - (parts - first)] = True
            if not allowed.any():
                continue
            ranking = np.lexsort((area_gap, gap))
            cut = int(ranking[allowed[ranking]][0]) + 1
            side = set(order[:cut])
            rest_pieces = components(graph.neighbours, [b for b in member_list if b not in side])
            for piece in rest_pieces[1:]:
                side.update(piece)
            rest = rest_pieces[0] if rest_pieces else []
            if len(rest) < parts - first or len(side) < first:
                continue
            side_arr = np.asarray(sorted(side), dtype=np.int64)
            score = (
                abs(float(weight[side_arr].sum()) - fraction * total) / max(total, 1e-300),
                abs(float(graph.area[side_arr].sum()) - fraction * area_total) / area_total,
            )
            if best is None or score < best[0]:
                best = (score, side_arr, np.asarray(rest, dtype=np.int64))
    if best is None:  # no sweep keeps both sides connected: fall back on a plain split
        ordered = np.asarray(sorted(member_list), dtype=np.int64)
        return ordered[:first], ordered[first:]
    return best[1], best[2]


def _ward(graph: Graph, k: int) -> np.ndarray | None:
    """Return spatially constrained Ward labels (PySAL ``spopt``), or None when unavailable."""
    try:
        import pandas as pd
        from libpysal.weights import W
        from spopt.region import WardSpatial
    except ImportError:
        return None
    import warnings

    from .blocks import components

    n = len(graph)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weights = W({i: list(graph.neighbours[i]) for i in range(n)}, silence_warnings=True)
        frame = pd.DataFrame({"x": graph.x - graph.x.mean(), "y": graph.y - graph.y.mean()})
        try:
            model = WardSpatial(frame, weights, ["x", "y"], n_clusters=k)
            model.solve()
        except Exception:  # spopt and scikit-learn raise assorted errors on degenerate graphs
            return None
    labels = np.asarray(model.labels_, dtype=np.int64)
    values = np.unique(labels)
    if len(values) != k:
        return None
    labels = np.searchsorted(values, labels).astype(np.int64)
    for s in range(k):
        if len(components(graph.neighbours, np.flatnonzero(labels == s).tolist())) != 1:
            return None
    return labels


class _LocalSearch:
    """Boundary-block descent on the objective ``F`` (module notes), keeping regions connected."""

    def __init__(
        self,
        graph: Graph,
        w: np.ndarray,
        k: int,
        labels: np.ndarray,
        compactness: float,
        pinned: int | None,
    ) -> None:
        self.nb = graph.neighbours
        self.sh = graph.shared
        self.w = w.tolist()
        self.a = graph.area.tolist()
        self.per = graph.perimeter.tolist()
        self.k = k
        self.lab = [int(v) for v in labels]
        self.pinned = pinned
        total = float(w.sum())
        self.target = total / k if total > 0 else 1.0
        self.lam = compactness / k
        self.W = [0.0] * k
        self.A = [0.0] * k
        self.P = [0.0] * k
        self.cnt = [0] * k
        for i, s in enumerate(self.lab):
            self.W[s] += self.w[i]
            self.A[s] += self.a[i]
            self.P[s] += self.per[i]
            self.cnt[s] += 1
            for j, length in zip(self.nb[i], self.sh[i], strict=True):
                if self.lab[j] == s:
                    self.P[s] -= length  # each internal edge is seen from both sides
        self.term = [self._term(self.W[s], self.A[s], self.P[s]) for s in range(k)]

    def _term(self, w: float, a: float, p: float) -> float:
        d = (w - self.target) / self.target
        return d * d + self.lam * p / (2.0 * math.sqrt(math.pi * a)) if a > 0 else math.inf

    def objective(self) -> float:
        """Return ``F`` of the current labels."""
        return float(sum(self.term))

    def cv(self) -> float:
        """Return the coefficient of variation of the regions' workloads."""
        values = np.array(self.W)
        mean = values.mean()
        return float(values.std() / mean) if mean > 0 else 0.0

    def _connected_without(self, i: int, s: int) -> bool:
        lab, nb = self.lab, self.nb
        targets = {j for j in nb[i] if lab[j] == s}
        if len(targets) <= 1:
            return True
        start = next(iter(sorted(targets)))
        seen = {start, i}
        queue = deque([start])
        found = 1
        while queue:
            u = queue.popleft()
            for v in nb[u]:
                if v not in seen and lab[v] == s:
                    seen.add(v)
                    if v in targets:
                        found += 1
                        if found == len(targets):
                            return True
                    queue.append(v)
        return False

    def run(self, rng: np.random.Generator) -> tuple[int, int]:
        """Descend until a pass moves nothing; return the number of moves and passes."""
        lab, nb, sh, w, a, per = self.lab, self.nb, self.sh, self.w, self.a, self.per
        W, A, P, cnt, term = self.W, self.A, self.P, self.cnt, self.term
        moves = 0
        passes = 0
        n = len(lab)
        for passes in range(1, MAX_PASSES + 1):  # noqa: B007 - the count is reported
            moved = 0
            for i in rng.permutation(n).tolist():
                s = lab[i]
                if i == self.pinned or cnt[s] == 1:
                    continue
                share: dict[int, float] = {}
                for j, length in zip(nb[i], sh[i], strict=True):
                    t = lab[j]
                    share[t] = share.get(t, 0.0) + length
                if len(share) == 1 and s in share:
                    continue
                wi, ai, pi_ = w[i], a[i], per[i]
                new_s = self._term(W[s] - wi, A[s] - ai, P[s] - pi_ + 2.0 * share.get(s, 0.0))
                best_t, best_delta, best_new_t = -1, -_EPS, 0.0
                for t, length in share.items():
                    if t == s:
                        continue
                    new_t = self._term(W[t] + wi, A[t] + ai, P[t] + pi_ - 2.0 * length)
                    delta = new_s + new_t - term[s] - term[t]
                    if delta < best_delta:
                        best_t, best_delta, best_new_t = t, delta, new_t
                if best_t < 0 or not self._connected_without(i, s):
                    continue
                t = best_t
                P[s] += -pi_ + 2.0 * share.get(s, 0.0)
                P[t] += pi_ - 2.0 * share[t]
                W[s] -= wi
                W[t] += wi
                A[s] -= ai
                A[t] += ai
                cnt[s] -= 1
                cnt[t] += 1
                term[s] = new_s
                term[t] = best_new_t
                lab[i] = t
                moved += 1
            moves += moved
            if not moved:
                break
        return moves, passes
