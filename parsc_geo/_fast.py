"""Vectorised helpers for large tables: work once per distinct value, then broadcast back."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

_HEX = b"0123456789abcdef"


def per_unique(series: pd.Series, func: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply ``func`` to the distinct values of ``series`` and broadcast the result back.

    ``func`` receives a Series of the distinct values (RangeIndex) and must return a Series of
    the same length. Useful for string cleaning and date parsing, where a million rows usually
    hold a few thousand distinct values.
    """
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    result = func(pd.Series(np.asarray(uniques, dtype=object)))
    out = result.take(codes)
    out.index = series.index
    return out


def clean_text(series: pd.Series) -> pd.Series:
    """Return ``series`` as stripped text with missing values as ``""`` (object dtype).

    The work is done once per distinct value (hash factorisation), which is fastest both for
    label columns (a few distinct values) and for identifiers (all distinct).
    """

    def _clean(u: pd.Series) -> pd.Series:
        stripped = _strip_texts(u)
        if stripped is not None:
            return stripped
        return u.map(lambda v: "" if v is None or v != v else str(v).strip()).astype(object)

    return per_unique(series, _clean)


def _strip_texts(values: pd.Series) -> pd.Series | None:
    """Return ``values`` stripped as :meth:`str.strip` does, or None when not all are text.

    :func:`numpy.strings.strip` on numpy's variable-width strings strips the characters
    :meth:`str.isspace` names, as Python does (checked on every code point), except the NUL
    character, which numpy strips and Python keeps: values holding one are stripped by
    Python. 125,000 identifiers take a quarter of the time they take value by value. None
    (the caller goes value by value) when a value is not a ``str`` (missing, a number) or not
    UTF-8 (a lone surrogate), or with numpy older than 2.0.
    """
    import numpy as np
    import pandas as pd

    string_dtype = getattr(np.dtypes, "StringDType", None)
    if string_dtype is None:
        return None
    array = np.asarray(values, dtype=object)
    if pd.api.types.infer_dtype(array, skipna=False) != "string":
        return None
    try:
        text = array.astype(string_dtype())
    except UnicodeEncodeError:  # a lone surrogate (from a JSON \ud800 escape): not UTF-8
        return None
    out = np.strings.strip(text).astype(object)
    with_nul = np.flatnonzero(np.strings.find(text, "\x00") >= 0)
    for k in with_nul:
        out[k] = array[k].strip()
    return pd.Series(out, index=values.index, dtype=object)


def hex64(values: np.ndarray) -> np.ndarray:
    """Format unsigned 64-bit integers as 16 lower-case hex digits (vectorised)."""
    import numpy as np

    b = np.ascontiguousarray(values.astype(">u8")).view(np.uint8).reshape(-1, 8)
    table = np.frombuffer(_HEX, dtype="S1")
    chars = np.empty((len(values), 16), dtype="S1")
    chars[:, 0::2] = table[b >> 4]
    chars[:, 1::2] = table[b & 15]
    return chars.view("S16").ravel().astype(str).astype(object)


def flags_to_text(bits: np.ndarray, codes: tuple[str, ...]) -> np.ndarray:
    """Turn a bit mask per row (bit i = ``codes[i]``) into ``;``-separated flag text."""
    import numpy as np

    uniq, inverse = np.unique(bits, return_inverse=True)
    text = np.array(
        [";".join(c for i, c in enumerate(codes) if int(u) >> i & 1) for u in uniq], dtype=object
    )
    return text[inverse.ravel()]


def iso_local_text(values: pd.Series) -> pd.Series:
    """Format tz-aware timestamps as ISO 8601 local text with their UTC offset, on arrays.

    The same text as ``values.dt.strftime("%Y-%m-%dT%H:%M:%S%z")`` with a colon put between
    the hours and minutes of the offset (``2020-03-05T10:30:00-05:00``); missing times stay
    missing. Each distinct day, second of the day and offset is formatted once, which is
    about 20 times faster than ``strftime`` on a million rows.
    """
    import re

    import numpy as np
    import pandas as pd

    local = values.dt.tz_localize(None)
    offset = (local - values.dt.tz_convert("UTC").dt.tz_localize(None)).to_numpy()
    codes, uniques = pd.factorize(offset)
    firsts = [int(np.flatnonzero(codes == k)[0]) for k in range(len(uniques))]
    # strftime's own offset text (it keeps the seconds of old local mean times, "-050836")
    suffixes = np.array(
        [re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", values.iloc[i].strftime("%z")) for i in firsts]
        + [""],
        dtype=object,
    )
    # whole seconds of the local clock (datetime64 casting floors, as strftime's fields do),
    # formatted once per distinct day and per distinct second of the day
    wall = local.to_numpy().astype("datetime64[s]").astype(np.int64)
    wall[codes < 0] = 0  # missing times, set to missing below
    day = wall // 86400
    day_codes, days = pd.factorize(day)
    sec_codes, secs = pd.factorize(wall - day * 86400)
    day_text = np.datetime_as_string(np.asarray(days).astype("datetime64[D]"), unit="D")
    clock = np.datetime_as_string(np.asarray(secs).astype("datetime64[s]"), unit="s")
    sec_text = np.array([t[10:] for t in clock.tolist()], dtype=object)  # "THH:MM:SS"
    text = day_text.astype(object)[day_codes] + sec_text[sec_codes] + suffixes[codes]
    text[codes < 0] = np.nan
    return pd.Series(text, index=values.index, dtype="str", name=values.name)
