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
  trailing delimiter) are dropped. Both keep their line number for the quarantine. The rules
  are those of the line-by-line parser (:mod:`csv`); text whose rows are all one whole line is
  parsed faster by pandas' C parser, checked to give exactly one row per non-blank line and,
  on every line holding a quote, the cells :mod:`csv` gives.
- **Chunks**: :class:`CsvFile` hands out the rows of a large file by chunks of text
  (:data:`CHUNK_CHARS`), so that a file of millions of rows is validated with bounded memory.
  A row is never cut: a quoted field that runs past the end of a chunk is read to its end,
  and a stray quote near the end of a chunk is set aside as in the whole file. The rows, their
  cells, lines and problems are the same for any chunk size (:func:`read_csv` reads the file
  as one chunk). A large file (:data:`STREAM_MIN_BYTES`) in UTF-8 or Windows-1252 is never
  decoded whole: a first pass decides its encoding as above, block by block, and each chunk is
  read from disk and decoded when it is parsed (the same lines, whatever the line ends); files
  in other encodings, or that mix UTF-8 and Windows-1252 lines, are decoded whole. A file that
  changes while it is read is an error.
- **Accounting**: lines above the header, the header, blank lines and the lines of every row
  add up to the physical lines of the file (checked on every read and recorded in ``info``).
"""

from __future__ import annotations

import codecs
import csv as _csv
import logging
import os
import re
import warnings
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .._errors import InputDataError
from ._table import RawTable, column_names
from .columns import known_column_count

if TYPE_CHECKING:
    import numpy as np

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
#: Longest field the csv module reads (its default, 131,072 characters, would turn a long
#: quoted description over several lines into a stray quote and one row per line).
FIELD_SIZE_LIMIT: Final = 2**31 - 1


if _csv.field_size_limit() < FIELD_SIZE_LIMIT:
    _csv.field_size_limit(FIELD_SIZE_LIMIT)  # process-wide; only ever raised


def _reader(lines: Iterator[str] | list[str], sep: str) -> Iterator[list[str]]:
    """Return the strict csv reader of the careful parser."""
    return _csv.reader(lines, delimiter=sep, strict=True)


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


def _has_utf8_sequence(data: bytes, block: int = 1 << 24) -> bool:
    """Whether ``data`` holds a UTF-8 lead byte followed by a continuation byte anywhere.

    Every character of valid UTF-8 beyond ASCII starts so; text without one is ASCII or a
    single-byte encoding throughout.
    """
    import numpy as np

    arr = np.frombuffer(data, dtype=np.uint8)
    for start in range(0, max(len(arr) - 1, 0), block):
        part = arr[start : start + block + 1]
        lead = (part[:-1] >= 0xC2) & (part[:-1] <= 0xF4)
        if (lead & ((part[1:] & 0xC0) == 0x80)).any():
            return True
    return False


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
    if not _has_utf8_sequence(data):
        # no line can be valid UTF-8 beyond ASCII: every line is read as Windows-1252, as the
        # loop below would read them, in one pass
        try:
            return DecodedText(data.decode("cp1252"), "cp1252")
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
    """An iterator over physical lines whose position can be moved (to resume after a row).

    When ``more`` is given, the lines run on past the end of ``lines``: ``more()`` returns the
    next lines of the file (empty at its end) and they are appended, so a row that starts in
    one chunk of a file may end in the next, as it would in the whole file.
    """

    __slots__ = ("lines", "more", "pos")

    def __init__(
        self, lines: list[str], pos: int, more: Callable[[], list[str]] | None = None
    ) -> None:
        self.lines = lines
        self.pos = pos
        self.more = more

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        pos = self.pos
        if pos >= len(self.lines):
            extra = self.more() if self.more is not None else []
            if not extra:
                raise StopIteration
            self.lines.extend(extra)
        self.pos = pos + 1
        return self.lines[pos]


def _split_lines(text: str) -> tuple[list[str], str]:
    r"""Return the lines of a piece of text without their ``\n``, and the text ending in one."""
    if not text.endswith("\n"):
        text += "\n"
    parts = text.split("\n")
    parts.pop()
    return parts, text


class _Lines(ABC):
    r"""What :class:`_Text` and :class:`_FileText` share: lines handed out by :meth:`piece`."""

    __slots__ = ()

    @abstractmethod
    def piece(
        self, start: int, chars: int | None, stop: int | None = None
    ) -> tuple[list[str], str, int]:
        r"""Return the lines from ``start`` (without ``\n``), their text and the offset after."""

    def lines(self, start: int, chars: int | None) -> tuple[list[str], int]:
        r"""Return the lines of :meth:`piece`, each ending in ``\n``, and the offset after them."""
        parts, _, stop = self.piece(start, chars)
        return [part + "\n" for part in parts], stop


class _Text(_Lines):
    r"""A decoded file's text handed out as lists of physical lines, each ending in ``\n``."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    @property
    def end(self) -> int:
        """The offset after the text (its length)."""
        return len(self.text)

    def piece(
        self, start: int, chars: int | None, stop: int | None = None
    ) -> tuple[list[str], str, int]:
        r"""Return the lines from offset ``start`` over at least ``chars`` characters.

        All the rest of the text when ``chars`` is None; the lines up to offset ``stop`` (the
        end of a piece handed out before) when it is given. Returns the lines without their
        ``\n``, their text (each line ending in ``\n``, also the last line of a file) and the
        offset after them.
        """
        text = self.text
        if start >= len(text):
            return [], "", len(text)
        if stop is not None:
            chars = stop - start
        if chars is None:
            stop = len(text)
        else:
            nl = text.find("\n", start + max(chars, 1) - 1)
            stop = len(text) if nl < 0 else nl + 1
        parts, piece = _split_lines(text[start:stop])
        return parts, piece, stop

    def after(self, start: int, lines: list[str]) -> int:
        """Return the offset after ``lines``, lines handed out from offset ``start`` on."""
        return min(start + sum(len(line) for line in lines), len(self.text))

    def line_count(self) -> int:
        """Return the number of physical lines (a last line end ends no line)."""
        text = self.text
        return text.count("\n") + (1 if text and not text.endswith("\n") else 0)


