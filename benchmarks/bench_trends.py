"""Benchmark: emerging hot spots and near-repeat, with references measured in the same run.

1. The bundled sample (incidents/sintetico_cajamarca_2020_incidentes.csv, whole region):
   import into a temporary workspace, then ``parsc-geo trends`` (cube, Gi*, trends, patterns
   and every output file) and ``parsc-geo near-repeat`` (default bands, 99 permutations).
   Reference: one Gi* map of the same incidents (``hotspot_gistar``).
2. A synthetic cube of 100,000 cells × 36 periods: space-time Gi* (k = 1, whole-cube window),
   FDR, Mann-Kendall of z and of counts, classification. References: the project's Gi*
   (``gi_star_z``) run once per period; ``pymannkendall.original_test`` on 1,000 series
   (extrapolated to 100,000); pyehsa's classification on 5,000 cells (extrapolated), with the
   share of cells where both give the same pattern.
3. Knox: ``knox_bands`` against pointpats' ``Knox`` on 3,000 events, one band, 99
   permutations, same seed (same statistic and p-value).

Run: ``.venv/bin/python benchmarks/bench_trends.py [--skip-sample]``. Goals: the sample runs in
seconds; the 100,000 × 36 cube in under a minute on 2 cores.
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "incidents" / "sintetico_cajamarca_2020_incidentes.csv"
SEED = 20210101


def timed(func, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - start, result


def bench_sample() -> None:
    from click.testing import CliRunner

    from parsc_geo.cli.main import cli
    from parsc_geo.hotspots import hotspot_gistar
    from parsc_geo.store import Workspace

    print(f"1. Bundled sample: {SAMPLE.name} (whole region)")
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws.gpkg"
        runner = CliRunner()
        t_ingest, result = timed(runner.invoke, cli, ["-q", "ingest", str(SAMPLE), "-w", str(ws)])
        assert result.exit_code == 0, result.output
        args = ["-q", "trends", "-w", str(ws), "-o", str(Path(tmp) / "t"), "--netcdf"]
        t_trends, result = timed(runner.invoke, cli, args)
        assert result.exit_code == 0, result.output
        print("   " + result.output.strip().replace("\n", "\n   "))
        args = ["-q", "near-repeat", "-w", str(ws), "-o", str(Path(tmp) / "r")]
        t_knox, result = timed(runner.invoke, cli, args)
        assert result.exit_code == 0, result.output
        print("   " + result.output.strip().splitlines()[0])
        incidents = Workspace(ws).read_incidents()
        t_gi, _ = timed(hotspot_gistar, incidents, output="all", quiet=True)
    print(f"   import (ingest)                     {t_ingest:7.2f} s  (not part of trends)")
    print(f"   trends, all outputs + netCDF        {t_trends:7.2f} s")
    print(f"   near-repeat (99 permutations)       {t_knox:7.2f} s")
    print(
        f"   reference: one Gi* map (gistar)     {t_gi:7.2f} s  → trends = {t_trends / t_gi:.1f}×"
    )
    print(f"   goal: seconds → {'met' if t_trends < 10 else 'NOT met'}")


def synthetic_cube(n_side: tuple[int, int] = (400, 250), periods: int = 36):  # type: ignore[no-untyped-def]
    import pandas as pd
    import shapely

    from parsc_geo.grid import make_grid
    from parsc_geo.trends.cube import SpaceTimeCube

    rows, cols = n_side
    cell = 100.0
    x0, y0 = 700_000.0, 9_200_000.0
    grid = make_grid(
        shapely.box(x0, y0, x0 + cols * cell, y0 + rows * cell), cell, crs="EPSG:32717"
    )
    rng = np.random.default_rng(SEED)
    n = len(grid)
    r, c = np.divmod(np.arange(n), cols)
    rate = np.full((n, periods), 0.4)
    t = np.arange(periods)
    for kind in range(300):
        cr, cc = rng.integers(0, rows), rng.integers(0, cols)
        bump = 4.0 * np.exp(-((r - cr) ** 2 + (c - cc) ** 2) / (2 * 2.0**2))
        shape = [np.ones(periods), t / periods, (t >= periods - 6), (t < periods // 2)][kind % 4]
        rate += bump[:, None] * shape[None, :]
    counts = rng.poisson(rate)
    starts = pd.date_range("2020-01-01", periods=periods, freq="MS")
    cube = SpaceTimeCube(
        grid=grid,
        starts=starts,
        ends=starts + pd.offsets.MonthBegin(1),
        values=counts.astype(float),
        counts=counts,
        parameters={"weights": None},
    )
    return cube


def bench_cube() -> None:
    import pymannkendall

    from parsc_geo.grid import distance_band_weights
    from parsc_geo.hotspots.gistar import fdr_bh, gi_star_z, two_sided_p
    from parsc_geo.trends.emerging import analyse_cube
    from parsc_geo.trends.gistar_st import space_time_gistar
    from parsc_geo.trends.mannkendall import mann_kendall
    from parsc_geo.trends.patterns import classify_arcgis

    t_build, cube = timed(synthetic_cube)
    n_cells, n_periods = cube.shape
    print(
        f"\n2. Synthetic cube: {n_cells:,} cells × {n_periods} periods (built in {t_build:.1f} s)"
    )
    t_all, result = timed(analyse_cube, cube, quiet=True)
    distance = 100.0 * np.sqrt(2)
    t_w, w = timed(distance_band_weights, cube.grid, distance)
    t_z, z = timed(space_time_gistar, cube.values, w, k=1, window="cube")
    t_fdr, _ = timed(lambda: fdr_bh(two_sided_p(z).ravel()))
    t_mk, mk = timed(mann_kendall, z)
    sig = result.significant
    t_cls, _ = timed(classify_arcgis, z, sig, mk.tau, mk.p)
    t_ref_gi, _ = timed(lambda: [gi_star_z(cube.values[:, t], w) for t in range(n_periods)])
    sample = 1000
    t_ref_mk, _ = timed(lambda: [pymannkendall.original_test(z[i]) for i in range(sample)])
    t_ref_mk_all = t_ref_mk * n_cells / sample
    print(f"   whole analysis (analyse_cube)       {t_all:7.2f} s  goal < 60 s: "
          f"{'met' if t_all < 60 else 'NOT met'}")  # fmt: skip
    print(f"     weights                           {t_w:7.2f} s")
    print(f"     space-time Gi* (k=1)              {t_z:7.2f} s   reference: project Gi* ×"
          f"{n_periods} periods {t_ref_gi:.2f} s ({t_ref_gi / t_z:.1f}×)")  # fmt: skip
    print(f"     p-values + FDR                    {t_fdr:7.2f} s")
    print(f"     Mann-Kendall of z                 {t_mk:7.2f} s   reference: pymannkendall "
          f"≈{t_ref_mk_all:.0f} s for all cells ({t_ref_mk_all / t_mk:.0f}×)")  # fmt: skip
    print(f"     classification                    {t_cls:7.2f} s")
    counts = {k: v for k, v in result.pattern_counts().items() if v}
    print(f"   patterns: {counts}")
    bench_pyehsa(z, sig, mk.tau, mk.p, t_cls / n_cells)


def bench_pyehsa(
    z: np.ndarray, sig: np.ndarray, tau: np.ndarray, p: np.ndarray, ours_per_cell: float
) -> None:
    try:
        from pyehsa.ehsa_classification import EhsaClassification
    except ImportError:
        print("   pyehsa not installed: comparison skipped (pip install pyehsa)")
        return
    from parsc_geo.trends.patterns import classify_arcgis

    rng = np.random.default_rng(1)
    idx = rng.choice(len(z), 5000, replace=False)
    ours = classify_arcgis(z[idx], sig[idx], tau[idx], p[idx], trend_alpha=0.05)
    start = time.perf_counter()
    theirs = [
        EhsaClassification.classify_hotspot(z[i], sig[i], tau[i], p[i], threshold=0.05)["name"]
        for i in idx
    ]
    t_theirs = time.perf_counter() - start
    names = {"no pattern detected": "no_pattern", "oscilating hotspot": "oscillating_hot",
             "oscilating coldspot": "oscillating_cold"}  # fmt: skip
    for kind in ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic",
                 "historical"):  # fmt: skip
        names[f"{kind} hotspot"] = f"{kind}_hot"
        names[f"{kind} coldspot"] = f"{kind}_cold"
    mapped = np.array([names[t] for t in theirs], dtype=object)
    same = ours == mapped
    hot = sig[idx] & (z[idx] > 0)
    cold = sig[idx] & (z[idx] < 0)
    matched = (hot[:, -1] & ~cold.any(axis=1)) | (cold[:, -1] & ~hot.any(axis=1))
    print(f"   pyehsa classification, 5,000 cells: same pattern {same.mean():.1%} overall, "
          f"{same[matched].mean():.1%} of {int(matched.sum())} cells significant at the end and "
          "never of the other sign")  # fmt: skip
    per_cell = t_theirs / 5000
    print(f"     pyehsa {per_cell * 1e6:.0f} µs/cell, parsc-geo "
          f"{ours_per_cell * 1e6:.2f} µs/cell ({per_cell / ours_per_cell:.0f}×)")  # fmt: skip
    differ = {}
    for a, b in zip(ours[~same], mapped[~same], strict=True):
        differ[(a, b)] = differ.get((a, b), 0) + 1
    for (a, b), n in sorted(differ.items(), key=lambda kv: -kv[1])[:6]:
        print(f"     {n:5d} cells: parsc-geo {a}, pyehsa {b}")


def bench_knox() -> None:
    from pointpats.spacetime import Knox

    from parsc_geo.trends.near_repeat import knox_bands

    rng = np.random.default_rng(SEED)
    n = 3000
    xy = rng.uniform(0, 5000, (n, 2))
    days = rng.integers(0, 365, n).astype(float)
    print(f"\n3. Knox, {n:,} events, band [0, 200) m × [0, 14) days, 99 permutations")
    t_ours, ours = timed(
        knox_bands, xy[:, 0], xy[:, 1], days, [0, 200], [0, 14], permutations=99, seed=SEED
    )
    np.random.seed(SEED)  # noqa: NPY002 - pointpats draws from the global RandomState
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_ref, ref = timed(Knox, xy, days.reshape(-1, 1), delta=200, tau=13, permutations=99)
    same = ours.loc[0, "observed"] == ref.nst and ours.loc[0, "p_value"] == ref.p_sim
    print(f"   parsc-geo {t_ours:.3f} s, pointpats {t_ref:.2f} s ({t_ref / t_ours:.0f}×); "
          f"same statistic and p-value: {'yes' if same else 'NO'}")  # fmt: skip


def main() -> None:
    if "--skip-sample" not in sys.argv:
        bench_sample()
    bench_cube()
    bench_knox()


if __name__ == "__main__":
    main()
