"""``parsc-geo ingest``: validate incident files and import them into the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import localized
from .options import (
    InputFile,
    files_argument,
    ingest_options,
    is_quiet,
    overwrite_option,
    station_max_distance_option,
    workspace_option,
    workspace_path,
)

if TYPE_CHECKING:
    from ..ingest import IngestOptions, IngestResult
    from ..workspace.location import DatabaseURL


def build_options(
    ctx: click.Context,
    *,
    columns: tuple[str, ...],
    config: Path | None,
    study_area: str | None,
    station_max_distance: float | None = None,
    **options: Any,
) -> IngestOptions:
    """Combine the config file and command-line options (the command line wins).

    ``options`` are the other options of :data:`parsc_geo.cli.options.ingest_options`
    (``utm_zone``, ``input_crs``, ``min_date``, ``timezone``, ``year``, ``undated``,
    ``header_row``), None when not given.
    """
    from ..ingest import IngestOptions, read_config
    from ..io.columns import parse_column_mapping

    cfg = read_config(config) if config else {}
    return IngestOptions.from_config(
        cfg,
        columns=parse_column_mapping(columns) or None,
        study_area=study_area,
        station_max_distance_m=station_max_distance,
        progress=not is_quiet(ctx),
        **options,
    )


def print_summary(result: IngestResult, *, quiet: bool) -> None:
    """Print per-file counts (Spanish) to stdout."""
    from .._text import num, terminal_text
    from ..labels_es import FLAGS, REASONS

    total = result.report["total"]
    if not quiet:
        for f in result.report["files"]:
            click.echo(
                f"{f['source']}: leídas {num(f['rows_read'])}, "
                f"aceptadas {num(f['rows_accepted'])}, "
                f"en cuarentena {num(f['rows_quarantined'])}, corregidas {num(f['rows_fixed'])}"
            )
            for reason, n in f["reasons"].items():
                click.echo(f"    {num(n):>7}  {REASONS.get(reason, reason)}")
            for flag, n in f["flags"].items():
                click.echo(f"    {num(n):>7}  {FLAGS.get(flag, flag)}")
            if f["unknown_labels"]:
                shown = ", ".join(f"{k} ({v})" for k, v in list(f["unknown_labels"].items())[:10])
                click.echo(f"    etiquetas no reconocidas: {terminal_text(shown)}")
            for w in f["warnings"]:
                click.echo(f"    aviso: {terminal_text(w)}")
    click.echo(
        f"Total: leídas {num(total['rows_read'])}, aceptadas {num(total['rows_accepted'])}, "
        f"en cuarentena {num(total['rows_quarantined'])}, corregidas {num(total['rows_fixed'])}"
    )


def print_outcome(summary: dict[str, Any], report: dict[str, Any]) -> None:
    """Print what happened to the rows of each file in the workspace (Spanish)."""
    from .._text import num
    from ..labels_es import REASONS

    reasons = {f["source"]: f["reasons"] for f in report["files"]}
    for entry in summary.get("files", []):
        name = entry["source"]
        head = f"{name}{' (importado antes: evaluado de nuevo)' if entry['reimport'] else ''}"
        why = ", ".join(f"{REASONS.get(r, r)} {num(n)}" for r, n in reasons.get(name, {}).items())
        again = " de nuevo" if entry["rows_quarantined_before"] else ""
        click.echo(
            f"{head}: {num(entry['rows_new'])} aceptadas ahora (nuevas), "
            f"{num(entry['rows_already_present'])} ya presentes, "
            f"{num(entry['rows_quarantined'])} en cuarentena{again}" + (f" ({why})" if why else "")
        )
        if entry["rows_quarantined_before"]:
            click.echo(
                f"    de {num(entry['rows_quarantined_before'])} filas en cuarentena antes, "
                f"{num(entry['rows_now_accepted'])} se aceptaron ahora"
            )


def _default_quarantine(report: Path | None) -> Path | None:
    if report is None:
        return None
    return report.with_name(report.stem + "_cuarentena.csv")


EPILOG = """\b
Examples:
  parsc-geo ingest mapa_delito_marzo.csv
  parsc-geo ingest campo.csv mymaps.kml -w cajamarca.gpkg --report informe.json
  parsc-geo ingest datos.xlsx --columns lat=Y_WGS,lon=X_WGS,label=TIPO_DELITO
  parsc-geo ingest utm.csv --utm-zone 18S --sectors sectores.geojson
  parsc-geo ingest extracto.csv --year 2020 --undated keep --header-row 3
  parsc-geo ingest toronto.csv --study-area toronto.geojson --timezone America/Toronto
  parsc-geo ingest arequipa.csv --study-area 04 -w arequipa.gpkg
  parsc-geo ingest marzo.csv -w postgresql://analista@servidor/observatorio
  parsc-geo ingest denuncias.csv --study-area "provincia de Ilo" --station-max-distance 30000
