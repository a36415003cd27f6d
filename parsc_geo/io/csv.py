"""The one CSV reader: every physical line accounted for, whatever the file does.

Rules
-----
- **Encoding** is decided on the whole file, not on its start: a byte-order mark (UTF-8,
  UTF-16 — Excel's "Unicode text" —, UTF-32) wins; UTF-16 without a mark is recognised by its
  zero bytes; a file that is valid UTF-8 throughout is UTF-8; a file with no valid UTF-8 text is
  Windows-1252 (Latin-1). A file that mixes both (lines pasted from two exports) is read line
  by line: lines that are not valid UTF-8 are read as Windows-1252, and
  :attr:`RawTable.info` lists them (``encoding_fallback_lines``), so nothing becomes ``�``.
- **Delimiter**: ``;``, ``,``, tab or ``|``, the most frequent one in the header line.
- **Header row**: the first non-blank line, unless it names fewer known columns than a line
  below it (a title row above the header, common in Excel exports): then the first line within
  :data:`HEADER_SEARCH_LINES` that names at least two known columns
  (:mod:`parsc_geo.io.columns`). The detection is announced; ``header_row`` forces a line.
- **Rows** are parsed strictly (:mod:`csv`, RFC 4180 quoting). A line whose opening quote is
  never closed (or closes in the middle of a field), or a quoted field that swallows lines
  which are complete rows by themselves, is a stray quote: that one line becomes a
  ``unbalanced_quote`` row and reading resumes on the next line, so one stray quote never
  swallows the rest of the file. A row with more (non-empty) fields than the header is a
  ``malformed_row`` (never a shift of every column); empty fields after the last column (a
  trailing delimiter) are dropped. Both keep their line number for the quarantine. Files
  whose rows are all one whole line are parsed by pandas' C parser, checked to give exactly
  one row per non-blank line; the others by :mod:`csv`, line by line.
- **Accounting**: lines above the header, the header, blank lines and the lines of every row
  add up to the physical lines of the file (checked on every read and recorded in ``info``).
"""

from __future__ import annotations

import csv as _csv
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from .._errors import InputDataError
from ._table import RawTable, column_names
from .columns import known_column_count

logger = logging.getLogger(__name__)

_DELIMITERS: Final = (";", ",", "\t", "|")
#: Lines searched for the header row below title rows.
HEADER_SEARCH_LINES: Final = 30
#: Known column names a line must hold to be taken as the header below title rows.
HEADER_MIN_KNOWN: Final = 2
#: Reader problems of a row (reason codes of :mod:`parsc_geo.ingest.report`).
TOO_MANY_FIELDS: Final = "malformed_row"
STRAY_QUOTE: Final = "unbalanced_quote"
_BOMS: Final = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def detect_encoding(head: bytes) -> str:
    """Return ``"utf-8-sig"``, ``"utf-8"`` or ``"cp1252"``/``"latin-1"`` for the start of a file.

    A UTF-8 byte-order mark gives ``utf-8-sig``; bytes that decode as UTF-8 give ``utf-8``;
    otherwise Windows-1252 (a superset of Latin-1 for printable text) when it decodes, else
    Latin-1, which decodes anything. :func:`decode_bytes` decides for a whole file.
    """
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the end of the sample is still UTF-8
        if exc.start >= len(head) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def detect_delimiter(header_line: str) -> str:
    """Return the delimiter of a CSV header line (the most frequent of ``; , TAB |``)."""
    counts = {d: header_line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ";"))
    return best if counts[best] > 0 else ","


@dataclass
class DecodedText:
    r"""A file's text and how it was decoded.

    Attributes
    ----------
    text
        The text, line ends normalised to ``\n``.
    encoding
        The encoding of the file (``utf-8``, ``utf-8-sig``, ``utf-16``, ``cp1252`` …).
    fallback_lines
        1-based physical lines that were not valid in ``encoding`` and were read as
        ``fallback_encoding`` (only for files that mix UTF-8 and Windows-1252 lines).
    fallback_encoding
        The encoding of those lines, or None.
    """

    text: str
    encoding: str
    fallback_lines: list[int] = field(default_factory=list)
    fallback_encoding: str | None = None


