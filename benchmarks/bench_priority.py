"""Benchmark: the priority analysis of the bundled sample with 200 bootstrap replicates.

Goal (issue 18): the bootstrap of rank stability no longer a fixed cost of seconds. The
reference, measured in the same run, is the previous bootstrap — one k-means (and one monotone
lift) per replicate in a Python loop — swapped in for the
:func:`parsc_geo.priority.levels.levels_many` that
:func:`parsc_geo.priority.stability.bootstrap_levels` calls; both must give the same levels,
stability shares, alternative levels and published (NIVEL INCIERTO) texts (checked). CPU
times, best of ``--repeat``.

Usage: ``.venv/bin/python benchmarks/bench_priority.py [--boot 200] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from _measure import machine_note

from parsc_geo.priority import compute_priority, levels_array, stability

#: The published figures the two bootstraps must agree on.
COLUMNS = [
    "nivel",
    "estabilidad",
    "nivel_alternativo",
    "estabilidad_alternativa",
    "incierto",
    "nivel_publicado",
]


def loop_levels(indicators, rule):
    """The previous bootstrap's levels: one levels_array (one k-means) per replicate."""
    return np.array([levels_array(values, rule) for values in indicators], dtype=object)


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
    vectorised = stability.levels_many

    def timed(levels) -> tuple[float, pd.DataFrame]:
        stability.levels_many = levels
        best, figures = float("inf"), pd.DataFrame()
        try:
            for _ in range(args.repeat):
                start = time.process_time()
                result = compute_priority(tables, n_boot=args.boot, seed=20210101, synthetic=True)
                best = min(best, time.process_time() - start)
                figures = result.table[COLUMNS]
        finally:
            stability.levels_many = vectorised
        return best, figures

    ours, a = timed(vectorised)
    reference, b = timed(loop_levels)
    print(f"compute_priority on the sample, {args.boot} replicates; {machine_note()}")
    print(f"  one k-means per replicate (before)   {reference:6.2f} s CPU")
    ratio = ours / reference
    print(f"  all replicates clustered together    {ours:6.2f} s CPU   ratio {ratio:.2f}")
    same = "yes" if a.equals(b) else "NO"
    print(f"  same levels, stability and published texts: {same} ({len(a)} rows)")


if __name__ == "__main__":
    main()
