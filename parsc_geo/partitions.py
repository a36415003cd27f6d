"""Incidents split by province into files that each task reads itself (distributed runs).

On a cluster, sending every province's incidents from the main process to the workers costs
the main process a second copy of them (the pickled messages) and the network their whole
size at every fan-out. :func:`write_partitions` writes each province's incidents once into a
GeoParquet file of a folder that the workers see (this machine's temporary folder for a
``LocalCluster``, a shared file system for a cluster of machines); a task then carries a
:class:`Partition` (a path, a row count and the table's small ``attrs``) and loads its own
rows in the worker with :meth:`Partition.load`. A partition reads back the same table: the same
rows in the same order, the same index, columns, types and ``attrs``; the results, and so the
outputs, are those of the serial run.

Every process counts the incident rows it loaded from partitions (:func:`rows_loaded`): the
witness that the main process of a distributed run did not read them back.

GeoParquet needs ``pyarrow``, installed with the ``dask`` extra (``pip install
'parsc-geo[dask]'``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ._errors import MissingDependencyError

if TYPE_CHECKING:
    import geopandas as gpd

R = TypeVar("R")

#: Fewest incidents a task reads from partitions instead of carrying them (:class:`Partitioned`,
#: the backtest's months): below, pickling the rows costs less than a worker reading and
#: preparing them again (on the sample's provinces, a few thousand incidents each, reading
#: them added 2 s to the demo), and they weigh little in this process.
READ_MIN_ROWS = 50_000

#: Rows loaded from partitions by this process (see :func:`rows_loaded`).
_LOADED = {"rows": 0}
_LOCK = threading.Lock()


def rows_loaded() -> int:
    """Return the incident rows this process has loaded from partitions since it started."""
    return _LOADED["rows"]


@dataclass(frozen=True)
class Partition:
    """One province's incidents in a GeoParquet file: what a task carries instead of them.

    Attributes
    ----------
    path
        The GeoParquet file (a path the workers can open).
    key
        The province (or other group) whose incidents it holds.
    rows
        Its number of incidents (``len(partition)``, so tasks can be handed out largest first
        without reading it).
    attrs
        The ``attrs`` of the table it was cut from (study area, selection records…).
    crs
        The table's CRS, as the text it was made from (``EPSG:4326``…; None: none). The file
        itself records none: reading a CRS from a GeoParquet file parses its PROJJSON each
        time (20 ms, most of the time a small partition takes to read); a process parses
        this text once (:func:`_parsed_crs`) and sets it on every partition it reads.
    """

    path: str
    key: str
    rows: int
    attrs: Mapping[str, Any] = field(default_factory=dict)
    crs: str | None = None

    def __len__(self) -> int:
        return self.rows

    def load(
        self, columns: Collection[str] | None = None, positions: Any = None
    ) -> gpd.GeoDataFrame:
        """Read the partition back: the rows, index, columns, types and ``attrs`` written.

        ``columns``: read only those (the ones the partition has, in its order) and the
        geometry, as ``frame[[c for c in frame.columns if c in columns or c is the
        geometry]]`` would give them; None reads every column. ``positions``: only the rows
        at those positions, in that order, as ``.iloc[positions]`` would give them (cut
        from the file's columns before any becomes a Python object: a page near a province
        of a million incidents needs a quarter of them); None reads every row.
        """
        import geopandas as gpd

        wanted = None
        if columns is not None:
            import json

            import pyarrow.parquet as pq

            schema = pq.read_schema(self.path)
            geometry = json.loads(schema.metadata[b"geo"])["primary_column"]
            wanted = [c for c in schema.names if c in columns or c == geometry]
        if positions is None:
            frame = gpd.read_parquet(self.path, columns=wanted)
        else:
            frame = _read_rows(self.path, wanted, positions)
        if self.crs is not None:
            frame.set_crs(_parsed_crs(self.crs), allow_override=True, inplace=True)
        frame.attrs = dict(self.attrs)
        with _LOCK:
            _LOADED["rows"] += len(frame)
        return frame


@lru_cache(maxsize=8)
def _parsed_crs(text: str) -> Any:
    """Return the :class:`pyproj.CRS` of a CRS's text (``CRS.srs``), parsed once per process."""
    from pyproj import CRS

    return CRS.from_user_input(text)