#: Files of at least this many bytes are read from disk a piece at a time (:class:`_FileText`)
#: when they are UTF-8 (with or without a byte-order mark) or Windows-1252 throughout; smaller
#: files, and files in any other encoding, are decoded whole.
STREAM_MIN_BYTES = 32 * 2**20
#: Bytes read at once by a pass over a whole file.
_SCAN_BYTES: Final = 1 << 24
#: Fewest bytes read from disk for a piece of text (and by which a line is read on to its end).
_MIN_READ: Final = 1 << 16
_UTF8_BOM: Final = b"\xef\xbb\xbf"


def _changed(source: str) -> InputDataError:
    return InputDataError(
        f"{source}: el archivo cambió mientras se leía",
        hint="impórtelo de nuevo cuando ningún programa lo esté escribiendo",
    )


@dataclass
class _Scan:
    """What one pass over a whole file found (see :func:`_scan`)."""

    encoding: str
    start: int
    size: int
    mtime_ns: int
    digest: tuple[int, int]
    lines: int
    blank: bool


def _digest(data: bytes, digest: tuple[int, int]) -> tuple[int, int]:
    return zlib.crc32(data, digest[0]), zlib.adler32(data, digest[1])


def _file_digest(path: Path) -> tuple[int, int, int]:
    """Return the checksums of a file's bytes and its modification time (ns)."""
    digest = (0, 1)
    with path.open("rb") as handle:
        mtime = os.fstat(handle.fileno()).st_mtime_ns
        while block := handle.read(_SCAN_BYTES):
            digest = _digest(block, digest)
    return digest[0], digest[1], mtime


