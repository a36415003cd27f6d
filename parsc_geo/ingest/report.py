"""Reason codes of quarantined rows, the quarantine table and the ingestion report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._provenance import file_sha256
from ..labels_es import REASON_HINTS
from ..labels_es import REASONS as REASON_LABELS
from ..schema import QUARANTINE_COLUMNS

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from ..io._table import RawTable
    from .options import IngestOptions
    from .prepare import IncidentFile

#: Reason codes in the order they are checked.
REASONS: tuple[str, ...] = (
    "malformed_row",
    "unbalanced_quote",
    "missing_coordinates",
    "unparseable_coordinates",
    "projected_coordinates",
    "not_a_point",
    "null_island",
    "outside_study_area",
    "missing_date",
    "missing_year",
    "unparseable_date",
    "date_out_of_range",
    "duplicate_id",
    "duplicate_place_time_type",
)
#: Flags that mean the row was corrected (counted in ``rows_fixed``).
FIX_FLAGS: tuple[str, ...] = ("latlon_swapped",)


def _messages(
    source: str,
    rows: np.ndarray,
    reason: np.ndarray,
    fld: np.ndarray,
    val: np.ndarray,
    lines: np.ndarray | None = None,
) -> list[str]:
    out = []
    line_list = lines.tolist() if lines is not None else [None] * len(rows)
    for row, line, r, f, v in zip(
        rows.tolist(), line_list, reason.tolist(), fld.tolist(), val.tolist(), strict=True
    ):
        shown = str(v)
        shown = shown if len(shown) <= 80 else shown[:77] + "…"
        where = f"fila {row}" if line is None or line == row + 1 else f"fila {row} (línea {line})"
        out.append(
            f"{source}, {where}, campo {f or '—'}: se recibió {shown!r}; {REASON_LABELS[r]}. "
            f"Sugerencia: {REASON_HINTS[r]}."
        )
    return out


def quarantine_frame(
    raw: RawTable,
    reason: np.ndarray,
    fld: np.ndarray,
    val: np.ndarray,
    mask: np.ndarray,
) -> pd.DataFrame:
    """Return the quarantine rows (``mask``) of a table as read, with a message for each.

    ``reason``, ``fld`` and ``val`` hold each row's reason code, field and value.
    """
    import pandas as pd

    if not mask.any():
        return pd.DataFrame({c: pd.Series(dtype=object) for c in QUARANTINE_COLUMNS})
    sub = raw.data.reset_index(drop=True).loc[mask]
    raw_json = sub.to_json(orient="records", lines=True, force_ascii=False, date_format="iso")
    # one record per line: only "\n" ends a record (str.splitlines() would also split on
    # U+2028, U+0085 … that JSON keeps inside a string)
    lines = raw_json.split("\n") if raw_json else []
    if lines and lines[-1] == "":
        lines.pop()
    rows = raw.source_row[mask]
    q = pd.DataFrame(
        {
            "source": raw.source,
            "source_row": rows.astype("int64"),
            "reason": reason[mask],
            "field": fld[mask].astype(str),
            "value": val[mask].astype(str),
            "message": _messages(
                raw.source,
                rows,
                reason[mask],
                fld[mask],
                val[mask],
                None if raw.line is None else raw.line[mask],
            ),
            "raw": lines if len(lines) == int(mask.sum()) else [""] * int(mask.sum()),
        }
    )
    return q


def _counts(values: pd.Series) -> dict[str, int]:
    vc = values.value_counts(sort=False)
    return {str(k): int(v) for k, v in sorted(vc.items(), key=lambda kv: (-kv[1], str(kv[0])))}


def _flag_counts(flags: pd.Series) -> dict[str, int]:
    exploded = flags[flags.ne("")].str.split(";").explode()
    return _counts(exploded[exploded.ne("")]) if len(exploded) else {}


@dataclass
class AcceptedCounts:
    """What the report counts of a file's accepted rows (summed over its chunks).

    Attributes
    ----------
    rows
        Accepted rows.
    flags
        Accepted rows per flag.
    unknown_labels
        Accepted rows per label the taxonomy does not know (``(vacío)``: no label).
    """

    rows: int = 0
    flags: Counter[str] = field(default_factory=Counter)
    unknown_labels: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, accepted: pd.DataFrame) -> AcceptedCounts:
        """Count accepted (and assigned) rows: ``label_known``, ``label_raw``, ``flags``."""
        from .._text import as_bool

        unknown = accepted.loc[~as_bool(accepted["label_known"]), "label_raw"].astype(str)
        return cls(
            len(accepted),
            Counter(_flag_counts(accepted["flags"].astype(str))),
            Counter(_counts(unknown.where(unknown.ne(""), "(vacío)"))),
        )

    def __add__(self, other: AcceptedCounts) -> AcceptedCounts:
        return AcceptedCounts(
            self.rows + other.rows,
            self.flags + other.flags,
            self.unknown_labels + other.unknown_labels,
        )


def _ordered(counts: Counter[str]) -> dict[str, int]:
    """Return counts as :func:`_counts` orders them: most frequent first, then by name."""
    return {k: int(v) for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))}


def build_report(
    prepared: list[IncidentFile],
    accepted: list[AcceptedCounts],
    quarantines: list[pd.DataFrame],
    opts: IngestOptions,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return the ingestion report and the per-file source records.

    The report has ``files`` (one entry per input file) and ``total``, each with
    ``rows_read``, ``rows_accepted``, ``rows_quarantined``, ``rows_fixed``, ``reasons``
    (quarantine counts per reason code), ``flags`` (accepted rows per flag) and
    ``unknown_labels`` (label → count, accepted rows whose label the taxonomy does not know);
    plus ``parameters`` and ``quarantine_path`` (filled by the writer). ``accepted`` holds
    the counts of each file's accepted rows (:class:`AcceptedCounts`), in file order.
    """
    files = []
    sources = []
    for p, acc, q in zip(prepared, accepted, quarantines, strict=True):
        src = p.source
        flag_counts = _ordered(acc.flags)
        entry: dict[str, Any] = {
            "source": src,
            "path": str(p.path),
            "sha256": file_sha256(p.path),
            "format": p.info,
            "columns": p.columns,
            "rows_read": p.rows_read,
            "rows_accepted": acc.rows,
            "rows_quarantined": len(q),
            "rows_fixed": int(sum(flag_counts.get(f, 0) for f in FIX_FLAGS)),
            "reasons": _counts(q["reason"]),
            "flags": flag_counts,
            "unknown_labels": _ordered(acc.unknown_labels),
            "warnings": p.warnings,
        }
        if entry["rows_read"] != entry["rows_accepted"] + entry["rows_quarantined"]:
            raise AssertionError(f"row accounting failed for {src}")
        files.append(entry)
        sources.append(
            {
                "source": src,
                "path": str(p.path),
                "sha256": entry["sha256"],
                "rows_read": entry["rows_read"],
                "rows_accepted": entry["rows_accepted"],
                "rows_quarantined": entry["rows_quarantined"],
            }
        )
    total: dict[str, Any] = {
        k: sum(int(f[k]) for f in files)
        for k in ("rows_read", "rows_accepted", "rows_quarantined", "rows_fixed")
    }
    for key in ("reasons", "flags", "unknown_labels"):
        merged: dict[str, int] = {}
        for f in files:
            for k, v in f[key].items():
                merged[k] = merged.get(k, 0) + v
        total[key] = dict(sorted(merged.items(), key=lambda kv: (-kv[1], kv[0])))
    report = {
        "parameters": opts.describe(),
        "files": files,
        "total": total,
        "quarantine_path": None,
    }
    return report, sources