def _read_rows(path: str, columns: list[str] | None, positions: Any) -> gpd.GeoDataFrame:
    """Return the rows at ``positions`` of a GeoParquet file (those ``columns``, None: all).

    The rows are taken from the Arrow table (the file's encoding: texts in buffers,
    geometries as WKB), then converted by geopandas' own reader from an in-memory copy of
    the cut, so that types, index and geometry come back as :func:`geopandas.read_parquet`
    gives them.
    """
    import io

    import geopandas as gpd
    import numpy as np
    import pyarrow.parquet as pq

    # the index columns come too (use_pandas_metadata), as geopandas reads them
    table = pq.read_table(path, columns=columns, use_pandas_metadata=True)
    table = table.take(np.asarray(positions, dtype=np.int64))
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    del table
    buffer.seek(0)
    return gpd.read_parquet(buffer)


def as_partitions(data: gpd.GeoDataFrame | Sequence[Partition]) -> Sequence[Partition] | None:
    """Return ``data`` when it is partitions, None when it is a table.

    A function that takes "the incidents" takes them in either form as its first argument:
    the table (a DataFrame), or the partitions holding it, every incident in one
    (:func:`write_partitions`, as a distributed run writes them), which its tasks read
    instead of this process (as :func:`parsc_geo.maps.atlas.write_atlas` does). Anything
    that is not a DataFrame is taken as a sequence of :class:`Partition`.
    """
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return None
    return data


def require_parquet() -> None:
    """Raise a Spanish error (exit 6) when ``pyarrow``, which writes partitions, is missing."""
    if not _has_pyarrow():
        raise MissingDependencyError(
            "la ejecución distribuida reparte los incidentes por provincia en archivos "
            "GeoParquet, que necesitan el paquete 'pyarrow', no instalado",
            hint="instale el complemento con: pip install 'parsc-geo[dask]'",
        )


def _has_pyarrow() -> bool:
    """Return whether ``pyarrow`` can be imported (without importing it)."""
    import importlib.util

    return importlib.util.find_spec("pyarrow") is not None


def write_partitions(
    groups: Sequence[tuple[str, gpd.GeoDataFrame]], folder: Path, *, prefix: str = "p"
) -> list[Partition]:
    """Write each ``(key, incidents)`` of ``groups`` as a GeoParquet file; return the partitions.

    The files are named by position (``<prefix>-0000.parquet``…), never by the key, so no text
    of the data reaches a file name. Empty groups are written too (their partition loads an
    empty table with the same columns).
    """
    require_parquet()
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k, (key, frame) in enumerate(groups):
        path = folder / f"{prefix}-{k:04d}.parquet"
        # the text the table's CRS was made from (EPSG:4326…): parsed, the same CRS
        crs = frame.crs.srs if frame.crs is not None else None
        # the index travels (results refer to incidents by it) and so do the exact types;
        # the CRS travels in the partition (see Partition.crs), not in the file
        written = frame if crs is None else frame.set_crs(None, allow_override=True)
        written.to_parquet(path, index=True)
        del written
        out.append(Partition(str(path), str(key), len(frame), dict(frame.attrs), crs))
    return out