def _scan(path: Path, encoding: str, start: int, source: str) -> _Scan | None:
    r"""Read a whole file once, a block at a time: None when it is not text in ``encoding``.

    ``encoding`` is ``utf-8``, ``utf-8-sig`` (the text starts at byte ``start``, after the
    byte-order marks) or ``cp1252``: then None too when the file holds a UTF-8 sequence (a
    lead byte before a continuation byte), as :func:`decode_bytes` decides. Counts the lines
    of the text (line ends ``\r\n``, ``\r`` and ``\n``), whether it is only white space, and
    checksums of the file's bytes (to find a file changed while it is read).

    Raises
    ------
    InputDataError
        The file changed during the pass.
    """
    single_byte = encoding == "cp1252"
    decoder = codecs.getincrementaldecoder("cp1252" if single_byte else "utf-8")()
    digest = (0, 1)
    newlines = 0
    blank = True
    last = b""
    with path.open("rb") as handle:
        before = os.fstat(handle.fileno())
        head = handle.read(start)
        digest = _digest(head, digest)
        while block := handle.read(_SCAN_BYTES):
            digest = _digest(block, digest)
            if single_byte and _has_utf8_sequence(last + block):
                return None
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError:
                return None
            if blank and text and not text.isspace():
                blank = False
            newlines += block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")
            if last == b"\r" and block.startswith(b"\n"):
                newlines -= 1  # a \r\n across two blocks
            last = block[-1:]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return None
        after = os.fstat(handle.fileno())
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
        raise _changed(source)
    size = after.st_size
    lines = newlines + (1 if size > start and last not in (b"\n", b"\r") else 0)
    return _Scan(encoding, start, size, after.st_mtime_ns, digest, lines, blank)


def _line_end_after(buf: bytes | bytearray, pos: int) -> int:
    r"""Return the index after the first line end at or after ``pos``, or -1 when none is sure.

    A ``\r`` that is the last byte of ``buf`` may be the start of ``\r\n``: -1.
    """
    nl = buf.find(b"\n", pos)
    cr = buf.find(b"\r", pos, nl if nl >= 0 else len(buf))
    if cr < 0:
        return nl + 1 if nl >= 0 else -1
    if cr + 1 < len(buf):
        return cr + 2 if buf[cr + 1] == 0x0A else cr + 1
    return -1


def _line_ends(raw: bytes) -> int:
    r"""Return the number of line ends (``\r\n``, ``\r``, ``\n``) in bytes cut at line ends."""
    return raw.count(b"\n") + raw.count(b"\r") - raw.count(b"\r\n")


def _lines_bytes(raw: bytes, k: int) -> int:
    r"""Return the length of the first ``k`` (>= 1) lines of ``raw`` (bytes cut at a line end)."""
    import numpy as np

    arr = np.frombuffer(raw, dtype=np.uint8)
    ends = arr == 0x0A
    if b"\r" in raw:
        # a \r is a line end unless a \n follows it (a \r last in raw is one: raw is cut so)
        ends |= (arr == 0x0D) & ~np.append(ends[1:], False)
    return int(np.flatnonzero(ends)[k - 1]) + 1


