"""``parsc-geo hotspots``: find hotspots with kde, dbscan, hdbscan, gistar or auto."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .._text import num
from . import localized
from .options import (
    HOTSPOT_METHODS,
    Count,
    Metres,
    bandwidth_adjust_option,
    bandwidth_option,
    cell_size_option,
    eps_option,
    fenomeno_option,
    include_at_station_option,
    input_argument,
    is_quiet,
    kernel_option,
    method_option,
    overwrite_option,
    period_option,
    point_columns_options,
    synthetic_option,
    weights_option,
    workspace_option,
)

if TYPE_CHECKING:
    import geopandas as gpd


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
    elif method == "auto":
        kwargs = {"coverage": values["coverage"], "cell_size": values["cell_size"]}
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


@localized.command(
    "hotspots",
    epilog="""\b
Examples:
  parsc-geo hotspots --method gistar -o out/
  parsc-geo hotspots --method gistar --grid-shape hex --cell-size 250 --cells all -o out/
  parsc-geo hotspots --method kde --threshold p99 --bandwidth 400 -o out/
  parsc-geo hotspots --method dbscan --eps 150 --min-samples 8 -o out/
  parsc-geo hotspots incidentes.geojson --method hdbscan --fenomeno violencia_mujer -o out/
  parsc-geo hotspots incidentes.geojson --method auto --coverage 1,5 -o out/
