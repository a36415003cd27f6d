"""Benchmark: the whole chain on one dense synthetic province (21k, 211k and 1M incidents).

The sample's Cajamarca province (5,318 incidents, 3,760 of them in the 60 subsectors of
COMISARÍA CAJAMARCA I and II) is scaled to N incidents in the same province: each incident is
a sample incident drawn at random (seeded) and moved by a few tens of metres (normal, σ = 40 m),
with a random date in the sample's period and the same hour, delito, modalidad and station;
the sectors are the sample's. The file is a field export in the sample's own format, so the
chain runs exactly as ``parsc-geo run`` does (methods kde, gistar and hdbscan; 200 bootstrap
replicates; every core).

For every size and every stage it prints wall time, CPU time of the whole process tree (pool
workers included) and the peak memory (PSS) of the tree, then the growth exponent of each
stage between sizes (log-log slope of CPU time; ``n log n`` has a slope of about 1.06 from 211k
to 1M). References named by issue 18 are measured in the same run on the same points:

* HDBSCAN: ``hotspot_hdbscan`` against the ``hdbscan`` package's Borůvka on the province's
  incidents (goal: within 1.5×);
* KDE: the chain's density engine against ``numpy.histogram2d`` + ``scipy.signal.fftconvolve``
  on the same grid (goal at 5 million points in ``bench_density.py``);
* patrol critical points: the KD-tree count against the previous full distance matrix on the
  8,000 incidents nearest the city centre (the matrix needs 8,000² numbers);
* atlas: selecting each province's rows once (grouping) against one fold per row per page.

Goals: no stage grows faster than about ``n log n``; 1M incidents in under 5 minutes with a
peak under 4 GB. Every stage of the run is timed and its growth judged (the patrol sheets
and the priority PDF finish in the pool after the last stage: that wait is in the total, not
in a stage's row).

Usage: ``.venv/bin/python benchmarks/bench_scale.py [--sizes 21108 211080 1000000]
[--workers N] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import itertools
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _measure import (
    PIPELINE_STAGES,
    PeakMemory,
    Recorder,
    Timing,
    machine_note,
    mib,
    nlogn_exponent,
    slope,
    tree_cpu,
    wrap_stages,
)

from parsc_geo import pipeline
from parsc_geo.config import RunConfig
from parsc_geo.datasets import sample_paths
from parsc_geo.parallel import available_cores

SEED = 20210101
PROVINCE_UBIGEO = "0601"
JITTER_M = 40.0
STAGES = PIPELINE_STAGES
#: Stages whose growth is judged: every stage of the run (issue 18: "every stage's time grows
#: at most like n log n"); the total's goal is judged with and without ingestion/workspace.
JUDGED = tuple(STAGES)
WITHOUT_INGEST = tuple(s for s in STAGES if s not in ("ingesta", "workspace"))
GOAL_TOTAL_S = 300.0
GOAL_PEAK = 4 * 2**30


def scaled_province(n: int, folder: Path) -> tuple[Path, Path]:
    """Write ``n`` incidents in Cajamarca province (sample format) and its sectors."""
    paths = sample_paths()
    sample = pd.read_csv(paths["incidents"], dtype=str, keep_default_na=False)
    province = sample[sample["ubigeo"].str.startswith(PROVINCE_UBIGEO)].reset_index(drop=True)
    rng = np.random.default_rng(SEED + n)
    picked = province.iloc[rng.integers(0, len(province), n)].reset_index(drop=True)
    lat = picked["latitud"].astype(float).to_numpy()
    lon = picked["longitud"].astype(float).to_numpy()
    # metres to degrees at the province's latitude
    lat = lat + rng.normal(0, JITTER_M, n) / 110_574.0
    lon = lon + rng.normal(0, JITTER_M, n) / (111_320.0 * math.cos(math.radians(7.16)))
    days = pd.to_datetime(province["fecha"])
    first, span = days.min(), (days.max() - days.min()).days + 1
    dates = first + pd.to_timedelta(rng.integers(0, span, n), unit="D")
    out = picked.copy()
    out["id"] = [f"ESC-{i:07d}" for i in range(n)]
    out["fecha"] = dates.strftime("%Y-%m-%d")
    out["latitud"] = np.round(lat, 6)
    out["longitud"] = np.round(lon, 6)
    incidents = folder / f"provincia_{n}.csv"
    out.to_csv(incidents, index=False)
    return incidents, paths["sectors"]


def run_chain(incidents: Path, sectors: Path, output: Path, workers: int) -> Recorder:
    """Run the whole chain with every stage timed (wall, CPU of the tree, peak of the tree)."""
    config = RunConfig(
        incidents=[incidents],
        sectors=sectors,
        synthetic=True,
        methods=["kde", "gistar", "hdbscan"],
        tiles=False,
    )
    with PeakMemory() as memory:
        recorder = Recorder(memory=memory)
        restore = wrap_stages(recorder, pipeline, STAGES)
        try:
            with recorder.step("total"):
                pipeline.run_pipeline(config, output, quiet=True, overwrite=True, workers=workers)
        finally:
            restore()
    recorder.steps["total"].peak = memory.overall
    return recorder


def timed(fn) -> tuple[Timing, object]:
    """Run ``fn`` once: wall, CPU and the result."""
    wall0, cpu0 = time.perf_counter(), tree_cpu()
    result = fn()
    return Timing(wall=time.perf_counter() - wall0, cpu=tree_cpu() - cpu0), result


def references(incidents_path: Path) -> dict[str, tuple[float, float, str]]:
    """The issue's references on the same incidents: (ours CPU s, reference CPU s, note)."""
    import hdbscan
    from scipy.signal import fftconvolve

    from parsc_geo._kernels import discrete_kernel, get_kernel, kde_grid
    from parsc_geo._text import fold
    from parsc_geo.hotspots import hotspot_hdbscan
    from parsc_geo.hotspots._common import prepare
    from parsc_geo.ingest import IngestOptions
    from parsc_geo.patrol.points import densest_index
    from parsc_geo.workflow import ingest, province_subsets

    accepted = ingest([incidents_path], IngestOptions()).result.accepted
    out: dict[str, tuple[float, float, str]] = {}

    # HDBSCAN: the chain's function against the hdbscan package's Borůvka on the same points
    ours, table = timed(lambda: hotspot_hdbscan(accepted, quiet=True))
    prepared = prepare(accepted, exclude_at_station=True)
    mcs = int(table.attrs["parameters"]["min_cluster_size"])
    xy = np.column_stack([prepared.x, prepared.y])
    reference, _ = timed(
        lambda: hdbscan.HDBSCAN(
            min_cluster_size=mcs,
            min_samples=mcs - 1,
            algorithm="boruvka_kdtree",
            approx_min_span_tree=False,
            core_dist_n_jobs=1,
        ).fit(xy)
    )
    out["HDBSCAN (goal ≤ 1.5×)"] = (ours.cpu, reference.cpu, f"{len(xy):,} points")

    # KDE: the engine against histogram2d + fftconvolve on the same 50 m grid, radius 400 m
    cell, radius = 50.0, 400.0
    x0, y0 = xy.min(axis=0) - radius
    cols, rows = (np.ceil((xy.max(axis=0) + radius - [x0, y0]) / cell)).astype(int)
    ytop = y0 + rows * cell
    kernel = discrete_kernel(get_kernel("quartic"), radius, cell)

    def plain() -> np.ndarray:
        counts, _, _ = np.histogram2d(
            xy[:, 1], xy[:, 0], bins=[rows, cols], range=[[y0, ytop], [x0, x0 + cols * cell]]
        )
        return fftconvolve(counts[::-1], kernel, mode="same") / cell**2

    ours, _ = timed(
        lambda: kde_grid(
            xy[:, 0], xy[:, 1], kernel="quartic", bandwidth=radius, cell_size=cell, x0=x0,
            ytop=ytop, shape=(rows, cols),
        )
    )  # fmt: skip
    reference, _ = timed(plain)
    out["KDE engine"] = (ours.cpu, reference.cpu, f"{rows} × {cols} cells")

    # Patrol critical points: KD-tree count against the full distance matrix (8,000 points)
    centre = np.median(xy, axis=0)
    near = xy[np.argsort(np.hypot(*(xy - centre).T))[:8000]]
    ids = [f"i{k}" for k in range(len(near))]

    def matrix() -> int:
        d = np.hypot(near[:, None, 0] - near[None, :, 0], near[:, None, 1] - near[None, :, 1])
        neighbours = (d <= 100.0).sum(axis=1)
        return min(range(len(ids)), key=lambda i: (-int(neighbours[i]), ids[i]))

    ours, best = timed(lambda: densest_index(near, ids, 100.0))
    reference, expected = timed(matrix)
    assert best == expected
    out["patrol core (same centre)"] = (ours.cpu, reference.cpu, "8,000 points, 100 m")

    # Atlas: the province's rows by grouping once, against one fold per row per page
    pages = [name for name, _ in province_subsets(accepted.iloc[:0])]

    def per_row() -> int:
        return sum(len(accepted[accepted["provincia"].map(fold) == fold(p)]) for p in pages)

    def grouped() -> int:
        from parsc_geo._text import fold_values

        keys = fold_values(accepted["provincia"])
        groups = dict(iter(accepted.groupby(keys, sort=False)))
        return sum(len(groups.get(fold(p), accepted.iloc[:0])) for p in pages)

    ours, a = timed(grouped)
    reference, b = timed(per_row)
    assert a == b
    out["atlas province rows"] = (ours.cpu, reference.cpu, f"{len(pages)} pages")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[21_108, 211_080, 1_000_000])
    parser.add_argument("--workers", type=int, default=available_cores())
    parser.add_argument("--keep", type=Path, help="keep inputs and outputs in this folder")
    parser.add_argument("--no-references", action="store_true")
    args = parser.parse_args()
    print(f"One synthetic province (Cajamarca, scaled); {args.workers} workers; {machine_note()}")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_scale_"))
    folder.mkdir(parents=True, exist_ok=True)
    results: dict[int, Recorder] = {}
    refs: dict[int, dict[str, tuple[float, float, str]]] = {}
    for n in args.sizes:
        incidents, sectors = scaled_province(n, folder)
        print(f"\n{n:,} incidents ({incidents.stat().st_size / 1e6:.0f} MB CSV); {machine_note()}")
        recorder = run_chain(incidents, sectors, folder / f"run_{n}", args.workers)
        results[n] = recorder
        print(f"{'stage':<12}{'wall s':>9}{'CPU s':>9}{'peak':>12}")
        for stage in [*STAGES, "total"]:
            t = recorder.steps[stage]
            print(f"{stage:<12}{t.wall:>9.1f}{t.cpu:>9.1f}{mib(t.peak):>12}")
        if not args.no_references:
            refs[n] = references(incidents)
            print(f"{'reference':<28}{'ours CPU s':>11}{'ref. CPU s':>11}{'ratio':>7}  on")
            for name, (ours, ref, note) in refs[n].items():
                print(f"{name:<28}{ours:>11.2f}{ref:>11.2f}{ours / ref:>7.2f}  {note}")

    sizes = sorted(results)
    if len(sizes) > 1:
        print("\nGrowth exponent of CPU time between sizes (log-log slope)")
        pairs = list(itertools.pairwise(sizes))
        head = "".join(f"{f'{a:,}→{b:,}':>22}" for a, b in pairs)
        print(f"{'stage':<12}{head}")
        bounds = "".join(f"{nlogn_exponent(a, b):>22.2f}" for a, b in pairs)
        print(f"{'n log n':<12}{bounds}")
        worst: dict[str, float] = {}
        for stage in [*STAGES, "total"]:
            exps = [
                slope([a, b], [results[a].steps[stage].cpu, results[b].steps[stage].cpu])
                for a, b in pairs
            ]
            worst[stage] = exps[-1]
            print(f"{stage:<12}" + "".join(f"{e:>22.2f}" for e in exps))
        a, b = pairs[-1]
        limit = nlogn_exponent(a, b) + 0.15
        fast = [s for s in JUDGED if not worst[s] > limit]
        print(
            f"stages growing at most like n log n (slope ≤ {limit:.2f}, {a:,}→{b:,}): "
            f"{len(fast)} of {len(JUDGED)}"
            + ("" if len(fast) == len(JUDGED) else f"; NOT: {sorted(set(JUDGED) - set(fast))}")
        )
    largest = results[sizes[-1]].steps
    judged = sum(largest[s].wall for s in WITHOUT_INGEST)
    print(
        f"\n{sizes[-1]:,} incidents: whole chain {largest['total'].wall:.0f} s wall "
        f"({largest['total'].cpu:.0f} s CPU), peak {mib(largest['total'].peak)}; "
        f"without ingestion and workspace {judged:.0f} s. Goals (< {GOAL_TOTAL_S:.0f} s, "
        f"< {mib(GOAL_PEAK)}): time {'met' if largest['total'].wall < GOAL_TOTAL_S else 'NOT met'}"
        f" (without ingestion/workspace: {'met' if judged < GOAL_TOTAL_S else 'NOT met'}), "
        f"memory {'met' if largest['total'].peak < GOAL_PEAK else 'NOT met'}"
    )
    print(f"Inputs and outputs in {folder}")


if __name__ == "__main__":
    main()
