"""``parsc-geo priority``: priority territories per fenómeno (the plan's section 2.8)."""

from __future__ import annotations

from pathlib import Path

import click

from .._text import num
from . import localized
from .options import (
    DEFAULT_WORKSPACE,
    Choice,
    Count,
    InputFile,
    OptionError,
    fenomeno_option,
    incidents_option,
    is_quiet,
    min_count_option,
    output_dir_option,
    overwrite_option,
    period_option,
    point_columns_options,
    seed_option,
    study_area_option,
    synthetic_option,
    workspace_option,
)
from .options import (
    Period as PeriodText,
)
from .progress import stage

#: Rules from indicators to levels (:data:`parsc_geo.priority.levels.METHODS`).
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
        raise OptionError(
            f"se esperaba ALTA,PRIORIDAD (dos números); se recibió {value!r}", ctx=ctx, param=param
        ) from None
    return alta, prioridad


EXAMPLES = """\b
Examples:
  parsc-geo priority "DATASET_Denuncias_Policiales_Enero 2018 a Junio 2025.csv" -o prioridad/
  parsc-geo priority --workspace workspace.gpkg --period 2020-01:2020-10 -o prioridad/
  parsc-geo priority denuncias.csv --rule fisher_jenks --level provincia -o prioridad/
  parsc-geo priority sidpol.csv --top homicidio --top-n 7 -o prioridad/
  parsc-geo priority sidpol.csv --bootstrap 500 --min-stability 90 -o prioridad/
  parsc-geo priority sidpol.csv --study-area Arequipa -o prioridad_arequipa/
"""