def _single_byte(line: bytes) -> tuple[str, str]:
    try:
        return line.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return line.decode("latin-1"), "latin-1"


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4096]
    half = len(sample) // 2
    if half < 2:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd > 0.4 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.4 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode_bytes(data: bytes, encoding: str | None = None, *, source: str = "") -> DecodedText:
    r"""Decode a whole file (see the module rules); line ends become ``\n``.

    Raises
    ------
    InputDataError
        A forced ``encoding`` (or a UTF-16/32 file) does not decode.
    """
    forced = (
        encoding
        or next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
        or _utf16_without_bom(data)
    )
    if forced is not None:
        try:
            text = data.decode(forced)
        except (UnicodeDecodeError, LookupError) as exc:
            where = ""
            if isinstance(exc, UnicodeDecodeError):
                line_number = data[: exc.start].count(b"\n") + 1
                where = f" (línea {line_number})"
            raise InputDataError(
                f"{source}: el archivo no se puede leer como {forced}{where}",
                hint="guárdelo de nuevo como UTF-8 (o quite la opción encoding para detectarla)",
            ) from exc
        return DecodedText(_normalise_newlines(text.lstrip("\ufeff")), forced)
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    parts: list[str] = []
    fallback: list[int] = []
    single = "cp1252"
    utf8_text = 0
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            parts.append(line.decode("ascii"))
            continue
        try:
            parts.append(line.decode("utf-8"))
            utf8_text += 1
        except UnicodeDecodeError:
            decoded, used = _single_byte(line)
            parts.append(decoded)
            fallback.append(number)
            single = "latin-1" if used == "latin-1" else single
    text = "\n".join(parts)
    if utf8_text == 0:
        return DecodedText(text, single)
    return DecodedText(text, "utf-8", fallback, single)


class _Feed:
    """An iterator over physical lines whose position can be moved (to resume after a row)."""

    __slots__ = ("lines", "pos")

    def __init__(self, lines: list[str], pos: int) -> None:
        self.lines = lines
        self.pos = pos

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        pos = self.pos
        if pos >= len(self.lines):
            raise StopIteration
        self.pos = pos + 1
        return self.lines[pos]


def _is_blank(fields: list[str]) -> bool:
    return not fields or (len(fields) == 1 and not fields[0].strip())


def _find_header(
    lines: list[str], header_row: int | None, delimiter: str | None, source: str
) -> tuple[int, str, bool]:
    """Return the 0-based header line, the delimiter and whether the header was detected."""
    if header_row is not None:
        index = header_row - 1
        if not 0 <= index < len(lines) or not lines[index].strip():
            raise InputDataError(
                f"{source}: la fila de encabezados {header_row} no existe o está vacía "
                f"(el archivo tiene {len(lines)} líneas)",
                hint="indique con --header-row el número de la línea que tiene los nombres de "
                "columna (la primera es 1)",
            )
        return index, delimiter or detect_delimiter(lines[index]), False
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise InputDataError(f"{source}: el archivo está vacío", hint="exporte los datos de nuevo")
    seps = (delimiter,) if delimiter else _DELIMITERS

    def score(index: int) -> tuple[int, str]:
        best = max(seps, key=lambda d: (known_column_count(_split_line(lines[index], d)), d == ";"))
        return known_column_count(_split_line(lines[index], best)), best

    first_score, _ = score(first)
    if first_score < HEADER_MIN_KNOWN:
        stop = min(len(lines), first + HEADER_SEARCH_LINES)
        for index in range(first + 1, stop):
            if not lines[index].strip():
                continue
            known, sep = score(index)
            if known >= HEADER_MIN_KNOWN and known > first_score:
                return index, sep, True
    return first, delimiter or detect_delimiter(lines[first]), False


@dataclass
class _Rows:
    """Rows parsed from the data lines of a file."""

    cells: list[list[str]] = field(default_factory=list)
    line: list[int] = field(default_factory=list)
    problem: list[str] = field(default_factory=list)
    problem_text: list[str] = field(default_factory=list)
    blank_lines: int = 0
    row_lines: int = 0
    multiline_rows: int = 0


def _problem_cells(text: str, sep: str, n: int) -> list[str]:
    return (text.split(sep) + [""] * n)[:n]


