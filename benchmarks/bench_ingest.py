"""Benchmark: ingest and assign 1,000,000 incident rows from a CSV file.

Builds a semicolon-separated CSV with decimal commas, Spanish column names, station-map labels
and day-first dates (points jittered around the bundled centros poblados of Cajamarca, seeded),
then runs :func:`parsc_geo.ingest.ingest_files` with assignment to district, province and
police station. Prints rows per second and the peak resident memory of the process.

Goal on a 2-core machine: under 20 s and under 3 GB.

Usage::

    .venv/bin/python benchmarks/bench_ingest.py [--rows 1000000] [--keep FILE.csv]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

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
    """Write the benchmark CSV."""
    from parsc_geo import boundaries

    rng = np.random.default_rng(seed)
    places = boundaries.load_settlements()
    lat_col = next(c for c in places.columns if c.lower().startswith("lat"))
    lon_col = next(c for c in places.columns if c.lower().startswith("lon"))
    base = places[[lat_col, lon_col]].dropna().to_numpy()
    pick = rng.integers(0, len(base), rows)
    lat = base[pick, 0] + rng.normal(0, 0.002, rows)
    lon = base[pick, 1] + rng.normal(0, 0.002, rows)
    day = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 366, rows), unit="D")
    hour = rng.integers(0, 24, rows)
    minute = rng.integers(0, 60, rows)
    hora = (
        pd.Series(hour).astype(str).str.zfill(2) + ":" + pd.Series(minute).astype(str).str.zfill(2)
    )
    hora = hora.where(rng.random(rows) > 0.2, "")
    df = pd.DataFrame(
        {
            "N° DENUNCIA": "B-" + pd.Series(np.arange(rows)).astype(str).str.zfill(7),
            "FECHA_HECHO": day.strftime("%d/%m/%Y"),
            "HORA": hora,
            "MODALIDAD": np.array(LABELS, dtype=object)[rng.integers(0, len(LABELS), rows)],
            "LATITUD": np.round(lat, 6),
            "LONGITUD": np.round(lon, 6),
            "COMISARÍA": "CPNP",
        }
    )
    df.to_csv(path, sep=";", decimal=",", index=False, encoding="latin-1")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="Keep the generated CSV at this path.")
    args = parser.parse_args(argv)

    from parsc_geo.assign import assign_incidents
    from parsc_geo.ingest import ingest_files

    with tempfile.TemporaryDirectory() as tmp:
        csv = args.keep or Path(tmp) / "bench_incidentes.csv"
        t0 = time.perf_counter()
        build_csv(csv, args.rows)
        t_build = time.perf_counter() - t0
        size_mb = csv.stat().st_size / 1e6
        t1 = time.perf_counter()
        c1 = time.process_time()
        result = ingest_files([csv], assign=False)
        t_ingest = time.perf_counter() - t1
        t2 = time.perf_counter()
        assigned = assign_incidents(result.accepted)
        t_assign = time.perf_counter() - t2
        elapsed = time.perf_counter() - t1
        cpu = time.process_time() - c1
        assert len(assigned) == len(result.accepted)
    total = result.report["total"]
    assert total["rows_read"] == total["rows_accepted"] + total["rows_quarantined"]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"CSV: {args.rows:,} rows, {size_mb:.0f} MB (built in {t_build:.1f} s)")
    print(
        f"ingest + assign: {elapsed:.1f} s, {args.rows / elapsed:,.0f} rows/s; "
        f"accepted {total['rows_accepted']:,}, quarantined {total['rows_quarantined']:,}"
    )
    print(f"  read + normalise + validate: {t_ingest:.1f} s; assign: {t_assign:.1f} s")
    print(f"CPU time: {cpu:.1f} s (wall time is longer when other processes share the cores)")
    print(f"peak memory (max RSS of the process): {peak_mb:,.0f} MB")
    ok = elapsed < 20 and peak_mb < 3072
    print("goal (< 20 s, < 3 GB):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
