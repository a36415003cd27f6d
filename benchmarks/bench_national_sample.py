"""Time the synthetic national sample: one year of all of Peru (≈ 1.3 million incidents).

Usage::

    .venv/bin/python benchmarks/bench_national_sample.py            # time generation only
    .venv/bin/python benchmarks/bench_national_sample.py -o DIR     # and write it (for the
                                                                    # national chain benchmark)

Each sample is generated in its own process (so that its peak memory is its own). The reference
measured in the same run is the bundled Cajamarca sample (21,108 incidents, one department): the
table prints the time per incident of both and their ratio — generation should stay about
linear in the number of incidents (a ratio near 1) while the country has 15 times the districts
and 61 times the incidents.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import time
from pathlib import Path
from typing import Any


def _generate(job: dict[str, Any], queue: Any) -> None:
    from parsc_geo.datasets import generate_sample, write_sample

    t0 = time.perf_counter()
    cpu0 = time.process_time()
    sample = generate_sample(
        job["seed"], start=job["start"], months=job["months"], area=job["area"]
    )
    generated = time.perf_counter() - t0
    written = None
    if job.get("output"):
        t1 = time.perf_counter()
        write_sample(job["output"], sample, overwrite=True)
        written = time.perf_counter() - t1
    queue.put(
        {
            "n": len(sample.incidents),
            "districts": int(sample.incidents["ubigeo"].nunique()),
            "subsectors": len(sample.sectors),
            "comisarias": int(sample.sectors["comisaria_id"].nunique()),
            "wall_s": generated,
            "cpu_s": time.process_time() - cpu0,
            "write_s": written,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )


def run(job: dict[str, Any]) -> dict[str, Any]:
    """Generate one sample in a fresh process and return its figures."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_generate, args=(job, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, help="write the national sample here")
    parser.add_argument("--start", default="2022-01", help="first month of the year")
    parser.add_argument("--seed", type=int, default=20210101)
    args = parser.parse_args()
    reference = run({"seed": args.seed, "start": "2020-01", "months": 10, "area": None})
    national = run(
        {
            "seed": args.seed,
            "start": args.start,
            "months": 12,
            "area": "peru",
            "output": str(args.output) if args.output else None,
        }
    )
    print(
        f"{'sample':<28}{'incidents':>11}{'districts':>10}{'wall s':>9}{'cpu s':>8}"
        f"{'µs/inc':>9}{'peak MB':>9}"
    )
    for label, r in (("Cajamarca 2020-01..10", reference), (f"Perú {args.start} + 12", national)):
        per = r["wall_s"] / r["n"] * 1e6
        print(
            f"{label:<28}{r['n']:>11,}{r['districts']:>10}{r['wall_s']:>9.1f}{r['cpu_s']:>8.1f}"
            f"{per:>9.1f}{r['peak_mb']:>9.0f}"
        )
    ratio = (national["wall_s"] / national["n"]) / (reference["wall_s"] / reference["n"])
    print(f"time per incident, national / Cajamarca: {ratio:.2f}")
    print(
        f"national: {national['comisarias']} comisarías with {national['subsectors']} synthetic "
        "subsectors"
    )
    if national["write_s"] is not None:
        print(f"written to {args.output} in {national['write_s']:.1f} s")


if __name__ == "__main__":
    main()
