"""The bootstrap of rank stability: all replicates clustered together, the same figures.

The reference is the previous implementation (one k-means per replicate, in a loop), kept here
as the oracle: the vectorised bootstrap must give exactly the same levels — monotone lift and
minimum-count guard included — and the same stability figures with the same seed, on random
data (including degenerate replicates and empty clusters) and on the bundled sample's priority
analysis (stability, alternative level and the published NIVEL INCIERTO text).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parsc_geo.priority import PriorityRule, compute_priority, levels_array
from parsc_geo.priority.levels import (
    _levels,
    _monotone_many,
    kmeans,
    kmeans_many,
    levels_many,
    monotone_groups,
)
from parsc_geo.priority.rates import RATE_PER, empirical_bayes
from parsc_geo.priority.territories import bootstrap_stability


def reference_stability(counts, population, levels, rule, *, n_boot, seed):
    """The previous bootstrap: one levels_array (one k-means) per replicate."""
    if n_boot <= 0:
        return np.full(len(counts), np.nan)
    total = int(counts.sum())
    if total == 0:
        return np.ones(len(counts))
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(total, counts / total, size=n_boot)
    same = np.zeros(len(counts))
    for draw in draws:
        eb = empirical_bayes(draw.astype(float), population, per=RATE_PER)
        indicators = {"n": draw.astype(float), "tasa": eb.raw_rate, "tasa_eb": eb.rate}
        same += levels_array(indicators, rule) == levels
    return same / n_boot


def reference_levels_many(indicators, rule):
    """One levels_array per set of indicators (the per-replicate path)."""
    return np.array([levels_array(values, rule) for values in indicators], dtype=object)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [2, 3, 5])
def test_kmeans_many_is_kmeans_on_each_data_set(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    sets = rng.normal(size=(40, 25, 2)) * rng.uniform(0.5, 3, (40, 1, 1))
    sets[3] = 0.0  # every point identical: kmeans() draws differently, redone on its own
    sets[4, :, 0] = np.repeat(rng.normal(size=5), 5)  # few distinct points: empty clusters
    sets[4, :, 1] = 1.0
    sets[5] = np.round(sets[5])  # ties
    wide = rng.normal(size=(10, 30, 5))  # five features: the short-axis sums in order
    for data in (sets, wide):
        labels, centers, inertia = kmeans_many(data, k, seed=seed + 100, n_init=4)
        for r in range(len(data)):
            ref = kmeans(data[r], k, seed=seed + 100, n_init=4)
            np.testing.assert_array_equal(labels[r], ref[0])
            np.testing.assert_array_equal(centers[r], ref[1])
            assert inertia[r] == ref[2]


@pytest.mark.parametrize("seed", range(8))
def test_bootstrap_equals_one_kmeans_per_replicate(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_units = int(rng.integers(8, 130))
    population = rng.integers(2_000, 300_000, n_units).astype(float)
    counts = rng.poisson(rng.gamma(1.0, 30.0, n_units)).astype(float)
    counts[rng.random(n_units) < 0.2] = 0.0
    rule = PriorityRule(seed=int(rng.integers(1000)), k=int(rng.integers(2, 5)))
    eb = empirical_bayes(counts, population, per=RATE_PER)
    levels = levels_array({"n": counts, "tasa": eb.raw_rate, "tasa_eb": eb.rate}, rule)
    new = bootstrap_stability(counts, population, levels, rule, n_boot=60, seed=seed)
    old = reference_stability(counts, population, levels, rule, n_boot=60, seed=seed)
    np.testing.assert_array_equal(new, old)
    assert 0 < new.mean() < 1


@pytest.mark.parametrize("seed", range(4))
def test_levels_many_lifts_as_levels_array(seed: int) -> None:
    # Sets of 25 units with rates and complaints spread apart: in about one set in eight
    # k-means' straight boundaries leave a unit below one it dominates (at least its smoothed
    # rate and its complaints), which the monotone lift repairs. The batched path must lift
    # exactly the units the per-replicate path lifts, and apply the guard the same way.
    rng = np.random.default_rng(seed)
    rule = PriorityRule(seed=seed, k=3, min_count=20, min_count_prioridad=5)
    sets = []
    for _ in range(100):
        rate = rng.gamma(2.0, 50.0, 25)
        sets.append({"n": rng.integers(0, 400, 25).astype(float), "tasa": rate, "tasa_eb": rate})
    lifted = [bool(_levels(values, rule).lifted.any()) for values in sets]
    assert sum(lifted) >= 5  # the lift is exercised, not only the plain k-means groups
    expected = reference_levels_many(sets, rule)
    np.testing.assert_array_equal(levels_many(sets, rule), expected)
    # lifted in chunks of two sets (as a large territory would be): the same levels
    from parsc_geo.priority import levels as levels_module

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(levels_module, "_MONOTONE_BATCH", 2 * 25 * 25 * 2)
        np.testing.assert_array_equal(levels_many(sets, rule), expected)


def pairwise(groups, features):
    """monotone_groups' definition, one replicate at a time (every pair compared)."""
    return np.stack([monotone_groups(groups[r], features[r]) for r in range(len(groups))])


