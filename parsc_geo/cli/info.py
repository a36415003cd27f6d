"""``parsc-geo info``: describe a workspace or an incident file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..i18n import _
from . import localized
from .options import DEFAULT_WORKSPACE, WorkspaceTarget

if TYPE_CHECKING:
    from ..workspace.location import DatabaseURL


def _describe_file(path: Path) -> dict[str, Any]:
    from ..ingest import ingest_files

    result = ingest_files([path], assign=False)
    f = result.report["files"][0]
    acc = result.accepted
    info: dict[str, Any] = {
        "path": str(path),
        "format": f["format"],
        "columns": f["columns"],
        "rows_read": f["rows_read"],
        "rows_accepted": f["rows_accepted"],
        "rows_quarantined": f["rows_quarantined"],
        "reasons": f["reasons"],
        "unknown_labels": f["unknown_labels"],
        "warnings": f["warnings"],
    }
    when = acc["occurred_at"].dropna()
    if len(when):
        info["period"] = [when.min().date().isoformat(), when.max().date().isoformat()]
    if len(acc):
        minx, miny, maxx, maxy = acc.total_bounds
        info["bounds"] = [round(float(v), 5) for v in (minx, miny, maxx, maxy)]
        top = acc.groupby("delito_generico").size().sort_values(ascending=False, kind="stable")
        info["delito_generico"] = {str(k): int(v) for k, v in top.items()}
    return info


EPILOG = """\b
Examples:
  parsc-geo info
  parsc-geo info cajamarca.gpkg
  parsc-geo info mapa_delito.csv --json
  parsc-geo info postgresql://visor@servidor/observatorio
"""


@localized.command(name="info", epilog=EPILOG)
@localized.argument("path", required=False, type=WorkspaceTarget())
@localized.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def command(path: Path | DatabaseURL | None, as_json: bool) -> None:
    """Describe a workspace (layers, counts, period, imports) or an incident file.

    Without PATH, describes ./workspace.gpkg; PATH may also be a PostGIS workspace
    (postgresql://…). A GeoPackage workspace's description says when to move it to PostGIS.
    For an incident file, shows its format, the columns recognised, how many rows would be
    accepted or quarantined and why, the period and the extent, without writing anything.
    """
    from .._errors import InputDataError
    from ..workspace import open_workspace
    from ..workspace.location import DatabaseURL

    target = path or DEFAULT_WORKSPACE
    if isinstance(target, DatabaseURL) or (
        target.suffix.lower() == ".gpkg" and (path is None or _is_workspace(target))
    ):
        ws = open_workspace(target)
        if not ws.exists:
            raise InputDataError(
                f"el espacio de trabajo {target} no existe",
                hint=f"créelo con 'parsc-geo ingest ARCHIVO --workspace {target}'",
            )
        info = ws.describe()
    else:
        if not target.exists():
            raise InputDataError(f"{target}: el archivo no existe", hint="revise la ruta")
        info = _describe_file(target)
    if as_json:
        click.echo(json.dumps(info, indent=2, ensure_ascii=False, default=str))
        return
    _print(info)


def _is_workspace(path: Path) -> bool:
    if not path.exists():
        return True
    import pyogrio

    from ..workspace.gpkg import check_workspace_file

    check_workspace_file(path)  # an empty, truncated or non-GeoPackage file: a clear error
    names = {str(n) for n, _ in pyogrio.list_layers(path)}
    return "incidents" in names or "parsc_metadata" in names or "imports" in names


#: Keys of the description → their label in the text output (msgids of the catalog).
LABELS: dict[str, str] = {
    "path": "path",
    "backend": "storage",
    "schema": "schema",
    "exists": "exists",
    "layers": "layers (features)",
    "metadata": "metadata",
    "imports": "imports",
    "period": "period",
    "format": "format",
    "columns": "columns recognised",
    "rows_read": "rows read",
    "rows_accepted": "rows accepted",
    "rows_quarantined": "rows quarantined",
    "reasons": "reasons for quarantine",
    "unknown_labels": "unknown crime labels",
    "warnings": "warnings",
    "bounds": "extent (min lon, min lat, max lon, max lat)",
    "delito_generico": "incidents per delito genérico",
    "advice": "advice",
}


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _print(info: dict[str, Any], indent: str = "", *, top: bool = True) -> None:
    """Print the description as indented text; top-level keys and reasons as words."""
    from ..labels_es import REASONS

    for key, value in info.items():
        label = _(LABELS[key]) if top and key in LABELS else REASONS.get(key, key)
        if isinstance(value, dict):
            click.echo(f"{indent}{label}:")
            _print(value, indent + "  ", top=False)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            click.echo(f"{indent}{label}: {len(value)}")
            for item in value:
                click.echo(f"{indent}  - " + ", ".join(f"{k}={v}" for k, v in item.items()))
        else:
            click.echo(f"{indent}{label}: {_value(value)}")
