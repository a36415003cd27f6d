"""The result of reading one incident file, before any interpretation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    import pandas as pd


@dataclass
class RawTable:
    """Rows of one file as text, with optional point coordinates taken from its geometries.

    Attributes
    ----------
    data
        One row per input row or feature; attribute values as read (mostly ``str``).
    source
        File name used in the ``source`` column and in messages.
    source_row
        1-based data row (or feature) number of each row in the file.
    geom_x, geom_y
        Coordinates of point geometries in ``crs`` (NaN where there is none), or None when the
        format has no geometries.
    geom_problem
        Per row, an empty string or why the geometry is unusable (e.g. ``"Polygon"``).
    crs
        CRS of the geometries as declared by the file.
    info
        Facts about the read (encoding, delimiter, sheet, layer …) for the report.
    kind
        ``"csv"``, ``"xlsx"``, ``"vector"`` or ``"kml"``.
    malformed
        Per row, whether the reader could not delimit it (``problem`` is not empty).
    problem
        Per row, ``""`` or the reason code of a row the reader could not delimit
        (``malformed_row``: more fields than the header; ``unbalanced_quote``: a stray quote).
    problem_text
        Per row, the text of the physical line(s) of a problem row (``""`` otherwise).
    line
        Per row, the physical line (1-based) where it starts in the file, for text formats.
    """

    data: pd.DataFrame
    source: str
    source_row: np.ndarray
    kind: str
    geom_x: np.ndarray | None = None
    geom_y: np.ndarray | None = None
    geom_problem: np.ndarray | None = None
    crs: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    malformed: np.ndarray | None = None
    problem: np.ndarray | None = None
    problem_text: np.ndarray | None = None
    line: np.ndarray | None = None


def column_names(cells: Sequence[object]) -> list[str]:
    """Return header cells as column names: trimmed, blanks ``Unnamed: i``, repeats ``NAME.1``.

    The same rule as pandas', so that CSV and XLSX files name their columns alike.
    """
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, cell in enumerate(cells):
        text = "" if cell is None or cell != cell else str(cell)
        name = text.replace("\ufeff", "").strip() or f"Unnamed: {i}"
        base = name
        while name in seen:
            seen[base] += 1
            name = f"{base}.{seen[base]}"
        seen[name] = 0
        names.append(name)
    return names
