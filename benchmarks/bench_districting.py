"""Time sector design: one comisaría (≈ 2,000 blocks), then every police unit of a province.

Goals (issue 15): one comisaría in seconds; a whole province's comisarías under a minute.

1. ``COMISARIA CAJAMARCA I`` of the bundled synthetic sample (jurisdiction = its existing
   sectors, about 2,000 hexagonal blocks): time of the whole design (blocks, workload,
   sectors, subsectors, evaluation), and the coefficient of variation of incidents per sector.
   Reference, in the same run and on the same blocks: PySAL spopt's SKATER into as many
   regions (contiguous, but blind to workload): its time and the CV it reaches.
2. Every census police unit of a province (default CAJAMARCA: 14 units; jurisdictions derived
   as the assignment does, or from the sample's sectors): total time.

Usage: ``.venv/bin/python benchmarks/bench_districting.py [--provincia NAME] [--no-reference]``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from parsc_geo._data import boundaries_dir
from parsc_geo.boundaries import load_stations
from parsc_geo.districting.design import DesignOptions, design_sectors
from parsc_geo.ingest import ingest_files
from parsc_geo.sectors import read_sectors

ROOT = Path(__file__).resolve().parents[1]
INCIDENTS = ROOT / "incidents" / "sintetico_cajamarca_2020_incidentes.csv"


def skater_reference(design: object, k: int) -> tuple[float, float]:
    """Return SKATER's time (s) and the CV of incidents per region on the design's blocks."""
    import warnings

    import pandas as pd
    from libpysal.weights import W
    from spopt.region import Skater

    blocks = design.blocks  # type: ignore[attr-defined]
    frame = blocks.frame
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weights = W({i: list(nb) for i, nb in enumerate(blocks.neighbours)}, silence_warnings=True)
        xy = pd.DataFrame(
            {"x": frame["x"] - frame["x"].mean(), "y": frame["y"] - frame["y"].mean()}
        )
        start = time.perf_counter()
        model = Skater(xy, weights, ["x", "y"], n_clusters=k, floor=1, islands="increase")
        model.solve()
        elapsed = time.perf_counter() - start
    counts = np.bincount(np.asarray(model.labels_), weights=frame["denuncias"].to_numpy())
    return elapsed, float(counts.std() / counts.mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provincia", default="CAJAMARCA", help="province of part 2")
    parser.add_argument("--no-reference", action="store_true", help="skip the SKATER reference")
    args = parser.parse_args()

    sectors = read_sectors(boundaries_dir() / "sintetico_sectores_comisarias.geojson")
    start = time.perf_counter()
    incidents = ingest_files([INCIDENTS], assign=False).accepted
    print(f"lectura de {len(incidents)} denuncias: {time.perf_counter() - start:.1f} s")

    start = time.perf_counter()
    design = design_sectors(incidents, "COMISARIA CAJAMARCA I", sectors=sectors)
    ours = time.perf_counter() - start
    k = design.parameters["sectores"]
    cv = design.designed.summary["sector"]["cv_denuncias"]
    print(
        f"1. COMISARIA CAJAMARCA I: {len(design.blocks)} bloques, {k} sectores, "
        f"{sum(design.parameters['subsectores_por_sector'])} subsectores: {ours:.2f} s, "
        f"CV de denuncias por sector {cv:.3f}"
    )
    if not args.no_reference:
        ref_time, ref_cv = skater_reference(design, k)
        print(
            f"   referencia SKATER (spopt), solo sectores: {ref_time:.2f} s, CV {ref_cv:.3f}; "
            f"diseño completo / SKATER = {ours / ref_time:.2f}"
        )

    stations = load_stations()
    units = stations.loc[stations["provincia"] == args.provincia.upper(), "id_n"].tolist()
    start = time.perf_counter()
    worst = 0.0
    for unit in units:
        one = time.perf_counter()
        result = design_sectors(
            incidents, unit, sectors=sectors, options=DesignOptions(workload="incidents")
        )
        worst = max(worst, time.perf_counter() - one)
        summary = result.designed.summary["sector"]
        cv_one = summary.get("cv_denuncias", float("nan"))
        print(
            f"   {result.comisaria.name}: {len(result.blocks)} bloques, "
            f"{int(summary['unidades'])} sectores, CV {cv_one:.3f}, "
            f"{int(summary['contiguos'])} contiguos"
        )
    total = time.perf_counter() - start
    print(
        f"2. provincia {args.provincia}: {len(units)} comisarías en {total:.1f} s "
        f"(la más lenta {worst:.1f} s; meta < 60 s: {'cumple' if total < 60 else 'NO cumple'})"
    )


if __name__ == "__main__":
    main()
