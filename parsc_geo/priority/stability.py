"""How stable a priority level is, and what a table publishes for an unstable one.

A level is recomputed on bootstrap resamples of the period's complaints
(:func:`bootstrap_levels`). The published rule (:func:`published_levels`): a unit that keeps
its level in at least ``min_stability`` of the replicates (default 80 %, four resamples out of
five) publishes it; below that, the table reads ``NIVEL INCIERTO (A o B)``, ``A`` and ``B``
being the two candidate levels — the observed one and the one the unit takes most often in
the other replicates — highest first. The committee then sees that the data do not decide
between the two, instead of a level that one more or one fewer complaint could change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from .levels import LEVEL_ALTA, LEVEL_NONE, LEVEL_PRIORIDAD, LEVELS, PriorityRule, levels_many
from .rates import RATE_PER, empirical_bayes

#: Least share of bootstrap replicates in which a unit must keep its level to publish it.
DEFAULT_MIN_STABILITY: Final = 0.8
#: What a table prints for a level that is not stable (then the two candidates in brackets).
UNCERTAIN: Final = "NIVEL INCIERTO"
#: The levels as the plan's tables write them (no level: SIN PRIORIDAD).
LEVEL_TEXT: Final[dict[str, str]] = {
    LEVEL_ALTA: LEVEL_ALTA,
    LEVEL_PRIORIDAD: LEVEL_PRIORIDAD,
    LEVEL_NONE: "SIN PRIORIDAD",
}


def stability_percent(share: float) -> int | None:
    """Return a stability as a whole percent, rounded down (None when not computed).

    Rounded down so that a level kept in 79.5 % of the replicates never reads "80 %" beside
    the word uncertain.
    """
    if share != share:
        return None
    return int(np.floor(share * 100 + 1e-9))


@dataclass(frozen=True)
class Stability:
    """Levels of the units across bootstrap replicates.

    Attributes
    ----------
    shares
        ``(units, 3)`` share of replicates in which each unit is ALTA PRIORIDAD, PRIORIDAD and
        without level (the order of :data:`parsc_geo.priority.levels.LEVELS`); NaN without
        replicates.
    own
        Share of replicates in which each unit keeps its observed level (the stability).
    alternative
        The other level each unit takes most often ("" level = none; ``None`` when it never
        leaves its level or there are no replicates).
    alternative_share
        Share of replicates with ``alternative``.
    n_boot
        Number of replicates.
    """

    shares: npt.NDArray[np.float64]
    own: npt.NDArray[np.float64]
    alternative: npt.NDArray[np.object_]
    alternative_share: npt.NDArray[np.float64]
    n_boot: int


def replicate_levels(
    draws: npt.NDArray[np.float64], population: npt.NDArray[np.float64], rule: PriorityRule
) -> npt.NDArray[np.object_]:
    """Return the levels of every bootstrap replicate, ``(replicates, units)``.

    Rates and smoothing are recomputed on each replicate's counts; the levels of all the
    replicates come from one :func:`~parsc_geo.priority.levels.levels_many` call (k-means of
    every replicate at once), identical to one
    :func:`~parsc_geo.priority.levels.levels_array` per replicate.
    """
    replicates = []
    for draw in draws:
        eb = empirical_bayes(draw, population, per=RATE_PER)
        replicates.append({"n": draw, "tasa": eb.raw_rate, "tasa_eb": eb.rate})
    return levels_many(replicates, rule)


def bootstrap_levels(
    counts: npt.NDArray[np.float64],
    population: npt.NDArray[np.float64],
    levels: npt.NDArray[np.object_],
    rule: PriorityRule,
    *,
    n_boot: int,
    seed: int,
) -> Stability:
    """Return how often each unit takes each level when the complaints are resampled.

    Parameters
    ----------
    counts
        Complaints per unit in the period.
    population
        Population per unit.
    levels
        The observed levels.
    rule
        The rule that produced ``levels`` (applied unchanged to every replicate).
    n_boot
        Number of replicates (0: nothing is computed, every share is NaN).
    seed
        Seed of the resampling.

    Returns
    -------
    Stability

    Notes
    -----
    Resampling the N complaints of the period with replacement (Efron & Tibshirani 1993) makes
    each replicate's counts a multinomial draw with N trials and probabilities equal to the
    observed shares, which is how the replicates are drawn. Rates, smoothing and levels are
    recomputed on every replicate (:func:`replicate_levels`, all replicates clustered at
    once). Without any complaint every replicate is the observed one.
    """
    units = len(counts)
    levels = np.asarray(levels, dtype=object)
    if n_boot <= 0:
        nan = np.full(units, np.nan)
        return Stability(
            np.full((units, len(LEVELS)), np.nan), nan, np.full(units, None, dtype=object), nan, 0
        )
    tally = np.zeros((units, len(LEVELS)))
    total = int(counts.sum())
    if total == 0:
        for j, level in enumerate(LEVELS):
            tally[:, j] = (levels == level) * n_boot
    else:
        rng = np.random.default_rng(seed)
        draws = rng.multinomial(total, counts / total, size=n_boot).astype(float)
        got = replicate_levels(draws, population, rule)
        for j, level in enumerate(LEVELS):
            tally[:, j] = (got == level).sum(axis=0)
    shares = tally / n_boot
    own_index = np.array([LEVELS.index(str(level)) for level in levels], dtype=np.int64)
    own = shares[np.arange(units), own_index]
    others = shares.copy()
    others[np.arange(units), own_index] = -1.0
    best = others.argmax(axis=1)
    best_share = others[np.arange(units), best]
    alternative = np.array(
        [LEVELS[b] if s > 0 else None for b, s in zip(best, best_share, strict=True)],
        dtype=object,
    )
    return Stability(shares, own, alternative, np.where(best_share > 0, best_share, 0.0), n_boot)


def published_levels(
    levels: npt.NDArray[np.object_], stability: Stability, min_stability: float
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.object_]]:
    """Return which levels are uncertain and the text a table publishes for every unit.

    Parameters
    ----------
    levels
        The observed levels.
    stability
        Their bootstrap stability (:func:`bootstrap_levels`).
    min_stability
        Least share of replicates that keep the level for it to be published.

    Returns
    -------
    uncertain, text
        ``uncertain[i]`` when the unit keeps its level in fewer than ``min_stability`` of the
        replicates; ``text[i]`` is the level (``""`` for none) or ``NIVEL INCIERTO (A o B)``
        with the two candidate levels, highest first. Without replicates nothing is uncertain.
    """
    levels = np.asarray(levels, dtype=object)
    uncertain = np.asarray(
        np.isfinite(stability.own) & (stability.own < min_stability - 1e-12), dtype=bool
    )
    text = levels.copy()
    for i in np.flatnonzero(uncertain):
        alternative = stability.alternative[i]
        candidates = {str(levels[i])} | ({str(alternative)} if alternative is not None else set())
        ordered = [LEVEL_TEXT[level] for level in LEVELS if level in candidates]
        text[i] = f"{UNCERTAIN} ({' o '.join(ordered)})"
    return uncertain, text
