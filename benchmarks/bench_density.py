"""Benchmark: kernel density of 1,000,000 and 5,000,000 points on a 400 × 400 grid.

Compares, on the same points and grid:

* parsc-geo's density (linear binning + FFT; the engine ``kde_grid`` and the whole
  ``kernel_density`` from a GeoDataFrame);
* a plain reference: ``numpy.histogram2d`` counts + ``scipy.signal.fftconvolve`` with the same
  sampled, normalised quartic kernel (goal: parsc-geo within 1.5× of its time, with a smaller
  error against the exact sum);
* scikit-learn's ``KernelDensity`` (exact, tree-based), timed on a random subset of the cells and
  scaled to the whole grid (goal: parsc-geo at least 50× faster).

Errors are median relative errors against a direct (exact) summation of the kernel at a random
sample of cells above 5 % of the maximum density.

At 1,000,000 and 5,000,000 points the engine and the plain reference are also compared for CPU
time and memory (peak of the allocations made during the call, ``tracemalloc``; the points
themselves excluded), with the median and 99th-percentile errors (goal at 5 million points:
within 1.2× the reference's time and memory, still more accurate). Run::

    .venv/bin/python benchmarks/bench_density.py [--sizes 1000000 5000000]
"""

from __future__ import annotations

import argparse
import math
import time
import tracemalloc

import numpy as np

N_POINTS = 1_000_000
GRID = 400
CELL = 50.0
BANDWIDTH = 200.0  # quartic search radius: the cell is a quarter of it
SIDE = GRID * CELL
SEED = 20210101
N_EXACT_CELLS = 3000
N_SKLEARN_CELLS = 800


def make_points(rng: np.random.Generator, n_points: int = N_POINTS) -> np.ndarray:
    """Clustered points (60 % in 40 clusters, 40 % spread), inside the grid."""
    n_clustered = int(n_points * 0.6)
    centres = rng.uniform(0.15 * SIDE, 0.85 * SIDE, (40, 2))
    sizes = rng.multinomial(n_clustered, rng.dirichlet(np.ones(40)))
    spreads = rng.uniform(150, 1500, 40)
    parts = [rng.normal(c, s, (k, 2)) for c, s, k in zip(centres, spreads, sizes, strict=True)]
    parts.append(rng.uniform(0, SIDE, (n_points - n_clustered, 2)))
    xy = np.concatenate(parts)
    margin = BANDWIDTH
    keep = ((xy > margin) & (xy < SIDE - margin)).all(axis=1)
    xy = xy[keep]
    extra = rng.uniform(margin, SIDE - margin, (n_points - len(xy), 2))
    return np.concatenate([xy, extra])


