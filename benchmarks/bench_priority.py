"""Benchmark: the priority analysis of the bundled sample with 200 bootstrap replicates.

Goal (issue 18): the bootstrap of rank stability no longer a fixed cost of seconds. The
reference, measured in the same run, is the previous bootstrap — one k-means per replicate in
a Python loop — swapped in for :func:`parsc_geo.priority.territories.bootstrap_stability`;
both must give the same stability shares (checked). CPU times, best of ``--repeat``.

Usage: ``.venv/bin/python benchmarks/bench_priority.py [--boot 200] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _measure import machine_note

from parsc_geo.priority import compute_priority, levels_array, territories
from parsc_geo.priority.rates import RATE_PER, empirical_bayes


def loop_bootstrap(counts, population, levels, rule, *, n_boot, seed):
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


def main() -> None:
    from parsc_geo.datasets import sample_paths
    from parsc_geo.ingest import IngestOptions
    from parsc_geo.workflow import count_tables, ingest

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boot", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    accepted = ingest([sample_paths()["incidents"]], IngestOptions()).result.accepted
    tables = count_tables([], accepted)
    vectorised = territories.bootstrap_stability

    def timed(bootstrap) -> tuple[float, np.ndarray]:
        territories.bootstrap_stability = bootstrap
        best, shares = float("inf"), np.zeros(0)
        try:
            for _ in range(args.repeat):
                start = time.process_time()
                result = compute_priority(tables, n_boot=args.boot, seed=20210101, synthetic=True)
                best = min(best, time.process_time() - start)
                shares = result.table["estabilidad"].to_numpy()
        finally:
            territories.bootstrap_stability = vectorised
        return best, shares

    ours, a = timed(vectorised)
    reference, b = timed(loop_bootstrap)
    print(f"compute_priority on the sample, {args.boot} replicates; {machine_note()}")
    print(f"  one k-means per replicate (before)   {reference:6.2f} s CPU")
    ratio = ours / reference
    print(f"  all replicates clustered together    {ours:6.2f} s CPU   ratio {ratio:.2f}")
    print(f"  same stability shares: {'yes' if np.array_equal(a, b) else 'NO'} ({len(a)} units)")


if __name__ == "__main__":
    main()