@pytest.mark.parametrize("seed", range(5))
def test_monotone_sweep_equals_the_pairs(seed: int) -> None:
    # The batched lift (a sweep over units sorted by rate) against every pair compared:
    # ties on either feature (rounded values, repeated units) and groups 1..5.
    rng = np.random.default_rng(seed)
    b, n = 60, 30
    features = np.round(rng.gamma(2.0, 3.0, (b, n, 2)))
    features[:, 5] = features[:, 6]  # identical units
    groups = rng.integers(1, 6, (b, n)).astype(np.int64)
    expected = pairwise(groups, features)
    assert (expected < groups).sum() > 0  # units are lifted
    np.testing.assert_array_equal(_monotone_many(groups, features), expected)
    # a NaN or an infinity: the pairs are compared (NaN dominates nothing)
    odd = features.copy()
    odd[7, 3, 1] = np.nan
    odd[8, 2, 0] = np.inf
    np.testing.assert_array_equal(_monotone_many(groups, odd), pairwise(groups, odd))
    # three features: the pairs, a few replicates at a time
    wide = rng.gamma(2.0, 3.0, (4, n, 3)).round()
    np.testing.assert_array_equal(_monotone_many(groups[:4], wide), pairwise(groups[:4], wide))


def test_levels_many_of_no_sets() -> None:
    assert levels_many([], PriorityRule()).shape == (0, 0)


@pytest.mark.parametrize("method", ["fisher_jenks", "quantiles"])
def test_other_rules_still_bootstrap(method: str) -> None:
    rng = np.random.default_rng(4)
    population = rng.integers(5_000, 90_000, 13).astype(float)
    counts = rng.poisson(80, 13).astype(float)
    rule = PriorityRule(method=method)
    eb = empirical_bayes(counts, population, per=RATE_PER)
    levels = levels_array({"n": counts, "tasa": eb.raw_rate, "tasa_eb": eb.rate}, rule)
    new = bootstrap_stability(counts, population, levels, rule, n_boot=30, seed=1)
    old = reference_stability(counts, population, levels, rule, n_boot=30, seed=1)
    np.testing.assert_array_equal(new, old)


def test_sample_priority_stability_is_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    from parsc_geo.datasets import sample_paths
    from parsc_geo.ingest import IngestOptions
    from parsc_geo.priority import stability
    from parsc_geo.workflow import count_tables, ingest

    ingested = ingest([sample_paths()["incidents"]], IngestOptions())
    tables = count_tables([], ingested.result.accepted)
    new = compute_priority(tables, n_boot=50, seed=20210101, synthetic=True)
    # the published figures come from stability.bootstrap_levels: one levels_array per replicate
    monkeypatch.setattr(stability, "levels_many", reference_levels_many)
    old = compute_priority(tables, n_boot=50, seed=20210101, synthetic=True)
    columns = ["nivel", "estabilidad", "nivel_alternativo", "estabilidad_alternativa"]
    columns += ["incierto", "nivel_publicado"]
    pd.testing.assert_frame_equal(new.table[columns], old.table[columns])
    ranked = new.table[new.table["con_datos"]]
    assert ranked["estabilidad"].between(0, 1).all()
    assert (ranked["estabilidad"] < 1).any()
