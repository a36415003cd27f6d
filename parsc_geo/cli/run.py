"""``parsc-geo run CONFIG.toml``: the whole chain from a configuration file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import localized
from .options import OptionError, is_quiet, output_dir_option, overwrite_option, workers_option

EXAMPLES = """\b
Examples:
  parsc-geo run cajamarca_2020.toml
  parsc-geo run cajamarca_2020.toml --output out/2020-10 --overwrite
  parsc-geo -q run config.toml -o out/
  parsc-geo run config.toml --workers 1
  parsc-geo run config.toml --workers 2
  parsc-geo run config.toml --scheduler tcp://10.0.0.5:8786
  parsc-geo run config.toml --scheduler procesos --workers 4
"""


def _scheduler(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from .._errors import ConfigError
    from ..distributed import check_scheduler

    try:
        return check_scheduler(value)
    except ConfigError as exc:
        raise OptionError(exc.message, ctx=ctx, param=param) from None


def print_summary(result: object, quiet: bool) -> None:
    """Print the closing summary of a run: counts, time and the paths to open first."""
    from .._text import num
    from ..pipeline import RunResult

    assert isinstance(result, RunResult)
    ing = result.counts.get("ingesta", {})
    click.echo("")
    click.secho(f"Listo en {result.timings.get('total', 0):.1f} s → {result.output}", bold=True)
    click.echo(
        f"  {num(ing.get('rows_read', 0))} filas leídas, "
        f"{num(ing.get('rows_accepted', 0))} aceptadas, "
        f"{num(ing.get('rows_quarantined', 0))} en cuarentena"
    )
    click.echo("  Abra primero:")
    for path in result.open_first:
        click.echo(f"    {path}")


@localized.command(name="run", epilog=EXAMPLES)
@localized.argument("config_path", metavar="CONFIG.toml", type=click.Path(path_type=Path))
@output_dir_option(
    Path("out/run"), help="Output folder (replaced only when the whole run succeeds)."
)
@overwrite_option
@workers_option
@localized.option(
    "--scheduler",
    default=None,
    callback=_scheduler,
    metavar="procesos|dask|tcp://HOST:PORT",
    help="What runs the work split by province: 'procesos' (this machine's process pool), "
    "'dask' (a Dask LocalCluster of --workers processes) or the address of a running Dask "
    "scheduler. Default: a LocalCluster when --workers is above 1, else the process pool of "
    "every core. Dask needs: pip install 'parsc-geo[dask]'.",
)
@click.pass_context
def command(
    ctx: click.Context,
    config_path: Path,
    output: Path,
    overwrite: bool,
    workers: int | None,
    scheduler: str | None,
) -> None:
    """Run ingest → validate → assign → density and hotspots → rankings → priority → maps → patrol.

    Everything lands in one output folder with a run.json recording inputs (with checksums),
    every parameter, package versions, counts and timings. --overwrite replaces a previous
    run's files (those listed in .parsc-geo-manifest.json) and keeps every other file; a
    non-empty folder that is not a parsc-geo output is refused (exit 5).

    --workers N (N above 1) fans the per-province work out on a Dask LocalCluster of N
    processes; --scheduler tcp://host:port on a running Dask cluster. The outputs are the same
    as a serial run's (only run.json's times, worker count and scheduler differ).
    """
    from ..config import read_config
    from ..pipeline import run_pipeline

    quiet = is_quiet(ctx)
    config = read_config(config_path)
    # each option given on the command line wins over its key in the [parallel] table
    from ..distributed import default_scheduler

    workers = workers if workers is not None else config.workers
    scheduler = default_scheduler(workers, scheduler if scheduler is not None else config.scheduler)
    result = run_pipeline(
        config,
        output,
        overwrite=overwrite,
        quiet=quiet,
        command=" ".join(["parsc-geo", *sys.argv[1:]]),
        workers=workers,
        scheduler=scheduler,
    )
    print_summary(result, quiet)
