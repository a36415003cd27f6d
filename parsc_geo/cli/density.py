"""``parsc-geo density``: kernel density of incidents as a GeoTIFF."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .._text import num
from .options import is_quiet, overwrite_option, workspace_option

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

#: Default output file.
DEFAULT_OUTPUT = Path("densidad.tif")
#: Kernel names (kept here so that ``--help`` imports no numerical code).
KERNEL_CHOICES = ("quartic", "gaussian", "epanechnikov", "triangular", "uniform")
#: Suffixes read with geopandas (anything else with lon/lat columns as a table).
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".kml", ".fgb")
#: Suffixes read as tables with coordinate columns.
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")


def _parse_bandwidth(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> float | str | None:
    """Turn ``--bandwidth`` into metres (float) or a rule name."""
    if value is None:
        return None
    text = value.strip().lower()
    if text in ("silverman", "arcgis", "scott", "lcv", "likelihood_cv"):
        return text
    try:
        number = float(text.removesuffix("m"))
    except ValueError:
        raise click.BadParameter(
            f"se esperaban metros (p. ej. 500) o silverman, scott, lcv; se recibió {value!r}"
        ) from None
    if not number > 0:
        raise click.BadParameter(f"debe ser positivo; se recibió {value!r}")
    return number


def _parse_extent(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[float, float, float, float] | None:
    """Turn ``--extent minx,miny,maxx,maxy`` into four floats."""
    if value is None:
        return None
    parts = [p.strip() for p in value.split(",")]
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError:
        raise click.BadParameter(
            f"se esperaba minx,miny,maxx,maxy en metros; se recibió {value!r}"
        ) from None
    if not (maxx > minx and maxy > miny):
        raise click.BadParameter(f"se requiere maxx > minx y maxy > miny; se recibió {value!r}")
    return minx, miny, maxx, maxy


def _read_csv(path: Path) -> pd.DataFrame:
    """Read a delimited text file: delimiter sniffed (, ; tab |), UTF-8 or else Latin-1."""
    import csv

    import pandas as pd

    head = path.read_bytes()[:65536]
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError:
            continue
        try:
            delimiter = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
        try:
            return pd.read_csv(path, sep=delimiter, encoding=encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("el archivo no es texto UTF-8 ni Latin-1")


def _read_table_points(
    path: Path, lon_col: str | None, lat_col: str | None, input_crs: str
) -> gpd.GeoDataFrame:
    """Read a CSV/XLSX with coordinate columns (recognised by name, or given)."""
    import geopandas as gpd
    import pandas as pd

    from .._errors import ConfigError, InputDataError
    from ..io.columns import recognise_columns

    try:
        df = pd.read_excel(path) if path.suffix.lower() in (".xlsx", ".xlsm") else _read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputDataError(f"{path}: no se puede leer la tabla: {exc}") from exc
    mapping = {k: v for k, v in (("lon", lon_col), ("lat", lat_col)) if v}
    found = recognise_columns(df.columns, mapping, source=path.name)
    if "lon" not in found or "lat" not in found:
        raise ConfigError(
            f"{path.name}: no se reconocieron columnas de longitud/latitud "
            f"(columnas: {', '.join(map(str, df.columns))})",
            hint="indíquelas con --lon-col y --lat-col",
        )
    lon = pd.to_numeric(df[found["lon"]], errors="coerce")
    lat = pd.to_numeric(df[found["lat"]], errors="coerce")
    bad = lon.isna() | lat.isna()
    if bad.any():
        first = int(bad.to_numpy().nonzero()[0][0]) + 1
        raise InputDataError(
            f"{path.name}: {int(bad.sum())} de {len(df)} filas no tienen coordenadas numéricas en "
            f"{found['lon']!r}/{found['lat']!r} (la primera en la fila de datos {first})",
            hint="corríjalas o elimínelas, o importe el archivo con 'parsc-geo ingest' (que "
            "pone en cuarentena las filas erróneas)",
        )
    geometry = gpd.points_from_xy(lon.to_numpy(), lat.to_numpy())
    return gpd.GeoDataFrame(df, geometry=geometry, crs=input_crs)


def _read_points(
    path: Path, lon_col: str | None, lat_col: str | None, input_crs: str
) -> gpd.GeoDataFrame:
    """Read incident points from a vector file or a table with coordinate columns."""
    import geopandas as gpd

    from .._errors import InputDataError

    if not path.exists():
        raise InputDataError(f"{path}: el archivo no existe", hint="revise la ruta y su escritura")
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return _read_table_points(path, lon_col, lat_col, input_crs)
    if suffix not in VECTOR_SUFFIXES:
        raise InputDataError(
            f"{path.name}: tipo de archivo no admitido {suffix!r}",
            hint="use GeoJSON, GeoPackage, Shapefile, KML, CSV o XLSX",
        )
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several unrelated types
        raise InputDataError(f"{path}: no se puede leer: {exc}") from exc
    if gdf.crs is None:
        gdf = gdf.set_crs(input_crs)
    return gdf


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


def _select(
    incidents: gpd.GeoDataFrame, fenomenos: tuple[str, ...], include_at_station: bool
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Apply the fenómeno filter and the station-stack exclusion; return what was done."""
    from .._errors import ConfigError

    info: dict[str, Any] = {"n_read": len(incidents)}
    if fenomenos:
        if "fenomeno" not in incidents.columns:
            raise ConfigError(
                "--fenomeno requiere una columna 'fenomeno', que la entrada no tiene",
                hint="importe el archivo con 'parsc-geo ingest' y use el espacio de trabajo",
            )
        incidents = incidents[incidents["fenomeno"].isin(fenomenos)]
        info["fenomenos"] = list(fenomenos)
    if not include_at_station and "at_station" in incidents.columns:
        stacked = incidents["at_station"].fillna(False).astype(bool)
        info["excluded_at_station"] = int(stacked.sum())
        incidents = incidents[~stacked.to_numpy()]
    return incidents, info


