"""The rules of an import, whatever stores the workspace.

:func:`plan_import` decides, from what the workspace already holds, which accepted incidents
are new, which quarantine rows an import replaces and what the import log records; each
backend then writes the plan inside its own transaction
(:meth:`parsc_geo.workspace.base.WorkspaceBackend.import_incidents`).

The rules: only accepted ``incident_id`` values are de-duplicated (an incident already stored
is never added twice); a file imported before (same SHA-256) is evaluated again, so that its
rows accepted now come in, and its quarantine rows replace those of its earlier imports.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    import pandas as pd


@dataclass
class ImportPlan:
    """What one import writes.

    Attributes
    ----------
    new_rows
        Accepted incidents whose ``incident_id`` is not stored yet (first of each id).
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

    new_rows: gpd.GeoDataFrame
    quarantine_new: pd.DataFrame
    quarantine_kept: pd.DataFrame | None
    log: pd.DataFrame
    summary: dict[str, Any]

    def replaced_quarantine(self) -> pd.DataFrame:
        """Return the whole new quarantine table (only when ``quarantine_kept`` is set)."""
        assert self.quarantine_kept is not None
        return concat_tables(self.quarantine_kept, self.quarantine_new)


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


def plan_import(
    accepted: gpd.GeoDataFrame,
    quarantine: pd.DataFrame,
    *,
    sources: list[dict[str, Any]],
    previous_imports: pd.DataFrame,
    stored_ids: Collection[str],
    read_quarantine: Callable[[], pd.DataFrame],
) -> ImportPlan:
    """Decide what an import adds and replaces.

    Parameters
    ----------
    accepted, quarantine, sources
        As given to ``import_incidents``.
    previous_imports
        The import log as stored.
    stored_ids
        The stored incident ids (all of them, or at least those of ``accepted``).
    read_quarantine
        Returns the stored quarantine; called only when a file is imported again.
    """
    import numpy as np
    import pandas as pd

    known_sha = set(previous_imports["sha256"].astype(str)) if len(previous_imports) else set()
    sha_of = {str(s["source"]): str(s.get("sha256")) for s in sources}
    again = [s for s in sources if str(s.get("sha256")) in known_sha]
    again_sha = {str(s.get("sha256")) for s in again}

    ids = accepted["incident_id"].astype(str)
    # the first row of each id not stored yet (rows with one id are all new or all stored)
    is_new = first_occurrences(ids)
    if len(stored_ids):
        is_new &= ~ids.isin(stored_ids).to_numpy()
    # a first import of millions of rows adds them all: no copy of them
    new_rows = accepted if bool(is_new.all()) else accepted[is_new]

    old_q = read_quarantine() if again else quarantine.iloc[:0]
    if len(old_q):
        old_sha = (
            old_q["sha256"].astype(str)
            if "sha256" in old_q.columns
            else old_q["source"].astype(str).map(_sha_by_source(previous_imports))
        )
        replaced = np.asarray(old_sha.isin(again_sha), dtype=bool)
    else:
        replaced = np.zeros(0, dtype=bool)
    q_new = quarantine.copy()
    if len(q_new):
        q_new["sha256"] = q_new["source"].astype(str).map(sha_of).fillna("")
        for col in q_new.columns:
            if q_new[col].dtype == object:
                q_new[col] = q_new[col].astype(str)

    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    log_rows = []
    files = []
    for s in sources:
        name = str(s["source"])
        of_file = accepted["source"].astype(str) == name
        before = (
            old_q[replaced & (old_q["source"].astype(str) == name).to_numpy()]
            if len(old_q)
            else old_q
        )
        accepted_rows = (
            set(accepted.loc[of_file, "source_row"].astype(int))
            if "source_row" in accepted.columns
            else set()
        )
        added = int((new_rows["source"].astype(str) == name).sum())
        entry = {
            "source": name,
            "reimport": str(s.get("sha256")) in again_sha,
            "rows_new": added,
            "rows_already_present": int(of_file.sum()) - added,
            "rows_quarantined": int((quarantine["source"].astype(str) == name).sum())
            if len(quarantine)
            else 0,
            "rows_quarantined_before": len(before),
            "rows_now_accepted": int(before["source_row"].astype(int).isin(accepted_rows).sum())
            if len(before)
            else 0,
        }
        files.append(entry)
        row: dict[str, Any] = {
            k: v for k, v in s.items() if isinstance(v, str | int | float | bool)
        }
        row["imported_at"] = now
        row["rows_new"] = added
        log_rows.append(row)

    return ImportPlan(
        new_rows=new_rows,
        quarantine_new=q_new,
        quarantine_kept=old_q[~replaced] if replaced.any() else None,
        log=pd.DataFrame(log_rows),
        summary={
            "rows_new": len(new_rows),
            "rows_already_present": len(accepted) - len(new_rows),
            "files_reimported": [str(s["source"]) for s in again],
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
