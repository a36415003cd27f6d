"""Time `parsc-geo demo` (the whole chain on the bundled 21,108-incident sample), per stage.

Goal (issue 8): under 60 s on a 2-core machine. Prints the time of each stage, the total, and
the share of the total each stage takes, from ``run.json`` of a fresh run.

Usage: ``.venv/bin/python benchmarks/bench_demo.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from parsc_geo.config import RunConfig
from parsc_geo.datasets import sample_paths
from parsc_geo.pipeline import STAGES, run_pipeline

GOAL_S = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="number of runs (best is kept)")
    args = parser.parse_args()
    paths = sample_paths()
    best: dict[str, float] | None = None
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            config = RunConfig(
                incidents=[paths["incidents"]],
                sectors=paths["sectors"],
                synthetic=True,
                methods=["kde", "gistar", "hdbscan"],
            )
            start = time.perf_counter()
            run_pipeline(config, Path(tmp) / "demo", quiet=True)
            wall = time.perf_counter() - start
            meta = json.loads((Path(tmp) / "demo" / "run.json").read_text(encoding="utf-8"))
            timings = dict(meta["timings_s"], wall=wall)
            if best is None or timings["wall"] < best["wall"]:
                best = timings
    assert best is not None
    print(
        f"parsc-geo demo on {meta['counts']['ingesta']['rows_read']:,} incidents, "
        f"{os.cpu_count()} CPU(s), best of {args.repeat}"
    )
    print(f"{'stage':<12}{'seconds':>9}{'share':>8}")
    for stage in STAGES:
        print(f"{stage:<12}{best[stage]:>9.2f}{best[stage] / best['total']:>8.0%}")
    print(f"{'total':<12}{best['total']:>9.2f}")
    print(
        f"wall (incl. imports of stages): {best['wall']:.2f} s; goal < {GOAL_S:.0f} s: "
        f"{'met' if best['wall'] < GOAL_S else 'NOT met'} "
        f"(ratio {best['wall'] / GOAL_S:.2f} of the goal)"
    )


if __name__ == "__main__":
    main()
