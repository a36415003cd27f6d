"""Records of counts made a chunk at a time (a selection's, an assignment's), added up."""

from __future__ import annotations

from typing import Any


def add_counts(total: dict[str, Any] | None, record: dict[str, Any]) -> dict[str, Any]:
    """Return ``total`` with ``record`` added: its counts (keys ``n_…``) summed.

    The other keys (the filters and parameters the record names) are the same in every
    chunk's record; the last one's is kept. ``total`` None: a copy of ``record``.
    """
    if total is None:
        return dict(record)
    return {k: total.get(k, 0) + v if k.startswith("n_") else v for k, v in record.items()}
