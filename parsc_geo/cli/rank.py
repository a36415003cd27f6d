"""``parsc-geo rank``: rank hotspots per province, comisaría and sector (CSV/XLSX tables)."""

from __future__ import annotations

from pathlib import Path

import click

from .._text import num
from ..labels_es import RANKING_CRITERIA
from . import localized
from .options import (
    DEFAULT_WORKSPACE,
    HOTSPOT_METHODS,
    InputFile,
    incidents_option,
    is_quiet,
    method_option,
    output_dir_option,
    overwrite_option,
    point_columns_options,
    workspace_option,
)

#: Ranking levels (``parsc_geo.ranking.RANKING_FILES`` keys, kept here for an instant --help).
LEVEL_CHOICES = ("provincia", "comisaria", "sector")


@localized.command(
    "rank",
    aliases=[localized.Alias("--by", "--rank-by")],
    epilog="""\b
Examples:
  parsc-geo rank hotspots/hotspots_gistar.gpkg -o rankings/
  parsc-geo rank hotspots/hotspots_dbscan.gpkg --rank-by harm --level comisaria --format xlsx
  parsc-geo rank --method kde --workspace cajamarca.gpkg --top 5 -o rankings/
""",
)
@localized.argument("hotspots_path", metavar="[HOTSPOTS]", required=False, type=InputFile())
@workspace_option
@incidents_option
@point_columns_options
@method_option(
    HOTSPOT_METHODS,
    None,
    help="Find hotspots with this method (default settings) in the incidents (--incidents, or "
    "the workspace) instead of reading HOTSPOTS.",
)
@localized.option(
    "--rank-by",
    "by",
    type=click.Choice(["n", "harm", "density"]),
    default="n",
    show_default=True,
    help="Ranking criterion: incidents, harm-weighted incidents or incidents per km².",
)
@localized.option(
    "--level",
    "levels",
    multiple=True,
    type=click.Choice(LEVEL_CHOICES),
    help="Ranking level (repeatable) [default: provincia, comisaria and sector].",
)
@localized.option("--top", type=click.IntRange(min=1), help="Keep the first N of each unit.")
@localized.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["csv", "xlsx"]),
    help="Table format (repeatable) [default: csv and xlsx].",
)
@output_dir_option(Path("rankings"), help="Output folder (created if missing).")
@overwrite_option
@click.pass_context
def command(
    ctx: click.Context,
    hotspots_path: Path | None,
    workspace: Path | None,
    input_path: Path | None,
    input_crs: str,
    lon_col: str | None,
    lat_col: str | None,
    method: str | None,
    by: str,
    levels: tuple[str, ...],
    top: int | None,
    formats: tuple[str, ...],
    output: Path,
    overwrite: bool,
) -> None:
    r"""Rank hotspots within each province, comisaría and sector.

    Ranks by the criterion, then harm, incidents and density (highest first), then
    hotspot_id, so ties are always broken the same way. Writes, per method, one table per
    level (ranking_provincias_<method>, ranking_comisarias_<method>,
    ranking_sectores_<method>) and resumen_provincias_<method>, which lists every province of
    the study area (the workspace's; the 13 of Cajamarca by default) and says why a province
    has no hotspot.
    """
    from .._errors import OutputError
    from ..hotspots.io import read_hotspots
    from ..reports.rankings import write_rankings
    from ..workflow import IncidentFilter, PointInput, load_incidents

    if hotspots_path is None and method is None:
        raise click.UsageError("indique un GeoPackage HOTSPOTS o --method")
    if hotspots_path is not None and method is not None:
        raise click.UsageError("indique HOTSPOTS o --method, no ambos")
    incidents = None
    if input_path is not None or workspace is not None or DEFAULT_WORKSPACE.exists() or method:
        # station stacks stay in: the summary and the methods leave them out themselves
        incidents = load_incidents(
            PointInput(input_path, workspace, lon_col, lat_col, input_crs),
            IncidentFilter(include_at_station=True),
        )
    if hotspots_path is not None:
        hotspots = read_hotspots(hotspots_path)
        synthetic = bool(hotspots.attrs.get("synthetic"))
    else:
        from ..hotspots import run_method

        hotspots = run_method(str(method), incidents, quiet=is_quiet(ctx))
        synthetic = False
    if incidents is not None:
        synthetic = synthetic or bool(incidents.attrs.get("synthetic", False))
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"no se puede crear la carpeta {output}: {exc.strerror}") from exc
    ranked, files = write_rankings(
        hotspots,
        output,
        by=by,
        levels=levels or LEVEL_CHOICES,
        incidents=incidents,
        formats=formats or ("csv", "xlsx"),
        top=top,
        overwrite=overwrite,
        synthetic=synthetic,
    )
    click.echo(
        f"{num(len(ranked))} hotspots ordenados por {RANKING_CRITERIA[by]}: "
        f"{num(len(files))} tablas → {output}"
    )
