"""``parsc-geo trends``: emerging hot spots over a space-time cube."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .._text import num
from . import localized
from .options import (
    Period,
    cell_size_option,
    fenomeno_option,
    include_at_station_option,
    input_argument,
    is_quiet,
    overwrite_option,
    point_columns_options,
    synthetic_option,
    workspace_option,
)

if TYPE_CHECKING:
    import geopandas as gpd


def read_points(
    input_path: Path | None,
    workspace: Path | None,
    fenomenos: tuple[str, ...],
    date_range: str | None,
    *,
    include_at_station: bool = False,
    point_columns: dict[str, Any] | None = None,
) -> tuple[gpd.GeoDataFrame, dict[str, Any], bool]:
    """Read and select the incidents of INPUT or of the workspace.

    Reads through :func:`parsc_geo.workflow.load_incidents` (the one input path of every
    analysis command) and returns the incidents, a description of the selection (source,
    fenómenos, dates) and whether they are synthetic.
    """
    from ..trends.periods import parse_date_range
    from ..workflow import IncidentFilter, PointInput, load_incidents

    columns = point_columns or {}
    incidents = load_incidents(
        PointInput(
            input_path,
            workspace,
            columns.get("lon_col"),
            columns.get("lat_col"),
            columns.get("input_crs") or "EPSG:4326",
        ),
        IncidentFilter(fenomenos, date_range, include_at_station=include_at_station),
    )
    source = str(incidents.attrs.get("source", input_path or workspace))
    selection: dict[str, Any] = {"source": source, "fenomenos": list(fenomenos)}
    if date_range is not None:
        first, last = parse_date_range(date_range)
        selection.update(first=first, last=last, dates=date_range)
    return incidents, selection, bool(incidents.attrs.get("synthetic", False))


def incident_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the options shared by the trend commands (from the option registry).

    INPUT or ``--workspace``, the coordinate columns of tables, ``--fenomeno``,
    ``--include-at-station`` and ``--synthetic``.
    """
    for decorator in reversed(
        (
            input_argument,
            workspace_option,
            point_columns_options,
            fenomeno_option,
            include_at_station_option,
            synthetic_option,
        )
    ):
        func = decorator(func)
    return func


