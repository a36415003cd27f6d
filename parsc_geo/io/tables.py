"""Spreadsheet-safe cells: text that a spreadsheet would run as a formula is neutralised.

Every CSV or XLSX file that parsc-geo writes for people passes its cells through here, so that
text coming from data (a crime label, a sector name, a raw quarantined row) is shown, never
evaluated (OWASP "CSV Injection"):

- **CSV** (:func:`neutralise_frame`, :func:`neutralise_cell`): a text cell that starts with
  ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a line feed (or their full-width forms
  ``＝ ＋ － ＠``) gets a leading apostrophe, as OWASP recommends. Numbers are never changed:
  numeric values keep their type, and text that is a plain number (``-7.1634``, ``-7,1634``,
  ``+3``, ``1e-5``) stays as it is, because a spreadsheet reads it as a number, not a formula.
- **XLSX** (:func:`set_xlsx_text`): text cells are stored as text (never as a formula, which
  openpyxl would make of any string starting with ``=``), and those starting with a trigger
  character get Excel's own "quote prefix" style: the cell shows the text verbatim, and stays
  text even when the user edits it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import pandas as pd

#: Characters that make a spreadsheet read a cell as a formula (or a DDE call).
FORMULA_TRIGGERS: Final[tuple[str, ...]] = (
    "=",
    "+",
    "-",
    "@",
    "\t",
    "\r",
    "\n",
    "\uff1d",  # ＝
    "\uff0b",  # ＋
    "\uff0d",  # －
    "\uff20",  # ＠
)
#: A plain number written as text, with a decimal point or comma and an optional exponent.
_PLAIN_NUMBER: Final = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")
#: What is put in front of a dangerous text cell in CSV files.
PREFIX: Final = "'"


def is_formula_like(text: str) -> bool:
    """Return whether a spreadsheet could evaluate ``text`` (a text cell) as a formula."""
    return (
        bool(text) and text.startswith(FORMULA_TRIGGERS) and _PLAIN_NUMBER.fullmatch(text) is None
    )


def neutralise_text(text: str) -> str:
    """Return ``text`` with an apostrophe in front when it could be run as a formula."""
    return PREFIX + text if is_formula_like(text) else text


def neutralise_cell(value: Any) -> Any:
    """Return a CSV cell value that no spreadsheet evaluates; numbers are returned unchanged."""
    if isinstance(value, str):
        return neutralise_text(value)
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` whose text cells (and column names) are neutralised.

    Columns of numbers, booleans and dates are returned unchanged; in text (object, string or
    categorical) columns only the cells that start with a trigger character and are not plain
    numbers change.
    """
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)  # categories are text too (a sector name …)
        elif not (values.dtype == object or isinstance(values.dtype, pd.StringDtype)):
            continue
        text = values.map(lambda v: isinstance(v, str) and is_formula_like(v))
        mask = text.to_numpy(dtype=bool)
        if mask.any():
            values = values.astype(object)
            values[mask] = [PREFIX + v for v in values[mask]]
            out[column] = values
    out.columns = [neutralise_cell(c) for c in out.columns]
    return out


def set_xlsx_text(cell: Any) -> None:
    """Make an openpyxl cell holding text a text cell, never a formula.

    Call it after assigning the value (``ws.append`` or ``cell.value = …``); cells that do not
    hold text are left alone.
    """
    value = cell.value
    if not isinstance(value, str):
        return
    cell.data_type = "s"
    if value.startswith(FORMULA_TRIGGERS) and _PLAIN_NUMBER.fullmatch(value) is None:
        cell.quotePrefix = True


def set_workbook_text(book: Any) -> None:
    """Apply :func:`set_xlsx_text` to every cell of an openpyxl workbook (call before saving).

    For workbooks filled by other code (``pandas.DataFrame.to_excel``), whose text cells
    starting with ``=`` openpyxl has already turned into formulas.
    """
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                set_xlsx_text(cell)