@click.command(
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
@click.argument(
    "input_path",
    metavar="[INPUT]",
    required=False,
    type=click.Path(dir_okay=False, path_type=Path),
)
@workspace_option
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_OUTPUT,
    show_default=True,
    help="Output GeoTIFF.",
)
@click.option(
    "--kernel",
    type=click.Choice(KERNEL_CHOICES),
    default="quartic",
    show_default=True,
    help="Kernel (quartic as in ArcGIS and CrimeStat).",
)
@click.option(
    "--bandwidth",
    callback=_parse_bandwidth,
    help="Metres (search radius; σ for gaussian) or a rule: silverman, scott, lcv "
    "[default: silverman, ArcGIS's rule].",
)
@click.option(
    "--bandwidth-adjust",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Multiply the bandwidth by this factor.",
)
@click.option(
    "--cell-size",
    type=click.FloatRange(min=0, min_open=True),
    help="Cell size in metres [default: automatic, at least 50 m].",
)
@click.option("--weights", metavar="COLUMN", help="Weight incidents by this column (e.g. harm).")
@click.option(
    "--units",
    type=click.Choice(["per_km2", "per_cell"]),
    default="per_km2",
    show_default=True,
    help="Incidents per km², or expected incidents per cell.",
)
@click.option(
    "--extent",
    callback=_parse_extent,
    metavar="MINX,MINY,MAXX,MAXY",
    help="Grid extent in metres in the analysis CRS [default: data bounds + bandwidth].",
)
@click.option(
    "--mask",
    "mask_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Polygon file: cells outside become nodata.",
)
@click.option("--crs", help="Analysis CRS in metres, e.g. EPSG:32717 [default: from the data].")
@click.option(
    "--input-crs",
    default="EPSG:4326",
    show_default=True,
    help="CRS of coordinate columns in CSV/XLSX input (or of vector files without one).",
)
@click.option("--lon-col", help="Longitude (or easting) column of CSV/XLSX input.")
@click.option("--lat-col", help="Latitude (or northing) column of CSV/XLSX input.")
@click.option(
    "--fenomeno",
    "fenomenos",
    multiple=True,
    type=click.Choice(
        [
            "violencia_mujer",
            "muertes_violentas",
            "patrimonio_espacio_publico",
            "bandas_criminales",
            "otros",
        ]
    ),
    help="Only incidents of this fenómeno (repeatable).",
)
@click.option(
    "--include-at-station",
    is_flag=True,
    help="Keep incidents stacked on police stations (excluded by default).",
)
@click.option(
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
    workspace: Path,
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
    include_at_station: bool,
    dtype: str,
    overwrite: bool,
) -> None:
    """Write the kernel density of incidents as a GeoTIFF.

    Reads INPUT (GeoJSON, GeoPackage, Shapefile, KML, or CSV/XLSX with longitude and latitude
    columns) or, without INPUT, the workspace's incidents. Incidents stacked on police stations
    are left out unless --include-at-station. Automatic bandwidth and cell size are announced
    and, like every parameter, stored as GeoTIFF tags.
    """
    from .._errors import OutputError
    from ..density import kernel_density

    quiet = is_quiet(ctx)
    if output.exists() and not overwrite:
        raise OutputError(f"la salida {str(output)!r} ya existe", hint="use --overwrite")
    if input_path is not None:
        incidents = _read_points(input_path, lon_col, lat_col, input_crs)
        source = str(input_path)
    else:
        from ..workspace import Workspace

        incidents = Workspace(workspace).read_incidents()
        source = str(workspace)
    synthetic = bool(incidents.attrs.get("synthetic", False))
    incidents, info = _select(incidents, fenomenos, include_at_station)
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
    raster.parameters.update({"source": source, **info})
    if mask_path is not None:
        raster.parameters["mask_file"] = str(mask_path)
    raster.to_geotiff(output, overwrite=overwrite, dtype=dtype, synthetic=synthetic)
    rows, cols = raster.shape
    excluded = info.get("excluded_at_station", 0)
    click.echo(
        f"Escrito {output}: {num(rows)} × {num(cols)} celdas de {num(raster.cell_size)} m, "
        f"núcleo {raster.kernel}, ancho de banda {num(raster.bandwidth)} m, "
        f"{num(len(incidents))} incidentes"
        + (f" ({num(excluded)} en comisarías, excluidos)" if excluded else "")
        + "."
    )
