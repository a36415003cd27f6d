"""Checks across rows by hash buckets on disk: duplicates without every row's keys in memory.

When the accepted rows of an ingestion wait on disk (``ingest_files(..., spill=folder)``, a
distributed run), their keys wait there too: each chunk's ids go to one of
:data:`KEY_BUCKETS` files by a hash of the id, and the place, time, type and modalidad of its
rows that could repeat another's (known time, coordinates) go to one by a hash of the place
and time. Equal ids, and equal places and times, always share a bucket, so each bucket is
checked alone, in row order, by the rules of :func:`parsc_geo.ingest.checks.duplicate_mask`
(ids first: a duplicate id is never a place-time-type duplicate as well), with the same
result as over every row at once. This process holds a bucket's keys at a time and two flags
per row, instead of five columns of every row and the groups of all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

#: Number of bucket files per key (ids; places and times). A bucket holds about 1/16 of the
#: rows: 460,000 of the 7.4 million complaints of six national years.
KEY_BUCKETS: Final = 16


def _bucket_of(hashes: np.ndarray, n: int) -> np.ndarray:
    import numpy as np

    return (hashes % np.uint64(n)).astype(np.int64)


@dataclass
class KeyBuckets:
    """The keys of the kept rows, appended a chunk at a time to bucket files in ``folder``.

    Rows are numbered in the order they are added (their position among every kept row).
    ``buckets``: the number of files per key (0: :data:`KEY_BUCKETS`).
    """

    folder: Path
    buckets: int = 0
    rows: int = 0
    _writers: dict[tuple[str, int], Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.buckets <= 0:
            self.buckets = KEY_BUCKETS

    def add(
        self,
        ids: pd.Series,
        occurred: pd.Series,
        time_known: np.ndarray,
        kind: pd.Series,
        modalidad: pd.Series,
        lon: np.ndarray,
        lat: np.ndarray,
        derived: np.ndarray,
    ) -> None:
        """Append the keys of the next ``len(ids)`` rows."""
        import numpy as np
        import pandas as pd
        import pyarrow as pa

        n = len(ids)
        numbers = np.arange(self.rows, self.rows + n, dtype=np.int64)
        self.rows += n
        ids = pd.Series(ids, copy=False).reset_index(drop=True)
        # hashed as Python texts, whatever the column's type in this chunk
        texts = ids.to_numpy(dtype=object)
        by_id = _bucket_of(pd.util.hash_array(texts), self.buckets)
        self._append("id", by_id, pa.table({"row": numbers, "id": pa.array(ids, from_pandas=True)}))
        # only rows with a known time and coordinates can repeat a place, time and type
        candidate = np.asarray(time_known, dtype=bool) & np.isfinite(lon)
        if not candidate.any():
            return
        rows = np.flatnonzero(candidate)
        when = pd.DatetimeIndex(occurred).asi8[rows]
        x, y = lon[rows], lat[rows]
        # equal places (to 1e-6 degree, as the rule rounds them) and times, equal hashes: the
        # rounded coordinates as integers (-0.0 and 0.0 alike), a missing latitude as one value
        xi = np.round(x * 1e6).astype(np.int64)
        yi = np.where(np.isfinite(y), np.round(np.nan_to_num(y) * 1e6), 2.0**62).astype(np.int64)
        place = pd.DataFrame({"x": xi, "y": yi, "t": when})
        hashes = pd.util.hash_pandas_object(place, index=False).to_numpy()
        by_place = _bucket_of(hashes, self.buckets)
        table = pa.table(
            {
                "row": numbers[rows],
                "lon": x,
                "lat": y,
                "t": when,
                "g": pa.array(pd.Series(kind, copy=False).take(rows), from_pandas=True),
                "m": pa.array(pd.Series(modalidad, copy=False).take(rows), from_pandas=True),
                "derived": np.asarray(derived, dtype=bool)[rows],
            }
        )
        self._append("place", by_place, table)

    def _append(self, key: str, bucket: np.ndarray, table: Any) -> None:
        import numpy as np
        import pyarrow as pa

        order = np.argsort(bucket, kind="stable")
        bounds = np.searchsorted(bucket[order], np.arange(self.buckets + 1))
        for b in range(self.buckets):
            if bounds[b] == bounds[b + 1]:
                continue
            part = table.take(pa.array(order[bounds[b] : bounds[b + 1]]))
            writer = self._writers.get((key, b))
            if writer is None:
                path = self.folder / f"claves-{key}-{b:03d}.arrow"
                writer = self._writers[(key, b)] = pa.ipc.new_file(str(path), part.schema)
            writer.write_table(part)

    def _read(self, key: str) -> Any:
        """Yield each non-empty bucket of ``key`` as a pandas frame, rows in their order."""
        import pyarrow as pa

        for (name, b), writer in sorted(self._writers.items()):
            if name != key:
                continue
            writer.close()
            path = self.folder / f"claves-{key}-{b:03d}.arrow"
            with pa.memory_map(str(path)) as source:
                frame = pa.ipc.open_file(source).read_all().to_pandas()
            path.unlink()
            yield frame

    def duplicates(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the masks of :func:`~parsc_geo.ingest.checks.duplicate_mask` over every row.

        The bucket files are removed as they are read.
        """
        import numpy as np

        from .checks import place_time_type_duplicates

        dup_id = np.zeros(self.rows, dtype=bool)
        for frame in self._read("id"):
            dup_id[frame["row"].to_numpy()[frame["id"].duplicated(keep="first").to_numpy()]] = True
        dup_ptt = np.zeros(self.rows, dtype=bool)
        for frame in self._read("place"):
            eligible = ~dup_id[frame["row"].to_numpy()]
            if not eligible.any():
                continue
            sub = frame[eligible]
            dup = place_time_type_duplicates(
                sub["lon"].to_numpy(),
                sub["lat"].to_numpy(),
                sub["t"].to_numpy(),
                sub["g"],
                sub["m"],
                sub["derived"].to_numpy(),
            )
            dup_ptt[sub["row"].to_numpy()[dup]] = True
        self._writers.clear()
        return dup_id, dup_ptt

    def close(self) -> None:
        """Close the files still open (after a failure; the caller removes the folder)."""
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
