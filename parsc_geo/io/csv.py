"""CSV reader: comma, semicolon, tab or pipe; UTF-8 with or without BOM, or Latin-1."""

from __future__ import annotations

import csv as _csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import InputDataError
from ._table import RawTable

if TYPE_CHECKING:
    import pandas as pd

#: Marker put in front of the text of a row that had more fields than the header.
MALFORMED_MARKER = "\x00PARSC_MALFORMED\x00"
_DELIMITERS = (";", ",", "\t", "|")


def detect_encoding(head: bytes) -> str:
    """Return ``"utf-8-sig"``, ``"utf-8"`` or ``"cp1252"``/``"latin-1"`` for the start of a file.

    A UTF-8 byte-order mark gives ``utf-8-sig``; bytes that decode as UTF-8 give ``utf-8``;
    otherwise Windows-1252 (a superset of Latin-1 for printable text) when it decodes, else
    Latin-1, which decodes anything.
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


def read_csv(
    path: str | Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    progress: bool = False,
) -> RawTable:
    """Read a CSV file as text columns.

    Parameters
    ----------
    path
        The file.
    encoding, delimiter
        Force an encoding or delimiter; detected when None.
    progress
        Show a progress bar (bytes read) on stderr.

    Returns
    -------
    RawTable
        Every data row, as strings (empty cells as ``""``). Rows with more fields than the header
        are kept and marked in ``malformed`` so that the ingestion can quarantine them.
    """
    import numpy as np
    import pandas as pd

    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(1 << 20)
    except OSError as exc:
        raise InputDataError(f"no se puede leer {path}: {exc.strerror}") from exc
    if not head.strip():
        raise InputDataError(
            f"{path.name}: el archivo está vacío", hint="exporte los datos de nuevo"
        )
    enc = encoding or detect_encoding(head)
    text_head = head.decode(enc, errors="replace")
    first_line = text_head.lstrip("\ufeff").splitlines()[0] if text_head.strip() else ""
    sep = delimiter or detect_delimiter(first_line)
    n_header = len(next(_csv.reader([first_line], delimiter=sep)))

    def bad_line(fields: list[str]) -> list[str]:
        return [*fields[: n_header - 1], MALFORMED_MARKER + sep.join(fields)]

    def _read(handle: Any) -> pd.DataFrame:
        return pd.read_csv(
            handle,
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding=enc,
            encoding_errors="replace",
            engine="python" if ragged else "c",
            on_bad_lines=bad_line if ragged else "error",
            skip_blank_lines=True,
        )

    ragged = False
    try:
        df = _open_and_read(path, size, progress, _read)
    except pd.errors.ParserError:
        ragged = True
        df = _open_and_read(path, size, progress, _read)
    except pd.errors.EmptyDataError as exc:
        raise InputDataError(f"{path.name}: no se encontró la fila de encabezados") from exc
    df.columns = [str(c).replace("\ufeff", "").strip() for c in df.columns]
    malformed = None
    if ragged and len(df.columns):
        last = df.columns[-1]
        malformed = df[last].str.startswith(MALFORMED_MARKER).to_numpy()
        df.loc[malformed, last] = df.loc[malformed, last].str.slice(len(MALFORMED_MARKER))
    return RawTable(
        data=df,
        source=path.name,
        source_row=np.arange(1, len(df) + 1, dtype=np.int64),
        kind="csv",
        info={"format": "CSV", "encoding": enc, "delimiter": sep},
        malformed=malformed,
    )


def _open_and_read(
    path: Path, size: int, progress: bool, reader: Callable[[Any], pd.DataFrame]
) -> pd.DataFrame:
    from tqdm import tqdm

    with path.open("rb") as raw:
        if not progress:
            return reader(raw)
        with tqdm(
            total=size, unit="B", unit_scale=True, desc=path.name, leave=False, disable=None
        ) as bar:
            wrapped = _ProgressReader(raw, bar)
            return reader(wrapped)


class _ProgressReader(io.RawIOBase):
    """A binary reader that advances a tqdm bar as bytes are consumed."""

    def __init__(self, raw: io.BufferedReader, bar: Any) -> None:
        self._raw = raw
        self._bar = bar

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        n = self._raw.readinto(b)
        self._bar.update(n or 0)
        return n or 0
