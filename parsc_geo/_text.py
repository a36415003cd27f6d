"""Small text helpers used everywhere: accent folding, slugs, Spanish numbers, boolean text.

Each exists once so that every module compares names, builds file names, formats numbers and
reads boolean-like cells the same way.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

#: Thousands separator of Spanish-style numbers: a non-breaking space (``21 108``).
THOUSANDS: Final = "\u00a0"

#: Text read as True in boolean-like cells (compared after stripping and case folding); any
#: other text ("false", "0", "no", "falso" …) is False.
TRUE_TEXT: Final[frozenset[str]] = frozenset(
    {"true", "t", "1", "1.0", "yes", "y", "si", "sí", "s", "verdadero"}
)

_SPACES = re.compile(r"\s+")
#: Control characters a terminal acts on (C0 but tab and line feed, DEL, C1): ESC starts the
#: sequences that set a window title, clear the screen or rewrite what was printed.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_text(text: object) -> str:
    r"""Return ``text`` safe to print on a terminal: control characters shown as ``\xNN``.

    Data text (a crime label, a file or sector name) reaches the command line's messages; an
    escape sequence in it must be shown, never run by the terminal.

    Examples
    --------
    >>> terminal_text("robo\x1b]0;x\x07 en\tla calle\n")
    'robo\\x1b]0;x\\x07 en\tla calle\n'
    """
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def _is_missing(text: object) -> bool:
    return text is None or (isinstance(text, float) and text != text)


def strip_accents(text: object) -> str:
    """Return ``text`` without accents or other combining marks (``"Jaén"`` → ``"Jaen"``)."""
    if _is_missing(text):
        return ""
    decomposed = unicodedata.normalize("NFKD", str(text).replace("\ufeff", ""))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: object) -> str:
    """Return a comparison key: no accents, single spaces, stripped, upper case.

    Missing values (None, NaN) give ``""``.

    Examples
    --------
    >>> fold("  San  Ignacio ")
    'SAN IGNACIO'
    >>> fold("Jaén") == fold("JAEN")
    True
    """
    return _SPACES.sub(" ", strip_accents(text)).strip().upper()


def fold_values(values: pd.Series) -> pd.Series:
    """Return :func:`fold` of every value, computed once per distinct value."""
    from ._fast import per_unique

    return per_unique(values, lambda distinct: distinct.map(fold))


def fold_key(text: object, sep: str = "_") -> str:
    """Return a key for column names: no accents, upper case, other characters as ``sep``.

    Examples
    --------
    >>> fold_key("Año del hecho")
    'ANO_DEL_HECHO'
    >>> fold_key(" Latitud ")
    'LATITUD'
    >>> fold_key("Año hecho", sep="")
    'ANOHECHO'
    """
    key = re.sub(r"[^A-Z0-9]+", sep, strip_accents(text).upper())
    return key.strip(sep) if sep else key


#: Longest slug: file names built from data (a sector named with 300 characters) must stay
#: well under the 255-byte limit of file systems, prefixes and suffixes included.
SLUG_MAX = 80


def slug(text: object, *, sep: str = "_", default: str = "sin_nombre") -> str:
    """Return a file-name-safe lower-case ASCII form of ``text``.

    Slugs longer than :data:`SLUG_MAX` characters are cut and end in 8 hexadecimal digits of
    the full slug's SHA-256, so that long names stay distinct.

    Examples
    --------
    >>> slug("Comisaría PNP «A»")
    'comisaria_pnp_a'
    >>> slug("San José B", sep="-")
    'san-jose-b'
    >>> slug("¿?")
    'sin_nombre'
    >>> len(slug("x" * 300))
    80
    """
    ascii_text = strip_accents(text).encode("ascii", "ignore").decode("ascii")
    out = re.sub(r"[^a-z0-9]+", sep, ascii_text.lower()).strip(sep) or default
    if len(out) > SLUG_MAX:
        digest = hashlib.sha256(out.encode("ascii")).hexdigest()[:8]
        out = out[: SLUG_MAX - len(digest) - len(sep)].rstrip(sep) + sep + digest
    return out


def num(value: float, decimals: int = 0) -> str:
    """Format ``value`` the Spanish way for messages and summaries: ``9 522``, ``3 400.5``.

    Parameters
    ----------
    value
        The number to format.
    decimals
        Digits after the decimal point.

    Returns
    -------
    str
        Groups of three digits separated by a non-breaking space; the decimal point is kept,
        as in the other Spanish messages of parsc-geo (``Listo en 12.3 s``).
    """
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", THOUSANDS)


def is_true(value: object) -> bool:
    """Return whether one boolean-like value means True (see :func:`as_bool`)."""
    if _is_missing(value):
        return False
    if isinstance(value, str):
        return value.strip().casefold() in TRUE_TEXT
    try:
        import pandas as pd

        if pd.isna(value):  # type: ignore[call-overload]
            return False
    except (TypeError, ValueError):
        pass
    return bool(value)


def as_bool(values: pd.Series) -> np.ndarray:
    """Return a boolean-like column as a numpy boolean array.

    Booleans are kept; text is True only for :data:`TRUE_TEXT` (``"true"``, ``"1"``, ``"sí"``
    …), so ``"false"``, ``"0"`` and ``"no"`` are False — ``bool("false")`` would be True;
    numbers are True when non-zero; missing values are False. Files (GeoJSON, CSV, XLSX) often
    store booleans as text, hence this one explicit reading.
    """
    import numpy as np

    if values.dtype == bool:
        return values.to_numpy(dtype=bool)
    return np.fromiter(
        (is_true(v) for v in values.astype("object").to_numpy()), dtype=bool, count=len(values)
    )
