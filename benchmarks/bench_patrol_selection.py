"""Patrol planning at national scale: each sector's incidents, selected once by grouping.

``plan_patrols`` hands every sector its incidents. It used to compare every incident of the
comisarías with each sector in turn (one mask per sector: sectors × incidents comparisons);
it now groups the rows once (``parsc_geo.patrol.plan._rows_by_key``). The synthetic national
sample has 100 comisarías with sectors; were every one of Peru's 1,495 police units to have
its sectors (about 7,500 sectors) over six years of complaints, the masks would compare
billions of pairs. This script builds the keys of ``--sectors`` sectors and ``--incidents``
incidents (seeded), checks that both ways select the same rows for every sector, and prints
both CPU times (the machine is shared) and their ratio (the per-sector masks are the
reference, measured in the same run).

Usage: ``.venv/bin/python benchmarks/bench_patrol_selection.py [--sectors 500]
[--incidents 400000]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from parsc_geo.patrol.plan import _rows_by_key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sectors", type=int, default=500)
    parser.add_argument("--incidents", type=int, default=400_000)
    args = parser.parse_args()
    rng = np.random.default_rng(20210101)
    keys = [(f"COMISARIA {k // 5}", f"SECTOR {k % 5 + 1}") for k in range(args.sectors)]
    drawn = rng.integers(0, args.sectors, args.incidents)
    comisaria = pd.Series([keys[k][0] for k in drawn])
    sector = pd.Series([keys[k][1] for k in drawn])

    t0 = time.process_time()
    pairs = pd.Series(list(zip(comisaria, sector, strict=True)), dtype=object)
    masks = {key: np.flatnonzero((pairs == key).to_numpy()) for key in keys}
    t_masks = time.process_time() - t0

    t0 = time.process_time()
    grouped = _rows_by_key(comisaria, sector)
    t_grouped = time.process_time() - t0

    assert all(np.array_equal(masks[k], grouped.get(k, np.zeros(0, int))) for k in keys)
    print(f"{args.sectors:,} sectors, {args.incidents:,} incidents: the same rows for every sector")
    print("| way | CPU seconds |\n| --- | ---: |")
    print(f"| one mask per sector (before) | {t_masks:.2f} |")
    print(f"| grouped once (now) | {t_grouped:.2f} |")
    print(f"ratio: {t_masks / t_grouped:,.0f}× faster")


if __name__ == "__main__":
    main()