def _swallowed(lines: list[str], start: int, end: int, sep: str, n: int, n_fields: int) -> bool:
    r"""Whether a row over ``lines[start:end]`` swallowed lines that are whole rows themselves.

    A line inside the row that is a whole row by itself means a quote was left open. The last
    line (it holds the closing quote) counts when the row does not have the header's ``n``
    fields or its first line has the ``n`` fields of a row too: a quoted line break in a row of
    ``n`` fields whose first line is short is one row (``"\r0";;;;;`` as Python's csv writes it).
    """
    if n < 3:
        return False
    if any(len(_split_line(lines[i], sep)) == n for i in range(start + 1, end - 1)):
        return True
    if len(_split_line(lines[end - 1], sep)) != n:
        return False
    return n_fields != n or lines[start].count(sep) + 1 >= n


def _parse_rows(lines: list[str], first: int, sep: str, n: int) -> _Rows:
    """Parse the data lines ``lines[first:]`` into rows of ``n`` cells (see the module rules)."""
    rows = _Rows()
    feed = _Feed(lines, first)
    reader = _csv.reader(feed, delimiter=sep, strict=True)
    total = len(lines)
    while feed.pos < total:
        start = feed.pos
        fields: list[str] | None
        try:
            fields = next(reader)
        except StopIteration:
            break
        except _csv.Error:
            fields = None
        end = feed.pos
        multiline = fields is not None and end - start > 1
        if multiline and _swallowed(lines, start, end, sep, n, len(fields or ())):
            fields = None
        if fields is None and end - start == 1:
            lenient = _split_line(lines[start], sep)
            fields = lenient if len(lenient) == n else None
        if fields is None:
            # the row of the stray quote is set aside and reading resumes on the next line
            text = lines[start].rstrip("\n")
            rows.cells.append(_problem_cells(text, sep, n))
            rows.line.append(start + 1)
            rows.problem.append(STRAY_QUOTE)
            rows.problem_text.append(text)
            rows.row_lines += 1
            feed.pos = start + 1
            reader = _csv.reader(feed, delimiter=sep, strict=True)
            continue
        if _is_blank(fields):
            rows.blank_lines += end - start
            continue
        rows.row_lines += end - start
        rows.multiline_rows += end - start > 1
        rows.line.append(start + 1)
        if len(fields) > n and not any(fields[n:]):
            fields = fields[:n]  # empty fields after the last column (a trailing delimiter)
        if len(fields) > n:
            # the extra fields stay visible in the last column of the quarantined row
            rows.cells.append([*fields[: n - 1], sep.join(fields[n - 1 :])])
            rows.problem.append(TOO_MANY_FIELDS)
            rows.problem_text.append("".join(lines[start:end]).rstrip("\n"))
        else:
            rows.cells.append(fields + [""] * (n - len(fields)) if len(fields) < n else fields)
            rows.problem.append("")
            rows.problem_text.append("")
    return rows


def _split_line(line: str, sep: str) -> list[str]:
    """Split one physical line leniently (a quote that is never closed ends at the line end)."""
    try:
        return next(_csv.reader([line], delimiter=sep), [])
    except _csv.Error:
        return line.split(sep)


def _fast_frame(lines: list[str], first: int, sep: str, names: list[str]) -> tuple[Any, int] | None:
    """Parse the data lines with pandas' C parser when every row is one whole line.

    Returns the frame and the number of blank lines, or None when the careful parser is needed:
    a row with more fields than the header, a quoted field over several lines or a stray
    quote (fewer rows than non-blank lines), or characters the C parser reads differently.
    """
    import io

    import pandas as pd

    body = lines[first:]
    kept = [line for line in body if sep in line or line.strip()]
    text = "".join(kept)
    if "\x00" in text:
        return None
    # one more column than the header catches rows with extra fields: a row with more makes
    # pandas fail, or (on the first row) take a column as the index; both go to the careful path
    extra = "\x00extra"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = pd.read_csv(
                io.StringIO(text),
                sep=sep,
                header=None,
                names=[*names, extra],
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                engine="c",
            )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        return None
    if len(frame) != len(kept) or not isinstance(frame.index, pd.RangeIndex):
        return None
    if frame[extra].ne("").any():
        return None
    frame = frame.drop(columns=extra)
    if len(frame) and any(frame[c].str.contains("\n", regex=False).any() for c in frame.columns):
        return None
    return frame.reset_index(drop=True), len(body) - len(kept)


