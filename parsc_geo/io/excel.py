"""XLSX reader (openpyxl): the first sheet with data, or a named sheet; title rows skipped.

The header is the first non-empty row, unless a row below it (within
:data:`parsc_geo.io.csv.HEADER_SEARCH_LINES`) names more known columns and at least
:data:`parsc_geo.io.csv.HEADER_MIN_KNOWN` of them: Excel exports often carry a title and a date
above the table. The detection is announced; ``header_row`` (the Excel row number) forces one.
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree.ElementTree import ParseError

from .._errors import InputDataError
from ._table import RawTable, column_names
from .columns import known_column_count
from .csv import HEADER_MIN_KNOWN, HEADER_SEARCH_LINES

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)


def _header_index(grid: pd.DataFrame, header_row: int | None, source: str) -> tuple[int, bool]:
    """Return the 0-based index of the header row in ``grid`` and whether it was detected."""
    filled = grid.notna().any(axis=1).to_numpy()
    if header_row is not None:
        index = header_row - 1
        if not (0 <= index < len(grid)) or not filled[index]:
            raise InputDataError(
                f"{source}: la fila de encabezados {header_row} no existe o está vacía",
                hint="indique con --header-row el número de fila (de Excel) que tiene los "
                "nombres de columna",
            )
        return index, False
    rows = [i for i in range(len(grid)) if filled[i]]
    if not rows:
        return 0, False
    first = rows[0]
    first_known = known_column_count(grid.iloc[first].tolist())
    if first_known < HEADER_MIN_KNOWN:
        for i in rows[1:HEADER_SEARCH_LINES]:
            known = known_column_count(grid.iloc[i].tolist())
            if known >= HEADER_MIN_KNOWN and known > first_known:
                return i, True
    return first, False


def read_xlsx(
    path: str | Path, *, sheet: str | int | None = None, header_row: int | None = None
) -> RawTable:
    """Read one sheet of an XLSX workbook.

    Parameters
    ----------
    path
        The workbook.
    sheet
        Sheet name or 0-based index; None takes the first sheet that has data rows.
    header_row
        Excel row number (1-based) of the column names; None detects title rows above them.

    Returns
    -------
    RawTable
        Cell values as read (text, numbers, ``datetime``/``time`` objects); empty cells ``""``.
        ``source_row`` numbers the rows below the header (1 = the row just below it).
    """
    import numpy as np
    import pandas as pd

    path = Path(path)
    try:
        book = pd.read_excel(
            path, sheet_name=None if sheet is None else sheet, dtype=object, header=None
        )
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, ParseError) as exc:
        # a truncated or corrupt workbook is a broken zip or XML inside it: the user's file
        raise InputDataError(
            f"{path.name}: no se puede leer el libro ({type(exc).__name__}: {exc})",
            hint="guárdelo como .xlsx o exporte la hoja como CSV",
        ) from exc
    if isinstance(book, dict):
        names = list(book)
        chosen = next(
            (n for n in names if len(book[n].dropna(how="all")) > 1), names[0] if names else None
        )
        if chosen is None:
            raise InputDataError(f"{path.name}: el libro no tiene hojas")
        grid = book[chosen]
        sheet_name: str | int = chosen
        skipped = _skipped_sheets(book, chosen)
    else:
        grid = book
        sheet_name = sheet if sheet is not None else 0
        skipped = []
    grid = grid.reset_index(drop=True)
    index, detected = _header_index(grid, header_row, path.name)
    if detected:
        logger.info(
            "%s: fila de encabezados detectada en la fila %d de la hoja (las de arriba son "
            "títulos); use --header-row para indicar otra",
            path.name,
            index + 1,
        )
    header = grid.iloc[index].tolist() if len(grid) else []
    df = grid.iloc[index + 1 :].dropna(how="all")
    rows = df.index.to_numpy(dtype=np.int64) - index
    df = df.reset_index(drop=True).astype(object).where(df.notna().to_numpy(), "")
    df.columns = column_names(header) if len(header) else []
    info: dict[str, object] = {
        "format": "XLSX",
        "sheet": str(sheet_name),
        "header_row": index + 1,
        "header_detected": detected,
    }
    if skipped:
        info["warnings"] = [
            f"el libro tiene otras hojas con datos que no se leyeron: {', '.join(skipped)}; "
            f"se leyó solo la hoja '{sheet_name}' (exporte cada hoja como CSV para importarla)"
        ]
    return RawTable(
        data=df,
        source=path.name,
        source_row=rows,
        kind="xlsx",
        info=info,
    )


def _skipped_sheets(book: dict[str, pd.DataFrame], chosen: str) -> list[str]:
    """Name the sheets other than ``chosen`` that hold rows below a first row, with their count.

    A workbook's second sheet of complaints must never vanish silently: it is named in the
    report so the user can export it.
    """
    skipped = []
    for name, grid in book.items():
        filled = len(grid.dropna(how="all"))
        if name != chosen and filled > 1:
            skipped.append(f"'{name}' ({filled - 1} fila(s) bajo la primera)")
    return skipped
