"""``parsc-geo ingest``: validate incident files and import them into the workspace."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .options import is_quiet, overwrite_option, workspace_option

if TYPE_CHECKING:
    from ..ingest import IngestOptions, IngestResult

_REASON_ES = {
    "malformed_row": "fila mal formada",
    "missing_coordinates": "sin coordenadas",
    "unparseable_coordinates": "coordenadas ilegibles",
    "not_a_point": "geometría que no es punto",
    "null_island": "coordenadas 0,0",
    "outside_study_area": "fuera del área de estudio",
    "missing_date": "sin fecha",
    "unparseable_date": "fecha ilegible",
    "date_out_of_range": "fecha fuera de rango",
    "duplicate_id": "identificador duplicado",
    "duplicate_place_time_type": "duplicado (lugar, hora y modalidad)",
}


def ingest_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by ``ingest``, ``validate`` and ``info``: reading and validation rules."""
    decorators = [
        click.option(
            "--columns",
            "columns",
            multiple=True,
            metavar="FIELD=COLUMN,...",
            help="Map columns explicitly, e.g. lat=LAT_Y,lon=LON_X,date=FECHA,label=DELITO "
            "(fields: incident_id, lat, lon, easting, northing, utm_zone, datetime, date, time, "
            "generico, especifico, modalidad, label, descripcion, comisaria, sector, subsector).",
        ),
        click.option(
            "--config",
            "config",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="TOML or JSON file with ingestion settings (columns, utm_zone, study_area, …).",
        ),
        click.option(
            "--utm-zone",
            "utm_zone",
            type=click.Choice(["17S", "18S", "19S"], case_sensitive=False),
            metavar="[17S|18S|19S]",
            help="Zone of ESTE/NORTE columns without a zone column  [default: 17S].",
        ),
        click.option(
            "--study-area",
            "study_area",
            metavar="UBIGEO|FILE",
            help="UBIGEO prefix (06 = Cajamarca region, 0601 = province) or a polygon file "
            "[default: Cajamarca region].",
        ),
        click.option(
            "--min-date",
            "min_date",
            metavar="YYYY-MM-DD",
            help="Earliest plausible date; earlier ones are quarantined  [default: 2000-01-01].",
        ),
    ]
    for deco in reversed(decorators):
        func = deco(func)
    return func


def build_options(
    ctx: click.Context,
    *,
    columns: tuple[str, ...],
    config: Path | None,
    utm_zone: str | None,
    study_area: str | None,
    min_date: str | None,
) -> IngestOptions:
    """Combine the config file and command-line options (the command line wins)."""
    from ..ingest import IngestOptions, read_config
    from ..io.columns import parse_column_mapping

    cfg = read_config(config) if config else {}
    area: Any = study_area
    if study_area and not study_area.isdigit():
        area = Path(study_area)
    return IngestOptions.from_config(
        cfg,
        columns=parse_column_mapping(columns) or None,
        utm_zone=utm_zone.upper() if utm_zone else None,
        study_area=area,
        min_date=min_date,
        progress=not is_quiet(ctx),
    )


