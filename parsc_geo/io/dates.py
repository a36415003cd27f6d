"""Occurrence dates and times from text, Excel values and epoch milliseconds (America/Lima).

Rules
-----
- Dates are read day first (``05/03/2020`` is 5 March), as Peruvian records write them; ISO
  ``2020-03-05`` and Spanish month names (``5 de marzo de 2020``, ``05-mar-2020``) also work.
- Naive times are local (America/Lima, UTC−5, no daylight saving since 1994); epoch
  milliseconds (SIDPOL/ArcGIS) and ISO strings with ``Z``/offset are UTC and converted.
- A date without a time is never given one: ``time_known`` is False and the time is local
  midnight. A combined date-time exactly at local 00:00:00 is also taken as "time unknown",
  the way SIDPOL stamps records without an hour (see ``formatos_datos_policiales.md`` §2.4).
- An hour column (``HORA``) gives the time: ``20:30``, ``20:30:00``, ``8:30 pm``, ``20h30``,
  ``2030``, Excel fractions of a day and ``time`` objects are accepted.
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
        ``""`` (ok), ``"missing_date"`` or ``"unparseable_date"`` per row.
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


def _parse_datetime_core(values: pd.Series, tz: str) -> tuple[pd.Series, np.ndarray]:
    """Parse one date or date-time column; return local timestamps and a has-time mask."""
    import numpy as np
    import pandas as pd

    n = len(values)
    out = pd.Series(pd.NaT, index=values.index, dtype=f"datetime64[ns, {tz}]")
    has_time = np.zeros(n, dtype=bool)
    empty = _is_empty(values)
    todo = ~empty

    # python datetime / Timestamp objects (Excel cells)
    if values.dtype == object and todo.any():
        is_dt = values.map(lambda v: isinstance(v, _dt.datetime | _dt.date)).to_numpy() & todo
        if is_dt.any():
            ts = pd.to_datetime(values[is_dt].map(lambda v: pd.Timestamp(v)), errors="coerce")
            ts = ts.dt.tz_localize(tz) if ts.dt.tz is None else ts.dt.tz_convert(tz)
            out[is_dt] = ts
            loc = ts.dt
            has_time[is_dt] = ((loc.hour + loc.minute + loc.second) > 0).to_numpy()
            todo &= ~is_dt

    # numbers: epoch milliseconds (UTC) or Excel serial days
    if todo.any():
        num = pd.to_numeric(values.where(todo, None), errors="coerce").to_numpy(dtype=float)
        epoch = todo & (num > 1e11) & (num < 1e13)
        if epoch.any():
            ts = pd.to_datetime(num[epoch], unit="ms", utc=True).tz_convert(tz)
            out[epoch] = ts
            todo &= ~epoch
            eidx = pd.DatetimeIndex(ts)
            has_time[epoch] = (eidx.hour + eidx.minute + eidx.second) > 0
        serial = todo & (num > 3000) & (num < 80000)
        if serial.any():
            ts = pd.to_datetime(_EXCEL_EPOCH) + pd.to_timedelta(num[serial], unit="D")
            ts = pd.DatetimeIndex(ts).round("s").tz_localize(tz)
            out[serial] = ts
            has_time[serial] = (num[serial] % 1) > 1e-9
            todo &= ~serial

    if todo.any():
        text = values[todo].astype(str).str.strip().str.replace(r"\s+", " ", regex=True)
        idx = np.flatnonzero(todo)
        remaining = np.ones(len(text), dtype=bool)
        iso_tz = text.str.contains(r"\d[T ]\d{1,2}:\d{2}.*(?:Z|[+-]\d{2}:?\d{2})$", regex=True)
        if iso_tz.any():
            ts = pd.to_datetime(text[iso_tz], format="ISO8601", utc=True, errors="coerce")
            ok = ts.notna().to_numpy()
            sel = idx[iso_tz.to_numpy()][ok]
            out.iloc[sel] = ts[ok].dt.tz_convert(tz).to_numpy()
            local = ts[ok].dt.tz_convert(tz)
            has_time[sel] = ((local.dt.hour + local.dt.minute + local.dt.second) > 0).to_numpy()
            remaining[np.flatnonzero(iso_tz.to_numpy())[ok]] = False
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
            local = ts[ok].dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
            out.iloc[idx[pos]] = local.to_numpy()
            if timed:
                has_time[idx[pos]] = (
                    (ts[ok].dt.hour + ts[ok].dt.minute + ts[ok].dt.second) > 0
                ).to_numpy()
            remaining[pos] = False
        if remaining.any():
            pos = np.flatnonzero(remaining)
            parsed = [_spanish_date(t) for t in text.iloc[pos]]
            for p, value in zip(pos, parsed, strict=True):
                if value is not None:
                    out.iloc[idx[p]] = pd.Timestamp(value).tz_localize(tz)
    return out, has_time


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
        return _dt.date(year, month, int(m.group(1)))
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


def _parse_datetime_column(values: pd.Series, tz: str) -> tuple[pd.Series, np.ndarray]:
    """Parse a date or date-time column once per distinct value (see the module rules)."""
    import pandas as pd

    codes, uniq = _factorize(values)
    ts, has_time = _parse_datetime_core(uniq, tz)
    idx = pd.DatetimeIndex(ts).take(codes)
    return pd.Series(idx, index=pd.RangeIndex(len(values))), has_time[codes]


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
) -> ParsedTimes:
    """Combine date, hour and date-time columns into ``occurred_at`` and ``time_known``.

    A date-time column is used where it has a value; otherwise the date column, plus the hour
    column when it has one. Rows where every date source is empty get ``missing_date``; rows
    with text that is not a date get ``unparseable_date``.
    """
    import numpy as np
    import pandas as pd

    occurred = pd.Series(pd.NaT, index=pd.RangeIndex(n), dtype=f"datetime64[ns, {tz}]")
    time_known = np.zeros(n, dtype=bool)
    any_value = np.zeros(n, dtype=bool)
    time_unparsed = np.zeros(n, dtype=bool)
    if datetime_ is not None:
        dt, has_time = _parse_datetime_column(datetime_.reset_index(drop=True), tz)
        occurred = dt
        time_known = has_time.copy()
        any_value |= ~_empty_mask(datetime_.reset_index(drop=True))
    if date is not None:
        d_values = date.reset_index(drop=True)
        need = occurred.isna().to_numpy()
        if need.any():
            d, d_has_time = _parse_datetime_column(d_values, tz)
            occurred = occurred.where(~need, d)
            time_known = np.where(need, d_has_time, time_known)
        any_value |= ~_empty_mask(d_values)
        if time is not None:
            seconds, _empty, bad = parse_hours(time.reset_index(drop=True))
            add = ~np.isnan(seconds) & occurred.notna().to_numpy() & ~time_known
            if add.any():
                midnight = occurred[add].dt.normalize()
                occurred[add] = midnight + pd.to_timedelta(seconds[add], unit="s")
                time_known = time_known | add
            time_unparsed = bad & occurred.notna().to_numpy()
    status = np.full(n, "", dtype=object)
    status[occurred.isna().to_numpy() & any_value] = "unparseable_date"
    status[~any_value] = "missing_date"
    return ParsedTimes(occurred.reset_index(drop=True), time_known, status, time_unparsed)
