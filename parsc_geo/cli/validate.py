"""``parsc-geo validate``: check incident files and report, importing nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from . import localized
from .ingest import build_options, print_summary
from .options import files_argument, ingest_options, is_quiet, overwrite_option

EPILOG = """\b
Examples:
  parsc-geo validate mapa_delito.csv
  parsc-geo validate campo.csv mymaps.kml --report validacion.json
  parsc-geo validate utm.xlsx --utm-zone 17S --columns easting=ESTE_X,northing=NORTE_Y
  parsc-geo validate export_excel.txt --header-row 4 --year 2020
"""


@localized.command(name="validate", epilog=EPILOG)
@files_argument
@ingest_options
@localized.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the JSON report here (the only file this command writes).",
)
@overwrite_option
@click.pass_context
def command(
    ctx: click.Context,
    files: tuple[Path, ...],
    report_path: Path | None,
    overwrite: bool,
    **options: Any,
) -> None:
    """Check incident FILES with the rules of 'ingest' and print (or write) the report.

    Nothing is imported and no other file is written: use it to see what 'ingest' would
    accept and quarantine, which columns were recognised and which crime labels are unknown.
    """
    from ..ingest import ingest_files
    from ..io.writers import check_output_name, write_report

    opts = build_options(ctx, **options)
    if report_path is not None:
        check_output_name(report_path)
    result = ingest_files(files, opts, assign=False)
    if report_path is not None:
        write_report(result.report, report_path, overwrite=overwrite)
    print_summary(result, quiet=is_quiet(ctx))
    if report_path is not None and not is_quiet(ctx):
        click.echo(f"Informe: {report_path}")
