"""The result of reading one incident file, before any interpretation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