class PartitionWriter:
    """Partitions written a chunk of rows at a time, each key's rows appended in order.

    A distributed run's ingestion (issue 17) splits each chunk of accepted incidents by
    province: this process holds a chunk, never a province. :meth:`append` converts a
    chunk's rows once and appends each key's share of them to that key's file (a Parquet
    row group each); :meth:`close` ends the files and returns the partitions as
    :func:`write_partitions` would for the joined rows (a key without rows gets an empty
    partition with the table's columns). The files' GeoParquet metadata records no bounding
    box and no geometry types (both optional: the rows were not all known when it was
    written).

    Parameters
    ----------
    folder
        Where the files are written (``<prefix>-0000.parquet``…, by the keys' positions).
    keys
        The partitions' keys, in order.
    prefix
        The files' names start with it.
    """

    def __init__(self, folder: Path, keys: Sequence[str], *, prefix: str = "p") -> None:
        require_parquet()
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.keys = [str(k) for k in keys]
        self.prefix = prefix
        self.rows = [0] * len(self.keys)
        self._writers: dict[int, Any] = {}
        self._metadata: dict[bytes, bytes] | None = None

    def _path(self, k: int) -> Path:
        return self.folder / f"{self.prefix}-{k:04d}.parquet"

    def append(self, frame: gpd.GeoDataFrame, groups: Sequence[tuple[int, Any]]) -> None:
        """Add rows of ``frame`` to the partitions: ``(k, positions)``, positions ascending.

        ``frame`` has the table's index, columns and types; the rows at ``positions`` go to
        partition ``k``, after the rows it already has.
        """
        import numpy as np
        import pyarrow.parquet as pq

        groups = [(k, np.asarray(rows)) for k, rows in groups if len(rows)]
        if not groups:
            return
        # one cut and one conversion of the chunk, in the order of the groups
        table = self._arrow(frame.iloc[np.concatenate([rows for _, rows in groups])])
        start = 0
        for k, rows in groups:
            writer = self._writers.get(k)
            if writer is None:
                writer = self._writers[k] = pq.ParquetWriter(self._path(k), table.schema)
            writer.write_table(table.slice(start, len(rows)))
            start += len(rows)
            self.rows[k] += len(rows)

    def _arrow(self, frame: gpd.GeoDataFrame) -> Any:
        """Return ``frame`` as the Arrow table its GeoParquet file holds (the first's metadata)."""
        import io
        import json

        import pyarrow.parquet as pq

        written = frame.set_crs(None, allow_override=True) if frame.crs is not None else frame
        if written is frame:
            written = frame.copy(deep=False)
        written.attrs = {}  # the partition carries them (Partition.attrs)
        buffer = io.BytesIO()
        written.to_parquet(buffer, index=True)
        del written
        buffer.seek(0)
        table = pq.read_table(buffer)
        if self._metadata is None:
            metadata = dict(table.schema.metadata)
            geo = json.loads(metadata[b"geo"])
            for column in geo["columns"].values():
                column.pop("bbox", None)
                column["geometry_types"] = []  # not known: rows of later chunks may differ
            metadata[b"geo"] = json.dumps(geo).encode()
            self._metadata = metadata
        return table.replace_schema_metadata(self._metadata)

    def close(self, empty: gpd.GeoDataFrame) -> list[Partition]:
        """End every partition's file; return the partitions (``attrs`` and CRS of ``empty``).

        ``empty``: the table without rows (columns, types, ``attrs`` and CRS), written for
        a key that got no rows.
        """
        crs = empty.crs.srs if empty.crs is not None else None
        out = []
        for k, key in enumerate(self.keys):
            path = self._path(k)
            writer = self._writers.pop(k, None)
            if writer is not None:
                writer.close()
            else:
                written = empty if crs is None else empty.set_crs(None, allow_override=True)
                written.to_parquet(path, index=True)
            out.append(Partition(str(path), key, self.rows[k], dict(empty.attrs), crs))
        return out


