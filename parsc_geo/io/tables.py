"""Cells of published spreadsheets (CSV, XLSX) that can never run as formulas.

A spreadsheet program treats a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(and a leading tab or carriage return can hide one), so text from the data, such as a subsector
named ``=HYPERLINK("http://…","clic")``, would become a live formula in
``plan_patrullaje.xlsx`` or any CSV opened in Excel or LibreOffice. Following the OWASP
guidance on CSV injection, every text cell that starts with one of those characters gets a
leading apostrophe (``'``), which spreadsheet programs show as text and never evaluate.

Numbers are never changed: numeric values (``int``, ``float``, numpy numbers, numeric
columns) are left as they are, and so is text that is a plain number (``-12.5``, ``+3``,
``-1e-05``), which a spreadsheet reads as that number and nothing else. Applying the rule twice
changes nothing (a neutralised cell starts with ``'``).

Every CSV and XLSX writer of parsc-geo passes its table through :func:`neutralise_frame` (or
its cells through :func:`neutralise_cell`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import pandas as pd

#: First characters that make a spreadsheet cell a formula (or hide one).
FORMULA_STARTS: Final[tuple[str, ...]] = ("=", "+", "-", "@", "\t", "\r")

_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def neutralise_cell(value: Any) -> Any:
    r"""Return ``value`` safe for a spreadsheet cell: formula-like text gets a leading ``'``.

    Parameters
    ----------
    value
        Any cell value. Only ``str`` values are ever changed.

    Returns
    -------
    object
        ``value`` itself, or ``"'" + value`` for text starting with ``= + - @``, a tab or a
        carriage return that is not a plain number.

    Examples
    --------
    >>> neutralise_cell('=HYPERLINK("http://x","clic")')
    '\'=HYPERLINK("http://x","clic")'
    >>> neutralise_cell("@SUM(A1)"), neutralise_cell("-2+3"), neutralise_cell("\tx")
    ("'@SUM(A1)", "'-2+3", "'\tx")
    >>> neutralise_cell("-12.5"), neutralise_cell(-12.5), neutralise_cell("SECTOR 1")
    ('-12.5', -12.5, 'SECTOR 1')
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` whose text cells and column names are safe for spreadsheets.

    Numeric, boolean and datetime columns are returned unchanged (same dtype); in text
    (object, string, categorical) columns each cell goes through :func:`neutralise_cell`.
    The index is dropped by every writer, so it is left as it is.
    """
    import numpy as np
    import pandas as pd

    out = df.copy()
    for position in range(len(df.columns)):
        series = df.iloc[:, position]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            cells = np.empty(len(series), dtype=object)
            cells[:] = [neutralise_cell(v) for v in series.tolist()]
            out.isetitem(position, cells)
    out.columns = [neutralise_cell(c) for c in df.columns]
    return out


__all__ = ["FORMULA_STARTS", "neutralise_cell", "neutralise_frame"]
