"""``parsc-geo map``: interactive HTML maps per province and comisaría, with an atlas."""

from __future__ import annotations

from pathlib import Path

import click

from .._text import num
from .options import is_quiet, output_dir_option, overwrite_option, workspace_option

#: Default output folder of the maps.
DEFAULT_MAPS_DIR = Path("maps")

_TILES = {"osm": "OpenStreetMap", "carto": "CartoDB claro", "todas": "todas", "ninguna": None}


@click.command(
    "map",
    epilog="""\b
Examples:
  parsc-geo map
  parsc-geo map --workspace cajamarca.gpkg -o maps/ --overwrite
  parsc-geo map --public --offline -o publico/
  parsc-geo map --tiles ninguna
""",
)
@workspace_option
@output_dir_option
@click.option(
    "--offline",
    is_flag=True,
    help="Write single self-contained files (Leaflet inlined from the xstatic-leaflet Python "
    "packages; no base tiles). Without it, Leaflet is written once into OUTPUT/lib/ and the "
    "pages load it from there: the maps need no network either way.",
)
@click.option(
    "--public",
    is_flag=True,
    help="Public maps: no points of violence against women or sexual offences, other points "
    "snapped to a 100 m grid, no free text in popups.",
)
@click.option(
    "--tiles",
    type=click.Choice(sorted(_TILES)),
    default="osm",
    show_default=True,
    help="Base tiles (loaded from the internet when viewing; 'ninguna' for none).",
)
@click.option(
    "--grid-m",
    type=click.FloatRange(min=1.0),
    default=None,
    help="Grid (m) of public maps [default: settings.PUBLIC_GRID_M = 100].",
)
@overwrite_option
@click.pass_context
def command(
    ctx: click.Context,
    workspace: Path,
    output: Path | None,
    offline: bool,
    public: bool,
    tiles: str,
    grid_m: float | None,
    overwrite: bool,
) -> None:
    """Write one HTML map per province, one per comisaría with sectors, and index.html.

    Maps read the workspace's incidents, its sector layer and any hotspot layers
    (``hotspots`` or ``hotspots_*``); the kernel density of each map is computed on the fly.
    By default maps are for police use ("USO INTERNO"); --public generalises them.
    Copy the whole folder (pages and lib/) to share the maps, or use --offline for single files.
    """
    import pandas as pd

    from .. import settings
    from ..maps import write_atlas
    from ..workspace import Workspace

    ws = Workspace(workspace)
    incidents = ws.read_incidents()
    sectors = ws.read_sectors()
    frames = [ws.read_layer(n) for n in ws.layers() if n == "hotspots" or n.startswith("hotspots_")]
    hotspots = None
    if frames:
        import geopandas as gpd

        hotspots = gpd.GeoDataFrame(
            pd.concat([f.to_crs("EPSG:4326") for f in frames], ignore_index=True),
            crs="EPSG:4326",
        )
    meta = ws.metadata()
    paths = write_atlas(
        incidents,
        hotspots=hotspots,
        sectors=sectors,
        output_dir=output or DEFAULT_MAPS_DIR,
        public=public,
        offline=offline,
        synthetic=bool(meta.get("synthetic", False)),
        parameters={
            "workspace": str(workspace),
            "public": public,
            "offline": offline,
            **({"public_grid_m": grid_m or settings.PUBLIC_GRID_M} if public else {}),
        },
        overwrite=overwrite,
        tiles=_TILES[tiles],
        grid_m=grid_m,
    )
    if not is_quiet(ctx):
        for path in paths:
            click.echo(f"{path} ({path.stat().st_size / 1e6:.2f} MB)")
    click.echo(f"{num(len(paths) - 1)} mapa(s) y un índice escritos en {paths[-1].parent}")