class Partitioned:
    """A table also written by province: each partition and the table positions of its rows.

    What lets a task carry some rows of the table (a :class:`Rows`) as the partitions that
    hold them and their positions there, instead of the rows: the worker reads them itself
    (:func:`gather`), and this process pickles no copy of them. Rows in no partition (a
    province outside the study area) make a task carry its rows as before.

    Parameters
    ----------
    frame
        The table.
    parts
        ``(partition, positions)``: the partition written from ``frame.iloc[positions]``,
        positions ascending, no position in two partitions.
    """

    def __init__(self, frame: gpd.GeoDataFrame, parts: Sequence[tuple[Partition, Any]]) -> None:
        import numpy as np

        self.frame = frame
        self.partitions = [partition for partition, _ in parts]
        #: each row's partition (-1: none) and its position in it
        self.owner = np.full(len(frame), -1, dtype=np.int64)
        self.local = np.zeros(len(frame), dtype=np.int64)
        for k, (_, positions) in enumerate(parts):
            self.owner[positions] = k
            self.local[positions] = np.arange(len(positions))

    def rows(self, positions: Any, columns: Collection[str] | None = None) -> Rows:
        """Return the rows at ``positions`` (ascending) as a task carries them.

        Read from the partitions by the worker when there are :data:`READ_MIN_ROWS` or more;
        fewer travel as the rows themselves. ``columns``: as :class:`Rows`.
        """
        source = self if len(positions) >= READ_MIN_ROWS else None
        return Rows(self.frame, positions, source=source, columns=columns)

    def pieces(self, positions: Any) -> tuple[list[tuple[Partition, Any]], Any] | None:
        """Return where the rows at ``positions`` are, or None when one is in no partition.

        ``(pieces, order)``: the ``(partition, positions in it)`` pieces, and the order that
        puts the pieces' rows back in the order of ``positions``.
        """
        import numpy as np

        positions = np.asarray(positions, dtype=np.int64)
        owners = self.owner[positions]
        if not len(positions) or (owners < 0).any():
            return None
        pieces, taken = [], []
        for k in np.unique(owners):
            mine = positions[owners == k]
            pieces.append((self.partitions[int(k)], self.local[mine]))
            taken.append(mine)
        order = np.argsort(np.concatenate(taken), kind="stable") if taken else None
        return pieces, order


class Rows:
    """Some rows of a table, cut only when a task takes them: what a task can carry instead.

    A list of tasks holding copies of overlapping row selections (the atlas pages: each
    province and comisaría with the incidents near it) keeps all the copies alive in this
    process until the last task is done. A :class:`Rows` holds the positions only; the rows
    are cut when the task is pickled for a worker (a process pool pickles a few tasks at a
    time, as it hands them out) or when the task runs here (:func:`materialise`). The worker
    receives the rows themselves: ``frame.iloc[positions]``, as a task would have carried them;
    or, when the table is also written by province (``source``), where to read them, and
    reads them itself (:func:`gather`: the same rows, in the same order, with the same types).

    Parameters
    ----------
    frame
        The table.
    positions
        Row positions (``iloc``), in the order wanted (ascending when ``source`` is given).
    source
        The table's partitions (:class:`Partitioned`), or None.
    columns
        The only columns the task reads besides the geometry (those the table has; see
        :func:`parsc_geo.incidents.only_columns`), or None for all: the rows are cut, sent
        and read with those only.
    """

    def __init__(
        self,
        frame: gpd.GeoDataFrame,
        positions: Any,
        source: Partitioned | None = None,
        columns: Collection[str] | None = None,
    ) -> None:
        self.frame = frame
        self.positions = positions
        self.source = source
        self.columns = frozenset(columns) if columns is not None else None

    def __len__(self) -> int:
        return len(self.positions)

    def load(self) -> gpd.GeoDataFrame:
        """Return the rows."""
        from .incidents import only_columns

        frame = self.frame if self.columns is None else only_columns(self.frame, self.columns)
        return frame.iloc[self.positions]

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        where = self.source.pieces(self.positions) if self.source is not None else None
        if where is not None:
            # read by the worker from the partitions: this process pickles no rows
            return gather, (*where, self.columns)
        # pickled (for a worker) as the rows themselves
        return _unchanged, (self.load(),)


def gather(
    pieces: Sequence[tuple[Partition, Any]],
    order: Any,
    columns: Collection[str] | None = None,
) -> gpd.GeoDataFrame:
    """Return the rows of ``pieces`` (partition, positions in it) put in ``order``.

    The rows that :class:`Rows` pickled as pieces (see :meth:`Partitioned.pieces`), with
    its ``columns`` only (None: all).
    """
    import numpy as np
    import pandas as pd

    frames = []
    for partition, positions in pieces:
        whole = len(positions) == partition.rows and np.array_equal(
            positions, np.arange(partition.rows)
        )
        frames.append(partition.load(columns, positions=None if whole else positions))
    if len(frames) == 1:
        return frames[0]
    attrs = frames[0].attrs
    rows = pd.concat(frames).iloc[order]
    rows.attrs = dict(attrs)
    return rows


