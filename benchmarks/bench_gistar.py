"""Benchmark: Getis-Ord Gi* on a 300 × 300 grid, parsc-geo against PySAL esda.

Both compute Gi* z-scores (binary queen weights, self included, normal approximation) for the
same counts on the same 90,000-cell lattice:

- parsc-geo: ``parsc_geo.grid.make_grid`` + ``contiguity_weights`` (sparse) and
  ``parsc_geo.hotspots.gistar.gi_star_z`` (one sparse product);
- esda: ``G_Local(y, w, transform="B", star=True, permutations=0)`` with libpysal's
  ``lat2W(300, 300, rook=False)`` weights (a ``W``) and, separately, the same weights as a
  ``libpysal.graph.Graph``.

Prints the largest absolute difference between the z-scores and the speed ratio (goal:
≥ 100× faster, identical z-scores). Run: ``.venv/bin/python benchmarks/bench_gistar.py``.
"""

from __future__ import annotations

import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely

SIDE = 300
CELL = 100.0
X0, Y0 = 700_000.0, 9_200_000.0
SEED = 20210101


def best_of(func: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Return (best, median) wall time in seconds over ``repeat`` runs, and the last result."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def counts(n: int, seed: int) -> np.ndarray:
    """Clustered counts: Poisson background plus a few hundred Gaussian hotspots."""
    rng = np.random.default_rng(seed)
    rows, cols = np.divmod(np.arange(n), SIDE)
    y = rng.poisson(0.3, n).astype(float)
    for _ in range(300):
        r, c = rng.integers(0, SIDE, 2)
        y += rng.poisson(8.0 * np.exp(-((rows - r) ** 2 + (cols - c) ** 2) / (2 * 2.0**2)))
    return y


def main() -> None:
    import libpysal
    from esda import G_Local

    from parsc_geo.grid import contiguity_weights, make_grid
    from parsc_geo.hotspots.gistar import gi_star_z

    warnings.simplefilter("ignore")
    n = SIDE * SIDE
    y = counts(n, SEED)
    print(f"Gi* on a {SIDE} × {SIDE} grid ({n:,} cells), queen weights, {int(y.sum()):,} incidents")

    t0 = time.perf_counter()
    grid = make_grid(
        shapely.box(X0, Y0, X0 + SIDE * CELL, Y0 + SIDE * CELL), CELL, crs="EPSG:32717"
    )
    t_grid = time.perf_counter() - t0
    assert len(grid) == n
    t_w, _, w = best_of(lambda: contiguity_weights(grid), 3)
    t_ours, t_ours_med, z_ours = best_of(lambda: gi_star_z(y, w), 7)

    t0 = time.perf_counter()
    w_pysal = libpysal.weights.lat2W(SIDE, SIDE, rook=False)
    t_w_pysal = time.perf_counter() - t0
    t_esda, t_esda_med, esda_w = best_of(
        lambda: G_Local(y, w_pysal, transform="B", star=True, permutations=0), 3
    )
    graph = libpysal.graph.Graph.from_W(w_pysal)
    t_graph, _, esda_g = best_of(
        lambda: G_Local(y, graph, transform="B", star=True, permutations=0), 3
    )

    diff_w = float(np.max(np.abs(z_ours - esda_w.Zs)))
    diff_g = float(np.max(np.abs(z_ours - esda_g.Zs)))
    print()
    print("                                   time (s)")
    print(f"  parsc-geo grid (polygons, clip)  {t_grid:9.3f}   (not part of the comparison)")
    print(f"  parsc-geo weights (lattice)      {t_w:9.4f}")
    print(f"  parsc-geo Gi* z-scores           {t_ours:9.4f}   (median {t_ours_med:.4f})")
    print(f"  libpysal lat2W weights           {t_w_pysal:9.3f}")
    print(f"  esda G_Local, W                  {t_esda:9.3f}   (median {t_esda_med:.3f})")
    print(f"  esda G_Local, Graph              {t_graph:9.3f}")
    print()
    print(f"  max |z_parsc - z_esda(W)|     = {diff_w:.3e}")
    print(f"  max |z_parsc - z_esda(Graph)| = {diff_g:.3e}")
    print(
        f"  speed ratio, Gi* only:                    {t_esda / t_ours:8.1f}× (W)"
        f"   {t_graph / t_ours:8.1f}× (Graph)"
    )
    print(
        f"  speed ratio, weights + Gi* (both sides):  "
        f"{(t_w_pysal + t_esda) / (t_w + t_ours):8.1f}× (W)"
    )
    ok = diff_w <= 1e-9 and diff_g <= 1e-9
    print()
    print(
        f"  identical z-scores (≤ 1e-9): {'yes' if ok else 'NO'};"
        f" goal ≥ 100× (Gi* only, W): {'met' if t_esda / t_ours >= 100 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
