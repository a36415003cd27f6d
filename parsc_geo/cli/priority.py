"""``parsc-geo priority``: priority territories per fenómeno (the plan's section 2.8)."""

from __future__ import annotations

from pathlib import Path

import click

from .._text import num
from .options import DEFAULT_WORKSPACE, is_quiet, overwrite_option

_METHODS = ("kmeans", "fisher_jenks", "quantiles", "thresholds")


def _thresholds(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[float, float] | None:
    if value is None:
        return None
    parts = value.split(",")
    try:
        alta, prioridad = (float(p) for p in parts)
    except ValueError:
        raise click.BadParameter(
            f"se esperaba ALTA,PRIORIDAD (dos números); se recibió {value!r}", ctx=ctx, param=param
        ) from None
    return alta, prioridad


EXAMPLES = """\b
Examples:
  parsc-geo priority "DATASET_Denuncias_Policiales_Enero 2018 a Junio 2025.csv" -o prioridad/
  parsc-geo priority --workspace workspace.gpkg --period 2020-01:2020-10 -o prioridad/
  parsc-geo priority denuncias.csv --method fisher_jenks --level provincia -o prioridad/
  parsc-geo priority sidpol.csv --top homicidio --top-n 7 -o prioridad/
"""


@click.command(name="priority", epilog=EXAMPLES)
@click.argument("counts", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--workspace",
    "-w",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Workspace whose incidents are counted too (default: workspace.gpkg when no COUNTS).",
)
@click.option(
    "--output",
    "-o",
    "output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder.",
)
@click.option(
    "--level",
    "levels",
    multiple=True,
    type=click.Choice(["provincia", "distrito"]),
    help="Territorial level (repeatable; default both).",
)
@click.option(
    "--fenomeno",
    "fenomenos",
    multiple=True,
    help="Fenómeno code (repeatable; default the plan's four).",
)
@click.option(
    "--modalidad",
    "modalidades",
    multiple=True,
    help="Also rank this delito específico or modalidad, e.g. homicidio (repeatable).",
)
@click.option(
    "--period", help="Period: 2020, 2020-03 or 2020-01:2020-10 (default: last 12 months)."
)
@click.option("--previous-period", help="Comparison period (default: same months a year earlier).")
@click.option(
    "--method",
    type=click.Choice(_METHODS),
    default="kmeans",
    show_default=True,
    help="Rule from indicators to levels.",
)
@click.option("--k", type=click.IntRange(min=2), default=3, show_default=True, help="Groups.")
@click.option(
    "--indicator",
    type=click.Choice(["tasa_eb", "tasa", "n"]),
    default="tasa_eb",
    show_default=True,
    help="Indicator of the natural-breaks, quantile and threshold rules.",
)
@click.option(
    "--thresholds",
    callback=_thresholds,
    metavar="ALTA,PRIORIDAD",
    help="Indicator values of the two levels (method 'thresholds').",
)
@click.option(
    "--min-count",
    type=click.IntRange(min=0),
    default=None,
    help="Fewest complaints for ALTA PRIORIDAD [default: 20].",
)
@click.option(
    "--min-count-prioridad",
    type=click.IntRange(min=0),
    default=None,
    help="Fewest complaints for any level [default: 5].",
)
@click.option(
    "--bootstrap",
    "n_boot",
    type=click.IntRange(min=0),
    default=200,
    show_default=True,
    help="Bootstrap replicates for the stability of levels (0 to skip).",
)
@click.option("--seed", type=int, default=None, help="Random seed (default: settings.SEED).")
@click.option(
    "--top",
    "top_modalidad",
    help="Also list the districts with most complaints of this modalidad (activity A3).",
)
@click.option("--top-n", type=click.IntRange(min=1), default=7, show_default=True)
@click.option("--ubigeo-column", help="UBIGEO column of generic count tables.")
@click.option("--category-column", help="Category column of generic count tables.")
@click.option("--count-column", help="Count column of generic count tables.")
@click.option("--year-column", help="Year column of generic count tables.")
@click.option("--month-column", help="Month column of generic count tables.")
@click.option("--no-maps", is_flag=True, help="Skip the HTML and PNG maps.")
@click.option("--synthetic", is_flag=True, help="Mark outputs as synthetic data.")
@overwrite_option
@click.pass_context
def command(
    ctx: click.Context,
    counts: tuple[Path, ...],
    workspace: Path | None,
    output: Path,
    levels: tuple[str, ...],
    fenomenos: tuple[str, ...],
    modalidades: tuple[str, ...],
    period: str | None,
    previous_period: str | None,
    method: str,
    k: int,
    indicator: str,
    thresholds: tuple[float, float] | None,
    min_count: int | None,
    min_count_prioridad: int | None,
    n_boot: int,
    seed: int | None,
    top_modalidad: str | None,
    top_n: int,
    ubigeo_column: str | None,
    category_column: str | None,
    count_column: str | None,
    year_column: str | None,
    month_column: str | None,
    no_maps: bool,
    synthetic: bool,
    overwrite: bool,
) -> None:
    r"""Rank provinces and districts per fenómeno into ALTA PRIORIDAD / PRIORIDAD.

    Reads SIDPOL open-data CSVs or any UBIGEO × category × count table (COUNTS), and/or the
    incidents of a workspace; computes counts, rates per 100,000 inhabitants, Empirical-Bayes
    smoothed rates, shares, change against the previous period, levels and their bootstrap
    stability; writes the plan's table (CSV, XLSX, Markdown), the detailed table, maps per
    fenómeno (HTML, PNG) and run.json.

    """
    from .._text import slug
    from ..priority.counts import counts_from_workspace, read_counts
    from ..priority.levels import DEFAULT_MIN_COUNT, DEFAULT_MIN_COUNT_PRIORIDAD, PriorityRule
    from ..priority.outputs import (
        describe_inputs,
        top_districts_table,
        write_priority_outputs,
    )
    from ..priority.territories import compute_priority, top_districts

    quiet = is_quiet(ctx)
    if not counts and workspace is None:
        if not DEFAULT_WORKSPACE.exists():
            raise click.UsageError(
                "indique archivos COUNTS o --workspace (no hay workspace.gpkg en la carpeta actual)"
            )
        workspace = DEFAULT_WORKSPACE
    columns = {
        "ubigeo": ubigeo_column,
        "category": category_column,
        "count": count_column,
        "year": year_column,
        "month": month_column,
    }
    tables = []
    paths: list[Path] = []
    for path in counts:
        table = read_counts(path, **columns)
        tables.append(table)
        paths.append(path)
        if not quiet:
            click.echo(
                f"{path.name}: {num(len(table))} filas de conteo, "
                f"{num(int(table['n'].sum()))} denuncias"
            )
    if workspace is not None:
        table = counts_from_workspace(workspace)
        synthetic = synthetic or bool(table.attrs.get("synthetic"))
        tables.append(table)
        paths.append(workspace)
        if not quiet:
            click.echo(f"{workspace.name}: {num(int(table['n'].sum()))} incidentes")
    rule = PriorityRule(
        method=method,
        k=k,
        indicator=indicator,
        thresholds=thresholds,
        min_count=DEFAULT_MIN_COUNT if min_count is None else min_count,
        min_count_prioridad=(
            DEFAULT_MIN_COUNT_PRIORIDAD if min_count_prioridad is None else min_count_prioridad
        ),
        seed=seed,
    )
    result = compute_priority(
        tables,
        levels=levels or ("provincia", "distrito"),
        fenomenos=list(fenomenos) or None,
        modalidades=modalidades,
        period=period,
        previous_period=previous_period,
        rule=rule,
        n_boot=n_boot,
        seed=seed,
        synthetic=synthetic,
    )
    for entry, described in zip(result.inputs, describe_inputs(paths), strict=True):
        entry.update(described)
    result.parameters["cli_options"] = {
        key: (list(map(str, value)) if isinstance(value, tuple) else value)
        for key, value in ctx.params.items()
        if not isinstance(value, Path)
    }
    extra = {}
    if top_modalidad:
        top = top_districts(tables, modalidad=top_modalidad, n=top_n, period=period)
        extra[f"top_distritos_{slug(top_modalidad, default='objetivo')}.csv"] = top_districts_table(
            top
        )
    written = write_priority_outputs(
        result,
        output,
        overwrite=overwrite,
        maps=not no_maps,
        extra_tables=extra,
        command=ctx.command_path,
    )
    if not quiet:
        for note in result.notes:
            click.echo(f"Nota: {note}")
        prioritised = result.prioritised("provincia")
        for row in prioritised.itertuples(index=False):
            click.echo(f"  {row.objetivo_nombre}: {row.provincia} — {row.nivel}")
    click.echo(f"{num(len(written))} archivos escritos en {output}")
