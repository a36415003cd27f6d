"""Hour-of-day × day-of-week tables and recommended patrol windows.

A patrol window is a run of consecutive hour blocks. For each day type (weekdays, weekend) the
recommended windows are the *fewest* hour blocks whose incidents add up to at least a chosen share
of that day type's incidents with a known time; among the sets of that size the one covering most
incidents is taken, and remaining ties go to the earlier block.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._errors import ConfigError
from .._text import as_bool
from ..schema import DAY_NAMES_ES

if TYPE_CHECKING:
    import pandas as pd

#: Day types: code → (Spanish label, weekday numbers with Monday = 0).
DAY_TYPES: dict[str, tuple[str, tuple[int, ...]]] = {
    "laborable": ("Lunes a viernes", (0, 1, 2, 3, 4)),
    "fin_de_semana": ("Sábado y domingo", (5, 6)),
}

#: Default share of a day type's incidents that the windows must cover.
DEFAULT_SHARE = 0.6
#: Default length of an hour block (hours; must divide 24).
DEFAULT_BLOCK_HOURS = 2


@dataclass(frozen=True)
class Window:
    """One patrol window: consecutive hour blocks of one day type.

    Attributes
    ----------
    day_type
        Key of :data:`DAY_TYPES`.
    start_hour
        First hour of the window (0–23).
    hours
        Length in hours; the window may run past midnight.
    n
        Incidents (with a known time, on days of this type) inside the window.
    """

    day_type: str
    start_hour: int
    hours: int
    n: int

    @property
    def end_hour(self) -> int:
        """Hour at which the window ends (exclusive, modulo 24)."""
        return (self.start_hour + self.hours) % 24

    @property
    def label(self) -> str:
        """Spanish label such as ``"19:00–23:00"``."""
        return f"{self.start_hour:02d}:00–{self.end_hour:02d}:00"

    def contains(self, hour: int) -> bool:
        """Return whether ``hour`` (0–23) falls in the window."""
        return (hour - self.start_hour) % 24 < self.hours


def check_window_options(share: float, block_hours: int) -> None:
    """Raise :class:`ConfigError` unless ``share`` is in (0, 1] and ``block_hours`` divides 24."""
    if not isinstance(share, int | float) or not 0 < share <= 1:
        raise ConfigError(
            f"share debe ser un número en (0, 1]; se recibió {share!r}",
            hint="para el 60 % de los incidentes use share=0.6",
        )
    if not isinstance(block_hours, int) or block_hours < 1 or 24 % block_hours:
        raise ConfigError(
            f"block_hours debe dividir 24 (1, 2, 3, 4, 6, 8, 12 o 24); se recibió {block_hours!r}"
        )


def local_times(incidents: pd.DataFrame) -> pd.Series:
    """Return ``occurred_at`` in the incidents' own local time for rows with a known time.

    See :mod:`parsc_geo.localtime`: the zone of the study area, naive times as they are.
    """
    from ..localtime import incidents_zone
    from ..localtime import local_times as _local

    known = as_bool(incidents["time_known"])
    return _local(incidents.loc[known, "occurred_at"], incidents_zone(incidents))


def hour_day_table(incidents: pd.DataFrame) -> pd.DataFrame:
    """Count incidents by hour of day (rows 0–23) and day of week (columns lunes … domingo).

    Parameters
    ----------
    incidents
        Incident table with ``occurred_at`` and ``time_known``. Rows whose time is unknown are
        skipped (their midnight is not a real hour); count them with ``(~time_known).sum()``.

    Returns
    -------
    pandas.DataFrame
        24 × 7 integer table, index ``hora`` 0–23, columns :data:`parsc_geo.schema.DAY_NAMES_ES`.
    """
    import numpy as np
    import pandas as pd

    table = np.zeros((24, 7), dtype=np.int64)
    if len(incidents):
        times = local_times(incidents)
        np.add.at(table, (times.dt.hour.to_numpy(), times.dt.day_of_week.to_numpy()), 1)
    return pd.DataFrame(table, index=pd.RangeIndex(24, name="hora"), columns=list(DAY_NAMES_ES))


def hourly_counts(table: pd.DataFrame, day_type: str) -> list[int]:
    """Return the 24 hourly counts of ``table`` summed over the days of ``day_type``."""
    days = [DAY_NAMES_ES[d] for d in DAY_TYPES[day_type][1]]
    return [int(v) for v in table[days].sum(axis=1).to_numpy()]


def block_counts(hourly: Sequence[int], block_hours: int) -> list[int]:
    """Sum 24 hourly counts into ``24 // block_hours`` blocks (block 0 starts at 00:00)."""
    return [sum(hourly[b : b + block_hours]) for b in range(0, 24, block_hours)]