def best_time(fn, repeat: int = 3) -> tuple[float, object]:
    best, result = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def quartic_kernel_grid() -> np.ndarray:
    half = int(BANDWIDTH // CELL)
    off = np.arange(-half, half + 1) * CELL
    d2 = off[:, None] ** 2 + off[None, :] ** 2
    k = np.clip(1 - d2 / BANDWIDTH**2, 0, None) ** 2
    return k / k.sum()


def reference(x: np.ndarray, y: np.ndarray, kern: np.ndarray) -> np.ndarray:
    """Plain histogram + FFT convolution (per m², first row north)."""
    from scipy.signal import fftconvolve

    counts, _, _ = np.histogram2d(y, x, bins=GRID, range=[[0, SIDE], [0, SIDE]])
    return np.maximum(fftconvolve(counts[::-1], kern, mode="same"), 0) / CELL**2


def exact_at(xy: np.ndarray, cells: np.ndarray, kernel: str) -> np.ndarray:
    """Exact kernel sums (per m²) at ``cells`` with a KD-tree of the points."""
    from scipy.spatial import cKDTree

    tree_pts = cKDTree(xy)
    tree_cells = cKDTree(cells)
    pairs = tree_cells.sparse_distance_matrix(tree_pts, BANDWIDTH, output_type="coo_matrix")
    u2 = pairs.data**2 / BANDWIDTH**2
    if kernel == "quartic":
        k = 3 / (math.pi * BANDWIDTH**2) * (1 - u2) ** 2
    else:  # epanechnikov
        k = 2 / (math.pi * BANDWIDTH**2) * (1 - u2)
    return np.bincount(pairs.row, k, minlength=len(cells))


def median_rel(estimate: np.ndarray, exact: np.ndarray) -> float:
    return float(np.median(np.abs(estimate - exact) / exact))


def p99_rel(estimate: np.ndarray, exact: np.ndarray) -> float:
    return float(np.percentile(np.abs(estimate - exact) / exact, 99))


def measured(fn) -> tuple[float, float, int, np.ndarray]:
    """Return (best wall s, best CPU s, peak bytes allocated, result) over three calls."""
    fn()
    wall = cpu = math.inf
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return wall, cpu, peak, result


def at_scale(sizes: list[int]) -> None:
    """Engine vs reference at large sizes: time, memory and accuracy."""
    from parsc_geo.density import kde_grid

    kern = quartic_kernel_grid()
    print("\nAt scale (quartic): engine / plain reference, same points, same run")
    print(
        f"{'points':>11} {'CPU s':>13} {'ratio':>6} {'memory MiB':>13} {'ratio':>6} "
        f"{'median error':>15} {'p99 error':>15}"
    )
    for n in sizes:
        rng = np.random.default_rng(SEED + n)
        xy = make_points(rng, n)
        x, y = xy[:, 0].copy(), xy[:, 1].copy()

        def ours(x=x, y=y) -> np.ndarray:
            return kde_grid(
                x, y, kernel="quartic", bandwidth=BANDWIDTH, cell_size=CELL, x0=0.0, ytop=SIDE,
                shape=(GRID, GRID),
            )  # fmt: skip

        _, c_ours, m_ours, d_ours = measured(ours)
        _, c_ref, m_ref, d_ref = measured(lambda x=x, y=y: reference(x, y, kern))
        ys, xs = np.divmod(np.arange(GRID * GRID), GRID)
        centres = np.column_stack([(xs + 0.5) * CELL, SIDE - (ys + 0.5) * CELL])
        flat = d_ours.ravel()
        candidates = np.flatnonzero(flat > 0.05 * flat.max())
        pick = rng.choice(candidates, size=min(N_EXACT_CELLS, candidates.size), replace=False)
        exact = exact_at(xy, centres[pick], "quartic")
        errors = [f(v.ravel()[pick], exact) for v in (d_ours, d_ref) for f in (median_rel, p99_rel)]
        time_ratio, memory_ratio = c_ours / c_ref, m_ours / m_ref
        print(
            f"{n:>11,} {c_ours:>6.2f}/{c_ref:<6.2f} {time_ratio:>6.2f} "
            f"{m_ours / 2**20:>6.0f}/{m_ref / 2**20:<6.0f} {memory_ratio:>6.2f} "
            f"{errors[0]:>7.3%}/{errors[2]:<7.3%} {errors[1]:>7.3%}/{errors[3]:<7.3%}"
        )
        if n >= 5_000_000:
            ok = time_ratio <= 1.2 and memory_ratio <= 1.2 and errors[0] < errors[2]
            print(f"  goal at {n:,} points (≤ 1.2× time and memory, smaller median error): "
                  f"{'met' if ok else 'NOT met'}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000_000, 5_000_000])
    args = parser.parse_args()
    import geopandas as gpd
    from sklearn.neighbors import KernelDensity

    from parsc_geo.density import kde_grid, kernel_density

    t_start = time.perf_counter()
    rng = np.random.default_rng(SEED)
    xy = make_points(rng)
    x, y = xy[:, 0].copy(), xy[:, 1].copy()
    print(f"{len(xy):,} points, {GRID} × {GRID} grid of {CELL:g} m, quartic radius {BANDWIDTH:g} m")

    def ours(kernel: str = "quartic") -> np.ndarray:
        return kde_grid(
            x, y, kernel=kernel, bandwidth=BANDWIDTH, cell_size=CELL, x0=0.0, ytop=SIDE,
            shape=(GRID, GRID),
        )  # fmt: skip

    kern = quartic_kernel_grid()
    ours()  # warm-up (imports)
    reference(x, y, kern)
    t_ours, dens_ours = best_time(ours)
    t_ref, dens_ref = best_time(lambda: reference(x, y, kern))
    gdf = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs="EPSG:32717")
    t_full, raster = best_time(
        lambda: kernel_density(
            gdf, bandwidth=BANDWIDTH, cell_size=CELL, extent=(0, 0, SIDE, SIDE), quiet=True
        )
    )
    assert np.allclose(raster.array / 1e6, dens_ours)

    # exact summation at a sample of cells above 5 % of the maximum
    ys, xs = np.divmod(np.arange(GRID * GRID), GRID)
    centres = np.column_stack([(xs + 0.5) * CELL, SIDE - (ys + 0.5) * CELL])
    flat_ours = dens_ours.ravel()
    candidates = np.flatnonzero(flat_ours > 0.05 * flat_ours.max())
    pick = rng.choice(candidates, size=min(N_EXACT_CELLS, candidates.size), replace=False)
    exact = exact_at(xy, centres[pick], "quartic")
    err_ours = median_rel(flat_ours[pick], exact)
    err_ref = median_rel(dens_ref.ravel()[pick], exact)

    print("\nQuartic kernel")
    print(f"  parsc-geo kde_grid (binning + FFT)      {t_ours * 1e3:8.1f} ms   "
          f"median rel. error {err_ours:.3%}")  # fmt: skip
    print(f"  plain histogram2d + fftconvolve         {t_ref * 1e3:8.1f} ms   "
          f"median rel. error {err_ref:.3%}")  # fmt: skip
    print(f"  parsc-geo kernel_density (GeoDataFrame) {t_full * 1e3:8.1f} ms")
    ratio = t_ours / t_ref
    goal = "met" if ratio <= 1.5 and err_ours < err_ref else "NOT met"
    print(f"  time ratio parsc-geo / reference: {ratio:.2f} (goal ≤ 1.5); "
          f"error ratio {err_ours / err_ref:.2f} (goal < 1): {goal}")  # fmt: skip
    print(f"  whole kernel_density / reference: {t_full / t_ref:.2f}")

    # scikit-learn (exact, KD-tree) on a random subset of all cells, scaled to the grid;
    # epanechnikov, the compact kernel both implement
    t_epa, dens_epa = best_time(lambda: ours("epanechnikov"))
    subset = rng.choice(GRID * GRID, size=N_SKLEARN_CELLS, replace=False)
    t0 = time.perf_counter()
    kde = KernelDensity(kernel="epanechnikov", bandwidth=BANDWIDTH).fit(xy)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    log_dens = kde.score_samples(centres[subset])
    t_score = time.perf_counter() - t0
    t_sklearn = t_fit + t_score * (GRID * GRID) / N_SKLEARN_CELLS
    theirs = np.exp(log_dens) * len(xy)
    flat_epa = dens_epa.ravel()[subset]
    busy = theirs > 0.05 * theirs.max()
    err_vs_sklearn = median_rel(flat_epa[busy], theirs[busy])
    speedup = t_sklearn / t_epa
    print("\nEpanechnikov kernel vs scikit-learn KernelDensity")
    print(f"  parsc-geo kde_grid                      {t_epa * 1e3:8.1f} ms")
    print(f"  scikit-learn fit {t_fit:.2f} s + score {N_SKLEARN_CELLS} cells {t_score:.2f} s "
          f"→ {GRID * GRID:,} cells ≈ {t_sklearn:.1f} s")  # fmt: skip
    print(f"  speed-up {speedup:,.0f}× (goal ≥ 50×: {'met' if speedup >= 50 else 'NOT met'}); "
          f"median rel. difference on the cells above 5 %: {err_vs_sklearn:.3%}")  # fmt: skip
    if args.sizes:
        at_scale(args.sizes)
    print(f"\nTotal benchmark time {time.perf_counter() - t_start:.1f} s")


if __name__ == "__main__":
    main()