def read_csv(
    path: str | Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    header_row: int | None = None,
    progress: bool = False,
) -> RawTable:
    """Read a CSV file as text columns (see the module rules).

    Parameters
    ----------
    path
        The file.
    encoding, delimiter
        Force an encoding or delimiter; detected when None.
    header_row
        1-based line of the column names; detected when None (title rows above it skipped).
    progress
        Accepted for the readers' common signature; reading is a single pass in memory.

    Returns
    -------
    RawTable
        Every data row, as strings (empty cells ``""``), with ``line`` (first physical line of
        each row), and ``problem``/``problem_text`` for rows the parser could not delimit
        (``malformed_row``: more fields than the header; ``unbalanced_quote``: a stray quote).
        ``info`` records the encoding, delimiter, header row and the line accounting.

    Raises
    ------
    InputDataError
        The file is unreadable or empty, or its header row cannot be read (an unclosed quote).
    """
    import numpy as np
    import pandas as pd

    del progress
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputDataError(f"no se puede leer {path}: {exc.strerror}") from exc
    decoded = decode_bytes(data, encoding, source=path.name)
    if not decoded.text.strip():
        raise InputDataError(
            f"{path.name}: el archivo está vacío", hint="exporte los datos de nuevo"
        )
    lines = [line + "\n" for line in decoded.text.split("\n")]
    if decoded.text.endswith("\n"):
        lines.pop()
    index, sep, detected = _find_header(lines, header_row, delimiter, path.name)
    feed = _Feed(lines, index)
    try:
        header = next(_csv.reader(feed, delimiter=sep, strict=True))
    except _csv.Error as exc:
        raise InputDataError(
            f"{path.name}: no se puede leer la fila de encabezados (línea {index + 1}): "
            "tiene una comilla sin cerrar o el archivo está cortado",
            hint="revise la primera fila del archivo o expórtelo de nuevo",
        ) from exc
    header_lines = feed.pos - index
    names = column_names(header)
    if detected:
        logger.info(
            "%s: fila de encabezados detectada en la línea %d (las %d líneas de arriba son "
            "títulos); use --header-row para indicar otra",
            path.name,
            index + 1,
            index,
        )
    fast = _fast_frame(lines, feed.pos, sep, names)
    if fast is not None:
        df, blank = fast
        body_lines = np.flatnonzero(
            [sep in line or bool(line.strip()) for line in lines[feed.pos :]]
        )
        rows = _Rows(
            line=(body_lines + feed.pos + 1).tolist(),
            problem=[""] * len(df),
            problem_text=[""] * len(df),
            blank_lines=blank,
            row_lines=len(df),
        )
    else:
        rows = _parse_rows(lines, feed.pos, sep, len(names))
        df = None
        if rows.cells:
            df = pd.DataFrame(rows.cells, columns=names, dtype=str)
    if df is None or not len(df.columns):
        df = pd.DataFrame({name: pd.Series([], dtype=str) for name in names})
    accounted = index + header_lines + rows.blank_lines + rows.row_lines
    if accounted != len(lines) or len(rows.line) != len(df):
        raise AssertionError(f"{path.name}: {accounted} of {len(lines)} lines accounted for")
    problem = np.array(rows.problem, dtype=object)
    info: dict[str, object] = {
        "format": "CSV",
        "encoding": decoded.encoding,
        "delimiter": sep,
        "header_row": index + 1,
        "header_detected": detected,
        "lines": len(lines),
        "lines_above_header": index,
        "header_lines": header_lines,
        "blank_lines": rows.blank_lines,
        "row_lines": rows.row_lines,
        "multiline_rows": rows.multiline_rows,
    }
    if decoded.fallback_lines:
        info["encoding_fallback"] = decoded.fallback_encoding
        info["encoding_fallback_lines"] = decoded.fallback_lines
    return RawTable(
        data=df,
        source=path.name,
        source_row=np.arange(1, len(df) + 1, dtype=np.int64),
        kind="csv",
        info=info,
        malformed=problem != "",
        problem=problem,
        problem_text=np.array(rows.problem_text, dtype=object),
        line=np.array(rows.line, dtype=np.int64),
    )
