"""Coordinates from text: decimal comma, degrees-minutes-seconds, UTM zones, Web Mercator.

Everything here is vectorised over whole columns; only cells that fail the numeric parse are
looked at one by one (degree-minute-second notation is rare).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._text import strip_accents

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

#: Default UTM zone for easting/northing without a zone: 17S covers most of Cajamarca.
DEFAULT_UTM_ZONE = "17S"
_DMS = re.compile(
    r"^\s*([NSEWO])?\s*(\d{1,3}(?:[.,]\d+)?)\s*[°º:d ]\s*(?:(\d{1,2}(?:[.,]\d+)?)\s*['′m: ]?\s*)?"
    r"(?:(\d{1,2}(?:[.,]\d+)?)\s*(?:\"|″|''|s)?\s*)?([NSEWO])?\s*$",
    re.IGNORECASE,
)
_ZONE = re.compile(r"(\d{1,2})\s*([A-Z]|SUR|NORTE|SOUTH|NORTH|)")
_EPSG_UTM = re.compile(r"(?:EPSG\s*:\s*)?(32[67])(\d{2})")
_UTM_WORDS = re.compile(r"^(?:WGS\s*-?\s*84\s*/?\s*)?(?:UTM)?\s*(?:ZONE|ZONA|HUSO)?\s*")


def _dms_to_decimal(text: str) -> float:
    m = _DMS.match(text)
    if not m:
        return float("nan")
    deg = float(m.group(2).replace(",", "."))
    minutes = float(m.group(3).replace(",", ".")) if m.group(3) else 0.0
    seconds = float(m.group(4).replace(",", ".")) if m.group(4) else 0.0
    if minutes >= 60 or seconds >= 60:
        return float("nan")
    value = deg + minutes / 60 + seconds / 3600
    hemi = (m.group(1) or m.group(5) or "").upper()
    return -value if hemi in ("S", "W", "O") else value


_EMPTY = ["NAN", "NULL", "NONE", "NA", "N/A", "-", "S/N", "SIN DATO"]


def _clean_number(text: str) -> float:
    """Parse one number with spaces, thousands separators or degree notation (NaN if not)."""
    t = re.sub(r"\s+", "", text)
    if "," in t and "." in t:
        t = t.replace(",", "")
    t = t.replace(",", ".")
    try:
        return float(t)
    except ValueError:
        return _dms_to_decimal(text)


def parse_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column of numbers written in any common way.

    Decimal comma (``-7,1603``), surrounding spaces, a thousands separator together with a
    decimal point (``775,123.4``) and degree-minute-second notation (``7°09'36"S``) are accepted.

    Returns
    -------
    values : numpy.ndarray
        float64, NaN where empty or unparseable.
    missing : numpy.ndarray
        bool, True where the cell is empty (so NaN & ~missing means "unparseable").
    """
    import numpy as np
    import pandas as pd

    if not len(values):
        return np.empty(0), np.empty(0, dtype=bool)
    if pd.api.types.is_numeric_dtype(values.dtype):
        arr = np.array(values.to_numpy(dtype=float, na_value=np.nan), dtype=float)
        return arr, np.isnan(arr)
    if values.dtype == object:
        values = values.map(lambda v: "" if v is None or v != v else v)
    text = np.strings.strip(values.to_numpy(dtype=str))
    both = (np.strings.find(text, ",") >= 0) & (np.strings.find(text, ".") >= 0)
    if both.any():
        text[both] = np.strings.replace(text[both], ",", "")
    text = np.strings.replace(text, ",", ".")
    try:
        arr = text.astype(float)
    except ValueError:
        arr = np.array(
            pd.to_numeric(pd.Series(text, dtype=object), errors="coerce").to_numpy(
                dtype=float, na_value=np.nan
            ),
            dtype=float,
        )
    missing = np.zeros(len(values), dtype=bool)
    bad = np.flatnonzero(np.isnan(arr))
    if len(bad):
        sub = text[bad]
        empty = (sub == "") | np.isin(np.strings.upper(sub), _EMPTY)
        missing[bad[empty]] = True
        rest = bad[~empty]
        if len(rest):
            originals = values.iloc[rest].astype(str).tolist()
            arr[rest] = [_clean_number(t) for t in originals]
    return arr, missing


