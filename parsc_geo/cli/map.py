"""``parsc-geo map``: interactive HTML maps per province and comisaría, with an atlas."""

from __future__ import annotations

from pathlib import Path

import click

from .._text import num
from . import localized
from .options import (
    Metres,
    fenomeno_option,
    input_argument,
    is_quiet,
    offline_option,
    output_dir_option,
    overwrite_option,
    period_option,
    point_columns_options,
    public_option,
    workspace_option,
    workspace_path,
)

#: Default output folder of the maps.
DEFAULT_MAPS_DIR = Path("maps")

_TILES = {"osm": "OpenStreetMap", "carto": "CartoDB claro", "todas": "todas", "ninguna": None}


@localized.command(
    "map",
    epilog="""\b
Examples:
  parsc-geo map
  parsc-geo map --workspace cajamarca.gpkg -o maps/ --overwrite
  parsc-geo map -w postgresql://visor@servidor/observatorio -o maps/
  parsc-geo map --public --offline -o publico/
  parsc-geo map --public --privacy-k 10 -o publico/
  parsc-geo map incidentes.geojson --fenomeno violencia_mujer --tiles ninguna
""",
)
@input_argument
@workspace_option
@point_columns_options
@fenomeno_option
@period_option
@output_dir_option(DEFAULT_MAPS_DIR)
@offline_option
@public_option
@localized.option(
    "--tiles",
    type=click.Choice(sorted(_TILES)),
    default="osm",
    show_default=True,
    help="Base tiles (loaded from the internet when viewing; 'ninguna' for none).",
)
@localized.option(
    "--grid-m",
    type=Metres(1.0, inclusive=True),
    default=None,
    help="Finest grid (m) of public maps [default: 100].",
)
@localized.option(
    "--privacy-k",
    type=click.IntRange(min=1),
    default=None,
    help="Public maps: minimum number of incidents behind every place and count [default: 5].",
)
@overwrite_option
@click.pass_context
def command(
    ctx: click.Context,
    input_path: Path | None,
    workspace: Path | None,
    input_crs: str,
    lon_col: str | None,
    lat_col: str | None,
    fenomenos: tuple[str, ...],
    period: str | None,
    output: Path,
    offline: bool,
    public: bool,
    tiles: str,
    grid_m: float | None,
    privacy_k: int | None,
    overwrite: bool,
) -> None:
    """Write one HTML map per province, one per comisaría with sectors, and index.html.

    Maps draw the incidents of INPUT (any incident file, or a workspace) or of the workspace,
    with the workspace's sector layer and hotspot layers (``hotspots`` or ``hotspots_*``) when
    it has them; the kernel density of each map is computed on the fly (incidents stacked on
    police stations left out). By default maps are for police use ("USO INTERNO"); --public
    applies the privacy rule of :mod:`parsc_geo.privacy`. Copy the whole folder (pages and
    lib/) to share the maps, or use --offline for single files.
    """
    import geopandas as gpd
    import pandas as pd

    from .. import settings
    from ..maps import write_atlas
    from ..privacy import DEFAULT_K
    from ..workflow import (
        IncidentFilter,
        PointInput,
        check_mappable,
        ensure_assigned,
        load_incidents,
    )
    from ..workspace import open_workspace

    # every incident is drawn (stacks at stations included, flagged); the atlas leaves the
    # stacks out of its densities itself
    incidents = load_incidents(
        PointInput(input_path, workspace, lon_col, lat_col, input_crs),
        IncidentFilter(fenomenos, period, include_at_station=True),
    )
    ws = open_workspace(workspace_path(workspace))
    sectors = ws.read_sectors() if ws.exists else None
    incidents = ensure_assigned(incidents, sectors)
    check_mappable(incidents, sectors)
    layers = ws.layers() if ws.exists else []
    frames = [ws.read_layer(n) for n in layers if n == "hotspots" or n.startswith("hotspots_")]
    hotspots = None
    if frames:
        hotspots = gpd.GeoDataFrame(
            pd.concat([f.to_crs("EPSG:4326") for f in frames], ignore_index=True),
            crs="EPSG:4326",
        )
    synthetic = bool(incidents.attrs.get("synthetic", False)) or bool(
        ws.metadata().get("synthetic", False) if ws.exists else False
    )
    paths = write_atlas(
        incidents,
        hotspots=hotspots,
        sectors=sectors,
        output_dir=output,
        public=public,
        offline=offline,
        synthetic=synthetic,
        parameters={
            "workspace": str(incidents.attrs.get("source", ws.path)),
            "public": public,
            "offline": offline,
            **(
                {
                    "public_grid_m": grid_m or settings.PUBLIC_GRID_M,
                    "privacy_k": privacy_k or DEFAULT_K,
                }
                if public
                else {}
            ),
        },
        overwrite=overwrite,
        tiles=_TILES[tiles],
        grid_m=grid_m,
        privacy_k=privacy_k,
    )
    if not is_quiet(ctx):
        for path in paths:
            click.echo(f"{path} ({path.stat().st_size / 1e6:.2f} MB)")
    click.echo(f"{num(len(paths) - 1)} mapa(s) y un índice escritos en {paths[-1].parent}")
