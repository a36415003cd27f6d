"""Plain tables as an XLSX workbook, written straight as SpreadsheetML.

``pandas.DataFrame.to_excel`` with openpyxl builds one Python object per cell and serialises
them one by one: a patrol plan's tables (about 150,000 cells) took several seconds.
:func:`write_plain_xlsx` writes the same workbook — the very bytes pandas and openpyxl write,
with the document dates of :func:`parsc_geo._xlsx.freeze_xlsx` — by producing each sheet's XML
text directly; openpyxl still writes every other part (workbook, styles, properties).

Cells follow pandas' rules: missing values are empty text cells, infinities the text ``inf``
and ``-inf``, integers and floats numbers (``%.16g``), booleans booleans, anything else its
text. Two deliberate differences from openpyxl: text is always text — a value starting with
``=`` is never turned into a formula, nor ``#N/A`` into an error — and characters XML forbids
(control characters) are dropped instead of failing the whole workbook. Tables with dates or
durations, which need cell styles, are written by pandas (:func:`pandas_xlsx`).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

#: Characters openpyxl refuses in cells (XML 1.0 forbids them).
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
#: Longest text Excel keeps in a cell.
MAX_TEXT = 32_767
_EMPTY_SHEET = "<sheetData></sheetData>"
_EMPTY_DIMENSION = '<dimension ref="A1:A1" />'


def _column_letter(index: int) -> str:
    """Return the letters of the 1-based column ``index`` (1 → A, 27 → AA)."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _text_cell(ref: str, text: str) -> str:
    text = _ILLEGAL.sub("", text[:MAX_TEXT])
    if not text:
        return f'<c r="{ref}" t="inlineStr" />'
    stripped = text.strip()
    space = ' xml:space="preserve"' if stripped and stripped != text else ""
    return f'<c r="{ref}" t="inlineStr"><is><t{space}>{_escape(text)}</t></is></c>'


def _cell(ref: str, value: Any) -> str:
    """Return the XML of one cell as pandas + openpyxl write ``value``."""
    import numpy as np
    import pandas as pd

    if value is None or (not isinstance(value, str | bytes) and bool(pd.isna(value))):
        return f'<c r="{ref}" t="inlineStr" />'
    if isinstance(value, bool | np.bool_):
        return f'<c r="{ref}" t="b"><v>{int(bool(value))}</v></c>'
    if isinstance(value, int | np.integer):
        return f'<c r="{ref}" t="n"><v>{int(value):.16g}</v></c>'
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isinf(number):
            return _text_cell(ref, "inf" if number > 0 else "-inf")
        return f'<c r="{ref}" t="n"><v>{number:.16g}</v></c>'
    return _text_cell(ref, str(value))


def _sheet_rows(frame: pd.DataFrame) -> Iterator[str]:
    letters = [_column_letter(k + 1) for k in range(frame.shape[1])]
    header = "".join(
        _text_cell(f"{letter}1", str(name))
        for letter, name in zip(letters, frame.columns, strict=True)
    )
    yield f'<row r="1">{header}</row>'
    columns = [frame.iloc[:, k].tolist() for k in range(frame.shape[1])]
    for i in range(len(frame)):
        r = i + 2
        cells = "".join(
            _cell(f"{letter}{r}", col[i]) for letter, col in zip(letters, columns, strict=True)
        )
        yield f'<row r="{r}">{cells}</row>'


def _supported(frame: pd.DataFrame) -> bool:
    """Whether every column holds only text, numbers, booleans or missing values."""
    import numpy as np
    import pandas as pd

    for k in range(frame.shape[1]):
        column = frame.iloc[:, k]
        kind = column.dtype.kind
        if kind in "biuf" or isinstance(column.dtype, pd.StringDtype):
            continue
        if kind != "O":
            return False
        values = column.dropna()
        plain = (str, int, float, bool, np.integer, np.floating, np.bool_)
        if len(values) and not all(isinstance(v, plain) for v in values):
            return False
    return True


def pandas_xlsx(
    path: Path, sheets: Mapping[str, pd.DataFrame], *, date: dt.datetime, creator: str
) -> None:
    """Write ``sheets`` with pandas and openpyxl, then fix the document dates."""
    import pandas as pd

    from .._xlsx import freeze_xlsx

    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
        _set_properties(writer.book, date=date, creator=creator)
    freeze_xlsx(path, date)


def _set_properties(book: Any, *, date: dt.datetime, creator: str) -> None:
    props = book.properties
    naive = date.replace(tzinfo=None)
    props.created = naive
    props.modified = naive
    props.creator = creator


def write_plain_xlsx(
    path: Path, sheets: Mapping[str, pd.DataFrame], *, date: dt.datetime, creator: str
) -> None:
    """Write each table as a sheet (headers in the first row, no index), dated ``date``.

    Parameters
    ----------
    path
        The workbook to write (replaced).
    sheets
        Sheet name → table, in order.
    date
        Document date (properties and zip members), as :func:`parsc_geo._xlsx.freeze_xlsx`.
    creator
        Author recorded in the document properties.
    """
    from openpyxl import Workbook

    from .._xlsx import freeze_xlsx

    if not all(_supported(frame) for frame in sheets.values()):
        pandas_xlsx(path, sheets, date=date, creator=creator)
        return
    # openpyxl writes the skeleton (workbook, styles, properties, empty sheets) ...
    book = Workbook()
    book.remove(book.active)
    for name in sheets:
        book.create_sheet(title=name)
    _set_properties(book, date=date, creator=creator)
    skeleton = io.BytesIO()
    book.save(skeleton)
    # ... and each sheet's cells are written into it as text.
    with zipfile.ZipFile(skeleton) as src:
        members = [(info, src.read(info)) for info in src.infolist()]
    frames = list(sheets.values())
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info, data in members:
            match = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", info.filename)
            if match:
                data = _fill_sheet(data.decode("utf-8"), frames[int(match.group(1)) - 1])
            dst.writestr(info, data)
    freeze_xlsx(path, date)


def _fill_sheet(empty: str, frame: pd.DataFrame) -> bytes:
    """Return the XML of an empty openpyxl sheet with ``frame``'s cells inside."""
    if _EMPTY_SHEET not in empty or _EMPTY_DIMENSION not in empty:
        raise RuntimeError("openpyxl wrote an unexpected empty sheet")  # a new openpyxl layout
    if frame.shape[1] == 0:
        return empty.encode("utf-8")
    last = f"{_column_letter(frame.shape[1])}{len(frame) + 1}"
    text = empty.replace(_EMPTY_DIMENSION, f'<dimension ref="A1:{last}" />').replace(
        _EMPTY_SHEET, "<sheetData>" + "".join(_sheet_rows(frame)) + "</sheetData>"
    )
    return text.encode("utf-8")
