"""``parsc-geo sectors``: evaluate a comisaría's sectors, or design balanced ones."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import localized
from .options import WorkspaceTarget, cell_size_option, is_quiet, overwrite_option, seed_option

if TYPE_CHECKING:
    import geopandas as gpd

#: Default output folders.
DEFAULT_EVALUATION_DIR = Path("evaluacion_sectores")
DEFAULT_DESIGN_DIR = Path("sectores")


def load_inputs(
    input_path: Path | None, workspace: Path | None, layer_path: Path | None
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None, bool]:
    """Return the incidents, the sector layer (or None) and whether the data are synthetic.

    INPUT is any incident file ``parsc-geo ingest`` reads (validated the same way, nothing is
    stored); otherwise the workspace's incidents. The sector layer is ``layer_path`` or else the
    workspace's. A file is taken as synthetic when its name says so (``sintetico``), as the
    bundled sample's does.
    """
    from .._errors import InputDataError
    from ..sectors import read_sectors
    from .options import DEFAULT_WORKSPACE

    sectors = read_sectors(layer_path) if layer_path is not None else None
    if input_path is not None:
        from ..ingest import ingest_files

        if not input_path.exists():
            raise InputDataError(f"{input_path}: el archivo no existe", hint="revise la ruta")
        result = ingest_files([input_path], assign=False)
        synthetic = "sintetico" in input_path.name.lower()
        return result.accepted, sectors, synthetic
    from ..workspace import open_workspace

    ws = open_workspace(workspace if workspace is not None else DEFAULT_WORKSPACE)
    incidents = ws.read_incidents()
    if sectors is None:
        sectors = ws.read_sectors()
    synthetic = bool(ws.metadata().get("synthetic", False))
    return incidents, sectors, synthetic


def _comisarias(
    names: tuple[str, ...], provincia: str | None, sectors: gpd.GeoDataFrame | None
) -> list[str]:
    """Return the comisarías asked for: the names, then the province's census units."""
    from .._errors import ConfigError
    from ..boundaries import load_stations
    from ..districting.jurisdiction import fold

    chosen = list(names)
    if provincia:
        stations = load_stations()
        mask = stations["provincia"].map(fold) == fold(provincia)
        if not mask.any():
            known = ", ".join(sorted(set(stations["provincia"])))
            raise ConfigError(
                f"la provincia {provincia!r} no se encuentra", hint=f"provincias: {known}"
            )
        chosen += stations.loc[mask, "id_n"].astype(str).tolist()
    if not chosen and sectors is not None and len(sectors):
        chosen = list(dict.fromkeys(sectors["comisaria"].astype(str)))
    if not chosen:
        raise ConfigError(
            "indique la comisaría con --comisaria NOMBRE (o --provincia)",
            hint="p. ej. --comisaria 'COMISARIA SECTORIAL CHOTA'",
        )
    return chosen


input_argument = localized.argument(
    "input_path",
    metavar="[INPUT]",
    required=False,
    type=click.Path(dir_okay=False, path_type=Path),
)
workspace_input_option = localized.option(
    "--workspace",
    "-w",
    type=WorkspaceTarget(),
    default=None,
    help="Workspace (GeoPackage or postgresql://…) with incidents and sectors "
    "[default: workspace.gpkg when no INPUT].",
)
paper_option = localized.option(
    "--paper",
    type=click.Choice(["A4", "A3"]),
    default="A4",
    show_default=True,
    help="Paper of the printable sector maps.",
)


def output_option(default: Path) -> Any:
    """Return the ``--output/-o`` option with its default folder."""
    return localized.option(
        "--output",
        "-o",
        type=click.Path(file_okay=False, path_type=Path),
        default=default,
        show_default=True,
        help="Output folder.",
    )


include_option = localized.option(
    "--include-at-station",
    is_flag=True,
    help="Count incidents stacked on a police station (left out by default).",
)


@localized.group(
    "sectors",
    epilog="""\b
Examples:
  parsc-geo sectors evaluate incidents/sintetico_cajamarca_2020_incidentes.csv \\
      --sectors boundaries/sintetico_sectores_comisarias.geojson -o evaluacion/
  parsc-geo sectors design incidents/sintetico_cajamarca_2020_incidentes.csv \\
      --sector-layer boundaries/sintetico_sectores_comisarias.geojson \\
      --comisaria "COMISARIA SECTORIAL CHOTA" --workload incidents -o sectores/
""",
)
def command() -> None:
    """Evaluate comisaría sectors, or design balanced, contiguous and compact ones."""


