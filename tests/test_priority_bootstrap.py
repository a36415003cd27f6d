"""The bootstrap of rank stability: all replicates clustered together, the same figures.

The reference is the previous implementation (one k-means per replicate, in a loop), kept here
as the oracle: the vectorised bootstrap must give exactly the same stability shares with the
same seed, on random data (including degenerate replicates and empty clusters) and on the
bundled sample's priority analysis.
"""

from __future__ import annotations

import numpy as np
import pytest

from parsc_geo.priority import PriorityRule, compute_priority, levels_array
from parsc_geo.priority.levels import kmeans, kmeans_many
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
    from parsc_geo.priority import territories
    from parsc_geo.workflow import count_tables, ingest

    ingested = ingest([sample_paths()["incidents"]], IngestOptions())
    tables = count_tables([], ingested.result.accepted)
    new = compute_priority(tables, n_boot=50, seed=20210101, synthetic=True)
    monkeypatch.setattr(territories, "bootstrap_stability", reference_stability)
    old = compute_priority(tables, n_boot=50, seed=20210101, synthetic=True)
    np.testing.assert_array_equal(
        new.table["estabilidad"].to_numpy(), old.table["estabilidad"].to_numpy()
    )
    assert new.table["estabilidad"].between(0, 1).all()
    assert (new.table["estabilidad"] < 1).any()
