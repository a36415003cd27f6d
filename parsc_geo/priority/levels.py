"""Rules that turn indicators of territorial units into priority levels.

The plan's section 2.8 ranks provinces in two levels, *alta prioridad* and *prioridad*, in a
column it calls "CLÚSTER". :class:`PriorityRule` makes that rule explicit and configurable:

``kmeans`` (default)
    k-means (k = 3) on two standardised features, the Empirical-Bayes smoothed rate and the
    volume (number of complaints), so that a unit is prioritised for a high *risk* or for a high
    *load* of work. Clusters are ordered by the mean of their standardised features (highest
    first): the first is ALTA PRIORIDAD, the second PRIORIDAD, the rest none. The groups are
    then made monotone (:func:`monotone_groups`): a unit with at least the smoothed rate *and*
    at least the complaints of another is never in a lower group, which k-means' straight
    boundaries do not guarantee by themselves. A unit may still sit below one with a lower rate
    when that one has more complaints (a load of work) — the tables state that reason
    (:mod:`parsc_geo.priority.explain`).
``fisher_jenks``
    Natural breaks (Fisher 1958; Jenks 1977; ``mapclassify.FisherJenks``) of one indicator in
    ``k`` classes: the highest class is ALTA PRIORIDAD, the next PRIORIDAD.
``quantiles``
    ``k`` quantile classes (``mapclassify.Quantiles``) of one indicator, read the same way.
``thresholds``
    Fixed values of one indicator: at least ``thresholds[0]`` is ALTA PRIORIDAD, at least
    ``thresholds[1]`` PRIORIDAD.

Whatever the method, a guard applies afterwards: a unit with fewer than ``min_count`` complaints
cannot be ALTA PRIORIDAD (it is capped at PRIORIDAD), and one with fewer than
``min_count_prioridad`` gets no level, so that a handful of incidents in a small population
never puts a territory at the top. The ``motivo`` column says which step decided each level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt

from .. import settings
from .._errors import ConfigError
from .._text import num
from .._validate import ProblemCollector
from ..labels_es import INDICATORS as INDICATOR_NAMES

if TYPE_CHECKING:
    import pandas as pd

LEVEL_ALTA: Final = "ALTA PRIORIDAD"
LEVEL_PRIORIDAD: Final = "PRIORIDAD"
LEVEL_NONE: Final = ""
#: Levels from highest to none.
LEVELS: Final[tuple[str, ...]] = (LEVEL_ALTA, LEVEL_PRIORIDAD, LEVEL_NONE)

METHODS: Final[tuple[str, ...]] = ("kmeans", "fisher_jenks", "quantiles", "thresholds")
#: Indicators a one-dimensional rule can use: smoothed rate, crude rate, count.
INDICATORS: Final[tuple[str, ...]] = ("tasa_eb", "tasa", "n")
#: Features of the k-means rule (standardised before clustering).
KMEANS_FEATURES: Final[tuple[str, ...]] = ("tasa_eb", "n")

#: Fewest complaints in the period for ALTA PRIORIDAD (below it the level is capped at PRIORIDAD).
DEFAULT_MIN_COUNT: Final = 20
#: Fewest complaints in the period for any level.
DEFAULT_MIN_COUNT_PRIORIDAD: Final = 5
#: Random restarts of k-means (the best of them, by inertia, is kept).
DEFAULT_N_INIT: Final = 10
#: Unit pairs times features that :func:`levels_many` compares at once when it lifts replicates
#: (4 MB of booleans and, per pair, one 8-byte group: ≈ 20 MB with two features).
_MONOTONE_BATCH: Final = 4_000_000


@dataclass(frozen=True)
class PriorityRule:
    """A documented rule from indicators to levels (see the module docstring).

    Parameters
    ----------
    method
        ``"kmeans"``, ``"fisher_jenks"``, ``"quantiles"`` or ``"thresholds"``.
    k
        Number of clusters or classes (k-means, natural breaks, quantiles); at least 2.
    indicator
        Indicator of the one-dimensional methods: ``"tasa_eb"``, ``"tasa"`` or ``"n"``.
    thresholds
        ``(alta, prioridad)`` values of ``indicator`` for ``method="thresholds"``.
    min_count
        Fewest complaints for ALTA PRIORIDAD.
    min_count_prioridad
        Fewest complaints for any level.
    seed
        Seed of k-means' initialisation (``None``: :data:`parsc_geo.settings.SEED`).
    n_init
        Number of k-means restarts.
    """

    method: str = "kmeans"
    k: int = 3
    indicator: str = "tasa_eb"
    thresholds: tuple[float, float] | None = None
    min_count: int = DEFAULT_MIN_COUNT
    min_count_prioridad: int = DEFAULT_MIN_COUNT_PRIORIDAD
    seed: int | None = None
    n_init: int = DEFAULT_N_INIT

    def __post_init__(self) -> None:
        problems = ProblemCollector("en la regla de prioridad")
        if self.method not in METHODS:
            problems.add(f"method debe ser uno de {', '.join(METHODS)}; se recibió {self.method!r}")
        if self.indicator not in INDICATORS:
            problems.add(
                f"indicator debe ser uno de {', '.join(INDICATORS)}; se recibió {self.indicator!r}"
            )
        if not isinstance(self.k, int) or self.k < 2:
            problems.add(f"k debe ser un número entero de al menos 2; se recibió {self.k!r}")
        if self.method == "thresholds":
            if self.thresholds is None or len(self.thresholds) != 2:
                problems.add(
                    f"el método 'thresholds' requiere thresholds=(alta, prioridad); se recibió "
                    f"{self.thresholds!r}"
                )
            elif not self.thresholds[0] >= self.thresholds[1]:
                problems.add(
                    f"thresholds debe ser (alta, prioridad) con alta ≥ prioridad; se recibió "
                    f"{self.thresholds!r}"
                )
        if self.min_count < 0 or self.min_count_prioridad < 0:
            problems.add(
                "los conteos mínimos no deben ser negativos; se recibió "
                f"min_count={self.min_count}, min_count_prioridad={self.min_count_prioridad}"
            )
        if self.min_count_prioridad > self.min_count:
            problems.add(
                f"min_count_prioridad ({self.min_count_prioridad}) no debe superar min_count "
                f"({self.min_count})"
            )
        if not isinstance(self.n_init, int) or self.n_init < 1:
            problems.add(f"n_init debe ser un número entero positivo; se recibió {self.n_init!r}")
        problems.raise_if_any(ConfigError, hint="vea las reglas en parsc_geo.priority_levels")

    @property
    def effective_seed(self) -> int:
        """Return the seed used (the setting when none was given)."""
        return settings.SEED if self.seed is None else self.seed

    def as_dict(self) -> dict[str, Any]:
        """Return every parameter, with the seed actually used."""
        out = asdict(self)
        out["seed"] = self.effective_seed
        out["thresholds"] = list(self.thresholds) if self.thresholds is not None else None
        if self.method == "kmeans":
            out["features"] = list(KMEANS_FEATURES)
        return out

    def describe(self) -> str:
        """Return the rule in Spanish, for tables and the run record."""
        if self.method == "kmeans":
            head = (
                f"Agrupamiento k-medias (k = {self.k}, {self.n_init} inicios, semilla "
                f"{self.effective_seed}) de las unidades según la tasa suavizada por Bayes "
                "empírico y el número de denuncias, ambos estandarizados; los grupos se ordenan "
                "por la media de sus variables estandarizadas: el primero es ALTA PRIORIDAD, el "
                "segundo PRIORIDAD; ninguna unidad queda por debajo de otra que no la supere ni "
                "en tasa suavizada ni en número de denuncias"
            )
        elif self.method == "fisher_jenks":
            head = (
                f"Cortes naturales de Fisher-Jenks en {self.k} clases de la "
                f"{INDICATOR_NAMES[self.indicator]}: la clase más alta es ALTA PRIORIDAD, la "
                "siguiente PRIORIDAD"
            )
        elif self.method == "quantiles":
            head = (
                f"{self.k} cuantiles de la {INDICATOR_NAMES[self.indicator]}: el cuantil más alto "
                "es ALTA PRIORIDAD, el siguiente PRIORIDAD"
            )
        else:
            assert self.thresholds is not None
            head = (
                f"Umbrales fijos de la {INDICATOR_NAMES[self.indicator]}: desde "
                f"{self.thresholds[0]:g} ALTA PRIORIDAD, desde {self.thresholds[1]:g} PRIORIDAD"
            )
        return (
            f"{head}. Salvaguarda: con menos de {self.min_count} denuncias en el periodo una "
            f"unidad no puede ser ALTA PRIORIDAD, y con menos de {self.min_count_prioridad} no "
            "recibe nivel."
        )


def kmeans(
    features: npt.ArrayLike, k: int, *, seed: int, n_init: int = DEFAULT_N_INIT, max_iter: int = 300
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], float]:
    """Cluster points with k-means (Lloyd's algorithm, k-means++ seeding, best of ``n_init``).

    Parameters
    ----------
    features
        ``(n, d)`` array.
    k
        Number of clusters (at most the number of distinct rows).
    seed
        Seed of the initialisations; the same seed gives the same clusters.
    n_init
        Number of restarts; the partition with the lowest inertia is kept (the first on ties).
    max_iter
        Maximum Lloyd iterations per restart.

    Returns
    -------
    labels, centers, inertia
        Cluster of each point (0…k-1 in order of first appearance), centres and the sum of
        squared distances to them.

    Notes
    -----
    A small dependency-free implementation so that thousands of bootstrap replicates on a few
    dozen units stay fast; the tests check it against ``sklearn.cluster.KMeans``. Seeding is
    k-means++ (Arthur & Vassilvitskii 2007).
    """
    x = np.asarray(features, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    n = x.shape[0]
    rng = np.random.default_rng(seed)
    best: tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], float] | None = None
    for _ in range(n_init):
        centers = np.empty((k, x.shape[1]))
        centers[0] = x[rng.integers(n)]
        d2 = ((x - centers[0]) ** 2).sum(axis=1)
        for j in range(1, k):
            total = d2.sum()
            idx = int(rng.choice(n, p=d2 / total)) if total > 0 else int(rng.integers(n))
            centers[j] = x[idx]
            d2 = np.minimum(d2, ((x - centers[j]) ** 2).sum(axis=1))
        labels = np.full(n, -1, dtype=np.int64)
        for _ in range(max_iter):
            dist = ((x[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
            new = dist.argmin(axis=1)
            sizes = np.bincount(new, minlength=k)
            for empty in np.flatnonzero(sizes == 0):
                # An empty cluster takes the point farthest from its centre (as scikit-learn).
                far = int(dist[np.arange(n), new].argmax())
                new[far] = empty
                dist[far] = 0.0
                sizes = np.bincount(new, minlength=k)
            if np.array_equal(new, labels):
                break
            labels = new
            centers = (
                np.column_stack(
                    [np.bincount(labels, weights=x[:, d], minlength=k) for d in range(x.shape[1])]
                )
                / sizes[:, None]
            )
        inertia = float(((x - centers[labels]) ** 2).sum())
        if best is None or inertia < best[2] - 1e-12:
            best = (labels, centers, inertia)
    assert best is not None
    labels, centers, inertia = best
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(first, kind="stable")
    relabel = np.empty(k, dtype=np.int64)
    relabel[order] = np.arange(k)
    return relabel[labels], centers[order], inertia


def kmeans_many(
    features: npt.ArrayLike, k: int, *, seed: int, n_init: int = DEFAULT_N_INIT, max_iter: int = 300
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Run :func:`kmeans` on many data sets of the same shape at once, with identical results.

    Parameters
    ----------
    features
        ``(b, n, d)`` array: ``b`` data sets of ``n`` points (e.g. bootstrap replicates).
    k, seed, n_init, max_iter
        As in :func:`kmeans`; every data set uses the same seed, as separate calls would.

    Returns
    -------
    labels, centers, inertia
        ``(b, n)``, ``(b, k, d)`` and ``(b,)``: for every data set exactly what :func:`kmeans`
        returns (same floating-point operations in the same order, one data set per row).

    Notes
    -----
    Separate calls with one seed draw the same random numbers (the first centre's index, then
    one uniform number per further k-means++ centre), so the draws are made once and applied
    to every data set. A data set that would draw differently (all its points on the chosen
    centres) is computed again with :func:`kmeans`.
    """
    x = np.asarray(features, dtype=float)
    if x.ndim == 2:
        x = x[:, :, None]
    b, n, d = x.shape
    rows = np.arange(b)
    offsets = (rows * k)[:, None]
    rng = np.random.default_rng(seed)
    redo = np.zeros(b, dtype=bool)
    best_labels = np.zeros((b, n), dtype=np.int64)
    best_centers = np.zeros((b, k, d))
    best_inertia = np.zeros(b)
    for init in range(n_init):
        centers = np.empty((b, k, d))
        centers[:, 0] = x[:, int(rng.integers(n))]
        d2 = _sum_last((x - centers[:, 0][:, None, :]) ** 2)
        for j in range(1, k):
            total = d2.sum(axis=1)
            # kmeans() draws an index instead of a uniform number here: its random numbers
            # part from these, so such data sets are computed on their own afterwards.
            degenerate = ~(total > 0)
            redo |= degenerate
            # Generator.choice(n, p=p): cumulative sum, normalised, searched with one uniform
            with np.errstate(divide="ignore", invalid="ignore"):
                cdf = np.cumsum(d2 / np.where(degenerate, 1.0, total)[:, None], axis=1)
                cdf /= cdf[:, -1:]
            pick = np.minimum((cdf <= rng.random()).sum(axis=1), n - 1)
            centers[:, j] = x[rows, pick]
            d2 = np.minimum(d2, _sum_last((x - centers[:, j][:, None, :]) ** 2))
        labels = np.full((b, n), -1, dtype=np.int64)
        # Data sets still iterating: the converged ones drop out of the arrays.
        act = rows
        for _ in range(max_iter):
            xa, ca = x[act], centers[act]
            m = len(act)
            dist = _sum_last((xa[:, :, None, :] - ca[:, None, :, :]) ** 2)
            new = dist.argmin(axis=2)
            sizes = np.bincount((new + offsets[:m]).ravel(), minlength=m * k).reshape(m, k)
            for row in np.flatnonzero((sizes == 0).any(axis=1)).tolist():
                for empty in np.flatnonzero(sizes[row] == 0):
                    # An empty cluster takes the point farthest from its centre (as kmeans()).
                    far = int(dist[row][np.arange(n), new[row]].argmax())
                    new[row, far] = empty
                    dist[row, far] = 0.0
                    sizes[row] = np.bincount(new[row], minlength=k)
            moving = ~(new == labels[act]).all(axis=1)
            if not moving.any():
                break
            act, new, sizes, xa = act[moving], new[moving], sizes[moving], xa[moving]
            m = len(act)
            labels[act] = new
            index = (new + offsets[:m]).ravel()
            sums = np.stack(
                [
                    np.bincount(index, weights=xa[:, :, c].ravel(), minlength=m * k)
                    for c in range(d)
                ],
                axis=1,
            ).reshape(m, k, d)
            centers[act] = sums / sizes[:, :, None]
        inertia = ((x - centers[rows[:, None], labels]) ** 2).reshape(b, n * d).sum(axis=1)
        better = np.ones(b, dtype=bool) if init == 0 else inertia < best_inertia - 1e-12
        best_labels[better] = labels[better]
        best_centers[better] = centers[better]
        best_inertia[better] = inertia[better]
    out_labels = np.empty((b, n), dtype=np.int64)
    out_centers = np.empty((b, k, d))
    for r in range(b):
        if redo[r]:
            labels_r, centers_r, inertia_r = kmeans(
                x[r], k, seed=seed, n_init=n_init, max_iter=max_iter
            )
            out_labels[r], out_centers[r], best_inertia[r] = labels_r, centers_r, inertia_r
            continue
        _, first = np.unique(best_labels[r], return_index=True)
        order = np.argsort(first, kind="stable")
        relabel = np.empty(k, dtype=np.int64)
        relabel[order] = np.arange(k)
        out_labels[r] = relabel[best_labels[r]]
        out_centers[r] = best_centers[r][order]
    return out_labels, out_centers, best_inertia


def _sum_last(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Return ``values.sum(axis=-1)`` with the same rounding, faster on a short last axis.

    numpy's sum along a short axis is ``a₀ + (a₁ + a₂ + …)``, the bracket added in order;
    adding whole columns in that order gives the same bits without a reduction per element.
    """
    if not 2 <= values.shape[-1] <= 8:
        summed: npt.NDArray[np.float64] = values.sum(axis=-1)
        return summed
    rest = values[..., 1].copy()
    for c in range(2, values.shape[-1]):
        rest += values[..., c]
    total: npt.NDArray[np.float64] = values[..., 0] + rest
    return total


def _standardise(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    std = values.std(axis=0)
    std[std == 0] = 1.0
    return (values - values.mean(axis=0)) / std


def monotone_groups(
    groups: npt.NDArray[np.int64], features: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """Return ``groups`` lifted so that no unit is below one it dominates on every feature.

    Parameters
    ----------
    groups
        Group of each unit (1 = highest): ``(n,)``, or ``(b, n)`` for ``b`` data sets at once.
    features
        ``(n, d)`` indicators (``(b, n, d)`` with ``b`` data sets), higher meaning more priority
        (smoothed rate, complaints).

    Returns
    -------
    numpy.ndarray
        ``min(groups[i], groups[j])`` over every ``j`` that unit ``i`` dominates (``features[i]
        >= features[j]`` in every column): a unit with at least the rate and at least the
        complaints of a prioritised one gets at least its level. Units never move down. Each
        data set of a batch is lifted on its own, exactly as one call per data set.
    """
    x = np.asarray(features, dtype=float)
    g = np.asarray(groups, dtype=np.int64)
    dominates = (x[..., :, None, :] >= x[..., None, :, :]).all(axis=-1)
    lifted = np.where(dominates, g[..., None, :], np.iinfo(np.int64).max).min(axis=-1)
    return np.minimum(g, lifted).astype(np.int64)


def _monotone_many(
    groups: npt.NDArray[np.int64], features: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """Return :func:`monotone_groups` of every row of ``groups`` (``(b, n)``) and ``features``.

    With two finite features (k-means' smoothed rate and complaints) a sweep replaces the
    ``n²`` pairs: after sorting each row by the first feature, the units a unit dominates are a
    prefix (up to the last unit with the same first feature) whose second feature is at most
    its own, so a unit reaches group ``g`` when the running minimum of the second feature over
    the units of groups ``≤ g`` in that prefix is at most its own. Only comparisons and minima
    of the values themselves: the same groups as the pairs. Otherwise (a value not finite,
    other widths) the pairs are compared, a few replicates at a time.
    """
    b, n, d = features.shape
    if n == 0:
        return groups.copy()
    if d != 2 or not np.isfinite(features).all():
        out = np.empty_like(groups)
        step = max(1, _MONOTONE_BATCH // max(1, n * n * d))
        for start in range(0, b, step):
            part = slice(start, start + step)
            out[part] = monotone_groups(groups[part], features[part])
        return out
    first, second = features[..., 0], features[..., 1]
    order = np.lexsort((second, first), axis=-1)
    s0 = np.take_along_axis(first, order, axis=-1)
    s1 = np.take_along_axis(second, order, axis=-1)
    sg = np.take_along_axis(groups, order, axis=-1)
    # end[r, p]: the last position of the run of units with the first feature of position p
    last = np.ones((b, n), dtype=bool)
    last[:, :-1] = s0[:, 1:] != s0[:, :-1]
    end = np.where(last, np.arange(n), n)[:, ::-1]
    end = np.minimum.accumulate(end, axis=1)[:, ::-1]
    lifted = sg.copy()
    for g in range(int(sg.max()) - 1, 0, -1):  # down to 1: the smallest group reached wins
        reach = np.minimum.accumulate(np.where(sg <= g, s1, np.inf), axis=1)
        hit = np.take_along_axis(reach, end, axis=1) <= s1
        lifted = np.where(hit, np.minimum(lifted, g), lifted)
    out = np.empty_like(groups)
    np.put_along_axis(out, order, lifted, axis=-1)
    return out


def _kmeans_input(
    indicators: Mapping[str, Any] | pd.DataFrame, rule: PriorityRule
) -> tuple[npt.NDArray[np.float64], int]:
    """Return the standardised k-means features and the number of clusters to form."""
    x = _kmeans_features(indicators)
    k = min(rule.k, len(np.unique(x, axis=0)))
    return (_standardise(x) if k >= 2 else x), k


def _kmeans_groups(
    z: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
    centers: npt.NDArray[np.float64],
    k: int,
) -> npt.NDArray[np.int64]:
    """Return each unit's group (1 = highest) from its k-means cluster."""
    score = np.array([z[labels == j].mean() for j in range(k)])
    # Highest mean first; ties by the smoothed-rate centre, then by first appearance.
    order = np.lexsort((np.arange(k), -centers[:, 0], -score))
    group_of = np.empty(k, dtype=np.int64)
    group_of[order] = np.arange(1, k + 1)
    result: npt.NDArray[np.int64] = group_of[labels]
    return result


def rank_groups(
    indicators: Mapping[str, Any] | pd.DataFrame, rule: PriorityRule
) -> tuple[npt.NDArray[np.int64], int]:
    """Return each unit's group (1 = highest) and the number of groups actually formed.

    Parameters
    ----------
    indicators
        ``n``, ``tasa`` and ``tasa_eb`` per unit (a DataFrame or a mapping of arrays).
    rule
        The rule.

    Returns
    -------
    groups, n_groups
        ``groups[i]`` is 1 for the top group; ``n_groups`` may be below ``rule.k`` when there
        are fewer distinct values than groups. k-means groups are monotone
        (:func:`monotone_groups`).
    """
    groups, n_groups = _method_groups(indicators, rule)
    if rule.method == "kmeans":
        groups = monotone_groups(groups, _kmeans_features(indicators))
    return groups, n_groups


def _kmeans_features(indicators: Mapping[str, Any] | pd.DataFrame) -> npt.NDArray[np.float64]:
    return np.column_stack([np.asarray(indicators[f], dtype=float) for f in KMEANS_FEATURES])


def _method_groups(
    indicators: Mapping[str, Any] | pd.DataFrame, rule: PriorityRule
) -> tuple[npt.NDArray[np.int64], int]:
    """Return each unit's group by the method alone (before the monotone repair).

    Parameters
    ----------
    indicators
        ``n``, ``tasa`` and ``tasa_eb`` per unit (a DataFrame or a mapping of arrays).
    rule
        The rule.

    Returns
    -------
    groups, n_groups
        ``groups[i]`` is 1 for the top group; ``n_groups`` may be below ``rule.k`` when there
        are fewer distinct values than groups.
    """
    import warnings

    if rule.method == "thresholds":
        assert rule.thresholds is not None
        y = np.asarray(indicators[rule.indicator], dtype=float)
        groups = np.where(y >= rule.thresholds[0], 1, np.where(y >= rule.thresholds[1], 2, 3))
        return groups.astype(np.int64), 3
    if rule.method == "kmeans":
        z, k = _kmeans_input(indicators, rule)
        if k < 2:
            return np.ones(len(z), dtype=np.int64), 1
        labels, centers, _ = kmeans(z, k, seed=rule.effective_seed, n_init=rule.n_init)
        return _kmeans_groups(z, labels, centers, k), k
    import mapclassify

    y = np.asarray(indicators[rule.indicator], dtype=float)
    k = min(rule.k, len(np.unique(y)))
    if k < 2:
        return np.ones(len(y), dtype=np.int64), 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if rule.method == "fisher_jenks":
            classifier = mapclassify.FisherJenks(y, k=k)
        else:
            classifier = mapclassify.Quantiles(y, k=k)
    yb = np.asarray(classifier.yb, dtype=np.int64)
    n_classes = len(classifier.bins)
    return (n_classes - yb).astype(np.int64), n_classes


class _Decision(NamedTuple):
    groups: npt.NDArray[np.int64]
    n_groups: int
    lifted: npt.NDArray[np.bool_]
    by_rule: npt.NDArray[np.object_]
    final: npt.NDArray[np.object_]
    capped: npt.NDArray[np.bool_]
    dropped: npt.NDArray[np.bool_]


def _levels(indicators: Mapping[str, Any] | pd.DataFrame, rule: PriorityRule) -> _Decision:
    groups, n_groups = _method_groups(indicators, rule)
    lifted = np.zeros(len(groups), dtype=bool)
    if rule.method == "kmeans":
        monotone = monotone_groups(groups, _kmeans_features(indicators))
        lifted = monotone < groups
        groups = monotone
    n = np.asarray(indicators["n"], dtype=float)
    return _decide(groups, n_groups, lifted, n, rule)


def _decide(
    groups: npt.NDArray[np.int64],
    n_groups: int,
    lifted: npt.NDArray[np.bool_],
    n: npt.NDArray[np.float64],
    rule: PriorityRule,
) -> _Decision:
    """Return the levels of units already in (monotone) groups, the guard applied."""
    if n_groups < 2 or n.sum() == 0:
        by_rule = np.full(len(groups), LEVEL_NONE, dtype=object)
    else:
        by_rule = np.select([groups == 1, groups == 2], [LEVEL_ALTA, LEVEL_PRIORIDAD], LEVEL_NONE)
        by_rule = by_rule.astype(object)
    final = by_rule.copy()
    capped = (final == LEVEL_ALTA) & (n < rule.min_count)
    final[capped] = LEVEL_PRIORIDAD
    dropped = (final == LEVEL_PRIORIDAD) & (n < rule.min_count_prioridad)
    final[dropped] = LEVEL_NONE
    return _Decision(groups, n_groups, lifted, by_rule, final, capped, dropped)


def levels_array(indicators: Mapping[str, Any], rule: PriorityRule) -> npt.NDArray[np.object_]:
    """Return only the final level of each unit (the fast path of :func:`assign_levels`)."""
    return np.asarray(_levels(indicators, rule).final, dtype=object)


def levels_many(
    indicators: Sequence[Mapping[str, Any]], rule: PriorityRule
) -> npt.NDArray[np.object_]:
    """Return the final levels of many sets of indicators (one row each), as :func:`levels_array`.

    Every set must describe the same units. With the k-means rule the sets that form the same
    number of clusters are clustered together (:func:`kmeans_many`) and made monotone together
    (:func:`monotone_groups` on a batch), which makes thousands of bootstrap replicates fast;
    the other rules run set by set. The levels are identical to calling :func:`levels_array`
    on each set (monotone lift and minimum-count guard included).
    """
    units = len(indicators[0]["n"]) if indicators else 0
    out = np.empty((len(indicators), units), dtype=object)
    if not len(indicators):
        return out
    if rule.method != "kmeans":
        for r, values in enumerate(indicators):
            out[r] = levels_array(values, rule)
        return out
    inputs = [_kmeans_input(values, rule) for values in indicators]
    groups = np.ones((len(indicators), units), dtype=np.int64)
    for k in sorted({k for _, k in inputs}):
        if k < 2:  # one group: every unit in it, as _method_groups
            continue
        rows = [r for r, (_, kr) in enumerate(inputs) if kr == k]
        z = np.stack([inputs[r][0] for r in rows])
        labels, centers, _ = kmeans_many(z, k, seed=rule.effective_seed, n_init=rule.n_init)
        for i, r in enumerate(rows):
            groups[r] = _kmeans_groups(z[i], labels[i], centers[i], k)
    # The lift compares the raw features, as _levels does (standardising could tie two values).
    monotone = _monotone_many(groups, np.stack([_kmeans_features(v) for v in indicators]))
    for r, values in enumerate(indicators):
        n_groups = inputs[r][1] if inputs[r][1] >= 2 else 1
        n = np.asarray(values["n"], dtype=float)
        decision = _decide(monotone[r], n_groups, monotone[r] < groups[r], n, rule)
        out[r] = decision.final
    return out


def assign_levels(indicators: pd.DataFrame, rule: PriorityRule) -> pd.DataFrame:
    """Assign ALTA PRIORIDAD / PRIORIDAD / none to units by ``rule``, then apply the guard.

    Parameters
    ----------
    indicators
        One row per unit with columns ``n``, ``tasa`` and ``tasa_eb``.
    rule
        The rule.

    Returns
    -------
    pandas.DataFrame
        Same index; columns ``grupo`` (1 = highest group), ``nivel_regla`` (level by the
        method alone), ``nivel`` (after the minimum-count guard) and ``motivo`` (Spanish text).

    Notes
    -----
    With a single group (every unit alike, or no complaints at all) no unit is prioritised:
    the data give no contrast to prioritise on.
    """
    import pandas as pd

    decision = _levels(indicators, rule)
    n = np.asarray(indicators["n"], dtype=float)
    no_contrast = decision.n_groups < 2 or n.sum() == 0
    method_es = {
        "kmeans": "k-medias",
        "fisher_jenks": "cortes naturales",
        "quantiles": "cuantiles",
        "thresholds": "umbrales",
    }[rule.method]
    rate = np.asarray(indicators["tasa_eb"], dtype=float)
    reasons = []
    for i, (g, count, r) in enumerate(zip(decision.groups, n, rate, strict=True)):
        text = (
            f"grupo {g} de {decision.n_groups} ({method_es}): tasa suavizada {num(r, 1)} por "
            f"100 000 hab., {num(count)} denuncias"
        )
        if no_contrast:
            text += "; sin contraste entre unidades"
        if decision.lifted[i]:
            text += (
                "; subido de grupo: tiene al menos la tasa suavizada y las denuncias de una "
                "unidad de un grupo más alto"
            )
        if decision.capped[i]:
            text += f"; limitado a PRIORIDAD: {num(count)} denuncias < mínimo {rule.min_count}"
        if decision.dropped[i]:
            text += f"; sin nivel: {num(count)} denuncias < mínimo {rule.min_count_prioridad}"
        reasons.append(text)
    groups, by_rule, final = decision.groups, decision.by_rule, decision.final
    return pd.DataFrame(
        {"grupo": groups, "nivel_regla": by_rule, "nivel": final, "motivo": reasons},
        index=indicators.index,
    )