@command.command(
    "evaluate",
    epilog="""\b
Examples:
  parsc-geo sectors evaluate -w workspace.gpkg -o evaluacion/
  parsc-geo sectors evaluate incidentes.csv --sectors sectores.geojson \\
      --comisaria "COMISARIA CAJAMARCA I" --paper A3 -o evaluacion/
""",
)
@input_argument
@workspace_input_option
@localized.option(
    "--sectors",
    "--sector-layer",
    "layer_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Sector layer (GeoJSON, GeoPackage, Shapefile, KML) [default: the workspace's].",
)
@localized.option(
    "--comisaria", "comisarias", multiple=True, help="Comisaría (repeatable) [default: all]."
)
@include_option
@paper_option
@output_option(DEFAULT_EVALUATION_DIR)
@overwrite_option
@click.pass_context
def evaluate(
    ctx: click.Context,
    input_path: Path | None,
    workspace: Path | None,
    layer_path: Path | None,
    comisarias: tuple[str, ...],
    include_at_station: bool,
    paper: str,
    output: Path,
    overwrite: bool,
) -> None:
    """Evaluate existing sectors: workload, balance, compactness, contiguity and coverage.

    Per sector and subsector: incidents, harm, night incidents, population, area, distance
    from the station, Polsby–Popper compactness, contiguity; per comisaría: coefficient of
    variation, max/min and Gini of each workload, gaps and overlaps, officers per 100
    incidents (CENACOM). Writes evaluacion_sectores.csv, evaluacion_resumen.csv, a formatted
    XLSX, a map per comisaría (PDF and PNG) and a JSON record.
    """
    from .._errors import InputDataError
    from ..districting.evaluate import evaluate_sectors
    from ..districting.outputs import write_evaluation_outputs

    incidents, sectors, synthetic = load_inputs(input_path, workspace, layer_path)
    if sectors is None or not len(sectors):
        raise InputDataError(
            "no hay capa de sectores que evaluar",
            hint="indique --sectors ARCHIVO o use un espacio de trabajo con sectores",
        )
    results = []
    for name in _comisarias(comisarias, None, sectors):
        com, evaluation, station_xy = evaluate_sectors(
            incidents, sectors, name, include_at_station=include_at_station
        )
        results.append((com, evaluation, station_xy))
        if not is_quiet(ctx):
            for line in evaluation.findings:
                click.echo(f"{com.name}: {line}")
    paths = write_evaluation_outputs(
        results, output, paper=paper, synthetic=synthetic, overwrite=overwrite
    )
    click.echo(f"{len(paths)} archivo(s) escrito(s) en {output}")


