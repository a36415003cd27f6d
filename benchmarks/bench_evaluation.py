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


def _backtest_rankings(incidents: Any) -> tuple[Any, list[tuple[np.ndarray, list[Any]]]]:
    """Return the largest province's history and its last month's rankings by ``auto``.

    Per fold of the month's ``auto``: the test counts and the scores of the run's candidates
    (what the backtest ranks).
    """
    from parsc_geo.evaluation.accuracy import RUN_AUTO_CANDIDATES, _prepared, months_tested
    from parsc_geo.evaluation.candidates import History, parse_candidate
    from parsc_geo.evaluation.cells import auto_cell_size, default_study_area, make_cell_grid
    from parsc_geo.evaluation.selection import auto_folds

    largest = incidents["provincia"].value_counts().index[0]
    data = _prepared(incidents[incidents["provincia"] == largest])
    month = months_tested(data.t, 1)[0][-1]
    train = data.t < month.origin
    polygon = default_study_area(data.x[train], data.y[train])
    grid = make_cell_grid(polygon, auto_cell_size(polygon.area), data.crs)
    history = History(grid, data.x[train], data.y[train], data.t[train])
    folds, _ = auto_folds(history.t, month.end - month.origin, month.origin)
    candidates = [parse_candidate(name) for name in RUN_AUTO_CANDIDATES]
    rankings = []
    for fold in folds:
        fit = history.fold(fold.origin, fold.start)
        tested = (history.t >= fold.origin) & (history.t < fold.end)
        test = grid.counts(history.cell[tested])
        rankings.append((test, [fit.score(c) for c in candidates]))
    return history, rankings


def _plain_selection(scores: np.ndarray, ks: list[int], test: np.ndarray) -> list[float]:
    """Return the captures as computed before the selections' fast paths.

    A partition of every score for the cuts and a pass over every cell for each selection.
    """
    from parsc_geo.evaluation.metrics import clean_scores, exact_dot

    s = clean_scores(scores)
    at = [s.size - k for k in sorted(set(ks))]
    kth = at if len(at) > 1 else [at[0] - 1, at[0]]
    ordered = np.partition(s, kth)
    out = []
    for k in ks:
        cut = float(ordered[s.size - k])
        idx = np.flatnonzero(s >= cut)
        values = s[idx]
        above = values > cut
        n_above = int(np.count_nonzero(above))
        w = np.where(above, 1.0, (k - n_above) / (idx.size - n_above))
        out.append(exact_dot(w, test[idx]))
    return out


def _whole_square(history: Any) -> Any:
    """Return ``history`` whose direct KDE sums every offset of the kernel's square.

    The kernel's zeros (the square's corners beyond the radius, which the direct sums leave
    out) become values far below any sum's last digit: the terms and the work of the whole
    square, as summed before (the numbers are not compared).
    """
    from parsc_geo.evaluation.candidates import History

    class WholeSquare(History):
        def _cell_kernels(self, bandwidth: float) -> tuple[np.ndarray, int]:
            kernels, lo = super()._cell_kernels(bandwidth)
            return np.where(kernels == 0.0, 1e-300, kernels), lo

    return WholeSquare(history.grid, history.x, history.y, history.t)


def fast_path_references(incidents: Any) -> None:
    """Print the CPU of the backtest's fast paths and of the plain computations they replace.

    On the largest province's last month: the same rankings and training windows, in one run.
    """
    from parsc_geo.evaluation.metrics import cells_for_coverage, selections

    history, rankings = _backtest_rankings(incidents)
    ks = [cells_for_coverage(history.grid.n_cells, p) for p in (0.01, 0.05)]
    # the cells with test incidents are found once per fold, as the backtest finds them
    counted = [np.flatnonzero(test) for test, _ in rankings]
    fast_cpu = plain_cpu = math.inf
    for _ in range(5):  # alternately, the least CPU of each (the cores are shared)
        start = time.process_time()
        fast = [
            [x.captured(test, cells) for x in selections(s, ks)]
            for (test, scores), cells in zip(rankings, counted, strict=True)
            for s in scores
        ]
        fast_cpu = min(fast_cpu, time.process_time() - start)
        start = time.process_time()
        plain = [_plain_selection(s, ks, test) for test, scores in rankings for s in scores]
        plain_cpu = min(plain_cpu, time.process_time() - start)
    if fast != plain:
        raise SystemExit("the selections' captures differ from the plain computation")
    n = sum(len(scores) for _, scores in rankings)
    print(
        f"reference: cuts and captures of {n} rankings of {history.grid.n_cells:,} cells "
        f"(largest province, last month's auto folds): fast paths {fast_cpu:.3f} CPU-s, "
        f"plain partition and pass per selection {plain_cpu:.3f} CPU-s "
        f"(ratio {fast_cpu / plain_cpu:.2f})"
    )
    origins = sorted({float(o) for o in history.t[np.isfinite(history.t)]})[-400::100]
    masks = [history.t < origin for origin in origins]
    square = _whole_square(history)
    for bandwidth in (150.0, 300.0, 800.0):
        fast_cpu = plain_cpu = math.inf
        for _ in range(3):
            start = time.process_time()
            for mask in masks:
                history.direct_mass(mask, None, bandwidth)
            fast_cpu = min(fast_cpu, time.process_time() - start)
            start = time.process_time()
            for mask in masks:
                square.direct_mass(mask, None, bandwidth)
            plain_cpu = min(plain_cpu, time.process_time() - start)
        print(
            f"reference: direct KDE mass at {bandwidth:g} m ({len(masks)} training windows): "
            f"the kernel's reach {fast_cpu:.3f} CPU-s, its whole square {plain_cpu:.3f} CPU-s "
            f"(ratio {fast_cpu / plain_cpu:.2f})"
        )


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
    fast_path_references(incidents)
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