class _FileText(_Lines):
    r"""A file's text read from disk a piece at a time, as :class:`_Text` hands it out.

    Offsets are byte offsets in the file; every offset handed out is at a line end, so a
    piece never starts inside a ``\r\n`` or a multi-byte character. Each piece is decoded and
    its line ends normalised to ``\n`` as :func:`decode_bytes` does for the whole file, so the
    lines are the same. Each read checks that the file's size and modification time are those
    of the first pass (:func:`_scan`), and, when they are not, that its bytes are the same.

    Raises
    ------
    InputDataError
        The file changed since the first pass (reading a piece, or :meth:`verify`).
    """

    __slots__ = ("_codec", "path", "scan", "source")

    def __init__(self, path: Path, scan: _Scan, source: str) -> None:
        self.path = path
        self.scan = scan
        self.source = source
        self._codec = "cp1252" if scan.encoding == "cp1252" else "utf-8"

    @property
    def end(self) -> int:
        """The offset after the text (the file's size)."""
        return self.scan.size

    def verify(self) -> None:
        """Check that the file's bytes are those of the first pass.

        Raises
        ------
        InputDataError
            They are not.
        """
        try:
            crc, adler, mtime = _file_digest(self.path)
        except OSError as exc:
            raise _changed(self.source) from exc
        if (crc, adler) != self.scan.digest:
            raise _changed(self.source)
        self.scan.mtime_ns = mtime  # the same bytes (the file was touched or copied over)

    def _read(self, start: int, size: int, *, whole_lines: bool = True) -> bytes:
        """Return the bytes from ``start``: ``size`` of them, read on to a line end."""
        try:
            with self.path.open("rb") as handle:
                stat = os.fstat(handle.fileno())
                if (stat.st_size, stat.st_mtime_ns) != (self.scan.size, self.scan.mtime_ns):
                    self.verify()
                handle.seek(start)
                data = handle.read(size)
                if not whole_lines or len(data) < size:
                    return data  # the end of the file
                buf = bytearray(data)
                pos = len(buf) - 1
                while (cut := _line_end_after(buf, pos)) < 0:
                    more = handle.read(_MIN_READ)
                    if not more:
                        return bytes(buf)
                    pos = len(buf) - 1 if buf.endswith(b"\r") else len(buf)
                    buf += more
                return bytes(buf[:cut])
        except OSError as exc:
            raise _changed(self.source) from exc

    def _decode(self, raw: bytes) -> str:
        text = raw.decode(self._codec)
        if b"\r" in raw:
            text = _normalise_newlines(text)
        return text

    def piece(
        self, start: int, chars: int | None, stop: int | None = None
    ) -> tuple[list[str], str, int]:
        r"""Return the lines from offset ``start`` over at least ``chars`` characters.

        As :meth:`_Text.piece`: ``chars`` counts characters of the decoded text, so a piece
        holds the lines :class:`_Text` would give; ``stop`` is a byte offset.
        """
        end = self.end
        if start >= end:
            return [], "", end
        if chars is None or stop is not None:
            stop = end if stop is None else stop
            text = self._decode(self._read(start, stop - start, whole_lines=False))
        else:
            need = max(chars, 1)
            texts: list[str] = []
            got = 0
            pos = start
            while raw := self._read(pos, max(need - got, _MIN_READ)):
                text = self._decode(raw)
                if got + len(text) < need:
                    texts.append(text)
                    got += len(text)
                    pos += len(raw)
                    continue
                nl = text.find("\n", need - got - 1)
                if 0 <= nl < len(text) - 1:
                    text = text[: nl + 1]
                    pos += _lines_bytes(raw, text.count("\n"))
                else:
                    pos += len(raw)
                texts.append(text)
                break
            stop = pos
            text = "".join(texts)
            del texts
        parts, text = _split_lines(text)
        return parts, text, stop

    def after(self, start: int, lines: list[str]) -> int:
        """Return the offset after ``lines``, lines handed out from offset ``start`` on."""
        left = len(lines)
        pos = start
        # a line's bytes are at least its characters (but for the line end added to the last
        # line of a file without one, which the end of the file stops)
        size = max(sum(len(line) for line in lines), 1)
        while left > 0 and (raw := self._read(pos, size)):
            ends = _line_ends(raw)
            if ends >= left:
                return pos + _lines_bytes(raw, left)
            left -= ends
            pos += len(raw)
            size = _MIN_READ
        return min(pos, self.end)

    def line_count(self) -> int:
        """Return the number of physical lines (a last line end ends no line)."""
        return self.scan.lines


def _stream_text(path: Path, source: str) -> _FileText | None:
    """Return the text of a large file read from disk by pieces, or None to decode it whole.

    None for a file below :data:`STREAM_MIN_BYTES`, with a UTF-16/32 byte-order mark or zero
    bytes, or that is neither valid UTF-8 nor Windows-1252 without UTF-8 sequences (a file
    that mixes them): :func:`decode_bytes` reads those. Otherwise the encoding is the one
    :func:`decode_bytes` would give.
    """
    try:
        size = path.stat().st_size
        if size < STREAM_MIN_BYTES:
            return None
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return None
    bom = next((enc for mark, enc in _BOMS if head.startswith(mark)), None)
    scan: _Scan | None
    if bom == "utf-8-sig":
        start = 0
        while head.startswith(_UTF8_BOM, start):
            start += len(_UTF8_BOM)  # decode_bytes strips every leading U+FEFF
        if start >= len(head):
            return None
        scan = _scan(path, "utf-8-sig", start, source)
    elif bom is not None or _utf16_without_bom(head) is not None:
        return None
    else:
        scan = _scan(path, "utf-8", 0, source) or _scan(path, "cp1252", 0, source)
    return None if scan is None else _FileText(path, scan, source)