def _unchanged(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Pieces:
    """Some rows of a table known only by the partitions that hold them: what a task carries.

    Where :class:`Rows` cuts the rows from a table held here, these are read by whoever loads
    them (:func:`gather`, in the worker): what a distributed run's tasks carry when this
    process does not hold the table.

    Attributes
    ----------
    pieces
        ``(partition, positions in it)``, positions ascending; at least one piece (one with no
        positions gives the table's columns and no row).
    order
        The order that puts the pieces' rows back in the table's order (None: one piece).
    columns
        The only columns read besides the geometry (None: all).
    """

    pieces: tuple[tuple[Partition, Any], ...]
    order: Any = None
    columns: frozenset[str] | None = None

    @classmethod
    def in_index_order(
        cls,
        found: Sequence[tuple[Partition, Any, Any]],
        columns: Collection[str] | None = None,
    ) -> Pieces:
        """Return the rows ``(partition, positions, their index values)`` in index order.

        The partitions keep the table's index, ascending and without repeats in a
        distributed run's table, so sorting the rows by it puts them in the table's order.
        ``found`` must hold one item at least; items without positions are left out (the
        first is kept when all are empty: its columns, no row).
        """
        import numpy as np

        kept = [item for item in found if len(item[1])] or [found[0]]
        order = None
        if len(kept) > 1:
            index = np.concatenate([np.asarray(values) for _, _, values in kept])
            order = np.argsort(index, kind="stable")
        chosen = frozenset(columns) if columns is not None else None
        pieces = tuple((p, np.asarray(positions, dtype=np.int64)) for p, positions, _ in kept)
        return cls(pieces, order, chosen)

    def __len__(self) -> int:
        return int(sum(len(positions) for _, positions in self.pieces))

    def load(self) -> gpd.GeoDataFrame:
        """Return the rows (read from the partitions)."""
        return gather(self.pieces, self.order, self.columns)


def materialise(item: gpd.GeoDataFrame | Partition | Rows | Pieces) -> gpd.GeoDataFrame:
    """Return the incidents of a task's item: loaded from its partition(s), cut, or as given."""
    return item.load() if isinstance(item, Partition | Rows | Pieces) else item


def _partition_task(item: tuple[Callable[..., Any], Partition, Any, tuple[Any, ...]]) -> Any:
    """Run ``function(incidents, *args)`` on one partition's incidents (a worker's task)."""
    function, partition, columns, args = item
    return function(partition.load(columns), *args)


def map_partitions(
    function: Callable[..., R],
    partitions: Sequence[Partition],
    *,
    pool: Any = 1,
    columns: Collection[str] | None = None,
    args: tuple[Any, ...] = (),
) -> list[R]:
    """Return ``[function(p.load(columns), *args) for p in partitions]``, run by ``pool``.

    How a distributed run computes what it needs of all its incidents without holding them:
    each task reads its own partition (in a worker), applies ``function`` (defined at module
    level, so that it pickles by name) and returns a small result (counts, a few arrays)
    that the caller combines. The results are in the order of ``partitions``; the largest
    partitions are handed out first.

    Parameters
    ----------
    function
        ``function(incidents, *args)``: what to compute on one partition's incidents.
    partitions
        The partitions (see :func:`write_partitions`).
    pool
        A :class:`parsc_geo.parallel.WorkerPool` (or Dask pool), or a number of workers.
    columns
        The only columns to read besides the geometry (None: all).
    args
        Further arguments of ``function`` (sent with each task).

    Examples
    --------
    >>> import tempfile, geopandas as gpd
    >>> from shapely.geometry import Point
    >>> frame = gpd.GeoDataFrame({"n": [1, 2, 3]}, geometry=[Point(0, 0)] * 3, crs=4326)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     parts = write_partitions([("a", frame.iloc[:2]), ("b", frame.iloc[2:])], Path(folder))
    ...     map_partitions(len, parts)
    [2, 1]
    """
    from .parallel import worker_pool

    items = [(function, p, columns, args) for p in partitions]
    with worker_pool(pool) as running:
        return running.map_largest_first(
            _partition_task,
            items,
            size=lambda item: item[1].rows,
            held=lambda item: item[1].rows,
        )
