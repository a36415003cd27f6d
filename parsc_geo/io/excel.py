"""XLSX reader (openpyxl): the first sheet with data, or a named sheet; title rows skipped.

The header is the first non-empty row, unless a row below it (within
:data:`parsc_geo.io.csv.HEADER_SEARCH_LINES`) names more known columns and at least
:data:`parsc_geo.io.csv.HEADER_MIN_KNOWN` of them: Excel exports often carry a title and a date
above the table. The detection is announced; ``header_row`` (the Excel row number) forces one.

:func:`read_xlsx` reads the workbook whole (pandas' ``read_excel``); :class:`XlsxFile` streams
a large one's sheet a chunk of rows at a time (a distributed run's ingestion), giving the
same rows, cells and row numbers.
"""

from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from xml.etree.ElementTree import ParseError

from .._errors import InputDataError
from ._streamed import ReadWhole, StreamedFile
from ._table import RawTable, column_names
from .columns import known_column_count
from .csv import HEADER_MIN_KNOWN, HEADER_SEARCH_LINES

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    import pandas as pd

logger = logging.getLogger(__name__)


def _header_index(grid: pd.DataFrame, header_row: int | None, source: str) -> tuple[int, bool]:
    """Return the 0-based index of the header row in ``grid`` and whether it was detected."""
    filled = grid.notna().any(axis=1).to_numpy()
    return _find_header(
        lambda i: grid.iloc[i].tolist(), filled.tolist(), len(grid), header_row, source
    )


def _find_header(
    cells: Callable[[int], list[object]],
    filled: Sequence[bool],
    total: int,
    header_row: int | None,
    source: str,
) -> tuple[int, bool]:
    """Return the 0-based index of the header row and whether it was detected.

    ``cells(i)`` gives the cells of row ``i`` (missing ones NaN or None), ``filled`` whether
    each of the first rows holds a value (enough of them to decide: the header row asked for,
    or :data:`parsc_geo.io.csv.HEADER_SEARCH_LINES` filled rows) and ``total`` the rows of the
    sheet.
    """
    if header_row is not None:
        index = header_row - 1
        if not (0 <= index < total) or not filled[index]:
            raise InputDataError(
                f"{source}: la fila de encabezados {header_row} no existe o está vacía",
                hint="indique con --header-row el número de fila (de Excel) que tiene los "
                "nombres de columna",
            )
        return index, False
    rows = [i for i in range(len(filled)) if filled[i]]
    if not rows:
        return 0, False
    first = rows[0]
    first_known = known_column_count(cells(first))
    if first_known < HEADER_MIN_KNOWN:
        for i in rows[1:HEADER_SEARCH_LINES]:
            known = known_column_count(cells(i))
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
    info = _sheet_info(path.name, sheet_name, index, detected, skipped)
    header = grid.iloc[index].tolist() if len(grid) else []
    df = grid.iloc[index + 1 :].dropna(how="all")
    rows = df.index.to_numpy(dtype=np.int64) - index
    df = df.reset_index(drop=True).astype(object).where(df.notna().to_numpy(), "")
    df.columns = column_names(header) if len(header) else []
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


#: A workbook of this many bytes or more is read by :class:`XlsxFile` a chunk of rows at a
#: time, streamed from its XML (openpyxl's read-only mode), never whole.
STREAM_MIN_BYTES = 8 * 2**20
#: Data rows of a chunk of a workbook read by :class:`XlsxFile`.
CHUNK_ROWS = 250_000
#: Text cells pandas' ``read_excel`` reads as missing values (its default ``na_values``).
NA_TEXT: Final = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    }
)


