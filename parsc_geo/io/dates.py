"""Occurrence dates and times from text, Excel values and epoch milliseconds (America/Lima).

Rules
-----
- Dates are read day first (``05/03/2020`` is 5 March), as Peruvian records write them; ISO
  ``2020-03-05`` and Spanish month names (``5 de marzo de 2020``, ``05-mar-2020``) also work.
- Naive times are local (America/Lima, UTC−5, no daylight saving since 1994); epoch
  milliseconds (SIDPOL/ArcGIS) and ISO strings with ``Z``/offset (also ``2017/02/28
  05:00:00+00`` as databases export them) are UTC and converted.
- A date without a time is never given one: ``time_known`` is False and the time is local
  midnight. A combined date-time exactly at local 00:00:00 is also taken as "time unknown",
  the way SIDPOL stamps records without an hour (see ``formatos_datos_policiales.md`` §2.4).
- An hour column (``HORA``) gives the time: ``20:30``, ``20:30:00``, ``8:30 pm``, ``20h30``,
  ``2030``, Excel fractions of a day and ``time`` objects are accepted.
- Times are local to the study area's time zone (``tz``; America/Lima unless told otherwise).
  A local time that does not exist (the hour skipped when clocks go forward) is moved forward;
  one that happens twice (clocks go back) is taken at its first occurrence.
- A day and month without a year (``05/03``, ``5 de marzo``, ``05-mar``) takes ``year`` when it
  is given, and is ``missing_year`` otherwise.
- A date before :data:`EARLIEST` or from :data:`LATEST` on (``05/03/3020``, ``05/03/0202``, a
  13-digit number beyond 2200 read as epoch milliseconds) is ``date_out_of_range``: a typing
  error of that row, never an error of the whole file.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._text import strip_accents
from ..settings import TIMEZONE

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

_FORMATS_WITH_TIME = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d/%m/%y %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%d/%m/%Y %I:%M %p",
    "%d/%m/%Y %I:%M:%S %p",
)
_FORMATS_DATE = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%Y/%m/%d", "%Y%m%d")
_MONTHS_ES = {
    "ENERO": 1, "ENE": 1, "FEBRERO": 2, "FEB": 2, "MARZO": 3, "MAR": 3, "ABRIL": 4, "ABR": 4,
    "MAYO": 5, "MAY": 5, "JUNIO": 6, "JUN": 6, "JULIO": 7, "JUL": 7, "AGOSTO": 8, "AGO": 8,
    "SETIEMBRE": 9, "SEPTIEMBRE": 9, "SET": 9, "SEP": 9, "OCTUBRE": 10, "OCT": 10,
    "NOVIEMBRE": 11, "NOV": 11, "DICIEMBRE": 12, "DIC": 12,
}  # fmt: skip
_MONTH_RE = re.compile(
    r"^\s*(\d{1,2})\s*(?:de\s+|[-/ ])\s*([A-Za-zÁÉÍÓÚáéíóú]+)\.?\s*"
    r"(?:de(?:l)?\s+|[-/ ])\s*(\d{2,4})\s*$",
    re.IGNORECASE,
)
_HOUR_RE = (
    r"^\s*(?P<h>\d{1,2})\s*(?:[:hH.]\s*(?P<m>\d{2}))?\s*(?::\s*(?P<s>\d{2}))?\s*"
    r"(?:hrs?\.?|horas|h)?\s*(?P<ampm>[aApP])?\.?\s*(?:[mM]\.?)?\s*$"
)
_EXCEL_EPOCH = "1899-12-30"
#: Earliest and latest occurrence dates read as dates at all; outside them a date is a typo.
EARLIEST = "1900-01-01"
LATEST = "2200-01-01"
#: Epoch milliseconds of :data:`EARLIEST` and :data:`LATEST`.
_EPOCH_MS_LATEST = 7_258_118_400_000
_NO_YEAR_RE = re.compile(
    r"^\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$"
)
_NO_YEAR_MONTH_RE = re.compile(
    r"^\s*(\d{1,2})\s*(?:de\s+|[-/ ])\s*([A-Za-zÁÉÍÓÚáéíóú]+)\.?\s*$", re.IGNORECASE
)
#: Per-value outcomes of a date column besides "read" and "unreadable".
MISSING_YEAR = "missing_year"
OUT_OF_RANGE = "date_out_of_range"


@dataclass
class ParsedTimes:
    """Result of :func:`parse_occurrence`.

    Attributes
    ----------
    occurred_at
        tz-aware (America/Lima) timestamps, NaT where no date could be read.
    time_known
        True where a time of day was given.
    status
        ``""`` (ok), ``"missing_date"``, ``"unparseable_date"``, ``"missing_year"`` (day and
        month only, no ``year`` given) or ``"date_out_of_range"`` (outside 1900–2199) per row.
    time_unparsed
        True where an hour cell was present but could not be read (the date is kept).
    """

    occurred_at: pd.Series
    time_known: np.ndarray
    status: np.ndarray
    time_unparsed: np.ndarray


def _is_empty(values: pd.Series) -> np.ndarray:
    text = values.astype(str).str.strip()
    return (
        values.isna() | text.eq("") | text.str.upper().isin(["NAN", "NAT", "NULL", "NONE"])
    ).to_numpy()


def _localize(naive: pd.Series, tz: str) -> pd.Series:
    """Localise wall-clock times: skipped hours move forward, repeated ones take the first."""
    import numpy as np

    return naive.dt.tz_localize(
        tz, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward"
    )


def _in_range(ts: pd.Series) -> np.ndarray:
    """Whether each (naive or aware) timestamp lies in [EARLIEST, LATEST)."""
    import pandas as pd

    values = ts.dt.tz_localize(None) if ts.dt.tz is not None else ts
    return ((values >= pd.Timestamp(EARLIEST)) & (values < pd.Timestamp(LATEST))).to_numpy()


def _parse_datetime_core(
    values: pd.Series, tz: str, year: int | None = None
) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Parse one date or date-time column; return local timestamps, a has-time mask and flags.

    ``flags`` is ``""`` per value, or :data:`MISSING_YEAR` / :data:`OUT_OF_RANGE` for values
    that were recognised but give no usable date.
    """
    import numpy as np
    import pandas as pd

    n = len(values)
    out = pd.Series(pd.NaT, index=values.index, dtype=f"datetime64[ns, {tz}]")
    has_time = np.zeros(n, dtype=bool)
    flags = np.full(n, "", dtype=object)
    empty = _is_empty(values)
    todo = ~empty

    def put(rows: np.ndarray, local: pd.Series, timed: np.ndarray | None) -> None:
        """Store aware local times at positions ``rows`` (those out of range are flagged)."""
        ok = _in_range(local)
        flags[rows[~ok]] = OUT_OF_RANGE
        if ok.any():
            good = local[ok].dt.tz_convert(tz)
            out.iloc[rows[ok]] = good.astype(out.dtype).array
            if timed is None:
                timed = ((good.dt.hour + good.dt.minute + good.dt.second) > 0).to_numpy()
            else:
                timed = timed[ok]
            has_time[rows[ok]] = timed

    def naive_in_range(ts: pd.Series) -> np.ndarray:
        return ts.notna().to_numpy() & _in_range(ts)

    # python datetime / Timestamp objects (Excel cells)
    if values.dtype == object and todo.any():
        is_dt = values.map(lambda v: isinstance(v, _dt.datetime | _dt.date)).to_numpy() & todo
        if is_dt.any():
            rows = np.flatnonzero(is_dt)
            ts = pd.Series([pd.Timestamp(v) for v in values[is_dt]], index=pd.RangeIndex(len(rows)))
            aware = ts.map(lambda t: t.tzinfo is not None).to_numpy()
            naive = ts[~aware].map(lambda t: t.replace(tzinfo=None))
            if len(naive):
                naive_ts = pd.to_datetime(naive)
                ok = naive_in_range(naive_ts)
                flags[rows[~aware][~ok]] = OUT_OF_RANGE
                if ok.any():
                    put(
                        rows[~aware][ok], _localize(naive_ts[ok].astype("datetime64[ns]"), tz), None
                    )
            if aware.any():
                utc = pd.to_datetime(ts[aware].map(lambda t: t.tz_convert("UTC")), utc=True)
                put(rows[aware], utc, None)
            todo &= ~is_dt

    # numbers: epoch milliseconds (UTC) or Excel serial days
    if todo.any():
        num = pd.to_numeric(values.where(todo, None), errors="coerce").to_numpy(dtype=float)
        epoch = todo & (num > 1e11) & (num < 1e13)
        if epoch.any():
            late = epoch & (num >= _EPOCH_MS_LATEST)
            flags[late] = OUT_OF_RANGE
            fine = epoch & ~late
            if fine.any():
                utc = pd.Series(pd.to_datetime(num[fine], unit="ms", utc=True))
                put(np.flatnonzero(fine), utc, None)
            todo &= ~epoch
        serial = todo & (num > 3000) & (num < 80000)
        if serial.any():
            naive_ts = pd.Series(
                pd.to_datetime(_EXCEL_EPOCH) + pd.to_timedelta(num[serial], unit="D")
            )
            local = _localize(naive_ts.dt.round("s").astype("datetime64[ns]"), tz)
            put(np.flatnonzero(serial), local, (num[serial] % 1) > 1e-9)
            todo &= ~serial

    if todo.any():
        text = values[todo].astype(str).str.strip().str.replace(r"\s+", " ", regex=True)
        idx = np.flatnonzero(todo)
        remaining = np.ones(len(text), dtype=bool)
        iso_tz = text.str.contains(
            r"\d[T ]\d{1,2}:\d{2}.*(?:Z|[+-]\d{2}(?::?\d{2})?)$", regex=True
        ).to_numpy(dtype=bool)
        if iso_tz.any():
            # "2017/02/28 05:00:00+00" (database exports): ISO with slashes, offset in hours
            iso = text[iso_tz].str.replace(r"^(\d{4})/(\d{2})/(\d{2})", r"\1-\2-\3", regex=True)
            iso = iso.str.replace(r"([+-]\d{2})$", r"\1:00", regex=True)
            ts = pd.to_datetime(iso, format="ISO8601", utc=True, errors="coerce")
            ok = ts.notna().to_numpy()
            put(idx[iso_tz][ok], ts[ok], None)
            remaining[np.flatnonzero(iso_tz)[ok]] = False
        for fmt, timed in [(f, True) for f in _FORMATS_WITH_TIME] + [
            (f, False) for f in _FORMATS_DATE
        ]:
            if not remaining.any():
                break
            sub = text[remaining]
            ts = pd.to_datetime(sub, format=fmt, errors="coerce")
            ok = ts.notna().to_numpy()
            if not ok.any():
                continue
            pos = np.flatnonzero(remaining)[ok]
            parsed = ts[ok]
            fits = _in_range(parsed)
            flags[idx[pos[~fits]]] = OUT_OF_RANGE
            if fits.any():
                good = parsed[fits]
                local = _localize(good.astype("datetime64[ns]"), tz)
                clock = ((good.dt.hour + good.dt.minute + good.dt.second) > 0).to_numpy()
                put(idx[pos[fits]], local, clock if timed else np.zeros(len(good), dtype=bool))
            remaining[pos] = False
        if remaining.any():
            pos = np.flatnonzero(remaining)
            for p, t in zip(pos.tolist(), text.iloc[pos].tolist(), strict=True):
                value, flag = _loose_date(t, year)
                if flag:
                    flags[idx[p]] = flag
                elif value is not None:
                    local = _localize(pd.Series([pd.Timestamp(value)]), tz)
                    put(np.array([idx[p]]), local, np.array([value.hour + value.minute > 0]))
    return out, has_time, flags


