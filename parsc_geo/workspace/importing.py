"""The rules of an import, whatever stores the workspace.

:class:`ImportRules` decides, from what the workspace already holds, which accepted incidents
are new, which quarantine rows an import replaces and what the import log records; each
backend writes what it decides inside its own transaction
(:meth:`parsc_geo.workspace.base.WorkspaceBackend.import_incidents`).

The accepted incidents come as one table or as the partitions holding it
(:class:`parsc_geo.partitions.Partition`, one per ingestion chunk, as a distributed run
writes them): :func:`accepted_chunks` gives them one chunk at a time, and
:meth:`ImportRules.new_rows` takes one chunk at a time, keeping counts of it and no rows, so
that an import never holds every incident at once. A table is the one-chunk case: the rules,
the rows added and the counts are those of its partitions imported in order.

The rules: only accepted ``incident_id`` values are de-duplicated (an incident already stored
is never added twice, nor one id twice: the first row of each id is kept); a file imported
before (same SHA-256) is evaluated again, so that its rows accepted now come in, and its
quarantine rows replace those of its earlier imports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from ..partitions import Partition


@dataclass
class ImportPlan:
    """What one import writes besides its new incidents (see :meth:`ImportRules.plan`).

    Attributes
    ----------
    quarantine_new
        The import's quarantine rows, with the ``sha256`` of their file.
    quarantine_kept
        None when the quarantine only grows (append ``quarantine_new``); otherwise the
        stored rows to keep, and the quarantine becomes ``quarantine_kept`` then
        ``quarantine_new`` (rows of earlier imports of re-imported files are dropped).
    log
        One import-log row per file.
    summary
        The counts returned by ``import_incidents``.
    """

    quarantine_new: pd.DataFrame
    quarantine_kept: pd.DataFrame | None
    log: pd.DataFrame
    summary: dict[str, Any]

    def replaced_quarantine(self) -> pd.DataFrame:
        """Return the whole new quarantine table (only when ``quarantine_kept`` is set)."""
        assert self.quarantine_kept is not None
        return concat_tables(self.quarantine_kept, self.quarantine_new)


def accepted_chunks(
    accepted: gpd.GeoDataFrame | Sequence[Partition],
) -> Iterator[tuple[gpd.GeoDataFrame, bool]]:
    """Yield the accepted incidents one chunk at a time, and whether more chunks follow.

    A table is one chunk; partitions (:func:`parsc_geo.partitions.as_partitions`) are
    loaded one at a time, in order, each when the previous one has been handled (the caller
    drops its references to a chunk before asking for the next).
    """
    from ..partitions import as_partitions

    parts = as_partitions(accepted)
    if parts is None:
        yield cast("gpd.GeoDataFrame", accepted), False
        return
    for k, part in enumerate(parts):
        yield part.load(), k + 1 < len(parts)


def first_occurrences(values: pd.Series) -> np.ndarray:
    """Return ``~values.duplicated(keep="first")``: True for the first row of each value.

    pandas looks for duplicates among Arrow-backed text (its ``str`` type) through an array
    of one Python string per row (about 350 MB for five million incident ids); pyarrow's
    dictionary encoding numbers the distinct values instead, and a row comes first when it is
    the first with its number. Missing values count as one value, as in pandas.
    """
    import numpy as np
    import pandas as pd

    if not isinstance(values.dtype, pd.StringDtype) or values.dtype.storage != "pyarrow":
        return ~values.duplicated(keep="first").to_numpy()
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa.array(values.array)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    codes = pc.dictionary_encode(array, null_encoding="encode").indices.to_numpy()
    first = np.zeros(len(values), dtype=bool)
    first[np.unique(codes, return_index=True)[1]] = True
    return first


def is_in(values: pd.Series, members: Collection[str]) -> np.ndarray:
    """Return ``values.isin(members).to_numpy()``, looked up row by row in a larger set.

    pandas tests Arrow-backed text against a collection by turning every member into an
    Arrow value first (about 1 µs each): checked against a million stored ids, each chunk of
    an import would pay a second. Looking the chunk's values up in the set costs its own
    rows only, with the same answer.
    """
    import numpy as np

    if isinstance(members, set | frozenset) and len(members) > len(values):
        return np.fromiter(
            map(members.__contains__, values.tolist()), dtype=bool, count=len(values)
        )
    return np.asarray(values.isin(members), dtype=bool)


class ImportRules:
    """The rules of one import, applied to its accepted incidents chunk by chunk.

    Reads what it needs of the workspace when made (the import log; the quarantine when a
    file is imported again); then :meth:`new_rows` is given each chunk of the accepted
    incidents in order, with the incident ids stored so far, and returns the rows to add;
    :meth:`plan` returns the rest of the import and its counts. Between chunks it keeps
    counts per file, and for re-imported files one flag per row they left in the quarantine
    (whether an accepted row has its ``source_row``), never incident rows.

    Parameters
    ----------
    quarantine, sources
        As given to ``import_incidents``.
    previous_imports
        The import log as stored.
    read_quarantine
        Returns the stored quarantine; called only when a file is imported again.
    """

    def __init__(
        self,
        quarantine: pd.DataFrame,
        *,
        sources: list[dict[str, Any]],
        previous_imports: pd.DataFrame,
        read_quarantine: Callable[[], pd.DataFrame],
    ) -> None:
        import numpy as np
        import pandas as pd

        known_sha = set(previous_imports["sha256"].astype(str)) if len(previous_imports) else set()
        self.sources = sources
        self.again = [s for s in sources if str(s.get("sha256")) in known_sha]
        self.again_sha = {str(s.get("sha256")) for s in self.again}
        self.quarantine = quarantine

        old_q = read_quarantine() if self.again else quarantine.iloc[:0]
        if len(old_q):
            old_sha = (
                old_q["sha256"].astype(str)
                if "sha256" in old_q.columns
                else old_q["source"].astype(str).map(_sha_by_source(previous_imports))
            )
            replaced = np.asarray(old_sha.isin(self.again_sha), dtype=bool)
        else:
            replaced = np.zeros(0, dtype=bool)
        self.old_quarantine = old_q
        self.replaced = replaced
        #: per file, the ``source_row`` of its rows replaced in the quarantine, and whether
        #: an accepted row of the file has it
        self._before: dict[str, pd.Series] = {}
        self._now_accepted: dict[str, np.ndarray] = {}
        for s in sources:
            name = str(s["source"])
            if name in self._before or not len(old_q):
                continue
            before = old_q[replaced & (old_q["source"].astype(str) == name).to_numpy()]
            self._before[name] = (
                before["source_row"].astype(int) if len(before) else pd.Series(dtype="int64")
            )
            self._now_accepted[name] = np.zeros(len(before), dtype=bool)
        #: accepted rows, and rows added, so far (in all, per file)
        self.rows_accepted = 0
        self.rows_new = 0
        self._accepted_of: Counter[str] = Counter()
        self._new_of: Counter[str] = Counter()

    def new_rows(self, chunk: gpd.GeoDataFrame, stored_ids: Collection[str]) -> gpd.GeoDataFrame:
        """Return the rows of ``chunk`` to add, and count them.

        Parameters
        ----------
        chunk
            The next chunk of the accepted incidents (the whole table is one chunk).
        stored_ids
            The incident ids stored, including those added from earlier chunks of this
            import (all of them, or at least those of ``chunk``).

        Returns
        -------
        GeoDataFrame
            The first row of each ``incident_id`` of the chunk not in ``stored_ids``
            (``chunk`` itself when every row is new: no copy).
        """
        ids = chunk["incident_id"].astype(str)
        # the first row of each id not stored yet (rows with one id are all new or all stored)
        is_new = first_occurrences(ids)
        if len(stored_ids):
            is_new &= ~is_in(ids, stored_ids)
        # a first import of millions of rows adds them all: no copy of them
        new_rows = chunk if bool(is_new.all()) else chunk[is_new]

        sources = chunk["source"].astype(str)
        of_file = sources.value_counts()
        self._accepted_of.update({str(k): int(v) for k, v in of_file.items()})
        if len(new_rows) == len(chunk):
            self._new_of.update({str(k): int(v) for k, v in of_file.items()})
        else:
            added = sources[is_new].value_counts()
            self._new_of.update({str(k): int(v) for k, v in added.items()})
        self.rows_accepted += len(chunk)
        self.rows_new += len(new_rows)
        if "source_row" in chunk.columns:
            for name, before in self._before.items():
                if len(before):
                    rows = chunk.loc[(sources == name).to_numpy(), "source_row"].astype(int)
                    self._now_accepted[name] |= before.isin(rows.to_numpy()).to_numpy()
        return new_rows

    def plan(self) -> ImportPlan:
        """Return the quarantine, the import log and the counts of the import.

        Call it once every chunk has been through :meth:`new_rows`.
        """
        import pandas as pd

        quarantine = self.quarantine
        sha_of = {str(s["source"]): str(s.get("sha256")) for s in self.sources}
        q_new = quarantine.copy()
        if len(q_new):
            q_new["sha256"] = q_new["source"].astype(str).map(sha_of).fillna("")
            for col in q_new.columns:
                if q_new[col].dtype == object:
                    q_new[col] = q_new[col].astype(str)

        now = datetime.now(UTC).replace(microsecond=0).isoformat()
        log_rows = []
        files = []
        for s in self.sources:
            name = str(s["source"])
            before = self._before.get(name, ())
            added = self._new_of[name]
            entry = {
                "source": name,
                "reimport": str(s.get("sha256")) in self.again_sha,
                "rows_new": added,
                "rows_already_present": self._accepted_of[name] - added,
                "rows_quarantined": int((quarantine["source"].astype(str) == name).sum())
                if len(quarantine)
                else 0,
                "rows_quarantined_before": len(before),
                "rows_now_accepted": int(self._now_accepted[name].sum()) if len(before) else 0,
            }
            files.append(entry)
            row: dict[str, Any] = {
                k: v for k, v in s.items() if isinstance(v, str | int | float | bool)
            }
            row["imported_at"] = now
            row["rows_new"] = added
            log_rows.append(row)

        replaced = self.replaced
        return ImportPlan(
            quarantine_new=q_new,
            quarantine_kept=self.old_quarantine[~replaced] if replaced.any() else None,
            log=pd.DataFrame(log_rows),
            summary={
                "rows_new": self.rows_new,
                "rows_already_present": self.rows_accepted - self.rows_new,
                "files_reimported": [str(s["source"]) for s in self.again],
                "quarantine_added": len(q_new),
                "quarantine_replaced": int(replaced.sum()),
                "files": files,
            },
        )


def concat_tables(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``old`` then ``new`` as text-friendly columns (missing cells empty)."""
    import pandas as pd

    parts = [frame for frame in (old, new) if len(frame)]
    if not parts:
        return new
    table = pd.concat([pd.DataFrame(p) for p in parts], ignore_index=True)
    for col in table.columns:
        if table[col].dtype == object:
            table[col] = table[col].fillna("").astype(str)
    return table


def _sha_by_source(imports: pd.DataFrame) -> dict[str, str]:
    """File name → checksum of its last import (for quarantine rows stored without one)."""
    if not len(imports):
        return {}
    return {
        str(src): str(sha) for src, sha in zip(imports["source"], imports["sha256"], strict=True)
    }
