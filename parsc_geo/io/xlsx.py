"""Workbooks written for people: one formatting, byte-stable files, text never a formula.

Every XLSX table parsc-geo writes for people (rankings, the priority table, the patrol plan, the
run's historical accuracy, the evaluation of sectors) goes through here, with openpyxl:

- :func:`append_table` writes a table under a bold header row on a grey fill, with an
  autofilter over it, the rows below it frozen, column widths fitted to the content (8–60
  characters) and a number format per column: the caller's, else one chosen from the column's
  type (:func:`default_number_format`: whole numbers with a thousands separator, decimals with
  two places, dates as ``yyyy-mm-dd``);
- :func:`save_workbook` passes every cell through :func:`parsc_geo.io.tables.set_xlsx_text`
  (text is text, never a formula), dates the document and saves it atomically;
- :func:`freeze_xlsx` makes the file byte-stable: openpyxl stamps the save time into
  ``docProps/core.xml`` and every zip member, so it rewrites them with :func:`document_date`
  (``SOURCE_DATE_EPOCH`` when set, the reproducible-builds convention);
- :func:`write_workbook` does all of it for a few tables, one per sheet.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import pandas as pd

#: Date used when ``SOURCE_DATE_EPOCH`` is not set (the reproducible-builds convention).
DEFAULT_DOCUMENT_DATE: Final = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
#: Number formats chosen from a column's type (see :func:`default_number_format`).
INTEGER_FORMAT: Final = "#,##0"
DECIMAL_FORMAT: Final = "#,##0.00"
DATE_FORMAT: Final = "yyyy-mm-dd"
DATETIME_FORMAT: Final = "yyyy-mm-dd hh:mm"
#: Fill of header rows, and the colour of the synthetic-data banner.
HEADER_FILL: Final = "D9D9D9"
BANNER_COLOR: Final = "C00000"
#: Narrowest and widest column, in characters.
MIN_WIDTH: Final = 8
MAX_WIDTH: Final = 60
#: Rows read to fit a column's width (a long table is not read to the end for it).
WIDTH_SAMPLE: Final = 500


def document_date() -> dt.datetime:
    """Return the date to stamp into documents: ``SOURCE_DATE_EPOCH`` or a fixed default."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    return DEFAULT_DOCUMENT_DATE


def freeze_xlsx(path: str | Path, date: dt.datetime | None = None) -> None:
    """Rewrite the workbook at ``path`` with every date set to ``date`` (default: document_date)."""
    when = date or document_date()
    path = Path(path)
    with zipfile.ZipFile(path) as src:
        members = [(info, src.read(info)) for info in src.infolist()]
    stamp = (max(when.year, 1980), when.month, when.day, 0, 0, 0)
    iso = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode("ascii")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info, data in members:
            if info.filename == "docProps/core.xml":
                for tag in (rb"dcterms:created", rb"dcterms:modified"):
                    data = re.sub(
                        rb"(<" + tag + rb"[^>]*>)[^<]*(</" + tag + rb">)",
                        rb"\g<1>" + iso + rb"\g<2>",
                        data,
                    )
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, data)


def cell_value(value: Any) -> Any:
    """Return a value openpyxl stores as it should be shown.

    numpy numbers become Python numbers, missing values (None, NaN, NA, NaT) empty cells,
    infinities the text ``∞``/``-∞``, time-zone-aware times their local wall-clock time (Excel
    has no time zones), lists and dicts text.
    """
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        with contextlib.suppress(ValueError, AttributeError):
            value = value.item()
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    if isinstance(value, list | tuple | set | dict):
        return str(value)
    return value


def default_number_format(series: pd.Series) -> str | None:
    """Return the number format of a column from its type (None: general).

    Whole numbers (integer dtypes, and floats that are all whole, e.g. counts read back with
    missing values) get :data:`INTEGER_FORMAT`, other decimals :data:`DECIMAL_FORMAT`, dates
    :data:`DATE_FORMAT` or :data:`DATETIME_FORMAT` (when some value has a time of day).
    Booleans and text stay general.
    """
    import pandas as pd
    from pandas.api import types

    if types.is_bool_dtype(series.dtype):
        return None
    if types.is_integer_dtype(series.dtype):
        return INTEGER_FORMAT
    if types.is_float_dtype(series.dtype):
        values = series.dropna().to_numpy(dtype=float)
        values = values[[math.isfinite(v) for v in values]] if len(values) else values
        if len(values) and all(float(v).is_integer() for v in values):
            return INTEGER_FORMAT
        return DECIMAL_FORMAT
    if types.is_datetime64_any_dtype(series.dtype):
        stamps = pd.DatetimeIndex(series.dropna())
        if len(stamps) and (stamps != stamps.normalize()).any():
            return DATETIME_FORMAT
        return DATE_FORMAT
    return None


@dataclass
class Table:
    """One table of a workbook sheet, as written by :func:`write_workbook`.

    Attributes
    ----------
    frame
        The table, with its published (Spanish) headers.
    title
        A bold title row above the table.
    notes
        Lines of text between the title and the table (a period, a source, a rule).
    number_formats
        Column → Excel number format, over the default of :func:`default_number_format`.
    """

    frame: pd.DataFrame
    title: str | None = None
    notes: Sequence[str] = ()
    number_formats: Mapping[str, str] = field(default_factory=dict)