def parse_zone(text: object) -> tuple[int, bool] | None:
    """Read a UTM zone written in any of the usual ways; None when it is not one.

    Accepted: ``17S``, ``18 s``, ``18N``, ``17`` (south: Peru), a latitude band letter
    (``17M``: bands C–M are south, N–X north; ``S`` is read as *sur*, the Peruvian usage),
    ``18 sur``/``18 norte``, ``UTM 18S``, ``WGS 84 / UTM zone 18S`` and EPSG codes of WGS 84 UTM
    zones (``32718``, ``EPSG:32618``). Zones run from 1 to 60.
    """
    t = strip_accents(str(text)).upper().strip()
    if t.endswith(".0"):
        t = t[:-2]
    epsg = _EPSG_UTM.fullmatch(t)
    if epsg:
        zone = int(epsg.group(2))
        return (zone, epsg.group(1) == "327") if 1 <= zone <= 60 else None
    t = _UTM_WORDS.sub("", t).strip()
    m = _ZONE.fullmatch(t)
    if not m:
        return None
    zone = int(m.group(1))
    if not 1 <= zone <= 60:
        return None
    letter = m.group(2).strip()
    if letter in ("", "S", "SUR", "SOUTH"):
        return zone, True
    if letter in ("N", "NORTE", "NORTH"):
        return zone, False
    if len(letter) == 1 and letter not in "IO" and "C" <= letter <= "X":
        return zone, letter <= "M"
    return None


def zone_name(zone: int, south: bool) -> str:
    """Return ``"17S"``/``"18N"`` for a zone and hemisphere."""
    return f"{zone}{'S' if south else 'N'}"


def zone_of_lonlat(lon: float, lat: float) -> str:
    """Return the UTM zone (``"17S"``) of a point in longitude/latitude."""
    zone = min(max(math.floor((lon + 180) / 6) + 1, 1), 60)
    return zone_name(zone, lat < 0)


def parse_utm_zone(values: pd.Series | None, default: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the UTM zone number and a south-hemisphere flag per row.

    Cells are read by :func:`parse_zone`; empty cells take ``default``. Unreadable zones give
    zone 0.
    """
    import numpy as np

    def one(text: str) -> tuple[int, bool]:
        return parse_zone(text) or (0, True)

    dz, ds = one(default)
    if values is None:
        return np.full(n, dz, dtype=np.int64), np.full(n, ds)
    text = values.astype(str).str.strip()
    text = text.where(text.ne("") & text.ne("nan"), default)
    uniq = {u: one(str(u)) for u in text.unique()}
    zone = text.map(lambda u: uniq[u][0]).to_numpy(dtype=np.int64)
    south = text.map(lambda u: uniq[u][1]).to_numpy(dtype=bool)
    return zone, south


def utm_to_lonlat(
    easting: np.ndarray, northing: np.ndarray, zone: np.ndarray, south: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS 84 UTM coordinates to longitude/latitude, one transformation per zone."""
    import numpy as np
    from pyproj import Transformer

    lon = np.full(len(easting), np.nan)
    lat = np.full(len(easting), np.nan)
    keys = zone * 2 + south.astype(np.int64)
    for key in np.unique(keys[zone > 0]):
        sel = keys == key
        z, s = int(key // 2), bool(key % 2)
        epsg = (32700 if s else 32600) + z
        tr = Transformer.from_crs(f"EPSG:{epsg}", "EPSG:4326", always_xy=True)
        lon[sel], lat[sel] = tr.transform(easting[sel], northing[sel])
    return lon, lat


def to_lonlat(x: np.ndarray, y: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinates from ``crs`` to longitude/latitude (EPSG:4326)."""
    from pyproj import CRS, Transformer

    source = CRS.from_user_input(crs)
    if source.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        return x, y
    tr = Transformer.from_crs(source, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(x, y)
    return lon, lat


@dataclass
class CoordinateKinds:
    """Boolean masks classifying (x, y) pairs by their numeric range."""

    degrees: np.ndarray
    utm: np.ndarray
    utm_swapped: np.ndarray
    mercator: np.ndarray


def classify_pairs(x: np.ndarray, y: np.ndarray) -> CoordinateKinds:
    """Classify pairs by range: degrees, UTM easting/northing (or the reverse), Web Mercator.

    Notes
    -----
    UTM eastings lie in 100,000–900,000 m and southern northings in 1,000,000–10,000,000 m;
    Web Mercator x in Peru is about −9.1 to −7.5 million m (negative, large), which no UTM
    easting can be. Degrees are pairs within ±180/±90 in either order.
    """
    import numpy as np

    with np.errstate(invalid="ignore"):
        ax, ay = np.abs(x), np.abs(y)
        degrees = ((ax <= 180) & (ay <= 90)) | ((ax <= 90) & (ay <= 180))
        east_x = (x >= 100_000) & (x <= 900_000)
        north_y = (y >= 1_000_000) & (y <= 10_000_000)
        utm = ~degrees & east_x & north_y
        utm_swapped = (
            ~degrees & ~utm & (y >= 100_000) & (y <= 900_000) & (x >= 1_000_000) & (x <= 10_000_000)
        )
        mercator = ~degrees & ~utm & ~utm_swapped & (ax <= 20_037_509) & (ay <= 20_048_967)
    return CoordinateKinds(degrees, utm, utm_swapped, mercator)