def print_summary(result: IngestResult, *, quiet: bool) -> None:
    """Print per-file counts (Spanish) to stdout."""
    total = result.report["total"]
    if not quiet:
        for f in result.report["files"]:
            click.echo(
                f"{f['source']}: leídas {f['rows_read']}, aceptadas {f['rows_accepted']}, "
                f"en cuarentena {f['rows_quarantined']}, corregidas {f['rows_fixed']}"
            )
            for reason, n in f["reasons"].items():
                click.echo(f"    {n:>7}  {_REASON_ES.get(reason, reason)} ({reason})")
            for flag, n in f["flags"].items():
                click.echo(f"    {n:>7}  marcadas {flag}")
            if f["unknown_labels"]:
                shown = ", ".join(f"{k} ({v})" for k, v in list(f["unknown_labels"].items())[:10])
                click.echo(f"    etiquetas no reconocidas: {shown}")
            for w in f["warnings"]:
                click.echo(f"    aviso: {w}")
    click.echo(
        f"Total: leídas {total['rows_read']}, aceptadas {total['rows_accepted']}, "
        f"en cuarentena {total['rows_quarantined']}, corregidas {total['rows_fixed']}"
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
"""


@click.command(name="ingest", epilog=EPILOG)
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@workspace_option
@ingest_options
@click.option(
    "--sectors",
    "sectors_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Comisaría sector layer (GeoJSON, GeoPackage, Shapefile, KML) to check, store and "
    "assign incidents to.",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the JSON report here (and the quarantine CSV beside it).",
)
@click.option(
    "--quarantine",
    "quarantine_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the quarantined rows to this CSV  [default: REPORT_cuarentena.csv].",
)
@overwrite_option
@click.pass_context
def command(
    ctx: click.Context,
    files: tuple[Path, ...],
    workspace: Path,
    columns: tuple[str, ...],
    config: Path | None,
    utm_zone: str | None,
    study_area: str | None,
    min_date: str | None,
    sectors_path: Path | None,
    report_path: Path | None,
    quarantine_path: Path | None,
    overwrite: bool,
) -> None:
    """Validate incident FILES and import the accepted rows into the workspace.

    Every row is accepted or quarantined with a reason (rows read = accepted + quarantined).
    Accepted incidents are assigned to district, province, comisaría and, with a sector layer,
    sector and subsector. Importing the same file again adds nothing; a new month adds only
    new incidents. Column names are recognised in Spanish and English (LATITUD/LAT/Y,
    LONGITUD/LON/X, ESTE/NORTE, FECHA, HORA, MODALIDAD, DELITO …); use --columns or --config
    when they are not.
    """
    from ..ingest import ingest_files
    from ..io.writers import write_quarantine, write_report
    from ..workspace import Workspace

    quiet = is_quiet(ctx)
    opts = build_options(
        ctx,
        columns=columns,
        config=config,
        utm_zone=utm_zone,
        study_area=study_area,
        min_date=min_date,
    )
    report_target = report_path
    q_target = quarantine_path or _default_quarantine(report_path)
    for target in (report_target, q_target):
        if target is not None and target.exists() and not overwrite:
            from .._errors import OutputError

            raise OutputError(f"{target} ya existe", hint="elija otro nombre o use --overwrite")

    ws = Workspace(workspace)
    sectors = None
    new_sectors = None
    sector_check = None
    if sectors_path is not None:
        from ..sectors import check_sectors, read_sectors

        sectors, sector_check = check_sectors(read_sectors(sectors_path))
        new_sectors = sectors
        if not quiet:
            click.echo(f"Sectores: {sectors_path.name}: {len(sectors)} subsectores")
            click.echo(sector_check.summary())
    elif ws.exists:
        sectors = ws.read_sectors()

    result = ingest_files(files, opts, assign=True, sectors=sectors)
    synthetic = any("sintetico" in f.name.lower() for f in files) or bool(
        ws.metadata().get("synthetic", False)
    )
    summary = ws.import_incidents(
        result.accepted,
        result.quarantine,
        sources=result.sources,
        sectors=new_sectors,
        metadata={"synthetic": synthetic},
    )
    report = dict(result.report)
    report["workspace"] = {"path": str(workspace), **summary}
    if sector_check is not None:
        report["sectors"] = {"path": str(sectors_path), **sector_check.to_dict()}
    report["quarantine_path"] = str(q_target) if q_target else f"{workspace}#quarantine"
    if q_target is not None:
        write_quarantine(result.quarantine, q_target, overwrite=overwrite)
    if report_target is not None:
        write_report(report, report_target, overwrite=overwrite)
    print_summary(result, quiet=quiet)
    skipped = summary.get("files_skipped") or []
    click.echo(
        f"Espacio de trabajo {workspace}: {summary['rows_new']} incidentes nuevos, "
        f"{summary['rows_already_present']} ya presentes"
        + (f"; archivos ya importados: {', '.join(skipped)}" if skipped else "")
    )
    if report_target is not None and not quiet:
        click.echo(f"Informe: {report_target}")
    if q_target is not None and not quiet:
        click.echo(f"Cuarentena: {q_target}")
