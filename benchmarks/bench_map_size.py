"""Benchmark: size, build time and time-to-usable of province maps of 10,000 and 100,000 points.

Goals (issue #5): 10,000 incidents ≤ 2 MB, 100,000 incidents ≤ 10 MB, usable in a browser
within a few seconds. Goal (issue 18): the page (without its density layer) builds about as fast
as folium's own ``FastMarkerCluster`` page of the same points, measured in the same run (CPU
time, best of three; "ratio" = parsc-geo / folium). Measured in Debian's headless Chromium
with no network (Leaflet served from the local package, no tiles), from navigation start with
``performance.now()``:
"first" = the map and its vector layers are on screen, "all" = every incident point is in the
cluster layer (points are added in chunks that yield to the browser in between). Timings
depend on the machine and its load; sizes do not.

Run:  .venv/bin/python benchmarks/bench_map_size.py [--sizes 10000 100000] [--offline]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from parsc_geo import schema
from parsc_geo.maps import build_province_map, write_map_html
from parsc_geo.taxonomy import GENERICO_COLORS

GOALS_MB = {10_000: 2.0, 100_000: 10.0}
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def make_incidents(n: int, seed: int = 20210101) -> gpd.GeoDataFrame:
    """Synthetic incidents in Cajamarca province: 80 % around the city, 20 % spread out."""
    rng = np.random.default_rng(seed)
    n_city = int(n * 0.8)
    lon = np.concatenate(
        [rng.normal(-78.515, 0.02, n_city), rng.uniform(-78.75, -78.25, n - n_city)]
    )
    lat = np.concatenate([rng.normal(-7.160, 0.015, n_city), rng.uniform(-7.35, -6.95, n - n_city)])
    genericos = np.array(list(GENERICO_COLORS))
    fenomenos = np.array(list(schema.FENOMENOS))
    start = pd.Timestamp("2020-01-01", tz="America/Lima")
    when = start + pd.to_timedelta(rng.integers(0, 365 * 24, n), unit="h")
    return gpd.GeoDataFrame(
        {
            "incident_id": [f"b{i}" for i in range(n)],
            "occurred_at": when,
            "time_known": rng.random(n) > 0.1,
            "delito_generico": genericos[rng.integers(0, len(genericos), n)],
            "delito_especifico": "HURTO",
            "modalidad": np.array(["SIMPLE", "AGRAVADO", "VEHICULOS"])[rng.integers(0, 3, n)],
            "fenomeno": fenomenos[rng.integers(0, len(fenomenos), n)],
            "provincia": "CAJAMARCA",
            "sector": np.array(["SECTOR 1", "SECTOR 2", None])[rng.integers(0, 3, n)],
            "subsector": None,
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


def best_cpu(fn, repeat: int = 3) -> float:
    """Return the least CPU time of ``repeat`` calls of ``fn``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def folium_reference(inc: gpd.GeoDataFrame, path: Path) -> None:
    """folium's FastMarkerCluster page of the same points (the reference)."""
    import folium
    from folium.plugins import FastMarkerCluster

    m = folium.Map(location=[-7.16, -78.5], zoom_start=10, tiles=None)
    coords = np.column_stack([inc.geometry.y.round(5), inc.geometry.x.round(5)]).tolist()
    FastMarkerCluster(coords).add_to(m)
    m.save(str(path))


def time_to_usable(path: Path) -> tuple[float, float, int]:
    """Open ``path`` in headless Chromium; return (ms to first clusters, ms to all, points)."""
    from playwright.sync_api import sync_playwright

    def route(r):
        # pages load Leaflet from lib/ beside them: only file: and data: URLs are allowed,
        # so the figures are those of a viewer with no network (tiles are refused)
        if r.request.url.startswith(("file:", "data:")):
            return r.continue_()
        return r.abort()

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": 1200, "height": 800},
        )
        page = ctx.new_page()
        page.route("**/*", route)
        page.goto(path.resolve().as_uri(), timeout=120_000)
        page.wait_for_function(
            "() => document.querySelector('.marker-cluster, .leaflet-interactive')",
            timeout=120_000,
            polling=20,
        )
        first_ms = float(page.evaluate("() => performance.now()"))
        page.wait_for_function(
            "() => document.querySelector('.leaflet-container')"
            ".getAttribute('data-parsc-ready') === '1'",
            timeout=120_000,
            polling=20,
        )
        ms = float(page.evaluate("() => performance.now()"))
        shown = int(
            page.locator(".leaflet-container").get_attribute("data-parsc-visible-incidents")
        )
        ctx.close()
    return first_ms, ms, shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--offline", action="store_true", help="also inline Leaflet")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    from parsc_geo.density import kernel_density

    print(
        f"{'incidents':>10} {'build s':>8} {'page CPU s':>11} {'folium s':>9} {'ratio':>6} "
        f"{'size MB':>8} {'goal MB':>8} {'first s':>8} {'all s':>8} size ok"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            inc = make_incidents(n)
            t0 = time.perf_counter()
            raster = kernel_density(inc, quiet=True)
            built = build_province_map(inc, province="Cajamarca", density=raster, tiles=None)
            # the page, plus lib/ beside it (Leaflet, shared by every page of an atlas)
            out = write_map_html(built.map, Path(tmp) / f"map-{n}.html", offline=args.offline)
            build_s = time.perf_counter() - t0

            def page(inc: gpd.GeoDataFrame = inc, n: int = n) -> None:
                plain = build_province_map(inc, province="Cajamarca", tiles=None)
                write_map_html(plain.map, Path(tmp) / f"plain-{n}.html", overwrite=True)

            ours = best_cpu(page)
            theirs = best_cpu(lambda inc=inc, n=n: folium_reference(inc, Path(tmp) / f"f-{n}.html"))
            size_mb = out.stat().st_size / 1e6
            goal = GOALS_MB.get(n, float("nan"))
            first = usable = float("nan")
            if not args.no_browser:
                first_ms, ms, shown = time_to_usable(out)
                assert shown == n, f"{shown} points shown, expected {n}"
                first, usable = first_ms / 1000, ms / 1000
            ok = "yes" if size_mb <= goal else "NO"
            print(
                f"{n:>10,} {build_s:>8.1f} {ours:>11.2f} {theirs:>9.2f} {ours / theirs:>6.2f} "
                f"{size_mb:>8.2f} {goal:>8.1f} {first:>8.2f} {usable:>8.2f} {ok}"
            )


if __name__ == "__main__":
    main()
