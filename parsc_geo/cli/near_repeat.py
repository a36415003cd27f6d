"""``parsc-geo near-repeat``: Knox test of near repeats over distance and time bands."""

from __future__ import annotations

from pathlib import Path

import click

from .._text import num
from . import localized
from .options import is_quiet, overwrite_option, period_option, seed_option
from .trends import incident_options


def _bands(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Check ``--space-bands`` / ``--time-bands`` early, with the library's parser."""
    if value is None:
        return None
    from .._errors import ConfigError
    from ..trends.near_repeat import parse_bands

    try:
        parse_bands(value, param.name or "bands")
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


@localized.command(
    "near-repeat",
    epilog="""\b
Examples:
  parsc-geo near-repeat -w workspace.gpkg -o repeticion/
  parsc-geo near-repeat -w workspace.gpkg --fenomeno patrimonio_espacio_publico \\
      --space-bands 0,100,200,300,400 --time-bands 0,7,14,21,28 -o repeticion/
  parsc-geo near-repeat incidentes.gpkg --period 2020-01:2020-06 --permutations 999 \\
      --seed 7 -o repeticion/
""",
)
@localized.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("repeticion"),
    show_default=True,
    help="Output folder: repeticion.csv and repeticion_parametros.json.",
)
@localized.option(
    "--space-bands",
    callback=_bands,
    default="0,100,200,300,400,500",
    show_default=True,
    help="Distance band edges in metres (a pair is in a band when d_min ≤ d < d_max; "
    "'inf' allowed last).",
)
@localized.option(
    "--time-bands",
    callback=_bands,
    default="0,7,14,21,28",
    show_default=True,
    help="Time band edges in days (t_min ≤ days apart < t_max; 'inf' allowed last).",
)
@localized.option(
    "--permutations",
    type=click.IntRange(min=0),
    default=99,
    show_default=True,
    help="Monte-Carlo permutations of the dates (0: no p-values).",
)
@seed_option()
@period_option
@localized.option(
    "--alpha",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="Significance level used by the interpretation.",
)
@localized.option("--label", help="How to name one incident in the interpretation, e.g. 'un robo'.")
@incident_options
@overwrite_option
@click.pass_context
def command(
    ctx: click.Context,
    input_path: Path | None,
    workspace: Path | None,
    output: Path,
    space_bands: str,
    time_bands: str,
    permutations: int,
    seed: int | None,
    fenomenos: tuple[str, ...],
    include_at_station: bool,
    period: str | None,
    alpha: float,
    label: str | None,
    synthetic: bool,
    overwrite: bool,
    input_crs: str,
    lon_col: str | None,
    lat_col: str | None,
) -> None:
    r"""Test whether incidents are followed by others nearby soon after (Knox test).

    Counts the pairs of incidents in each band of distance and of days apart, compares them
    with the count expected if dates were unrelated to places, and estimates a p-value by
    shuffling the dates (as Ratcliffe's Near Repeat Calculator). Writes
    OUTPUT/repeticion.csv and a short Spanish interpretation for the patrol plan.
    """
    from .._errors import OutputError
    from ..trends.io import NEAR_REPEAT_FILE, NEAR_REPEAT_PARAMETERS_FILE, write_near_repeat
    from ..trends.near_repeat import event_label, interpret_near_repeat, near_repeat
    from .trends import read_points

    quiet = is_quiet(ctx)
    for name in (NEAR_REPEAT_FILE, NEAR_REPEAT_PARAMETERS_FILE):
        if (output / name).exists() and not overwrite:
            raise OutputError(f"{output / name} ya existe", hint="use --overwrite")
    incidents, selection, synthetic_source = read_points(
        input_path,
        workspace,
        fenomenos,
        period,
        include_at_station=include_at_station,
        point_columns={"input_crs": input_crs, "lon_col": lon_col, "lat_col": lat_col},
    )
    table = near_repeat(
        incidents,
        space_bands=space_bands,
        time_bands=time_bands,
        permutations=permutations,
        seed=seed,
        exclude_at_station=not include_at_station,
    )
    parameters = table.attrs["parameters"]
    if not quiet:
        click.echo(
            f"Repetición cercana: {num(parameters['n_incidents'])} incidentes, "
            f"{num(parameters['n_pairs_listed'])} pares a menos de "
            f"{num(max(e for e in parameters['space_bands_m'] if e != float('inf')))} m, "
            f"{num(permutations)} permutaciones (semilla {parameters['seed']})",
            err=True,
        )
    text = interpret_near_repeat(table, label=label or event_label(fenomenos), alpha=alpha)
    extra = {
        "source": selection["source"],
        "fenomenos": selection["fenomenos"],
        "period": selection.get("dates"),
        "alpha": alpha,
    }
    paths = write_near_repeat(
        table,
        output,
        interpretation=text,
        overwrite=overwrite,
        synthetic=synthetic or synthetic_source,
        extra=extra,
    )
    click.echo(text)
    click.echo(f"→ {paths[0]}")
