"""XLSX reader (openpyxl): the first sheet with data, or a named sheet."""

from __future__ import annotations

from pathlib import Path

from .._errors import InputDataError
from ._table import RawTable


def read_xlsx(path: str | Path, *, sheet: str | int | None = None) -> RawTable:
    """Read one sheet of an XLSX workbook; the first row is the header.

    Parameters
    ----------
    path
        The workbook.
    sheet
        Sheet name or 0-based index; None takes the first sheet that has data rows.

    Returns
    -------
    RawTable
        Cell values as read (text, numbers, ``datetime``/``time`` objects); empty cells ``""``.
    """
    import numpy as np
    import pandas as pd

    path = Path(path)
    try:
        book = pd.read_excel(path, sheet_name=None if sheet is None else sheet, dtype=object)
    except (OSError, ValueError, KeyError) as exc:
        raise InputDataError(
            f"{path.name}: no se puede leer el libro ({exc})",
            hint="guárdelo como .xlsx o exporte la hoja como CSV",
        ) from exc
    if isinstance(book, dict):
        names = list(book)
        chosen = next(
            (n for n in names if len(book[n].dropna(how="all"))), names[0] if names else None
        )
        if chosen is None:
            raise InputDataError(f"{path.name}: el libro no tiene hojas")
        df = book[chosen]
        sheet_name: str | int = chosen
    else:
        df = book
        sheet_name = sheet if sheet is not None else 0
    df = df.dropna(how="all")
    rows = df.index.to_numpy(dtype=np.int64) + 1
    df = df.reset_index(drop=True).astype(object).where(df.notna().to_numpy(), "")
    df.columns = [str(c).strip() for c in df.columns]
    return RawTable(
        data=df,
        source=path.name,
        source_row=rows,
        kind="xlsx",
        info={"format": "XLSX", "sheet": str(sheet_name)},
    )