@command.command(
    "design",
    aliases=[localized.Alias("--weights", "--workload-weights")],
    epilog="""\b
Examples:
  parsc-geo sectors design incidentes.csv --comisaria CHOTA --sectors 3 -o sectores/
  parsc-geo sectors design -w workspace.gpkg --comisaria "COMISARIA CAJAMARCA I" \\
      --workload mixed --workload-weights harm=0.5,population=0.3,area=0.2 -o sectores/
  parsc-geo sectors design incidentes.csv --provincia CAJAMARCA --target-workload 300 \\
      --respect-districts --paper A3 -o sectores/
""",
)
@input_argument
@workspace_input_option
@localized.option(
    "--sector-layer",
    "layer_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Today's sector layer: jurisdiction and plan to compare [default: the workspace's].",
)
@localized.option(
    "--comisaria", "comisarias", multiple=True, help="Comisaría (name or CENACOM id; repeatable)."
)
@localized.option("--provincia", help="Design every census police unit of this province.")
@localized.option(
    "--jurisdiction",
    "jurisdiction_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Polygon file of the jurisdiction (one comisaría) [default: from the sectors or derived].",
)
@localized.option("--sectors", "n_sectors", type=click.IntRange(min=1), help="Number of sectors.")
@localized.option(
    "--subsectors", "n_subsectors", type=click.IntRange(min=1), help="Subsectors per sector."
)
@localized.option(
    "--workload",
    type=click.Choice(["incidents", "harm", "mixed"]),
    default="incidents",
    show_default=True,
    help="Workload to balance (mixed: harm 40 %, incidents 20 %, population 20 %, area 10 %, "
    "distance 10 %).",
)
@localized.option(
    "--workload-weights",
    "weights",
    help="Custom weights, e.g. harm=0.5,population=0.3,area=0.2 "
    "(incidents, harm, night, population, area, distance).",
)
@localized.option(
    "--target-workload",
    type=click.FloatRange(min=0, min_open=True),
    help="Workload per sector; the number of sectors follows from it.",
)
@cell_size_option(help="Block size in metres [default: about 2,000 blocks].")
@localized.option(
    "--block-shape",
    type=click.Choice(["hex", "square"]),
    default="hex",
    show_default=True,
    help="Shape of the building blocks.",
)
@localized.option(
    "--keep-station/--free-station",
    default=True,
    show_default=True,
    help="Keep the station's block in sector 1.",
)
@localized.option(
    "--respect-districts", is_flag=True, help="Keep every sector inside one district."
)
@localized.option(
    "--labels",
    type=click.Choice(["letters", "numbers"]),
    help="Subsector labels: A … Z, AA … or 1, 2 … [default: as today's, else letters].",
)
@localized.option(
    "--compactness",
    type=click.FloatRange(min=0),
    default=0.05,
    show_default=True,
    help="Weight of compactness against balance.",
)
@seed_option()
@include_option
@paper_option
@output_option(DEFAULT_DESIGN_DIR)
@overwrite_option
@click.pass_context
def design(
    ctx: click.Context,
    input_path: Path | None,
    workspace: Path | None,
    layer_path: Path | None,
    comisarias: tuple[str, ...],
    provincia: str | None,
    jurisdiction_path: Path | None,
    n_sectors: int | None,
    n_subsectors: int | None,
    workload: str,
    weights: str | None,
    target_workload: float | None,
    cell_size: float | None,
    block_shape: str,
    keep_station: bool,
    respect_districts: bool,
    labels: str | None,
    compactness: float,
    seed: int | None,
    include_at_station: bool,
    paper: str,
    output: Path,
    overwrite: bool,
) -> None:
    """Design balanced, contiguous and compact sectors and subsectors.

    Covers the jurisdiction (from today's sectors, --jurisdiction, or derived as the
    assignment does: nearest census police unit) with hexagonal or square blocks, gives each
    its workload (incidents, harm, population from the bundled populated places, area, travel
    from the station), grows N sectors by recursive bisection, seeded region growing and PySAL
    spopt's Ward with contiguity, then moves boundary blocks while that improves balance and
    compactness and keeps every sector connected; subsectors likewise inside each sector.
    Writes sectores_disenados.geojson/.gpkg (readable by --sectors), evaluacion_sectores.csv
    (old vs new), evaluacion_resumen.csv, a formatted XLSX, a printable map per comisaría and
    diseno_sectores.json.
    """
    from .._errors import ConfigError
    from ..districting.design import DesignOptions, design_sectors
    from ..districting.outputs import write_design_outputs
    from ..districting.workload import parse_weights
    from ..settings import SEED

    incidents, sectors, synthetic = load_inputs(input_path, workspace, layer_path)
    names = _comisarias(comisarias, provincia, sectors)
    jurisdiction: Any = None
    if jurisdiction_path is not None:
        if len(names) > 1:
            raise ConfigError("--jurisdiction sirve para una sola comisaría")
        jurisdiction = _read_polygons(jurisdiction_path)
    options = DesignOptions(
        n_sectors=n_sectors,
        n_subsectors=n_subsectors,
        workload=workload,
        weights=parse_weights(weights) if weights else None,
        target_workload=target_workload,
        cell_size=cell_size,
        shape=block_shape,
        station_sector=keep_station,
        respect_districts=respect_districts,
        labels=labels,
        compactness=compactness,
        seed=SEED if seed is None else seed,
        include_at_station=include_at_station,
    )
    designs = []
    for name in names:
        result = design_sectors(
            incidents, name, sectors=sectors, jurisdiction=jurisdiction, options=options
        )
        designs.append(result)
        if not is_quiet(ctx):
            for line in result.messages:
                click.echo(line)
    paths = write_design_outputs(
        designs, output, paper=paper, synthetic=synthetic, overwrite=overwrite
    )
    click.echo(f"{len(paths)} archivo(s) escrito(s) en {output}")


def _read_polygons(path: Path) -> gpd.GeoDataFrame:
    """Read a jurisdiction polygon file (EPSG:4326 assumed when it has no CRS)."""
    import pyogrio

    from .._errors import InputDataError

    if not path.exists():
        raise InputDataError(f"{path}: el archivo no existe", hint="revise la ruta")
    try:
        gdf = pyogrio.read_dataframe(path)
    except Exception as exc:  # pyogrio raises several unrelated types
        raise InputDataError(f"{path}: no se puede leer: {exc}") from exc
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    if not len(gdf) or not gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        raise InputDataError(
            f"{path}: la jurisdicción debe contener solo polígonos",
            hint="indique un GeoJSON o GeoPackage con el polígono de la jurisdicción",
        )
    return gdf
