"""``parsc-geo hotspots``: find hotspots with kde, dbscan, hdbscan or gistar."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .._text import num
from .options import is_quiet, overwrite_option

if TYPE_CHECKING:
    import geopandas as gpd

METHOD_CHOICES = ("kde", "dbscan", "hdbscan", "gistar")
#: Vector formats read directly (tables with coordinates go through ``parsc-geo ingest``).
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb")


def read_incidents_input(
    input_path: Path | None, workspace: Path | None
) -> tuple[gpd.GeoDataFrame, str, bool]:
    """Read incidents from a vector file or a workspace; return them, a label and ``synthetic``.

    ``synthetic`` comes from the workspace metadata (False for files).

    Raises
    ------
    InputDataError
        A missing or unreadable file, or an unsupported format.
    """
    import geopandas as gpd

    from .._errors import InputDataError
    from .options import DEFAULT_WORKSPACE

    if input_path is not None:
        if not input_path.exists():
            raise InputDataError(f"{input_path}: el archivo no existe", hint="revise la ruta")
        if input_path.suffix.lower() not in VECTOR_SUFFIXES:
            raise InputDataError(
                f"{input_path.name}: tipo de archivo no admitido {input_path.suffix!r}",
                hint="indique incidentes en GeoJSON o GeoPackage, o importe archivos "
                "CSV/XLSX/KML con 'parsc-geo ingest' y use --workspace",
            )
        try:
            gdf = gpd.read_file(input_path)
        except Exception as exc:  # pyogrio raises several unrelated types
            raise InputDataError(f"{input_path}: no se puede leer: {exc}") from exc
        if gdf.crs is None:
            gdf = gdf.set_crs("EPSG:4326")
        return gdf, str(input_path), False
    from ..workspace import Workspace

    ws = Workspace(workspace if workspace is not None else DEFAULT_WORKSPACE)
    incidents = ws.read_incidents()
    return incidents, str(ws.path), bool(incidents.attrs.get("synthetic", False))


def filter_fenomenos(incidents: gpd.GeoDataFrame, fenomenos: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Keep the incidents of the given fenómeno codes (all when none are given)."""
    from .._errors import ConfigError
    from ..schema import FENOMENOS

    if not fenomenos:
        return incidents
    unknown = [f for f in fenomenos if f not in FENOMENOS]
    if unknown:
        raise ConfigError(
            f"código(s) de fenómeno desconocido(s): {', '.join(unknown)}",
            hint=f"use uno de {', '.join(FENOMENOS)}",
        )
    if "fenomeno" not in incidents.columns:
        raise ConfigError(
            "--fenomeno requiere una columna 'fenomeno', que la entrada no tiene",
            hint="importe el archivo con 'parsc-geo ingest' y use el espacio de trabajo",
        )
    return incidents[incidents["fenomeno"].isin(fenomenos)]


def method_options(method: str, values: dict[str, Any]) -> dict[str, Any]:
    """Return the keyword arguments of the ``hotspot_<method>`` function from CLI values."""
    common = {"quiet": values["quiet"], "exclude_at_station": not values["include_at_station"]}
    if method == "kde":
        kwargs = {
            "cell_size": values["cell_size"],
            "bandwidth": values["bandwidth"],
            "bandwidth_adjust": values["bandwidth_adjust"],
            "kernel": values["kernel"],
            "weights": values["weights"],
            "threshold": values["threshold"],
        }
    elif method == "dbscan":
        kwargs = {
            "eps": values["eps"],
            "min_samples": values["min_samples"],
            "hull": values["hull"],
            "buffer": values["buffer"],
        }
    elif method == "hdbscan":
        kwargs = {
            "min_cluster_size": values["min_cluster_size"],
            "min_samples": values["min_samples"],
            "hull": values["hull"],
            "buffer": values["buffer"],
        }
    else:
        kwargs = {
            "cell_size": values["cell_size"],
            "grid_shape": values["grid_shape"],
            "neighbours": values["neighbours"],
            "distance": values["distance"],
            "alpha": values["alpha"],
            "fdr": values["fdr"],
            "output": values["cells"],
            "weights": values["weights"],
        }
    return {**kwargs, **common}


