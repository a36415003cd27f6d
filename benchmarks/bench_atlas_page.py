"""Benchmark: peak memory and time of building ONE big atlas page in a fresh process.

Issue 18 asks a 1-million-incident province to run the whole chain under 4 GB; the atlas
builds each page in a pool worker that receives the page's incidents. This script measures one
page the way a worker builds it: a fresh child process unpickles the page's task (the
:class:`parsc_geo.maps.atlas._PageTask` that :func:`parsc_geo.maps.write_atlas` hands the pool,
its incidents already cut) and runs :func:`parsc_geo.maps.atlas._atlas_page`. It prints, per
page:

* the child's peak resident memory (``ru_maxrss`` of that child, from ``os.wait4``) and, as
  the reference measured in the same run, the peak of a child that only unpickles the same
  task ("datos"): the difference is what building the page costs;
* the build's wall and CPU time, and as reference the wall time of unpickling the task in the
  same child (the ratio is less sensitive to the load of a shared machine than the seconds);
* the page's size and SHA-256 (``--keep DIR`` writes the pages, to compare two versions
  byte for byte).

``--where`` also samples the child's resident memory every 10 ms in a thread and prints the
Python stack of the main thread when the peak was reached (where the memory goes).

The page tasks are prepared once (ingestion of the CSV as ``parsc-geo run`` does it, the run's
hotspots and density rasters) and cached in ``--cache``.

Usage::

    .venv/bin/python benchmarks/bench_atlas_page.py \\
        [--csv /work/bench/scale/provincia_1000000.csv] [--run /work/bench/run1m_ref] \\
        [--pages "provincia:Cajamarca" "comisaria:COMISARIA CAJAMARCA I"] \\
        [--cache ~/.cache/parsc-geo/bench_atlas_page] [--keep DIR] [--where] [--repeat 1]

To compare with another version of the code in the same session, run it again from a folder
outside this checkout with ``PYTHONPATH=<other checkout>`` and ``--keep`` another folder, then
``cmp`` the pages. Measured on a 2-core machine (issue 18, 1M incidents; pages identical):
province page 2,469 → 1,829 MiB peak (1,637 → 997 MiB above the loaded task), comisaría
COMISARIA CAJAMARCA I 1,942 → 1,200 MiB (1,274 → 533), build CPU time 11.9 → 11.2 s and
7.0 → 7.0 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import pickle
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

#: The generation time every page shows (pages of two versions compare byte for byte).
GENERATED = dt.datetime(2024, 1, 31, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
DEFAULT_CSV = Path("/work/bench/scale/provincia_1000000.csv")
DEFAULT_RUN = Path("/work/bench/run1m_ref")
DEFAULT_PAGES = ("provincia:Cajamarca", "comisaria:COMISARIA CAJAMARCA I")


def _slug(page: str) -> str:
    from parsc_geo._text import slug

    return slug(page.replace(":", "-"), sep="-", default="page")


def prepare(csv: Path, run: Path, pages: list[str], cache: Path) -> None:
    """Write one pickled page task per page into ``cache`` (skips those already there)."""
    todo = [p for p in pages if not (cache / f"{_slug(p)}.pkl").exists()]
    if not todo:
        return
    from parsc_geo.area import area_of
    from parsc_geo.datasets import sample_paths
    from parsc_geo.density import DensityRaster
    from parsc_geo.hotspots.io import read_hotspots
    from parsc_geo.ingest import IngestOptions
    from parsc_geo.maps.atlas import (
        DENSITY_CONTEXT_M,
        INDEX_FILE,
        SYNTHETIC_SOURCE,
        _Located,
        _page_columns,
        _PageTask,
        period_text,
        slugify,
    )
    from parsc_geo.maps.density_layer import DensityScale
    from parsc_geo.maps.timeline import Timeline
    from parsc_geo.partitions import materialise
    from parsc_geo.workflow import ingest

    t0 = time.perf_counter()
    ingested = ingest([csv], IngestOptions(), sectors_path=sample_paths()["sectors"])
    incidents = ingested.result.accepted
    sectors = ingested.sectors
    print(f"preparación: {len(incidents):,} incidentes leídos en {time.perf_counter() - t0:.0f} s")
    hotspots_file = run / "hotspots" / "hotspots.gpkg"
    hotspots = read_hotspots(hotspots_file) if hotspots_file.exists() else None
    common: dict[str, Any] = {
        "public": False,
        "public_data": None,
        "density_options": None,
        "synthetic": True,
        "period": period_text(incidents),
        "source": SYNTHETIC_SOURCE,
        "parameters": {"kernel": "quartic", "métodos": "kde, gistar, hdbscan"},
        "tiles": None,
        "grid_m": None,
        "generated": GENERATED,
        "timeline": Timeline.of(incidents),
        "density_scale": DensityScale.of(None),
        "trends": None,
        "accuracy": None,
        "home": INDEX_FILE,
        "basemap": True,
    }
    provinces = area_of(incidents).provinces()
    # the rows and columns a page's task carries in a run (read from partitions or cut)
    located = _Located(incidents, None, _page_columns([None]))
    cache.mkdir(mode=0o700, parents=True, exist_ok=True)
    for page in todo:
        kind, name = page.split(":", 1)
        if kind == "provincia":
            own = provinces[provinces["provincia"] == name]
            tif = run / "densidad" / f"densidad_{slugify(name).replace('-', '_')}.tif"
            raster = DensityRaster.from_geotiff(tif) if tif.exists() else None
            page_sectors = None
        else:
            assert sectors is not None
            own = sectors[sectors["comisaria"].astype(str) == name]
            raster = None  # the run's rasters are the provinces': comisaría pages compute theirs
            page_sectors = sectors
        if not len(own):
            raise SystemExit(f"página desconocida: {page}")
        rows = materialise(located.near(own, DENSITY_CONTEXT_M))
        task = _PageTask(
            kind=kind,
            name=name,
            filename=f"{_slug(page)}.html",
            incidents=rows,
            sectors=page_sectors,
            own=own,
            hotspots=hotspots,
            raster=raster,
            common=common,
            offline=False,
            assets_dir=None,
        )
        with open(cache / f"{_slug(page)}.pkl", "wb") as fh:
            pickle.dump(task, fh, protocol=pickle.HIGHEST_PROTOCOL)
        print(f"preparación: {page}: {len(rows):,} incidentes en la tarea")


def _hwm_kib() -> int:
    """Return this process's peak resident memory so far (``VmHWM``, KiB)."""
    with open("/proc/self/status") as fh:
        line = next(s for s in fh if s.startswith("VmHWM:"))
    return int(line.split()[1])