"""


@localized.command(name="ingest", epilog=EPILOG)
@files_argument
@workspace_option
@ingest_options
@localized.option(
    "--sectors",
    "sectors_path",
    type=InputFile(),
    help="Comisaría sector layer (GeoJSON, GeoPackage, Shapefile, KML) to check, store and "
    "assign incidents to.",
)
@localized.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the JSON report here (and the quarantine CSV beside it).",
)
@localized.option(
    "--quarantine",
    "quarantine_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the quarantined rows to this CSV  [default: REPORT_cuarentena.csv].",
)
@station_max_distance_option
@overwrite_option
@click.pass_context
def command(
    ctx: click.Context,
    files: tuple[Path, ...],
    workspace: Path | DatabaseURL | None,
    sectors_path: Path | None,
    report_path: Path | None,
    quarantine_path: Path | None,
    station_max_distance: float | None,
    overwrite: bool,
    **options: Any,
) -> None:
    """Validate incident FILES and import the accepted rows into the workspace.

    Every row is accepted or quarantined with a reason (rows read = accepted + quarantined).
    Accepted incidents are assigned to district, province, comisaría and, with a sector layer,
    sector and subsector. Importing a file again evaluates it again: rows accepted now are
    added when new (rows quarantined before, e.g. with another study area, come in), its
    quarantine replaces the earlier one, and the command says what happened to the rows of
    each file; a new month adds only new incidents. Column names are recognised in Spanish
    and English (LATITUD/LAT/Y, LONGITUD/LON/X, ESTE/NORTE, FECHA, HORA, MODALIDAD, DELITO …);
    use --columns or --config when they are not.
    """
    from .._errors import OutputError
    from .._text import num
    from ..io.writers import check_output_name, write_quarantine, write_report
    from ..workflow import ingest, store
    from ..workspace import open_workspace

    quiet = is_quiet(ctx)
    opts = build_options(ctx, station_max_distance=station_max_distance, **options)
    q_target = quarantine_path or _default_quarantine(report_path)
    # every output is checked before the (possibly long) import, so that a bad name or an
    # existing report stops the command before the workspace changes
    for target in (report_path, q_target):
        if target is not None and check_output_name(target).exists() and not overwrite:
            raise OutputError(f"{target} ya existe", hint="elija otro nombre o use --overwrite")

    ws = open_workspace(workspace_path(workspace))
    # a CSV, an empty or truncated file, a database user who may only read: refused before
    # the import, untouched
    ws.check_writable()
    if opts.study_area is None and ws.exists:
        # a workspace remembers its study area: later imports default to it
        opts.study_area = ws.metadata().get("study_area")
    ingested = ingest(files, opts, sectors_path=sectors_path, workspace=ws)
    if ingested.sectors is not None and ingested.sector_check is not None and not quiet:
        assert sectors_path is not None
        click.echo(f"Sectores: {sectors_path.name}: {len(ingested.sectors)} subsectores")
        click.echo(ingested.sector_check.summary())
    synthetic = any("sintetico" in f.name.lower() for f in files) or bool(
        ws.metadata().get("synthetic", False)
    )
    summary = store(ingested, ws, metadata={"synthetic": synthetic})
    report = dict(ingested.result.report)
    report["workspace"] = summary
    if ingested.sector_check is not None:
        report["sectors"] = {"path": str(sectors_path), **ingested.sector_check.to_dict()}
    report["quarantine_path"] = str(q_target) if q_target else f"{ws.path}#quarantine"
    if q_target is not None:
        write_quarantine(ingested.result.quarantine, q_target, overwrite=overwrite)
    if report_path is not None:
        write_report(report, report_path, overwrite=overwrite)
    print_summary(ingested.result, quiet=quiet)
    if not quiet:
        print_outcome(summary, ingested.result.report)
    again = summary.get("files_reimported") or []
    click.echo(
        f"Espacio de trabajo {ws.path}: {num(summary['rows_new'])} incidentes nuevos, "
        f"{num(summary['rows_already_present'])} ya presentes"
        + (
            f"; archivos ya importados antes, evaluados de nuevo: {', '.join(again)}"
            if again
            else ""
        )
    )
    if report_path is not None and not quiet:
        click.echo(f"Informe: {report_path}")
    if q_target is not None and not quiet:
        click.echo(f"Cuarentena: {q_target}")
