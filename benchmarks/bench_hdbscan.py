"""Benchmark: HDBSCAN hotspots of 80,000 incidents in one province.

Goal (issue 18): ``hotspot_hdbscan`` within 1.5× the ``hdbscan`` package's Borůvka run on the
same points (exact minimum spanning tree), where scikit-learn's ``HDBSCAN`` (Prim's algorithm,
what the chain used before) took 20 times longer. All three run in this process on the same
incidents (the sample's Cajamarca province scaled as in ``bench_scale.py``); CPU times, best of
``--repeat``; the partitions of the two fast runs are compared.

Usage: ``.venv/bin/python benchmarks/bench_hdbscan.py [--n 80000] [--repeat 2] [--no-sklearn]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from _measure import machine_note
from bench_scale import scaled_province


def best_cpu(fn, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.process_time()
        result = fn()
        best = min(best, time.process_time() - start)
    return best, result


def main() -> None:
    import hdbscan
    from sklearn.cluster import HDBSCAN

    from parsc_geo.hotspots import hotspot_hdbscan
    from parsc_geo.hotspots._common import prepare
    from parsc_geo.ingest import IngestOptions
    from parsc_geo.workflow import ingest

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=80_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--no-sklearn", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path, _ = scaled_province(args.n, Path(tmp))
        accepted = ingest([path], IngestOptions()).result.accepted
    print(f"HDBSCAN of {len(accepted):,} incidents in one province; {machine_note()}")
    ours, table = best_cpu(lambda: hotspot_hdbscan(accepted, quiet=True), args.repeat)
    prepared = prepare(accepted, exclude_at_station=True)
    xy = np.column_stack([prepared.x, prepared.y])
    mcs = int(table.attrs["parameters"]["min_cluster_size"])
    boruvka, fitted = best_cpu(
        lambda: hdbscan.HDBSCAN(
            min_cluster_size=mcs,
            min_samples=mcs - 1,
            algorithm="boruvka_kdtree",
            approx_min_span_tree=False,
            core_dist_n_jobs=1,
        ).fit(xy),
        args.repeat,
    )
    print(f"{'':<44}{'CPU s':>8}{'ratio':>8}")
    print(f"{'hdbscan Borůvka, exact MST (reference)':<44}{boruvka:>8.2f}{1.0:>8.2f}")
    ratio = ours / boruvka
    print(f"{'parsc-geo hotspot_hdbscan (whole table)':<44}{ours:>8.2f}{ratio:>8.2f}")
    if not args.no_sklearn:
        sk, _ = best_cpu(lambda: HDBSCAN(min_cluster_size=mcs, copy=True).fit(xy), 1)
        print(f"{'scikit-learn HDBSCAN (Prim, before)':<44}{sk:>8.2f}{sk / boruvka:>8.2f}")
    clusters = int(fitted.labels_.max()) + 1
    print(
        f"{len(table)} hotspots = the reference's {clusters} clusters: "
        f"{'yes' if len(table) == clusters else 'NO'}; goal ≤ 1.5×: "
        f"{'met' if ratio <= 1.5 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
