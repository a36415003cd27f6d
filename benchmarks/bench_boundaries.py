"""How fast the national reference data loads: first read, cached selections by UBIGEO prefix.

Usage::

    .venv/bin/python benchmarks/bench_boundaries.py [SHARED_NATIONAL_FOLDER]

Each figure is measured in a fresh process (``spawn``, libraries imported before timing) so
that "first read" includes opening the compressed GeoPackage. The reference, measured in the
same run, is reading the same national layers from the uncompressed GeoJSON files of the shared
data folder (default ``/work/shared/data/peru/nacional``; the way a single-region package would
read its files), when that folder is present.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import time
from pathlib import Path
from typing import Any


def _warm() -> None:
    # library imports are not what is measured
    import geopandas  # noqa: F401
    import pandas  # noqa: F401
    import pyogrio  # noqa: F401


def _parsc(queue: Any) -> None:
    _warm()
    from parsc_geo import boundaries

    out = {}
    t0 = time.perf_counter()
    boundaries.load_districts(prefix="")
    boundaries.load_provinces(prefix="")
    out["first read of the national layers (gpkg.gz)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    boundaries.load_settlements(prefix="")
    out["first read of 94,922 populated places (csv.gz)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(25):
        boundaries.load_districts(prefix="04")
    out["districts of Arequipa, cached (per call)"] = (time.perf_counter() - t0) / 25
    t0 = time.perf_counter()
    for _ in range(25):
        boundaries.load_districts()
    out["districts of Cajamarca, cached (per call)"] = (time.perf_counter() - t0) / 25
    queue.put(out)


def _geojson(folder: str, queue: Any) -> None:
    _warm()
    import pyogrio

    t0 = time.perf_counter()
    pyogrio.read_dataframe(Path(folder) / "peru_distritos.geojson")
    pyogrio.read_dataframe(Path(folder) / "peru_provincias.geojson")
    queue.put({"reference: the same layers from GeoJSON": time.perf_counter() - t0})


def _run(target: Any, *args: Any) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/peru/nacional")
    figures = _run(_parsc)
    if (folder / "peru_distritos.geojson").exists():
        figures.update(_run(_geojson, str(folder)))
        ratio = (
            figures["first read of the national layers (gpkg.gz)"]
            / figures["reference: the same layers from GeoJSON"]
        )
    else:
        ratio = None
    for label, seconds in figures.items():
        print(f"{label:<52}{seconds * 1000:>9.1f} ms")
    if ratio is not None:
        print(f"first read, gpkg.gz / GeoJSON: {ratio:.2f}")


if __name__ == "__main__":
    main()
