"""Rebuild the atlas of a demo run with every map feature and photograph it with no network.

The demo (``parsc-geo demo``) writes the run folder; this script rebuilds its atlas with what
the maps can show beyond the run's own call — the emerging-hot-spot layer (trends of the
whole region), the "Precisión histórica" panel (a backtest of the last month) and links to
the run's other outputs — plus a public atlas, and takes screenshots in Debian's Chromium
with every request other than ``file:`` and ``data:`` refused (no tiles: the offline base map
draws instead). The PNGs go to ``maps/gallery/``; the page sizes are printed.

Run:  .venv/bin/python maps/gallery/make_gallery.py [--run out/demo] [--out maps/gallery]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd

from parsc_geo._text import slug
from parsc_geo.density import DensityRaster
from parsc_geo.maps import write_atlas
from parsc_geo.maps.index import run_links

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
SIZES = {"escritorio": (1366, 768), "telefono": (390, 844)}


def load_run(run: Path) -> dict:
    """Incidents, hotspots (ranked, as the run passes them), densities and sectors of a run."""
    from parsc_geo.workflow import IncidentFilter, PointInput, ensure_assigned, load_incidents
    from parsc_geo.workspace import Workspace

    ws_path = run / "workspace.gpkg"
    incidents = load_incidents(PointInput(None, ws_path), IncidentFilter(include_at_station=True))
    ws = Workspace(ws_path)
    sectors = ws.read_sectors()
    incidents = ensure_assigned(incidents, sectors)
    layers = [n for n in ws.layers() if n == "hotspots" or n.startswith("hotspots_")]
    frames = [ws.read_layer(n).to_crs("EPSG:4326") for n in layers]
    hotspots = (
        gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326") if frames else None
    )
    densities = {}
    names = {slug(p): p for p in incidents["provincia"].dropna().unique()}
    for tif in sorted((run / "densidad").glob("densidad_*.tif")):
        key = tif.stem.removeprefix("densidad_")
        if key in names:
            densities[names[key]] = DensityRaster.from_geotiff(tif)
    return {
        "incidents": incidents,
        "hotspots": hotspots,
        "densities": densities,
        "sectors": sectors,
        "synthetic": bool(ws.metadata().get("synthetic", False)),
    }


def trends_of(incidents: gpd.GeoDataFrame):
    """Monthly emerging hot spots of the whole region (1 km cells)."""
    from parsc_geo.trends.emerging import emerging_hotspots

    return emerging_hotspots(incidents, cell_size=1000.0, period="month", quiet=True)


def accuracy_of(incidents: gpd.GeoDataFrame) -> list[dict]:
    """Backtest of the last month: the region, and each of the three largest provinces."""
    from parsc_geo.evaluation import evaluate_forecast

    when = pd.to_datetime(incidents["occurred_at"]).dt.tz_convert("America/Lima")
    last = when.max().to_period("M").start_time.strftime("%Y-%m-%d")
    rows: list[dict] = []
    scopes = [(None, incidents)]
    for name in incidents["provincia"].value_counts().index[:3]:
        scopes.append((str(name), incidents[incidents["provincia"] == name]))
    for name, part in scopes:
        ev = evaluate_forecast(
            part,
            split=last,
            methods=["kde", "gistar", "hdbscan"],
            bootstrap=0,
            offsets=False,
            quiet=True,
        )
        for row in ev.rows():
            if row["method"] in ("counts", "kde", "gistar", "hdbscan"):
                rows.append({**row, "provincia": name, "n_folds": 1})
    return rows


def shoot(pages: list[tuple[Path, str, tuple[int, int], str | None]], out: Path) -> None:
    """Screenshot each page at its size with no network (optional JavaScript run first)."""
    from playwright.sync_api import sync_playwright

    def route(r) -> None:
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for path, name, (w, h), script in pages:
            page = browser.new_page(viewport={"width": w, "height": h})
            errors: list[str] = []
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.route("**/*", route)
            page.goto(path.resolve().as_uri())
            page.wait_for_timeout(1500)
            if script:
                page.evaluate(script)
                page.wait_for_timeout(900)
            page.screenshot(path=str(out / f"{name}.png"))
            print(f"{name}.png  ({w}×{h}) errores JS: {len(errors)}")
            page.close()
        browser.close()


def main() -> int:
    """Rebuild the demo's atlases, print their sizes and take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=None, help="demo run folder (default: new)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()
    run = args.run
    if run is None:
        run = Path("out/galeria")
        subprocess.run([sys.executable, "-m", "parsc_geo", "demo", "-o", str(run)], check=True)
    start = time.perf_counter()
    data = load_run(run)
    trends = trends_of(data["incidents"])
    accuracy = accuracy_of(data["incidents"])
    print(f"tendencias y precisión: {time.perf_counter() - start:.1f} s")
    atlas = run / "mapas"
    common = {
        "hotspots": data["hotspots"],
        "sectors": data["sectors"],
        "synthetic": data["synthetic"],
        "parameters": {"kernel": "quartic", "métodos": "kde, gistar, hdbscan", "ranking": "harm"},
        "overwrite": True,
        "accuracy": accuracy,
    }
    start = time.perf_counter()
    pages = write_atlas(
        data["incidents"],
        densities=data["densities"],
        output_dir=atlas,
        trends=trends,
        links=run_links(run, atlas),
        workers=2,
        **common,
    )
    print(f"atlas interno: {len(pages)} páginas en {time.perf_counter() - start:.1f} s")
    public = write_atlas(
        data["incidents"], output_dir=run / "mapas_publicos", public=True, tiles=None, **common
    )
    for page in sorted(pages + public, key=lambda p: -p.stat().st_size)[:4]:
        print(f"  {page.relative_to(run)}: {page.stat().st_size / 1e6:.2f} MB")
    province = atlas / "provincia-cajamarca.html"
    comisaria = atlas / "comisaria-comisaria-cajamarca-i.html"
    public_page = run / "mapas_publicos" / "comisaria-comisaria-cajamarca-i.html"
    # the trends layer on, incidents and density off, the popup of the busiest cell open
    trends_on = """() => {
        const ctl = parscGeo.layerControls[0], map = ctl._map;
        let trends = null;
        ctl._layers.forEach((o) => {
            if (o.name.indexOf('Tendencias') === 0) { map.addLayer(o.layer); trends = o.layer; }
            if (o.name.indexOf('Incidentes') === 0 || o.name.indexOf('Densidad') === 0) {
                map.removeLayer(o.layer);
            }
        });
        let best = null, most = -1;
        const visit = (c) => {
            if (c.eachLayer && !c.feature) { c.eachLayer(visit); return; }
            const n = c.feature.properties.series.counts.reduce((a, b) => a + b, 0);
            if (n > most) { most = n; best = c; }
        };
        trends.eachLayer(visit);
        if (best) { best.openPopup(); }
    }"""
    month = (
        "() => { const s = document.getElementById('parsc-period-select');"
        " s.value = String(s.options.length - 2); s.dispatchEvent(new Event('change')); }"
    )
    shots = []
    for label, size in SIZES.items():
        shots += [
            (atlas / "index.html", f"atlas_indice_{label}", size, None),
            (province, f"atlas_provincia_cajamarca_{label}", size, None),
            (comisaria, f"atlas_comisaria_cajamarca_i_{label}", size, None),
            (public_page, f"atlas_publico_comisaria_cajamarca_i_{label}", size, None),
        ]
    shots.append(
        (
            comisaria,
            "atlas_comisaria_cajamarca_i_tendencias_escritorio",
            SIZES["escritorio"],
            trends_on,
        )
    )
    shots.append(
        (comisaria, "atlas_comisaria_cajamarca_i_un_mes_escritorio", SIZES["escritorio"], month)
    )
    shoot(shots, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
