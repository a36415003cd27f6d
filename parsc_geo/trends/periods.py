"""Time periods of a space-time cube: the automatic choice (as sfhotspot), parsing, binning.

A period is a step of whole days (``"day"``), calendar months (``"month"``) or calendar years
(``"year"``), ``length`` of them. Periods are laid back from the end of the covered dates
(``align="end"``, ArcGIS's default time-step alignment, so that the latest period is complete
and ends on the last day with data) or forward from their start (``align="start"``, as
sfhotspot). Only complete periods are kept: incidents in a partial period at either end are
left out and counted, because a short period has fewer incidents and would read as a fall.

Automatic choice (sfhotspot's ``hotspot_classify``, R/hotspot_classify.R): with the span
``D`` = last date − first date in days,

============================  =====================
span                          period
============================  =====================
D ≤ 14 days                   1 day
14 < D ≤ 91 days              1 week (7 days)
91 < D ≤ 732 days (2 years)   28 days
732 < D ≤ 3653 (10 years)     91 days (a quarter)
3653 < D ≤ 7306 (20 years)    1 year
D > 7306                      D / 10 days (rounded down)
============================  =====================
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import ConfigError, InputDataError

if TYPE_CHECKING:
    import pandas as pd


PERIOD_UNITS: tuple[str, ...] = ("day", "month", "year")
ALIGNMENTS: tuple[str, ...] = ("end", "start")

#: sfhotspot's automatic rule: (largest span in days, period length in days or None for a year).
AUTO_RULE: tuple[tuple[float, int | None], ...] = (
    (14, 1),
    (91, 7),
    (366 * 2, 28),
    (3653, 91),
    (3653 * 2, None),
)

#: Words accepted for units (English and Spanish, with or without accents), → (unit, multiplier).
_UNIT_WORDS: dict[str, tuple[str, int]] = {
    "day": ("day", 1),
    "days": ("day", 1),
    "d": ("day", 1),
    "dia": ("day", 1),
    "dias": ("day", 1),
    "día": ("day", 1),
    "días": ("day", 1),
    "week": ("day", 7),
    "weeks": ("day", 7),
    "semana": ("day", 7),
    "semanas": ("day", 7),
    "month": ("month", 1),
    "months": ("month", 1),
    "mes": ("month", 1),
    "meses": ("month", 1),
    "quarter": ("month", 3),
    "quarters": ("month", 3),
    "trimestre": ("month", 3),
    "trimestres": ("month", 3),
    "year": ("year", 1),
    "years": ("year", 1),
    "año": ("year", 1),
    "años": ("year", 1),
    "anio": ("year", 1),
    "anios": ("year", 1),
}
_PERIOD_RE = re.compile(r"^\s*(\d+)?\s*([a-záéíóúñ]+)\s*$")


@dataclass(frozen=True)
class PeriodSpec:
    """A period length: ``length`` days, calendar months or calendar years."""

    length: int
    unit: str

    def __post_init__(self) -> None:
        if self.unit not in PERIOD_UNITS:
            raise ConfigError(
                f"unidad de periodo desconocida {self.unit!r}",
                hint=f"use una de {', '.join(PERIOD_UNITS)}",
            )
        if self.length < 1:
            raise ConfigError(f"la duración del periodo debe ser ≥ 1; se recibió {self.length}")

    def offset(self, steps: int) -> Any:
        """Return ``steps`` periods as a pandas offset (Timedelta or DateOffset)."""
        import pandas as pd

        if self.unit == "day":
            return pd.Timedelta(days=self.length * steps)
        if self.unit == "month":
            return pd.DateOffset(months=self.length * steps)
        return pd.DateOffset(years=self.length * steps)

    def label(self) -> str:
        """Return the period in Spanish, e.g. ``"28 días"``, ``"1 mes"``, ``"1 trimestre"``."""
        if self.unit == "day":
            if self.length % 7 == 0 and self.length != 28 and self.length != 91:
                weeks = self.length // 7
                return f"{weeks} semana{'s' if weeks != 1 else ''}"
            return f"{self.length} día{'s' if self.length != 1 else ''}"
        if self.unit == "month":
            if self.length % 3 == 0:
                quarters = self.length // 3
                return f"{quarters} trimestre{'s' if quarters != 1 else ''}"
            return f"{self.length} mes{'es' if self.length != 1 else ''}"
        return f"{self.length} año{'s' if self.length != 1 else ''}"

    def text(self) -> str:
        """Return the period in the form :func:`parse_period` reads, e.g. ``"28 days"``."""
        return f"{self.length} {self.unit}s" if self.length != 1 else f"1 {self.unit}"


def parse_period(text: str | PeriodSpec) -> PeriodSpec:
    """Read a period such as ``"week"``, ``"28 days"``, ``"3 meses"``, ``"trimestre"``.

    Parameters
    ----------
    text
        An optional whole number followed by a unit: day(s)/día(s), week(s)/semana(s),
        month(s)/mes(es), quarter(s)/trimestre(s), year(s)/año(s). A :class:`PeriodSpec` is
        returned unchanged.

    Raises
    ------
    ConfigError
        The text is not a period.
    """
    if isinstance(text, PeriodSpec):
        return text
    match = _PERIOD_RE.match(str(text).strip().lower())
    word = match.group(2) if match else ""
    if match is None or word not in _UNIT_WORDS:
        raise ConfigError(
            f"periodo no reconocido: {text!r}",
            hint="use p. ej. day, week, 28 days, month, quarter, year (o día, semana, "
            "28 días, mes, trimestre, año)",
        )
    count = int(match.group(1)) if match.group(1) else 1
    unit, multiplier = _UNIT_WORDS[word]
    return PeriodSpec(count * multiplier, unit)


def auto_period(span_days: float) -> PeriodSpec:
    """Return sfhotspot's automatic period for a span of ``span_days`` days (table above)."""
    for limit, days in AUTO_RULE:
        if span_days <= limit:
            return PeriodSpec(1, "year") if days is None else PeriodSpec(days, "day")
    return PeriodSpec(max(1, int(span_days // 10)), "day")


def local_dates(values: pd.Series, zone: str | None = None) -> pd.Series:
    """Return the calendar dates (midnight, timezone-naive) of local occurrence times.

    Timezone-aware times are read in ``zone`` (None: their own zone, which is the study area's
    when they come from a workspace; see :mod:`parsc_geo.localtime`); naive times and text are
    read as local times already.

    Raises
    ------
    InputDataError
        A value cannot be read as a date (the first one is shown).
    """
    import pandas as pd

    if isinstance(values.dtype, pd.DatetimeTZDtype):
        times = (values.dt.tz_convert(zone) if zone else values).dt.tz_localize(None)
    elif pd.api.types.is_datetime64_any_dtype(values):
        times = values
    else:
        times = pd.to_datetime(values, errors="coerce", utc=False, format="mixed")
        if isinstance(times.dtype, pd.DatetimeTZDtype):
            times = (times.dt.tz_convert(zone) if zone else times).dt.tz_localize(None)
        bad = times.isna() & values.notna()
        if bad.any():
            first = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputDataError(
                f"{int(bad.sum())} fechas no se pueden leer (la primera en la fila {first + 1}: "
                f"{values.iloc[first]!r})",
                hint="use fechas AAAA-MM-DD o importe el archivo con 'parsc-geo ingest'",
            )
    return times.dt.normalize()


def calendar_months(first: pd.Timestamp | None, last: pd.Timestamp | None) -> int:
    """Return the calendar months that the times from ``first`` to ``last`` touch (0: None).

    Examples
    --------
    >>> import pandas as pd
    >>> calendar_months(pd.Timestamp("2020-01-31"), pd.Timestamp("2020-03-01"))
    3
    """
    if first is None or last is None:
        return 0
    return (last.year - first.year) * 12 + last.month - first.month + 1


@dataclass(frozen=True)
class Periods:
    """The complete periods of a cube: starts and (exclusive) ends, as dates."""

    starts: pd.DatetimeIndex
    ends: pd.DatetimeIndex
    spec: PeriodSpec
    align: str

    def __len__(self) -> int:
        return len(self.starts)

    def index_of(self, dates: pd.Series) -> np.ndarray:
        """Return the period index of each date, or -1 when it is in no complete period."""
        values = dates.to_numpy(dtype="datetime64[ns]")
        edges = np.append(self.starts.to_numpy(), self.ends.to_numpy()[-1:])
        idx = np.searchsorted(edges, values, side="right") - 1
        idx[(idx < 0) | (idx >= len(self.starts))] = -1
        idx[np.isnat(values)] = -1
        return idx.astype(np.int64)


def make_periods(first: pd.Timestamp, last: pd.Timestamp, spec: PeriodSpec, align: str) -> Periods:
    """Return the complete periods of ``spec`` between the dates ``first`` and ``last``.

    Parameters
    ----------
    first, last
        First and last covered dates (inclusive; the covered time ends at ``last`` + 1 day).
    spec
        Period length.
    align
        ``"end"``: periods end on ``last`` (ArcGIS's default alignment) and are laid back in
        time; ``"start"``: periods start on ``first`` (sfhotspot) and are laid forward.

    Notes
    -----
    Edges are computed as ``anchor ± k·step`` from the anchor (not step by step), so monthly
    periods ending on the 31st do not drift to the 28th.
    """
    import pandas as pd

    if align not in ALIGNMENTS:
        raise ConfigError(f"align debe ser 'end' o 'start'; se recibió {align!r}")
    start = pd.Timestamp(first).normalize()
    stop = pd.Timestamp(last).normalize() + pd.Timedelta(days=1)
    edges: list[pd.Timestamp] = []
    if align == "end":
        k = 0
        while True:
            edge = stop - spec.offset(k)
            if edge < start:
                break
            edges.append(edge)
            k += 1
        edges.reverse()
    else:
        k = 0
        while True:
            edge = start + spec.offset(k)
            if edge > stop:
                break
            edges.append(edge)
            k += 1
    if len(edges) < 2:
        return Periods(pd.DatetimeIndex([]), pd.DatetimeIndex([]), spec, align)
    index = pd.DatetimeIndex(edges)
    return Periods(index[:-1], index[1:], spec, align)


_DATE_PART = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")


def parse_date_range(text: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Read a date range: ``2020``, ``2020-03``, ``2020-03-15`` or ``START:END`` of those.

    Returns the first and last dates covered (inclusive): ``2020-01:2020-10`` is 2020-01-01
    to 2020-10-31.

    Raises
    ------
    ConfigError
        The text is not a date range, or it ends before it starts.
    """
    import pandas as pd

    parts = [p.strip() for p in str(text).split(":")]
    if len(parts) not in (1, 2) or not all(parts):
        raise ConfigError(
            f"rango de fechas no reconocido: {text!r}",
            hint="use 2020, 2020-03, 2020-03-15 o INICIO:FIN, p. ej. 2020-01:2020-10",
        )
    bounds: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    for part in parts:
        match = _DATE_PART.match(part)
        if match is None:
            raise ConfigError(
                f"rango de fechas {text!r}: {part!r} no es AAAA, AAAA-MM ni AAAA-MM-DD",
                hint="p. ej. 2020-01:2020-10",
            )
        year, month, day = match.groups()
        try:
            if day is not None:
                start = pd.Timestamp(int(year), int(month), int(day))
                end = start
            elif month is not None:
                start = pd.Timestamp(int(year), int(month), 1)
                end = start + pd.offsets.MonthEnd(0)
            else:
                start = pd.Timestamp(int(year), 1, 1)
                end = pd.Timestamp(int(year), 12, 31)
        except ValueError as exc:
            raise ConfigError(
                f"rango de fechas {text!r}: {part!r} no es una fecha: {exc}"
            ) from None
        bounds.append((start, end))
    first, last = bounds[0][0], bounds[-1][1]
    if last < first:
        raise ConfigError(f"el rango de fechas {text!r} termina antes de empezar")
    return first, last