def _sheet_info(
    name: str, sheet: object, index: int, detected: bool, skipped: Sequence[str]
) -> dict[str, object]:
    """Return the ``info`` of a sheet read (header row ``index``), said when found below titles.

    ``skipped``: the other sheets with data, not read (a warning).
    """
    if detected:
        logger.info(
            "%s: fila de encabezados detectada en la fila %d de la hoja (las de arriba son "
            "títulos); use --header-row para indicar otra",
            name,
            index + 1,
        )
    info: dict[str, object] = {
        "format": "XLSX",
        "sheet": str(sheet),
        "header_row": index + 1,
        "header_detected": detected,
    }
    if skipped:
        info["warnings"] = [
            f"el libro tiene otras hojas con datos que no se leyeron: {', '.join(skipped)}; "
            f"se leyó solo la hoja '{sheet}' (exporte cada hoja como CSV para importarla)"
        ]
    return info


@dataclass
class _SheetScan:
    """What a first pass over a sheet's rows found (as pandas' reading of the sheet)."""

    #: cells of the widest row, trailing empty cells not counted
    width: int = 0
    #: rows down to the last one with a cell that is not empty
    rows: int = 0
    #: rows with a value (not only missing values)
    filled: int = 0


@dataclass
class _SheetPlan:
    """The sheet a chunked read takes, its header row, columns and ``info``."""

    sheet: str
    scan: _SheetScan
    #: 0-based row of the column names
    header: int
    columns: list[str]
    info: dict[str, object]


def _cells(row: Sequence[Any]) -> tuple[list[object], int]:
    """Return a sheet row's values as pandas reads them (None: missing) and its trimmed width.

    Numbers are ``int`` when whole (else ``float``), error cells and the texts of
    :data:`NA_TEXT` missing; trailing empty cells do not count in the width.
    """
    values: list[object] = []
    width = 0
    for k, cell in enumerate(row):
        value = cell.value
        if value is None:
            values.append(None)
            continue
        kind = cell.data_type
        if kind == "e":
            values.append(None)
            width = k + 1
            continue
        if kind == "n":
            whole = int(value)
            value = whole if whole == value else float(value)
        elif isinstance(value, str):
            if value == "":
                values.append(None)
                continue
            if value in NA_TEXT:
                value = None
        values.append(value)
        width = k + 1
    return values, width


