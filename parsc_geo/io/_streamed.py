"""A file streamed by chunks of rows after a first pass, or read whole when it cannot be.

The shape shared by :class:`parsc_geo.io.excel.XlsxFile` and :class:`parsc_geo.io.kml.KmlFile`:
:meth:`StreamedFile.chunks` makes a first pass (:meth:`~StreamedFile._scan`: the columns, the
counts of the report), then yields the rows a chunk at a time from one stream
(:meth:`~StreamedFile._read`); a file the stream does not take (the first pass raises
:class:`ReadWhole` with the reason) is read at once (:meth:`~StreamedFile._read_whole`), in one
chunk. :meth:`StreamedFile.chunk` reads a chunk again (the ingestion asks again for the chunks
holding duplicates, in ascending order: the stream goes on from the last one read, and starts
again only for an earlier one).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ._table import RawTable

logger = logging.getLogger(__name__)

#: What the first pass found (the columns, the counts of the report …).
P = TypeVar("P")


def read_on(reader: Iterator[RawTable], done: int, k: int) -> tuple[RawTable, int]:
    """Read ``reader`` on to chunk ``k`` (``done`` chunks of it read); return it and ``k + 1``."""
    while True:
        table = next(reader)
        done += 1
        if done == k + 1:
            return table, done


class ReadWhole(Exception):
    """A file the streamed reading does not take: it is read whole (the message says why)."""


class StreamedFile(ABC, Generic[P]):
    """A file read by chunks of rows from one stream (see the module)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        #: why the file was read whole (None: streamed)
        self.whole_reason: str | None = None
        self._size: int | None = None
        self._whole: RawTable | None = None
        self._reader: Iterator[RawTable] | None = None
        self._next = 0
        #: what the first pass found (None: not made, or the file is read whole)
        self._plan: P | None = None

    def chunks(self, rows: int | None) -> Iterator[RawTable]:
        """Yield the rows ``rows`` at a time (None: read whole, in one chunk)."""
        self._size = rows
        self._reader = None
        if rows is not None:
            try:
                self._plan = self._scan()
            except ReadWhole as why:
                self.whole_reason = str(why)
                logger.info("%s: se lee entero (%s)", self.path.name, why)
                self._size = None
        if self._size is None:
            self._whole = self._read_whole()
            yield self._whole
            return
        self._whole = None
        yield from self._read()

    def chunk(self, k: int) -> RawTable:
        """Read chunk ``k`` of the last :meth:`chunks` again (onwards from the last one read)."""
        if self._size is None:
            if self._whole is None:
                self._whole = self._read_whole()
            return self._whole
        if self._reader is None or k < self._next:
            self._reader, self._next = self._read(), 0
        table, self._next = read_on(self._reader, self._next, k)
        return table

    def release(self) -> None:
        """Close the file a re-read of chunks keeps open."""
        self._reader = None

    @abstractmethod
    def _scan(self) -> P:
        """Make the first pass (raise :class:`ReadWhole` when the stream cannot take the file)."""

    @abstractmethod
    def _read(self) -> Iterator[RawTable]:
        """Yield the rows :attr:`_size` at a time from the file's start (:attr:`_plan` set)."""

    @abstractmethod
    def _read_whole(self) -> RawTable:
        """Return every row, read at once."""
