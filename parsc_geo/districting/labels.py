"""Labels of designed sectors and subsectors, as on the plan's station maps.

Sectors are ``SECTOR 1`` … ``SECTOR N``. Subsectors are lettered ``SUB SECTOR A`` … ``Z``,
``AA`` … ``AJ`` (bijective base 26, so the 37th is ``AK``) or numbered ``SUB SECTOR 1`` … ``10``,
the two styles of the plan's annex maps (Cajamarca city uses letters; Chota, numbers). Subsector
labels run on across sectors, as the annex legend lists them: ``1. SUB SECTOR A``, ``2. SUB
SECTOR B`` …
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from .._errors import ConfigError

#: Subsector label styles.
LABEL_STYLES: Final[tuple[str, ...]] = ("letters", "numbers")


def letters(number: int) -> str:
    """Return the bijective base-26 letters of ``number`` (1 → ``A``, 26 → ``Z``, 27 → ``AA``).

    Examples
    --------
    >>> [letters(k) for k in (1, 26, 27, 36)]
    ['A', 'Z', 'AA', 'AJ']
    """
    if number < 1:
        raise ConfigError(f"el número de una letra de subsector empieza en 1; se recibió {number}")
    text = ""
    k = number
    while k:
        k, r = divmod(k - 1, 26)
        text = chr(65 + r) + text
    return text


def sector_label(number: int) -> str:
    """Return ``SECTOR <number>``."""
    return f"SECTOR {number}"


def subsector_label(number: int, style: str = "letters") -> str:
    """Return the label of the ``number``-th subsector (1-based) in ``style``.

    Examples
    --------
    >>> subsector_label(36), subsector_label(10, "numbers")
    ('SUB SECTOR AJ', 'SUB SECTOR 10')
    """
    if style not in LABEL_STYLES:
        raise ConfigError(
            f"el estilo de etiquetas debe ser 'letters' o 'numbers'; se recibió {style!r}"
        )
    code = str(number) if style == "numbers" else letters(number)
    return f"SUB SECTOR {code}"


def label_style(labels: Iterable[str]) -> str | None:
    """Return the style of existing subsector labels (``"letters"``/``"numbers"``), or None.

    The style is the one most labels end with; None when no label ends with a code.
    """
    counts = {"letters": 0, "numbers": 0}
    for label in labels:
        code = str(label).strip().rsplit(" ", 1)[-1]
        if code.isdigit():
            counts["numbers"] += 1
        elif code.isalpha() and code.isupper() and len(code) <= 3:
            counts["letters"] += 1
    if not any(counts.values()):
        return None
    return "numbers" if counts["numbers"] > counts["letters"] else "letters"
