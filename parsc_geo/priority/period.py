"""Periods of whole months: parsing, comparison periods, Spanish labels, row selection."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from .._errors import ConfigError
from ..labels_es import MONTHS_SHORT

if TYPE_CHECKING:
    import pandas as pd

#: Length in months of the default period (the latest twelve months with data).
DEFAULT_PERIOD_MONTHS: Final = 12


@dataclass(frozen=True)
class Period:
    """An inclusive span of whole months.

    Parameters
    ----------
    start, end
        Month indices ``year * 12 + (month - 1)``; ``end`` is included.
    """

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse ``"2020"``, ``"2020-03"``, ``"2020-01:2020-10"`` or ``"2019:2020"``.

        Raises
        ------
        ConfigError
            The text is not a period, or it ends before it starts.
        """
        parts = [p.strip() for p in str(text).split(":")]
        if len(parts) not in (1, 2):
            raise ConfigError(f"el periodo {text!r} no es AAAA, AAAA-MM ni INICIO:FIN")
        bounds = []
        for i, part in enumerate(parts if len(parts) == 2 else parts * 2):
            m = re.fullmatch(r"(\d{4})(?:-(\d{1,2}))?", part)
            if not m or (m.group(2) and not 1 <= int(m.group(2)) <= 12):
                raise ConfigError(
                    f"periodo {text!r}: {part!r} no es un año (2020) ni un mes (2020-03)",
                    hint="escriba periodos como 2020, 2020-03 o 2020-01:2020-10",
                )
            year = int(m.group(1))
            default_month = 1 if i == 0 else 12
            month = int(m.group(2)) if m.group(2) else default_month
            bounds.append(year * 12 + month - 1)
        if bounds[1] < bounds[0]:
            raise ConfigError(f"el periodo {text!r} termina antes de empezar")
        return cls(bounds[0], bounds[1])

    @property
    def months(self) -> int:
        """Return the number of months in the period."""
        return self.end - self.start + 1

    @property
    def end_year(self) -> int:
        """Return the year of the last month."""
        return self.end // 12

    def shifted(self, months: int) -> Period:
        """Return the period moved ``months`` back in time."""
        return Period(self.start - months, self.end - months)

    def previous(self) -> Period:
        """Return the comparison period: the same months, a whole number of years earlier.

        A period of up to twelve months is compared with the same months a year before (so
        seasonality cancels); longer periods with the preceding span of whole years.
        """
        years = -(-self.months // 12)
        return self.shifted(12 * years)

    def iso(self) -> str:
        """Return ``"2020-01:2020-10"``."""
        return (
            f"{self.start // 12}-{self.start % 12 + 1:02d}:{self.end // 12}-{self.end % 12 + 1:02d}"
        )

    def label(self) -> str:
        """Return the period in Spanish, e.g. ``"ene 2020 – oct 2020"``."""

        def month(index: int) -> str:
            return f"{MONTHS_SHORT[index % 12]} {index // 12}"

        if self.start == self.end:
            return month(self.start)
        return f"{month(self.start)} – {month(self.end)}"

    def mask(self, anio: pd.Series, mes: pd.Series) -> pd.Series:
        """Return which count rows fall in the period.

        Monthly rows fall in it when their month does; yearly rows (no month) when their whole
        year does; rows without a year never do.
        """
        year = anio.astype("Float64")
        month = mes.astype("Float64")
        index = year * 12 + month - 1
        monthly = index.ge(self.start) & index.le(self.end)
        yearly = month.isna() & year.notna() & (year * 12).ge(self.start)
        yearly &= (year * 12 + 11).le(self.end)
        return (monthly.fillna(False) | yearly.fillna(False)).astype(bool)


def coverage(counts: pd.DataFrame) -> tuple[int, int] | None:
    """Return the first and last month index covered by rows with time (None if none)."""
    year = counts["anio"].astype("Float64")
    month = counts["mes"].astype("Float64")
    start = (year * 12 + month.fillna(1) - 1).dropna()
    end = (year * 12 + month.fillna(12) - 1).dropna()
    if start.empty:
        return None
    return int(start.min()), int(end.max())


def resolve_periods(
    counts: pd.DataFrame,
    period: Period | str | None,
    previous_period: Period | str | None,
    notes: list[str],
) -> tuple[Period | None, Period | None, bool]:
    """Return (period, previous period, whether the previous period is fully covered)."""
    covered_months = coverage(counts)
    if isinstance(period, str):
        period = Period.parse(period)
    if isinstance(previous_period, str):
        previous_period = Period.parse(previous_period)
    if covered_months is None:
        if period is not None or previous_period is not None:
            raise ConfigError(
                "se indicó un periodo, pero los conteos no tienen año ni mes",
                hint="omita el periodo para usar todos los conteos de las tablas",
            )
        notes.append("Las tablas no indican año ni mes: se usa todo su contenido como periodo.")
        return None, None, False
    if counts["anio"].isna().any():
        notes.append("Se omitieron filas sin año porque no pueden ubicarse en un periodo.")
    if period is None:
        end = covered_months[1]
        monthly = counts["mes"].notna().any()
        months = DEFAULT_PERIOD_MONTHS if monthly else 12
        period = Period(max(covered_months[0], end - months + 1), end)
    if previous_period is None:
        previous_period = period.previous()
    short = sources_without(counts, period, previous_period)
    if short:
        notes.append(
            f"Los datos no cubren todo el periodo anterior ({previous_period.label()}"
            + (f": {', '.join(short)}" if "source" in counts.columns else "")
            + "): no se calcula la variación ni se compara con él."
        )
    return period, previous_period, not short


def sources_without(counts: pd.DataFrame, period: Period, previous: Period) -> list[str]:
    """Return the sources with complaints in ``period`` whose months do not span ``previous``.

    A change against the previous period is only a change when every source counted now also
    counted then: a source that starts in the current period would make every unit "grow".

    Parameters
    ----------
    counts
        Count table(s) with ``anio``, ``mes`` and (optionally) ``source``.
    period, previous
        The period and its comparison period.

    Returns
    -------
    list of str
        Source names (sorted); empty when the comparison can be made.
    """
    import pandas as pd

    sources = (
        counts["source"].astype(str)
        if "source" in counts.columns
        else pd.Series("", index=counts.index)
    )
    now = period.mask(counts["anio"], counts["mes"]) & counts["n"].gt(0)
    short = []
    for name in sorted(sources[now].unique()):
        span = coverage(counts[sources == name])
        if span is None or previous.start < span[0] or previous.end > span[1]:
            short.append(name)
    return short
