"""Benchmark: the national sample through the whole chain, serial and on Dask; projection.

The input is the synthetic national sample (``parsc-geo sample --study-area peru --start 2022-01
--months 12``: 1,284,905 incidents in 196 provinces, with synthetic sectors for the four
comisarías with most officers in each department): all of it, the departments named by
``--departments`` at their full volume (their provinces keep their real sizes), or a seeded
random share (``--fraction``). The chain is the monthly run (``parsc-geo run``; methods kde,
gistar and hdbscan; 200 bootstrap replicates; no base tiles), run twice, each in a fresh
process:

* ``serie``: ``--workers 1``, everything in one process. Every task that the run fans out (a
  province's density, one hotspot method in one province, a priority map, an atlas page, a
  patrol plan or sheet) is timed one by one (CPU): these are the per-province costs;
* ``dask``: ``--workers 2``, a Dask ``LocalCluster`` of two processes.

It prints, per stage, the wall time and the CPU time (the process and all its descendants: the
cluster's nannies and workers) of both runs and the speed-up (serial wall / Dask wall); the
peak memory (PSS) of the main process and of the largest workers; with ``--compare``, whether
both runs wrote the same files (``tests/run_compare.py``). On a shared machine the wall times
depend on the other users' load: the CPU times do not.

Then a projection of the six-year national run (2020–2025: six times the sample year, 7.7
million incidents) on 8 and 32 workers. Model:

* the stages run one after the other; in each, the part that is not fanned out runs in the main
  process and grows as ``n log n`` with the incidents (the priority table's bootstrap with the
  districts, the patrol tables with the police units);
* per-province tasks get a cost ``a · n^b`` fitted (log-log, ``b`` kept ≥ 1) on the measured
  provinces, applied to each of the country's 196 provinces with six times its incidents;
  per-comisaría tasks (patrol plans and sheets, comisaría pages) are repeated for the
  country's 1,495 police units, six times their measured cost; the priority maps grow with the
  districts they draw;
* the tasks of a stage are handed out largest first to N workers (LPT, as the pools do):
  printed with the two bounds of any such schedule, ``max(longest task, total / N)`` below and
  ``total / N + longest task`` (Graham) above.

Not modelled: sending each task's incidents to its worker (measured below as the Dask run's
extra CPU time) and the main process's memory, which holds every incident (projected
linearly from the measured memory per incident).

Usage::

    .venv/bin/parsc-geo sample --study-area peru --start 2022-01 --months 12 -o nacional/
    .venv/bin/python benchmarks/bench_national.py nacional/ [--departments 06,14]
        [--fraction F] [--workers 2] [--keep DIR [--report]] [--compare]
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import suppress
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psutil
from _measure import PIPELINE_STAGES, Recorder, machine_note, tree_cpu, wrap_stages

from parsc_geo.partitions import Partition, Rows

SEED = 20210101
YEARS = 6
PROJECTED_WORKERS = (8, 32)
HERE = Path(__file__).resolve().parent
CONFIG = """
title = "Banco de pruebas nacional"
synthetic = true
study_area = "{area}"
[inputs]
incidents = ["{incidents}"]
sectors = "{sectors}"
[hotspots]
methods = ["kde", "gistar", "hdbscan"]
[priority]
bootstrap = 200
[maps]
tiles = false
[evaluation]
enabled = {evaluation}
[near_repeat]
enabled = {near_repeat}
"""


# -- the input ----------------------------------------------------------------------------


def prepare(
    sample: Path,
    departments: list[str],
    fraction: float,
    folder: Path,
    evaluation: bool = True,
    near_repeat: bool = True,
) -> tuple[Path, int, pd.Series, int]:
    """Write ``run.toml`` for the chosen incidents; return it, their number and the national
    incidents per province (the projection's task sizes)."""
    incidents = sorted((sample / "incidents").glob("*_incidentes.csv"))[0]
    sectors = sorted((sample / "boundaries").glob("*sectores*.geojson"))[0]
    table = pd.read_csv(incidents, dtype=str, keep_default_na=False)
    national = table["ubigeo"].str[:4].value_counts()
    area = "peru"
    if departments:
        table = table[table["ubigeo"].str.startswith(tuple(departments))]
        area = ",".join(departments)
        layer = gpd.read_file(sectors)
        layer = layer[layer["comisaria_id"].isin(set(table["comisaria_id"]))]
        sectors = folder / "sectores.geojson"
        layer.to_file(sectors, driver="GeoJSON")
    if fraction < 1:
        rng = np.random.default_rng(SEED)
        keep = np.sort(rng.choice(len(table), size=round(len(table) * fraction), replace=False))
        table = table.iloc[keep]
    if departments or fraction < 1:
        incidents = folder / "incidentes.csv"
        table.to_csv(incidents, index=False)
    config = folder / "run.toml"
    config.write_text(
        CONFIG.format(
            incidents=incidents.as_posix(),
            sectors=sectors.as_posix(),
            area=area,
            evaluation=str(evaluation).lower(),
            near_repeat=str(near_repeat).lower(),
        ),
        encoding="utf-8",
    )
    return config, len(table), national, int(table["ubigeo"].nunique())


# -- one run, in its own process ------------------------------------------------------------


class ProcessPeaks:
    """The peak memory (PSS) of this process and of each descendant, sampled every second."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self.peaks: dict[int, tuple[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        for process in [me, *me.children(recursive=True)]:
            with suppress(psutil.Error):
                try:
                    size = int(process.memory_full_info().pss)
                except (psutil.AccessDenied, AttributeError):
                    size = int(process.memory_info().rss)
                role = "principal" if process.pid == me.pid else process.name()
                old = self.peaks.get(process.pid, (role, 0))[1]
                self.peaks[process.pid] = (role, max(old, size))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> ProcessPeaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


METHODS = ("kde", "gistar", "hdbscan", "dbscan")


def task_key(stage: str, function: Any, item: Any) -> tuple[str, int]:
    """Return a task's kind and its incidents (the largest table it is given).

    The kind is the stage and the task's function, with the method of a hotspot search or the
    kind of an atlas page (``provincia``, ``comisaria``).
    """
    parts = list(item) if isinstance(item, tuple) else [getattr(item, "incidents", None)]
    key = f"{stage}:{getattr(function, '__name__', 'tarea')}"
    if parts and isinstance(parts[0], str) and parts[0] in METHODS:
        key += f":{parts[0]}"
    elif isinstance(getattr(item, "kind", None), str):
        key += f":{item.kind}"
    # province tasks carry a partition of the incidents and atlas pages the positions of
    # theirs (cut when handed out), not a table
    n = max((len(p) for p in parts if isinstance(p, pd.DataFrame | Partition | Rows)), default=0)
    return key, n


def child(config_path: Path, output: Path, mode: str, workers: int, report: Path) -> None:
    """Run the chain once (``mode`` serie or dask) and write its figures to ``report``."""
    from parsc_geo import parallel, pipeline
    from parsc_geo.config import read_config

    config = read_config(config_path)
    recorder = Recorder()
    stage = {"now": ""}
    tasks: dict[str, list[tuple[int, float]]] = defaultdict(list)
    sizes: dict[str, int] = {}
    if mode == "serie":
        # time each fanned-out task: in one process they run one by one, in this process
        original_start = parallel.WorkerPool.start

        def timed_start(self: Any, function: Any, items: Any) -> Any:
            todo = list(items)

            def run_one(item: Any) -> Any:
                t0 = time.process_time()
                try:
                    return function(item)
                finally:
                    key, n = task_key(stage["now"], function, item)
                    tasks[key].append((n, time.process_time() - t0))

            return original_start(self, run_one, todo)

        parallel.WorkerPool.start = timed_start  # type: ignore[method-assign]

    def track(name: str, original: Any) -> Any:
        def run(state: Any) -> Any:
            stage["now"] = name
            sizes.setdefault("incidentes", 0)
            try:
                return original(state)
            finally:
                if state.ingested is not None:
                    sizes["incidentes"] = len(state.incidents)

        return run

    for name, function in PIPELINE_STAGES.items():
        setattr(pipeline, function, track(name, getattr(pipeline, function)))
    restore = wrap_stages(recorder, pipeline, PIPELINE_STAGES)
    start = int(psutil.Process().memory_full_info().pss)
    with ProcessPeaks() as peaks, recorder.step("total"):
        pipeline.run_pipeline(
            config,
            output,
            quiet=True,
            overwrite=True,
            workers=workers,
            scheduler="dask" if mode == "dask" else None,
        )
    restore()
    main = max(size for role, size in peaks.peaks.values() if role == "principal")
    others = sorted(
        (size for role, size in peaks.peaks.values() if role != "principal"), reverse=True
    )
    report.write_text(
        json.dumps(
            {
                "steps": {k: [t.wall, t.cpu] for k, t in recorder.steps.items()},
                "tasks": tasks,
                "incidents": sizes.get("incidentes", 0),
                "peak_main": main,
                "start_main": start,
                "peak_others": others,
                "cpu_total": tree_cpu(),
            }
        ),
        encoding="utf-8",
    )


def run_mode(config: Path, output: Path, mode: str, workers: int, folder: Path) -> dict[str, Any]:
    """Run :func:`child` in a fresh interpreter and return its figures."""
    report = folder / f"{mode}.json"
    command = [sys.executable, __file__, "--child", mode, str(config), str(output), str(report)]
    command += ["--workers", str(workers)]
    subprocess.run(command, check=True)
    return json.loads(report.read_text(encoding="utf-8"))


# -- projection -----------------------------------------------------------------------------


def lpt(costs: list[float], workers: int) -> float:
    """Return the end time of tasks handed out largest first to ``workers`` (list schedule)."""
    loads = [0.0] * workers
    heapq.heapify(loads)
    for cost in sorted(costs, reverse=True):
        heapq.heappush(loads, heapq.heappop(loads) + cost)
    return max(loads)


def fit(tasks: list[tuple[int, float]]) -> tuple[float, float]:
    """Return ``(a, b)`` of the cost ``a · n^b`` of tasks of ``n`` incidents (log-log fit).

    ``b`` is kept at least 1 (a cost is never projected to grow slower than the incidents), and
    ``a`` then puts the curve through the largest measured task.
    """
    usable = [(n, c) for n, c in tasks if n > 0 and c > 0]
    if len(usable) < 3 or len({n for n, _ in usable}) < 2:
        n_mean = max(1.0, float(np.mean([max(n, 1) for n, _ in tasks])))
        return sum(c for _, c in tasks) / len(tasks) / n_mean, 1.0
    x = np.log([n for n, _ in usable])
    y = np.log([c for _, c in usable])
    b = max(1.0, float(np.polyfit(x, y, 1)[0]))
    n_big, c_big = max(usable)
    return c_big / n_big**b, b


#: Police units of the country (CENACOM 2017), each of which would have a patrol plan.
NATIONAL_UNITS = 1495
#: Districts of the country (INEI), the units of the priority maps.
NATIONAL_DISTRICTS = 1874


#: Tasks whose cost is fitted on the measured provinces and applied to the country's.
PER_PROVINCE = (
    "_province_density",
    "_province_hotspots",
    "_atlas_page:provincia",
    "_scope_task",  # the backtest of one province (evaluacion)
)
#: Tasks whose cost does not grow with the years of data (drawing a patrol sheet).
FIXED = ("_write_sheets",)


def national_tasks(serial: dict[str, Any], national: pd.Series) -> dict[str, list[float]]:
    """Return, per stage, the projected costs (CPU s) of the six-year national run's tasks.

    * Per-province tasks (:data:`PER_PROVINCE`: a province's density, one hotspot method in
      one province, a province's atlas page) become one per province of the country with six
      times its incidents of the sample year, costed by the fit of :func:`fit` on the
      measured provinces.
    * Per-comisaría tasks (patrol plans and sheets, a comisaría's atlas page) are taken once
      for each of the country's 1,495 police units (as if every one had sectors): a sheet at
      its measured cost, the others six times it (their incidents are six years').
    * The priority maps (one per fenómeno) stay as many, each measured cost times the ratio
      of the country's districts to the measured ones (what they draw).
    """
    out: dict[str, list[float]] = defaultdict(list)
    units = round(NATIONAL_UNITS / max(1, serial["comisarias"]))
    districts = NATIONAL_DISTRICTS / max(1, serial["districts"])
    for key, measured in serial["tasks"].items():
        stage, kind = key.split(":", 1)
        if kind.startswith(PER_PROVINCE):
            a, b = fit(measured)
            out[stage] += [a * (YEARS * n) ** b for n in national]
        elif stage == "prioridad":
            out[stage] += [c * districts for _, c in measured]
        else:
            years = 1 if kind.startswith(FIXED) else YEARS
            out[stage] += [years * c for _, c in measured] * units
    return out


def rest_growth(stage: str, serial: dict[str, Any], national: pd.Series) -> float:
    """Return the growth of a stage's part that is not fanned out, from the sample to six years.

    The priority table's bootstrap works on districts (its units), the patrol tables on the
    police units' sectors; everything else on the incidents, as ``n log n``.
    """
    if stage == "prioridad":
        return NATIONAL_DISTRICTS / max(1, serial["districts"])
    if stage == "patrullaje":
        return NATIONAL_UNITS / max(1, serial["comisarias"])
    n = serial["incidents"]
    k = YEARS * national.sum() / n
    return k * math.log(k * n) / math.log(n)


def projection(
    serial: dict[str, Any], national: pd.Series
) -> list[tuple[str, float, dict[int, tuple[float, float, float]]]]:
    """Return per stage the projected serial part and {N: (LPT, lower, upper bound)} in s."""
    projected = national_tasks(serial, national)
    rows = []
    for stage in PIPELINE_STAGES:
        _, cpu = serial["steps"][stage]
        fanned = sum(
            c for key, t in serial["tasks"].items() if key.split(":")[0] == stage for _, c in t
        )
        rest = max(cpu - fanned, 0.0) * rest_growth(stage, serial, national)
        costs = projected.get(stage, [])
        row = {}
        for workers in PROJECTED_WORKERS:
            if costs:
                total, longest = sum(costs), max(costs)
                row[workers] = (
                    rest + lpt(costs, workers),
                    rest + max(longest, total / workers),
                    rest + total / workers + longest,
                )
            else:
                row[workers] = (rest, rest, rest)
        rows.append((stage, rest, row))
    return rows


# -- report ---------------------------------------------------------------------------------


def mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:,.0f} MiB"


def minutes(seconds: float) -> str:
    return f"{seconds / 60:,.1f} min"


def print_runs(serial: dict[str, Any], spread: dict[str, Any], workers: int) -> None:
    """Print the table of both runs: time per stage, speed-up, memory."""
    print(f"\n## The chain, serial and on Dask (--workers {workers})\n")
    print("| stage | serial wall s | serial CPU s | tasks | Dask wall s | Dask CPU s | speed-up |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for stage in [*PIPELINE_STAGES, "total"]:
        sw, sc = serial["steps"][stage]
        dw, dc = spread["steps"][stage]
        count = sum(len(t) for key, t in serial["tasks"].items() if key.split(":")[0] == stage)
        print(
            f"| {stage} | {sw:,.1f} | {sc:,.1f} | {count or ''} | {dw:,.1f} | {dc:,.1f} "
            f"| {sw / dw:.2f}× |"
        )
    others = spread["peak_others"]
    print(
        f"\nPeak memory (PSS): serial {mib(serial['peak_main'])}; Dask main process "
        f"{mib(spread['peak_main'])} ({spread['peak_main'] / serial['peak_main']:.2f}× the "
        f"serial run's); per worker (the {workers} largest other processes): "
        + ", ".join(mib(o) for o in others[:workers])
        + f" ({len(others)} other processes: nannies and workers)"
    )
    extra = spread["steps"]["total"][1] - serial["steps"]["total"][1]
    print(f"Dask overhead (CPU): {extra:,.1f} s (starting workers, sending them incidents)")


def print_projection(serial: dict[str, Any], national: pd.Series) -> None:
    """Print the projection of the six-year national run on 8 and 32 workers."""
    n_total = YEARS * int(national.sum())
    print(
        f"\n## Projection: six years of the whole country ({n_total:,} incidents, "
        f"{len(national)} provinces; the largest, {national.index[0]}, "
        f"{YEARS * int(national.iloc[0]):,})\n"
    )
    print("Fitted task costs (CPU s = a · n^b, n incidents per task):")
    for key, measured in sorted(serial["tasks"].items()):
        if key.split(":", 1)[1].startswith(PER_PROVINCE):
            a, b = fit(measured)
            print(
                f"  {key}: {len(measured)} provinces, b = {b:.2f}, 10,000 incidents: "
                f"{a * 1e4**b:.2f} s, largest province of six years: "
                f"{a * (YEARS * national.iloc[0]) ** b / 60:.1f} min"
            )
    rows = projection(serial, national)
    head = " | ".join(f"N={w}: LPT [bounds]" for w in PROJECTED_WORKERS)
    print(f"\n| stage | not fanned out | {head} |")
    print("| --- | ---: | " + " | ".join("---:" for _ in PROJECTED_WORKERS) + " |")
    totals = {w: [0.0, 0.0, 0.0] for w in PROJECTED_WORKERS}
    for stage, rest, row in rows:
        cells = []
        for w in PROJECTED_WORKERS:
            sched, low, high = row[w]
            cells.append(f"{minutes(sched)} [{minutes(low)}–{minutes(high)}]")
            totals[w] = [totals[w][0] + sched, totals[w][1] + low, totals[w][2] + high]
        print(f"| {stage} | {minutes(rest)} | " + " | ".join(cells) + " |")
    cells = [f"**{minutes(t[0])}** [{minutes(t[1])}–{minutes(t[2])}]" for t in totals.values()]
    print("| total | | " + " | ".join(cells) + " |")
    one = sum(rest for _, rest, _ in rows) + sum(
        sum(c) for c in national_tasks(serial, national).values()
    )
    per_incident = (serial["peak_main"] - serial["start_main"]) / serial["incidents"]
    print(
        f"\nOne process, the same model: {minutes(one)}. The main process holds every incident: "
        f"{per_incident / 1024:.1f} KiB each measured (peak minus start), "
        f"{mib(serial['start_main'] + per_incident * n_total)} for the six years."
    )


#: Bytes per listed pair of the Knox test (i, j as int32, distance as float64, band as int64).
KNOX_PAIR_BYTES = 24


def print_knox_pairs(sample: Path, share: float = 0.1) -> None:
    """Print the pairs the Knox test (``repeticion``) would list for the largest provinces.

    The test lists every pair of incidents closer than its largest space band (500 m) and
    goes over all of them once per permutation (99): its cost and memory grow with the
    square of a province's incidents. Counted with a k-d tree on a seeded ``share`` of each
    province's incidents and scaled by ``1 / share²``; six years have 36 times the pairs.
    """
    from pyproj import Transformer
    from scipy.spatial import cKDTree

    from parsc_geo.trends.near_repeat import DEFAULT_SPACE_BANDS

    radius = float(max(DEFAULT_SPACE_BANDS))
    table = pd.read_csv(
        next((sample / "incidents").glob("*_incidentes.csv")),
        dtype={"ubigeo": str},
        usecols=["ubigeo", "latitud", "longitud"],
    )
    province = table["ubigeo"].str[:4]
    to_utm = Transformer.from_crs(4326, 32718, always_xy=True)
    rng = np.random.default_rng(SEED)
    print(f"\n## Knox test: pairs closer than {radius:.0f} m (estimated, {share:.0%} sample)\n")
    print("| province | incidents | pairs (one year) | pair arrays | six years |")
    print("| --- | ---: | ---: | ---: | ---: |")
    total = 0.0
    for code, n in province.value_counts().items():
        rows = table[province == code]
        if n >= 2000:
            keep = rng.choice(n, size=round(n * share), replace=False)
            rows, scale = rows.iloc[np.sort(keep)], 1 / share**2
        else:
            scale = 1.0
        x, y = to_utm.transform(rows["longitud"].to_numpy(), rows["latitud"].to_numpy())
        tree = cKDTree(np.column_stack([x, y]))
        pairs = (tree.count_neighbors(tree, radius) - len(rows)) / 2 * scale
        total += pairs
        if n >= 40_000:
            print(
                f"| {code} | {n:,} | {pairs:,.0f} | {mib(pairs * KNOX_PAIR_BYTES)} "
                f"| {YEARS**2 * pairs:,.0f} |"
            )
    print(
        f"| country (within provinces) | {len(table):,} | {total:,.0f} | "
        f"{mib(total * KNOX_PAIR_BYTES)} | {YEARS**2 * total:,.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sample", type=Path, nargs="?", help="folder of 'parsc-geo sample'")
    parser.add_argument(
        "--departments", default="", help="UBIGEO prefixes measured at full volume, e.g. 06,24"
    )
    parser.add_argument("--fraction", type=float, default=1.0, help="share of the incidents")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="keep both runs' outputs and figures here")
    parser.add_argument("--compare", action="store_true", help="compare both runs' files")
    parser.add_argument(
        "--no-evaluation",
        action="store_true",
        help="turn the backtest ([evaluation]) off in the run's configuration (said so)",
    )
    parser.add_argument(
        "--report", action="store_true", help="print the figures kept in --keep, run nothing"
    )
    parser.add_argument(
        "--no-near-repeat",
        action="store_true",
        help="turn the Knox test ([near_repeat]) off in the run's configuration (said so)",
    )
    parser.add_argument(
        "--modes",
        default="serie,dask",
        help="runs to make now (serie, dask or both); the others' figures are read from --keep, "
        "so two invocations can run the two modes at once",
    )
    parser.add_argument(
        "--knox-pairs",
        action="store_true",
        help="only print the pairs the Knox test would list in the largest provinces",
    )
    parser.add_argument("--child", nargs=4, metavar=("MODE", "CONFIG", "OUTPUT", "REPORT"))
    args = parser.parse_args()
    if args.child:
        mode, config, output, report = args.child
        child(Path(config), Path(output), mode, args.workers if mode == "dask" else 1, Path(report))
        return
    if args.sample is None:
        parser.error("give the folder of 'parsc-geo sample --study-area peru --months 12'")
    if args.knox_pairs:
        print_knox_pairs(args.sample)
        return
    departments = [d.strip() for d in args.departments.split(",") if d.strip()]
    with tempfile.TemporaryDirectory(prefix="bench-national-") as tmp:
        work = Path(tmp)
        base = args.keep or work
        base.mkdir(parents=True, exist_ok=True)
        config, n, national, districts = prepare(
            args.sample,
            departments,
            args.fraction,
            work,
            evaluation=not args.no_evaluation,
            near_repeat=not args.no_near_repeat,
        )
        chosen = [p for p in national.index if not departments or p.startswith(tuple(departments))]
        print(
            f"# {n:,} incidents (departments {departments or 'all'}, {args.fraction:.0%}) in "
            f"{len(chosen)} provinces; {machine_note()}",
            flush=True,
        )
        if args.no_evaluation:
            print("# the backtest (evaluacion) is turned off in this benchmark's run", flush=True)
        if args.no_near_repeat:
            print("# the Knox test (repeticion) is turned off in this benchmark's run", flush=True)
        modes = {m.strip() for m in args.modes.split(",") if m.strip()}
        runs = {}
        for mode, workers in (("serie", 1), ("dask", args.workers)):
            if args.report or mode not in modes:
                continue
            t0 = time.perf_counter()
            runs[mode] = run_mode(config, base / mode, mode, workers, base)
            print(f"#   {mode}: {time.perf_counter() - t0:,.0f} s", flush=True)
        for mode in ("serie", "dask"):  # figures of an earlier (or simultaneous) run in --keep
            kept = base / f"{mode}.json"
            if mode not in runs:
                if not kept.exists():
                    print(f"#   {mode}: not run here and not in --keep (yet); stopping", flush=True)
                    return
                runs[mode] = json.loads(kept.read_text(encoding="utf-8"))
        record = json.loads((base / "serie" / "run.json").read_text(encoding="utf-8"))
        runs["serie"]["comisarias"] = record["counts"].get("sectores", {}).get("comisarias", 0)
        runs["serie"]["districts"] = districts
        print_runs(runs["serie"], runs["dask"], args.workers)
        if args.compare:
            sys.path.insert(0, str(HERE.parent / "tests"))
            from run_compare import compare_runs

            compared = compare_runs(base / "serie", base / "dask")
            print(
                f"Files: {len(compared['identical'])} identical, {len(compared['equal'])} equal "
                f"but for time stamps, {len(compared['different'])} different, "
                f"{len(compared['missing'])} missing"
            )
        print_projection(runs["serie"], national)


if __name__ == "__main__":
    main()