class XlsxFile(StreamedFile[_SheetPlan]):
    """A workbook's sheet read a chunk of rows at a time (:data:`CHUNK_ROWS`), never whole.

    :meth:`chunks` yields the data rows of the sheet :func:`read_xlsx` reads (the same
    choice of sheet, header row, columns, values, types, row numbers and ``info``) as
    :class:`RawTable` chunks, streamed from the workbook's XML by openpyxl's read-only mode: a
    first pass over the sheets finds the widest row (the columns) and the sheets' filled rows,
    a second one reads the rows. A workbook the streamed reading does not take (a chart sheet,
    a sheet that does not exist, an unreadable file …) is read whole by :func:`read_xlsx` in
    one chunk, with the reason in :attr:`whole_reason`. :meth:`chunk` reads chunk ``k``
    again.
    """

    def __init__(
        self, path: str | Path, *, sheet: str | int | None = None, header_row: int | None = None
    ) -> None:
        super().__init__(path)
        self.sheet = sheet
        self.header_row = header_row

    def _read_whole(self) -> RawTable:
        """Return every row, read at once (the file the stream does not take)."""
        return read_xlsx(self.path, sheet=self.sheet, header_row=self.header_row)

    def _scan(self) -> _SheetPlan:
        """Choose the sheet and its header row as :func:`read_xlsx` does, in a first pass."""
        book = self._open()
        try:
            names = list(book.sheetnames)
            if len(book.worksheets) != len(names):
                raise ReadWhole("el libro tiene hojas de gráficos")
            scans: dict[str, _SheetScan] = {}
            sheet = self.sheet
            if sheet is None:
                for name in names:
                    scans[name] = _scan_sheet(book[name])
                chosen = next((n for n in names if scans[n].filled > 1), None)
                if chosen is None:
                    raise ReadWhole("ninguna hoja tiene filas de datos")
                sheet_name: str | int = chosen
                skipped = [
                    f"'{n}' ({s.filled - 1} fila(s) bajo la primera)"
                    for n, s in scans.items()
                    if n != chosen and s.filled > 1
                ]
            else:
                if isinstance(sheet, str):
                    if sheet not in names:
                        raise ReadWhole(f"la hoja {sheet!r} no existe")
                    chosen = sheet
                elif 0 <= sheet < len(names):
                    chosen = names[sheet]
                else:
                    raise ReadWhole(f"la hoja {sheet} no existe")
                scans[chosen] = _scan_sheet(book[chosen])
                sheet_name = sheet
                skipped = []
            scan = scans[chosen]
            if not scan.rows:
                raise ReadWhole(f"la hoja {chosen!r} está vacía")
            head = _head_rows(book[chosen], scan, self.header_row)
        finally:
            book.close()
        index, detected = _find_header(
            lambda i: [float("nan") if v is None else v for v in head[i]],
            [any(v is not None for v in row) for row in head],
            scan.rows,
            self.header_row,
            self.path.name,
        )
        info = _sheet_info(self.path.name, sheet_name, index, detected, skipped)
        columns = column_names(head[index])
        return _SheetPlan(chosen, scan, index, columns, info)

    def _open(self) -> Any:
        from openpyxl import load_workbook

        try:
            return load_workbook(self.path, read_only=True, data_only=True, keep_links=False)
        except Exception as exc:  # read whole, it says why in Spanish
            raise ReadWhole(f"openpyxl no lo abre ({type(exc).__name__})") from exc

    def _read(self) -> Iterator[RawTable]:
        """Yield the data rows of the planned sheet, :attr:`_size` at a time."""
        assert self._plan is not None and self._size is not None
        plan, size = self._plan, self._size
        scan, index, columns, info = plan.scan, plan.header, plan.columns, plan.info
        width = scan.width
        try:
            book = self._open()
        except ReadWhole as why:  # opened by the first pass: the file changed since
            raise InputDataError(
                f"{self.path.name}: no se puede leer el libro ({why})",
                hint="guárdelo como .xlsx o exporte la hoja como CSV",
            ) from why
        try:
            ws = book[plan.sheet]
            ws.reset_dimensions()
            data: list[list[object]] = []
            numbers: list[int] = []
            sent = False
            for i, row in enumerate(ws.rows):
                if i >= scan.rows:
                    break
                if i <= index:
                    continue
                values, _ = _cells(row)
                if all(v is None for v in values):
                    continue
                values = values[:width] + [None] * (width - len(values))
                data.append(["" if v is None else v for v in values])
                numbers.append(i - index)
                if len(data) == size:
                    yield _table(self.path, data, numbers, columns, info)
                    data, numbers, sent = [], [], True
            if data or not sent:
                yield _table(self.path, data, numbers, columns, info)
        finally:
            book.close()


def _table(
    path: Path,
    data: list[list[object]],
    numbers: list[int],
    columns: list[str],
    info: dict[str, object],
) -> RawTable:
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(data, columns=columns, dtype=object)
    return RawTable(
        data=frame,
        source=path.name,
        source_row=np.asarray(numbers, dtype=np.int64),
        kind="xlsx",
        info=dict(info),
    )


def _scan_sheet(ws: Any) -> _SheetScan:
    """Return a sheet's widest row, last row with a cell and filled rows (one pass)."""
    scan = _SheetScan()
    ws.reset_dimensions()
    for i, row in enumerate(ws.rows):
        values, width = _cells(row)
        if width:
            scan.rows = i + 1
            scan.width = max(scan.width, width)
        if any(v is not None for v in values):
            scan.filled += 1
    return scan


def _head_rows(ws: Any, scan: _SheetScan, header_row: int | None) -> list[list[object]]:
    """Return the first rows of a sheet, enough to find its header row (widened to the sheet)."""
    head: list[list[object]] = []
    filled = 0
    ws.reset_dimensions()
    for i, row in enumerate(ws.rows):
        if i >= scan.rows:
            break
        values, _ = _cells(row)
        head.append(values[: scan.width] + [None] * (scan.width - len(values)))
        filled += any(v is not None for v in values)
        if header_row is not None:
            if i + 1 >= header_row:
                break
        elif filled >= HEADER_SEARCH_LINES:
            break
    return head