def append_table(
    sheet: Any,
    frame: pd.DataFrame,
    *,
    number_formats: Mapping[str, str] | None = None,
    filters: bool = True,
    freeze: bool = True,
) -> tuple[int, int]:
    """Write ``frame`` below the sheet's last row (header, then rows) and format it.

    Parameters
    ----------
    sheet
        An openpyxl worksheet.
    frame
        The table; its column names are the header.
    number_formats
        Column name → number format, over :func:`default_number_format`.
    filters
        Put an autofilter on the header row.
    freeze
        Freeze the rows down to the header (they stay in view while scrolling).

    Returns
    -------
    tuple of int
        The header row and the last row of the table (1-based).
    """
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    columns = list(frame.columns)
    header = sheet.max_row + 1 if sheet.max_row > 1 or sheet.cell(1, 1).value is not None else 1
    for k, name in enumerate(columns, start=1):
        cell = sheet.cell(header, k, cell_value(str(name)))
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, row in enumerate(frame.itertuples(index=False, name=None), start=header + 1):
        for k, value in enumerate(row, start=1):
            sheet.cell(i, k, cell_value(value))
    last = header + len(frame)
    formats = dict(number_formats or {})
    for k, name in enumerate(columns, start=1):
        letter = get_column_letter(k)
        fmt = formats.get(str(name)) or default_number_format(frame.iloc[:, k - 1])
        if fmt and len(frame):
            for (cell,) in sheet.iter_rows(min_row=header + 1, max_row=last, min_col=k, max_col=k):
                cell.number_format = fmt
        texts = [str(name), *(_shown(v) for v in frame.iloc[:WIDTH_SAMPLE, k - 1])]
        width = max(len(t) for t in texts) + 2
        sheet.column_dimensions[letter].width = max(MIN_WIDTH, min(MAX_WIDTH, width))
    if filters and columns:
        sheet.auto_filter.ref = f"A{header}:{get_column_letter(len(columns))}{max(last, header)}"
    if freeze:
        sheet.freeze_panes = sheet.cell(header + 1, 1)
    return header, last


def _shown(value: Any) -> str:
    shown = cell_value(value)
    if shown is None:
        return ""
    if isinstance(shown, float):
        return f"{shown:,.2f}"
    if isinstance(shown, int) and not isinstance(shown, bool):
        return f"{shown:,}"
    return str(shown)


def add_title(sheet: Any, title: str | None, *, synthetic: bool = False) -> None:
    """Add a bold title row, and the synthetic-data banner in red when ``synthetic``."""
    from openpyxl.styles import Font

    from ..settings import SYNTHETIC_BANNER

    first = sheet.max_row == 1 and sheet.cell(1, 1).value is None
    if title:
        row = 1 if first else sheet.max_row + 1
        sheet.cell(row, 1, title).font = Font(bold=True, size=13)
        first = False
    if synthetic:
        row = 1 if first else sheet.max_row + 1
        sheet.cell(row, 1, SYNTHETIC_BANNER).font = Font(bold=True, color=BANNER_COLOR)


def add_notes(sheet: Any, notes: Sequence[str]) -> None:
    """Add lines of text below the sheet's last row (before a table)."""
    for note in notes:
        first = sheet.max_row == 1 and sheet.cell(1, 1).value is None
        sheet.cell(1 if first else sheet.max_row + 1, 1, note)


def new_workbook() -> Any:
    """Return an empty openpyxl workbook (no default sheet)."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    return book


def sheet_name(name: str) -> str:
    """Return ``name`` as Excel accepts it: at most 31 characters, no brackets, slashes, ``:*?``."""
    cleaned = re.sub(r"[\[\]:*?/\\]", "-", name).strip("'") or "Hoja"
    return cleaned[:31]


def save_workbook(
    book: Any, path: str | os.PathLike[str], *, date: dt.datetime | None = None, overwrite: bool
) -> Path:
    """Save ``book`` at ``path`` atomically, its text cells never formulas, dated ``date``.

    ``date`` (default :func:`document_date`) is stamped into the document properties and the
    zip members, so the same tables give the same bytes.
    """
    from .._atomic import atomic_path
    from .tables import set_workbook_text

    when = date or document_date()
    props = book.properties
    naive = when.astimezone(dt.UTC).replace(tzinfo=None) if when.tzinfo else when
    props.created = naive
    props.modified = naive
    props.creator = "parsc-geo"
    set_workbook_text(book)  # data text is text, never a formula
    target = Path(path)
    with atomic_path(target, overwrite=overwrite) as tmp:
        book.save(tmp)
        freeze_xlsx(tmp, when)
    return target


def write_workbook(
    path: str | os.PathLike[str],
    sheets: Mapping[str, Table | pd.DataFrame],
    *,
    synthetic: bool = False,
    date: dt.datetime | None = None,
    overwrite: bool = False,
) -> Path:
    """Write one table per sheet, formatted for people (see the module notes).

    Parameters
    ----------
    path
        The ``.xlsx`` file.
    sheets
        Sheet name → table (a :class:`Table`, or a DataFrame with default formats). Names are
        shortened to Excel's 31 characters.
    synthetic
        Put the synthetic-data banner above every table.
    date
        Document date (default :func:`document_date`).
    overwrite
        Replace an existing file.

    Returns
    -------
    pathlib.Path
    """
    book = new_workbook()
    for name, spec in sheets.items():
        table = spec if isinstance(spec, Table) else Table(spec)
        sheet = book.create_sheet(sheet_name(name))
        add_title(sheet, table.title, synthetic=synthetic)
        add_notes(sheet, table.notes)
        append_table(sheet, table.frame, number_formats=table.number_formats)
    return save_workbook(book, path, date=date, overwrite=overwrite)
