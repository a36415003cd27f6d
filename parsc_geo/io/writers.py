"""Atomic writers of tables (CSV, XLSX), quarantine files and ingestion reports.

Every cell of a CSV or XLSX table goes through :mod:`parsc_geo.io.tables`, so that text from
data is never evaluated as a formula by a spreadsheet.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._atomic import NAME_MAX, atomic_path, check_name, write_bytes_atomic
from .._errors import OutputError
from .tables import neutralise_frame

if TYPE_CHECKING:
    import pandas as pd


#: Longest file or folder name (bytes) that common file systems accept (ext4, NTFS, APFS).
NAME_MAX_BYTES = NAME_MAX


def check_output_name(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` once every part of it is a name the file system can hold.

    The one check of :func:`parsc_geo._atomic.check_name` (also used by every atomic write,
    the workspace and output folders).

    Raises
    ------
    OutputError
        A part of the path is longer than the file system allows (255 bytes) (exit 5).
    """
    return check_name(path)


def _check_target(path: Path, overwrite: bool) -> None:
    check_output_name(path)
    try:
        exists = path.exists()
        parent = path.parent.exists()
    except OSError as exc:
        raise OutputError(f"no se puede usar {path}: {exc.strerror}") from exc
    if exists and not overwrite:
        raise OutputError(f"{path} ya existe", hint="elija otro nombre o use --overwrite")
    if not parent:
        raise OutputError(f"la carpeta {path.parent} no existe", hint="créela primero")


def write_quarantine(
    quarantine: pd.DataFrame, path: str | Path, *, overwrite: bool = False
) -> Path:
    """Write the quarantine table as CSV (UTF-8 with BOM, so Excel shows accents), atomically.

    Text cells that a spreadsheet would run as formulas are neutralised
    (:func:`parsc_geo.io.tables.neutralise_frame`).

    Parameters
    ----------
    quarantine
        Rows with :data:`parsc_geo.schema.QUARANTINE_COLUMNS`, written under the Spanish
        headers of :data:`parsc_geo.labels_es.QUARANTINE_HEADERS`.
    path
        Target ``.csv`` file.
    overwrite
        Replace an existing file.
    """
    target = Path(path)
    _check_target(target, overwrite)
    from ..labels_es import QUARANTINE_HEADERS

    table = neutralise_frame(quarantine).rename(columns=QUARANTINE_HEADERS)
    text = table.to_csv(index=False, lineterminator="\n")
    write_bytes_atomic(target, text.encode("utf-8-sig"), overwrite=overwrite)
    return target


def write_report(report: dict[str, Any], path: str | Path, *, overwrite: bool = False) -> Path:
    """Write an ingestion report as indented UTF-8 JSON, atomically."""
    target = Path(path)
    _check_target(target, overwrite)
    text = json.dumps(report, indent=2, ensure_ascii=False, default=str, sort_keys=False)
    write_bytes_atomic(target, (text + "\n").encode("utf-8"), overwrite=overwrite)
    return target


def write_table(
    table: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    overwrite: bool = False,
    synthetic: bool = False,
    sheet: str = "Ranking",
) -> Path:
    """Write a published table as CSV or XLSX (by the file suffix), atomically.

    Parameters
    ----------
    table
        The table, with its published (Spanish) headers.
    path
        ``.csv`` (UTF-8 with BOM, so that Excel shows accents) or ``.xlsx``. Text cells are
        never formulas (:mod:`parsc_geo.io.tables`); numbers keep their type.
    title
        Title row of the XLSX sheet.
    overwrite
        Replace an existing file.
    synthetic
        Mark the table as synthetic data: an ``Aviso`` column holding
        :data:`parsc_geo.settings.SYNTHETIC_BANNER` in CSV, a red banner row in XLSX.
    sheet
        Name of the XLSX sheet. The sheet is formatted by :mod:`parsc_geo.io.xlsx` (header
        filters, frozen header, column widths, number formats).

    Raises
    ------
    OutputError
        The file exists without ``overwrite``, its folder is missing, or the suffix is unknown.
    """
    from ..settings import SYNTHETIC_BANNER

    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise OutputError(
            f"{target}: las tablas se escriben como .csv o .xlsx; se recibió {suffix!r}"
        )
    check_output_name(target)
    if not target.parent.exists():
        raise OutputError(f"la carpeta {target.parent} no existe", hint="créela primero")
    with atomic_path(target, overwrite=overwrite) as tmp:
        try:
            if suffix == ".csv":
                out = neutralise_frame(table)
                if synthetic:
                    out.insert(0, "Aviso", SYNTHETIC_BANNER)
                tmp.write_bytes(out.to_csv(index=False, lineterminator="\n").encode("utf-8-sig"))
            else:
                _write_xlsx(table, tmp, title=title, synthetic=synthetic, sheet=sheet)
        except OSError as exc:
            raise OutputError(f"no se puede escribir {target}: {exc}") from exc
    return target


def _write_xlsx(
    table: pd.DataFrame, path: Path, *, title: str | None, synthetic: bool, sheet: str
) -> None:
    from .xlsx import Table, write_workbook

    write_workbook(path, {sheet: Table(table, title=title)}, synthetic=synthetic, overwrite=True)