def _is_blank(fields: list[str]) -> bool:
    return not fields or (len(fields) == 1 and not fields[0].strip())


def _find_header(
    lines: list[str],
    header_row: int | None,
    delimiter: str | None,
    source: str,
    total: int | None = None,
) -> tuple[int, str, bool]:
    """Return the 0-based header line, the delimiter and whether the header was detected.

    ``lines`` are the first lines of the file (at least :data:`HEADER_SEARCH_LINES` after the
    first non-blank one, or up to ``header_row``); ``total`` is the file's line count (default
    ``len(lines)``).
    """
    total = len(lines) if total is None else total
    if header_row is not None:
        index = header_row - 1
        if not 0 <= index < min(total, len(lines)) or not lines[index].strip():
            raise InputDataError(
                f"{source}: la fila de encabezados {header_row} no existe o está vacía "
                f"(el archivo tiene {total} líneas)",
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


def _leading_lines(text: _Text | _FileText, header_row: int | None) -> tuple[list[str], int]:
    """Return the first lines of a file, as many as :func:`_find_header` looks at."""
    lines: list[str] = []
    offset = 0
    first: int | None = None
    while True:
        more, offset = text.lines(offset, 1)
        if not more:
            return lines, offset
        lines.extend(more)
        if first is None and more[0].strip():
            first = len(lines) - 1
        need = header_row if header_row is not None else None
        if need is None and first is not None:
            need = first + HEADER_SEARCH_LINES
        if need is not None and len(lines) >= need:
            return lines, offset


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
    #: lines consumed (a row may run past the chunk into lines appended by ``more``)
    consumed: int = 0


def _problem_cells(text: str, sep: str, n: int) -> list[str]:
    return (text.split(sep) + [""] * n)[:n]


def _swallowed(lines: list[str], start: int, end: int, sep: str, n: int, n_fields: int) -> bool:
    r"""Whether a row over ``lines[start:end]`` swallowed lines that are whole rows themselves.

    A line inside the row that is a whole row by itself, without a quote, means a quote was
    left open (a line with quotes that the strict reader accepted closes and opens quoted
    fields: ``0";;;;;"`` inside ``"\n0";;;;;"\n"``). The last line (it holds the closing quote)
    counts when the row does not have the header's ``n`` fields or its first line has the ``n``
    fields of a row too: a quoted line break in a row of ``n`` fields whose first line is short
    is one row (``"\r0";;;;;`` as Python's csv writes it).
    """
    if n < 3:
        return False
    if any(
        '"' not in lines[i] and len(_split_line(lines[i], sep)) == n
        for i in range(start + 1, end - 1)
    ):
        return True
    if len(_split_line(lines[end - 1], sep)) != n:
        return False
    return n_fields != n or lines[start].count(sep) + 1 >= n


def _parse_rows(
    lines: list[str],
    first: int,
    sep: str,
    n: int,
    *,
    more: Callable[[], list[str]] | None = None,
) -> _Rows:
    """Parse the data lines ``lines[first:]`` into rows of ``n`` cells (see the module rules).

    With ``more``, the last row may run on into the lines ``more`` returns (see :class:`_Feed`);
    rows are read up to the first row boundary at or after the end of ``lines``.
    """
    rows = _Rows()
    feed = _Feed(lines, first, more)
    reader = _reader(feed, sep)
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
            reader = _reader(feed, sep)
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
    rows.consumed = feed.pos
    return rows


def _split_line(line: str, sep: str) -> list[str]:
    """Split one physical line leniently (a quote that is never closed ends at the line end)."""
    try:
        return next(_csv.reader([line], delimiter=sep), [])
    except _csv.Error:
        return line.split(sep)


def _careful_row(line: str, sep: str, n: int) -> list[str] | None:
    """Return the cells :func:`_parse_rows` gives a line that is one row by itself, or None.

    None when the careful parser would not read the line as a row of its own: a blank line, a
    stray quote, a row with more fields than the header, or a quote left open at its end.
    """
    reader = _csv.reader([line], delimiter=sep, strict=True)
    try:
        fields = next(reader)
        if next(reader, None) is not None:
            return None
    except _csv.Error:
        # an open quote at the end of the line raises too: the careful parser would read on
        lenient = _split_line(line, sep)
        if len(lenient) != n or line.count('"') % 2:
            return None
        fields = lenient
    if _is_blank(fields):
        return None
    if len(fields) > n and not any(fields[n:]):
        fields = fields[:n]
    if len(fields) > n:
        return None
    return fields + [""] * (n - len(fields)) if len(fields) < n else fields


def _quoted_lines_agree(
    lines: list[str], rows: np.ndarray, values: np.ndarray, sep: str, n: int
) -> bool:
    """Whether the careful parser gives the fast parser's cells on every line with a quote.

    A line without a quote is split on the delimiter by both parsers alike; quotes are where
    pandas' C parser and :mod:`csv` may read a line differently (``"a"b``, a line ``""``).
    ``rows[i]`` is the frame row of ``lines[i]`` and ``values`` the frame's cells.
    """
    quoted = [i for i, line in enumerate(lines) if '"' in line]
    if not quoted:
        return True
    cells = values[rows[quoted]].tolist()
    for i, fast in zip(quoted, cells, strict=True):
        line = lines[i] if lines[i].endswith("\n") else lines[i] + "\n"
        if _careful_row(line, sep, n) != fast:
            return False
    return True


#: A line end, then a line of white space only (or nothing), then its line end.
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")


def _fast_rows(
    lines: list[str], sep: str, names: list[str], text: str | None = None
) -> tuple[Any, np.ndarray] | None:
    r"""Parse lines with pandas' C parser when every row is one whole line.

    ``lines`` are physical lines (with or without their ``\n``) and ``text`` their joined
    text when the caller has it. Returns the frame and the 0-based index of each row's line,
    or None when the careful parser is needed: a row with more fields than the header, a
    quoted field over several lines or a stray quote (fewer rows than non-blank lines), a NUL
    character, or a line with quotes that :mod:`csv` reads differently. Where it returns a
    frame, its cells are those :func:`_parse_rows` gives, line for line.
    """
    import io

    import numpy as np
    import pandas as pd

    if text is None:
        text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    if "\x00" in text:
        return None
    n_lines = len(lines)
    # a blank line is the first line, or follows a line end (text ends with one)
    maybe_blank = (bool(lines) and not lines[0].strip()) or bool(_BLANK_LINE.search(text))
    if maybe_blank:
        keep = np.fromiter(
            (sep in line or bool(line.strip()) for line in lines), dtype=bool, count=n_lines
        )
        kept = np.flatnonzero(keep)
        if len(kept) < n_lines:
            text = "".join(lines[i] if lines[i].endswith("\n") else lines[i] + "\n" for i in kept)
    else:
        kept = np.arange(n_lines)
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
    if '"' in text and len(frame):
        row_of = np.full(n_lines, -1, dtype=np.int64)
        row_of[kept] = np.arange(len(kept))
        if not _quoted_lines_agree(lines, row_of, frame.to_numpy(dtype=object), sep, len(names)):
            return None
    return frame.reset_index(drop=True), kept


def _fast_frame(lines: list[str], first: int, sep: str, names: list[str]) -> tuple[Any, int] | None:
    """Parse ``lines[first:]`` with :func:`_fast_rows`; return the frame and the blank lines."""
    body = lines[first:]
    fast = _fast_rows(body, sep, names)
    if fast is None:
        return None
    frame, kept = fast
    return frame, len(body) - len(kept)


#: Characters of text parsed at once when a file is read by chunks (about 130,000 rows of a
#: police export; a few hundred MB of memory while they are parsed and checked).
CHUNK_CHARS: Final = 8_000_000


@dataclass
class _ChunkPlace:
    """Where a chunk starts and ends in the text, for parsing it again."""

    offset: int
    end: int
    line: int
    row: int


class CsvFile:
    """A CSV file opened for reading: encoding, delimiter and header decided; rows by chunks.

    Parameters
    ----------
    path
        The file.
    encoding, delimiter
        Force an encoding or delimiter; detected when None.
    header_row
        1-based line of the column names; detected when None (title rows above it skipped).

    Notes
    -----
    :meth:`chunks` yields the rows of about ``chunk_chars`` characters of text at a time. A row
    is never split: one whose quoted field runs past the end of a chunk is finished with the
    lines after it. The rows, their cells, line numbers and problems are the same whatever the
    chunk size (the whole file is one chunk with ``chunk_chars=None``, as :func:`read_csv`
    reads it). :attr:`info` is complete once every chunk has been read; :meth:`chunk` parses
    a chunk again (to recover raw rows without keeping them).

    Raises
    ------
    InputDataError
        The file is unreadable or empty, or its header row cannot be read (an unclosed quote).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        encoding: str | None = None,
        delimiter: str | None = None,
        header_row: int | None = None,
    ) -> None:
        path = Path(path)
        self.path = path
        self.source = path.name
        self._encoding = encoding
        self._text_chars = self._text_hash = 0
        text: _Text | _FileText
        streamed = None if encoding is not None else _stream_text(path, self.source)
        self._streamed = streamed
        if streamed is not None:
            text = streamed
            blank, decoded = streamed.scan.blank, DecodedText("", streamed.scan.encoding)
        else:
            decoded = self._decode()
            blank = not decoded.text or decoded.text.isspace()
            text = _Text(decoded.text)
            self._text_chars = len(decoded.text)
            self._text_hash = hash(decoded.text)
            decoded.text = ""
        if blank:
            raise InputDataError(
                f"{path.name}: el archivo está vacío", hint="exporte los datos de nuevo"
            )
        self._text: _Text | _FileText | None = text
        self._end = text.end
        self.lines_total = text.line_count()
        head, _ = _leading_lines(text, header_row)
        index, sep, detected = _find_header(
            head, header_row, delimiter, path.name, self.lines_total
        )
        start = text.after(0, head[:index])
        feed = _Feed([], 0, self._more_from(start, 4096))
        try:
            header = next(_reader(feed, sep))
        except (_csv.Error, StopIteration) as exc:
            raise InputDataError(
                f"{path.name}: no se puede leer la fila de encabezados (línea {index + 1}): "
                "tiene una comilla sin cerrar o el archivo está cortado",
                hint="revise la primera fila del archivo o expórtelo de nuevo",
            ) from exc
        header_lines = feed.pos
        self.sep = sep
        self.names = column_names(header)
        self._data_offset = text.after(start, feed.lines[:header_lines])
        self._data_line = index + header_lines
        if detected:
            logger.info(
                "%s: fila de encabezados detectada en la línea %d (las %d líneas de arriba son "
                "títulos); use --header-row para indicar otra",
                path.name,
                index + 1,
                index,
            )
        self.info: dict[str, Any] = {
            "format": "CSV",
            "encoding": decoded.encoding,
            "delimiter": sep,
            "header_row": index + 1,
            "header_detected": detected,
            "lines": self.lines_total,
            "lines_above_header": index,
            "header_lines": header_lines,
            "blank_lines": 0,
            "row_lines": 0,
            "multiline_rows": 0,
        }
        if decoded.fallback_lines:
            self.info["encoding_fallback"] = decoded.fallback_encoding
            self.info["encoding_fallback_lines"] = decoded.fallback_lines
        self._places: list[_ChunkPlace] = []

    def _decode(self) -> DecodedText:
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise InputDataError(f"no se puede leer {self.path}: {exc.strerror}") from exc
        return decode_bytes(data, self._encoding, source=self.source)

    @property
    def _body(self) -> _Text | _FileText:
        """The text; after :meth:`release`, decoded again (or checked) from the file.

        Raises
        ------
        InputDataError
            The file changed since it was opened.
        """
        if self._text is None:
            if self._streamed is not None:
                self._streamed.verify()
                self._text = self._streamed
                return self._text
            text = self._decode().text
            if len(text) != self._text_chars or hash(text) != self._text_hash:
                raise _changed(self.source)
            self._text = _Text(text)
        return self._text

    def release(self) -> None:
        """Let go of the file's text (a large file's text is as large as the file).

        :meth:`chunk` decodes the file again when it is needed. A large file read from disk
        by pieces holds no text: its bytes are checked again instead.
        """
        self._text = None

    def _more_from(self, offset: int, chars: int | None) -> Callable[[], list[str]]:
        """Return a function handing out the lines from ``offset`` on, ``chars`` at a time."""
        where = [offset]

        def more() -> list[str]:
            lines, where[0] = self._body.lines(where[0], chars)
            return lines

        return more

    def chunks(self, chunk_chars: int | None = CHUNK_CHARS) -> Iterator[RawTable]:
        """Yield the rows by chunks of about ``chunk_chars`` characters (None: one chunk).

        At least one chunk is yielded (with no rows when the file has only its header). The
        line accounting is checked after the last chunk.
        """
        for key in ("blank_lines", "row_lines", "multiline_rows"):
            self.info[key] = 0
        self._places = []
        offset, line, row = self._data_offset, self._data_line, 0
        text_end = self._end
        while True:
            table, place, counts = self._parse(offset, line, row, chunk_chars)
            self._places.append(place)
            for key in ("blank_lines", "row_lines", "multiline_rows"):
                self.info[key] += counts[key]
            yield table
            offset, line, row = place.end, place.line + counts["lines"], row + len(table.data)
            if offset >= text_end:
                break
        accounted = self._data_line + self.info["blank_lines"] + self.info["row_lines"]
        if accounted != self.lines_total:
            raise AssertionError(
                f"{self.source}: {accounted} of {self.lines_total} lines accounted for"
            )

    def chunk(self, k: int) -> RawTable:
        """Parse chunk ``k`` of the last :meth:`chunks` again (the same rows and cells)."""
        place = self._places[k]
        table, again, _ = self._parse(place.offset, place.line, place.row, None, stop=place.end)
        assert again.end == place.end
        return table

    def _parse(
        self, offset: int, line0: int, row0: int, chars: int | None, stop: int | None = None
    ) -> tuple[RawTable, _ChunkPlace, dict[str, int]]:
        import numpy as np
        import pandas as pd

        body = self._body
        parts, piece, end = body.piece(offset, chars, stop)
        names, sep = self.names, self.sep
        fast = _fast_rows(parts, sep, names, piece) if parts else None
        del piece
        if fast is not None:
            df, kept = fast
            n_lines = len(parts)
            row_line = kept + line0 + 1
            counts = {
                "blank_lines": n_lines - len(kept),
                "row_lines": len(kept),
                "multiline_rows": 0,
                "lines": n_lines,
            }
            problem = np.full(len(df), "", dtype=object)
            problem_text = problem
        else:
            lines = [part + "\n" for part in parts]
            rows = _parse_rows(lines, 0, sep, len(names), more=self._more_from(end, chars or 4096))
            if rows.consumed > len(parts):
                # the last row ran on into the next lines: the chunk ends after it
                end = body.after(offset, lines[: rows.consumed])
            df = None
            if rows.cells:
                df = pd.DataFrame(rows.cells, columns=names, dtype=str)
            if df is None or not len(df.columns):
                df = pd.DataFrame({name: pd.Series([], dtype=str) for name in names})
            row_line = np.array(rows.line, dtype=np.int64) + line0
            counts = {
                "blank_lines": rows.blank_lines,
                "row_lines": rows.row_lines,
                "multiline_rows": rows.multiline_rows,
                "lines": rows.consumed,
            }
            problem = np.array(rows.problem, dtype=object)
            problem_text = np.array(rows.problem_text, dtype=object)
            if len(row_line) != len(df):
                raise AssertionError(f"{self.source}: rows and their lines differ")
        table = RawTable(
            data=df,
            source=self.source,
            source_row=np.arange(row0 + 1, row0 + len(df) + 1, dtype=np.int64),
            kind="csv",
            info=self.info,
            malformed=problem != "",
            problem=problem,
            problem_text=problem_text,
            line=np.asarray(row_line, dtype=np.int64),
        )
        return table, _ChunkPlace(offset, end, line0, row0), counts


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

    See Also
    --------
    CsvFile : the same rows read by chunks.
    """
    del progress
    reader = CsvFile(path, encoding=encoding, delimiter=delimiter, header_row=header_row)
    (table,) = list(reader.chunks(None))
    return table