@click.command(
    "hotspots",
    epilog="""\b
Examples:
  parsc-geo hotspots --method gistar -o out/
  parsc-geo hotspots --method gistar --grid-shape hex --cell-size 250 --cells all -o out/
  parsc-geo hotspots --method kde --threshold p99 --bandwidth 400 -o out/
  parsc-geo hotspots --method dbscan --eps 150 --min-samples 8 -o out/
  parsc-geo hotspots incidentes.geojson --method hdbscan --fenomeno violencia_mujer -o out/
""",
)
@click.argument(
    "input_path",
    metavar="[INPUT]",
    required=False,
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option(
    "--workspace",
    "-w",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Workspace whose incidents are analysed [default: workspace.gpkg when no INPUT].",
)
@click.option(
    "--method",
    "-m",
    type=click.Choice(METHOD_CHOICES),
    default="gistar",
    show_default=True,
    help="Hotspot method.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("hotspots"),
    show_default=True,
    help="Output folder (created if missing); writes hotspots_<method>.gpkg.",
)
@click.option("--fenomeno", "fenomenos", multiple=True, help="Fenómeno code (repeatable).")
@click.option(
    "--include-at-station",
    is_flag=True,
    help="Keep incidents stacked on a police station (excluded by default).",
)
@click.option("--weights", type=click.Choice(["harm"]), help="Weight incidents by harm.")
@click.option(
    "--cell-size",
    type=click.FloatRange(min=0, min_open=True),
    help="Cell size in metres (kde, gistar) [default: automatic].",
)
@click.option(
    "--bandwidth",
    help="kde: metres or a rule (silverman, scott, lcv) [default: silverman].",
)
@click.option(
    "--bandwidth-adjust",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="kde: multiply the bandwidth by this factor.",
)
@click.option(
    "--kernel",
    type=click.Choice(["quartic", "gaussian", "epanechnikov", "triangular", "uniform"]),
    default="quartic",
    show_default=True,
    help="kde: kernel.",
)
@click.option(
    "--threshold",
    default="p99",
    show_default=True,
    help="kde: density threshold: pNN (percentile), Kmean (K × mean) or incidents per km².",
)
@click.option(
    "--eps",
    type=click.FloatRange(min=0, min_open=True),
    help="dbscan: radius in metres [default: k-distance knee].",
)
@click.option(
    "--min-samples",
    type=click.IntRange(min=1),
    help="dbscan/hdbscan: core-point neighbours [default: max(5, 2 ln n)].",
)
@click.option(
    "--min-cluster-size",
    type=click.IntRange(min=2),
    help="hdbscan: smallest cluster [default: max(5, 2 ln n)].",
)
@click.option(
    "--hull",
    type=click.Choice(["concave", "convex"]),
    default="concave",
    show_default=True,
    help="dbscan/hdbscan: cluster outline.",
)
@click.option(
    "--buffer",
    type=click.FloatRange(min=0),
    help="dbscan/hdbscan: buffer around outlines in metres [default: 50].",
)
@click.option(
    "--grid-shape",
    type=click.Choice(["square", "hex"]),
    default="square",
    show_default=True,
    help="gistar: cell shape.",
)
@click.option(
    "--neighbours",
    type=click.Choice(["distance", "queen"]),
    default="distance",
    show_default=True,
    help="gistar: fixed distance band or queen contiguity.",
)
@click.option(
    "--distance",
    type=click.FloatRange(min=0, min_open=True),
    help="gistar: distance band in metres [default: cell size × √2].",
)
@click.option(
    "--alpha",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="gistar: significance level of hot spots.",
)
@click.option(
    "--no-fdr", "no_fdr", is_flag=True, help="gistar: no false-discovery-rate correction."
)
@click.option(
    "--cells",
    type=click.Choice(["hot", "significant", "all"]),
    default="hot",
    show_default=True,
    help="gistar: which cells to write.",
)
@click.option(
    "--synthetic",
    is_flag=True,
    help="Mark the output as synthetic data (automatic for a synthetic workspace).",
)
@overwrite_option
@click.pass_context
def command(
    ctx: click.Context,
    input_path: Path | None,
    workspace: Path | None,
    method: str,
    output: Path,
    fenomenos: tuple[str, ...],
    no_fdr: bool,
    synthetic: bool,
    overwrite: bool,
    **options: Any,
) -> None:
    r"""Find hotspots with one method and write them as a GeoPackage (layer ``hotspots``).

    Reads the incidents of INPUT (GeoJSON or GeoPackage) or of the workspace, excludes
    incidents stacked on police stations unless asked, runs the method (automatic choices
    are announced and recorded in the layer metadata) and writes
    OUTPUT/hotspots_<method>.gpkg. A method that has too few incidents writes an empty
    layer and says why: it never invents hotspots.
    """
    from .._errors import OutputError
    from ..hotspots import run_method
    from ..hotspots.io import write_hotspots

    quiet = is_quiet(ctx)
    target = output / f"hotspots_{method}.gpkg"
    if target.exists() and not overwrite:
        raise OutputError(f"{target} ya existe", hint="use --overwrite para reemplazarlo")
    incidents, source, synthetic_source = read_incidents_input(input_path, workspace)
    synthetic = synthetic or synthetic_source
    incidents = filter_fenomenos(incidents, fenomenos)
    bandwidth_text: str | None = options["bandwidth"]
    bandwidth: float | str | None = None
    if bandwidth_text is not None:
        try:
            bandwidth = float(bandwidth_text.strip().removesuffix("m"))
        except ValueError:
            bandwidth = bandwidth_text.strip().lower()
    values = {
        **options,
        "bandwidth": bandwidth,
        "fdr": not no_fdr,
        "quiet": quiet,
        "threshold": _threshold_value(options["threshold"]),
    }
    hotspots = run_method(method, incidents, **method_options(method, values))
    hotspots.attrs.setdefault("parameters", {})
    hotspots.attrs["parameters"]["source"] = source
    hotspots.attrs["parameters"]["fenomenos"] = list(fenomenos)
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"no se puede crear la carpeta {output}: {exc.strerror}") from exc
    write_hotspots(hotspots, target, overwrite=overwrite, synthetic=synthetic)
    if len(hotspots):
        total = int(hotspots["n"].sum())
        click.echo(
            f"{num(len(hotspots))} hotspots ({method}) con {num(total)} incidentes → {target}"
        )
    else:
        reason = hotspots.attrs.get(
            "reason_es",
            hotspots.attrs.get("reason", "ninguna zona cumplió el criterio del método"),
        )
        click.echo(f"ningún hotspot ({method}): {reason} → {target} (capa vacía)")


def _threshold_value(text: str) -> str | float:
    try:
        return float(text)
    except ValueError:
        return text
