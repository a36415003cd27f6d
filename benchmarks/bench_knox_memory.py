"""Benchmark: memory of the incidents' preparation and of the Knox test's close pairs.

Issue 18 (a million-incident province under 4 GB). Each line measures the current code and a
reference (the previous code, kept here) on the same input, each in a fresh process so that
memory one freed cannot be reused by the other, checks both give the same answer, and prints
the peak memory above what the process held before the step (RSS sampled every 5 ms), the CPU
seconds and their ratios.

* preparation of the incidents (``hotspots._common.prepare``, used by every hotspot method,
  the trends and the near repeats): the reference is the plain chain (``select`` with its
  copy, ``to_crs``, ``sort_values``, ``reset_index``); the current code copies the kept rows
  once, and ``locate`` (what the trends and the near repeats use now) builds no frame.
* the Knox test's pairs closer than 500 m: the reference lists them with one
  ``cKDTree.query_pairs`` (int64 pairs, distances, a stable argsort by the first point); the
  current code lists them a block of points at a time into int32/int32/int16 arrays.

Usage: ``.venv/bin/python benchmarks/bench_knox_memory.py [--incidents N] [--pairs-points N]``
(defaults: 1,000,000 incidents in one synthetic province; 45,000 points with about 28 million
pairs closer than 500 m, near the 30 million the Knox test lists at most).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import threading
import time
from typing import Any

import numpy as np
from _measure import machine_note


def _incidents(n: int) -> Any:
    """A dense synthetic province: n points around Cajamarca city, ids, dates, stacks."""
    import geopandas as gpd
    import pandas as pd

    rng = np.random.default_rng(18)
    lon = -78.51 + rng.normal(0, 0.05, n)
    lat = -7.16 + rng.normal(0, 0.05, n)
    frame = pd.DataFrame(
        {
            "incident_id": pd.array([f"I{i:08d}" for i in rng.permutation(n)], dtype="str"),
            "occurred_at": pd.Timestamp("2020-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 365 * 24, n), unit="h"),
            "modalidad": rng.choice(["ROBO AGRAVADO", "HURTO SIMPLE", "LESIONES"], n),
            "descripcion": rng.choice(["texto largo de la denuncia " * 4, "otro texto"], n),
            "harm": rng.uniform(0, 10, n),
            "at_station": rng.random(n) < 0.01,
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def _reference_prepare(data: Any) -> Any:
    """The previous preparation: select (and copy), to_crs, _x/_y, sort, reset_index."""
    from parsc_geo.incidents import select
    from parsc_geo.projection import metric_crs

    points = select(data, include_at_station=False)
    points = points.to_crs(metric_crs(points))
    points["_x"] = points.geometry.x.to_numpy(dtype=float)
    points["_y"] = points.geometry.y.to_numpy(dtype=float)
    return points.sort_values(["_x", "_y", "incident_id"], kind="stable").reset_index(drop=True)


def _reference_pairs(x: np.ndarray, y: np.ndarray, finite: np.ndarray) -> tuple[Any, ...]:
    """The previous listing of the close pairs (one query_pairs, then sorted by i)."""
    from scipy.spatial import cKDTree

    r = float(finite[-1])
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(r, output_type="ndarray")
    i = pairs[:, 0].astype(np.int32)
    j = pairs[:, 1].astype(np.int32)
    del pairs
    d = np.hypot(x[i] - x[j], y[i] - y[j])
    keep = d < r
    order = np.argsort(i[keep], kind="stable")
    i, j, d = i[keep][order], j[keep][order], d[keep][order]
    s_index = np.searchsorted(finite, d, side="right").astype(np.int64)
    return i, j, s_index


def _pair_points(n: int) -> tuple[np.ndarray, np.ndarray]:
    """n points uniform in a 3 km disc: about C(n, 2) / 36 pairs closer than 500 m."""
    rng = np.random.default_rng(7)
    radius = 3000 * np.sqrt(rng.random(n))
    angle = rng.uniform(0, 2 * np.pi, n)
    return radius * np.cos(angle), radius * np.sin(angle)


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def child(what: str, n: int) -> None:
    """Run one measurement in this (fresh) process and print it as JSON."""
    import psutil

    me = psutil.Process()
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], me.memory_info().rss)
            stop.wait(0.005)

    threading.Thread(target=sample, daemon=True).start()
    if what.startswith("prepare") or what == "locate":
        from parsc_geo.hotspots._common import locate, prepare

        data = _incidents(n)
        _reference_prepare(data.iloc[:1000])  # imports, not measured
        prepare(data.iloc[:1000], exclude_at_station=True)
    else:
        from parsc_geo.trends.near_repeat import _pairs_closer_than

        x, y = _pair_points(n)
        finite = np.array([0.0, 100, 200, 300, 400, 500])
    base = me.memory_info().rss
    peak[0] = base
    start = time.process_time()
    if what == "prepare-reference":
        points = _reference_prepare(data)
        xy = (points["_x"].to_numpy(), points["_y"].to_numpy())
    elif what == "prepare":
        points = prepare(data, exclude_at_station=True).points
        xy = (points["_x"].to_numpy(), points["_y"].to_numpy())
    elif what == "locate":
        located = locate(data, exclude_at_station=True)
        xy = (located.x, located.y)
    else:
        if what == "pairs-reference":
            i, j, s_index = _reference_pairs(x, y, finite)
        else:
            from scipy.spatial import cKDTree

            tree = cKDTree(np.column_stack([x, y]))
            i, j, s_index, _ = _pairs_closer_than(tree, x, y, finite)
            del tree
        seconds = time.process_time() - start
        stop.set()
        used = max(peak[0], me.memory_info().rss) - base
        key = i.astype(np.int64) * n + j
        order = np.argsort(key)
        digest = _digest(key[order], s_index[order].astype(np.int64))
        print(json.dumps({"peak": used, "cpu": seconds, "digest": digest, "n": len(i)}))
        return
    seconds = time.process_time() - start
    stop.set()
    used = max(peak[0], me.memory_info().rss) - base
    print(json.dumps({"peak": used, "cpu": seconds, "digest": _digest(*xy), "n": n}))


def measure(what: str, n: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", what, "--n", str(n)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def line(label: str, ours: dict[str, Any], ref: dict[str, Any], ref_label: str) -> None:
    assert ours["digest"] == ref["digest"], f"{label}: the results differ"
    print(
        f"{label}: peak {ours['peak'] / 2**20:,.0f} MiB above the input against "
        f"{ref['peak'] / 2**20:,.0f} MiB ({ref_label}), {ref['peak'] / max(ours['peak'], 1):.1f}× "
        f"less; CPU {ours['cpu']:.2f} s against {ref['cpu']:.2f} s "
        f"({ours['cpu'] / ref['cpu']:.2f}×); same result"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--pairs-points", type=int, default=45_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.n)
        return
    print(machine_note())
    n = args.incidents
    ref = measure("prepare-reference", n)
    line(f"prepare(), {n:,} incidents", measure("prepare", n), ref, "previous chain")
    line(f"locate(), {n:,} incidents", measure("locate", n), ref, "previous prepare()")
    m = args.pairs_points
    ref = measure("pairs-reference", m)
    ours = measure("pairs", m)
    line(f"Knox close pairs, {m:,} points ({ours['n']:,} pairs)", ours, ref, "one query_pairs")


if __name__ == "__main__":
    main()
