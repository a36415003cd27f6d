"""Time the run's ``evaluacion`` stage (historical accuracy) on the sample and on dense provinces.

Goal (issue 18): the stage in at most 3 s of wall time on the bundled sample on 2 idle cores,
with the same figures as before, and growth at most ``n log n`` in the incidents of a province.

Prints

1. The sample (21,108 incidents, 13 provinces, 3 months, the demo's methods), as
   ``_stage_evaluation`` runs it, with one worker and with every core: wall and CPU time of the
   process tree, and the references measured in the same run: the time spent inside the KDE
   FFTs (``scipy.fft.rfft2``/``irfft2``, which the method fixes: the floor of the stage as it
   is) and, for the evaluation grid, testing a shapely square per lattice cell (the former way)
   against the quadtree of :func:`parsc_geo.evaluation.cells.cells_sharing_area`, on the
   largest province.
2. One synthetic province built from the sample's Cajamarca province (its incidents drawn
   again with 40 m of jitter, dates spread over the same months) at 21k and 211k incidents
   (``--sizes``): wall, CPU, peak memory and the growth exponent against ``n log n``'s.

The cores are shared with other work: read wall times with the load average printed, and
compare CPU times.

Usage: ``.venv/bin/python benchmarks/bench_evaluation.py [--workers N] [--sizes 21108 211080]``
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from _measure import PeakMemory, Recorder, machine_note, mib, nlogn_exponent, slope

from parsc_geo.parallel import available_cores

GOAL_S = 3.0
SEED = 20210101
JITTER_M = 40.0


def sample_incidents() -> Any:
    """Return the sample's incidents as the run's ``ingesta`` stage accepts them."""
    from parsc_geo.config import RunConfig
    from parsc_geo.datasets import sample_paths
    from parsc_geo.ingest import IngestOptions
    from parsc_geo.workflow import ingest

    paths = sample_paths()
    config = RunConfig(incidents=[paths["incidents"]], sectors=paths["sectors"], synthetic=True)
    options = IngestOptions.from_config(
        {"columns": dict(config.columns), **config.ingest},
        utm_zone=config.utm_zone,
        study_area=config.study_area,
        station_max_distance_m=config.station_max_distance,
    )
    return ingest(config.incidents, options, sectors_path=config.sectors).result.accepted


def evaluate(scopes: list[tuple[str, str, Any]], workers: Any, pooled: str | None) -> Any:
    """Run the backtest as ``_stage_evaluation`` does (the demo's methods and options)."""
    from parsc_geo.config import RunConfig
    from parsc_geo.evaluation.accuracy import RUN_AUTO_CANDIDATES, historical_accuracy

    options = RunConfig(incidents=[]).evaluation
    return historical_accuracy(
        scopes,
        methods=["kde", "gistar", "hdbscan"],
        coverages=options.coverages,
        folds=options.folds,
        cell_size=options.cell_size,
        auto_candidates=RUN_AUTO_CANDIDATES,
        pooled=pooled,
        workers=workers,
    )


class FftClock:
    """Add up the time spent in ``scipy.fft.rfft2`` and ``irfft2`` (this process only)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self._originals: dict[str, Callable[..., Any]] = {}

    def __enter__(self) -> FftClock:
        from scipy import fft

        for name in ("rfft2", "irfft2"):
            original = getattr(fft, name)
            self._originals[name] = original

            def timed(*args: Any, _f: Callable[..., Any] = original, **kwargs: Any) -> Any:
                start = time.perf_counter()
                try:
                    return _f(*args, **kwargs)
                finally:
                    self.seconds += time.perf_counter() - start
                    self.calls += 1

            setattr(fft, name, timed)
        return self

    def __exit__(self, *exc: object) -> None:
        from scipy import fft

        for name, original in self._originals.items():
            setattr(fft, name, original)


def grid_references(incidents: Any) -> tuple[float, float, int]:
    """Return the seconds of the former and the quadtree grid builders on the largest province."""
    import shapely

    from parsc_geo.evaluation.cells import cells_sharing_area, default_study_area
    from parsc_geo.evaluation.forecast import prepare_incidents

    largest = incidents["provincia"].value_counts().index[0]
    data = prepare_incidents(incidents[incidents["provincia"] == largest])
    area = default_study_area(data.x, data.y)
    cs = 100.0
    minx, miny, maxx, maxy = area.bounds
    col0, row0 = math.floor(minx / cs), -math.ceil(maxy / cs)
    n_cols = max(math.ceil(maxx / cs), col0 + 1) - col0
    n_rows = max(-math.floor(miny / cs), row0 + 1) - row0

    start = time.perf_counter()
    rr, cc = np.divmod(np.arange(n_rows * n_cols, dtype=np.int64), n_cols)
    west, north = (col0 + cc) * cs, -(row0 + rr) * cs
    boxes = shapely.box(west, north - cs, west + cs, north)
    shapely.prepare(area)
    every = np.flatnonzero(shapely.intersects(area, boxes) & ~shapely.touches(area, boxes))
    former = time.perf_counter() - start

    start = time.perf_counter()
    found = cells_sharing_area(area, cs, (0.0, 0.0), col0, row0, n_rows, n_cols)
    quadtree = time.perf_counter() - start
    if not np.array_equal(every, found):
        raise SystemExit("the quadtree's cells differ from testing every cell")
    return former, quadtree, len(found)


def scaled_province(incidents: Any, n: int) -> Any:
    """Return ``n`` incidents drawn from the sample's Cajamarca province, 40 m of jitter."""
    import geopandas as gpd

    province = incidents[incidents["provincia"] == "Cajamarca"].to_crs("EPSG:32717")
    rng = np.random.default_rng(SEED + n)
    picked = province.iloc[rng.integers(0, len(province), n)].reset_index(drop=True)
    x = picked.geometry.x.to_numpy() + rng.normal(0, JITTER_M, n)
    y = picked.geometry.y.to_numpy() + rng.normal(0, JITTER_M, n)
    first = province["occurred_at"].min().normalize()
    span = (province["occurred_at"].max() - first).days + 1
    when = first + pd.to_timedelta(rng.uniform(0, span, n), unit="D")
    frame = gpd.GeoDataFrame(
        {"occurred_at": when, "at_station": np.zeros(n, dtype=bool), "provincia": "Cajamarca"},
        geometry=gpd.points_from_xy(x, y),
        crs="EPSG:32717",
    )
    return frame.to_crs("EPSG:4326")


def main() -> None:
    from parsc_geo.area import area_of
    from parsc_geo.parallel import WorkerPool
    from parsc_geo.workflow import province_subsets

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=available_cores())
    parser.add_argument("--sizes", type=int, nargs="*", default=[21_108, 211_080])
    args = parser.parse_args()
    incidents = sample_incidents()
    area = area_of(incidents)
    scopes = [
        ("provincia", name, subset)
        for name, subset in province_subsets(incidents, area.provinces())
        if len(subset)
    ]

    print(
        f"1. The sample ({len(incidents):,} incidents, {len(scopes)} provinces); {machine_note()}"
    )
    settings = [1, args.workers] if args.workers > 1 else [1]
    recorder = Recorder()
    fft_seconds = 0.0
    figures: dict[int, Any] = {}
    for workers in settings:
        with WorkerPool(workers) as pool:
            pool.warm_up()
            with recorder.step(f"{workers}"), FftClock() as clock:
                figures[workers] = evaluate(scopes, pool, area.place).as_dict()
            if workers == 1:
                fft_seconds = clock.seconds
    if len(figures) > 1 and figures[1] != figures[args.workers]:
        raise SystemExit("the figures depend on the number of workers")
    print(f"{'workers':>8}{'wall s':>9}{'CPU s':>9}{'wall / serial':>15}")
    serial = recorder.steps["1"].wall
    for workers in settings:
        step = recorder.steps[f"{workers}"]
        print(f"{workers:>8}{step.wall:>9.2f}{step.cpu:>9.2f}{step.wall / serial:>15.2f}")
    best = recorder.steps[f"{settings[-1]}"].wall
    print(
        f"goal: at most {GOAL_S:.0f} s of wall time with {settings[-1]} workers: "
        f"{'met' if best <= GOAL_S else 'NOT met'} ({best:.1f} s)"
    )
    print(
        f"reference: inside the KDE FFTs (serial run) {fft_seconds:.2f} s, "
        f"{fft_seconds / serial:.0%} of the serial wall time"
    )
    former, quadtree, n_cells = grid_references(incidents)
    print(
        f"reference: grid of the largest province ({n_cells:,} cells): a square per cell "
        f"{former:.2f} s, quadtree {quadtree:.3f} s ({former / quadtree:.0f}× faster)"
    )

    print(f"\n2. One dense province (Cajamarca, scaled), {args.workers} workers; {machine_note()}")
    print(f"{'incidents':>10}{'wall s':>9}{'CPU s':>9}{'peak memory':>14}")
    sizes, walls, cpus = [], [], []
    with PeakMemory() as memory:
        scaled = Recorder(memory=memory)
        with WorkerPool(args.workers) as pool:
            pool.warm_up()
            for n in args.sizes:
                province = scaled_province(incidents, n)
                with scaled.step(str(n)) as step:
                    evaluate([("provincia", "Cajamarca", province)], pool, None)
                sizes.append(n)
                walls.append(step.wall)
                cpus.append(step.cpu)
                print(f"{n:>10,}{step.wall:>9.2f}{step.cpu:>9.2f}{mib(step.peak):>14}")
    if len(sizes) > 1:
        print(
            f"growth exponent, {sizes[-2]:,} → {sizes[-1]:,}: wall {slope(sizes, walls):.2f}, "
            f"CPU {slope(sizes, cpus):.2f} (n log n: "
            f"{nlogn_exponent(sizes[-2], sizes[-1]):.2f})"
        )


if __name__ == "__main__":
    main()