def _loose_date(text: str, year: int | None) -> tuple[_dt.datetime | None, str]:
    """Read a Spanish date or a day-month without year; return the date or a flag."""
    value = _spanish_date(text)
    if value is not None:
        return _checked(_dt.datetime(value.year, value.month, value.day))
    m = _NO_YEAR_RE.match(text)
    month: int | None = None
    clock = (0, 0, 0)
    if m:
        day, month = int(m.group(1)), int(m.group(2))
        if m.group(3):
            clock = (int(m.group(3)), int(m.group(4)), int(m.group(5) or 0))
    else:
        m2 = _NO_YEAR_MONTH_RE.match(text)
        if m2:
            day = int(m2.group(1))
            month = _MONTHS_ES.get(strip_accents(m2.group(2)).upper())
    if month is None:
        return None, ""
    if year is None:
        try:
            _dt.datetime(2000, month, day, *clock)  # a leap year accepts every day and month
        except ValueError:
            return None, ""
        return None, MISSING_YEAR
    try:
        return _checked(_dt.datetime(year, month, day, *clock))
    except ValueError:
        return None, ""


def _checked(value: _dt.datetime) -> tuple[_dt.datetime | None, str]:
    if not (_dt.datetime.fromisoformat(EARLIEST) <= value < _dt.datetime.fromisoformat(LATEST)):
        return None, OUT_OF_RANGE
    return value, ""


