"""Benchmark: a month's import into a growing workspace, GeoPackage against PostGIS.

A regional store gains about 100,000 incidents a month (Lima) or 10,000 (a smaller
department). This script fills a GeoPackage workspace and a PostGIS workspace with the same
synthetic incidents (canonical columns, seeded), in months of ``--month`` rows up to
``--rows``, and prints for each size the seconds of one month's import and of reading every
incident back, on both backends, and their ratio. A GeoPackage import copies the whole file
(its transaction), so its time grows with the store; a PostGIS import writes only the new
rows. This is what ``parsc-geo info`` and the README's "when to move to PostGIS" rest on.

Usage::

    .venv/bin/python benchmarks/bench_workspace_backends.py postgresql://user@host/db \\
        [--rows 1000000] [--month 100000]

The PostGIS schema ``bench_<random>`` is dropped at the end.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd


def month_of_incidents(start: int, rows: int, seed: int) -> object:
    """Return ``rows`` synthetic incidents in the canonical schema, ids from ``start``."""
    import geopandas as gpd

    rng = np.random.default_rng(seed)
    when = pd.Timestamp("2020-01-01", tz="America/Lima") + pd.to_timedelta(
        rng.integers(0, 366 * 24 * 60, rows), unit="min"
    )
    fenomenos = np.array(["violencia_mujer", "patrimonio_espacio_publico", "otros"])
    return gpd.GeoDataFrame(
        {
            "incident_id": [f"B{start + i:09d}" for i in range(rows)],
            "occurred_at": when,
            "time_known": rng.random(rows) > 0.1,
            "delito_generico": "CONTRA EL PATRIMONIO",
            "modalidad": "HURTO SIMPLE",
            "fenomeno": fenomenos[rng.integers(0, 3, rows)],
            "harm": rng.random(rows) * 100,
            "label_raw": "HURTO",
            "label_known": True,
            "descripcion": "En la calle",
            "source": f"mes_{start // max(rows, 1):03d}.csv",
            "source_row": np.arange(1, rows + 1),
            "flags": "",
            "at_station": False,
            "ubigeo": "060101",
            "distrito": "Cajamarca",
            "provincia": "Cajamarca",
            "comisaria": "COMISARIA CAJAMARCA I",
        },
        geometry=gpd.points_from_xy(
            -78.5 + rng.normal(0, 0.05, rows), -7.16 + rng.normal(0, 0.05, rows)
        ),
        crs="EPSG:4326",
    )


def main() -> None:
    """Run the benchmark and print its table."""
    import psycopg

    from parsc_geo.workspace import open_workspace
    from parsc_geo.workspace.location import parse_database_url

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="postgresql://… of a database with PostGIS")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--month", type=int, default=100_000)
    args = parser.parse_args()
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    url = parse_database_url(args.url, schema=schema)
    empty = pd.DataFrame(columns=["source", "source_row", "reason"])
    with tempfile.TemporaryDirectory() as folder:
        backends = {
            "GeoPackage": open_workspace(Path(folder) / "w.gpkg"),
            "PostGIS": open_workspace(url),
        }
        print(
            f"{'incidentes':>11} | {'importar un mes (s)':^27} | {'leer todo (s)':^27}\n"
            f"{'':>11} | {'GPKG':>8} {'PostGIS':>8} {'ratio':>8} | "
            f"{'GPKG':>8} {'PostGIS':>8} {'ratio':>8}"
        )
        try:
            for start in range(0, args.rows, args.month):
                batch = month_of_incidents(start, args.month, seed=start)
                times: dict[str, tuple[float, float]] = {}
                for name, ws in backends.items():
                    t0 = time.perf_counter()
                    ws.import_incidents(
                        batch,  # type: ignore[arg-type]
                        empty,
                        sources=[{"source": f"mes_{start}.csv", "sha256": str(start)}],
                    )
                    t1 = time.perf_counter()
                    n = len(ws.read_incidents())
                    times[name] = (t1 - t0, time.perf_counter() - t1)
                    assert n == start + args.month, (name, n)
                (gi, gr), (pi, pr) = times["GeoPackage"], times["PostGIS"]
                print(
                    f"{start + args.month:>11,} | {gi:8.2f} {pi:8.2f} {gi / pi:8.2f} | "
                    f"{gr:8.2f} {pr:8.2f} {gr / pr:8.2f}".replace(",", " ")
                )
        finally:
            with psycopg.connect(url.conninfo, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


if __name__ == "__main__":
    main()