@localized.command(
    name="priority",
    epilog=EXAMPLES,
    aliases=[
        localized.Alias("--method", "--rule"),
        localized.Alias("-m", "--rule"),
        *(
            localized.Alias(f"--{name}-column", f"--{name}-col")
            for name in ("ubigeo", "category", "count", "year", "month")
        ),
    ],
)
@localized.argument("counts", nargs=-1, type=InputFile())
@workspace_option
@incidents_option
@point_columns_options
@output_dir_option(required=True)
@localized.option(
    "--level",
    "levels",
    multiple=True,
    type=click.Choice(["provincia", "distrito"]),
    help="Territorial level (repeatable; default both).",
)
@fenomeno_option
@localized.option(
    "--modalidad",
    "modalidades",
    multiple=True,
    help="Also rank this delito específico or modalidad, e.g. homicidio (repeatable).",
)
@period_option
@localized.option(
    "--previous-period",
    type=PeriodText(),
    help="Comparison period (default: same months a year earlier).",
)
@localized.option(
    "--rule",
    "method",
    type=Choice(_METHODS),
    default="kmeans",
    show_default=True,
    help="Rule from indicators to levels.",
)
@localized.option("--k", type=Count(2), default=3, show_default=True, help="Groups.")
@localized.option(
    "--indicator",
    type=click.Choice(["tasa_eb", "tasa", "n"]),
    default="tasa_eb",
    show_default=True,
    help="Indicator of the natural-breaks, quantile and threshold rules.",
)
@localized.option(
    "--thresholds",
    callback=_thresholds,
    metavar="ALTA,PRIORIDAD",
    help="Indicator values of the two levels (rule 'thresholds').",
)
@min_count_option(0, None, help="Fewest complaints for ALTA PRIORIDAD [default: 20].")
@localized.option(
    "--min-count-prioridad",
    type=Count(0),
    default=None,
    help="Fewest complaints for any level [default: 5].",
)
@localized.option(
    "--bootstrap",
    "n_boot",
    type=Count(0),
    default=200,
    show_default=True,
    help="Bootstrap replicates for the stability of levels (0 to skip).",
)
@localized.option(
    "--min-stability",
    type=click.FloatRange(0, 100),
    default=80.0,
    show_default=True,
    metavar="PCT",
    help="Least bootstrap stability (%) for a level to be published; below it the tables "
    "read NIVEL INCIERTO with the two candidate levels.",
)
@seed_option()
@localized.option(
    "--top",
    "top_modalidad",
    help="Also list the districts with most complaints of this modalidad (activity A3).",
)
@localized.option(
    "--top-n", type=Count(1), default=7, show_default=True, help="How many districts --top lists."
)
@localized.option("--ubigeo-col", "ubigeo_column", help="UBIGEO column of generic count tables.")
@localized.option(
    "--category-col", "category_column", help="Category column of generic count tables."
)
@localized.option("--count-col", "count_column", help="Count column of generic count tables.")
@localized.option("--year-col", "year_column", help="Year column of generic count tables.")
@localized.option("--month-col", "month_column", help="Month column of generic count tables.")
@localized.option("--no-maps", is_flag=True, help="Skip the HTML, PNG and PDF maps.")
@study_area_option
@synthetic_option
@overwrite_option
@click.pass_context
def command(
    ctx: click.Context,
    counts: tuple[Path, ...],
    workspace: Path | None,
    input_path: Path | None,
    input_crs: str,
    lon_col: str | None,
    lat_col: str | None,
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
    min_stability: float,
    seed: int | None,
    top_modalidad: str | None,
    top_n: int,
    ubigeo_column: str | None,
    category_column: str | None,
    count_column: str | None,
    year_column: str | None,
    month_column: str | None,
    no_maps: bool,
    study_area: str | None,
    synthetic: bool,
    overwrite: bool,
) -> None:
    r"""Rank provinces and districts per fenómeno into ALTA PRIORIDAD / PRIORIDAD.

    Reads SIDPOL open-data CSVs or any UBIGEO × category × count table (COUNTS), and/or the
    incidents of a workspace; computes counts, rates per 100,000 inhabitants, Empirical-Bayes
    smoothed rates, shares, change against the previous period, levels and their bootstrap
    stability; writes the plan's table (CSV, XLSX, Markdown), the detailed table, maps per
    fenómeno (HTML, PNG, and all of them in one PDF) and run.json. A level kept in fewer
    than --min-stability % of the bootstrap replicates is published as NIVEL INCIERTO;
    provinces and districts no input covers in the period are listed apart, not ranked.

    """
    from .._text import slug
    from ..priority import compute_priority, top_districts, write_priority_outputs
    from ..priority.levels import DEFAULT_MIN_COUNT, DEFAULT_MIN_COUNT_PRIORIDAD, PriorityRule
    from ..priority.outputs import describe_inputs, top_districts_table
    from ..workflow import IncidentFilter, PointInput, count_tables, load_incidents

    quiet = is_quiet(ctx)
    if not counts and workspace is None and input_path is None:
        if not DEFAULT_WORKSPACE.exists():
            raise click.UsageError(
                "indique archivos COUNTS, --incidents o --workspace (no hay workspace.gpkg en "
                "la carpeta actual)"
            )
        workspace = DEFAULT_WORKSPACE
    columns = {
        "ubigeo": ubigeo_column,
        "category": category_column,
        "count": count_column,
        "year": year_column,
        "month": month_column,
    }
    incidents = None
    if input_path is not None or workspace is not None:
        # every complaint counts, also those geocoded to a police station
        incidents = load_incidents(
            PointInput(input_path, workspace, lon_col, lat_col, input_crs),
            IncidentFilter(include_at_station=True),
        )
    tables = count_tables(counts, incidents, columns=columns)
    if not quiet:
        for path, table in zip(counts, tables, strict=False):
            click.echo(
                f"{path.name}: {num(len(table))} filas de conteo, "
                f"{num(int(table['n'].sum()))} denuncias"
            )
        if incidents is not None:
            source = Path(str(incidents.attrs["source"])).name
            click.echo(f"{source}: {num(int(tables[-1]['n'].sum()))} incidentes")
    synthetic = synthetic or any(bool(t.attrs.get("synthetic")) for t in tables)
    paths: list[Path] = list(counts)
    from ..workspace.location import DatabaseURL

    database = workspace if input_path is None and isinstance(workspace, DatabaseURL) else None
    if incidents is not None and database is None:
        paths.append(Path(str(incidents.attrs["source"])))
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
    from ..area import area_of

    # the territory ranked: --study-area, else that of the incidents, else the default
    area = (
        study_area
        if study_area is not None
        else (area_of(incidents) if incidents is not None else None)
    )
    what = "calculando indicadores y niveles" + (
        f" con {num(n_boot)} réplicas bootstrap" if n_boot else ""
    )
    with stage(what, quiet=quiet):
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
            study_area=area,
            min_stability=min_stability / 100,
        )
    described = describe_inputs(paths)
    if database is not None:  # a PostGIS workspace: its URL without the password
        described.append({"path": str(database), "name": f"PostGIS ({database.schema})"})
    for entry, description in zip(result.inputs, described, strict=True):
        entry.update(description)
    result.parameters["cli_options"] = {
        key: (list(map(str, value)) if isinstance(value, tuple) else value)
        for key, value in ctx.params.items()
        if not isinstance(value, Path | DatabaseURL)
    }
    extra = {}
    if top_modalidad:
        top = top_districts(
            tables, modalidad=top_modalidad, n=top_n, period=period, study_area=area
        )
        extra[f"top_distritos_{slug(top_modalidad, default='objetivo')}.csv"] = top_districts_table(
            top
        )
    with stage("escribiendo tablas y mapas de prioridad", quiet=quiet):
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
        for row in result.published("provincia").itertuples(index=False):
            click.echo(f"  {row.objetivo_nombre}: {row.provincia} — {row.nivel_publicado}")
    click.echo(f"{num(len(written))} archivos escritos en {output}")