def _spanish_date(text: str) -> _dt.date | None:
    m = _MONTH_RE.match(text)
    if not m:
        return None
    month_name = strip_accents(m.group(2)).upper()
    month = _MONTHS_ES.get(month_name)
    if month is None:
        return None
    year = int(m.group(3))
    year = year + 2000 if year < 100 else year
    try:
        return _dt.date(max(year, 1), month, int(m.group(1)))
    except ValueError:
        return None


def _parse_hours_core(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse an hour column (one value per row; see :func:`parse_hours`).

    Returns
    -------
    seconds : numpy.ndarray
        Seconds after midnight (float, NaN where not read).
    empty : numpy.ndarray
        True where the cell is empty.
    bad : numpy.ndarray
        True where the cell has text that is not an hour.
    """
    import numpy as np
    import pandas as pd

    n = len(values)
    seconds = np.full(n, np.nan)
    empty = _is_empty(values)
    todo = ~empty
    if values.dtype == object and todo.any():
        is_time = values.map(lambda v: isinstance(v, _dt.time | _dt.datetime)).to_numpy() & todo
        if is_time.any():
            seconds[is_time] = [v.hour * 3600 + v.minute * 60 + v.second for v in values[is_time]]
            todo &= ~is_time
    if todo.any():
        num = pd.to_numeric(values.where(todo, None), errors="coerce").to_numpy(dtype=float)
        frac = todo & (num >= 0) & (num < 1) & ~np.isnan(num)
        is_text_zero = frac & values.astype(str).str.fullmatch(r"\s*0+\s*").to_numpy()
        frac &= ~is_text_zero
        seconds[frac] = np.round(num[frac] * 86400)
        todo &= ~frac
    if todo.any():
        text = values[todo].astype(str).str.strip()
        military = text.str.fullmatch(r"\d{3,4}")
        text = text.where(~military, text.str.zfill(4).str[:2] + ":" + text.str.zfill(4).str[2:])
        parts = text.str.extract(_HOUR_RE)
        h = pd.to_numeric(parts["h"], errors="coerce")
        m = pd.to_numeric(parts["m"], errors="coerce").fillna(0)
        s = pd.to_numeric(parts["s"], errors="coerce").fillna(0)
        ampm = parts["ampm"].str.upper()
        h = h.where(~(ampm.eq("P") & (h < 12)), h + 12)
        h = h.where(~(ampm.eq("A") & h.eq(12)), 0)
        ok = h.notna() & (h < 24) & (m < 60) & (s < 60)
        sec = (h * 3600 + m * 60 + s).where(ok)
        seconds[np.flatnonzero(todo)] = sec.to_numpy(dtype=float)
    bad = ~empty & np.isnan(seconds)
    return seconds, empty, bad


def _factorize(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return codes, pd.Series(np.asarray(uniques, dtype=object))


def _parse_datetime_column(
    values: pd.Series, tz: str, year: int | None = None
) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Parse a date or date-time column once per distinct value (see the module rules)."""
    import pandas as pd

    codes, uniq = _factorize(values)
    ts, has_time, flags = _parse_datetime_core(uniq, tz, year)
    idx = pd.DatetimeIndex(ts).take(codes)
    return pd.Series(idx, index=pd.RangeIndex(len(values))), has_time[codes], flags[codes]


def _empty_mask(values: pd.Series) -> np.ndarray:
    codes, uniq = _factorize(values)
    return _is_empty(uniq)[codes]


def parse_hours(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse an hour column once per distinct value.

    Returns
    -------
    seconds : numpy.ndarray
        Seconds after midnight (float, NaN where not read).
    empty : numpy.ndarray
        True where the cell is empty.
    bad : numpy.ndarray
        True where the cell has text that is not an hour.
    """
    codes, uniq = _factorize(values)
    seconds, empty, bad = _parse_hours_core(uniq)
    return seconds[codes], empty[codes], bad[codes]


def parse_occurrence(
    *,
    date: pd.Series | None,
    time: pd.Series | None,
    datetime_: pd.Series | None,
    n: int,
    tz: str = TIMEZONE,
    year: int | None = None,
) -> ParsedTimes:
    """Combine date, hour and date-time columns into ``occurred_at`` and ``time_known``.

    A date-time column is used where it has a value; otherwise the date column, plus the hour
    column when it has one. Rows where every date source is empty get ``missing_date``; rows
    with a day and month but no year get ``missing_year`` (unless ``year`` is given), rows
    with a date outside 1900–2199 ``date_out_of_range``, and rows with text that is not a date
    ``unparseable_date``.

    Parameters
    ----------
    date, time, datetime_
        The date, hour and date-time columns (any may be None).
    n
        Number of rows.
    tz
        Time zone of local (naive) times, and of the result.
    year
        Year of dates written without one (``05/03``, ``5 de marzo``).
    """
    import numpy as np
    import pandas as pd

    occurred = pd.Series(pd.NaT, index=pd.RangeIndex(n), dtype=f"datetime64[ns, {tz}]")
    time_known = np.zeros(n, dtype=bool)
    any_value = np.zeros(n, dtype=bool)
    time_unparsed = np.zeros(n, dtype=bool)
    flags = np.full(n, "", dtype=object)
    if datetime_ is not None:
        values = datetime_.reset_index(drop=True)
        occurred, has_time, flags = _parse_datetime_column(values, tz, year)
        time_known = has_time.copy()
        any_value |= ~_empty_mask(values)
    if date is not None:
        d_values = date.reset_index(drop=True)
        need = occurred.isna().to_numpy()
        if need.any():
            d, d_has_time, d_flags = _parse_datetime_column(d_values, tz, year)
            occurred = occurred.where(~need, d)
            time_known = np.where(need, d_has_time, time_known)
            flags = np.where(need & (d_flags != ""), d_flags, flags)
        any_value |= ~_empty_mask(d_values)
        if time is not None:
            seconds, _empty, bad = parse_hours(time.reset_index(drop=True))
            add = ~np.isnan(seconds) & occurred.notna().to_numpy() & ~time_known
            if add.any():
                # wall-clock arithmetic: the hour of the day, also on days clocks change
                wall = occurred.dt.tz_localize(None).dt.normalize()
                wall = wall + pd.to_timedelta(np.where(add, seconds, 0.0), unit="s")
                occurred = occurred.where(~add, _localize(wall, tz))
                time_known = time_known | add
            time_unparsed = bad & occurred.notna().to_numpy()
    missing = occurred.isna().to_numpy()
    status = np.full(n, "", dtype=object)
    status[missing & any_value] = "unparseable_date"
    flagged = missing & any_value & (flags != "")
    status[flagged] = flags[flagged]
    status[~any_value] = "missing_date"
    return ParsedTimes(occurred.reset_index(drop=True), time_known, status, time_unparsed)