def minimal_cover(counts: Sequence[int], share: float) -> list[int]:
    """Return the fewest block indices whose counts reach ``share`` of the total.

    Taking blocks in decreasing order of count is optimal: any set of k blocks covers at most
    the k largest counts, so if the k largest do not reach the target nothing of size k does.
    Among optimal sets this one covers the most incidents; ties go to the earlier block.

    Parameters
    ----------
    counts
        Incidents per block.
    share
        Share in (0, 1] to cover.

    Returns
    -------
    list of int
        Selected block indices in increasing order (empty when there are no incidents).
    """
    total = sum(counts)
    if total == 0:
        return []
    # The tolerance keeps 0.6 × 10 = 6.000000000000001 from asking for 7 incidents.
    target = math.ceil(share * total - 1e-9)
    order = sorted(range(len(counts)), key=lambda i: (-counts[i], i))
    chosen: list[int] = []
    covered = 0
    for i in order:
        if covered >= target:
            break
        chosen.append(i)
        covered += counts[i]
    return sorted(chosen)


def merge_blocks(
    blocks: Sequence[int], counts: Sequence[int], block_hours: int, day_type: str
) -> list[Window]:
    """Merge selected blocks into windows of consecutive blocks (wrapping past midnight)."""
    n_blocks = len(counts)
    selected = set(blocks)
    if not selected:
        return []
    if len(selected) == n_blocks:
        return [Window(day_type, 0, 24, int(sum(counts)))]
    windows = []
    for b in sorted(selected):
        if (b - 1) % n_blocks in selected:
            continue
        run = [b]
        while (run[-1] + 1) % n_blocks in selected:
            run.append((run[-1] + 1) % n_blocks)
        windows.append(
            Window(day_type, b * block_hours, len(run) * block_hours, sum(counts[r] for r in run))
        )
    return sorted(windows, key=lambda w: w.start_hour)


def patrol_windows(
    table: pd.DataFrame,
    *,
    share: float = DEFAULT_SHARE,
    block_hours: int = DEFAULT_BLOCK_HOURS,
) -> dict[str, list[Window]]:
    """Return the recommended patrol windows per day type.

    Parameters
    ----------
    table
        Hour × day table from :func:`hour_day_table`.
    share
        Share in (0, 1] of each day type's incidents (with a known time) to cover.
    block_hours
        Length of the hour blocks; must divide 24.

    Returns
    -------
    dict
        Day type (key of :data:`DAY_TYPES`) → windows ordered by start hour.

    Notes
    -----
    Concentrating patrols in the few hours that hold most incidents follows the temporal
    concentration of crime at hot spots (Sherman, Gartin & Buerger 1989; Sherman & Weisburd 1995).
    """
    check_window_options(share, block_hours)
    out: dict[str, list[Window]] = {}
    for day_type in DAY_TYPES:
        counts = block_counts(hourly_counts(table, day_type), block_hours)
        chosen = minimal_cover(counts, share)
        out[day_type] = merge_blocks(chosen, counts, block_hours, day_type)
    return out


def window_hours(windows: Sequence[Window]) -> set[int]:
    """Return the set of hours (0–23) covered by ``windows``."""
    return {(w.start_hour + k) % 24 for w in windows for k in range(w.hours)}
