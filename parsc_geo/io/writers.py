"""Atomic writers of tables (CSV, XLSX), quarantine files and ingestion reports.

Every cell of a CSV or XLSX table goes through :mod:`parsc_geo.io.tables`, so that text from
data is never evaluated as a formula by a spreadsheet.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._atomic import NAME_MAX, atomic_path, check_name, write_bytes_atomic
from .._errors import OutputError
from .tables import neutralise_frame, set_xlsx_text

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
                _write_xlsx(table, tmp, title=title, synthetic=synthetic)
        except OSError as exc:
            raise OutputError(f"no se puede escribir {target}: {exc}") from exc
    return target


def _write_xlsx(table: pd.DataFrame, path: Path, *, title: str | None, synthetic: bool) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    from .._xlsx import freeze_xlsx
    from ..settings import SYNTHETIC_BANNER

    wb = Workbook()
    ws = wb.active
    ws.title = "Ranking"
    if title:
        ws.append([title])
        ws.cell(ws.max_row, 1).font = Font(bold=True, size=13)
    if synthetic:
        ws.append([SYNTHETIC_BANNER])
        ws.cell(ws.max_row, 1).font = Font(bold=True, color="C00000")
    ws.append([str(c) for c in table.columns])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="D9D9D9")
    header_row = ws.max_row
    for row in table.itertuples(index=False):
        ws.append([None if _is_missing(v) else _plain(v) for v in row])
    for cells in ws.iter_rows():
        for cell in cells:
            set_xlsx_text(cell)
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    for index, column in enumerate(table.columns, start=1):
        width = max([len(str(column)), *(len(str(v)) for v in table[column].head(200))])
        ws.column_dimensions[ws.cell(header_row, index).column_letter].width = min(width + 2, 60)
    wb.save(path)
    freeze_xlsx(path)


def _is_missing(value: Any) -> bool:
    import pandas as pd

    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value
