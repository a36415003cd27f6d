"""Benchmark: ``parsc-geo ingest`` of a large CSV file, stage by stage, against references.

Builds a semicolon-separated Latin-1 CSV with decimal commas, Spanish column names,
station-map labels and day-first dates (points jittered around the bundled centros poblados of
Cajamarca, seeded), then runs what ``parsc-geo ingest FILE -w WORKSPACE --report R`` runs:

1. read + normalise + validate (:func:`parsc_geo.ingest.ingest_files`, CSV by chunks);
2. assign to district, province, police station (:func:`parsc_geo.assign.assign_incidents`);
3. store: workspace import (:func:`parsc_geo.workflow.store`), quarantine CSV and report.

Each stage prints its wall and CPU time and the peak resident memory of the process so far.
References measured in the same run, on the same file and rows, give the ratios:

- ``pandas.read_csv`` of the file as text columns (the floor of reading it);
- ``pyogrio.write_dataframe`` of the accepted rows as stored, to a GeoPackage (the floor of
  storing them);
- the district containment query as it was (``STRtree.query(points, predicate="within")``)
  against the one used (bounding boxes, then ``contains_xy`` on prepared polygons), checked
  to give the same pairs;
- ``strftime`` of the occurrence times against :func:`parsc_geo._fast.iso_local_text`,
  checked to give the same text.

Goals on a 2-core machine: 1M rows in under 20 s; 5M rows in under 100 s and 4 GB. The
machine's cores are shared: compare CPU with wall time, and run again when they differ much.

Usage::

    .venv/bin/python benchmarks/bench_ingest.py [--rows 1000000] [--keep FILE.csv]
    .venv/bin/python benchmarks/bench_ingest.py --csv FILE.csv      # an existing file
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

LABELS = [
    "HURTO AGRAVADO DURANTE LA NOCHE",
    "H. AGRAV.",
    "Hurto simple",
    "VIOL. FAM",
    "ROBO AGRAVADO A MANO ARMADA",
    "TID",
    "TIA",
    "CEE",
    "PAF",
    "Lesiones leves",
    "Desobediencia",
    "Abigeato",
    "Estafa",
    "Extorsión",
    "etiqueta desconocida",
]


def build_csv(path: Path, rows: int, seed: int = 20210101) -> None:
    """Write the benchmark CSV (in blocks of 500,000 rows, to keep memory low at 5M)."""
    from parsc_geo import boundaries

    rng = np.random.default_rng(seed)
    places = boundaries.load_settlements()
    lat_col = next(c for c in places.columns if c.lower().startswith("lat"))
    lon_col = next(c for c in places.columns if c.lower().startswith("lon"))
    base = places[[lat_col, lon_col]].dropna().to_numpy()
    block = 500_000
    with path.open("w", encoding="latin-1", newline="") as fh:
        for start in range(0, rows, block):
            k = min(block, rows - start)
            pick = rng.integers(0, len(base), k)
            lat = base[pick, 0] + rng.normal(0, 0.002, k)
            lon = base[pick, 1] + rng.normal(0, 0.002, k)
            day = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 366, k), unit="D")
            hour = pd.Series(rng.integers(0, 24, k)).astype(str).str.zfill(2)
            minute = pd.Series(rng.integers(0, 60, k)).astype(str).str.zfill(2)
            hora = (hour + ":" + minute).where(rng.random(k) > 0.2, "")
            ids = "B-" + pd.Series(np.arange(start, start + k)).astype(str).str.zfill(7)
            df = pd.DataFrame(
                {
                    "N° DENUNCIA": ids,
                    "FECHA_HECHO": day.strftime("%d/%m/%Y"),
                    "HORA": hora,
                    "MODALIDAD": np.array(LABELS, dtype=object)[rng.integers(0, len(LABELS), k)],
                    "LATITUD": np.round(lat, 6),
                    "LONGITUD": np.round(lon, 6),
                    "COMISARÍA": "CPNP",
                }
            )
            df.to_csv(fh, sep=";", decimal=",", index=False, header=start == 0)


def peak_mb() -> float:
    """Peak resident memory of this process so far (MiB: ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Clock:
    """Wall and CPU time of named stages."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float, float]] = []

    def run(self, name: str, func: Any) -> Any:
        t0, c0 = time.perf_counter(), time.process_time()
        out = func()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        self.rows.append((name, wall, cpu, peak_mb()))
        print(f"  {name:<44} wall {wall:7.2f} s   CPU {cpu:7.2f} s   peak {peak_mb():7,.0f} MiB")
        return out

    def get(self, name: str) -> tuple[float, float]:
        row = next(r for r in self.rows if r[0] == name)
        return row[1], row[2]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="Keep the generated CSV at this path.")
    parser.add_argument("--csv", type=Path, help="Use this CSV instead of generating one.")
    parser.add_argument(
        "--no-references", action="store_true", help="Skip the reference measurements."
    )
    args = parser.parse_args(argv)

    from parsc_geo.assign import assign_incidents
    from parsc_geo.ingest import IngestOptions, ingest_files
    from parsc_geo.io.writers import write_quarantine, write_report
    from parsc_geo.workflow import Ingested, store
    from parsc_geo.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        csv = args.csv or args.keep or tmp / "bench_incidentes.csv"
        if args.csv is None:
            t0 = time.perf_counter()
            build_csv(csv, args.rows)
            print(f"CSV built in {time.perf_counter() - t0:.1f} s")
        size_mb = csv.stat().st_size / 1e6
        print(f"CSV: {csv.name}, {size_mb:,.0f} MB; load average {os.getloadavg()[0]:.2f}")
        print(f"peak memory before ingesting: {peak_mb():,.0f} MiB")

        clock = Clock()
        opts = IngestOptions(progress=False)
        result = clock.run(
            "1. read + normalise + validate",
            lambda: ingest_files([csv], opts, assign=False),
        )
        n_rows = int(result.report["total"]["rows_read"])
        # the assignment ingest_files makes with assign=True (default area and distance)
        result.accepted = clock.run(
            "2. assign (district, province, station)", lambda: assign_incidents(result.accepted)
        )
        ws = Workspace(tmp / "espacio.gpkg")
        summary = clock.run(
            "3a. store in the workspace", lambda: store(Ingested(result, None, None), ws)
        )
        clock.run(
            "3b. quarantine CSV and report",
            lambda: (
                write_quarantine(result.quarantine, tmp / "cuarentena.csv"),
                write_report(dict(result.report), tmp / "informe.json"),
            ),
        )
        total = result.report["total"]
        assert total["rows_read"] == total["rows_accepted"] + total["rows_quarantined"]
        assert summary["rows_new"] == total["rows_accepted"]
        peak = peak_mb()
        stages = (
            "1. read + normalise + validate",
            "2. assign (district, province, station)",
            "3a. store in the workspace",
            "3b. quarantine CSV and report",
        )
        wall = sum(clock.get(s)[0] for s in stages)
        cpu = sum(clock.get(s)[1] for s in stages)
        print(
            f"ingest + assign + store of {n_rows:,} rows: wall {wall:.1f} s, CPU {cpu:.1f} s, "
            f"{n_rows / wall:,.0f} rows/s; peak memory {peak:,.0f} MiB; accepted "
            f"{total['rows_accepted']:,}, quarantined {total['rows_quarantined']:,}"
        )
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        if not args.no_references:
            _references(csv, result.accepted, clock)
        limit_s = 20.0 if n_rows <= 1_000_000 else 100.0 * n_rows / 5_000_000
        goal = f"< {limit_s:.0f} s" + (", < 4 GB" if n_rows > 1_000_000 else "")
        ok = wall < limit_s and (n_rows <= 1_000_000 or peak < 4096)
        print(f"goal ({goal} for {n_rows:,} rows):", "met" if ok else "NOT met")
    return 0


def _references(csv: Path, accepted: Any, clock: Clock) -> None:
    """Measure the references and print the ratios."""
    import pyogrio
    import shapely

    from parsc_geo._fast import iso_local_text
    from parsc_geo.area import resolve_area
    from parsc_geo.assign import _containing
    from parsc_geo.workspace.gpkg import _encode_times

    def ratio(label: str, ours: str, ref: str, extra: str = "") -> None:
        (w1, c1), (w0, c0) = clock.get(ours), clock.get(ref)
        print(f"  {label}: wall {w1 / w0:.2f}x, CPU {c1 / max(c0, 1e-9):.2f}x{extra}")

    print("references (same run, same data):")
    clock.run(
        "ref: pandas.read_csv (text columns)",
        lambda: pd.read_csv(csv, sep=";", dtype=str, encoding="latin-1", keep_default_na=False),
    )
    ratio(
        "read + normalise + validate / pandas.read_csv",
        "1. read + normalise + validate",
        "ref: pandas.read_csv (text columns)",
    )

    stored = _encode_times(accepted)
    path = csv.parent / "referencia.gpkg"
    clock.run(
        "ref: pyogrio.write_dataframe (same rows)",
        lambda: pyogrio.write_dataframe(stored, path, layer="incidents", driver="GPKG"),
    )
    ratio(
        "store / pyogrio.write_dataframe",
        "3a. store in the workspace",
        "ref: pyogrio.write_dataframe (same rows)",
    )

    districts = resolve_area(None, quiet=True).districts().to_crs(accepted.crs)
    points = accepted.geometry.to_numpy()
    xy = shapely.get_coordinates(points)
    # fresh copies of the polygons: the reference must not use the prepared ones
    fresh = shapely.from_wkb(shapely.to_wkb(districts.geometry.to_numpy()))
    old = clock.run(
        "ref: districts, STRtree.query(within)",
        lambda: shapely.STRtree(fresh).query(points, predicate="within"),
    )
    polygons = districts.geometry.to_numpy()
    new = clock.run(
        "districts, bounding box + contains_xy", lambda: _containing(polygons, points, xy)
    )
    same = set(zip(*(a.tolist() for a in old), strict=True)) == set(
        zip(*(a.tolist() for a in new), strict=True)
    )
    ratio(
        "containment / STRtree within",
        "districts, bounding box + contains_xy",
        "ref: districts, STRtree.query(within)",
        f"; same pairs: {same} ({len(new[0]):,})",
    )

    times = accepted["occurred_at"]
    fmt = "%Y-%m-%dT%H:%M:%S%z"
    old_text = clock.run(
        "ref: strftime of occurred_at",
        lambda: times.dt.strftime(fmt).str.replace(r"([+-]\d\d)(\d\d)$", r"\1:\2", regex=True),
    )
    new_text = clock.run("iso_local_text of occurred_at", lambda: iso_local_text(times))
    ratio(
        "iso_local_text / strftime",
        "iso_local_text of occurred_at",
        "ref: strftime of occurred_at",
        f"; same text: {bool(old_text.equals(new_text))}",
    )


if __name__ == "__main__":
    sys.exit(main())