""",
)
@input_argument
@workspace_option
@point_columns_options
@method_option(HOTSPOT_METHODS, "gistar", help="Hotspot method.")
@localized.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("hotspots"),
    show_default=True,
    help="Output folder (created if missing); writes hotspots_<method>.gpkg.",
)
@fenomeno_option
@period_option
@include_at_station_option
@weights_option
@cell_size_option(help="Cell size in metres (kde, gistar) [default: automatic, announced].")
@bandwidth_option
@bandwidth_adjust_option
@kernel_option
@localized.option(
    "--threshold",
    default="p99",
    show_default=True,
    help="kde: density threshold: pNN (percentile), Kmean (K × mean) or incidents per km².",
)
@eps_option(None, help="dbscan: radius in metres [default: k-distance knee].")
@localized.option(
    "--min-samples",
    type=Count(1),
    help="dbscan/hdbscan: core-point neighbours [default: max(5, 2 ln n)].",
)
@localized.option(
    "--min-cluster-size",
    type=Count(2),
    help="hdbscan: smallest cluster [default: max(5, 2 ln n)].",
)
@localized.option(
    "--hull",
    type=click.Choice(["concave", "convex"]),
    default="concave",
    show_default=True,
    help="dbscan/hdbscan: cluster outline.",
)
@localized.option(
    "--buffer",
    type=Metres(0.0, inclusive=True),
    help="dbscan/hdbscan: buffer around outlines in metres [default: 50].",
)
@localized.option(
    "--grid-shape",
    type=click.Choice(["square", "hex"]),
    default="square",
    show_default=True,
    help="gistar: cell shape.",
)
@localized.option(
    "--neighbours",
    type=click.Choice(["distance", "queen"]),
    default="distance",
    show_default=True,
    help="gistar: fixed distance band or queen contiguity.",
)
@localized.option(
    "--distance",
    type=Metres(),
    help="gistar: distance band in metres [default: cell size × √2].",
)
@localized.option(
    "--alpha",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="gistar: significance level of hot spots.",
)
@localized.option(
    "--no-fdr", "no_fdr", is_flag=True, help="gistar: no false-discovery-rate correction."
)
@localized.option(
    "--cells",
    type=click.Choice(["hot", "significant", "all"]),
    default="hot",
    show_default=True,
    help="gistar: which cells to write.",
)
@localized.option(
    "--coverage",
    default="1,5",
    show_default=True,
    help="auto: percentages of the study area to select, comma-separated; writes "
    "seleccion_auto_<coverage>pct.geojson for each.",
)
@synthetic_option
@overwrite_option
@click.pass_context
def command(
    ctx: click.Context,
    input_path: Path | None,
    workspace: Path | None,
    input_crs: str,
    lon_col: str | None,
    lat_col: str | None,
    method: str,
    output: Path,
    fenomenos: tuple[str, ...],
    period: str | None,
    no_fdr: bool,
    synthetic: bool,
    overwrite: bool,
    **options: Any,
) -> None:
    r"""Find hotspots with one method and write them as a GeoPackage (layer ``hotspots``).

    Reads the incidents of INPUT (CSV/XLSX with coordinates, GeoJSON, GeoPackage, Shapefile,
    KML/KMZ, or a workspace) or of the workspace, excludes incidents stacked on police
    stations unless asked, runs the method (automatic choices are announced and recorded in
    the layer metadata) and writes OUTPUT/hotspots_<method>.gpkg. A method that has too few
    incidents writes an empty layer and says why: it never invents hotspots.
    """
    from .._errors import OutputError
    from ..hotspots import run_method
    from ..hotspots.io import write_hotspots
    from ..workflow import IncidentFilter, PointInput, load_incidents

    target = output / f"hotspots_{method}.gpkg"
    if target.exists() and not overwrite:
        raise OutputError(f"{target} ya existe", hint="use --overwrite para reemplazarlo")
    # station stacks are left out (and counted) by the method itself
    incidents = load_incidents(
        PointInput(input_path, workspace, lon_col, lat_col, input_crs),
        IncidentFilter(fenomenos, period, include_at_station=True),
    )
    synthetic = synthetic or bool(incidents.attrs.get("synthetic", False))
    values = {
        **options,
        "fdr": not no_fdr,
        "quiet": is_quiet(ctx),
        "threshold": _threshold_value(options["threshold"]),
        "coverage": _coverages(options["coverage"]) if method == "auto" else None,
    }
    hotspots = run_method(method, incidents, **method_options(method, values))
    hotspots.attrs.setdefault("parameters", {})
    hotspots.attrs["parameters"]["source"] = incidents.attrs["source"]
    hotspots.attrs["parameters"]["fenomenos"] = list(fenomenos)
    if period is not None:
        hotspots.attrs["parameters"]["period"] = period
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"no se puede crear la carpeta {output}: {exc.strerror}") from exc
    write_hotspots(hotspots, target, overwrite=overwrite, synthetic=synthetic)
    if method == "auto":
        _write_auto_selections(hotspots, output, overwrite=overwrite)
    if len(hotspots) and method == "gistar":
        params = hotspots.attrs["parameters"]
        click.echo(
            f"{num(params.get('n_hot_zones', 0))} zonas calientes de "
            f"{num(params.get('n_hot_cells', 0))} celdas (gistar); {num(len(hotspots))} celdas "
            f"escritas con {num(int(hotspots['n'].sum()))} incidentes → {target}"
        )
    elif len(hotspots) and method == "auto":
        click.echo(
            f"{num(len(hotspots))} celdas seleccionadas (auto) con "
            f"{num(int(hotspots['n'].sum()))} incidentes → {target}"
        )
    elif len(hotspots):
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


def _coverages(text: str) -> tuple[float, ...]:
    """Turn ``--coverage 1,5`` (percent) into fractions."""
    from .._errors import ConfigError

    out = []
    for item in (part.strip().removesuffix("%") for part in text.split(",")):
        if not item:
            continue
        try:
            out.append(float(item) / 100.0)
        except ValueError:
            raise ConfigError(
                f"--coverage: porcentaje no numérico {item!r}", hint="p. ej. --coverage 1,5"
            ) from None
    return tuple(out)


def _write_auto_selections(hotspots: gpd.GeoDataFrame, output: Path, *, overwrite: bool) -> None:
    """Write ``seleccion_auto_<coverage>pct.geojson`` (EPSG:4326, rank and score) per coverage."""
    from .._atomic import write_text_atomic

    selections = hotspots.attrs.get("parameters", {}).get("selections", {})
    columns = ["hotspot_id", "cell_id", "rank", "score", "n", "area_km2", "geometry"]
    for key, k in selections.items():
        part = hotspots.loc[hotspots["rank"] <= k, columns].to_crs("EPSG:4326")
        target = output / f"seleccion_auto_{key}pct.geojson"
        write_text_atomic(target, part.to_json(drop_id=True) + "\n", overwrite=overwrite)
        click.echo(f"Selección auto del {key} % del área: {num(len(part))} celdas → {target}")
