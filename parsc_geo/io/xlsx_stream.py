"""Large workbooks formatted for people, written with XlsxWriter (fast, byte-stable).

The patrol plan's tables are written here (many rows, one pass, no cell objects); smaller
workbooks with titles and notes go through :mod:`parsc_geo.io.xlsx` (openpyxl).


:func:`write_xlsx` writes one sheet per table with what a person opening it expects: a bold
header with filter buttons, the header row frozen, columns as wide as their content (within
limits), and numbers shown with a format (thousands grouped, fixed decimals, percentages),
while cells keep their full numeric value. Text cells are always strings (XlsxWriter's
``write_string``: never a formula), and those a spreadsheet could run as a formula
(:func:`parsc_geo.io.tables.is_formula_like`) get Excel's quote prefix, as
:func:`parsc_geo.io.tables.set_xlsx_text` does for openpyxl. The document date is the one
given (the last day of the data, ``SOURCE_DATE_EPOCH`` …) and the zip members carry
XlsxWriter's fixed 1980 time stamp, so the same tables give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .tables import is_formula_like

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pandas as pd

#: Narrowest and widest column (characters of the default font).
MIN_WIDTH: Final = 6
MAX_WIDTH: Final = 60
#: Rows looked at to size a column (the header always is).
WIDTH_SAMPLE: Final = 2000
#: Format of whole numbers and of other numbers when none is given.
INTEGER_FORMAT: Final = "#,##0"
DECIMAL_FORMAT: Final = "#,##0.0##"


def _column_format(values: pd.Series) -> str | None:
    import pandas as pd

    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return None
    if pd.api.types.is_integer_dtype(values):
        return INTEGER_FORMAT
    finite = values.dropna()
    if len(finite) and bool(((finite % 1) == 0).all()):
        return INTEGER_FORMAT
    return DECIMAL_FORMAT


def _text_width(value: Any) -> int:
    text = str(value)
    return max((len(line) for line in text.splitlines()), default=0)


def write_xlsx(
    path: str | Path,
    sheets: Mapping[str, pd.DataFrame],
    *,
    date: dt.datetime,
    number_formats: Mapping[str, str] | None = None,
) -> Path:
    """Write ``sheets`` (sheet name → table) as one formatted workbook at ``path``.

    Parameters
    ----------
    path
        Target file (written as it is: wrap the call in :func:`parsc_geo._atomic.atomic_path`
        for an atomic write).
    sheets
        Tables in sheet order; their column names are the headers (already in Spanish).
        Sheet names longer than Excel's 31 characters are cut.
    date
        Creation date of the document (its properties).
    number_formats
        Excel number formats by column name (``{"Cobertura": "0%"}``), for every sheet;
        other numeric columns get :data:`INTEGER_FORMAT` (whole numbers) or
        :data:`DECIMAL_FORMAT`.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import numpy as np
    import pandas as pd
    import xlsxwriter

    target = Path(path)
    formats_by_name = dict(number_formats or {})
    book = xlsxwriter.Workbook(
        str(target), {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False}
    )
    try:
        naive = date.astimezone(dt.UTC).replace(tzinfo=None) if date.tzinfo else date
        book.set_properties({"created": naive, "author": "parsc-geo"})
        header_fmt = book.add_format(
            {"bold": True, "bg_color": "#E8E8E8", "bottom": 1, "text_wrap": True, "valign": "top"}
        )
        header_quoted = book.add_format(
            {
                "bold": True,
                "bg_color": "#E8E8E8",
                "bottom": 1,
                "text_wrap": True,
                "valign": "top",
                "quote_prefix": True,
            }
        )
        quoted = book.add_format({"quote_prefix": True})
        cache: dict[str, Any] = {}

        def number_format(spec: str) -> Any:
            if spec not in cache:
                cache[spec] = book.add_format({"num_format": spec})
            return cache[spec]

        for name, frame in sheets.items():
            ws = book.add_worksheet(str(name)[:31])
            columns = [str(c) for c in frame.columns]
            for k, header in enumerate(columns):
                ws.write_string(
                    0, k, header, header_quoted if is_formula_like(header) else header_fmt
                )
            for k, column in enumerate(frame.columns):
                values = frame[column]
                spec = formats_by_name.get(str(column)) or _column_format(values)
                fmt = number_format(spec) if spec else None
                width = _text_width(columns[k])
                if spec is None:
                    cells = values.astype(object).to_numpy()
                    for r, value in enumerate(cells, start=1):
                        if value is None or (isinstance(value, float) and math.isnan(value)):
                            continue
                        if isinstance(value, bool | np.bool_):
                            ws.write_boolean(r, k, bool(value))
                        elif isinstance(value, int | float | np.integer | np.floating):
                            ws.write_number(r, k, float(value))
                        elif isinstance(value, pd.Timestamp | dt.datetime | dt.date):
                            ws.write_string(r, k, str(value))
                        else:
                            text = str(value)
                            if is_formula_like(text):
                                ws.write_string(r, k, text, quoted)
                            else:
                                ws.write_string(r, k, text)
                    sample = cells[:WIDTH_SAMPLE]
                    width = max([width, *(_text_width(v) for v in sample if v is not None)])
                else:
                    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
                    for r, value in enumerate(numbers, start=1):
                        if np.isfinite(value):
                            ws.write_number(r, k, float(value), fmt)
                    finite = numbers[np.isfinite(numbers)]
                    if len(finite):
                        # the widest formatted number: digits, separators and decimals
                        biggest = float(np.max(np.abs(finite)))
                        digits = len(f"{biggest:,.0f}") + (1 if (finite < 0).any() else 0)
                        decimals = (
                            spec.split(".")[1].count("0") + spec.split(".")[1].count("#")
                            if "." in spec
                            else 0
                        )
                        width = max(width, digits + (decimals + 1 if decimals else 0))
                ws.set_column(k, k, min(MAX_WIDTH, max(MIN_WIDTH, width + 2)), None)
            ws.freeze_panes(1, 0)
            if columns:
                ws.autofilter(0, 0, max(len(frame), 1), len(columns) - 1)
    finally:
        book.close()
    return target
