"""Benchmark: drawing the priority document maps of the bundled sample (PNG of each map).

Goal (issue 18): the ``prioridad`` stage of the region demo spends most of its time in
matplotlib; its document maps measure every name they try to place and every text they draw.
The current drawing keeps a name's box around its anchor for every map of the run
(:func:`parsc_geo.priority.maps.place_labels`) and unites a frame's polygons once. The
reference, measured in the same run, is the previous drawing swapped in: a new artist measured
for each attempt, a union per map. Both must give the same PNG
bytes (checked). CPU times, best of ``--repeat``; each repeat starts with nothing kept.

Usage: ``.venv/bin/python benchmarks/bench_priority_maps.py [--repeat 3] [--dpi 150]``
"""

from __future__ import annotations

import argparse
import hashlib
import io
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from _measure import machine_note


def previous_drawing() -> AbstractContextManager[Any]:
    """Swap in the previous drawing: nothing kept between attempts or maps."""
    from unittest import mock

    from parsc_geo.priority import maps

    return mock.patch.multiple(
        maps,
        _layout_key=lambda *args: object(),  # no two attempts share a key
        _territory=lambda geometries: geometries.union_all(),
    )


def draw_all(result: Any, targets: list[tuple[str, str]], dpi: int) -> tuple[float, list[str]]:
    """Draw and save every map (as the pool does); return the CPU seconds and PNG digests."""
    from parsc_geo.priority import maps

    maps._LAYOUTS.clear()
    maps._TERRITORIES.clear()
    digests = []
    start = time.process_time()
    for level, target in targets:
        fig, _ = maps.priority_figure(result, level=level, target=target)
        buf = io.BytesIO()
        fig.savefig(buf, dpi=dpi, format="png")
        digests.append(hashlib.sha256(buf.getvalue()).hexdigest())
    return time.process_time() - start, digests


def best_of(
    repeat: int, run: Callable[[], tuple[float, list[str]]], context: Callable[[], Any]
) -> tuple[float, list[str]]:
    best, digests = float("inf"), list[str]()
    for _ in range(repeat):
        with context():
            seconds, digests = run()
        best = min(best, seconds)
    return best, digests


def main() -> None:
    from parsc_geo.datasets import sample_paths
    from parsc_geo.ingest import IngestOptions
    from parsc_geo.priority import compute_priority
    from parsc_geo.workflow import count_tables, ingest

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dpi", type=int, default=150)
    args = parser.parse_args()
    accepted = ingest([sample_paths()["incidents"]], IngestOptions()).result.accepted
    result = compute_priority(count_tables([], accepted), seed=20210101, synthetic=True)
    pairs = result.table[["nivel_territorial", "objetivo"]].drop_duplicates()
    targets = [(str(level), str(target)) for level, target in pairs.itertuples(index=False)]
    draw_all(result, targets[:1], args.dpi)  # fonts and imports loaded before timing

    def run() -> tuple[float, list[str]]:
        return draw_all(result, targets, args.dpi)

    reference, expected = best_of(args.repeat, run, previous_drawing)
    current, digests = best_of(args.repeat, run, nullcontext)
    assert digests == expected, "the maps differ from the previous drawing's"
    print(machine_note())
    print(f"{len(targets)} document maps at {args.dpi} dpi, same PNG bytes")
    print(f"  previous drawing  {reference:6.2f} CPU-s")
    print(f"  current           {current:6.2f} CPU-s   ratio {current / reference:.2f}")


if __name__ == "__main__":
    main()