def _reset_peak() -> bool:
    """Reset this process's peak resident memory to its current one (Linux ≥ 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def _rss_kib() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


class _Where(threading.Thread):
    """Sample this process's RSS; keep the main thread's stack at the highest sample."""

    def __init__(self, interval: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peak = 0
        self.stack: list[str] = []
        self.stop = threading.Event()
        self.main = threading.main_thread().ident

    def run(self) -> None:
        while not self.stop.is_set():
            rss = _rss_kib()
            if rss > self.peak:
                frame = sys._current_frames().get(self.main or 0)
                self.peak = rss
                self.stack = traceback.format_stack(frame) if frame is not None else []
            time.sleep(self.interval)


def child(task_file: Path, keep: Path | None, where: bool) -> None:
    """Load the task, reset the peak, build the page. Print a JSON line of figures."""
    from parsc_geo.maps.atlas import _atlas_page

    t0 = time.perf_counter()
    with open(task_file, "rb") as fh:
        task = pickle.load(fh)
    load_s = time.perf_counter() - t0
    out: dict[str, Any] = {
        "load_s": load_s,
        "rss_loaded_kib": _rss_kib(),
        "load_peak_kib": _hwm_kib(),
        "rows": len(task.incidents),
    }
    # the peak of unpickling is the transport's, not the page's: start the count afresh
    out["reset"] = _reset_peak()
    sampler = _Where() if where else None
    if sampler is not None:
        sampler.start()
    c0 = time.process_time()
    t0 = time.perf_counter()
    filename, _info, page = _atlas_page(task)
    out["build_s"] = time.perf_counter() - t0
    out["build_cpu_s"] = time.process_time() - c0
    if sampler is not None:
        sampler.stop.set()
        sampler.join()
        out["where_kib"] = sampler.peak
        out["where"] = [s for s in sampler.stack if "site-packages/" in s or "parsc_geo" in s]
    data = page
    out["bytes"] = len(data)
    out["sha256"] = hashlib.sha256(data).hexdigest()
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        (keep / filename).write_bytes(data)
    print("RESULT " + json.dumps(out))


def _run_child(args: list[str]) -> tuple[dict[str, Any], int]:
    """Run this script as a child; return its figures and its peak RSS (KiB, ``os.wait4``)."""
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    text = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    if code:
        raise SystemExit(f"el proceso hijo terminó con código {code}:\n{text}")
    line = next(s for s in reversed(text.splitlines()) if s.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :]), int(usage.ru_maxrss)


def main() -> None:
    """Prepare the tasks (once), then build each page in a fresh child and print figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--run", type=Path, default=DEFAULT_RUN)
    parser.add_argument("--pages", nargs="+", default=list(DEFAULT_PAGES))
    # pickled tasks are loaded back: a folder of this user's, never a shared one such as /tmp
    parser.add_argument(
        "--cache", type=Path, default=Path.home() / ".cache" / "parsc-geo" / "bench_atlas_page"
    )
    parser.add_argument("--keep", type=Path, default=None, help="write the pages here")
    parser.add_argument("--where", action="store_true", help="print the stack at the peak")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.keep, args.where)
        return
    prepare(args.csv, args.run, args.pages, args.cache)
    mib = 1024.0
    print(
        "datos: memoria residente del hijo con la tarea cargada (referencia); pico: la del "
        "hijo (ru_maxrss, contado desde la carga); constr./carga: tiempo de la página sobre el "
        "de cargar la tarea, en el mismo proceso"
    )
    print(
        f"{'página':<34} {'incid.':>9} {'datos MiB':>9} {'pico MiB':>9} {'pico-datos':>10} "
        f"{'HTML MB':>8} {'carga s':>7} {'constr. s':>9} {'CPU s':>7} {'/carga':>6}"
    )
    for page in args.pages:
        task_file = args.cache / f"{_slug(page)}.pkl"
        for _ in range(args.repeat):
            extra = ["--keep", str(args.keep)] if args.keep is not None else []
            extra += ["--where"] if args.where else []
            res, peak = _run_child(["--child", str(task_file), *extra])
            loaded = res["rss_loaded_kib"]
            print(
                f"{page:<34} {res['rows']:>9,} {loaded / mib:>9.0f} {peak / mib:>9.0f} "
                f"{(peak - loaded) / mib:>10.0f} {res['bytes'] / 1e6:>8.1f} "
                f"{res['load_s']:>7.1f} {res['build_s']:>9.1f} {res['build_cpu_s']:>7.1f} "
                f"{res['build_s'] / res['load_s']:>6.1f}"
            )
            note = "" if res["reset"] else " (sin reinicio del pico: incluye la carga)"
            print(
                f"    sha256 {res['sha256']}; pico de la carga "
                f"{res['load_peak_kib'] / mib:.0f} MiB{note}"
            )
            if args.where:
                print(f"    pico muestreado {res['where_kib'] / mib:.0f} MiB en:")
                for frame in res["where"][-12:]:
                    print("      " + frame.rstrip().replace("\n", "\n      "))


if __name__ == "__main__":
    main()
