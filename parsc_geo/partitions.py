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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import MissingDependencyError

if TYPE_CHECKING:
    import geopandas as gpd

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
    """

    path: str
    key: str
    rows: int
    attrs: Mapping[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return self.rows

    def load(self) -> gpd.GeoDataFrame:
        """Read the partition back: the rows, index, columns, types and ``attrs`` written."""
        import geopandas as gpd

        frame = gpd.read_parquet(self.path)
        frame.attrs = dict(self.attrs)
        with _LOCK:
            _LOADED["rows"] += len(frame)
        return frame


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
        # the index travels (results refer to incidents by it) and so do the exact types
        frame.to_parquet(path, index=True)
        out.append(Partition(str(path), str(key), len(frame), dict(frame.attrs)))
    return out


class Rows:
    """Some rows of a table, cut only when a task takes them: what a task can carry instead.

    A list of tasks holding copies of overlapping row selections (the atlas pages: each
    province and comisaría with the incidents near it) keeps all the copies alive in this
    process until the last task is done. A :class:`Rows` holds the positions only; the rows
    are cut when the task is pickled for a worker (a process pool pickles a few tasks at a
    time, as it hands them out) or when the task runs here (:func:`materialise`). The worker
    receives the rows themselves: ``frame.iloc[positions]``, as a task would have carried them.

    Parameters
    ----------
    frame
        The table.
    positions
        Row positions (``iloc``), in the order wanted.
    """

    def __init__(self, frame: gpd.GeoDataFrame, positions: Any) -> None:
        self.frame = frame
        self.positions = positions

    def __len__(self) -> int:
        return len(self.positions)

    def load(self) -> gpd.GeoDataFrame:
        """Return the rows."""
        return self.frame.iloc[self.positions]

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # pickled (for a worker) as the rows themselves
        return _unchanged, (self.load(),)


def _unchanged(value: Any) -> Any:
    return value


def materialise(item: gpd.GeoDataFrame | Partition | Rows) -> gpd.GeoDataFrame:
    """Return the incidents of a task's item: loaded from its partition, cut, or as given."""
    return item.load() if isinstance(item, Partition | Rows) else item