@localized.command(
    "trends",
    epilog="""\b
Examples:
  parsc-geo trends -w workspace.gpkg -o tendencias/
  parsc-geo trends -w workspace.gpkg --period month --cell-size 500 -o tendencias/
  parsc-geo trends incidentes.gpkg --period "28 days" --k 2 --scheme sfhotspot -o out/
  parsc-geo trends -w workspace.gpkg --fenomeno patrimonio_espacio_publico --netcdf -o out/
""",
)
@localized.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("tendencias"),
    show_default=True,
    help="Output folder: cubo.gpkg/csv, tendencias.gpkg/csv, tendencias_parametros.json.",
)
@localized.option(
    "--period",
    help="Period length: day, week, '28 days', month, quarter, year (or día, semana, mes, "
    "trimestre, año) [default: from the time span, as sfhotspot].",
)
@localized.option(
    "--align",
    type=click.Choice(["end", "start"]),
    default="end",
    show_default=True,
    help="Periods end on the last date (end, as ArcGIS) or start on the first (start).",
)
@localized.option(
    "--dates", type=Period(), help="Only incidents in this range: 2020, 2020-03 or 2020-01:2020-10."
)
@localized.option("--weights", type=click.Choice(["harm"]), help="Sum harm instead of counting.")
@cell_size_option(help="Cell size in metres [default: automatic, the Gi* counts rule].")
@localized.option(
    "--grid-shape",
    type=click.Choice(["square", "hex"]),
    default="square",
    show_default=True,
    help="Cell shape.",
)
@localized.option(
    "--cells",
    type=click.Choice(["data", "all"]),
    default="data",
    show_default=True,
    help="Cells in the cube: with at least one incident (data, as ArcGIS) or all (sfhotspot).",
)
@localized.option(
    "--neighbours",
    type=click.Choice(["distance", "queen"]),
    default="distance",
    show_default=True,
    help="Spatial neighbours: fixed distance band or queen contiguity.",
)
@localized.option(
    "--distance",
    type=click.FloatRange(min=0, min_open=True),
    help="Neighbourhood distance in metres [default: cell size × √2].",
)
@localized.option(
    "--k",
    "k",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Previous periods in the neighbourhood (ArcGIS's neighborhood time step).",
)
@localized.option(
    "--window",
    type=click.Choice(["cube", "period", "window"]),
    default="cube",
    show_default=True,
    help="Global window of the Gi* mean and variance (cube, as ArcGIS's default).",
)
@localized.option(
    "--alpha",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="Significance level of a hot or cold bin.",
)
@localized.option("--no-fdr", "no_fdr", is_flag=True, help="No false-discovery-rate correction.")
@localized.option(
    "--trend-alpha",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="Significance level of the Mann-Kendall trend.",
)
@localized.option(
    "--scheme",
    type=click.Choice(["arcgis", "sfhotspot"]),
    default="arcgis",
    show_default=True,
    help="Patterns: ArcGIS's 17 or sfhotspot's hotspot_classify categories.",
)
@localized.option("--netcdf", is_flag=True, help="Also write the cube as netCDF (cubo.nc).")
@incident_options
@overwrite_option
@click.pass_context
def command(
    ctx: click.Context,
    input_path: Path | None,
    workspace: Path | None,
    output: Path,
    period: str | None,
    dates: str | None,
    fenomenos: tuple[str, ...],
    include_at_station: bool,
    no_fdr: bool,
    netcdf: bool,
    synthetic: bool,
    overwrite: bool,
    input_crs: str,
    lon_col: str | None,
    lat_col: str | None,
    **options: Any,
) -> None:
    r"""Find emerging hot spots: a space-time cube, its Gi* per bin and each cell's pattern.

    Counts the incidents of INPUT (GeoJSON or GeoPackage) or of the workspace per grid cell
    and period, computes the space-time Getis-Ord Gi* of every bin (neighbours within the
    distance and in the K previous periods, FDR-adjusted), the Mann-Kendall trend of each
    cell's z-scores and counts, and classifies every cell into ArcGIS's 17 patterns (or
    sfhotspot's categories). Automatic choices (period, cell size, distance, K) are announced
    and recorded in tendencias_parametros.json.
    """
    from .._errors import InsufficientDataError, OutputError
    from ..trends.emerging import emerging_hotspots
    from ..trends.io import trend_paths, write_trends
    from ..trends.patterns import pattern_table

    quiet = is_quiet(ctx)
    existing = [p for p in trend_paths(output, netcdf=netcdf) if p.exists()]
    if existing and not overwrite:
        raise OutputError(f"{existing[0]} ya existe", hint="use --overwrite para reemplazarlo")
    incidents, selection, synthetic_source = read_points(
        input_path,
        workspace,
        fenomenos,
        dates,
        include_at_station=include_at_station,
        point_columns={"input_crs": input_crs, "lon_col": lon_col, "lat_col": lat_col},
    )
    synthetic = synthetic or synthetic_source
    if len(incidents) == 0:
        raise InsufficientDataError(
            "no queda ningún incidente tras la selección",
            hint="revise --fenomeno y --dates",
        )
    result = emerging_hotspots(
        incidents,
        period=period,
        first=selection.get("first"),
        last=selection.get("last"),
        fdr=not no_fdr,
        exclude_at_station=not include_at_station,
        quiet=quiet,
        **options,
    )
    extra = {
        "source": selection["source"],
        "fenomenos": selection["fenomenos"],
        "dates": selection.get("dates"),
    }
    paths = write_trends(
        result, output, overwrite=overwrite, synthetic=synthetic, netcdf=netcdf, extra=extra
    )
    cube = result.cube
    n_cells, n_periods = cube.shape
    table = pattern_table(result.parameters["scheme"])
    counts = result.pattern_counts()
    found = [
        f"{table[key].patron}: {num(n)}" for key, n in counts.items() if n and table[key].code != 0
    ]
    last_day = cube.ends[-1].date() - datetime.timedelta(days=1)
    click.echo(
        f"Tendencias: {num(n_cells)} celdas × {num(n_periods)} periodos de "
        f"{result.parameters['period_label_es']} ({cube.starts[0].date()} a {last_day})"
    )
    click.echo("Patrones: " + ("; ".join(found) if found else "ninguna celda con patrón"))
    click.echo(f"→ {paths[0].parent}")
