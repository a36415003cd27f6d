"""``parsc-geo density``: kernel density of incidents as a GeoTIFF."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .._text import num
from . import localized
from .options import (
    CRSText,
    InputFile,
    bandwidth_adjust_option,
    bandwidth_option,
    cell_size_option,
    fenomeno_option,
    include_at_station_option,
    input_argument,
    is_quiet,
    kernel_option,
    overwrite_option,
    period_option,
    point_columns_options,
    weights_option,
    workspace_option,
)

if TYPE_CHECKING:
    import geopandas as gpd

#: Default output file.
DEFAULT_OUTPUT = Path("densidad.tif")


def _parse_extent(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[float, float, float, float] | None:
    """Turn ``--extent minx,miny,maxx,maxy`` into four floats."""
    from .options import OptionError

    if value is None:
        return None
    parts = [p.strip() for p in value.split(",")]
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError:
        raise OptionError(
            f"se esperaba minx,miny,maxx,maxy en metros; se recibió {value!r}", ctx=ctx, param=param
        ) from None
    if not (maxx > minx and maxy > miny):
        raise OptionError(
            f"se requiere maxx > minx y maxy > miny; se recibió {value!r}", ctx=ctx, param=param
        )
    return minx, miny, maxx, maxy


def _read_mask(path: Path) -> gpd.GeoDataFrame:
    """Read the polygons of ``--mask``."""
    import geopandas as gpd

    from .._errors import InputDataError

    try:
        mask = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several unrelated types
        raise InputDataError(
            f"--mask {path}: no se pueden leer los polígonos: {exc}",
            hint="indique un GeoJSON, GeoPackage o Shapefile de polígonos",
        ) from exc
    if mask.crs is None:
        raise InputDataError(
            f"--mask {path}: el archivo no tiene sistema de referencia de coordenadas",
            hint="guárdelo con su SRC (p. ej. EPSG:4326 o EPSG:32717)",
        )
    return mask


@localized.command(
    "density",
    epilog="""\b
Examples:
  parsc-geo density -o densidad.tif
  parsc-geo density --workspace cajamarca.gpkg --weights harm -o danio.tif
  parsc-geo density puntos.geojson --bandwidth 500 --cell-size 50 -o densidad.tif
  parsc-geo density denuncias.csv --lon-col LONGITUD --lat-col LATITUD --bandwidth lcv
  parsc-geo density --fenomeno patrimonio_espacio_publico --kernel gaussian --bandwidth 200
  parsc-geo density --mask distritos.gpkg --units per_cell --overwrite -o celdas.tif
""",
)
@input_argument
@workspace_option
@localized.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_OUTPUT,
    show_default=True,
    help="Output GeoTIFF.",
)
@kernel_option
@bandwidth_option
@bandwidth_adjust_option
@cell_size_option(help="Cell size in metres [default: automatic, at least 50 m, announced].")
@weights_option
@localized.option(
    "--units",
    type=click.Choice(["per_km2", "per_cell"]),
    default="per_km2",
    show_default=True,
    help="Incidents per km², or expected incidents per cell.",
)
@localized.option(
    "--extent",
    callback=_parse_extent,
    metavar="MINX,MINY,MAXX,MAXY",
    help="Grid extent in metres in the analysis CRS [default: data bounds + bandwidth].",
)
@localized.option(
    "--mask",
    "mask_path",
    type=InputFile(),
    help="Polygon file: cells outside become nodata.",
)
@localized.option(
    "--crs",
    type=CRSText(),
    help="Analysis CRS in metres, e.g. EPSG:32717 [default: from the data].",
)
@point_columns_options
@fenomeno_option
@period_option
@include_at_station_option
@localized.option(
    "--dtype",
    type=click.Choice(["float32", "float64"]),
    default="float32",
    show_default=True,
    help="Data type of the GeoTIFF.",
)
@overwrite_option
@click.pass_context
def command(
    ctx: click.Context,
    input_path: Path | None,
    workspace: Path | None,
    output: Path,
    kernel: str,
    bandwidth: float | str | None,
    bandwidth_adjust: float,
    cell_size: float | None,
    weights: str | None,
    units: str,
    extent: tuple[float, float, float, float] | None,
    mask_path: Path | None,
    crs: str | None,
    input_crs: str,
    lon_col: str | None,
    lat_col: str | None,
    fenomenos: tuple[str, ...],
    period: str | None,
    include_at_station: bool,
    dtype: str,
    overwrite: bool,
) -> None:
    """Write the kernel density of incidents as a GeoTIFF.

    Reads INPUT (CSV/XLSX with longitude and latitude columns, GeoJSON, GeoPackage,
    Shapefile, KML/KMZ, or a workspace) or, without INPUT, the workspace's incidents.
    Incidents stacked on police stations are left out unless --include-at-station. Automatic
    bandwidth and cell size are announced and, like every parameter, stored as GeoTIFF tags.
    """
    from .._errors import OutputError
    from ..density import kernel_density
    from ..workflow import IncidentFilter, PointInput, load_incidents

    quiet = is_quiet(ctx)
    if output.exists() and not overwrite:
        raise OutputError(f"la salida {str(output)!r} ya existe", hint="use --overwrite")
    incidents = load_incidents(
        PointInput(input_path, workspace, lon_col, lat_col, input_crs),
        IncidentFilter(fenomenos, period, include_at_station=include_at_station),
    )
    synthetic = bool(incidents.attrs.get("synthetic", False))
    info = incidents.attrs["selection"]
    mask = _read_mask(mask_path) if mask_path is not None else None
    raster = kernel_density(
        incidents,
        cell_size=cell_size,
        bandwidth=bandwidth,
        bandwidth_adjust=bandwidth_adjust,
        kernel=kernel,
        weights=weights,
        extent=extent,
        mask=mask,
        units=units,
        crs=crs,
        quiet=quiet,
    )
    raster.parameters.update(
        {
            "source": incidents.attrs["source"],
            "n_read": info["n_input"],
            "excluded_at_station": info["n_excluded_at_station"],
            "selection": info,
        }
    )
    if mask_path is not None:
        raster.parameters["mask_file"] = str(mask_path)
    raster.to_geotiff(output, overwrite=overwrite, dtype=dtype, synthetic=synthetic)
    rows, cols = raster.shape
    excluded = info["n_excluded_at_station"]
    click.echo(
        f"Escrito {output}: {num(rows)} × {num(cols)} celdas de {num(raster.cell_size)} m, "
        f"núcleo {raster.kernel}, ancho de banda {num(raster.bandwidth)} m, "
        f"{num(len(incidents))} incidentes"
        + (f" ({num(excluded)} en comisarías, excluidos)" if excluded else "")
        + "."
    )
